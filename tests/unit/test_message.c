/* Unit tests for the message model (store/message*.c): RFC 2047 and 2231
 * decoding, charset aliases, format=flowed, ENVELOPE/BODYSTRUCTURE, limits,
 * hostile structure.  Table-driven where the input is data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/sbuf.h"
#include "store/message.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct message *parse(const char *s, const struct message_limits *lim)
{
	const char *error = NULL;
	struct message *m = message_parse(s, strlen(s), lim, &error);

	assert_non_null(m);
	return m;
}

static void test_rfc2047(void **state)
{
	static const struct {
		const char *subject, *want;
	} cases[] = {
		/* adjacent words: the white space between them goes */
		{ "=?UTF-8?B?SGVsbG8gd8O2?=\n =?UTF-8?B?cmxk?=", "Hello wörld" },
		{ "=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab" },
		{ "=?ISO-8859-1?Q?a?= b", "a b" },
		/* a UTF-8 character split across two words */
		{ "=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "café" },
		{ "=?iso-8859-1?q?Andr=E9_Pirard?=", "André Pirard" },
		{ "=?koi8-r?b?4czGwdfJ1A==?=", "Алфавит" },
		{ "=?ks_c_5601-1987?B?vsiz58fPvLy/5A==?=", "안녕하세요" },
		{ "=?x-bogus-charset?q?abc?=", "abc" },
		/* raw UTF-8 (RFC 6532) and raw latin-1 (fallback) */
		{ "S\xc3\xa4ying", "Säying" },
		{ "Fr\xf6sche", "Frösche" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = NULL;
		struct message *m;

		assert_true(asprintf(&s, "Subject: %s\n\nbody\n", cases[i].subject) > 0);
		m = parse(s, NULL);
		assert_string_equal(message_header(m, "subject"), cases[i].want);
		message_free(&m);
		assert_null(m);
		free(s);
	}
}

static void test_rfc2231(void **state)
{
	struct message *m = parse(
		"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: application/octet-stream;\n name*0*=utf-8''%C3%A9t;\n name*1*=%C3%A9;\n name*2=\".png\"\n\nx\n"
		"--b\nContent-Type: text/plain; name=\"=?utf-8?q?caf=C3=A9?=.txt\"\n"
		"Content-Disposition: attachment; filename*=iso-8859-1'fr'd%E9j%E0.txt\n\ny\n--b--\n", NULL);
	const struct message_part *p1 = message_find_part(m, "1"), *p2 = message_find_part(m, "2");

	(void)state;
	assert_non_null(p1);
	assert_non_null(p2);
	assert_string_equal(message_part_filename(p1), "été.png");
	assert_string_equal(message_part_param(p1, "name"), "été.png");
	assert_string_equal(message_part_filename(p2), "déjà.txt");
	assert_string_equal(message_part_param(p2, "name"), "café.txt");
	assert_string_equal(message_part_disposition(p2), "attachment");
	assert_true(message_part_is_attachment(p2));
	message_free(&m);
}

static void test_charsets(void **state)
{
	static const struct {
		const char *charset, *in, *want;
	} cases[] = {
		{ "ks_c_5601-1987", "\xbe\xc8\xb3\xe7", "안녕" },
		{ "x-sjis", "\x82\xa0\x87\x40", "あ①" },	/* ① is a CP932 extension */
		{ "Shift_JIS", "\x82\xa0", "あ" },
		{ "unknown-8bit", "caf\xe9 \x80", "café €" },
		{ "x-unknown", "na\xefve", "naïve" },
		{ "gb2312", "\xc4\xe3\xba\xc3", "你好" },
		{ "big5", "\xa7\x41\xa6\x6e", "你好" },
		{ "iso-2022-jp", "\x1b$B$\"\x1b(B", "あ" },
		{ "utf-7", "Hi +AKM-1", "Hi £1" },
		{ "us-ascii", "caf\xc3\xa9", "café" },
		{ "utf-8", "ok\xff", "ok\xef\xbf\xbd" },
		{ "no-such-charset", "caf\xe9", "café" },
		{ NULL, "plain", "plain" },
	};
	size_t i;

	(void)state;
	assert_string_equal(message_charset_canon("KS_C_5601-1987"), "CP949");
	assert_string_equal(message_charset_canon("x-sjis"), "CP932");
	assert_string_equal(message_charset_canon("gb2312"), "GB18030");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = SBUF_INIT;

		message_charset_to_utf8(cases[i].charset, cases[i].in, strlen(cases[i].in), &sb);
		assert_string_equal(sb.buf, cases[i].want);
		sbuf_release(&sb);
	}
}

static void test_flowed(void **state)
{
	static const struct {
		const char *in;
		int delsp;
		const char *want;
	} cases[] = {
		{ "a \nb\n", 0, "a b\n" },
		{ "a \nb\n", 1, "ab\n" },
		{ "con \ntin \nues\r\nnext\r\n", 1, "continues\r\nnext\r\n" },
		{ "> q \n> r\n>> deeper\n", 0, "> q r\n>> deeper\n" },
		{ " From stuffed\n", 0, "From stuffed\n" },
		{ "-- \nsig\n", 0, "-- \nsig\n" },
		{ "soft \n> quoted\n", 0, "soft \n> quoted\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = SBUF_INIT;

		message_flowed_reflow(cases[i].in, strlen(cases[i].in), cases[i].delsp, &sb);
		assert_string_equal(sb.buf, cases[i].want);
		sbuf_release(&sb);
	}
}

static void test_headers(void **state)
{
	struct message *m = parse(
		"From: \"Doe, John\" <john@example.com>\n"
		"To: Team: a@example.com, B <b@example.com>;, c@example.com\n"
		"Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
		"Message-ID: <id.1@example.com>\nIn-Reply-To: <p@example.com>\n"
		"References: <r1@x> <r2@x>\n <p@example.com>\n"
		"X-Folded: one\n two\n\nbody\n", NULL);
	const struct message_address *a;
	const char *const *refs;
	time_t t;
	int off;

	(void)state;
	assert_int_equal(message_addresses(m, "From", &a), 1);
	assert_string_equal(a[0].name, "Doe, John");
	assert_string_equal(a[0].addr, "john@example.com");
	assert_null(a[0].group);
	assert_int_equal(message_addresses(m, "To", &a), 3);
	assert_string_equal(a[1].name, "B");
	assert_string_equal(a[1].group, "Team");
	assert_null(a[2].group);
	assert_int_equal(message_date(m, &t, &off), 0);
	assert_int_equal(t, 1057049557);
	assert_int_equal(off, 7200);
	assert_string_equal(message_id(m), "id.1@example.com");
	assert_string_equal(message_in_reply_to(m), "p@example.com");
	assert_int_equal(message_references(m, &refs), 3);
	assert_string_equal(refs[2], "p@example.com");
	assert_string_equal(message_header_raw(m, "x-folded"), "one two");
	assert_null(message_header(m, "X-Absent"));
	message_free(&m);

	m = parse("Date: not a date\nSubject: x\n\n", NULL);
	assert_int_equal(message_date(m, &t, &off), -1);
	message_free(&m);
}

static void test_imap(void **state)
{
	struct sbuf sb = SBUF_INIT;
	struct message *m = parse(
		"From: A <a@example.com>\nTo: b@example.com\nSubject: hi \"x\" \\\\\n"
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@x>\n\nhello\n", NULL);

	(void)state;
	message_imap_envelope(m, &sb);
	assert_string_equal(sb.buf,
		"(\"Mon, 1 Jan 2024 00:00:00 +0000\" \"hi \\\"x\\\" \\\\\\\\\" "
		"((\"A\" NIL \"a\" \"example.com\")) ((\"A\" NIL \"a\" \"example.com\")) "
		"((\"A\" NIL \"a\" \"example.com\")) ((NIL NIL \"b\" \"example.com\")) NIL NIL NIL \"<1@x>\")");
	sbuf_reset(&sb);
	message_imap_bodystructure(m, 1, &sb);
	assert_string_equal(sb.buf, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL NIL NIL NIL)");
	sbuf_reset(&sb);
	message_imap_bodystructure(m, 0, &sb);
	assert_string_equal(sb.buf, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1)");
	message_free(&m);

	m = parse("Subject: caf\xc3\xa9\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		  "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\nthere\r\n"
		  "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
		  "Content-Disposition: attachment; filename=a.bin\r\nContent-Language: en, fr\r\n\r\nAAAA\r\n"
		  "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx\r\n--b--\r\n", NULL);
	sbuf_reset(&sb);
	message_imap_envelope(m, &sb);
	assert_string_equal(sb.buf, "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)");
	sbuf_reset(&sb);
	message_imap_bodystructure(m, 1, &sb);
	assert_string_equal(sb.buf,
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 9 1 NIL NIL NIL NIL)"
		"(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 4 NIL "
		"(\"attachment\" (\"filename\" \"a.bin\")) (\"en\" \"fr\") NIL)"
		"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 16 "
		"(NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) "
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL)"
		" \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)");
	sbuf_reset(&sb);
	message_imap_nstring(&sb, "a\r\nb");
	assert_string_equal(sb.buf, "{4}\r\na\r\nb");
	sbuf_release(&sb);
	message_free(&m);
}

/* BODY from the cached BODYSTRUCTURE equals BODY from a parse. */
static void check_body_of(const char *text, size_t len)
{
	const char *err;
	struct message *m = message_parse(text, len, NULL, &err);
	struct sbuf bs = SBUF_INIT, body = SBUF_INIT, got = SBUF_INIT;

	assert_non_null(m);
	message_imap_bodystructure(m, 1, &bs);
	message_imap_bodystructure(m, 0, &body);
	if (message_imap_body_of(bs.buf, bs.len, &got) < 0 || strcmp(got.buf, body.buf) != 0)
		print_error("BODYSTRUCTURE %s\nBODY     %s\ngot      %s\n", bs.buf, body.buf, got.buf);
	assert_string_equal(got.buf, body.buf);
	sbuf_release(&bs);
	sbuf_release(&body);
	sbuf_release(&got);
	message_free(&m);
}

static void test_body_of(void **state)
{
	static const char *const msgs[] = {
		"Subject: x\n\nhello\n",
		/* text, an attachment with 8-bit and ")" in its name, a
		 * message/rfc822 with a multipart inside, a language list */
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
		"--b\r\nContent-Type: application/pdf; name=\"a (1).pdf\"\r\n"
		"Content-Disposition: attachment; filename=\"f\xc3\xbcr \\\"x\\\").pdf\"\r\n"
		"Content-Language: en, fr\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
		"--b\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: {3}\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n"
		"--c\r\nContent-Type: text/plain\r\n\r\na\r\n--c\r\nContent-Type: text/html\r\n\r\n<b>\r\n--c--\r\n"
		"--b--\r\n",
		/* a multipart without children; a message/rfc822 that is empty */
		"Content-Type: multipart/mixed; boundary=z\n\n--z--\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n--b--\n",
		"Content-Type: message/global\n\nSubject: g\n\nbody\n",
		"Content-Type: image/png\nContent-ID: <i@x>\nContent-Description: a \"pic\"\n\nxx\n",
	};
	struct sbuf out = SBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		check_body_of(msgs[i], strlen(msgs[i]));
	/* not a BODYSTRUCTURE: -1, nothing appended */
	static const char *const bad[] = { "", "(", "(\"text\" \"plain\"", "x", "((\"a\" \"b\"))",
					   "(\"text\" {5}\r\nab)", "(\"a\" \"b\" 1 2 3 4 5) x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(message_imap_body_of(bad[i], strlen(bad[i]), &out), -1);
		assert_int_equal(out.len, 0);
	}
	sbuf_release(&out);
	/* The golden corpus too, when the shared tree is there. */
	const char *shared = getenv("SHARED");
	char dir[1024];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/corpus/golden", shared ? shared : "");
	if (shared == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[2048];
		FILE *fp;

		if (n < 4 || strcmp(de->d_name + n - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		struct sbuf text = SBUF_INIT;
		char buf[65536];
		size_t r;

		while ((r = fread(buf, 1, sizeof(buf), fp)) > 0)
			sbuf_add(&text, buf, r);
		fclose(fp);
		check_body_of(text.buf, text.len);
		sbuf_release(&text);
	}
	closedir(d);
}

static void test_boundary_quote(void **state)
{
	struct message *m = parse("Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
				  "--\"\nContent-Type: text/plain\n\nhello\n--\"--\n", NULL);
	const struct message_part *p = message_find_part(m, "1");
	size_t n;

	(void)state;
	assert_string_equal(message_part_boundary(message_root(m)), "\"");
	assert_non_null(p);
	assert_memory_equal(message_part_content(p, &n), "hello", 5);
	assert_int_equal(n, 5);
	message_free(&m);
}

/* A message nested `levels` multiparts deep. */
static char *nested(unsigned levels)
{
	struct sbuf sb = SBUF_INIT;
	unsigned i;

	for (i = 0; i < levels; i++)
		sbuf_addf(&sb, "Content-Type: multipart/mixed; boundary=b%u\n\n--b%u\n", i, i);
	sbuf_addstr(&sb, "Content-Type: text/plain\n\ndeep\n");
	for (i = levels; i-- > 0;)
		sbuf_addf(&sb, "--b%u--\n", i);
	return sbuf_detach(&sb, NULL);
}

static void test_depth_limit(void **state)
{
	char *s = nested(20000);
	struct message *m;
	const struct message_part *const *parts;
	size_t n, i;
	int found = 0;
	struct sbuf sb = SBUF_INIT;
	clock_t t0 = clock();

	(void)state;
	m = parse(s, NULL);
	n = message_parts(m, &parts);
	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		const char *const *d = message_part_defects(parts[i]);

		for (; *d; d++)
			found |= strcmp(*d, "depth-limit") == 0;
		assert_true(message_part_depth(parts[i]) < 64);
	}
	assert_true(found);
	message_imap_bodystructure(m, 1, &sb);
	assert_true(sb.len > 0);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 10.0);
	sbuf_release(&sb);
	message_free(&m);
	free(s);
}

static void test_part_limit(void **state)
{
	struct message_limits lim = MESSAGE_LIMITS_DEFAULT;
	struct sbuf sb = SBUF_INIT;
	struct message *m;
	const struct message_part *const *parts;
	int i;

	(void)state;
	lim.max_parts = 10;
	sbuf_addstr(&sb, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 50; i++)
		sbuf_addf(&sb, "--b\nContent-Type: text/plain\n\npart %d\n", i);
	sbuf_addstr(&sb, "--b--\n");
	m = parse(sb.buf, &lim);
	assert_true(message_parts(m, &parts) <= 10);
	assert_string_equal(message_part_defects(message_root(m))[0], "part-limit");
	assert_string_equal(message_part_type(message_root(m)), "application/octet-stream");
	message_free(&m);

	lim = (struct message_limits)MESSAGE_LIMITS_DEFAULT;
	lim.max_header_bytes = 100;
	sbuf_reset(&sb);
	for (i = 0; i < 50; i++)
		sbuf_addf(&sb, "X-H%d: value\n", i);
	sbuf_addstr(&sb, "\nbody\n");
	m = parse(sb.buf, &lim);
	assert_true(message_header_count(m) < 10);
	assert_string_equal(message_defects(m)[0], "header-limit");
	message_free(&m);
	sbuf_release(&sb);
}

static const char *first_defect(const struct message *m)
{
	const char *const *d = message_defects(m);

	return d && d[0] ? d[0] : "";
}

/* The caps are applied before GMime: fields past them are cut from their
 * header block only, bodies and message_raw() stay whole. */
static void test_header_caps(void **state)
{
	struct message_limits lim = MESSAGE_LIMITS_DEFAULT;
	struct sbuf sb = SBUF_INIT;
	const char *error, *raw, *c;
	struct message *m;
	size_t len;
	int i;

	(void)state;
	lim.max_fields = 3;
	sbuf_addstr(&sb, "Subject: s\nX-1: a\nX-2: b\nX-3: c\nX-4: d\n\nbody\n");
	m = message_parse_borrowed(sb.buf, sb.len, &lim, &error);
	assert_non_null(m);
	assert_int_equal(message_header_count(m), 3);
	assert_null(message_header(m, "X-3"));
	assert_string_equal(first_defect(m), "header-limit");
	c = message_part_content(message_root(m), &len);
	assert_int_equal(len, 5);
	assert_memory_equal(c, "body\n", 5);
	raw = message_raw(m, &len);
	assert_ptr_equal(raw, sb.buf);	/* borrowed, not copied */
	assert_int_equal(len, sb.len);
	message_free(&m);
	assert_string_equal(message_over_limits(sb.buf, sb.len, &lim), "header-limit");
	assert_null(message_over_limits(sb.buf, sb.len, NULL));

	/* A part's own header block: cut there, the tree and the next part kept. */
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
			 "Content-Type: text/html\n");
	for (i = 0; i < 50; i++)
		sbuf_addf(&sb, "X-%d: v\n", i);
	sbuf_addstr(&sb, "\n<p>one\n--b\nContent-Type: text/plain\n\ntwo\n--b--\n");
	m = parse(sb.buf, &lim);
	assert_string_equal(message_part_type(message_find_part(m, "1")), "text/html");
	assert_string_equal(message_part_type(message_find_part(m, "2")), "text/plain");
	c = message_part_content(message_find_part(m, "2"), &len);
	assert_memory_equal(c, "two", 3);
	assert_string_equal(first_defect(m), "header-limit");
	message_free(&m);

	/* The total over all blocks: the second part's fields go. */
	lim.max_total_fields = 3;
	m = parse("Content-Type: multipart/mixed; boundary=b\nX-A: 1\n\n--b\n"
		  "Content-Type: text/html\n\none\n--b\nContent-Type: text/html\n\ntwo\n--b--\n",
		  &lim);
	assert_string_equal(message_part_type(message_find_part(m, "1")), "text/html");
	assert_string_equal(message_part_type(message_find_part(m, "2")), "text/plain");
	message_free(&m);

	/* Header bytes: a folded field over the cap is left out whole. */
	lim = (struct message_limits)MESSAGE_LIMITS_DEFAULT;
	lim.max_header_bytes = 200;
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "Subject: kept\nX-Big: b\n");
	for (i = 0; i < 1000; i++)
		sbuf_addstr(&sb, " c\n");
	sbuf_addstr(&sb, "\nbody\n");
	m = parse(sb.buf, &lim);
	assert_string_equal(message_header(m, "Subject"), "kept");
	assert_null(message_header(m, "X-Big"));
	c = message_part_content(message_root(m), &len);
	assert_memory_equal(c, "body\n", 5);
	message_free(&m);

	/* Body lines that only look like fields after a non-boundary are not
	 * a header block ("--bX" is not "--b"): nothing is cut from them. */
	lim = (struct message_limits)MESSAGE_LIMITS_DEFAULT;
	lim.max_fields = 3;
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bX\n");
	for (i = 0; i < 10; i++)
		sbuf_addf(&sb, "K%d: v\n", i);
	sbuf_addstr(&sb, "--b--\n");
	m = parse(sb.buf, &lim);
	c = message_part_content(message_find_part(m, "1"), &len);
	assert_int_equal(len, strlen("--bX\n") + 10 * strlen("K0: v\n") - 1);
	assert_null(message_defects(m)[0]);
	message_free(&m);

	/* A digest's parts are messages by default: their fields are capped. */
	m = parse("Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
		  "Subject: in\nA: 1\nB: 2\nC: 3\nD: 4\n\ninner\n--d--\n", &lim);
	assert_int_equal(message_header_count(message_part_embedded(message_find_part(m, "1"))), 3);
	message_free(&m);
	sbuf_release(&sb);
}

/* Parts past max_parts and depth past max_depth end GMime's view: a
 * million parts or a million levels cost what the caps allow. */
static void test_structure_caps(void **state)
{
	struct message_limits lim = MESSAGE_LIMITS_DEFAULT;
	struct sbuf sb = SBUF_INIT;
	const struct message_part *const *parts;
	struct message *m;
	int i;

	(void)state;
	lim.max_depth = 8;
	for (i = 0; i < 1000; i++)
		sbuf_addf(&sb, "Content-Type: multipart/mixed; boundary=%d\n\n--%d\n", i, i);
	sbuf_addstr(&sb, "\nleaf\n");
	assert_string_equal(message_over_limits(sb.buf, sb.len, &lim), "depth-limit");
	m = parse(sb.buf, &lim);
	assert_true(message_parts(m, &parts) <= 9);
	message_free(&m);

	lim = (struct message_limits)MESSAGE_LIMITS_DEFAULT;
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 200000; i++)
		sbuf_addstr(&sb, "--b\n\nx\n");
	sbuf_addstr(&sb, "--b--\n");
	assert_string_equal(message_over_limits(sb.buf, sb.len, NULL), "part-limit");
	m = parse(sb.buf, NULL);
	assert_true(message_parts(m, &parts) <= 10000);
	assert_string_equal(first_defect(m), "part-limit");
	message_free(&m);
	sbuf_release(&sb);
}

static void test_defects(void **state)
{
	struct message *m = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
				  "Content-Transfer-Encoding: base64\n\nAAAAAA\"\n--b\n\nunclosed\n", NULL);
	const struct message_part *p1 = message_find_part(m, "1"), *p2 = message_find_part(m, "2");
	const char *const *d;
	size_t n;
	int bad = 0, unclosed = 0;

	(void)state;
	message_part_content(p1, &n);
	assert_int_equal(n, 4);		/* unpadded tail decoded */
	for (d = message_part_defects(p1); *d; d++)
		bad |= strcmp(*d, "invalid-base64-characters") == 0;
	for (d = message_part_defects(message_root(m)); *d; d++)
		unclosed |= strcmp(*d, "missing-close-boundary") == 0;
	assert_true(bad);
	assert_true(unclosed);
	assert_memory_equal(message_part_content(p2, &n), "unclosed", 8);
	assert_int_equal(n, 8);
	message_free(&m);
}

static int teardown(void **state)
{
	(void)state;
	message_deinit();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_flowed),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_imap),
		cmocka_unit_test(test_body_of),
		cmocka_unit_test(test_boundary_quote),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_part_limit),
		cmocka_unit_test(test_header_caps),
		cmocka_unit_test(test_structure_caps),
		cmocka_unit_test(test_defects),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
