/* Sieve engine: the lexer's tokens, the compiler's errors (exact
 * line:column), evaluation of scripts against small messages, and the
 * limits (nesting depth, script size, :matches on a 100 KB header). */
#include "localmta/sieve-private.h"
#include "lib/arena.h"
#include "lib/sbuf.h"
#include "store/message.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

/* ---- lexer ---- */

/* Tokens as "KIND(text)@L:C" joined by spaces, or "ERR L:C message". */
static char *lex_all(const char *in)
{
	struct arena *a = arena_new(0);
	struct sieve_lexer lx;
	struct sieve_token t;
	struct sbuf out = SBUF_INIT;
	static const char *const kinds[] = { "EOF", "ID", "TAG", "NUM", "STR", "P" };

	sieve_lexer_init(&lx, in, strlen(in), a);
	for (;;) {
		if (sieve_lex(&lx, &t) < 0) {
			sbuf_addf(&out, "%sERR %u:%u %s", out.len ? " " : "", lx.err_line,
				  lx.err_col, lx.error);
			break;
		}
		if (t.kind == SIEVE_TOK_EOF)
			break;
		if (out.len)
			sbuf_addch(&out, ' ');
		if (t.kind == SIEVE_TOK_NUMBER)
			sbuf_addf(&out, "NUM(%llu)@%u:%u", (unsigned long long)t.num, t.line, t.col);
		else
			sbuf_addf(&out, "%s(%s)@%u:%u", kinds[t.kind], t.text, t.line, t.col);
	}
	arena_free(&a);
	return sbuf_detach(&out, NULL);
}

static void test_lexer(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "if", "ID(if)@1:1" },
		{ "  _a1 :is", "ID(_a1)@1:3 TAG(is)@1:7" },
		{ "10 1K 2m 3G", "NUM(10)@1:1 NUM(1024)@1:4 NUM(2097152)@1:7 NUM(3221225472)@1:10" },
		{ "\"a\\\"b\\\\c\"", "STR(a\"b\\c)@1:1" },
		{ "\"\\a\\q\"", "STR(aq)@1:1" },		/* undefined escapes drop the \ */
		{ "\"two\nlines\" x", "STR(two\nlines)@1:1 ID(x)@2:8" },
		{ "[\"a\",\"b\"];", "P([)@1:1 STR(a)@1:2 P(,)@1:5 STR(b)@1:6 P(])@1:9 P(;)@1:10" },
		{ "{}(),", "P({)@1:1 P(})@1:2 P(()@1:3 P())@1:4 P(,)@1:5" },
		{ "# comment\nstop", "ID(stop)@2:1" },
		{ "/* a\n * b */ keep", "ID(keep)@2:9" },
		{ "text:\nline1\n..dot\n.\n;", "STR(line1\n.dot\n)@1:1 P(;)@5:1" },
		{ "text: # c\r\nx\r\n.\r\n", "STR(x\r\n)@1:1" },
		{ "TEXT:\n.\n", "STR()@1:1" },
		{ "\"é\" x", "STR(é)@1:1 ID(x)@1:5" },	/* columns count characters */
		{ "\"open", "ERR 1:1 unterminated string" },
		{ "\"a\\", "ERR 1:1 unterminated string" },
		{ "/* never closed", "ERR 1:1 unterminated comment" },
		{ "text:\nno end\n", "ERR 1:1 unterminated text: block (no line with a single '.')" },
		{ "text: x\n.\n", "ERR 1:7 text: must be followed by a line break" },
		{ "99999999999999999999", "ERR 1:1 number too large" },
		{ "17179869184G", "ERR 1:1 number too large" },
		{ "12ab", "ERR 1:3 bad character in number" },
		{ ": x", "ERR 1:2 ':' must be followed by a tag name" },
		{ "keep @", "ID(keep)@1:1 ERR 1:6 unexpected character" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = lex_all(cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("lex case %zu: got '%s' want '%s'", i, got, cases[i].want);
		free(got);
	}
}

static void test_lexer_nul(void **state)
{
	struct arena *a = arena_new(0);
	struct sieve_lexer lx;
	struct sieve_token t;

	(void)state;
	sieve_lexer_init(&lx, "keep\0", 5, a);
	assert_int_equal(sieve_lex(&lx, &t), 0);
	assert_int_equal(sieve_lex(&lx, &t), -1);
	assert_string_equal(lx.error, "NUL byte in script");
	arena_free(&a);
}

/* ---- compile errors ---- */

static void test_compile_errors(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "keep;", NULL },
		{ "if hedaer \"a\" \"b\" { keep; }", "t:1:4: unknown test 'hedaer' (did you mean 'header'?)" },
		{ "kepe;", "t:1:1: unknown command 'kepe' (did you mean 'keep'?)" },
		{ "frobnicate;", "t:1:1: unknown command 'frobnicate'" },
		{ "keep\ndiscard;", "t:1:5: missing ';' after 'keep'" },
		{ "\n\n  fileinto \"x\";", "t:3:3: require missing for fileinto (add: require \"fileinto\";)" },
		{ "require \"fileinto\";\nfileinto :create \"x\";",
		  "t:2:10: require missing for :create (add: require \"mailbox\";)" },
		{ "require \"nosuch\";", "t:1:9: unsupported extension 'nosuch'" },
		{ "keep; require \"fileinto\";", "t:1:7: require must come before any other command" },
		{ "if true { keep; ", "t:1:9: block not closed: missing '}'" },
		{ "}", "t:1:1: unexpected '}' (no block open)" },
		{ "else { keep; }", "t:1:1: 'else' without a preceding 'if'" },
		{ "if true keep;", "t:1:8: expected '{' to start a block, found identifier" },
		{ "if { keep; }", "t:1:3: if needs exactly one test" },
		{ "if allof true { keep; }", "t:1:14: allof needs a test list in parentheses" },
		{ "if anyof (true, ) { }", "t:1:17: expected a test, found punctuation" },
		{ "if anyof (true false) { }", "t:1:15: missing ')' or ',' in test list" },
		{ "if header :is :contains \"a\" \"b\" {}", "t:1:15: header: more than one match type" },
		{ "if header :over \"a\" \"b\" {}", "t:1:11: unknown tag ':over' for header" },
		{ "if header :comparator \"i;nope\" \"a\" \"b\" {}", "t:1:23: unknown comparator 'i;nope'" },
		{ "if header \"a\" {}", "t:1:14: header needs 2 arguments" },
		{ "if size 10 {}", "t:1:4: size needs :over or :under" },
		{ "if size :over \"x\" {}", "t:1:15: size expects a number" },
		{ "if address \"subject\" \"x\" {}",
		  "t:1:12: header 'subject' holds no addresses: not allowed in the address test" },
		{ "if header \"a b\" \"x\" {}", "t:1:11: invalid header name 'a b'" },
		{ "require \"envelope\"; if envelope \"cc\" \"x\" {}", "t:1:33: unknown envelope part 'cc'" },
		{ "redirect \"nobody\";", "t:1:10: invalid redirect address 'nobody': no '@domain'" },
		{ "redirect [\"a@b.c\"];", "t:1:10: this argument must be a string" },
		{ "keep \"x\";", "t:1:6: too many arguments for keep" },
		{ "require \"variables\"; set :lower :upper \"a\" \"b\";",
		  "t:1:33: set: :upper conflicts with :lower" },
		{ "require \"variables\"; set \"1a\" \"b\";", "t:1:22: invalid variable name '1a'" },
		{ "require \"imap4flags\"; setflag \"v\" \"\\\\Seen\";",
		  "t:1:31: require missing for flag variables (add: require \"variables\";)" },
		{ "stop true;", "t:1:5: missing ';' after 'stop'" },
		{ "if not (true) {}", "t:1:14: not needs exactly one test" },
		{ "if true {} elsif {}", "t:1:17: elsif needs exactly one test" },
		{ "if [\"a\" \"b\"]", "t:1:9: expected ',' or ']' in string list, found string" },
		{ "\"x\";", "t:1:1: expected a command, found string" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sieve_script *s = NULL;
		char *err = NULL;
		int ret = sieve_compile("t", cases[i].in, strlen(cases[i].in), &s, &err);

		if (cases[i].want == NULL) {
			if (ret != 0)
				fail_msg("case %zu: unexpected error %s", i, err);
		} else if (ret == 0 || strcmp(err, cases[i].want) != 0) {
			fail_msg("case %zu: got '%s' want '%s'", i, ret == 0 ? "(ok)" : err,
				 cases[i].want);
		}
		assert_true(ret == 0 ? s != NULL : s == NULL);
		free(err);
		sieve_script_free(&s);
	}
}

static void test_limits(void **state)
{
	struct sbuf sb = SBUF_INIT;
	struct sieve_script *s = NULL;
	char *err = NULL;

	(void)state;
	for (int i = 0; i < 40; i++)
		sbuf_addstr(&sb, "if true { ");
	for (int i = 0; i < 40; i++)
		sbuf_addstr(&sb, "} ");
	assert_int_equal(sieve_compile("t", sb.buf, sb.len, &s, &err), -1);
	assert_non_null(strstr(err, "nesting too deep"));
	free(err);
	sbuf_reset(&sb);
	for (int i = 0; i < 40; i++)
		sbuf_addstr(&sb, "not ");
	sbuf_addstr(&sb, "true");
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "if ");
	for (int i = 0; i < 40; i++)
		sbuf_addstr(&sb, "not ");
	sbuf_addstr(&sb, "true {}");
	assert_int_equal(sieve_compile("t", sb.buf, sb.len, &s, &err), -1);
	assert_non_null(strstr(err, "nesting too deep"));
	free(err);
	sbuf_reset(&sb);
	while (sb.len <= SIEVE_MAX_SCRIPT_SIZE)
		sbuf_addstr(&sb, "keep; ");
	assert_int_equal(sieve_compile("t", sb.buf, sb.len, &s, &err), -1);
	assert_string_equal(err, "t:1:1: script too large (over 1048576 bytes)");
	free(err);
	sbuf_release(&sb);
}

/* ---- evaluation ---- */

static const char msg_plain[] =
	"From: Alice <alice@Example.org>\n"
	"To: Bob <bob@example.net>, carol@example.com\n"
	"Cc: undisclosed-recipients:;\n"
	"To: second@example.net\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= Hello World\n"
	"List-Id: Foo <foo.lists.example.org>\n"
	"X-Empty:\n"
	"\n"
	"Body text, please unsubscribe me.\n";

/* Runs script on message text; returns the actions as
 * "keep[flags]; fileinto:F; redirect:A; discard", or "COMPILE: err",
 * "RUNTIME: err". */
static char *run(const char *script, const char *text, const char *from, const char *to)
{
	struct sieve_script *s = NULL;
	struct sieve_result *r = NULL;
	struct sbuf out = SBUF_INIT;
	const char *perr;
	char *err = NULL;
	struct message *m = message_parse(text, strlen(text), NULL, &perr);

	assert_non_null(m);
	if (sieve_compile("t", script, strlen(script), &s, &err) < 0) {
		sbuf_addf(&out, "COMPILE: %s", err);
	} else {
		struct sieve_input in = { m, strlen(text), from, to };

		if (sieve_execute(s, &in, &r, &err) < 0) {
			sbuf_addf(&out, "RUNTIME: %s", err);
		} else {
			for (size_t i = 0; i < r->n_actions; i++) {
				const struct sieve_action *a = &r->actions[i];

				if (i)
					sbuf_addstr(&out, "; ");
				if (a->type == SIEVE_KEEP)
					sbuf_addstr(&out, "keep");
				else if (a->type == SIEVE_FILEINTO)
					sbuf_addf(&out, "fileinto:%s%s", a->folder, a->create ? "+" : "");
				else if (a->type == SIEVE_REDIRECT)
					sbuf_addf(&out, "redirect:%s", a->address);
				else
					sbuf_addstr(&out, "discard");
				for (size_t k = 0; a->flags && a->flags[k]; k++)
					sbuf_addf(&out, "%c%s", k ? ' ' : '[', a->flags[k]);
				if (a->flags)
					sbuf_addch(&out, ']');
			}
		}
	}
	free(err);
	sieve_result_free(&r);
	sieve_script_free(&s);
	message_free(&m);
	return sbuf_detach(&out, NULL);
}

#define FI "require [\"fileinto\", \"envelope\", \"imap4flags\", \"variables\", \"body\", \"copy\", \"mailbox\"];\n"

static void test_eval(void **state)
{
	static const struct { const char *script, *want; } cases[] = {
		/* implicit keep, keep, discard, stop */
		{ "", "keep" },
		{ "keep;", "keep" },
		{ "discard;", "discard" },
		{ "discard; keep;", "keep" },
		{ FI "discard; fileinto \"A\";", "fileinto:A" },
		{ FI "fileinto \"A\"; stop; fileinto \"B\";", "fileinto:A" },
		{ FI "fileinto \"A\"; fileinto \"A\"; keep; fileinto \"inbox\";", "fileinto:A; keep" },
		{ FI "fileinto :copy \"A\";", "fileinto:A; keep" },
		{ FI "fileinto :create \"New\";", "fileinto:New+" },
		{ "redirect \"x@y.z\"; redirect \"X@y.z\";", "redirect:x@y.z" },
		{ FI "redirect :copy \"x@y.z\";", "redirect:x@y.z; keep" },
		{ "redirect \"a@b.c\"; redirect \"b@b.c\"; redirect \"c@b.c\"; redirect \"d@b.c\"; "
		  "redirect \"e@b.c\";", "RUNTIME: t:1:73: runtime error: too many redirects (more than 4)" },
		/* header with each match type and comparator; RFC 2047 decoded */
		{ FI "if header :is \"subject\" \"grüße hello world\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if header :is :comparator \"i;octet\" \"subject\" \"grüße hello world\" "
		  "{ fileinto \"Y\"; }", "keep" },
		{ FI "if header :contains \"Subject\" \"HELLO\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if header :contains :comparator \"i;octet\" \"Subject\" \"HELLO\" { fileinto \"Y\"; }", "keep" },
		{ FI "if header :matches \"Subject\" \"Gr??e *\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if header :matches \"Subject\" \"*world\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if header :matches \"Subject\" \"*worl\" { fileinto \"Y\"; }", "keep" },
		{ FI "if header :matches \"X-Empty\" \"\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if header :is \"to\" \"second@example.net\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if header :contains \"X-Nope\" \"\" { fileinto \"Y\"; }", "keep" },
		/* address parts; the second To header; an empty group */
		{ FI "if address :is \"from\" \"alice@example.org\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if address :localpart :is \"to\" \"carol\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if address :domain :is \"to\" \"example.com\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if address :all :is \"to\" \"second@example.net\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if address :all :contains \"cc\" \"undisclosed\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if address :domain :contains \"cc\" \"undisclosed\" { fileinto \"Y\"; }", "keep" },
		{ FI "if address :is :comparator \"i;octet\" \"from\" \"alice@example.org\" "
		  "{ fileinto \"Y\"; }", "keep" },
		/* envelope */
		{ FI "if envelope :is \"from\" \"s@x.org\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if envelope :domain :is \"to\" \"r.net\" { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if envelope :localpart :matches \"to\" \"me+*\" { fileinto \"${1}\"; }", "fileinto:tag" },
		/* exists, size, allof, anyof, not, true, false */
		{ FI "if exists [\"From\", \"List-Id\"] { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if exists [\"From\", \"Nope\"] { fileinto \"Y\"; }", "keep" },
		{ FI "if size :over 100 { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if size :under 1K { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if size :over 1K { fileinto \"Y\"; }", "keep" },
		{ FI "if allof (true, exists \"From\") { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if allof (true, false) { fileinto \"Y\"; }", "keep" },
		{ FI "if anyof (false, not true, true) { fileinto \"Y\"; }", "fileinto:Y" },
		{ FI "if anyof (false, false) { fileinto \"Y\"; }", "keep" },
		{ FI "if false { fileinto \"A\"; } elsif false { fileinto \"B\"; } else { fileinto \"C\"; }",
		  "fileinto:C" },
		{ FI "if false { fileinto \"A\"; } elsif true { fileinto \"B\"; } else { fileinto \"C\"; }",
		  "fileinto:B" },
		{ FI "if true { if true { if false {} else { fileinto \"Deep\"; stop; } } } fileinto \"No\";",
		  "fileinto:Deep" },
		/* imap4flags */
		{ FI "addflag \"\\\\Seen\";", "keep[\\Seen]" },
		{ FI "addflag [\"\\\\Seen\", \"$a \\\\seen\"]; removeflag \"$A\";", "keep[\\Seen]" },
		{ FI "setflag \"$a\"; fileinto \"X\"; setflag \"$b\";", "fileinto:X[$a]" },
		{ FI "setflag \"$a\"; fileinto :copy \"X\"; setflag \"$b\";", "fileinto:X[$a]; keep[$b]" },
		{ FI "addflag \"\\\\Seen\"; fileinto :flags \"\\\\Flagged\" \"X\";", "fileinto:X[\\Flagged]" },
		{ FI "keep :flags [\"bad(flag\", \"\\\\Bogus\", \"ok\"];", "keep[ok]" },
		{ FI "addflag \"$x\"; if hasflag :is \"$X\" { fileinto \"H\"; }", "fileinto:H[$x]" },
		{ FI "addflag \"v\" \"$x\"; if hasflag :is \"v\" \"$x\" { fileinto \"H\"; }", "fileinto:H" },
		{ FI "if hasflag :contains \"x\" { fileinto \"H\"; }", "keep" },
		{ FI "fileinto :flags \"a\" \"X\"; fileinto :flags \"b\" \"X\";", "fileinto:X[a b]" },
		/* variables */
		{ FI "set \"f\" \"Box\"; fileinto \"${f}/${F}${none}\";", "fileinto:Box/Box" },
		{ FI "set :lower \"f\" \"ABC\"; set :upperfirst \"g\" \"${f}\"; fileinto \"${g}\";",
		  "fileinto:Abc" },
		{ FI "set :length \"n\" \"grüße\"; fileinto \"${n}\";", "fileinto:5" },
		{ FI "set :quotewildcard \"q\" \"a*?\\\\\"; fileinto \"${q}\";", "fileinto:a\\*\\?\\\\" },
		{ FI "if header :matches \"List-Id\" \"*<*.*>\" { fileinto \"${2}-${0}\"; }",
		  "fileinto:foo-Foo <foo.lists.example.org>" },
		{ FI "if string :is \"${x}\" \"\" { fileinto \"E\"; }", "fileinto:E" },
		{ FI "fileinto \"${1}x${}${a\";", "fileinto:x${}${a" },
		{ FI "set \"a\" \"bad\"; redirect \"${a}\";",
		  "RUNTIME: t:2:16: runtime error: invalid redirect address 'bad': no '@domain'" },
		{ FI "set \"e\" \"\"; fileinto \"${e}\";", "RUNTIME: t:2:13: runtime error: empty folder name" },
		/* text: strings and comments */
		{ FI "/* c */ if header :contains \"subject\" text: # x\nhello\n.\n { fileinto \"T\"; }", "keep" },
		{ FI "if header :contains \"subject\" text:\nhello\n.\n { fileinto \"T\"; }", "keep" },
		/* body */
		{ FI "if body :contains \"UNSUBSCRIBE\" { fileinto \"B\"; }", "fileinto:B" },
		{ FI "if body :raw :contains \"Body text\" { fileinto \"B\"; }", "fileinto:B" },
		{ FI "if body :content \"image\" :contains \"\" { fileinto \"B\"; }", "keep" },
		{ FI "if body :content \"text\" :contains \"please\" { fileinto \"B\"; }", "fileinto:B" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = run(cases[i].script, msg_plain, "s@x.org", "me+tag@r.net");

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("eval case %zu: got '%s' want '%s'", i, got, cases[i].want);
		free(got);
	}
}

static void test_too_many_actions(void **state)
{
	struct sbuf sb = SBUF_INIT;
	char *got;

	(void)state;
	sbuf_addstr(&sb, FI);
	for (int i = 0; i < 40; i++)
		sbuf_addf(&sb, "fileinto \"f%d\";\n", i);
	got = run(sb.buf, msg_plain, "", NULL);
	assert_string_equal(got, "RUNTIME: t:34:1: runtime error: too many actions (more than 32)");
	free(got);
	sbuf_release(&sb);
}

/* :matches stays polynomial: a pattern with many stars on a 100 KB header
 * that almost matches must not take exponential time. */
static void test_matches_pathological(void **state)
{
	struct sbuf msg = SBUF_INIT;
	struct timespec t0, t1;
	char *got;

	(void)state;
	sbuf_addstr(&msg, "Subject: ");
	for (int i = 0; i < 100000; i++)
		sbuf_addch(&msg, 'a');
	sbuf_addstr(&msg, "\n\nx\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	got = run(FI "if header :matches \"subject\" \"*a*a*a*a*a*a*a*a*b\" { fileinto \"Y\"; }",
		  msg.buf, "", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(got, "keep");
	free(got);
	assert_true((t1.tv_sec - t0.tv_sec) < 5);
	sbuf_release(&msg);

	/* and the plain matcher gets captures right */
	struct sieve_capture caps[SIEVE_MAX_MATCH_VARS];
	unsigned n;

	assert_int_equal(sieve_match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP, "a@b@c", 5, "*@*",
				     caps, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(caps[0].len, 1);
	assert_int_equal(caps[1].off, 2);
	assert_int_equal(caps[1].len, 3);
	assert_int_equal(sieve_match(SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, "a*b", 3, "a\\*b",
				     NULL, NULL), 1);
	assert_int_equal(sieve_match(SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, "axb", 3, "a\\*b",
				     NULL, NULL), 0);
	assert_int_equal(sieve_match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP, "é", 2, "?",
				     NULL, NULL), 1);
	assert_int_equal(sieve_match(SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, "é", 2, "??",
				     NULL, NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_lexer_nul),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_too_many_actions),
		cmocka_unit_test(test_matches_pathological),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	message_deinit();
	return ret;
}
