/* client/envelope: ENVELOPE strings as the store writes them (round trip
 * through message_imap_envelope), literals, NIL, groups, garbage; RFC 2047
 * words; dates. */
#include "client/envelope.h"
#include "store/message.h"

#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static struct envelope *of_message(const char *text)
{
	const char *err;
	struct message *m = message_parse(text, strlen(text), NULL, &err);
	struct sbuf sb = SBUF_INIT;
	struct envelope *e;

	assert_non_null(m);
	message_imap_envelope(m, &sb);
	message_free(&m);
	e = envelope_parse(sb.buf, sb.len, &err);
	assert_non_null(e);
	sbuf_release(&sb);
	return e;
}

static void test_round_trip(void **state)
{
	struct envelope *e = of_message(
		"From: =?utf-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>\n"
		"To: Ann <ann@example.org>, bob@example.org\n"
		"Cc: c@example.org\n"
		"Subject: =?iso-8859-1?Q?Gr=FC=DFe?= aus \"M\\\"unchen\"\n"
		"Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
		"Message-ID: <id.1@example.org>\n"
		"In-Reply-To: <id.0@example.org>\n\nbody\n");

	assert_string_equal(e->from_name, "山田太郎");
	assert_string_equal(e->from_addr, "taro@example.jp");
	assert_string_equal(e->to_name, "Ann");
	assert_string_equal(e->to_addr, "ann@example.org");
	assert_int_equal(e->n_to, 2);
	assert_int_equal(e->n_cc, 1);
	assert_string_equal(e->subject, "Grüße aus \"M\\\"unchen\"");
	assert_string_equal(e->message_id, "<id.1@example.org>");
	assert_string_equal(e->in_reply_to, "<id.0@example.org>");
	assert_int_equal(e->date, 1057049557);
	envelope_free(&e);
	assert_null(e);
}

static void test_literal_nil_group(void **state)
{
	const char *s = "(NIL {5}\r\nh\xc3\xa9lo ((\"A\" NIL \"a\" \"x.org\")) NIL NIL "
			"((NIL NIL \"team\" NIL)(NIL NIL \"b\" \"y.org\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)";
	const char *err;
	struct envelope *e = envelope_parse(s, strlen(s), &err);

	assert_non_null(e);
	assert_string_equal(e->subject, "h\xc3\xa9lo");
	assert_int_equal(e->date, 0);
	assert_string_equal(e->date_raw, "");
	assert_string_equal(e->to_addr, "b@y.org");	/* group marker skipped */
	assert_int_equal(e->n_to, 1);
	assert_string_equal(e->message_id, "");
	envelope_free(&e);
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "(", "(NIL", "(\"unterminated", "({99}\r\nshort)", "(NIL NIL (( NIL)",
		"x", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	};
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Every prefix too: never reads past the length. */
		for (size_t n = 0; n <= strlen(bad[i]); n++)
			assert_null(envelope_parse(bad[i], n, &err));
	}
}

/* The thread key: five raw fields, NUL-terminated; garbage adds nothing. */
static void test_thread_key(void **state)
{
	const char *s = "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"=?utf-8?Q?a?= \\\"q\\\"\" "
			"((\"A \\\"B\\\"\" NIL \"a\" \"x.org\")) NIL NIL "
			"((NIL NIL \"g\" NIL)(NIL NIL \"t\" \"x.org\")(NIL NIL NIL NIL)) NIL NIL "
			"{7}\r\n<p@x.o> \"<id.1@x.org>\")";
	static const char want[] = "Tue, 1 Jul 2003 10:52:37 +0200\0<id.1@x.org>\0<p@x.o>\0\0"
				   "=?utf-8?Q?a?= \"q\"";
	struct sbuf out = SBUF_INIT;

	(void)state;
	assert_int_equal(envelope_thread_key(s, strlen(s), &out), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.buf, want, sizeof(want));
	sbuf_reset(&out);
	s = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
	assert_int_equal(envelope_thread_key(s, strlen(s), &out), 0);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.buf, "\0\0\0\0\0", 5);
	sbuf_reset(&out);
	s = "(\"d\" \"s\" NIL";
	assert_int_equal(envelope_thread_key(s, strlen(s), &out), -1);
	assert_int_equal(out.len, 0);
	/* A NUL byte (allowed by IMAP in no string) would shift the key's
	 * NUL-separated fields: the text is refused, quoted or literal. */
	static const char nul_q[] = "(\"d\" \"a\0b\" NIL NIL NIL NIL NIL NIL NIL NIL)";
	static const char nul_l[] = "(\"d\" {3}\r\na\0b NIL NIL NIL NIL NIL NIL NIL NIL)";
	const char *error = NULL;

	assert_int_equal(envelope_thread_key(nul_q, sizeof(nul_q) - 1, &out), -1);
	assert_int_equal(envelope_thread_key(nul_l, sizeof(nul_l) - 1, &out), -1);
	assert_null(envelope_parse(nul_q, sizeof(nul_q) - 1, &error));
	assert_non_null(error);
	/* A literal's size is read within the text, which need not end in
	 * a NUL. */
	assert_int_equal(envelope_thread_key("(\"d\" {12", 8, &out), -1);
	assert_int_equal(out.len, 0);
	sbuf_release(&out);
}

static void check_words(const char *in, const char *want)
{
	struct sbuf sb = SBUF_INIT;

	envelope_decode_words(in, strlen(in), &sb);
	assert_string_equal(sb.buf, want);
	sbuf_release(&sb);
}

static void test_words(void **state)
{
	check_words("=?utf-8?q?a_b?= =?utf-8?q?c?=", "a bc");	/* space between words dropped */
	check_words("x =?utf-8?q?a?= y", "x a y");
	check_words("=?bogus", "=?bogus");
	check_words("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check_words("caf\xe9", "café");				/* latin-1 fallback */
	check_words("folded\r\n line", "folded line");
	check_words("=?ISO-2022-JP?B?GyRCJEYkOSRIGyhC?=", "てすと");
}

static void test_dates(void **state)
{
	assert_int_equal(envelope_parse_date("Tue, 1 Jul 2003 10:52:37 +0200"), 1057049557);
	assert_int_equal(envelope_parse_date("1 Jul 2003 08:52 GMT"), 1057049520);
	assert_int_equal(envelope_parse_date("Tue, 01 Jul 03 04:52:37 EDT"), 1057049557);
	assert_int_equal(envelope_parse_date(" (comment) Tue, 1 Jul 2003 10:52:37 +0200 (CEST)"),
			 1057049557);
	assert_int_equal(envelope_parse_date("yesterday"), 0);
	assert_int_equal(envelope_parse_date("32 Jul 2003 10:00"), 0);
	assert_int_equal(envelope_parse_date(""), 0);
	/* A zone that is not +hhmm counts as unknown (UTC); a huge one
	 * overflowed (fuzz_imap_envelope, UBSan). */
	assert_int_equal(envelope_parse_date("1 Jul 2003 08:52 +99999999999999999999"),
			 1057049520);
	assert_int_equal(envelope_parse_date("1 Jul 2003 08:52 +2"), 1057049520);
	assert_int_equal(envelope_parse_date("1 Jul 2003 08:52 -0130"), 1057049520 + 5400);
	assert_int_equal(envelope_parse_date("1 Jul 2003 -1:52 GMT"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_literal_nil_group),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_thread_key),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_dates),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	message_deinit();
	return r;
}
