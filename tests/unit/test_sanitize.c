/* Unit tests for lib/sanitize: what reaches a terminal or a log line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/sanitize.h"
#include "lib/sbuf.h"

#include <stdlib.h>
#include <string.h>

struct sanitize_case {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *text;	/* default mode (a body) */
	const char *line;	/* SANITIZE_LINE */
	const char *cell;	/* SANITIZE_CELL */
};

static const struct sanitize_case cases[] = {
	{ "plain text", 0, "plain text", "plain text", "plain text" },
	{ "", 0, "", "", "" },
	/* OSC 52 (clipboard) and OSC 0 (title), ended by BEL and ST */
	{ "a\x1b]52;c;ZXZpbA==\x07z", 0, "a\\x1b]52;c;ZXZpbA==\\x07z",
	  "a\\x1b]52;c;ZXZpbA==\\x07z", "a?]52;c;ZXZpbA==?z" },
	{ "\x1b]0;owned\x1b\\", 0, "\\x1b]0;owned\\x1b\\", "\\x1b]0;owned\\x1b\\", "?]0;owned?\\" },
	/* C1 CSI: as UTF-8 (U+009B) and as a raw byte (not UTF-8) */
	{ "x\xc2\x9b" "2J", 0, "x\\u009b2J", "x\\u009b2J", "x?2J" },
	{ "x\x9b" "2J", 0, "x\\x9b2J", "x\\x9b2J", "x\xef\xbf\xbd" "2J" },
	/* tab kept; newline kept in a body, escaped in a line */
	{ "a\tb\nc", 0, "a\tb\nc", "a\tb\\nc", "a?b?c" },
	/* CR: kept only before a newline in a body */
	{ "a\r\nb\rc", 0, "a\r\nb\\rc", "a\\r\\nb\\rc", "a??b?c" },
	{ "end\r", 0, "end\\r", "end\\r", "end?" },
	/* other C0, DEL, NUL */
	{ "\x01\x08\x7f", 0, "\\x01\\x08\\x7f", "\\x01\\x08\\x7f", "???" },
	{ "a\0b", 3, "a\\x00b", "a\\x00b", "a?b" },
	/* bidi embeddings, overrides, isolates */
	{ "invoice\xe2\x80\xae" "fdp.exe", 0, "invoice\\u202efdp.exe", "invoice\\u202efdp.exe",
	  "invoice?fdp.exe" },
	{ "\xe2\x80\xaa\xe2\x80\xac\xe2\x81\xa6\xe2\x81\xa9", 0, "\\u202a\\u202c\\u2066\\u2069",
	  "\\u202a\\u202c\\u2066\\u2069", "????" },
	/* the neighbours of the controls are text: U+00A0, U+202F, U+2065 */
	{ "\xc2\xa0\xe2\x80\xaf\xe2\x81\xa5", 0, "\xc2\xa0\xe2\x80\xaf\xe2\x81\xa5",
	  "\xc2\xa0\xe2\x80\xaf\xe2\x81\xa5", "\xc2\xa0\xe2\x80\xaf\xe2\x81\xa5" },
	/* valid UTF-8 kept: accents, CJK, emoji */
	{ "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", 0, "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
	  "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80" },
	/* invalid UTF-8: latin-1, overlong, surrogate, truncated, > U+10FFFF */
	{ "caf\xe9", 0, "caf\\xe9", "caf\\xe9", "caf\xef\xbf\xbd" },
	{ "\xc0\xaf", 0, "\\xc0\\xaf", "\\xc0\\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\\xed\\xa0\\x80",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xe2\x82", 0, "\\xe2\\x82", "\\xe2\\x82", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80", "\\xf4\\x90\\x80\\x80",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	/* a real U+FFFD is text */
	{ "\xef\xbf\xbd", 0, "\xef\xbf\xbd", "\xef\xbf\xbd", "\xef\xbf\xbd" },
};

static void check(const struct sanitize_case *c, unsigned flags, const char *want)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_addstr(&sb, "<");		/* appends, never resets */
	sanitize_add(&sb, c->in, c->len ? c->len : strlen(c->in), flags);
	assert_int_equal(sb.len, strlen(sb.buf));
	assert_string_equal(sb.buf + 1, want);
	sbuf_release(&sb);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check(&cases[i], 0, cases[i].text);
		check(&cases[i], SANITIZE_LINE, cases[i].line);
		check(&cases[i], SANITIZE_CELL, cases[i].cell);
	}
}

static void test_is_control(void **state)
{
	static const uint32_t yes[] = { 0, '\t', '\n', 0x1b, 0x1f, 0x7f, 0x80, 0x9b, 0x9f,
					0x202a, 0x202e, 0x2066, 0x2069 };
	static const uint32_t no[] = { ' ', '~', 0xa0, 0xe9, 0x2029, 0x202f, 0x2065, 0x206a,
				       0xfffd, 0x1f600 };

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(sanitize_is_control(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(sanitize_is_control(no[i]));
}

static void test_dup(void **state)
{
	char *s;

	(void)state;
	s = sanitize_dup(NULL, 0);
	assert_string_equal(s, "");
	free(s);
	s = sanitize_dup("user\n\x1b[1mroot", SANITIZE_LINE);
	assert_string_equal(s, "user\\n\\x1b[1mroot");
	free(s);
}

/* The output never holds a byte a terminal acts on, whatever the input. */
static void test_every_byte(void **state)
{
	struct sbuf sb = SBUF_INIT;
	char in[3];

	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = '\x80';
			for (unsigned flags = 0; flags < 4; flags++) {
				sbuf_reset(&sb);
				sanitize_add(&sb, in, 3, flags);
				for (size_t i = 0; i < sb.len; i++) {
					unsigned char c = (unsigned char)sb.buf[i];

					assert_true(c >= 0x20 || c == '\t' ||
						    (c == '\n' && flags == 0) ||
						    (c == '\r' && flags == 0));
					assert_true(c != 0x7f);
					/* C1 as UTF-8 */
					assert_false(c == 0xc2 && i + 1 < sb.len &&
						     (unsigned char)sb.buf[i + 1] < 0xa0);
				}
			}
		}
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_is_control),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
