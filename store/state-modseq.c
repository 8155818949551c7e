/* state-modseq: the records by MODSEQ, so that "what changed since
 * MODSEQ m" (a sync, an IDLE wake, an open that replays onto a kept
 * image) costs the changes and not a walk of every record's pages (a
 * filtered walk of 100,000 records: 5-30 ms).
 *
 * The database "modseqs" maps MODSEQ (big-endian u64) to the UID whose
 * record has it now (big-endian u32): each record's MODSEQ is unique (every
 * change takes the next one), so a record has exactly one entry, moved
 * when its MODSEQ changes and dropped with it.  Meta "modseq_index" holds
 * the HIGHESTMODSEQ up to which the index is known to be exact; the index
 * is used only when that equals the state's HIGHESTMODSEQ.  A state
 * written before the index existed, or by an older loft that did not keep
 * it (its changes move HIGHESTMODSEQ past modseq_index), has it rebuilt by
 * the next write transaction (one pass over the records), and until then
 * readers walk. */
#include "store/state-private.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct pair {
	uint64_t modseq;
	uint32_t uid;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->modseq < y->modseq ? -1 : x->modseq > y->modseq;
}

static int put(struct state *st, MDB_txn *txn, uint64_t modseq, uint32_t uid, unsigned flags,
	       const char **error_r)
{
	uint64_t be_mod = htobe64(modseq);
	uint32_t be_uid = htobe32(uid);
	MDB_val k = { 8, &be_mod }, v = { 4, &be_uid };
	int rc = mdb_put(txn, st->dbi_mods, &k, &v, flags);

	return rc == 0 ? 0 : state_fail_mdb(st, error_r, rc, "indexing a MODSEQ");
}

/* Empties the index and fills it from the records. */
static int rebuild(struct state *st, MDB_txn *txn, const char **error_r)
{
	struct pair *p = NULL;
	size_t n = 0, cap = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	rc = mdb_drop(txn, st->dbi_mods, 0);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "emptying the MODSEQ index");
	rc = mdb_cursor_open(txn, st->dbi_msgs, &cur);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 4 || v.mv_size < STATE_REC_FIXED) {
			ret = state_fail(st, error_r, "garbled record");
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			p = xreallocarray(p, cap, sizeof(*p));
		}
		p[n].uid = state_get_be32(k.mv_data);
		p[n++].modseq = state_get_le64((const unsigned char *)v.mv_data + 5);
	}
	mdb_cursor_close(cur);
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = state_fail_mdb(st, error_r, rc, "reading records");
	if (ret == 0 && n > 0)
		qsort(p, n, sizeof(*p), cmp_pair);
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = put(st, txn, p[i].modseq, p[i].uid,
			  i > 0 && p[i].modseq > p[i - 1].modseq ? MDB_APPEND : 0, error_r);
	free(p);
	return ret;
}

/* The index's mark: 1 and *mark_r, 0 when there is none.  -1 on error. */
static int read_mark(struct state *st, MDB_txn *txn, uint64_t *mark_r, const char **error_r)
{
	MDB_val k = { 12, "modseq_index" }, v;
	int rc = mdb_get(txn, st->dbi_meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "modseq_index");
	if (v.mv_size != 8)
		return 0;
	*mark_r = state_get_le64(v.mv_data);
	return 1;
}

int state_modidx_begin(struct state_txn *txn, const char **error_r)
{
	uint64_t mark = 0;
	int r = read_mark(txn->st, txn->txn, &mark, error_r);

	if (r < 0)
		return -1;
	if (r > 0 && mark == txn->modseq)
		return 0;
	if (rebuild(txn->st, txn->txn, error_r) < 0)
		return -1;
	txn->modidx_dirty = true;
	return 0;
}

int state_modidx_move(struct state_txn *txn, uint64_t old_modseq, uint64_t new_modseq,
		      uint32_t uid, const char **error_r)
{
	struct state *st = txn->st;

	if (old_modseq == new_modseq)
		return 0;
	txn->modidx_dirty = true;
	if (old_modseq != 0) {
		uint64_t be_mod = htobe64(old_modseq);
		MDB_val k = { 8, &be_mod };
		int rc = mdb_del(txn->txn, st->dbi_mods, &k, NULL);

		if (rc != 0 && rc != MDB_NOTFOUND)
			return state_fail_mdb(st, error_r, rc, "unindexing a MODSEQ");
	}
	/* MODSEQs only grow in a transaction: most puts append. */
	return new_modseq == 0 ? 0 : put(st, txn->txn, new_modseq, uid, 0, error_r);
}

int state_modidx_commit(struct state_txn *txn, const char **error_r)
{
	if (!txn->modidx_dirty)
		return 0;
	return state_meta_put(txn->st, txn->txn, "modseq_index", 8, txn->modseq, error_r);
}

static int cmp_uid(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int state_modidx_walk(struct state *st, MDB_txn *txn, uint64_t modseq, size_t max,
		      int (*fn)(const struct state_rec *rec, void *ctx), void *ctx,
		      const char **error_r)
{
	struct state_header hdr;
	struct state_rec rec;
	uint64_t mark = 0, be_mod = htobe64(modseq + 1);
	struct pair *p;
	size_t n = 0;
	MDB_cursor *cur;
	MDB_val k = { 8, &be_mod }, v;
	int rc, ret;

	if ((ret = read_mark(st, txn, &mark, error_r)) <= 0 ||
	    (ret = state_read_header(st, txn, &hdr, error_r)) <= 0)
		return ret;
	if (mark != hdr.highestmodseq)
		return 0;
	rc = mdb_cursor_open(txn, st->dbi_mods, &cur);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "cursor");
	p = xreallocarray(NULL, max + 1, sizeof(*p));
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && n <= max;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size != 4) {
			n = max + 1;	/* garbled: walk instead */
			break;
		}
		uint64_t be;

		memcpy(&be, k.mv_data, 8);
		p[n].modseq = be64toh(be);
		p[n++].uid = state_get_be32(v.mv_data);
	}
	mdb_cursor_close(cur);
	if (n > max || (rc != 0 && rc != MDB_NOTFOUND)) {
		free(p);
		return n > max ? 0 : state_fail_mdb(st, error_r, rc, "reading the MODSEQ index");
	}
	/* Every entry must name a record that has its MODSEQ, or the index
	 * is not what it should be: then walk (before fn saw anything). */
	ret = 1;
	for (size_t i = 0; i < n && ret > 0; i++) {
		int r = state_get_in(st, txn, p[i].uid, &rec, error_r);

		ret = r < 0 ? -1 : r == 0 || rec.modseq != p[i].modseq ? 0 : 1;
	}
	if (ret > 0)
		qsort(p, n, sizeof(*p), cmp_uid);
	for (size_t i = 0; i < n && ret > 0; i++) {
		if (state_get_in(st, txn, p[i].uid, &rec, error_r) <= 0)
			ret = -1;
		else if (fn(&rec, ctx) < 0)
			ret = state_fail(st, error_r, "stopped");
	}
	free(p);
	return ret;
}
