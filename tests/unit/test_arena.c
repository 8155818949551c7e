/* arena: alignment, big one-off blocks, clear and reuse. */
#include "lib/arena.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void test_alignment_and_strings(void **state)
{
	struct arena *a = arena_new(64);

	for (int i = 1; i < 200; i++) {
		void *p = arena_alloc(a, (size_t)i);
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		memset(p, 0xab, (size_t)i);
	}
	char *s = arena_strdup(a, "hello");
	char *t = arena_strndup(a, "abcdef", 3);
	char *u = arena_printf(a, "%s-%d", "n", 7);
	assert_string_equal(s, "hello");
	assert_string_equal(t, "abc");
	assert_string_equal(u, "n-7");
	arena_free(&a);
	assert_null(a);
	arena_free(&a);	/* NULL is fine */
}

static void test_big_and_clear(void **state)
{
	struct arena *a = arena_new(128);
	char *small = arena_alloc(a, 16);
	char *big = arena_alloc(a, 100000);	/* larger than a block */
	char *after = arena_alloc(a, 16);	/* still from the small block */

	memset(big, 1, 100000);
	memset(small, 2, 16);
	memset(after, 3, 16);
	assert_true(arena_used(a) >= 100032);
	arena_clear(a);
	assert_int_equal(arena_used(a), 0);
	int *z = arena_calloc(a, 10, sizeof(int));
	for (int i = 0; i < 10; i++)
		assert_int_equal(z[i], 0);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment_and_strings),
		cmocka_unit_test(test_big_and_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
