/* state-modseq: the records by MODSEQ.  "Changed since m" through the
 * index gives exactly what a walk of every record gives, after random
 * adds, flag changes (with and without a new MODSEQ) and removals; the
 * index is what answers when few changed; a state changed by a writer that
 * did not keep the index (an older loft) is walked, and the next write
 * transaction rebuilds the index. */
#include "tests/unit/state-test.h"

#include "store/state-private.h"

#include <stdlib.h>
#include <string.h>

/* What state_foreach_since(m) hands out: UIDs and MODSEQs in order. */
struct seen {
	uint32_t uid[512];
	uint64_t modseq[512];
	size_t n;
};

static int seen_fn(const struct state_rec *rec, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 512);
	s->uid[s->n] = rec->uid;
	s->modseq[s->n++] = rec->modseq;
	return 0;
}

/* Whether the index answers for m (1), or a walk must (0). */
static int by_index(struct state *st, uint64_t m)
{
	struct seen s = { .n = 0 };
	const char *err = NULL;
	MDB_txn *txn;
	int r;

	assert_int_equal(state_rd_begin(st, &txn, &err), 0);
	r = state_modidx_walk(st, txn, m, 1000, seen_fn, &s, &err);
	state_rd_end(st, txn);
	assert_int_not_equal(r, -1);
	return r;
}

/* Every m from 0 to HIGHESTMODSEQ: the same as the walk, filtered. */
static void assert_since_all(struct state *st)
{
	struct seen all = { .n = 0 }, since;
	struct state_header hdr;
	uint64_t stamps[STATE_STAMPS];
	const char *err = NULL;

	assert_int_equal(state_foreach_since(st, 0, &hdr, stamps, seen_fn, &all, &err), 0);
	for (uint64_t m = 1; m <= hdr.highestmodseq; m++) {
		size_t k = 0;

		since.n = 0;
		assert_int_equal(state_foreach_since(st, m, &hdr, stamps, seen_fn, &since, &err),
				 0);
		for (size_t i = 0; i < all.n; i++) {
			if (all.modseq[i] <= m)
				continue;
			assert_true(k < since.n);
			assert_int_equal(since.uid[k], all.uid[i]);
			assert_int_equal(since.modseq[k], all.modseq[i]);
			k++;
		}
		assert_int_equal(k, since.n);
	}
}

static void test_since_random(void **unused)
{
	struct state *st = open_ok(folder_dir("since"), NULL);
	uint32_t uids[400];
	size_t n = 0;
	const char *err = NULL;
	char key[32];

	srand(7);
	for (int round = 0; round < 40; round++) {
		struct state_txn *txn = begin_ok(st);

		for (int op = 0; op < 8; op++) {
			int what = rand() % 4;

			if (what == 0 || n < 4) {
				struct state_rec rec = mkrec(key, NULL);

				snprintf(key, sizeof(key), "k%d.%d", round, op);
				uids[n++] = add_ok(txn, &rec);
				continue;
			}
			size_t i = (size_t)rand() % n;
			struct state_rec rec;
			char *buf;

			assert_int_equal(state_txn_get(txn, uids[i], &rec, &buf, &err), 1);
			if (what == 3) {
				assert_int_equal(state_txn_remove(txn, uids[i], &err), 0);
				uids[i] = uids[--n];
			} else {
				rec.flags ^= 1u << (rand() % 5);
				/* A new location alone keeps the MODSEQ. */
				assert_int_equal(state_txn_update(txn, &rec, what == 1, &err), 0);
			}
			free(buf);
		}
		commit_ok(&txn);
		assert_since_all(st);
	}
	struct state_header hdr;
	assert_int_equal(state_get_header(st, &hdr, &err), 0);
	assert_int_equal(by_index(st, hdr.highestmodseq - 3), 1);
	state_close(&st);
}

static void test_older_writer(void **unused)
{
	struct state *st = open_ok(folder_dir("older"), NULL);
	struct state_txn *txn = begin_ok(st);
	struct state_header hdr;
	struct state_rec rec;
	const char *err = NULL;
	uint32_t uid[3];
	char key[16], *buf;

	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		rec = mkrec(key, NULL);
		uid[i] = add_ok(txn, &rec);
	}
	commit_ok(&txn);
	assert_int_equal(state_get_header(st, &hdr, &err), 0);
	assert_int_equal(by_index(st, hdr.highestmodseq - 1), 1);

	/* A flag change as a loft without the index makes it: the record
	 * and HIGHESTMODSEQ move, the index and its mark do not. */
	txn = begin_ok(st);
	assert_int_equal(state_txn_get(txn, uid[0], &rec, &buf, &err), 1);
	rec.flags ^= 2;
	uint64_t be_mod = htobe64(rec.modseq);
	MDB_val k = { 8, &be_mod };
	assert_int_equal(state_txn_update(txn, &rec, true, &err), 0);
	free(buf);
	assert_int_equal(mdb_del(txn->txn, st->dbi_mods, &k, NULL), MDB_NOTFOUND);
	be_mod = htobe64(txn->modseq);
	assert_int_equal(mdb_del(txn->txn, st->dbi_mods, &k, NULL), 0);
	txn->modidx_dirty = false;
	commit_ok(&txn);
	assert_int_equal(by_index(st, hdr.highestmodseq), 0);	/* the mark is behind */
	assert_since_all(st);					/* walked, right */

	/* The next write transaction rebuilds it. */
	txn = begin_ok(st);
	commit_ok(&txn);
	assert_int_equal(state_get_header(st, &hdr, &err), 0);
	assert_int_equal(by_index(st, hdr.highestmodseq - 1), 1);
	assert_since_all(st);
	state_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_since_random),
		cmocka_unit_test(test_older_writer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
