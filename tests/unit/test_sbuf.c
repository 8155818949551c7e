/* sbuf: git strbuf invariants, the hard maximum, embedded NULs. */
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_empty_is_valid_string(void **state)
{
	struct sbuf sb = SBUF_INIT;

	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	sbuf_release(&sb);
	assert_string_equal(sb.buf, "");
	char *s = sbuf_detach(&sb, NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_append_and_format(void **state)
{
	struct sbuf sb = SBUF_INIT;

	assert_int_equal(sbuf_addstr(&sb, "hello"), 0);
	assert_int_equal(sbuf_addch(&sb, ' '), 0);
	assert_int_equal(sbuf_addf(&sb, "%d-%s", 42, "x"), 0);
	assert_string_equal(sb.buf, "hello 42-x");
	assert_int_equal(sb.len, 10);
	for (int i = 0; i < 1000; i++)
		sbuf_addstr(&sb, "0123456789");
	assert_int_equal(sb.len, 10010);
	assert_int_equal(sb.buf[sb.len], '\0');
	sbuf_setlen(&sb, 5);
	assert_string_equal(sb.buf, "hello");
	sbuf_reset(&sb);
	assert_string_equal(sb.buf, "");
	sbuf_release(&sb);
}

static void test_embedded_nul(void **state)
{
	struct sbuf sb = SBUF_INIT;
	size_t len;

	sbuf_add(&sb, "a\0b", 3);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.buf, "a\0b", 4);
	char *s = sbuf_detach(&sb, &len);
	assert_int_equal(len, 3);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	free(s);
}

static void test_hard_maximum(void **state)
{
	struct sbuf sb;

	sbuf_init(&sb, 8);
	assert_int_equal(sbuf_addstr(&sb, "12345678"), 0);
	/* one byte too many: refused, content unchanged */
	assert_int_equal(sbuf_addch(&sb, '9'), -1);
	assert_string_equal(sb.buf, "12345678");
	assert_int_equal(sbuf_addf(&sb, "%s", "x"), -1);
	assert_int_equal(sb.len, 8);
	sbuf_reset(&sb);
	assert_int_equal(sbuf_addstr(&sb, "123456789"), -1);
	assert_int_equal(sb.len, 0);
	sbuf_release(&sb);
	assert_int_equal(sb.max, 8);
}

static void test_rtrim(void **state)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_addstr(&sb, "line \t\r\n");
	sbuf_rtrim(&sb);
	assert_string_equal(sb.buf, "line");
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_valid_string),
		cmocka_unit_test(test_append_and_format),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_hard_maximum),
		cmocka_unit_test(test_rtrim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
