/* state-txn: write transactions (state.h), one LMDB write transaction
 * each.
 *
 * UIDs and MODSEQs only grow, so new records and expunge entries are always
 * the last key of their database and are written with MDB_APPEND: LMDB then
 * fills pages completely instead of splitting them in half, which keeps a
 * 100,000-record first open fast and the file small.  Records are written
 * with MDB_RESERVE, encoded straight into the page. */
#include "store/state-private.h"

#include "lib/xalloc.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- records ---- */

static size_t rec_size(const char *const strs[STATE_REC_NSTR])
{
	size_t n = STATE_REC_FIXED + 8;	/* + vsize */

	for (int i = 0; i < STATE_REC_NSTR; i++)
		n += 4 + (strs[i] ? strlen(strs[i]) + 1 : 0);
	return n;
}

static void rec_strings(const struct state_rec *rec, const char *strs[STATE_REC_NSTR])
{
	strs[0] = rec->key;
	strs[1] = rec->location;
	strs[2] = rec->keywords;
	strs[3] = rec->envelope;
	strs[4] = rec->bodystructure;
	strs[5] = rec->threadkey;
}

static void encode_rec(unsigned char *p, const struct state_rec *rec, uint64_t modseq,
		       const char *const strs[STATE_REC_NSTR])
{
	*p++ = STATE_REC_VERSION;
	p = state_put_le32(p, rec->flags);
	p = state_put_le64(p, modseq);
	p = state_put_le64(p, rec->size);
	p = state_put_le64(p, (uint64_t)rec->internal_date);
	for (int i = 0; i < STATE_REC_NSTR; i++) {
		if (!strs[i]) {
			p = state_put_le32(p, STATE_REC_NULL);
			continue;
		}
		size_t len = strlen(strs[i]);

		p = state_put_le32(p, (uint32_t)len);
		memcpy(p, strs[i], len + 1);
		p += len + 1;
	}
	state_put_le64(p, rec->vsize);
}

/* ---- writing ---- */

/* Wakes the watchers of the state directory: a new mtime on DIR/changed
 * (IN_ATTRIB), made only after the commit so a woken reader sees it.
 * Best effort: a failure costs a late wake, never data. */
static void state_poke(struct state *st)
{
	char *p = xasprintf("%s/%s", st->dir, STATE_CHANGED_FILE);
	int fd;

	if (utimensat(AT_FDCWD, p, NULL, 0) < 0 &&
	    (fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	free(p);
}

/* Follows a record's flags going from old_flags (or no record: had_old
 * false) to new_flags (or removed: has_new false) in the unseen counter. */
static void count_unseen(struct state_txn *txn, bool had_old, uint32_t old_flags, bool has_new,
			 uint32_t new_flags)
{
	int before = had_old && !(old_flags & STATE_FLAG_SEEN);
	int after = has_new && !(new_flags & STATE_FLAG_SEEN);

	if (before == after)
		return;
	if (after)
		txn->unseen++;
	else if (txn->unseen > 0)
		txn->unseen--;
	txn->unseen_dirty = true;
}

int state_begin(struct state *st, struct state_txn **txn_r, const char **error_r)
{
	struct state_header hdr;
	MDB_txn *mtxn;
	int ret;

	assert(!st->wtxn);	/* LMDB would deadlock on its own writer lock */
	*txn_r = NULL;
	if (state_mdb_begin(st, 0, &mtxn, error_r) < 0)
		return -1;
	ret = state_read_header(st, mtxn, &hdr, error_r);
	if (ret <= 0) {
		mdb_txn_abort(mtxn);
		return ret == 0 ? state_fail(st, error_r, "header missing") : -1;
	}
	struct state_txn *txn = xcalloc(1, sizeof(*txn));

	txn->st = st;
	txn->txn = mtxn;
	txn->uidnext = hdr.uidnext;
	txn->modseq = hdr.highestmodseq;
	/* A state from before the counter: count once, written at commit. */
	ret = state_read_unseen(st, mtxn, &txn->unseen, error_r);
	if (ret == 0) {
		ret = state_count_unseen(st, mtxn, &txn->unseen, error_r);
		txn->unseen_dirty = true;
	}
	if (ret >= 0)
		ret = state_modidx_begin(txn, error_r);
	if (ret < 0) {
		mdb_txn_abort(mtxn);
		free(txn);
		return -1;
	}
	st->wtxn = txn;
	*txn_r = txn;
	return 0;
}

static void txn_free(struct state_txn **txnp)
{
	state_files_unlock((*txnp)->st);
	(*txnp)->st->wtxn = NULL;
	free(*txnp);
	*txnp = NULL;
}

int state_commit(struct state_txn **txnp, const char **error_r)
{
	struct state_txn *txn = *txnp;
	struct state *st = txn->st;
	int rc;

	if ((txn->dirty &&
	     (state_meta_put(st, txn->txn, "uidnext", 4, txn->uidnext, error_r) < 0 ||
	      state_meta_put(st, txn->txn, "highestmodseq", 8, txn->modseq, error_r) < 0)) ||
	    (txn->unseen_dirty &&
	     state_meta_put(st, txn->txn, "unseen", 4, txn->unseen, error_r) < 0) ||
	    state_modidx_commit(txn, error_r) < 0) {
		mdb_txn_abort(txn->txn);
		txn_free(txnp);
		return -1;
	}
	/* mdb_txn_commit() frees the transaction also when it fails.  With
	 * MDB_NOMETASYNC it syncs the pages and writes the meta page
	 * unsynced; that sync, which makes the commit durable, is made here
	 * after the writer lock is released, so that the other writers do
	 * not queue behind it (and one sync may serve several of them). */
	bool wake = !txn->no_wake;

	rc = mdb_txn_commit(txn->txn);
	txn_free(txnp);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "committing");
	rc = mdb_env_sync(st->env, 1);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "syncing");
	if (wake)
		state_poke(st);
	return 0;
}

void state_txn_no_wake(struct state_txn *txn)
{
	txn->no_wake = true;
}

void state_abort(struct state_txn **txnp)
{
	if (!*txnp)
		return;
	mdb_txn_abort((*txnp)->txn);
	txn_free(txnp);
}

uint32_t state_txn_uidnext(const struct state_txn *txn)
{
	return txn->uidnext;
}

uint64_t state_txn_highestmodseq(const struct state_txn *txn)
{
	return txn->modseq;
}

/* Writes rec as the record of uid with this modseq. */
static int put_rec(struct state_txn *txn, uint32_t uid, const struct state_rec *rec,
		   uint64_t modseq, unsigned flags, const char **error_r)
{
	struct state *st = txn->st;
	const char *strs[STATE_REC_NSTR];
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be }, v;
	int rc;

	rec_strings(rec, strs);
	for (int i = 0; i < STATE_REC_NSTR; i++) {
		if (strs[i] && strlen(strs[i]) >= STATE_REC_NULL)
			return state_fail(st, error_r, "UID %u: string too long", uid);
	}
	v.mv_size = rec_size(strs);
	v.mv_data = NULL;
	rc = mdb_put(txn->txn, st->dbi_msgs, &k, &v, MDB_RESERVE | flags);
	if (rc == MDB_KEYEXIST)
		return state_fail(st, error_r, "UID %u already present (UIDNEXT %u)", uid,
			       txn->uidnext);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "writing a record");
	encode_rec(v.mv_data, rec, modseq, strs);
	return 0;
}

static int check_key(struct state *st, const char *key, const char **error_r)
{
	if (!key || !key[0])
		return state_fail(st, error_r, "empty key");
	if (strlen(key) > st->maxkeysize)
		return state_fail(st, error_r, "key longer than %zu bytes: %.40s...",
			       st->maxkeysize, key);
	return 0;
}

/* Maps key to uid; fails (changing nothing) if key is already mapped. */
static int put_key(struct state_txn *txn, const char *key, uint32_t uid, const char **error_r)
{
	struct state *st = txn->st;
	uint32_t be = htobe32(uid), other;
	MDB_val k = { strlen(key), (void *)key }, v = { 4, &be };
	int rc = mdb_put(txn->txn, st->dbi_keys, &k, &v, MDB_NOOVERWRITE);

	if (rc == MDB_KEYEXIST) {
		other = v.mv_size == 4 ? state_get_be32(v.mv_data) : 0;
		return state_fail(st, error_r, "key %s already present (UID %u)", key, other);
	}
	return rc == 0 ? 0 : state_fail_mdb(st, error_r, rc, "writing a key");
}

static int del_key(struct state_txn *txn, const char *key, const char **error_r)
{
	MDB_val k = { strlen(key), (void *)key };
	int rc = mdb_del(txn->txn, txn->st->dbi_keys, &k, NULL);

	return rc == 0 || rc == MDB_NOTFOUND ? 0 : state_fail_mdb(txn->st, error_r, rc, "deleting a key");
}

static int next_modseq(struct state_txn *txn, uint64_t *modseq_r, const char **error_r)
{
	if (txn->modseq == UINT64_MAX)
		return state_fail(txn->st, error_r, "MODSEQ space exhausted");
	*modseq_r = ++txn->modseq;
	txn->dirty = true;
	return 0;
}

int state_txn_add(struct state_txn *txn, const struct state_rec *rec, uint32_t *uid_r,
		  const char **error_r)
{
	struct state *st = txn->st;
	uint32_t uid = rec->uid >= txn->uidnext ? rec->uid : txn->uidnext;
	uint64_t modseq = 0;

	if (check_key(st, rec->key, error_r) < 0)
		return -1;
	if (uid == UINT32_MAX)
		return state_fail(st, error_r, "UID space exhausted");
	/* The key first: a duplicate fails here, before anything is written. */
	if (put_key(txn, rec->key, uid, error_r) < 0)
		return -1;
	if (next_modseq(txn, &modseq, error_r) < 0 ||
	    put_rec(txn, uid, rec, modseq, MDB_APPEND, error_r) < 0 ||
	    state_modidx_move(txn, 0, modseq, uid, error_r) < 0)
		return -1;
	txn->uidnext = uid + 1;
	count_unseen(txn, false, 0, true, rec->flags);
	if (uid_r)
		*uid_r = uid;
	return 0;
}

int state_txn_update(struct state_txn *txn, const struct state_rec *rec, bool bump_modseq,
		     const char **error_r)
{
	struct state *st = txn->st;
	struct state_rec old;
	uint64_t modseq = 0;
	uint32_t old_flags;
	char *old_key;
	int ret;

	if (check_key(st, rec->key, error_r) < 0)
		return -1;
	ret = state_get_in(st, txn->txn, rec->uid, &old, error_r);
	if (ret <= 0)
		return ret == 0 ? state_fail(st, error_r, "UID %u not found", rec->uid) : -1;
	/* Copied: old points into pages the writes below may move. */
	old_key = xstrdup(old.key);
	modseq = old.modseq;
	old_flags = old.flags;
	ret = 0;
	if (strcmp(old_key, rec->key) != 0 &&
	    (put_key(txn, rec->key, rec->uid, error_r) < 0 || del_key(txn, old_key, error_r) < 0))
		ret = -1;
	free(old_key);
	uint64_t old_modseq = modseq;

	if (ret < 0 || (bump_modseq && next_modseq(txn, &modseq, error_r) < 0))
		return -1;
	if (put_rec(txn, rec->uid, rec, modseq, 0, error_r) < 0 ||
	    state_modidx_move(txn, old_modseq, modseq, rec->uid, error_r) < 0)
		return -1;
	count_unseen(txn, true, old_flags, true, rec->flags);
	return 0;
}

int state_txn_remove(struct state_txn *txn, uint32_t uid, const char **error_r)
{
	struct state *st = txn->st;
	struct state_rec old;
	uint32_t be_uid = htobe32(uid), mapped;
	uint64_t modseq = 0, be_mod;
	MDB_val k = { 4, &be_uid }, ek = { 8, &be_mod }, ev = { 4, &be_uid };
	uint32_t old_flags;
	char *old_key;
	int ret, rc;

	ret = state_get_in(st, txn->txn, uid, &old, error_r);
	if (ret <= 0)
		return ret == 0 ? state_fail(st, error_r, "UID %u not found", uid) : -1;
	old_key = xstrdup(old.key);
	old_flags = old.flags;
	uint64_t old_modseq = old.modseq;
	/* Only drop the key if it is still ours (it always should be). */
	ret = state_lookup_key_in(st, txn->txn, old_key, &mapped, error_r);
	if (ret > 0 && mapped == uid)
		ret = del_key(txn, old_key, error_r);
	free(old_key);
	if (ret < 0)
		return -1;
	rc = mdb_del(txn->txn, st->dbi_msgs, &k, NULL);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "deleting a record");
	if (state_aux_del(st, txn->txn, uid, error_r) < 0 ||
	    state_modidx_move(txn, old_modseq, 0, uid, error_r) < 0)
		return -1;
	count_unseen(txn, true, old_flags, false, 0);
	if (next_modseq(txn, &modseq, error_r) < 0)
		return -1;
	be_mod = htobe64(modseq);
	rc = mdb_put(txn->txn, st->dbi_exp, &ek, &ev, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		return state_fail(st, error_r, "expunge log already has MODSEQ %llu",
			       (unsigned long long)modseq);
	return rc == 0 ? 0 : state_fail_mdb(st, error_r, rc, "logging an expunge");
}

int state_txn_get_stamps(struct state_txn *txn, uint64_t stamps_r[STATE_STAMPS],
			 const char **error_r)
{
	return state_read_stamps(txn->st, txn->txn, stamps_r, error_r);
}

int state_txn_set_stamps(struct state_txn *txn, const uint64_t stamps[STATE_STAMPS],
			 const char **error_r)
{
	return state_write_stamps(txn->st, txn->txn, stamps, error_r);
}

int state_txn_lookup_key(struct state_txn *txn, const char *key, uint32_t *uid_r,
			 const char **error_r)
{
	return state_lookup_key_in(txn->st, txn->txn, key, uid_r, error_r);
}

int state_txn_get(struct state_txn *txn, uint32_t uid, struct state_rec *rec_r, char **buf_r,
		  const char **error_r)
{
	int ret;

	*buf_r = NULL;
	ret = state_get_in(txn->st, txn->txn, uid, rec_r, error_r);
	if (ret > 0)
		state_rec_copy(rec_r, buf_r);
	return ret;
}
