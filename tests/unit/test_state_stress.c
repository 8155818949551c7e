/* state: LMDB per-folder state — the unseen counter, garbled records, two
 * processes, stale readers and a large folder, on real files and real
 * processes. */
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

/* The CRLF size (vsize) is kept; a version 2 record (before it was kept)
 * still reads, with vsize 0. */
static void test_vsize_versions(void **unused)
{
	const char *dir = folder_dir("vsize"), *error = NULL;
	struct state *st = open_ok(dir, NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_rec rec = mkrec("key1", "(\"envelope\")"), got;
	unsigned char old[4096];
	MDB_env *env;
	MDB_txn *rtxn;
	MDB_dbi msgs;
	uint32_t be = htobe32(1);
	MDB_val k = { 4, &be }, v;
	char *buf;

	rec.vsize = 4321;
	add_ok(txn, &rec);
	commit_ok(&txn);
	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_int_equal(got.vsize, 4321);
	free(buf);
	state_close(&st);

	env = raw_open(dir, &rtxn, 0);
	assert_int_equal(mdb_dbi_open(rtxn, "msgs", 0, &msgs), 0);
	assert_int_equal(mdb_get(rtxn, msgs, &k, &v), 0);
	assert_true(v.mv_size <= sizeof(old) && v.mv_size > 8);
	assert_int_equal(((unsigned char *)v.mv_data)[0], 3);
	memcpy(old, v.mv_data, v.mv_size - 8);	/* without vsize */
	old[0] = 2;
	raw_put(rtxn, msgs, 1, old, v.mv_size - 8);
	assert_int_equal(mdb_txn_commit(rtxn), 0);
	mdb_env_close(env);

	st = open_ok(dir, NULL);
	assert_int_equal(state_get(st, 1, &got, &buf, &error), 1);
	assert_int_equal(got.vsize, 0);
	assert_string_equal(got.envelope, "(\"envelope\")");
	assert_string_equal(got.keywords, "$Label1 work");
	free(buf);
	state_close(&st);
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



int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbled_records),
		cmocka_unit_test(test_unseen_counter),
		cmocka_unit_test(test_vsize_versions),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_stale_reader),
		cmocka_unit_test(test_large_folder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
