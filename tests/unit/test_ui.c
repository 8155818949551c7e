/* ui/: the pure parts — wrapping by cells, quote depth, URLs, the HTML
 * fallback, mailcap parsing, key names and menus, limit patterns.  (The
 * screens themselves are driven in tmux by tests/ui_*.t.) */
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/store.h"

#include "lib/sbuf.h"

#include <locale.h>
#include "ui/curses_lazy.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

static void check_wrap(const char *text, size_t width, const char *const *want, size_t n)
{
	struct ui_line *v;
	size_t got = ui_wrap(text, strlen(text), width, &v);

	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		char buf[256];
		memcpy(buf, text + v[i].off, v[i].len);
		buf[v[i].len] = '\0';
		assert_string_equal(buf, want[i]);
		assert_true(format_width(buf) <= width);
	}
	free(v);
}

static void test_wrap(void **state)
{
	check_wrap("short\nline", 10, (const char *const[]){ "short", "line" }, 2);
	/* At a blank when one is near the edge. */
	check_wrap("hello wonderful world", 12, (const char *const[]){ "hello ", "wonderful ", "world" }, 3);
	/* CJK: 2 cells each, never straddling the edge. */
	check_wrap("日本語のテキスト", 5, (const char *const[]){ "日本", "語の", "テキ", "スト" }, 4);
	/* Emoji with U+FE0F is 2 cells and stays whole. */
	check_wrap("a\xe2\x9d\xa4\xef\xb8\x8f" "bc", 3,
		   (const char *const[]){ "a\xe2\x9d\xa4\xef\xb8\x8f", "bc" }, 2);
	/* Combining marks take no cell. */
	check_wrap("e\xcc\x81" "e\xcc\x81" "e\xcc\x81", 3, (const char *const[]){ "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" }, 1);
	check_wrap("", 10, (const char *const[]){ "" }, 1);
	check_wrap("crlf\r\nnext", 10, (const char *const[]){ "crlf", "next" }, 2);
}

static void test_quote_url(void **state)
{
	size_t off, len;

	assert_int_equal(ui_quote_depth("> > x", 5), 2);
	assert_int_equal(ui_quote_depth(">>x", 3), 2);
	assert_int_equal(ui_quote_depth("x > y", 5), 0);
	assert_true(ui_find_url("see https://example.org/a?b=c.", 31, &off, &len));
	assert_int_equal(off, 4);
	assert_int_equal(len, 25);
	assert_true(ui_find_url("(www.example.org)", 17, &off, &len));
	assert_int_equal(off, 1);
	assert_int_equal(len, 15);
	assert_false(ui_find_url("nothing here", 12, &off, &len));
	assert_false(ui_find_url("xhttp://no", 10, &off, &len));
}

static void test_html(void **state)
{
	const char *h = "<html><style>p{}</style><p>Gr&uuml;&#223;e &amp; <b>bye</b></p>"
			"<ul><li>one<li>two</ul>";
	struct sbuf sb = SBUF_INIT;

	ui_html_strip(h, strlen(h), &sb);
	assert_non_null(strstr(sb.buf, "Gr&uuml;ße & bye"));	/* unknown entity kept */
	assert_non_null(strstr(sb.buf, "* one\n* two"));
	assert_null(strstr(sb.buf, "p{}"));
	sbuf_release(&sb);
}

static void test_mailcap(void **state)
{
	const char *mc = "# comment\n"
			 "text/html; w3m -dump -T text/html %s; copiousoutput\n"
			 "text/html; firefox %s\n"
			 "image/*; display %s; needsterminal\n"
			 "text; less '%s'; \\\n  copiousoutput\n"
			 "broken-line-without-command\n"
			 "application/x-semi; echo a\\;b %s\n";
	struct ui_mailcap_entry *v = NULL;
	size_t n = 0;

	ui_mailcap_parse(mc, strlen(mc), &v, &n);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].type, "text/html");
	assert_string_equal(v[0].command, "w3m -dump -T text/html %s");
	assert_true(v[0].copiousoutput);
	assert_false(v[1].copiousoutput);
	assert_true(v[2].needsterminal);
	assert_string_equal(v[3].type, "text/*");
	assert_true(v[3].copiousoutput);
	assert_string_equal(v[4].command, "echo a\\;b %s");
	ui_mailcap_free(v, n);
}

static void test_mailcap_filter(void **state)
{
	struct sbuf out = SBUF_INIT;

	assert_int_equal(ui_mailcap_filter("tr a-z A-Z < %s", "hello", 5, 2000, &out), 0);
	assert_string_equal(out.buf, "HELLO");
	sbuf_reset(&out);
	/* A hung viewer is killed at the time limit. */
	assert_int_equal(ui_mailcap_filter("sleep 5", "x", 1, 200, &out), -1);
	sbuf_release(&out);
}

static void test_keys(void **state)
{
	struct sbuf sb = SBUF_INIT;

	assert_int_equal(ui_key_parse("j"), 'j');
	assert_int_equal(ui_key_parse("<Down>"), UK(KEY_DOWN));
	assert_int_equal(ui_key_parse("\\Cx"), 24);
	assert_int_equal(ui_key_parse("^X"), 24);
	assert_int_equal(ui_key_parse("\\ev"), UI_META | 'v');
	assert_int_equal(ui_key_parse("<Esc>V"), UI_META | 'V');
	assert_int_equal(ui_key_parse("<F1>"), UK(KEY_F(1)));
	assert_int_equal(ui_key_parse("<enter>"), '\r');
	assert_int_equal(ui_key_parse("\\\\"), '\\');
	assert_int_equal(ui_key_parse("é"), 0xe9);
	assert_int_equal(ui_key_parse(""), -1);
	assert_int_equal(ui_key_parse("<nosuch>"), -1);
	assert_int_equal(ui_key_parse("\\e\\ev"), -1);
	ui_key_name(UI_META | 'v', &sb);
	assert_string_equal(sb.buf, "Esc-v");
	sbuf_release(&sb);
	assert_int_equal(ui_menu_parse("index,pager"), (1 << MENU_INDEX) | (1 << MENU_PAGER));
	assert_int_equal(ui_menu_parse("generic"), (1 << MENU_COUNT) - 1);
	assert_int_equal(ui_menu_parse("indx"), -1);
	assert_int_equal(ui_action_parse("next-entry"), A_NEXT);
	assert_int_equal(ui_action_parse("no-such-action"), A_NONE);
	assert_string_equal(ui_action_name(A_LIMIT), "limit");
}

static void test_pattern(void **state)
{
	struct ui_pattern_msg m = { .from = "Alice Example", .subject = "Lunch on Friday",
				    .to = "me@x.org", .flags = STORE_FLAGGED };
	const char *err;

	assert_true(ui_pattern_match("lunch", &m));
	assert_true(ui_pattern_match("alice", &m));
	assert_true(ui_pattern_match("~f alice ~s friday", &m));
	assert_false(ui_pattern_match("~f bob", &m));
	assert_true(ui_pattern_match("~F", &m));
	assert_true(ui_pattern_match("~N", &m));		/* unread */
	assert_false(ui_pattern_match("!~N", &m));
	assert_false(ui_pattern_match("~D", &m));
	assert_true(ui_pattern_match("!~D ~s 'on fri'", &m));
	assert_true(ui_pattern_match("~t me@", &m));
	assert_false(ui_pattern_match("~T", &m));
	m.flags = STORE_SEEN;
	assert_false(ui_pattern_match("~N", &m));
	assert_int_equal(ui_pattern_check("~q", &err), -1);
	assert_int_equal(ui_pattern_check("~f", &err), -1);
	assert_int_equal(ui_pattern_check("~", &err), -1);
	assert_int_equal(ui_pattern_check("~s x !~D", &err), 0);
}

/* The message text the ~h ~b ~B ~C tests read, and the calls made. */
static const char test_raw[] = "From: a@x.org\nX-Secret: hidden\n\nthe body says pineapple\n";
static int text_calls;

static const char *test_text(const struct ui_pattern_msg *msg, enum ui_pattern_text kind,
			     size_t *len_r)
{
	const char *body = strstr(test_raw, "\n\n") + 2;

	text_calls++;
	switch (kind) {
	case UI_PATTERN_HEADERS: *len_r = (size_t)(body - test_raw); return test_raw;
	case UI_PATTERN_BODY: *len_r = strlen(body); return body;
	case UI_PATTERN_WHOLE: *len_r = strlen(test_raw); return test_raw;
	default: *len_r = strlen("Carol <carol@x.org>"); return "Carol <carol@x.org>";
	}
}

/* A "thread" where the other message is from Zed. */
static bool test_thread(const struct ui_pattern_msg *msg, const char *pattern)
{
	struct ui_pattern_msg other = { .from = "Zed", .subject = "Re: lunch", .to = "" };

	return ui_pattern_match(pattern, msg) || ui_pattern_match(pattern, &other);
}

static void test_pattern_mutt(void **state)
{
	/* 2025-06-10 12:00 UTC; now is 2025-06-20 12:00 UTC. */
	struct ui_pattern_msg m = { .from = "Alice Example", .from_addr = "alice@example.org",
				    .subject = "Lunch on Friday", .to = "me@x.org",
				    .flags = STORE_SEEN, .date = 1749556800, .received = 1749600000,
				    .now = 1750420800, .text = test_text, .thread = test_thread };
	const char *err;

	setenv("TZ", "UTC", 1);
	tzset();
	assert_true(ui_pattern_match("~f alice@example", &m));
	assert_true(ui_pattern_match("~b pineapple", &m));
	assert_false(ui_pattern_match("~b X-Secret", &m));
	assert_true(ui_pattern_match("~h 'X-Secret: hid'", &m));
	assert_false(ui_pattern_match("~h pineapple", &m));
	assert_true(ui_pattern_match("~B pineapple", &m));
	assert_true(ui_pattern_match("~B secret", &m));
	assert_true(ui_pattern_match("~C carol", &m));
	assert_true(ui_pattern_match("~C me@", &m));
	assert_true(ui_pattern_match("~L alice", &m));
	assert_false(ui_pattern_match("~C alice", &m));
	/* Dates: a day, ranges, open ends, relative. */
	assert_true(ui_pattern_match("~d 10/06/2025", &m));
	assert_false(ui_pattern_match("~d 11/06/2025", &m));
	assert_true(ui_pattern_match("~d 01/06/25-10/06/25", &m));
	assert_false(ui_pattern_match("~d 01/06/2025-09/06/2025", &m));
	assert_true(ui_pattern_match("~d 09/06/2025-", &m));
	assert_true(ui_pattern_match("~d -10/06", &m));
	assert_true(ui_pattern_match("~d <2w", &m));
	assert_false(ui_pattern_match("~d <1w", &m));
	assert_true(ui_pattern_match("~d >1w", &m));
	assert_true(ui_pattern_match("~d <1m ~d >5d", &m));
	assert_true(ui_pattern_match("~r 11/06/2025", &m));	/* received the next day */
	assert_false(ui_pattern_match("~r 10/06/2025", &m));
	/* Or, groups, threads. */
	assert_true(ui_pattern_match("~f bob | ~s lunch", &m));
	assert_false(ui_pattern_match("~f bob | ~s dinner", &m));
	assert_true(ui_pattern_match("!(~f bob | ~s dinner)", &m));
	assert_true(ui_pattern_match("(~f bob ~s x) | (~f alice ~s friday)", &m));
	assert_true(ui_pattern_match("~(~f zed)", &m));
	assert_false(ui_pattern_match("~(~f bob)", &m));
	assert_true(ui_pattern_match("~(~f zed | ~f bob) ~s lunch", &m));
	/* Once an and-list has failed, no message text is read. */
	text_calls = 0;
	assert_false(ui_pattern_match("~f bob ~b pineapple", &m));
	assert_int_equal(text_calls, 0);
	/* Malformed. */
	assert_int_equal(ui_pattern_check("~d 32/01/2025", &err), -1);
	assert_int_equal(ui_pattern_check("~d <3q", &err), -1);
	assert_int_equal(ui_pattern_check("~d -", &err), -1);
	assert_int_equal(ui_pattern_check("(~f a", &err), -1);
	assert_int_equal(ui_pattern_check("~(~f a", &err), -1);
	assert_int_equal(ui_pattern_check("~b", &err), -1);
	assert_int_equal(ui_pattern_check("~(~f a) (~s b | ~d 01/01/2025-)", &err), 0);
}

static void test_sidebar_tags(void **state)
{
	struct sbuf sb = SBUF_INIT;

	(void)state;
	ui_sidebar_line("INBOX", 3, 120, 23, &sb);
	assert_string_equal(sb.buf, "INBOX             3/120");
	assert_int_equal(format_width(sb.buf), 23);
	sbuf_reset(&sb);
	/* A long name is cut with an ellipsis; the counts stay. */
	ui_sidebar_line("Lists/a-very-long-mailing-list", 0, 7, 23, &sb);
	assert_int_equal(format_width(sb.buf), 23);
	assert_non_null(strstr(sb.buf, "… 0/7"));
	sbuf_reset(&sb);
	/* CJK names keep the width exact. */
	ui_sidebar_line("仕事/会議の議事録と予定", 1, 2, 20, &sb);
	assert_int_equal(format_width(sb.buf), 20);
	sbuf_reset(&sb);
	/* Too narrow for counts: the name alone. */
	ui_sidebar_line("INBOX", 12345, 99999, 8, &sb);
	assert_string_equal(sb.buf, "INBOX   ");
	sbuf_release(&sb);

	assert_true(ui_format_wants_tags("%4C %s [%g]"));
	assert_true(ui_format_wants_tags("%s %-20.20Y"));
	assert_true(ui_format_wants_tags("%s%?g?+&-?"));
	assert_false(ui_format_wants_tags("%4C %Z %s (100%%g)"));
	assert_false(ui_format_wants_tags("%4C %Z %{%b %d} %-15.15L (%?l?%4l&%4c?) %s"));
	assert_false(ui_format_wants_tags(NULL));
	assert_true(ui_tag_hidden("unread", 6));
	assert_true(ui_tag_hidden("flagged xyz", 7));
	assert_false(ui_tag_hidden("inbox", 5));
	assert_false(ui_tag_hidden("unreadable", 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_quote_url),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_mailcap),
		cmocka_unit_test(test_mailcap_filter),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_pattern_mutt),
		cmocka_unit_test(test_sidebar_tags),
	};
	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
