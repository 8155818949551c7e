/* state-aux: the headers read after a record was added (store_folder_fill),
 * kept beside the records rather than in them.
 *
 * A big first open adds small records (no envelope, no thread key).
 * Writing what is read later into those records would rewrite every one
 * of them, splitting the pages they share: the file grew to 140 MB for the
 * 100,000-message bench folder and the writes touched every page.  They go
 * instead to two databases of their own, in UID order:
 *   tkeys  UID (big-endian u32) -> vsize (u64, little-endian), then the
 *          thread key and its NUL
 *   envs   UID -> the ENVELOPE and its NUL (absent: it did not parse)
 * so a record walk that wants thread keys reads tkeys beside msgs, and
 * nothing reads the envelopes but the rows and FETCHes that ask.  A record
 * that carries its own thread key (added with its headers, or rewritten
 * since with what was read: state_txn_update writes what it is given)
 * wins over these entries. */
#include "store/state-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The thread key and vsize of uid in tkeys: 1 found, 0 not, -1 error. */
static int get_tkey(struct state *st, MDB_txn *txn, uint32_t uid, MDB_val *v_r,
		    const char **error_r)
{
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be };
	int rc = mdb_get(txn, st->dbi_tkeys, &k, v_r);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "reading a thread key");
	return 1;
}

/* Points rec at a tkeys value: 0, or -1 when it is garbled. */
static int use_tkey(struct state *st, const MDB_val *v, struct state_rec *rec,
		    const char **error_r)
{
	const char *s = (const char *)v->mv_data + 8;

	if (v->mv_size < 9 || s[v->mv_size - 9] != '\0')
		return state_fail(st, error_r, "UID %u: garbled thread key", rec->uid);
	rec->threadkey = s;
	if (rec->vsize == 0)
		rec->vsize = state_get_le64(v->mv_data);
	return 0;
}

int state_aux_merge(struct state *st, MDB_txn *txn, struct state_rec *rec, bool envelope,
		    const char **error_r)
{
	uint32_t be = htobe32(rec->uid);
	MDB_val k = { 4, &be }, v;
	int r, rc;

	if (rec->threadkey != NULL)
		return 0;
	if ((r = get_tkey(st, txn, rec->uid, &v, error_r)) <= 0)
		return r;
	if (use_tkey(st, &v, rec, error_r) < 0)
		return -1;
	if (!envelope || rec->envelope != NULL)
		return 0;
	rc = mdb_get(txn, st->dbi_envs, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "reading an envelope");
	if (v.mv_size == 0 || ((const char *)v.mv_data)[v.mv_size - 1] != '\0')
		return state_fail(st, error_r, "UID %u: garbled envelope", rec->uid);
	rec->envelope = v.mv_data;
	return 0;
}

int state_aux_walk_open(struct state *st, MDB_txn *txn, struct state_aux_walk *w,
			const char **error_r)
{
	int rc = mdb_cursor_open(txn, st->dbi_tkeys, &w->cur);

	w->rc = MDB_NOTFOUND;
	w->started = false;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "cursor");
	return 0;
}

int state_aux_walk_merge(struct state *st, struct state_aux_walk *w, struct state_rec *rec,
			 MDB_val *v_r, const char **error_r)
{
	uint32_t be = htobe32(rec->uid);

	v_r->mv_size = 0;
	if (rec->threadkey != NULL)
		return 0;
	/* In a full walk the next entry is the one: a step, not a search. */
	if (w->started && w->rc == 0 && state_get_be32(w->k.mv_data) < rec->uid)
		w->rc = mdb_cursor_get(w->cur, &w->k, &w->v, MDB_NEXT);
	if (!w->started || (w->rc == 0 && state_get_be32(w->k.mv_data) < rec->uid)) {
		w->k = (MDB_val){ 4, &be };
		w->rc = mdb_cursor_get(w->cur, &w->k, &w->v, MDB_SET_RANGE);
		w->started = true;
	}
	if (w->rc != 0 && w->rc != MDB_NOTFOUND)
		return state_fail_mdb(st, error_r, w->rc, "reading thread keys");
	if (w->rc != 0 || w->k.mv_size != 4 || state_get_be32(w->k.mv_data) != rec->uid)
		return 0;
	*v_r = w->v;
	return use_tkey(st, &w->v, rec, error_r);
}

void state_aux_walk_close(struct state_aux_walk *w)
{
	if (w->cur)
		mdb_cursor_close(w->cur);
	w->cur = NULL;
}

int state_aux_del(struct state *st, MDB_txn *txn, uint32_t uid, const char **error_r)
{
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be };
	int rc = mdb_del(txn, st->dbi_tkeys, &k, NULL);

	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_del(txn, st->dbi_envs, &k, NULL);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 :
		state_fail_mdb(st, error_r, rc, "deleting headers");
}

int state_txn_fill(struct state_txn *txn, uint32_t uid, const char *threadkey,
		   const char *envelope, uint64_t vsize, const char **error_r)
{
	struct state *st = txn->st;
	struct state_rec rec;
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be }, v;
	size_t len = strlen(threadkey);
	int r, rc;

	r = state_get_in(st, txn->txn, uid, &rec, error_r);
	if (r <= 0 || rec.threadkey != NULL)
		return r < 0 ? -1 : 0;	/* expunged, or filled by someone */
	v = (MDB_val){ 8 + len + 1, NULL };
	rc = mdb_put(txn->txn, st->dbi_tkeys, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "writing a thread key");
	state_put_le64(v.mv_data, vsize);
	memcpy((char *)v.mv_data + 8, threadkey, len + 1);
	if (envelope == NULL)
		return 1;
	v = (MDB_val){ strlen(envelope) + 1, (void *)envelope };
	rc = mdb_put(txn->txn, st->dbi_envs, &k, &v, 0);
	return rc == 0 ? 1 : state_fail_mdb(st, error_r, rc, "writing an envelope");
}

/* LMDB does not say where its map is (mdb_env_info only with
 * MDB_FIXEDMAP): /proc/self/maps does, by the file's name. */
void state_release_map(struct state *st)
{
	char line[4096 + 64], *real = realpath(st->path, NULL);
	FILE *maps = real ? fopen("/proc/self/maps", "re") : NULL;

	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char *name = strchr(line, '/');
		size_t len = name ? strcspn(name, "\n") : 0;

		if (name && len == strlen(real) && memcmp(name, real, len) == 0 &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	if (maps)
		fclose(maps);
	free(real);
}
