/* mailrc tokenizer: every lexical rule and error, each input fed whole, one
 * byte at a time and split in two at every offset, with the same result. */
#include "lib/mailrc.h"
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Commands as text: "[LINE:COL]word [LINE:COL]word\n", control bytes as
 * C escapes; a word "FAIL" makes the callback fail. */
static int collect(struct mailrc_parser *p, const struct mailrc_cmd *cmd, void *ctx)
{
	struct sbuf *out = ctx;

	for (size_t i = 0; i < cmd->argc; i++) {
		const struct mailrc_word *w = &cmd->argv[i];

		if (strcmp(w->text, "FAIL") == 0)
			return mailrc_error(p, w->line, w->col, "boom");
		sbuf_addf(out, "%s[%lu:%lu]", i ? " " : "", w->line, w->col);
		for (size_t j = 0; j < w->len; j++) {
			if (w->text[j] == '\n')
				sbuf_addstr(out, "\\n");
			else if (w->text[j] == '\t')
				sbuf_addstr(out, "\\t");
			else if (w->text[j] == '\r')
				sbuf_addstr(out, "\\r");
			else
				sbuf_addch(out, w->text[j]);
		}
		if (w->eq != SIZE_MAX)
			sbuf_addf(out, "{=%zu@%lu:%lu}", w->eq, w->val_line, w->val_col);
	}
	sbuf_addch(out, '\n');
	return 0;
}

/* Feeds in chunks of chunk bytes (0: all) after an optional split point;
 * returns the commands, or "ERROR " + the error. */
static char *run(const char *in, size_t len, size_t chunk, size_t split)
{
	struct sbuf out = SBUF_INIT;
	struct mailrc_parser *p = mailrc_new("t", collect, &out);
	int ret = 0;

	if (split > 0) {
		ret = mailrc_feed(p, in, split);
		if (ret == 0)
			ret = mailrc_feed(p, in + split, len - split);
	} else if (chunk == 0) {
		ret = mailrc_feed(p, in, len);
	} else {
		for (size_t i = 0; ret == 0 && i < len; i += chunk)
			ret = mailrc_feed(p, in + i, len - i < chunk ? len - i : chunk);
	}
	if (ret == 0)
		ret = mailrc_finish(p);
	if (ret < 0) {
		sbuf_reset(&out);
		sbuf_addf(&out, "ERROR %s", mailrc_get_error(p));
		assert_int_equal(mailrc_feed(p, "x\n", 2), -1);	/* stays failed */
	}
	mailrc_free(&p);
	assert_null(p);
	return sbuf_detach(&out, NULL);
}

static void check_case(const char *in, size_t len, const char *want)
{
	char *whole = run(in, len, 0, 0);

	if (strcmp(whole, want) != 0)
		fail_msg("input '%s':\n got: %s\nwant: %s", in, whole, want);
	char *bytes = run(in, len, 1, 0);
	assert_string_equal(bytes, whole);
	free(bytes);
	for (size_t split = 1; split < len; split++) {
		char *two = run(in, len, 0, split);

		assert_string_equal(two, whole);
		free(two);
	}
	free(whole);
}

static const struct {
	const char *in, *want;
} cases[] = {
	{ "set a=1\n", "[1:1]set [1:5]a=1{=1@1:7}\n" },
	{ "set a=1", "[1:1]set [1:5]a=1{=1@1:7}\n" },
	{ "set a=1 b=2\n", "[1:1]set [1:5]a=1{=1@1:7} [1:9]b=2{=1@1:11}\n" },
	{ "  set\ta=1\r\n", "[1:3]set [1:7]a=1{=1@1:9}\n" },
	{ "# comment\nset a\n", "[2:1]set [2:5]a\n" },
	{ "set a=1 # trailing comment\n", "[1:1]set [1:5]a=1{=1@1:7}\n" },
	{ "set a=x#y\n", "[1:1]set [1:5]a=x#y{=1@1:7}\n" },
	{ "set a=\"x # y\"\n", "[1:1]set [1:5]a=x # y{=1@1:7}\n" },
	{ "set a=\"q\\\"b\\\\c\\nd\\te\\$\\~\\'\"\n", "[1:1]set [1:5]a=q\"b\\c\\nd\\te$~'{=1@1:7}\n" },
	{ "set a='x \\n $y \"z'\n", "[1:1]set [1:5]a=x \\n $y \"z{=1@1:7}\n" },
	{ "set a=\"\\q\"\n", "[1:1]set [1:5]a=\\q{=1@1:7}\n" },
	{ "set a=1 \\\n  b=2\n", "[1:1]set [1:5]a=1{=1@1:7} [2:3]b=2{=1@2:5}\n" },
	{ "set a=x\\\ny\n", "[1:1]set [1:5]a=xy{=1@1:7}\n" },
	{ "set a=\"x\\\ny\"\n", "[1:1]set [1:5]a=xy{=1@1:7}\n" },
	{ "set a=1 \\\r\nb=2\r\n", "[1:1]set [1:5]a=1{=1@1:7} [2:1]b=2{=1@2:3}\n" },
	{ "set a=\"x\\\r\ny\"\n", "[1:1]set [1:5]a=xy{=1@1:7}\n" },
	{ "set a=x\\ y\n", "[1:1]set [1:5]a=x y{=1@1:7}\n" },
	{ "set a=x\\\ry\n", "[1:1]set [1:5]a=x\\ry{=1@1:7}\n" },
	{ "alias x \"\" ''\n", "[1:1]alias [1:7]x [1:9] [1:12]\n" },
	{ "set a=\"x\"'y'z\n", "[1:1]set [1:5]a=xyz{=1@1:7}\n" },
	{ "set \"a=b\" 'c'=d\n", "[1:1]set [1:5]a=b [1:11]c=d{=1@1:15}\n" },
	{ "set =x\n", "[1:1]set [1:5]=x{=0@1:6}\n" },
	{ "\n\n  \n# only comments\n   # indented\n", "" },
	{ "", "" },
	{ "account x {\n  set a=1\n}\n", "[1:1]account [1:9]x [1:11]{\n[2:3]set [2:7]a=1{=1@2:9}\n[3:1]}\n" },
	{ "set a\n  unset b\n", "[1:1]set [1:5]a\n[2:3]unset [2:9]b\n" },
	{ "set a=1\\", "[1:1]set [1:5]a=1{=1@1:7}\n" },
	{ "\\\nset a\n", "[2:1]set [2:5]a\n" },
	{ "set a=\"\\", "ERROR t:1:7: unterminated double quote" },
	{ "set a=\"abc\nset b\n", "ERROR t:1:7: unterminated double quote" },
	{ "set a='abc", "ERROR t:1:7: unterminated single quote" },
	{ "set a='abc\n", "ERROR t:1:7: unterminated single quote" },
	{ "set a=1\nset b=\"x\\\ny", "ERROR t:2:7: unterminated double quote" },
	{ "set a=1\nFAIL\nset b=2\n", "ERROR t:2:1: boom" },
	{ "set a FAIL", "ERROR t:1:7: boom" },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(cases[i].in, strlen(cases[i].in), cases[i].want);
}

static void test_nul_byte(void **state)
{
	static const char in[] = "set a=1\nset b\0c\n";

	check_case(in, sizeof(in) - 1, "ERROR t:2:6: NUL byte in the file");
}

static void test_line_too_long(void **state)
{
	size_t n = MAILRC_LINE_MAX + 10;
	char *in = malloc(n + 1);
	char *got;

	/* One physical line: the error comes at the first byte past the limit. */
	memset(in, 'x', n);
	in[n] = '\0';
	got = run(in, n, 1, 0);
	assert_string_equal(got, "ERROR t:1:65537: line too long (more than 65536 bytes)");
	free(got);
	/* The same length in a comment: no memory used, still an error. */
	in[0] = '#';
	got = run(in, n, 4096, 0);
	assert_string_equal(got, "ERROR t:1:65537: line too long (more than 65536 bytes)");
	free(got);
	/* Two continued lines that are each short but long together. */
	memset(in, 'y', n);
	in[40000] = '\\';
	in[40001] = '\n';
	got = run(in, n, 0, 0);
	assert_string_equal(got, "ERROR t:2:25535: line too long (more than 65536 bytes)");
	free(got);
	/* Exactly the limit is fine. */
	memset(in, 'z', n);
	in[MAILRC_LINE_MAX] = '\n';
	got = run(in, MAILRC_LINE_MAX + 1, 0, 0);
	assert_int_equal(strlen(got), MAILRC_LINE_MAX + strlen("[1:1]\n"));
	free(got);
	free(in);
}

/* Expansion of each word of one command, joined by '|'. */
static int expand_all(struct mailrc_parser *p, const struct mailrc_cmd *cmd, void *ctx)
{
	struct sbuf *out = ctx;
	const char *error;

	for (size_t i = 0; i < cmd->argc; i++) {
		if (i > 0)
			sbuf_addch(out, '|');
		if (mailrc_expand(&cmd->argv[i], 0, true, true, out, &error) < 0)
			sbuf_addf(out, "<%s>", error);
	}
	return 0;
}

static void test_expand(void **state)
{
	static const char in[] =
		"~/a ~ ~b a~ '~'/a \"~/q\" \\~/r $FOO ${FOO}x $FOO_ $NOPE. '$FOO' \"$FOO\" "
		"\\$FOO \"\\$FOO\" a$ $1 ${FOO ${}\n";
	struct sbuf out = SBUF_INIT;
	struct mailrc_parser *p = mailrc_new("t", expand_all, &out);

	setenv("HOME", "/home/t", 1);
	setenv("FOO", "bar", 1);
	unsetenv("FOO_");
	unsetenv("NOPE");
	assert_int_equal(mailrc_feed(p, in, sizeof(in) - 1), 0);
	assert_int_equal(mailrc_finish(p), 0);
	assert_string_equal(out.buf,
			    "/home/t/a|/home/t|~b|a~|~/a|/home/t/q|~/r|bar|barx||.|$FOO|bar|"
			    "$FOO|$FOO|a$|$1|<unterminated ${>|<empty variable name in ${}>");
	mailrc_free(&p);
	sbuf_release(&out);
}

static void test_expand_from_offset(void **state)
{
	static const char in[] = "folder=~/x f=$FOO\n";
	struct sbuf out = SBUF_INIT;
	struct mailrc_parser *p = mailrc_new("t", expand_all, &out);

	setenv("HOME", "/h", 1);
	setenv("FOO", "v", 1);
	assert_int_equal(mailrc_feed(p, in, sizeof(in) - 1), 0);
	assert_int_equal(mailrc_finish(p), 0);
	/* From offset 0 the '~' is not at the start: only $ expands. */
	assert_string_equal(out.buf, "folder=~/x|f=v");
	mailrc_free(&p);
	sbuf_release(&out);
}

static void test_distance(void **state)
{
	static const struct {
		const char *a, *b;
		unsigned d;
	} cases_d[] = {
		{ "", "", 0 }, { "", "abc", 3 }, { "abc", "abc", 0 },
		{ "smarthots", "smarthost", 1 }, { "log_levle", "log_level", 1 },
		{ "kitten", "sitting", 3 }, { "ca", "abc", 3 }, { "folder", "fodler", 1 },
		{ "sett", "set", 1 }, { "unest", "unset", 1 },
	};
	char longer[100];

	for (size_t i = 0; i < sizeof(cases_d) / sizeof(cases_d[0]); i++) {
		assert_int_equal(mailrc_distance(cases_d[i].a, cases_d[i].b), cases_d[i].d);
		assert_int_equal(mailrc_distance(cases_d[i].b, cases_d[i].a), cases_d[i].d);
	}
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_true(mailrc_distance(longer, "a") > 64);
}

static void test_position_and_name(void **state)
{
	struct sbuf out = SBUF_INIT;
	struct mailrc_parser *p = mailrc_new("some/file", collect, &out);
	unsigned long line, col;

	assert_string_equal(mailrc_name(p), "some/file");
	assert_string_equal(mailrc_get_error(p), "");
	assert_int_equal(mailrc_feed(p, "set a\nset b", 11), 0);
	mailrc_position(p, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 6);
	assert_int_equal(mailrc_finish(p), 0);
	assert_string_equal(out.buf, "[1:1]set [1:5]a\n[2:1]set [2:5]b\n");
	mailrc_free(&p);
	mailrc_free(&p);	/* NULL-safe */
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_from_offset),
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_position_and_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
