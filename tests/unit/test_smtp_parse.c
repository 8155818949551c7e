/* smtp_parse: command lines fed in any split, verbs, and a table of
 * MAIL/RCPT lines -- valid, invalid, and every relay trick classified. */
#include "localmta/smtp_parse.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Feeds data in chunks of chunk bytes; collects lines "text|flags\n". */
static void feed_lines(const char *data, size_t len, size_t chunk, char *out, size_t outsize)
{
	struct smtp_line l;
	size_t off = 0, o = 0;

	smtp_line_reset(&l);
	out[0] = '\0';
	while (off < len) {
		size_t n = chunk && len - off > chunk ? chunk : len - off, used;

		while (n > 0) {
			int r = smtp_line_feed(&l, data + off, n, &used);

			off += used;
			n -= used;
			if (r == 1)
				o += (size_t)snprintf(out + o, outsize - o, "%.20s|%u\n", l.buf, l.flags);
		}
	}
}

static void test_lines_any_split(void **state)
{
	static const char input[] = "EHLO a\r\nMAIL FROM:<x@y>\r\nbare\nnul\0x\r\ncr\rx\r\nNOOP\r\n";
	char whole[512], split[512];

	feed_lines(input, sizeof(input) - 1, 0, whole, sizeof(whole));
	assert_string_equal(whole, "EHLO a|0\nMAIL FROM:<x@y>|0\nbare|8\nnul|2\ncr\rx|4\nNOOP|0\n");
	for (size_t chunk = 1; chunk < 12; chunk++) {
		feed_lines(input, sizeof(input) - 1, chunk, split, sizeof(split));
		assert_string_equal(whole, split);
	}
}

static void test_line_limit(void **state)
{
	char buf[3000], out[256];

	/* 998 octets + CRLF = 1000: fine; one more is too long. */
	memset(buf, 'a', 998);
	memcpy(buf + 998, "\r\nNOOP\r\n", 8);
	feed_lines(buf, 1006, 7, out, sizeof(out));
	assert_string_equal(out, "aaaaaaaaaaaaaaaaaaaa|0\nNOOP|0\n");
	memset(buf, 'a', 999);
	memcpy(buf + 999, "\r\nNOOP\r\n", 8);
	feed_lines(buf, 1007, 0, out, sizeof(out));
	assert_string_equal(out, "|1\nNOOP|0\n");
	/* Far too long: still in step afterwards. */
	memset(buf, 'b', 2990);
	memcpy(buf + 2990, "\r\nQUIT\r\n", 8);
	feed_lines(buf, 2998, 100, out, sizeof(out));
	assert_string_equal(out, "|1\nQUIT|0\n");
	struct smtp_line l;
	size_t used;

	smtp_line_reset(&l);
	smtp_line_feed(&l, buf, 2998, &used);
	assert_string_equal(smtp_line_error(&l), "500 5.5.2 Line too long");
}

static void test_verbs(void **state)
{
	char line[64];
	const char *args;

	strcpy(line, "mail FROM:<a@b>  ");
	assert_int_equal(smtp_parse_verb(line, &args), SMTP_VERB_MAIL);
	assert_string_equal(args, "FROM:<a@b>");
	strcpy(line, "StartTLS");
	assert_int_equal(smtp_parse_verb(line, &args), SMTP_VERB_STARTTLS);
	assert_string_equal(args, "");
	strcpy(line, "MAILX");
	assert_int_equal(smtp_parse_verb(line, &args), SMTP_VERB_UNKNOWN);
	strcpy(line, "");
	assert_int_equal(smtp_parse_verb(line, &args), SMTP_VERB_UNKNOWN);
	assert_string_equal(smtp_verb_name(SMTP_VERB_QUIT), "QUIT");
}

struct path_case {
	const char *args;	/* after "MAIL " or "RCPT " */
	bool rcpt;
	int ok;			/* 0 or -1 */
	const char *addr_or_err;	/* addr when ok, reply prefix when not */
	unsigned flags;
};

static const struct path_case cases[] = {
	{ "FROM:<a@example.org>", false, 0, "a@example.org", 0 },
	{ "FROM:<>", false, 0, "", SMTP_PATH_NULL },
	{ "from: <a@example.org>", false, 0, "a@example.org", 0 },
	{ "FROM:<a.b+c@sub.example.org> SIZE=1000 BODY=8BITMIME", false, 0, "a.b+c@sub.example.org", 0 },
	{ "FROM:<a@b.org> BODY=7BIT RET=HDRS ENVID=abc+2Bd AUTH=<>", false, 0, "a@b.org", 0 },
	{ "FROM:<\"john doe\"@example.org>", false, 0, "\"john doe\"@example.org", SMTP_PATH_QUOTED },
	{ "FROM:<a@[192.0.2.1]>", false, 0, "a@[192.0.2.1]", SMTP_PATH_ADDR_LITERAL },
	{ "FROM:<a@[IPv6:2001:db8::1]>", false, 0, "a@[IPv6:2001:db8::1]", SMTP_PATH_ADDR_LITERAL },
	{ "FROM:<jörg@example.org> SMTPUTF8", false, 0, "jörg@example.org", SMTP_PATH_UTF8 },
	{ "FROM:<jörg@example.org>", false, -1, "501 5.1.7", 0 },
	{ "FROM:a@example.org", false, -1, "501 5.5.4", 0 },
	{ "FROM:<a@example.org", false, -1, "501 5.5.4", 0 },
	{ "FROM <a@example.org>", false, -1, "501 5.5.4", 0 },
	{ "FROM:<a@example.org> SIZE=abc", false, -1, "501 5.5.4", 0 },
	{ "FROM:<a@example.org> SIZE=1 SIZE=2", false, -1, "501 5.5.4 Duplicate", 0 },
	{ "FROM:<a@example.org> BODY=BINARYMIME", false, -1, "501 5.5.4", 0 },
	{ "FROM:<a@example.org> XFOO=1", false, -1, "555 5.5.4", 0 },
	{ "FROM:<a@example.org> NOTIFY=NEVER", false, -1, "555 5.5.4", 0 },
	{ "FROM:<a@example.org>x", false, -1, "501 5.5.4", 0 },
	{ "FROM:<a..b@example.org>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<.a@example.org>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<a@-example.org>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<a@example..org>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<a@[300.1.1.1]>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<a@[tag:general]>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<a b@example.org>", false, -1, "501 5.1.7", 0 },
	{ "FROM:<a@b@example.org>", false, -1, "501 5.1.7", 0 },
	{ "TO:<b@example.org>", true, 0, "b@example.org", 0 },
	{ "TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org", true, 0, "b@example.org", 0 },
	{ "TO:<b@example.org> NOTIFY=SOMETIMES", true, -1, "501 5.5.4", 0 },
	{ "TO:<b@example.org> SIZE=10", true, -1, "555 5.5.4", 0 },
	{ "TO:<>", true, -1, "501 5.1.3", 0 },
	{ "TO:<postmaster>", true, 0, "postmaster", SMTP_PATH_UNQUALIFIED },
	/* the relay tricks */
	{ "TO:<user%other.org@example.org>", true, 0, "user%other.org@example.org", SMTP_PATH_PERCENT },
	{ "TO:<other.org!user@example.org>", true, 0, "other.org!user@example.org", SMTP_PATH_BANG },
	{ "TO:<@example.org:user@other.org>", true, 0, "user@other.org", SMTP_PATH_ROUTE },
	{ "TO:<@a.org,@b.org:user@other.org>", true, 0, "user@other.org", SMTP_PATH_ROUTE },
	{ "TO:<\"user@other.org\"@example.org>", true, 0, "\"user@other.org\"@example.org",
	  SMTP_PATH_QUOTED | SMTP_PATH_QUOTED_AT },
	{ "TO:<\"user%other.org\"@example.org>", true, 0, "\"user%other.org\"@example.org",
	  SMTP_PATH_QUOTED | SMTP_PATH_QUOTED_AT },
	{ "TO:<user>", true, 0, "user", SMTP_PATH_UNQUALIFIED },
	{ "TO:<@example.org:>", true, -1, "501 5.1.3", 0 },
	{ "TO:<@:user@other.org>", true, -1, "501 5.1.3", 0 },
};

static void test_mail_rcpt_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct path_case *c = &cases[i];
		const struct smtp_path *p;
		struct smtp_mail_args m;
		struct smtp_rcpt_args r;
		const char *err = NULL;
		int got;

		if (c->rcpt) {
			got = smtp_parse_rcpt(c->args, false, &r, &err);
			p = &r.path;
		} else {
			got = smtp_parse_mail(c->args, &m, &err);
			p = &m.path;
		}
		if (got != c->ok)
			fail_msg("case %zu '%s': got %d (%s)", i, c->args, got, err ? err : "");
		if (got == 0) {
			if (strcmp(p->addr, c->addr_or_err) != 0 || p->flags != c->flags)
				fail_msg("case %zu '%s': addr '%s' flags %#x", i, c->args, p->addr, p->flags);
		} else if (strncmp(err, c->addr_or_err, strlen(c->addr_or_err)) != 0) {
			fail_msg("case %zu '%s': error '%s'", i, c->args, err);
		}
	}
}

static void test_size_and_body(void **state)
{
	struct smtp_mail_args m;
	const char *err;

	assert_int_equal(smtp_parse_mail("FROM:<a@b.org> SIZE=52428800 BODY=8bitmime SMTPUTF8", &m, &err), 0);
	assert_int_equal(m.size, 52428800);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_true(m.smtputf8);
	assert_int_equal(smtp_parse_mail("FROM:<a@b.org> SIZE=99999999999999999999", &m, &err), -1);
}

static void test_path_limits(void **state)
{
	char buf[400];
	struct smtp_path p;
	const char *err;

	/* 65-octet local part: too long */
	snprintf(buf, sizeof(buf), "<%s@example.org>",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(smtp_parse_path(buf, strlen(buf), false, false, &p, &err), -1);
	buf[0] = '<';
	memset(buf + 1, 'a', 300);
	strcpy(buf + 301, "@x.org>");
	assert_int_equal(smtp_parse_path(buf, strlen(buf), false, false, &p, &err), -1);
	assert_int_equal(smtp_parse_path("<a@b.c>", 7, false, false, &p, &err), 0);
	assert_string_equal(p.domain, "b.c");
	assert_int_equal(p.local_len, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_any_split),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_mail_rcpt_table),
		cmocka_unit_test(test_size_and_body),
		cmocka_unit_test(test_path_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
