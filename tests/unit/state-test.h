/* Helpers shared by the state unit tests (test_state.c: transitions and
 * persistence; test_state_stress.c: counters, corruption, concurrency and
 * size).  Included by exactly those programs. */
#ifndef LOFT_TESTS_STATE_TEST_H
#define LOFT_TESTS_STATE_TEST_H

#include "store/state.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <cmocka.h>

/* Each test program has its own, made by setup(). */
static char tmpdir[] = "/tmp/loft-test-state-XXXXXX";

/* A fresh folder state directory per test: TMP/NAME/INBOX. */
static inline char *folder_dir(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s/INBOX", tmpdir, name);
	return buf;
}

static inline struct state *open_ok(const char *dir, struct state_header *hdr)
{
	struct state *st = NULL;
	const char *error = NULL;

	if (state_open(dir, &st, &error) < 0)
		fail_msg("state_open: %s", error);
	if (hdr && state_get_header(st, hdr, &error) < 0)
		fail_msg("state_get_header: %s", error);
	return st;
}

static inline struct state_rec mkrec(const char *key, const char *envelope)
{
	struct state_rec rec = {
		.flags = 5, .size = 1234, .internal_date = 1700000000,
		.key = key, .location = "new/x", .keywords = "$Label1 work",
		.envelope = envelope, .bodystructure = NULL,
	};
	return rec;
}

static inline uint32_t add_ok(struct state_txn *txn, const struct state_rec *rec)
{
	const char *error = NULL;
	uint32_t uid = 0;

	if (state_txn_add(txn, rec, &uid, &error) < 0)
		fail_msg("state_txn_add(%s): %s", rec->key, error);
	return uid;
}

static inline struct state_txn *begin_ok(struct state *st)
{
	struct state_txn *txn = NULL;
	const char *error = NULL;

	if (state_begin(st, &txn, &error) < 0)
		fail_msg("state_begin: %s", error);
	return txn;
}

static inline void commit_ok(struct state_txn **txn)
{
	const char *error = NULL;

	if (state_commit(txn, &error) < 0)
		fail_msg("state_commit: %s", error);
	assert_null(*txn);
}

static inline uint32_t lookup(struct state *st, const char *key)
{
	const char *error = NULL;
	uint32_t uid = 0;
	int ret = state_lookup_key(st, key, &uid, &error);

	assert_int_not_equal(ret, -1);
	return ret ? uid : 0;
}

static inline void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static inline void assert_rec_equal(const struct state_rec *a, const struct state_rec *b)
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

static inline char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static inline int collect_fn(const struct state_rec *rec, void *ctx)
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

static inline void collect_free(struct collect *c)
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


static inline int rm_fn(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

/* cmocka group setup/teardown: the program's temporary directory. */
static inline int setup(void **unused)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown(void **unused)
{
	return nftw(tmpdir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
