/* imap_parser: a table of scripts, each fed whole and one byte at a time,
 * rendered as text (commands with their argument trees, literal requests,
 * errors) and compared; sequence sets; FETCH sections; modified UTF-7. */
#include "imapd/imap_parser.h"
#include "lib/arena.h"
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void render_arg(struct sbuf *out, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		sbuf_addf(out, "a:%s", a->str);
		break;
	case IMAP_ARG_NIL:
		sbuf_addstr(out, "NIL");
		break;
	case IMAP_ARG_STRING:
		sbuf_addf(out, "q:%s", a->str);
		break;
	case IMAP_ARG_LITERAL:
		sbuf_addf(out, a->literal8 ? "l8:%zu:" : "l%zu:", a->len);
		for (size_t i = 0; i < a->len; i++)
			sbuf_addch(out, a->str[i] ? a->str[i] : '0');
		break;
	case IMAP_ARG_LIST:
		sbuf_addch(out, '(');
		for (unsigned i = 0; i < a->count; i++) {
			if (i > 0)
				sbuf_addch(out, ' ');
			render_arg(out, &a->list[i]);
		}
		sbuf_addch(out, ')');
		break;
	}
}

/* Feeds the script in chunks of chunk bytes (0: whole); literals larger
 * than 100 bytes are rejected, the others accepted.  Returns the
 * rendering: one "|"-ended entry per event. */
static char *run(const char *script, size_t len, size_t chunk,
		 const struct imap_parser_limits *lim)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct arena *arena = arena_new(0);
	struct sbuf out = SBUF_INIT;
	size_t off = 0;

	while (off < len) {
		size_t n = chunk && len - off > chunk ? chunk : len - off, used;
		int r = imap_parser_feed(p, script + off, n, &used);

		off += used;
		if (r == IMAP_PARSE_MORE)
			continue;
		if (r == IMAP_PARSE_ERROR) {
			sbuf_addf(&out, "BAD %s %s|", imap_parser_tag(p), imap_parser_error(p));
		} else if (r == IMAP_PARSE_LITERAL) {
			uint64_t size = imap_parser_literal_size(p);
			bool sync = imap_parser_literal_sync(p);

			sbuf_addf(&out, "LIT %s %s %llu%s|", imap_parser_tag(p), imap_parser_name(p),
				  (unsigned long long)size, sync ? "" : "+");
			if (size > 100)
				imap_parser_literal_reject(p);
			else
				imap_parser_literal_accept(p);
		} else {
			struct imap_command cmd;
			const char *err;

			if (imap_parser_command(p, arena, &cmd, &err) < 0) {
				sbuf_addf(&out, "BAD %s %s|", imap_parser_tag(p), err);
				continue;
			}
			sbuf_addf(&out, "%s %s", cmd.tag, cmd.name);
			for (unsigned i = 0; i < cmd.count; i++) {
				sbuf_addch(&out, ' ');
				render_arg(&out, &cmd.args[i]);
			}
			sbuf_addch(&out, '|');
			arena_clear(arena);
		}
	}
	imap_parser_free(&p);
	arena_free(&arena);
	return sbuf_detach(&out, NULL);
}

static const struct {
	const char *in, *want;
} cases[] = {
	{ "a1 NOOP\r\n", "a1 NOOP|" },
	{ "a1 noop\n", "a1 noop|" },
	{ "a2 LOGIN joe \"se\\\"cr\\\\et\"\r\n", "a2 LOGIN a:joe q:se\"cr\\et|" },
	{ "a3 SELECT INBOX\r\na4 NOOP\r\n", "a3 SELECT a:INBOX|a4 NOOP|" },
	{ "a5 LOGIN {3}\r\njoe {4}\r\npass\r\n",
	  "LIT a5 LOGIN 3|LIT a5 LOGIN 4|a5 LOGIN l3:joe l4:pass|" },
	{ "a6 LOGIN {3+}\r\njoe NIL\r\n", "LIT a6 LOGIN 3+|a6 LOGIN l3:joe NIL|" },
	{ "a8 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM \"To\")]<0.100>)\r\n",
	  "a8 FETCH a:1:* (a:FLAGS a:BODY.PEEK[HEADER.FIELDS (FROM \"To\")]<0.100>)|" },
	{ "a9 STORE 2 +FLAGS.SILENT (\\Deleted $Junk)\r\n",
	  "a9 STORE a:2 a:+FLAGS.SILENT (a:\\Deleted a:$Junk)|" },
	{ "b1 X ((a) (b (c)) ())\r\n", "b1 X ((a:a) (a:b (a:c)) ())|" },
	{ "b2 LIST \"\" *\r\n", "b2 LIST q: a:*|" },
	{ "b3 APPEND x ~{2}\r\nab\r\n", "LIT b3 APPEND 2|b3 APPEND a:x l8:2:ab|" },
	/* RFC 6855 4: APPEND's UTF8 data item, a literal8 in a list */
	{ "b31 APPEND x UTF8 (~{3}\r\na\nb)\r\n",
	  "LIT b31 APPEND 3|b31 APPEND a:x a:UTF8 (l8:3:a\nb)|" },
	{ "b32 APPEND x (\\Seen) UTF8 (~{2+}\r\nab) UTF8 (~{1+}\r\nc)\r\n",
	  "LIT b32 APPEND 2+|LIT b32 APPEND 1+|b32 APPEND a:x (a:\\Seen) a:UTF8 (l8:2:ab) a:UTF8 (l8:1:c)|" },
	{ "b33 CREATE \"Caf\xc3\xa9\"\r\n", "b33 CREATE q:Caf\xc3\xa9|" },
	{ "b4 NOOP \r\n", "b4 NOOP|" },
	/* errors, each followed by a good command: the parser resynchronises */
	{ "b5 X \"abc\r\nb6 NOOP\r\n", "BAD b5 Newline in a quoted string.|b6 NOOP|" },
	{ "b7 X (a\r\nb8 NOOP\r\n", "BAD b7 Missing ')' or ']'.|b8 NOOP|" },
	{ "b9 X a)\r\nc1 NOOP\r\n", "BAD b9 Unexpected ')'.|c1 NOOP|" },
	{ "c2 X \"a\\b\"\r\nc3 NOOP\r\n", "BAD c2 Bad escape in a quoted string.|c3 NOOP|" },
	{ "\r\nc6 NOOP\r\n", "BAD  Bad or missing tag.|c6 NOOP|" },
	{ "c7\r\n", "BAD c7 Missing command.|" },
	{ "c+ NOOP\r\n", "BAD * Bad or missing tag.|" },
	{ "c8 X a  b\r\n", "BAD c8 Unexpected character.|" },
	{ "c9 X {99999999999999999999}\r\nd1 NOOP\r\n",
	  "BAD c9 Literal size too large.|d1 NOOP|" },
	/* a rejected synchronising literal: the client sends nothing more */
	{ "d2 APPEND x {500}\r\nd3 NOOP\r\n", "LIT d2 APPEND 500|d3 NOOP|" },
	/* a rejected non-synchronising one: its data is skipped */
	{ "d4 APPEND x {101+}\r\n" "%0101d" "\r\nd5 NOOP\r\n", "LIT d4 APPEND 101+|d5 NOOP|" },
	{ "d6 X \"a\"b\r\n", "BAD d6 Missing space between arguments.|" },
	{ "d8 X \"a\" b\"\r\nd9 NOOP\r\n", "BAD d8 Newline in a quoted string.|d9 NOOP|" },
	{ "d7 X [a\r\n", "BAD d7 Missing ')' or ']'.|" },
};

/* "%0101d" above stands for 101 bytes of literal data. */
static char *expand(const char *in, size_t *len_r)
{
	struct sbuf sb = SBUF_INIT;
	const char *mark = strstr(in, "%0101d");

	if (mark == NULL) {
		sbuf_add(&sb, in, strlen(in));
	} else {
		sbuf_add(&sb, in, (size_t)(mark - in));
		for (int i = 0; i < 101; i++)
			sbuf_addch(&sb, i % 10 == 9 ? '\n' : 'x');
		sbuf_addstr(&sb, mark + 6);
	}
	return sbuf_detach(&sb, len_r);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *in = expand(cases[i].in, &len);

		for (size_t chunk = 0; chunk <= 1; chunk++) {
			char *got = run(in, len, chunk, NULL);

			if (strcmp(got, cases[i].want) != 0)
				print_error("case %zu chunk %zu: got  %s\n want %s\n", i, chunk, got,
					    cases[i].want);
			assert_string_equal(got, cases[i].want);
			free(got);
		}
		free(in);
	}
}

static void check_both(const char *in, size_t len, const char *want,
		       const struct imap_parser_limits *lim)
{
	for (size_t chunk = 0; chunk <= 1; chunk++) {
		char *got = run(in, len, chunk, lim);

		if (strcmp(got, want) != 0)
			print_error("chunk %zu: got %s\n want %s\n", chunk, got, want);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_nul_bytes(void **state)
{
	static const char lit[] = "a7 APPEND INBOX (\\Seen) {5}\r\na\0b\r\n\r\n";
	static const char bad[] = "c4 X a\0b\r\nc5 NOOP\r\n";

	(void)state;
	check_both(lit, sizeof(lit) - 1, "LIT a7 APPEND 5|a7 APPEND a:INBOX (a:\\Seen) l5:a0b\r\n|",
		   NULL);
	check_both(bad, sizeof(bad) - 1, "BAD c4 NUL byte outside a literal.|c5 NOOP|", NULL);
}

static void test_limits(void **state)
{
	struct imap_parser_limits lim = { .max_line = 40, .max_command = 200, .max_depth = 3,
					  .max_args = 5 };
	struct sbuf sb = SBUF_INIT;

	(void)state;
	/* a long line: one BAD, the rest of the line skipped, then in sync */
	sbuf_addstr(&sb, "e1 X ");
	for (int i = 0; i < 1000; i++)
		sbuf_addch(&sb, 'a');
	sbuf_addstr(&sb, "\r\ne2 NOOP\r\n");
	check_both(sb.buf, sb.len, "BAD e1 Line too long.|e2 NOOP|", &lim);
	sbuf_reset(&sb);
	/* deep nesting stops at the limit, not at the end of the input */
	sbuf_addstr(&sb, "e3 X ");
	for (int i = 0; i < 10000; i++)
		sbuf_addch(&sb, '(');
	sbuf_addstr(&sb, "\r\ne4 NOOP\r\n");
	lim.max_line = 0;
	check_both(sb.buf, sb.len, "BAD e3 Too deeply nested.|e4 NOOP|", &lim);
	check_both("e5 X (((a)))\r\n", 14, "e5 X (((a:a)))|", &lim);
	check_both("e6 X a b c d e f\r\ne7 NOOP\r\n", 27, "BAD e6 Too many arguments.|e7 NOOP|",
		   &lim);
	/* the whole command, literals included, is bounded too */
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "e8 X {95}\r\n");
	for (int i = 0; i < 95; i++)
		sbuf_addch(&sb, 'x');
	sbuf_addstr(&sb, " {95}\r\n");
	for (int i = 0; i < 95; i++)
		sbuf_addch(&sb, 'y');
	sbuf_addstr(&sb, "\r\ne9 NOOP\r\n");
	check_both(sb.buf, sb.len, "LIT e8 X 95|LIT e8 X 95|BAD e8 Command too long.|e9 NOOP|",
		   &lim);
	sbuf_release(&sb);
}

/* Dates of SEARCH and date-times of APPEND: exact values, and every
 * impossible moment refused (APPEND took "31-Feb-2020 25:61:61 +9999"). */
static void test_dates(void **state)
{
	(void)state;
	assert_int_equal(imap_date_parse("1-Feb-1994", false), 760060800);
	assert_int_equal(imap_date_parse("01-feb-1994", false), 760060800);
	assert_int_equal(imap_date_parse("29-Feb-2000", false), 951782400);
	assert_int_equal(imap_date_parse("17-Jul-1996 02:44:25 -0700", true), 837596665);
	assert_int_equal(imap_date_parse(" 7-Jul-1996 02:44:25 +0000", true), 836707465);
	assert_int_equal(imap_date_parse("07-Jul-1996 12:14:25 +0930", true), 836707465);
	const char *bad_dates[] = { "", "1-Feb", "1-Feb-94", "0-Feb-1994", "32-Jan-1994",
				    "29-Feb-1900", "30-Feb-2000", "31-Apr-2020", "1-Foo-1994",
				    "1-Feb-1994x", "123-Feb-1994", "1-Fe-1994", "1-Feb-1994 " };
	for (size_t i = 0; i < sizeof(bad_dates) / sizeof(*bad_dates); i++)
		assert_int_equal(imap_date_parse(bad_dates[i], false), -1);
	const char *bad_times[] = { "31-Feb-2020 10:00:00 +0000", "1-Feb-2020 24:00:00 +0000",
				    "1-Feb-2020 10:60:00 +0000", "1-Feb-2020 10:00:61 +0000",
				    "1-Feb-2020 10:00:00 +9999", "1-Feb-2020 10:00:00 0100",
				    "1-Feb-2020 10:00:00 +01", "1-Feb-2020 1:00:00 +0000",
				    "1-Feb-2020 10:00:00 +0100 ", "1-Feb-2020", "1-Feb-2020 10:00 +0000" };
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(*bad_times); i++)
		assert_int_equal(imap_date_parse(bad_times[i], true), -1);
}

static void test_seqset(void **state)
{
	struct arena *arena = arena_new(0);
	struct imap_seqset set;
	const char *err;
	struct sbuf sb = SBUF_INIT;

	(void)state;
	assert_int_equal(imap_seqset_parse("1,3:5,9:*,7", arena, &set, &err), 0);
	assert_true(set.has_star);
	imap_seqset_resolve(&set, 12);
	assert_int_equal(set.count, 4);	/* 1, 3:5, 7, 9:12 */
	assert_false(imap_seqset_contains(&set, 8));
	assert_true(imap_seqset_contains(&set, 1));
	assert_false(imap_seqset_contains(&set, 2));
	assert_true(imap_seqset_contains(&set, 4));
	assert_false(imap_seqset_contains(&set, 6));
	assert_true(imap_seqset_contains(&set, 12));
	assert_false(imap_seqset_contains(&set, 13));
	assert_int_equal(imap_seqset_parse("*:4", arena, &set, &err), 0);
	imap_seqset_resolve(&set, 2);	/* 2:4 */
	assert_true(imap_seqset_contains(&set, 3));
	assert_false(imap_seqset_contains(&set, 1));
	assert_int_equal(imap_seqset_parse("*", arena, &set, &err), 0);
	imap_seqset_resolve(&set, 0);	/* an empty mailbox */
	assert_int_equal(set.count, 0);
	assert_int_equal(imap_seqset_parse("$", arena, &set, &err), 0);
	assert_true(set.saved);
	assert_int_equal(imap_seqset_parse("4294967295", arena, &set, &err), 0);
	const char *bad[] = { "", "0", "1:0", "1,", ",1", "a", "1:2:3", "4294967296", "1 2",
			      "-1", "01" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(imap_seqset_parse(bad[i], arena, &set, &err), -1);
	/* a million ranges: refused before anything is allocated */
	for (int i = 0; i < 1000000; i++)
		sbuf_addstr(&sb, i ? ",1" : "1");
	arena_clear(arena);
	assert_int_equal(imap_seqset_parse(sb.buf, arena, &set, &err), -1);
	assert_string_equal(err, "Too many ranges in the sequence set.");
	assert_true(arena_used(arena) == 0);
	sbuf_release(&sb);
	arena_free(&arena);
}

static void test_section(void **state)
{
	struct arena *arena = arena_new(0);
	struct imap_section s;
	const char *err;

	(void)state;
	assert_int_equal(imap_section_parse("BODY[]", arena, &s, &err), 0);
	assert_string_equal(s.item, "BODY");
	assert_string_equal(s.spec, "");
	assert_false(s.partial);
	assert_int_equal(imap_section_parse("body.peek[1.2.header.fields (From \"To\")]<10.20>",
					    arena, &s, &err), 0);
	assert_string_equal(s.item, "BODY.PEEK");
	assert_string_equal(s.part, "1.2");
	assert_string_equal(s.text, "HEADER.FIELDS");
	assert_int_equal(s.n_fields, 2);
	assert_string_equal(s.fields[1], "To");
	assert_string_equal(s.spec, "1.2.HEADER.FIELDS (From To)");
	assert_true(s.partial);
	assert_int_equal(s.offset, 10);
	assert_int_equal(s.count, 20);
	assert_int_equal(imap_section_parse("BODY[3.MIME]", arena, &s, &err), 0);
	assert_string_equal(s.spec, "3.MIME");
	assert_int_equal(imap_section_parse("BODY[TEXT]<5>", arena, &s, &err), 0);
	assert_int_equal(s.offset, 5);
	assert_int_equal(imap_section_parse("BODY[HEADER.FIELDS.NOT (X-A)]", arena, &s, &err), 0);
	assert_string_equal(s.text, "HEADER.FIELDS.NOT");
	const char *bad[] = { "BODY[MIME]", "BODY[0]", "BODY[1.]", "BODY[FOO]", "BODY[HEADER.FIELDS]",
			      "BODY[HEADER.FIELDS ()]", "BODY[]<", "BODY[]<1.0>", "BODY[]x",
			      "BODY[HEADER.FIELDS (A:B)]", "BODY[1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_section_parse(bad[i], arena, &s, &err) != -1)
			print_error("accepted %s\n", bad[i]);
		assert_int_equal(imap_section_parse(bad[i], arena, &s, &err), -1);
	}
	arena_free(&arena);
}

static void test_utf7(void **state)
{
	static const struct {
		const char *utf8, *utf7;
	} pairs[] = {
		{ "INBOX", "INBOX" },
		{ "a&b", "a&-b" },
		{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },	/* RFC 3501 5.1.3 */
		{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
		{ "\xf0\x9f\x93\xa7 Mail", "&2D3c5w- Mail" },
		{ "", "" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct sbuf a = SBUF_INIT, b = SBUF_INIT;

		assert_int_equal(imap_utf7_encode(pairs[i].utf8, &a), 0);
		assert_string_equal(a.buf, pairs[i].utf7);
		assert_int_equal(imap_utf7_decode(pairs[i].utf7, &b), 0);
		assert_string_equal(b.buf, pairs[i].utf8);
		sbuf_release(&a);
		sbuf_release(&b);
	}
	const char *bad[] = { "&", "&U,BTFw", "&AGE-", "&2D0-", "&3CE-", "&U,BTFw-&ZeVnLIqe-",
			      "a\x80", "&-&", "&U,BTF-", "&!-" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sbuf b = SBUF_INIT;

		if (imap_utf7_decode(bad[i], &b) != -1)
			print_error("accepted %s\n", bad[i]);
		assert_int_equal(imap_utf7_decode(bad[i], &b), -1);
		sbuf_release(&b);
	}
	struct sbuf a = SBUF_INIT;
	assert_int_equal(imap_utf7_encode("bad\xff", &a), -1);
	sbuf_release(&a);
}

/* Mailbox names under UTF8=ACCEPT (RFC 6855 3). */
static void test_utf8_names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} names[] = {
		{ "INBOX", true },
		{ "Caf\xc3\xa9/\xe2\x98\x83", true },
		{ "a&AOk-", true },			/* no modified UTF-7 now: as it is */
		{ "\xf0\x9f\x93\xa7 Mail", true },
		{ "Caf\xe9", false },			/* Latin-1 */
		{ "\xc0\xaf", false },			/* overlong */
		{ "\xed\xa0\x80", false },		/* a surrogate */
		{ "tab\there", false },
		{ "del\x7f", false },
		{ "c1\xc2\x85", false },			/* U+0085 */
		{ "line\xe2\x80\xa8", false },		/* U+2028 */
		{ "para\xe2\x80\xa9", false },		/* U+2029 */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (imap_utf8_name_ok(names[i].name) != names[i].ok)
			print_error("name %zu: want %d\n", i, names[i].ok);
		assert_int_equal(imap_utf8_name_ok(names[i].name), names[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_section),
		cmocka_unit_test(test_utf7),
		cmocka_unit_test(test_utf8_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
