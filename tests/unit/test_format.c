/* format: cell widths (CJK, combining marks, emoji, U+FE0F), truncation
 * with an ellipsis, and index_format expansion with exact column widths. */
#include "client/format.h"

#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_width(void **state)
{
	static const struct {
		const char *s;
		size_t cells;
	} cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "日本語", 6 },
		{ "한국어", 6 },
		{ "ｆｕｌｌ", 8 },			/* fullwidth forms */
		{ "e\xcc\x81", 1 },			/* e + U+0301 */
		{ "\xcc\x81", 0 },			/* a lone combining mark */
		{ "👍", 2 },
		{ "❤", 1 },
		{ "❤\xef\xb8\x8f", 2 },			/* + U+FE0F: drawn wide */
		{ "👍\xef\xb8\x8f", 2 },			/* already wide */
		{ "a\tb", 3 },				/* control shown as '?' */
		{ "\xff", 1 },				/* invalid byte: U+FFFD */
		{ "a\xe2\x80\xae" "b", 3 },		/* bidi override: shown as '?' */
		{ "\xc2\x9b" "1m", 3 },			/* C1 CSI: '?' */
		{ "zero\xe2\x80\x8bwidth", 9 },		/* U+200B */
		{ "Ünïcödé", 7 },
		{ "日本a👍é", 8 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(format_width(cases[i].s), cases[i].cells);
		assert_int_equal(format_width_n(cases[i].s, strlen(cases[i].s)), cases[i].cells);
	}
	assert_int_equal(format_width(NULL), 0);
}

static void test_truncate(void **state)
{
	static const struct {
		const char *s;
		size_t max;
		bool ellipsis;
		const char *out;
		size_t cells;
	} cases[] = {
		{ "abcdef", 10, true, "abcdef", 6 },
		{ "abcdef", 6, true, "abcdef", 6 },
		{ "abcdef", 4, true, "abc…", 4 },
		{ "abcdef", 4, false, "abcd", 4 },
		{ "日本語テキスト", 5, true, "日本…", 5 },
		{ "日本語", 6, true, "日本語", 6 },
		{ "日本語", 4, true, "日…", 3 },	/* a wide char never straddles */
		{ "日本語", 3, false, "日", 2 },
		{ "éééé", 3, true, "éé…", 3 },	/* e + U+0301 kept together */
		{ "❤\xef\xb8\x8fx", 2, true, "…", 1 },
		{ "❤\xef\xb8\x8fx", 3, true, "❤\xef\xb8\x8fx", 3 },
		{ "a\x1b[1mb", 10, true, "a?[1mb", 6 },
		{ "x\xffy", 3, true, "x\xef\xbf\xbdy", 3 },
		/* bidi overrides and isolates neutralised, C1 too */
		{ "invoice\xe2\x80\xae" "fdp.exe", 20, true, "invoice?fdp.exe", 15 },
		{ "\xe2\x81\xa6" "x\xe2\x81\xa9\xc2\x9b", 10, true, "?x??", 4 },
		{ "abc", 0, true, "", 0 },
		{ "abc", 1, true, "…", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = SBUF_INIT;
		size_t c = format_truncate(cases[i].s, strlen(cases[i].s), cases[i].max,
					   cases[i].ellipsis, &sb);

		assert_string_equal(sb.buf, cases[i].out);
		assert_int_equal(c, cases[i].cells);
		assert_int_equal(format_width(sb.buf), c);
		sbuf_release(&sb);
	}
}

static void test_field(void **state)
{
	struct sbuf sb = SBUF_INIT;

	assert_int_equal(format_field("日本語", strlen("日本語"), 5, 5, false, &sb), 5);
	assert_string_equal(sb.buf, "日本…");
	sbuf_reset(&sb);
	assert_int_equal(format_field("日本語", strlen("日本語"), 4, 4, false, &sb), 4);
	assert_string_equal(sb.buf, "日… ");	/* padded back to 4 */
	sbuf_reset(&sb);
	assert_int_equal(format_field("ab", 2, 4, SIZE_MAX, true, &sb), 4);
	assert_string_equal(sb.buf, "  ab");
	sbuf_release(&sb);
}

static const struct format_msg base = {
	.number = 42,
	.flags = FORMAT_F_UNREAD | FORMAT_F_FLAGGED,
	.date = 1700000000,	/* 2023-11-14 22:13:20 UTC */
	.received = 1700003600,
	.from_name = "Ann Example",
	.from_addr = "ann@example.org",
	.to_name = "Bob",
	.to_addr = "bob@example.org",
	.subject = "Hello there",
	.size = 1234,
	.lines = 17,
	.tags = "inbox work",
};

static void expect(const struct format_msg *m, const char *fmt, const char *want)
{
	struct sbuf sb = SBUF_INIT;
	size_t cells = format_expand(fmt, m, NULL, &sb);

	assert_string_equal(sb.buf, want);
	assert_int_equal(cells, format_width(want));
	sbuf_release(&sb);
}

static void test_expand(void **state)
{
	struct format_msg m = base;

	setenv("TZ", "UTC", 1);
	expect(&m, "%C|%4C|%-4C|", "42|  42|42  |");
	expect(&m, "[%Z]", "[N! ]");
	expect(&m, "%c %l", "1.2K 17");
	expect(&m, "%{%Y-%m-%d %H:%M}", "2023-11-14 22:13");
	expect(&m, "%[%H]%(%H)", "2223");
	expect(&m, "%d", "23-11-14 22:13");
	expect(&m, "%F|%L|%n|%a", "Ann Example|Ann Example|Ann Example|ann@example.org");
	expect(&m, "%g/%Y", "inbox work/inbox work");
	expect(&m, "100%% %q %", "100% %q %");
	expect(&m, "(%?l?%4l&%4c?)", "(  17)");
	expect(&m, "%?g?tagged?", "tagged");
	expect(&m, "%-8.8s|", "Hello t…|");
	expect(&m, "%.3a", "an…");
	expect(&m, "%{%Y", "%{%Y");	/* unterminated: literal */

	struct format_options opt = { "%H:%M" };
	struct sbuf sb = SBUF_INIT;

	format_expand("%D", &m, &opt, &sb);
	assert_string_equal(sb.buf, "22:13");
	sbuf_release(&sb);

	m.lines = -1;
	m.size = 3 * 1024 * 1024;
	expect(&m, "(%?l?%4l&%4c?) %l", "(3.0M) ?");
	m.flags = FORMAT_F_DELETED | FORMAT_F_TAGGED;
	expect(&m, "[%Z]", "[D *]");
	m.flags = FORMAT_F_UNREAD | FORMAT_F_OLD;
	expect(&m, "[%Z]", "[O  ]");
	m.flags = FORMAT_F_REPLIED;
	expect(&m, "[%Z]", "[r  ]");
	m.flags = 0;
	m.tags = NULL;
	m.date = 0;
	expect(&m, "[%Z]%?g?x&y?[%d]", "[   ]y[]");
	m.from_me = true;
	expect(&m, "%F|%L|%n", "To Bob|To Bob|Ann Example");
	m.from_name = "";
	m.from_me = false;
	expect(&m, "%n", "ann@example.org");
	m.tree = "├─>";
	expect(&m, "%s", "├─>Hello there");
}

static void test_sizes(void **state)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
		{ 0, "0" }, { 999, "999" }, { 1000, "1.0K" }, { 1234, "1.2K" }, { 10189, "10K" },
		{ 1023948, "999K" }, { 1023949, "1.0M" }, { 3 * 1048576, "3.0M" },
		{ 50 * 1048576, "50M" }, { 5ULL << 30, "5.0G" }, { 1ULL << 50, "99999G" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[8];

		assert_string_equal(format_size(cases[i].n, buf), cases[i].s);
	}
}

/* The bar of issue 5: a CJK subject and an emoji sender keep the columns
 * aligned.  Every line of the default-like format is exactly as wide. */
static void test_columns_exact(void **state)
{
	static const char *const senders[] = {
		"Ann Example", "山田太郎", "😀 Smiley Sender 😀", "❤\xef\xb8\x8f Love", "Zoë Ångström",
		"ééééééééééééééééééé", "", "a\tb\x1b", "\xff\xfe broken", "長い名前の送信者さんです",
	};
	static const char *const subjects[] = {
		"Hi", "会議の議事録について（第二回）", "🎉🎉🎉 party 🎉🎉🎉", "Ünïcödé",
		"a very long subject line that certainly does not fit", "",
	};
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		for (size_t j = 0; j < sizeof(subjects) / sizeof(subjects[0]); j++) {
			struct format_msg m = base;
			struct sbuf sb = SBUF_INIT;

			m.from_name = senders[i];
			m.subject = subjects[j];
			size_t cells = format_expand("%4C %Z %-15.15L|%-20.20s|%6c|", &m, NULL, &sb);

			assert_int_equal(cells, 4 + 1 + 3 + 1 + 15 + 1 + 20 + 1 + 6 + 1);
			assert_int_equal(format_width(sb.buf), cells);
			sbuf_release(&sb);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_columns_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
