/* state: LMDB per-folder state — transitions, persistence, concurrency,
 * corruption and stale readers, on real files and real processes. */
#include "store/state.h"

#include <endian.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static char tmpdir[] = "/tmp/loft-test-state-XXXXXX";

/* A fresh folder state directory per test: TMP/NAME/INBOX. */
static char *folder_dir(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s/INBOX", tmpdir, name);
	return buf;
}

static struct state *open_ok(const char *dir, struct state_header *hdr)
{
	struct state *st = NULL;
	const char *error = NULL;

	if (state_open(dir, &st, &error) < 0)
		fail_msg("state_open: %s", error);
	if (hdr && state_get_header(st, hdr, &error) < 0)
		fail_msg("state_get_header: %s", error);
	return st;
}

static struct state_rec mkrec(const char *key, const char *envelope)
{
	struct state_rec rec = {
		.flags = 5, .size = 1234, .internal_date = 1700000000,
		.key = key, .location = "new/x", .keywords = "$Label1 work",
		.envelope = envelope, .bodystructure = NULL,
	};
	return rec;
}

static uint32_t add_ok(struct state_txn *txn, const struct state_rec *rec)
{
	const char *error = NULL;
	uint32_t uid = 0;

	if (state_txn_add(txn, rec, &uid, &error) < 0)
		fail_msg("state_txn_add(%s): %s", rec->key, error);
	return uid;
}

static struct state_txn *begin_ok(struct state *st)
{
	struct state_txn *txn = NULL;
	const char *error = NULL;

	if (state_begin(st, &txn, &error) < 0)
		fail_msg("state_begin: %s", error);
	return txn;
}

static void commit_ok(struct state_txn **txn)
{
	const char *error = NULL;

	if (state_commit(txn, &error) < 0)
		fail_msg("state_commit: %s", error);
	assert_null(*txn);
}

static uint32_t lookup(struct state *st, const char *key)
{
	const char *error = NULL;
	uint32_t uid = 0;
	int ret = state_lookup_key(st, key, &uid, &error);

	assert_int_not_equal(ret, -1);
	return ret ? uid : 0;
}

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_rec_equal(const struct state_rec *a, const struct state_rec *b)
{
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->modseq, b->modseq);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->internal_date, b->internal_date);
	assert_str_or_null(a->key, b->key);
	assert_str_or_null(a->location, b->location);
	assert_str_or_null(a->keywords, b->keywords);
	assert_str_or_null(a->envelope, b->envelope);
	assert_str_or_null(a->bodystructure, b->bodystructure);
}

/* foreach collector: a copy of every record. */
struct collect {
	struct state_rec recs[512];
	char *bufs[512];
	size_t n;
	size_t stop_after;	/* 0: never stop */
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int collect_fn(const struct state_rec *rec, void *ctx)
{
	struct collect *c = ctx;
	struct state_rec *r;

	if (c->stop_after && c->n == c->stop_after)
		return -1;
	assert_true(c->n < 512);
	r = &c->recs[c->n++];
	*r = *rec;
	r->key = dup_or_null(rec->key);
	r->location = dup_or_null(rec->location);
	r->keywords = dup_or_null(rec->keywords);
	r->envelope = dup_or_null(rec->envelope);
	r->bodystructure = dup_or_null(rec->bodystructure);
	return 0;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->recs[i].key);
		free((char *)c->recs[i].location);
		free((char *)c->recs[i].keywords);
		free((char *)c->recs[i].envelope);
		free((char *)c->recs[i].bodystructure);
	}
	c->n = 0;
}

static void test_create_reopen(void **unused)
{
	const char *dir = folder_dir("reopen"), *error = NULL;
	struct state_header h1, h2;
	struct collect *c1 = calloc(1, sizeof(*c1)), *c2 = calloc(1, sizeof(*c2));
	struct state *st = open_ok(dir, &h1);
	struct state_txn *txn;
	char key[16] = "key1", env[32] = "(\"env1\")";
	struct state_rec rec = mkrec(key, env);
	struct state_rec got;
	char *buf;

	assert_true(h1.created);
	assert_int_not_equal(h1.uidvalidity, 0);
	assert_int_equal(h1.uidnext, 1);
	assert_int_equal(h1.highestmodseq, 1);
	assert_int_equal(h1.count, 0);

	txn = begin_ok(st);
	assert_int_equal(add_ok(txn, &rec), 1);
	/* Records are copied in: changing the caller's strings changes nothing. */
	strcpy(key, "key2");
	strcpy(env, "XXXXXXXX");
	rec.envelope = NULL;
	rec.bodystructure = "(\"text\" \"plain\")";
	rec.keywords = "";
	rec.location = NULL;
	assert_int_equal(add_ok(txn, &rec), 2);
	rec = mkrec("key3", "");
	assert_int_equal(add_ok(txn, &rec), 3);
	commit_ok(&txn);

	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_string_equal(got.key, "key1");
	assert_string_equal(got.envelope, "(\"env1\")");
	assert_null(got.bodystructure);
	free(buf);
	assert_int_equal(state_get(st, 2, &got, &buf, &error), 1);
	assert_null(got.envelope);
	assert_null(got.location);
	assert_string_equal(got.keywords, "");
	assert_string_equal(got.bodystructure, "(\"text\" \"plain\")");
	free(buf);
	assert_int_equal(state_get(st, 4, &got, &buf, &error), 0);
	assert_null(buf);

	assert_int_equal(state_foreach(st, collect_fn, c1, &error), 0);
	assert_int_equal(c1->n, 3);
	state_get_header(st, &h1, &error);
	state_close(&st);
	assert_null(st);
	state_close(&st);	/* NULL-safe */

	st = open_ok(dir, &h2);
	assert_false(h2.created);
	assert_int_equal(h2.uidvalidity, h1.uidvalidity);
	assert_int_equal(h2.uidnext, 4);
	assert_int_equal(h2.highestmodseq, h1.highestmodseq);
	assert_int_equal(h2.count, 3);
	assert_int_equal(state_foreach(st, collect_fn, c2, &error), 0);
	assert_int_equal(c2->n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_rec_equal(&c1->recs[i], &c2->recs[i]);
	assert_int_equal(lookup(st, "key2"), 2);
	state_close(&st);
	collect_free(c1);
	collect_free(c2);
	free(c1);
	free(c2);
}

static void test_add_uids_modseqs(void **unused)
{
	struct state *st = open_ok(folder_dir("add"), NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_header hdr;
	struct state_rec rec, got;
	const char *error;
	uint64_t last_modseq = 1;
	char key[32], *buf;

	for (uint32_t i = 1; i <= 5; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		rec = mkrec(key, NULL);
		rec.modseq = 999;	/* ignored */
		assert_int_equal(add_ok(txn, &rec), i);
		assert_int_equal(state_txn_uidnext(txn), i + 1);
		assert_true(state_txn_highestmodseq(txn) > last_modseq);
		last_modseq = state_txn_highestmodseq(txn);
		/* The transaction sees its own record. */
		assert_int_equal(state_txn_get(txn, i, &got, &buf, &error), 1);
		assert_int_equal(got.modseq, last_modseq);
		assert_string_equal(got.key, key);
		free(buf);
	}
	/* A hint at or above UIDNEXT is used; one below it is not. */
	rec = mkrec("hint100", NULL);
	rec.uid = 100;
	assert_int_equal(add_ok(txn, &rec), 100);
	rec = mkrec("hint50", NULL);
	rec.uid = 50;
	assert_int_equal(add_ok(txn, &rec), 101);
	commit_ok(&txn);

	state_get_header(st, &hdr, &error);
	assert_int_equal(hdr.uidnext, 102);
	assert_int_equal(hdr.highestmodseq, 8);
	assert_int_equal(hdr.count, 7);

	/* A later transaction continues from there. */
	txn = begin_ok(st);
	rec = mkrec("later", NULL);
	assert_int_equal(add_ok(txn, &rec), 102);
	commit_ok(&txn);
	assert_int_equal(state_get(st, 102, &got, &buf, &error), 1);
	assert_int_equal(got.modseq, 9);
	free(buf);
	state_close(&st);
}

static void test_duplicate_key(void **unused)
{
	struct state *st = open_ok(folder_dir("dup"), NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_rec rec = mkrec("a", NULL);
	const char *error = NULL;
	char longkey[600];
	uint32_t uid = 0;

	assert_int_equal(add_ok(txn, &rec), 1);
	assert_int_equal(state_txn_add(txn, &rec, &uid, &error), -1);
	assert_non_null(strstr(error, "already present"));
	assert_non_null(strstr(error, "/dup/INBOX/data.mdb: "));
	/* The transaction is still usable after a duplicate. */
	rec = mkrec("b", NULL);
	assert_int_equal(add_ok(txn, &rec), 2);
	rec = mkrec("", NULL);
	assert_int_equal(state_txn_add(txn, &rec, &uid, &error), -1);
	memset(longkey, 'x', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	rec = mkrec(longkey, NULL);
	assert_int_equal(state_txn_add(txn, &rec, &uid, &error), -1);
	commit_ok(&txn);

	/* Also across transactions. */
	txn = begin_ok(st);
	rec = mkrec("a", NULL);
	assert_int_equal(state_txn_add(txn, &rec, &uid, &error), -1);
	state_abort(&txn);
	assert_null(txn);
	assert_int_equal(lookup(st, "a"), 1);
	assert_int_equal(lookup(st, "b"), 2);
	assert_int_equal(lookup(st, ""), 0);
	assert_int_equal(lookup(st, longkey), 0);
	state_close(&st);
}

static void test_update(void **unused)
{
	struct state *st = open_ok(folder_dir("update"), NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_rec rec = mkrec("old", "(env)"), got;
	const char *error = NULL;
	uint32_t uid;
	uint64_t modseq;
	char *buf;

	add_ok(txn, &rec);
	rec = mkrec("other", NULL);
	add_ok(txn, &rec);
	commit_ok(&txn);

	/* A location-only rename: new key, same MODSEQ. */
	state_get(st, 1, &got, &buf, &error);
	modseq = got.modseq;
	free(buf);
	txn = begin_ok(st);
	rec = mkrec("new", "(env)");
	rec.uid = 1;
	rec.location = "cur/new:2,S";
	assert_int_equal(state_txn_update(txn, &rec, false, &error), 0);
	assert_int_equal(state_txn_lookup_key(txn, "old", &uid, &error), 0);
	assert_int_equal(state_txn_lookup_key(txn, "new", &uid, &error), 1);
	assert_int_equal(uid, 1);
	assert_int_equal(state_txn_highestmodseq(txn), 3);
	commit_ok(&txn);
	assert_int_equal(lookup(st, "old"), 0);
	assert_int_equal(lookup(st, "new"), 1);
	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_int_equal(got.modseq, modseq);
	assert_string_equal(got.location, "cur/new:2,S");
	free(buf);

	/* A flag change: MODSEQ bumped, key unchanged. */
	txn = begin_ok(st);
	rec.flags = 1;
	assert_int_equal(state_txn_update(txn, &rec, true, &error), 0);
	assert_int_equal(state_txn_highestmodseq(txn), 4);
	/* Taking another record's key fails and changes nothing. */
	rec.key = "other";
	assert_int_equal(state_txn_update(txn, &rec, true, &error), -1);
	assert_non_null(strstr(error, "already present"));
	/* No such UID. */
	rec.key = "zzz";
	rec.uid = 77;
	assert_int_equal(state_txn_update(txn, &rec, true, &error), -1);
	assert_non_null(strstr(error, "UID 77 not found"));
	commit_ok(&txn);
	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_int_equal(got.modseq, 4);
	assert_int_equal(got.flags, 1);
	assert_string_equal(got.key, "new");
	free(buf);
	assert_int_equal(lookup(st, "other"), 2);
	assert_int_equal(lookup(st, "zzz"), 0);
	state_close(&st);
}

static void expect_uids(struct state *st, uint64_t modseq, const uint32_t *want, size_t n)
{
	const char *error = NULL;
	uint32_t *uids;
	size_t count;

	assert_int_equal(state_expunged_since(st, modseq, &uids, &count, &error), 0);
	assert_int_equal(count, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(uids[i], want[i]);
	if (n == 0)
		assert_null(uids);
	free(uids);
}

static void test_remove_expunged(void **unused)
{
	struct state *st = open_ok(folder_dir("remove"), NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_header hdr;
	struct state_rec rec, got;
	const char *error;
	char key[16], *buf;

	for (int i = 1; i <= 5; i++) {	/* MODSEQs 2..6 */
		snprintf(key, sizeof(key), "m%d", i);
		rec = mkrec(key, NULL);
		add_ok(txn, &rec);
	}
	commit_ok(&txn);
	txn = begin_ok(st);
	assert_int_equal(state_txn_remove(txn, 4, &error), 0);	/* 7 */
	assert_int_equal(state_txn_remove(txn, 2, &error), 0);	/* 8 */
	assert_int_equal(state_txn_remove(txn, 2, &error), -1);
	assert_int_equal(state_txn_get(txn, 2, &got, &buf, &error), 0);
	commit_ok(&txn);
	txn = begin_ok(st);
	assert_int_equal(state_txn_remove(txn, 1, &error), 0);	/* 9 */
	commit_ok(&txn);

	expect_uids(st, 0, (const uint32_t[]){ 1, 2, 4 }, 3);
	expect_uids(st, 6, (const uint32_t[]){ 1, 2, 4 }, 3);
	expect_uids(st, 7, (const uint32_t[]){ 1, 2 }, 2);
	expect_uids(st, 8, (const uint32_t[]){ 1 }, 1);
	expect_uids(st, 9, NULL, 0);
	expect_uids(st, UINT64_MAX, NULL, 0);
	assert_int_equal(lookup(st, "m2"), 0);
	assert_int_equal(lookup(st, "m3"), 3);
	assert_int_equal(state_get(st, 4, &got, &buf, &error), 0);
	state_get_header(st, &hdr, &error);
	assert_int_equal(hdr.highestmodseq, 9);
	assert_int_equal(hdr.uidnext, 6);	/* UIDs are never reused */
	assert_int_equal(hdr.count, 2);
	/* The key of an expunged message may come back: it gets a new UID. */
	txn = begin_ok(st);
	rec = mkrec("m2", NULL);
	assert_int_equal(add_ok(txn, &rec), 6);
	commit_ok(&txn);
	state_close(&st);
}

static void test_abort(void **unused)
{
	struct state *st = open_ok(folder_dir("abort"), NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_header before, after;
	struct state_rec rec = mkrec("keep", NULL), got;
	const char *error;
	char *buf;

	add_ok(txn, &rec);
	commit_ok(&txn);
	state_get_header(st, &before, &error);

	txn = begin_ok(st);
	rec = mkrec("gone", NULL);
	add_ok(txn, &rec);
	rec = mkrec("keep2", NULL);
	rec.uid = 1;
	assert_int_equal(state_txn_update(txn, &rec, true, &error), 0);
	assert_int_equal(state_txn_remove(txn, 1, &error), 0);
	state_abort(&txn);
	assert_null(txn);
	state_abort(&txn);	/* NULL-safe */

	state_get_header(st, &after, &error);
	assert_int_equal(after.uidnext, before.uidnext);
	assert_int_equal(after.highestmodseq, before.highestmodseq);
	assert_int_equal(after.count, 1);
	assert_int_equal(lookup(st, "gone"), 0);
	assert_int_equal(lookup(st, "keep2"), 0);
	assert_int_equal(lookup(st, "keep"), 1);
	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_int_equal(got.modseq, 2);
	free(buf);
	expect_uids(st, 0, NULL, 0);

	/* The next transaction starts from the committed numbers. */
	txn = begin_ok(st);
	rec = mkrec("next", NULL);
	assert_int_equal(add_ok(txn, &rec), 2);
	commit_ok(&txn);
	state_close(&st);
}

/* A callback may use the other read calls (they get their own txn). */
static int nested_fn(const struct state_rec *rec, void *ctx)
{
	struct state *st = ctx;
	struct state_rec got;
	const char *error;
	uint32_t uid = 0;
	char *buf;

	assert_int_equal(state_lookup_key(st, rec->key, &uid, &error), 1);
	assert_int_equal(uid, rec->uid);
	assert_int_equal(state_get(st, rec->uid, &got, &buf, &error), 1);
	assert_string_equal(got.key, rec->key);
	free(buf);
	return 0;
}

static void test_foreach_order(void **unused)
{
	struct state *st = open_ok(folder_dir("foreach"), NULL);
	struct collect *c = calloc(1, sizeof(*c));
	struct state_txn *txn = begin_ok(st);
	struct state_rec rec;
	const char *error = NULL;
	char key[32], env[600];

	/* Enough records (with envelopes) to span many pages. */
	memset(env, 'e', sizeof(env) - 1);
	env[sizeof(env) - 1] = '\0';
	for (int i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "%08d", (i * 7919) % 400);	/* keys unordered */
		rec = mkrec(key, env);
		add_ok(txn, &rec);
	}
	commit_ok(&txn);
	txn = begin_ok(st);
	for (uint32_t uid = 3; uid <= 400; uid += 5)
		assert_int_equal(state_txn_remove(txn, uid, &error), 0);
	commit_ok(&txn);

	assert_int_equal(state_foreach(st, collect_fn, c, &error), 0);
	assert_int_equal(c->n, 400 - 80);
	for (size_t i = 1; i < c->n; i++)
		assert_true(c->recs[i].uid > c->recs[i - 1].uid);
	for (size_t i = 0; i < c->n; i++) {
		assert_int_not_equal(c->recs[i].uid % 5, 3);
		assert_int_equal(strlen(c->recs[i].envelope), sizeof(env) - 1);
	}
	collect_free(c);

	assert_int_equal(state_foreach(st, nested_fn, st, &error), 0);
	c->stop_after = 10;
	assert_int_equal(state_foreach(st, collect_fn, c, &error), -1);
	assert_non_null(strstr(error, "stopped"));
	assert_int_equal(c->n, 10);
	collect_free(c);
	free(c);
	state_close(&st);
}

static void test_destroy_new_uidvalidity(void **unused)
{
	const char *dir = folder_dir("destroy"), *error = NULL;
	struct state_header h1, h2;
	struct state *st = open_ok(dir, &h1);
	struct state_txn *txn = begin_ok(st);
	struct state_rec rec = mkrec("x", NULL);
	struct stat sb;

	add_ok(txn, &rec);
	commit_ok(&txn);
	state_close(&st);
	assert_int_equal(state_destroy(dir, &error), 0);
	assert_int_equal(stat(dir, &sb), -1);
	assert_int_equal(state_destroy(dir, &error), 0);	/* already gone: fine */

	/* Recreated within the same second: still a new, greater value. */
	st = open_ok(dir, &h2);
	assert_true(h2.created);
	assert_int_not_equal(h2.uidvalidity, h1.uidvalidity);
	assert_true(h2.uidvalidity > h1.uidvalidity);
	assert_int_equal(h2.uidnext, 1);
	assert_int_equal(h2.count, 0);
	assert_int_equal(lookup(st, "x"), 0);
	state_close(&st);
}

static void test_open_errors(void **unused)
{
	char path[300];
	struct state *st = (struct state *)1;
	const char *error = NULL;
	FILE *f;

	/* The directory is a file. */
	snprintf(path, sizeof(path), "%s/errors", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/errors/file", tmpdir);
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(state_open(path, &st, &error), -1);
	assert_null(st);
	assert_non_null(strstr(error, path));

	/* data.mdb is not an LMDB file. */
	snprintf(path, sizeof(path), "%s/errors/bad", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/errors/bad/data.mdb", tmpdir);
	f = fopen(path, "w");
	for (int i = 0; i < 2000; i++)
		fputs("not an lmdb file ", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/errors/bad", tmpdir);
	assert_int_equal(state_open(path, &st, &error), -1);
	assert_non_null(strstr(error, "/errors/bad/data.mdb: "));
}

/* Raw LMDB access to a state's environment, as a corrupting agent. */
static MDB_env *raw_open(const char *dir, MDB_txn **txn_r, unsigned flags)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, flags, txn_r), 0);
	return env;
}

static void raw_put(MDB_txn *txn, MDB_dbi dbi, uint32_t uid, const void *data, size_t len)
{
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be }, v = { len, (void *)data };

	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

static void counts_are(struct state *st, size_t total, size_t unseen)
{
	const char *error = NULL;
	size_t t = 99, u = 99;

	if (state_get_counts(st, &t, &u, &error) < 0)
		fail_msg("state_get_counts: %s", error);
	assert_int_equal(t, total);
	assert_int_equal(u, unseen);
}

/* The unseen counter follows add, update (both ways, and location-only
 * updates), remove and abort; a state written before the counter existed
 * is walked on read and counted by its next write transaction. */
static void test_unseen_counter(void **unused)
{
	const char *dir = folder_dir("unseen"), *error = NULL;
	struct state_rec r1 = mkrec("k1", NULL), r2 = mkrec("k2", NULL), r3 = mkrec("k3", NULL);
	struct state_txn *txn;
	struct state *st;
	uint32_t u1, u2, u3;

	(void)unused;
	st = open_ok(dir, NULL);
	counts_are(st, 0, 0);
	r1.flags = 0;		/* unseen */
	r2.flags = 1;		/* \Seen */
	r3.flags = 4;		/* flagged, unseen */
	txn = begin_ok(st);
	u1 = add_ok(txn, &r1);
	u2 = add_ok(txn, &r2);
	u3 = add_ok(txn, &r3);
	commit_ok(&txn);
	counts_are(st, 3, 2);

	/* Seen, then unseen again; a location-only change keeps the count. */
	txn = begin_ok(st);
	r1.uid = u1;
	r1.flags = 1;
	assert_int_equal(state_txn_update(txn, &r1, true, &error), 0);
	commit_ok(&txn);
	counts_are(st, 3, 1);
	txn = begin_ok(st);
	r2.uid = u2;
	r2.flags = 0;
	assert_int_equal(state_txn_update(txn, &r2, true, &error), 0);
	r3.uid = u3;
	r3.location = "cur/elsewhere";
	assert_int_equal(state_txn_update(txn, &r3, false, &error), 0);
	commit_ok(&txn);
	counts_are(st, 3, 2);

	/* An aborted change counts nothing. */
	txn = begin_ok(st);
	assert_int_equal(state_txn_remove(txn, u2, &error), 0);
	state_abort(&txn);
	counts_are(st, 3, 2);
	/* Removing an unseen and a seen record. */
	txn = begin_ok(st);
	assert_int_equal(state_txn_remove(txn, u2, &error), 0);
	assert_int_equal(state_txn_remove(txn, u1, &error), 0);
	commit_ok(&txn);
	counts_are(st, 1, 1);
	state_close(&st);

	/* A state from before the counter: drop the meta key behind its back. */
	MDB_txn *rtxn;
	MDB_dbi meta;
	MDB_env *env = raw_open(dir, &rtxn, 0);
	MDB_val k = { 6, (void *)"unseen" };

	assert_int_equal(mdb_dbi_open(rtxn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(rtxn, meta, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(rtxn), 0);
	mdb_env_close(env);
	st = open_ok(dir, NULL);
	counts_are(st, 1, 1);		/* walked */
	txn = begin_ok(st);
	struct state_rec r4 = mkrec("k4", NULL);
	r4.flags = 0;
	add_ok(txn, &r4);
	commit_ok(&txn);
	counts_are(st, 2, 2);		/* counted at begin, kept since */
	state_close(&st);
	env = raw_open(dir, &rtxn, MDB_RDONLY);
	MDB_val v;
	assert_int_equal(mdb_dbi_open(rtxn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(rtxn, meta, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	uint32_t le;
	memcpy(&le, v.mv_data, 4);
	assert_int_equal(le32toh(le), 2);
	mdb_txn_abort(rtxn);
	mdb_env_close(env);
}

static void test_garbled_records(void **unused)
{
	const char *dir = folder_dir("garbled"), *error = NULL;
	struct state *st = open_ok(dir, NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_rec rec = mkrec("good", "(\"envelope\")"), got;
	struct collect *c = calloc(1, sizeof(*c));
	unsigned char good[256], bad[256];
	size_t len, flipped_ok = 0;
	MDB_env *env;
	MDB_txn *rtxn;
	MDB_dbi msgs, meta;
	MDB_val k, v;
	uint32_t be = htobe32(1);
	char *buf;

	add_ok(txn, &rec);
	commit_ok(&txn);
	state_close(&st);

	/* Write truncations of a good record at UIDs 1000+len, single-byte
	 * corruptions at 2000+i, and a key of the wrong size. */
	env = raw_open(dir, &rtxn, 0);
	assert_int_equal(mdb_dbi_open(rtxn, "msgs", 0, &msgs), 0);
	k.mv_size = 4;
	k.mv_data = &be;
	assert_int_equal(mdb_get(rtxn, msgs, &k, &v), 0);
	len = v.mv_size;
	assert_true(len <= sizeof(good));
	memcpy(good, v.mv_data, len);
	for (size_t n = 0; n < len; n++)
		raw_put(rtxn, msgs, 1000 + (uint32_t)n, good, n);
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, good, len);
		bad[i] ^= 0xa5;
		raw_put(rtxn, msgs, 2000 + (uint32_t)i, bad, len);
	}
	k.mv_size = 3;
	v.mv_size = len;
	v.mv_data = good;
	assert_int_equal(mdb_put(rtxn, msgs, &k, &v, 0), 0);	/* sorts first */
	assert_int_equal(mdb_txn_commit(rtxn), 0);
	mdb_env_close(env);

	st = open_ok(dir, NULL);
	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_string_equal(got.envelope, "(\"envelope\")");
	free(buf);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(state_get(st, 1000 + (uint32_t)n, &got, &buf, &error), -1);
		assert_null(buf);
		assert_non_null(strstr(error, "garbled record"));
		assert_non_null(strstr(error, "/garbled/INBOX/data.mdb: UID 10"));
	}
	for (size_t i = 0; i < len; i++) {
		int ret = state_get(st, 2000 + (uint32_t)i, &got, &buf, &error);

		assert_true(ret == 1 || ret == -1);
		if (ret == 1) {	/* e.g. a flipped flag bit: still well formed */
			flipped_ok++;
			assert_true(strlen(got.key) > 0);
			free(buf);
		}
	}
	print_message("garbled: %zu truncations rejected, %zu of %zu byte flips still well formed\n",
		      len, flipped_ok, len);
	assert_int_equal(state_foreach(st, collect_fn, c, &error), -1);
	assert_non_null(strstr(error, "garbled record key"));
	collect_free(c);
	free(c);
	state_close(&st);

	/* A garbled header fails the open, naming the file. */
	env = raw_open(dir, &rtxn, 0);
	assert_int_equal(mdb_dbi_open(rtxn, "meta", 0, &meta), 0);
	k.mv_size = strlen("uidnext");
	k.mv_data = "uidnext";
	v.mv_size = 3;
	v.mv_data = "abc";
	assert_int_equal(mdb_put(rtxn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(rtxn), 0);
	mdb_env_close(env);
	assert_int_equal(state_open(dir, &st, &error), -1);
	assert_non_null(strstr(error, "/garbled/INBOX/data.mdb: garbled uidnext"));
}

static int child_adder(const char *dir, int who, int n)
{
	struct state *st = NULL;
	struct state_txn *txn;
	const char *error;
	char key[32];
	uint32_t uid;

	if (state_open(dir, &st, &error) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "p%d-%d", who, i);
		struct state_rec rec = mkrec(key, NULL);

		if (state_begin(st, &txn, &error) < 0)
			return 2;
		if (state_txn_add(txn, &rec, &uid, &error) < 0) {
			state_abort(&txn);
			return 3;
		}
		if (state_commit(&txn, &error) < 0)
			return 4;
	}
	state_close(&st);
	return 0;
}

static void test_two_processes(void **unused)
{
	const char *dir = folder_dir("procs");
	struct collect *c = calloc(1, sizeof(*c));
	enum { N = 60 };
	struct state *st;
	struct state_header hdr;
	const char *error;
	pid_t pids[2];
	char key[32];
	int status;

	/* Both children find no state: creation races too. */
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0)
			_exit(child_adder(dir, p, N));
	}
	for (int p = 0; p < 2; p++) {
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	st = open_ok(dir, &hdr);
	assert_int_equal(hdr.count, 2 * N);
	assert_int_equal(hdr.uidnext, 2 * N + 1);
	assert_int_equal(hdr.highestmodseq, 2 * N + 1);
	assert_int_equal(state_foreach(st, collect_fn, c, &error), 0);
	assert_int_equal(c->n, 2 * N);
	for (size_t i = 0; i < c->n; i++)
		assert_int_equal(c->recs[i].uid, i + 1);
	for (int p = 0; p < 2; p++) {
		for (int i = 0; i < N; i++) {
			snprintf(key, sizeof(key), "p%d-%d", p, i);
			assert_int_not_equal(lookup(st, key), 0);
		}
	}
	collect_free(c);
	free(c);
	state_close(&st);
}

static void test_stale_reader(void **unused)
{
	const char *dir = folder_dir("stale");
	struct state_header hdr;
	struct state *st = open_ok(dir, &hdr);
	const char *error;
	pid_t pid;
	int status;

	/* The parent keeps the environment open, as other connections would:
	 * otherwise the next opener is the first and simply resets the table. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		MDB_txn *txn;

		raw_open(dir, &txn, MDB_RDONLY);
		_exit(0);	/* dies inside a read transaction */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The next process to open clears the dead slot (exit status: count). */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *st2 = NULL;

		if (state_open(dir, &st2, &error) < 0)
			_exit(100);
		unsigned n = state_readers_cleared(st2);

		state_close(&st2);
		_exit((int)n);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_int_equal(state_get_header(st, &hdr, &error), 0);
	state_close(&st);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_fn(const struct state_rec *rec, void *ctx)
{
	size_t *n = ctx;

	*n += rec->envelope ? 1 : 0;
	return 0;
}

/* 100,000 records of realistic size fit and are quick (times printed, not
 * asserted: sanitizers slow this down several times). */
static void test_large_folder(void **unused)
{
	const char *dir = folder_dir("large"), *error = NULL;
	enum { N = 100000 };
	struct state *st = open_ok(dir, NULL);
	struct state_header hdr;
	struct state_txn *txn;
	struct state_rec rec;
	char key[64], loc[96], env[420], bs[160], path[300];
	size_t seen = 0;
	struct stat sb;
	double t0, t1, t2, t3;

	memset(env, 'E', sizeof(env) - 1);
	env[sizeof(env) - 1] = '\0';
	memset(bs, 'B', sizeof(bs) - 1);
	bs[sizeof(bs) - 1] = '\0';
	t0 = now();
	txn = begin_ok(st);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "17000%05d.M%06dP%d.host.example", (i * 7907) % N, i, 4242);
		snprintf(loc, sizeof(loc), "cur/%s:2,S", key);
		rec = mkrec(key, env);
		rec.location = loc;
		rec.bodystructure = bs;
		add_ok(txn, &rec);
	}
	t1 = now();
	commit_ok(&txn);
	t2 = now();
	state_close(&st);

	st = open_ok(dir, &hdr);
	t3 = now();
	assert_int_equal(state_foreach(st, count_fn, &seen, &error), 0);
	double t4 = now();

	assert_int_equal(seen, N);
	assert_int_equal(hdr.count, N);
	assert_int_equal(lookup(st, "1700000000.M000000P4242.host.example"), 1);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &sb), 0);
	print_message("large: %d records: add %.0f ms, commit %.0f ms, foreach %.1f ms, "
		      "file %.1f MiB\n", N, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t4 - t3) * 1e3,
		      (double)sb.st_size / (1 << 20));
	state_close(&st);
	assert_int_equal(state_destroy(dir, &error), 0);
}

static int rm_fn(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **unused)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **unused)
{
	return nftw(tmpdir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_reopen),
		cmocka_unit_test(test_add_uids_modseqs),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_remove_expunged),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_foreach_order),
		cmocka_unit_test(test_destroy_new_uidvalidity),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_garbled_records),
		cmocka_unit_test(test_unseen_counter),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_stale_reader),
		cmocka_unit_test(test_large_folder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
