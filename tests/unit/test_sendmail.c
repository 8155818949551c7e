/* sendmail front end: address lists, header completion, -t and Bcc, dots
 * with and without -i, options, the errors and their exit codes. */
#include "localmta/sendmail-private.h"
#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <cmocka.h>

static struct config *cfg;

static void test_addr_lists(void **state)
{
	static const struct {
		const char *in, *want;	/* want: addrs joined by '|', NULL = error */
	} cases[] = {
		{ "a@b.example", "a@b.example" },
		{ "user", "user" },
		{ "\"Doe, John\" <john@x.example>, jane@y.example (Jane)", "john@x.example|jane@y.example" },
		{ "Name <a@b>,,c@d", "a@b|c@d" },
		{ "team: a@b, c@d; , e@f", "a@b|c@d|e@f" },
		{ "undisclosed-recipients:;", "" },
		{ "<@route,@r2:x@y>", "x@y" },
		{ "\"odd local\"@x.example", "\"odd local\"@x.example" },
		{ "x@[192.0.2.1]", "x@[192.0.2.1]" },
		{ "a@b, a@b", "a@b" },
		{ "J\xc3\xb6rg <j@x.example>", "j@x.example" },
		{ "<a@b", NULL },
		{ "a@", NULL },
		{ "@b", NULL },
		{ "a@@b", NULL },
		{ "\"unterminated", NULL },
		{ "a@b (comment", NULL },
		{ "a@b\nBcc: evil@x", NULL },
		{ "a b@c", NULL },
		{ "<>", NULL },
		{ "team: a@b", NULL },
		{ "a@b.", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr_list l = { 0 };
		struct sbuf got = SBUF_INIT;
		const char *error = NULL;
		int r = addr_list_parse(cases[i].in, &l, &error);

		for (size_t k = 0; k < l.n; k++)
			sbuf_addf(&got, "%s%s", k ? "|" : "", l.addrs[k]);
		if (cases[i].want == NULL) {
			if (r != -1)
				fail_msg("case %zu '%s' accepted as '%s'", i, cases[i].in, got.buf);
			assert_non_null(error);
		} else {
			if (r != 0)
				fail_msg("case %zu '%s' refused: %s", i, cases[i].in, error);
			assert_string_equal(got.buf, cases[i].want);
		}
		sbuf_release(&got);
		addr_list_free(&l);
	}
}

/* Prepares input with the given command-line recipients. */
static int prepare(struct sendmail_msg *m, bool extract, const char *rcpt, const char *input)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->extract = extract;
	m->now = 1700000000;
	if (rcpt != NULL)
		addr_list_add(&m->rcpts, rcpt);
	return sendmail_prepare(m, input, strlen(input));
}

static void test_header_completion(void **state)
{
	struct sendmail_msg m;

	assert_int_equal(prepare(&m, false, "user", "Subject: hi\r\n\r\nbody\r\n"), EX_OK);
	assert_non_null(strstr(m.out.buf, "\nSubject: hi\n"));
	assert_non_null(strstr(m.out.buf, "\nFrom: \"Me, Myself\" <me@example.org>\n"));
	assert_non_null(strstr(m.out.buf, "\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"));
	char *mid = xasprintf("\nMessage-ID: <%s@mail.example.org>\n", m.id);
	assert_non_null(strstr(m.out.buf, mid));
	free(mid);
	assert_non_null(strstr(m.out.buf, "\n\nbody\n"));
	assert_null(strchr(m.out.buf, '\r'));
	assert_string_equal(m.env_sender, "me@example.org");
	assert_int_equal(strncmp(m.out.buf, "Received: by mail.example.org (loft sendmail", 44), 0);
	sendmail_msg_release(&m);

	/* Present fields are kept, not doubled. */
	assert_int_equal(prepare(&m, false, "user", "From: x@y\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
				 "Message-ID: <a@b>\n\nbody\n"), EX_OK);
	assert_null(strstr(m.out.buf, "me@example.org"));
	assert_null(strstr(m.out.buf, "\nDate: Tue"));
	assert_null(strstr(m.out.buf, "mail.example.org>"));
	sendmail_msg_release(&m);

	/* Only a body: headers are added before it (cron, echo | sendmail). */
	assert_int_equal(prepare(&m, false, "user", "hi there\n"), EX_OK);
	assert_non_null(strstr(m.out.buf, "\n\nhi there\n"));
	sendmail_msg_release(&m);
}

static void test_extract_and_bcc(void **state)
{
	struct sendmail_msg m;

	assert_int_equal(prepare(&m, true, "extra@x.example",
				 "To: a@x.example, \"B\" <b@x.example>\nCc: c@x.example\n"
				 "Bcc: hidden@x.example,\n secret@x.example\nSubject: s\n\nbody\nBcc: stays\n"), EX_OK);
	assert_int_equal(m.rcpts.n, 6);
	assert_string_equal(m.rcpts.addrs[0], "extra@x.example");
	assert_string_equal(m.rcpts.addrs[5], "secret@x.example");
	assert_null(strstr(m.out.buf, "hidden"));
	assert_null(strstr(m.out.buf, "secret"));
	assert_non_null(strstr(m.out.buf, "\nSubject: s\n"));
	assert_non_null(strstr(m.out.buf, "\nBcc: stays\n"));
	sendmail_msg_release(&m);

	/* Aliases from the mailrc are expanded. */
	assert_int_equal(prepare(&m, false, "team", "Subject: a\n\nb\n"), EX_OK);
	assert_int_equal(m.rcpts.n, 2);
	assert_true((strcmp(m.rcpts.addrs[0], "bob@x.example") == 0 &&
		     strcmp(m.rcpts.addrs[1], "alice@x.example") == 0) ||
		    (strcmp(m.rcpts.addrs[1], "bob@x.example") == 0 &&
		     strcmp(m.rcpts.addrs[0], "alice@x.example") == 0));
	sendmail_msg_release(&m);
}

static void test_errors(void **state)
{
	struct sendmail_msg m;
	char *longline = xmalloc(1200);

	assert_int_equal(prepare(&m, false, "u", ""), EX_DATAERR);
	sendmail_msg_release(&m);
	assert_int_equal(prepare(&m, true, NULL, "Subject: x\n\nbody\n"), EX_DATAERR);
	sendmail_msg_release(&m);
	assert_int_equal(prepare(&m, false, NULL, "Subject: x\n\nbody\n"), EX_DATAERR);
	sendmail_msg_release(&m);
	assert_int_equal(prepare(&m, true, NULL, "To: <broken\n\nbody\n"), EX_NOUSER);
	sendmail_msg_release(&m);
	assert_int_equal(prepare(&m, false, "u", "Subject: x\nnot a header\n\nbody\n"), EX_DATAERR);
	sendmail_msg_release(&m);
	memset(longline, 'a', 999);
	strcpy(longline + 999, "\n");
	assert_int_equal(prepare(&m, false, "u", longline), EX_DATAERR);
	sendmail_msg_release(&m);
	longline[998] = '\n';
	longline[999] = '\0';
	assert_int_equal(prepare(&m, false, "u", longline), EX_OK);
	sendmail_msg_release(&m);
	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	addr_list_add(&m.rcpts, "u");
	assert_int_equal(sendmail_prepare(&m, "Subject: x\n\nA\0B\n", 15), EX_DATAERR);
	sendmail_msg_release(&m);
	free(longline);
}

static void read_through_pipe(const char *input, bool ignore_dots, struct sbuf *out)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
	close(fds[1]);
	assert_int_equal(sendmail_read_input(fds[0], ignore_dots, 1 << 20, out), 0);
	close(fds[0]);
}

static void test_dots(void **state)
{
	static const char input[] = "Subject: x\n\nline\n..two\n.\nafter\n";
	struct sbuf sb = SBUF_INIT;

	read_through_pipe(input, false, &sb);
	assert_string_equal(sb.buf, "Subject: x\n\nline\n..two\n");
	sbuf_reset(&sb);
	read_through_pipe(input, true, &sb);
	assert_string_equal(sb.buf, input);
	sbuf_reset(&sb);
	read_through_pipe("a\r\n.\r\nb\n", false, &sb);
	assert_string_equal(sb.buf, "a\r\n");
	sbuf_reset(&sb);
	read_through_pipe("a\n.x\n. \n", false, &sb);
	assert_string_equal(sb.buf, "a\n.x\n. \n");
	sbuf_release(&sb);
}

static void test_options(void **state)
{
	char *ok[] = { "sendmail", "-oem", "-oee", "-odb", "-odi", "-L", "tag", "-Otimeout=5",
		       "-B", "8BITMIME", "-N", "never", "-R", "hdrs", "-V", "env", "-X", "/tmp/x",
		       "-ti", "-f", "me@x", "-Fme", "-odq", "--", "-dash@x", "b@y", NULL };
	char *bad[] = { "sendmail", "-Z", "a@b", NULL };
	char *missing[] = { "sendmail", "-f", NULL };
	char *bd[] = { "sendmail", "-bd", NULL };
	struct sendmail_opts o;
	const char *error;

	assert_int_equal(sendmail_parse_args(26, ok, &o, &error), 0);
	assert_true(o.extract && o.ignore_dots && o.queue_only);
	assert_string_equal(o.sender, "me@x");
	assert_string_equal(o.fullname, "me");
	assert_int_equal(o.n_rcpts, 2);
	assert_string_equal(o.rcpts[0], "-dash@x");
	assert_int_equal(sendmail_parse_args(3, bad, &o, &error), -1);
	assert_int_equal(sendmail_parse_args(2, missing, &o, &error), -1);
	assert_int_equal(sendmail_parse_args(2, bd, &o, &error), -1);
}

static int setup(void **state)
{
	static const char rc[] = "set from=me@example.org realname='Me, Myself' domain=mail.example.org\n"
				 "alias team bob@x.example\nalias team alice@x.example\n";
	const char *error;

	setenv("TZ", "UTC", 1);
	cfg = config_new();
	return config_load_buffer(cfg, "test", rc, strlen(rc), &error);
}

static int teardown(void **state)
{
	config_free(&cfg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_lists),
		cmocka_unit_test(test_header_completion),
		cmocka_unit_test(test_extract_and_bcc),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dots),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
