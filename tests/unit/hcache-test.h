/* Helpers shared by the header cache's unit tests (test_remote_hcache.c,
 * test_mailbox_imap.c).  Included by exactly those programs, after
 * cmocka.h. */
#ifndef LOFT_TESTS_HCACHE_TEST_H
#define LOFT_TESTS_HCACHE_TEST_H

#include "lib/xalloc.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The environment of the cache in dir, straight in LMDB, with a write
 * transaction and a cursor on its one database. */
static MDB_env *hcache_test_env(const char *dir, MDB_txn **txn, MDB_dbi *dbi, MDB_cursor **cur)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)4 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, NULL, 0, dbi), 0);
	assert_int_equal(mdb_cursor_open(*txn, *dbi, cur), 0);
	return env;
}

/* Rewrites the cache in dir as a loft before the hot records left it:
 * with old_folders every folder record 24 bytes long (no hot field);
 * every hot record ("R") removed, or, with stale, kept with flags it
 * never had (0x40, as if an older loft had changed the full records
 * since).  Straight in LMDB; nothing in this process may have the
 * environment open.  The number of folder records rewritten. */
static size_t hcache_test_make_unhot(const char *dir, bool stale, bool old_folders)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;

	env = hcache_test_env(dir, &txn, &dbi, &cur);
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char kind = ((const char *)k.mv_data)[0];

		if (kind == 'F' && v.mv_size > 24 && old_folders) {
			unsigned char old[24];
			MDB_val nv = { sizeof(old), old };

			memcpy(old, v.mv_data, sizeof(old));
			assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
			n++;
		} else if (kind == 'R' && k.mv_size == 9 && !stale) {
			assert_int_equal(mdb_cursor_del(cur, 0), 0);
		} else if (kind == 'R' && k.mv_size == 9) {
			unsigned char *nb = xmalloc(v.mv_size);
			uint32_t flags = 0x40;
			MDB_val nv = { v.mv_size, nb };

			memcpy(nb, v.mv_data, v.mv_size);
			memcpy(nb + 2, &flags, sizeof(flags));	/* after version, own */
			assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
			free(nb);
		}
	}
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	return n;
}

/* Rewrites every message record of the cache in dir as record version 2
 * wrote it: the version byte 2 and no thread key (the last field), and
 * the folder records as they were then (hcache_test_make_unhot).
 * Straight in LMDB, as an older loft left the file; nothing in this
 * process may have the environment open.  The number rewritten. */
static size_t hcache_test_make_v2(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0, cap = 16;
	unsigned char (*keys)[9] = xcalloc(cap, sizeof(*keys));
	MDB_val *vals = xcalloc(cap, sizeof(*vals));

	env = hcache_test_env(dir, &txn, &dbi, &cur);
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t len;
		const unsigned char *p;

		if (k.mv_size != 9 || ((const char *)k.mv_data)[0] != 'M')
			continue;
		/* The thread key is last: its length field, then its bytes;
		 * find its start by walking the nine strings before it. */
		p = (const unsigned char *)v.mv_data + 1 + 4 + 4 + 8 + 8 + 8;
		for (int f = 0; f < 9; f++) {
			memcpy(&len, p, sizeof(len));
			p += sizeof(len) + (len ? len - 1 : 0);
		}
		if (n == cap) {
			cap *= 2;
			keys = xreallocarray(keys, cap, sizeof(*keys));
			vals = xreallocarray(vals, cap, sizeof(*vals));
		}
		memcpy(keys[n], k.mv_data, 9);
		vals[n].mv_size = (size_t)(p - (const unsigned char *)v.mv_data);
		vals[n].mv_data = xmalloc(vals[n].mv_size);
		memcpy(vals[n].mv_data, v.mv_data, vals[n].mv_size);
		((unsigned char *)vals[n].mv_data)[0] = 2;
		n++;
	}
	mdb_cursor_close(cur);
	for (size_t i = 0; i < n; i++) {
		MDB_val nk = { 9, keys[i] };

		assert_int_equal(mdb_put(txn, dbi, &nk, &vals[i], 0), 0);
		free(vals[i].mv_data);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(keys);
	free(vals);
	hcache_test_make_unhot(dir, false, true);
	return n;
}

#endif
