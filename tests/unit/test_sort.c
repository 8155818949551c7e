/* sort: each key, stability, reverse, threads, and 100,000 in < 50 ms. */
#include "client/sort.h"
#include "client/thread.h"

#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

static const struct sort_input msgs[] = {
	/* date, name, addr, subject, size */
	{ 30, "bob", "bob@x", "Re: beta", 300 },
	{ 10, "", "alice@x", "[l] Gamma", 100 },
	{ 20, "\"Carol\"", "c@x", "alpha", 300 },
	{ 10, "Álvaro", "a@x", "Fwd: Beta", 50 },
	{ -5, "ALICE", "z@x", "re: ALPHA", 7000 },
	{ 20, NULL, NULL, NULL, 100 },
};
#define N (sizeof(msgs) / sizeof(msgs[0]))

static void check(enum sort_key key, unsigned flags, const char *want)
{
	uint32_t order[N];
	char got[N + 1];

	sort_messages(msgs, N, key, flags, NULL, order);
	for (size_t i = 0; i < N; i++)
		got[i] = (char)('0' + order[i]);
	got[N] = '\0';
	assert_string_equal(got, want);
}

static void test_date(void **state)
{
	check(SORT_DATE, 0, "413250");
	/* Reverse flips the key, ties stay in input order. */
	check(SORT_DATE, SORT_REVERSE, "025134");
}

static void test_from(void **state)
{
	/* "" name falls back to the address; case folded; quotes skipped;
	 * non-ASCII after ASCII; no sender first. */
	check(SORT_FROM, 0, "541023");
	check(SORT_FROM, SORT_REVERSE, "320145");
}

static void test_subject(void **state)
{
	/* Re:/Fwd: stripped, case-insensitive; [l] kept without the flag. */
	check(SORT_SUBJECT, 0, "512403");
	check(SORT_SUBJECT, SORT_STRIP_TAGS, "524031");
}

static void test_size(void **state)
{
	check(SORT_SIZE, 0, "315024");
	check(SORT_SIZE, SORT_REVERSE, "402153");
}

static void test_parse(void **state)
{
	enum sort_key k;

	assert_int_equal(sort_key_parse("threads", &k), 0);
	assert_int_equal(k, SORT_THREADS);
	assert_int_equal(sort_key_parse("Subject", &k), 0);
	assert_int_equal(k, SORT_SUBJECT);
	assert_int_equal(sort_key_parse("bogus", &k), -1);
	assert_int_equal(sort_key_parse(NULL, &k), -1);
}

static void test_threads(void **state)
{
	const struct thread_input in[] = {
		{ "<a@x>", NULL, NULL, "a", 1 },
		{ "<b@x>", NULL, NULL, "b", 2 },
		{ "<a1@x>", NULL, "<a@x>", "a1", 3 },
		{ "<c@x>", NULL, NULL, "c", 4 },
		{ "<b1@x>", NULL, "<b@x>", "b1", 5 },
	};
	struct thread *t = thread_build(in, 5, NULL);
	uint32_t order[5];

	sort_messages(NULL, 5, SORT_THREADS, 0, t, order);
	assert_memory_equal(order, ((uint32_t[]){ 0, 2, 3, 1, 4 }), sizeof(order));
	sort_messages(NULL, 5, SORT_THREADS, SORT_REVERSE, t, order);
	assert_memory_equal(order, ((uint32_t[]){ 1, 4, 3, 0, 2 }), sizeof(order));
	thread_free(&t);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_timing_100k(void **state)
{
	const size_t n = 100000;
	struct sort_input *in = xcalloc(n, sizeof(*in));
	char **strs = xcalloc(2 * n, sizeof(*strs));
	uint32_t *order = xmalloc(n * sizeof(*order));
	unsigned seed = 7;
	static const char *const names[] = { "Alice Example", "bob", "Ça va", "dave@x",
					     "Eve Adams", "Mallory", "Zoë", "" };

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		in[i].date = seed % 100000000;
		in[i].size = seed % 65536;
		in[i].from_name = strs[2 * i] = xasprintf("%s %u", names[seed % 8], seed % 1000);
		in[i].from_addr = "someone@example.org";
		in[i].subject = strs[2 * i + 1] =
			xasprintf("%sA subject about topic %u", seed % 3 ? "Re: " : "", seed % 5000);
	}
	static const char *const what[] = { "date", "from", "subject", "size" };

	for (int k = 0; k < 4; k++) {
		double t0 = now_ms();

		sort_messages(in, n, (enum sort_key)k, 0, NULL, order);
		double t1 = now_ms();

		for (size_t i = 1; i < n && k == SORT_DATE; i++)
			assert_true(in[order[i - 1]].date <= in[order[i]].date);
		print_message("# 100,000 by %s: %.1f ms\n", what[k], t1 - t0);
	}
	/* Long shared prefixes go through the radix refinement: check the
	 * result against strcasecmp, both ways, ties in input order. */
	for (unsigned flags = 0; flags <= SORT_REVERSE; flags += SORT_REVERSE) {
		sort_messages(in, n, SORT_SUBJECT, flags, NULL, order);
		for (size_t i = 1; i < n; i++) {
			const char *a, *b;
			size_t la = thread_subject_normalize(in[order[i - 1]].subject, false, &a, NULL);
			size_t lb = thread_subject_normalize(in[order[i]].subject, false, &b, NULL);
			char *sa = xstrndup(a, la), *sb = xstrndup(b, lb);
			int r = strcasecmp(sa, sb);

			if (flags)
				r = -r;
			assert_true(r < 0 || (r == 0 && order[i - 1] < order[i]));
			free(sa);
			free(sb);
		}
	}
	for (size_t i = 0; i < 2 * n; i++)
		free(strs[i]);
	free(strs);
	free(order);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_timing_100k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
