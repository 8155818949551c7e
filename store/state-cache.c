/* state-cache: bytes a caller derives from a folder, kept in its state so
 * that a warm open need not derive them again (the client's threads of a
 * 100,000-message folder: ~150 ms to build, ~2 ms to read back).
 *
 * The state does not look inside: whether the bytes still fit the folder
 * is the caller's to check (it keys them by what they were derived from).
 * They live in the "cache" database, so they go with the state when it is
 * destroyed or rebuilt, and a write takes no MODSEQ and wakes no watcher:
 * nothing another process shows changed. */
#include "store/state-private.h"

#include "lib/sbuf.h"

#include <string.h>

/* LMDB keys are at most 511 bytes; cache names are short words. */
#define STATE_CACHE_NAME_MAX 64

static int check_name(struct state *st, const char *name, MDB_val *k, const char **error_r)
{
	size_t len = strlen(name);

	if (len == 0 || len > STATE_CACHE_NAME_MAX)
		return state_fail(st, error_r, "bad cache name \"%.64s\"", name);
	k->mv_size = len;
	k->mv_data = (void *)name;
	return 0;
}

int state_cache_read(struct state *st, const char *name,
		     int (*fn)(const void *data, size_t len, void *ctx), void *ctx,
		     const char **error_r)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc, ret = 0;

	if (check_name(st, name, &k, error_r) < 0 || state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	rc = mdb_get(txn, st->dbi_cache, &k, &v);
	if (rc == 0) {
		ret = fn(v.mv_data, v.mv_size, ctx);
		/* Megabytes of the map, read once: not kept in the RSS. */
		state_map_drop(v.mv_data, v.mv_size);
	}
	state_rd_end(st, txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "reading the cache");
	return ret;
}

static int copy_out(const void *data, size_t len, void *ctx)
{
	sbuf_add(ctx, data, len);
	return 1;
}

int state_cache_get(struct state *st, const char *name, struct sbuf *out, const char **error_r)
{
	return state_cache_read(st, name, copy_out, out, error_r);
}

int state_cache_put_with(struct state *st, const char *name, size_t len,
			 void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			 const char **error_r)
{
	struct state_txn *txn = NULL;
	MDB_val k, v = { len, NULL };
	int rc;

	if (check_name(st, name, &k, error_r) < 0 || state_begin(st, &txn, error_r) < 0)
		return -1;
	state_txn_no_wake(txn);
	/* MDB_RESERVE: the bytes are written straight into the page LMDB
	 * will commit, not built in a buffer of their own first. */
	rc = mdb_put(txn->txn, st->dbi_cache, &k, &v, MDB_RESERVE);
	if (rc != 0) {
		state_abort(&txn);
		return state_fail_mdb(st, error_r, rc, "writing the cache");
	}
	fill(v.mv_data, len, ctx);
	return state_commit(&txn, error_r);
}

static void copy_in(void *dst, size_t len, void *ctx)
{
	memcpy(dst, ctx, len);
}

int state_cache_put(struct state *st, const char *name, const void *data, size_t len,
		    const char **error_r)
{
	return state_cache_put_with(st, name, len, copy_in, (void *)data, error_r);
}
