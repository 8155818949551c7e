/* store: a big first open lists and stats the files only (UIDs, flags,
 * sizes, internal dates at once); the headers are read later — a batch
 * ahead of the envelope a FETCH asks for, or in steps by the client — and
 * kept in the state, so a second open and a second process have them
 * without reading a file.  The threshold is lowered (store->eager_max) so
 * a few dozen files make a "big" folder. */
#include "store/store.h"
#include "store/store-private.h"

#include "lib/sbuf.h"
#include "tests/unit/store-test.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define N 300
#define EAGER_MAX 10
/* A file's mtime (the internal date) differs from its name's time, as
 * for a message appended with a date: the date must be the mtime. */
#define MTIME(i) (1600000000 + (i))

/* Message i: pairs (odd i answers i - 1), file names whose times run
 * backwards (UID order is the names' time order), sizes in the names. */
static void write_msgs(int n)
{
	char path[700], data[400];

	for (int i = 0; i < n; i++) {
		int len = i % 2 == 0 ?
			snprintf(data, sizeof(data), "From: User %d <u%d@example.org>\n"
				 "Subject: topic %d\nMessage-ID: <%d@example.org>\n\nbody\n",
				 i, i, i, i) :
			snprintf(data, sizeof(data), "From: User %d <u%d@example.org>\n"
				 "Subject: Re: topic %d\nMessage-ID: <%d@example.org>\n"
				 "In-Reply-To: <%d@example.org>\n\nbody\n", i, i, i - 1, i, i - 1);

		snprintf(path, sizeof(path), "%s/INBOX/cur/%d.M%dP1.host,S=%d:2,S", root,
			 1700000000 + n - i, i, len);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct timespec ts[2] = { { MTIME(i), 0 }, { MTIME(i), 0 } };

		assert_true(fd >= 0);
		assert_int_equal(write(fd, data, (size_t)len), len);
		assert_int_equal(futimens(fd, ts), 0);
		close(fd);
	}
}

/* The message index i of msg m (from its location's M field). */
static int msg_index(const struct store_msg *m)
{
	const char *p = strstr(m->location, ".M");

	assert_non_null(p);
	return atoi(p + 2);
}

static struct store *lazy_store(const char *name)
{
	struct store *store = open_store(name);

	store->eager_max = EAGER_MAX;
	write_msgs(N);
	return store;
}

/* A first open reads no header; sizes and dates are the files'. */
static void test_lazy_open(void **unused)
{
	struct store *store = lazy_store("lazy");
	struct store_folder *f = open_folder(store, "INBOX");
	struct stat st;
	char path[700];

	assert_int_equal(store_folder_count(f), N);
	assert_false(store_folder_filled(f));
	for (size_t k = 0; k < N; k++) {
		const struct store_msg *m = store_folder_msg(f, k);
		int i = msg_index(m);

		assert_int_equal(m->uid, k + 1);
		assert_int_equal(i, N - 1 - (int)k);
		assert_null(m->threadkey);
		assert_int_equal(m->internal_date, MTIME(i));
		snprintf(path, sizeof(path), "%s/INBOX/%s", root, m->location);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(m->size, (uint64_t)st.st_size);
		assert_int_equal(m->flags, STORE_SEEN);
	}
	store_folder_close(&f);
	store_close(&store);
}

/* An envelope asked for is read with a batch after it, kept in the state:
 * a second handle has those thread keys and envelopes, and the envelope
 * stays there when the file is gone (until a sync sees it gone). */
static void test_envelope_on_demand(void **unused)
{
	struct store *store = lazy_store("ondemand");
	struct store_folder *f = open_folder(store, "INBOX"), *g;
	const struct store_msg *m = store_folder_msg(f, 10);
	struct sbuf out = SBUF_INIT;
	char path[700], want[64];
	const char *err = NULL;
	int i = msg_index(m);

	assert_int_equal(store_folder_envelope(f, m->uid, &out, &err), 1);
	snprintf(want, sizeof(want), "\"<%d@example.org>\"", i);
	assert_non_null(strstr(out.buf, want));
	/* Read: it and the 255 after it, not the ones before or beyond. */
	assert_non_null(store_folder_msg(f, 10)->threadkey);
	assert_non_null(store_folder_msg(f, 10 + 255)->threadkey);
	assert_null(store_folder_msg(f, 10 + 256)->threadkey);
	assert_null(store_folder_msg(f, 9)->threadkey);
	assert_true(store_folder_msg(f, 10)->vsize > store_folder_msg(f, 10)->size);
	/* The next open reads them from the state. */
	g = open_folder(store, "INBOX");
	assert_non_null(store_folder_msg(g, 10)->threadkey);
	assert_string_equal(store_folder_msg(g, 10)->threadkey + 1,
			    store_folder_msg(f, 10)->threadkey + 1);
	assert_null(store_folder_msg(g, 9)->threadkey);
	store_folder_close(&g);
	/* Cached: the file is not read again. */
	snprintf(path, sizeof(path), "%s/INBOX/%s", root, m->location);
	assert_int_equal(unlink(path), 0);
	sbuf_reset(&out);
	assert_int_equal(store_folder_envelope(f, m->uid, &out, &err), 1);
	assert_non_null(strstr(out.buf, want));
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

/* Whether thread key k (five NUL-terminated fields) holds s. */
static bool key_has(const char *k, const char *s)
{
	for (int f = 0; f < 5; f++, k += strlen(k) + 1)
		if (strstr(k, s) != NULL)
			return true;
	return false;
}

/* STORE_OPEN_NO_THREADKEYS (an IMAP server's store): a snapshot marks
 * which messages have their headers read, with an empty key, and copies
 * no key; envelopes and the fill work as before, and the state keeps the
 * real keys for a store opened without the flag. */
static void test_no_threadkeys(void **unused)
{
	struct store *store = lazy_store("notkeys");
	struct store_folder *f, *g;
	struct sbuf out = SBUF_INIT;
	const char *err = NULL, *k;
	char want[64];

	store->flags |= STORE_OPEN_NO_THREADKEYS;
	f = open_folder(store, "INBOX");
	uint32_t uid = store_folder_msg(f, 10)->uid;
	int i = msg_index(store_folder_msg(f, 10));

	assert_int_equal(store_folder_envelope(f, uid, &out, &err), 1);
	snprintf(want, sizeof(want), "<%d@example.org>", i);
	assert_non_null(strstr(out.buf, want));
	k = store_folder_msg(f, 10)->threadkey;
	assert_non_null(k);
	assert_false(key_has(k, "@"));
	assert_null(store_folder_msg(f, 9)->threadkey);
	/* A new handle: the mark again, from the state. */
	g = open_folder(store, "INBOX");
	assert_non_null(store_folder_msg(g, 10)->threadkey);
	assert_false(key_has(store_folder_msg(g, 10)->threadkey, "@"));
	assert_null(store_folder_msg(g, 9)->threadkey);
	assert_false(store_folder_filled(g));
	store_folder_close(&g);
	/* Without the flag the key read is there. */
	store->flags &= ~(unsigned)STORE_OPEN_NO_THREADKEYS;
	g = open_folder(store, "INBOX");
	assert_true(key_has(store_folder_msg(g, 10)->threadkey, want));
	store_folder_close(&g);
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

/* Filled in steps: then every message has its thread key, the same as an
 * eager open would have computed, and flags changed meanwhile stay. */
static void test_fill_steps(void **unused)
{
	struct store *store = lazy_store("steps");
	struct store_folder *f = open_folder(store, "INBOX"), *g;
	const char *err = NULL;
	size_t left = N, steps = 0, last = N + 1;

	/* A flag change before the headers are read. */
	assert_int_equal(store_set_flags(f, 3, STORE_FLAGS_ADD, STORE_FLAGGED, "kw", &err), 0);
	while (left > 0) {
		assert_int_equal(store_folder_fill(f, 64, &left, &err), 0);
		assert_true(left < last);
		last = left;
		steps++;
	}
	assert_int_equal(steps, (N + 63) / 64);
	assert_true(store_folder_filled(f));
	g = open_folder(store, "INBOX");
	assert_true(store_folder_filled(g));
	for (size_t k = 0; k < N; k++) {
		const struct store_msg *a = store_folder_msg(f, k), *b = store_folder_msg(g, k);
		int i = msg_index(a);
		char id[64];
		const char *tk = b->threadkey;

		assert_int_equal(a->uid, b->uid);
		assert_int_equal(a->flags, b->flags);
		assert_int_equal(a->vsize, b->vsize);
		assert_true(a->vsize > 0);
		/* DATE is absent: "" then the Message-ID. */
		snprintf(id, sizeof(id), "<%d@example.org>", i);
		assert_string_equal(tk, "");
		assert_string_equal(tk + 1, id);
		assert_string_equal(a->threadkey + 1, id);
	}
	assert_true(store_folder_find(g, 3)->flags & STORE_FLAGGED);
	assert_string_equal(store_folder_find(g, 3)->keywords, "kw");
	store_folder_close(&g);
	store_folder_close(&f);
	store_close(&store);
}

/* A message expunged after the lazy open: the fill skips it, the records
 * left are filled, and an expunge drops what was read beside a record. */
static void test_fill_expunged(void **unused)
{
	struct store *store = lazy_store("expunged");
	struct store_folder *f = open_folder(store, "INBOX"), *g;
	struct sbuf out = SBUF_INIT;
	const char *err = NULL;
	size_t left = 0;
	uint32_t gone = 5;

	g = open_folder(store, "INBOX");
	assert_int_equal(store_expunge(g, &gone, 1, &err), 0);
	store_folder_close(&g);
	assert_int_equal(store_folder_fill(f, N, &left, &err), 0);
	assert_int_equal(left, 0);
	assert_int_equal(store_folder_envelope(f, gone, &out, &err), 0);
	assert_int_equal(store_folder_envelope(f, 6, &out, &err), 1);
	gone = 6;
	assert_int_equal(store_expunge(f, &gone, 1, &err), 0);
	assert_int_equal(store_folder_refresh(f, NULL, &err), 0);
	assert_int_equal(store_folder_count(f), N - 2);
	assert_null(store_folder_find(f, 6));
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

/* The first fill step moves the locations out of the scan (whose blocks
 * also hold every file's key) into a tight copy and frees the scan: the
 * same names, every file still found, renames after it still followed. */
static void test_fill_compacts_locations(void **unused)
{
	struct store *store = lazy_store("compact");
	struct store_folder *f = open_folder(store, "INBOX");
	char **before = calloc(N, sizeof(*before));
	const char *err = NULL;
	char path[700];
	struct stat st;
	size_t left = 0;
	uint32_t uid;

	assert_non_null(f->scan);
	assert_int_equal(store_folder_count(f), N);
	for (size_t k = 0; k < N; k++)
		before[k] = strdup(store_folder_msg(f, k)->location);
	assert_int_equal(store_folder_fill(f, 1, &left, &err), 0);
	assert_int_equal(left, N - 1);
	assert_null(f->scan);
	for (size_t k = 0; k < N; k++) {
		const struct store_msg *m = store_folder_msg(f, k);

		assert_string_equal(m->location, before[k]);
		snprintf(path, sizeof(path), "%s/INBOX/%s", root, m->location);
		assert_int_equal(stat(path, &st), 0);
	}
	/* A rename (a flag in the name) after the scan is gone. */
	uid = store_folder_msg(f, 7)->uid;
	assert_int_equal(store_set_flags(f, uid, STORE_FLAGS_ADD, STORE_FLAGGED, NULL, &err), 0);
	assert_string_not_equal(store_folder_find(f, uid)->location, before[7]);
	snprintf(path, sizeof(path), "%s/INBOX/%s", root, store_folder_find(f, uid)->location);
	assert_int_equal(stat(path, &st), 0);
	while (left > 0)
		assert_int_equal(store_folder_fill(f, 64, &left, &err), 0);
	assert_true(store_folder_filled(f));
	assert_int_equal(store_folder_refresh(f, NULL, &err), 0);
	assert_int_equal(store_folder_count(f), N);
	assert_true(store_folder_find(f, uid)->flags & STORE_FLAGGED);
	for (size_t k = 0; k < N; k++)
		free(before[k]);
	free(before);
	store_folder_close(&f);
	store_close(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_open),
		cmocka_unit_test(test_envelope_on_demand),
		cmocka_unit_test(test_fill_steps),
		cmocka_unit_test(test_fill_expunged),
		cmocka_unit_test(test_fill_compacts_locations),
		cmocka_unit_test(test_no_threadkeys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
