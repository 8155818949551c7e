/* state: LMDB per-folder state — transitions and persistence, on real
 * files (counters, corruption, concurrency and size: test_state_stress.c). */
#include "tests/unit/state-test.h"

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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
