/* state_bench: timings of store/state on a 100,000-record folder.
 * Not wired to make; build and run:
 *   gcc -std=c11 -D_GNU_SOURCE -I. -O2 -o /tmp/state_bench bench/state_bench.c \
 *       store/state.c store/state-txn.c lib/sbuf.c lib/xalloc.c lib/log.c -llmdb
 *   /tmp/state_bench [DIR [COUNT]]
 * Records are sized like real ones: a maildir key (~40 bytes), a location,
 * a ~400-byte ENVELOPE and a ~160-byte BODYSTRUCTURE. */
#include "store/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *error)
{
	fprintf(stderr, "state_bench: %s: %s\n", what, error);
	exit(1);
}

static int count_fn(const struct state_rec *rec, void *ctx)
{
	size_t *n = ctx;

	*n += rec->envelope[0] == '(';
	return 0;
}

static void make_key(char *key, size_t size, unsigned i, unsigned n)
{
	snprintf(key, size, "%u.M%06uP%u.host.example", 1700000000u + (i * 7907u) % n, i, 4242u);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/loft-state-bench-XXXXXX", dir[512], path[600];
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	char key[64], loc[96], env[420], bs[160];
	struct state *st;
	struct state_txn *txn;
	struct state_header hdr;
	struct state_rec rec;
	const char *error;
	size_t seen;
	struct stat sb;
	uint32_t uid;
	double t0, t1, t2;

	snprintf(dir, sizeof(dir), "%s/INBOX", argc > 1 ? argv[1] : mkdtemp(tmpl));
	memset(env, 'E', sizeof(env) - 1);
	env[0] = '(';
	env[sizeof(env) - 1] = '\0';
	memset(bs, 'B', sizeof(bs) - 1);
	bs[sizeof(bs) - 1] = '\0';

	t0 = now();
	if (state_open(dir, &st, &error) < 0)
		die("open", error);
	if (state_begin(st, &txn, &error) < 0)
		die("begin", error);
	for (unsigned i = 0; i < n; i++) {
		make_key(key, sizeof(key), i, n);
		snprintf(loc, sizeof(loc), "cur/%s:2,S", key);
		rec = (struct state_rec){ .flags = 1, .size = 4000 + i % 5000,
			.internal_date = 1700000000 + i, .key = key, .location = loc,
			.keywords = "", .envelope = env, .bodystructure = bs };
		if (state_txn_add(txn, &rec, &uid, &error) < 0)
			die("add", error);
	}
	t1 = now();
	if (state_commit(&txn, &error) < 0)
		die("commit", error);
	t2 = now();
	state_close(&st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	stat(path, &sb);
	printf("bench: state create+add %u records in one txn: %.0f ms (adds %.0f ms, commit %.0f ms), "
	       "data.mdb %.1f MiB\n", n, (t2 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	       (double)sb.st_size / (1 << 20));

	for (int round = 0; round < 3; round++) {
		seen = 0;
		t0 = now();
		if (state_open(dir, &st, &error) < 0)
			die("open", error);
		if (state_get_header(st, &hdr, &error) < 0)
			die("header", error);
		t1 = now();
		if (state_foreach(st, count_fn, &seen, &error) < 0)
			die("foreach", error);
		t2 = now();
		if (seen != n || hdr.count != n)
			die("foreach", "wrong count");
		printf("bench: state open %.2f ms + first foreach of %zu records %.1f ms "
		       "(fresh process state, warm cache)\n", (t1 - t0) * 1e3, seen, (t2 - t1) * 1e3);
		if (round < 2)
			state_close(&st);
	}
	seen = 0;
	t0 = now();
	state_foreach(st, count_fn, &seen, &error);
	printf("bench: state second foreach in the same open: %.1f ms\n", (now() - t0) * 1e3);

	t0 = now();
	for (unsigned i = 0; i < 10000; i++) {
		make_key(key, sizeof(key), (i * 31u) % n, n);
		if (state_lookup_key(st, key, &uid, &error) != 1)
			die("lookup", key);
	}
	t1 = now();
	for (unsigned i = 0; i < 10000; i++) {
		char *buf;

		if (state_get(st, 1 + (i * 37u) % n, &rec, &buf, &error) != 1)
			die("get", error);
		free(buf);
	}
	t2 = now();
	printf("bench: state_lookup_key %.2f us, state_get %.2f us each\n",
	       (t1 - t0) * 1e6 / 10000, (t2 - t1) * 1e6 / 10000);

	t0 = now();
	for (unsigned i = 0; i < 20; i++) {
		struct state_rec upd;
		char *buf;

		if (state_get(st, 1 + i, &upd, &buf, &error) != 1)
			die("get", error);
		upd.flags ^= 4;
		if (state_begin(st, &txn, &error) < 0 ||
		    state_txn_update(txn, &upd, true, &error) < 0 ||
		    state_commit(&txn, &error) < 0)
			die("update", error);
		free(buf);
	}
	printf("bench: one-record flag update + durable commit: %.2f ms each\n",
	       (now() - t0) * 1e3 / 20);
	state_close(&st);
	if (argc <= 1) {
		if (state_destroy(dir, &error) < 0)
			die("destroy", error);
		snprintf(path, sizeof(path), "%s/.uidvalidity", tmpl);
		unlink(path);
		rmdir(tmpl);
	}
	return 0;
}
