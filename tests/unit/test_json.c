/* Unit tests for lib/json: structure, commas, escaping, invalid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/json.h"
#include "lib/sbuf.h"

static void test_structure(void **state)
{
	struct sbuf sb = SBUF_INIT;
	struct json j;

	(void)state;
	json_init(&j, &sb, 0);
	json_object_begin(&j);
	json_key(&j, "a");
	json_int(&j, -42);
	json_key(&j, "b");
	json_array_begin(&j);
	json_null(&j);
	json_bool(&j, 1);
	json_bool(&j, 0);
	json_string(&j, NULL);
	json_object_begin(&j);
	json_object_end(&j);
	json_array_begin(&j);
	json_array_end(&j);
	json_array_end(&j);
	json_key(&j, "c");
	json_string(&j, "x");
	json_object_end(&j);
	assert_string_equal(sb.buf, "{\"a\":-42,\"b\":[null,true,false,null,{},[]],\"c\":\"x\"}");
	sbuf_release(&sb);
}

static void test_escaping(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "caf\xe9", 4, "\"caf\xef\xbf\xbd\"" },			/* latin-1 byte */
		{ "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },		/* overlong */
		{ "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },	/* surrogate */
		{ "\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },		/* truncated */
		{ "\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "/", 1, "\"/\"" },
		/* C1 and bidi controls escaped: JSON on a terminal stays inert */
		{ "\xc2\x9b" "2J \xc2\x85", 7, "\"\\u009b2J \\u0085\"" },
		{ "a\xe2\x80\xae" "b\xe2\x81\xa6", 8, "\"a\\u202eb\\u2066\"" },
		{ "\xc2\xa0\xe2\x80\xaf", 5, "\"\xc2\xa0\xe2\x80\xaf\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = SBUF_INIT;

		json_escape(&sb, cases[i].in, cases[i].len);
		assert_string_equal(sb.buf, cases[i].out);
		sbuf_release(&sb);
	}
}

static void test_pretty(void **state)
{
	struct sbuf sb = SBUF_INIT;
	struct json j;

	(void)state;
	json_init(&j, &sb, 1);
	json_object_begin(&j);
	json_key(&j, "k");
	json_array_begin(&j);
	json_int(&j, 1);
	json_int(&j, 2);
	json_array_end(&j);
	json_object_end(&j);
	assert_string_equal(sb.buf, "{\n \"k\": [\n  1,\n  2\n ]\n}");
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_pretty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
