/* remote_url: IMAP URLs, table-driven (schemes, ports, user and folder
 * percent-decoding, the errors), and lib/url.c's grammar as the smarthost
 * shares it. */
#include "remote/remote.h"
#include "lib/config.h"
#include "lib/smtp_url.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const struct {
	const char *url;
	int security;		/* enum remote_security, or -1 for an error */
	const char *user, *host, *hostport, *folder;
	const char *error;	/* a part of the message, for errors */
} cases[] = {
	{ "imaps://me@mail.example.org/INBOX", REMOTE_TLS, "me", "mail.example.org",
	  "mail.example.org:993", "INBOX", NULL },
	{ "IMAPS://mail.example.org", REMOTE_TLS, NULL, "mail.example.org", "mail.example.org:993",
	  "INBOX", NULL },
	{ "imaps://mail.example.org/", REMOTE_TLS, NULL, "mail.example.org", "mail.example.org:993",
	  "INBOX", NULL },
	{ "imap://ann@127.0.0.1:1143/Lists/loft", REMOTE_STARTTLS, "ann", "127.0.0.1",
	  "127.0.0.1:1143", "Lists/loft", NULL },
	{ "imap://h", REMOTE_STARTTLS, NULL, "h", "h:143", "INBOX", NULL },
	{ "imap+insecure://u@127.0.0.1:2143/Sent", REMOTE_PLAIN, "u", "127.0.0.1", "127.0.0.1:2143",
	  "Sent", NULL },
	{ "imaps://[::1]:1993/INBOX", REMOTE_TLS, NULL, "::1", "[::1]:1993", "INBOX", NULL },
	/* An address as user name: plain or %40, the last '@' ends it. */
	{ "imaps://me@example.org@imap.example.org/INBOX", REMOTE_TLS, "me@example.org",
	  "imap.example.org", "imap.example.org:993", "INBOX", NULL },
	{ "imaps://me%40example.org@imap.example.org", REMOTE_TLS, "me@example.org",
	  "imap.example.org", "imap.example.org:993", "INBOX", NULL },
	{ "imaps://h/Caf%C3%A9%20cr%c3%a8me", REMOTE_TLS, NULL, "h", "h:993", "Café crème", NULL },
	{ "imaps://h/a%2Fb/", REMOTE_TLS, NULL, "h", "h:993", "a/b", NULL },
	{ "imaps://h/Sent Items", REMOTE_TLS, NULL, "h", "h:993", "Sent Items", NULL },
	/* errors */
	{ "mail.example.org:993", -1, NULL, NULL, NULL, NULL, "starts with imaps://" },
	{ "pop3://h", -1, NULL, NULL, NULL, NULL, "starts with imaps://" },
	{ "imaps://", -1, NULL, NULL, NULL, NULL, "no host" },
	{ "imaps://@h", -1, NULL, NULL, NULL, NULL, "empty user name" },
	{ "imaps://h:0", -1, NULL, NULL, NULL, NULL, "bad port" },
	{ "imaps://h:70000/INBOX", -1, NULL, NULL, NULL, NULL, "bad port" },
	{ "imaps://h:/INBOX", -1, NULL, NULL, NULL, NULL, "bad port" },
	{ "imaps://h:99x", -1, NULL, NULL, NULL, NULL, "bad port" },
	{ "imaps://[::1/INBOX", -1, NULL, NULL, NULL, NULL, "IPv6" },
	{ "imaps://h!x/INBOX", -1, NULL, NULL, NULL, NULL, "bad host" },
	{ "imaps://u%zz@h", -1, NULL, NULL, NULL, NULL, "user name" },
	{ "imaps://u%0d%0aA1 LOGOUT@h", -1, NULL, NULL, NULL, NULL, "user name" },
	{ "imaps://h/IN%00BOX", -1, NULL, NULL, NULL, NULL, "path" },
	{ "imaps://h/INBOX%", -1, NULL, NULL, NULL, NULL, "path" },
	{ "imaps://h/INBOX%4", -1, NULL, NULL, NULL, NULL, "path" },
};

static void test_imap_urls(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct remote_url u;
		char *err = NULL;
		int r = remote_url_parse(cases[i].url, &u, &err);

		assert_true(remote_url_is(cases[i].url) ==
			    (strncmp(cases[i].url, "imap", 4) == 0 || strncmp(cases[i].url, "IMAP", 4) == 0));
		if (cases[i].security < 0) {
			if (r != -1)
				fail_msg("%s: accepted", cases[i].url);
			if (strstr(err, cases[i].error) == NULL)
				fail_msg("%s: error '%s' lacks '%s'", cases[i].url, err, cases[i].error);
			/* The message names the URL so the user sees which one. */
			assert_non_null(strstr(err, cases[i].url));
			free(err);
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s", cases[i].url, err);
		assert_int_equal(u.security, cases[i].security);
		if (cases[i].user == NULL)
			assert_null(u.user);
		else
			assert_string_equal(u.user, cases[i].user);
		assert_string_equal(u.host, cases[i].host);
		assert_string_equal(u.hostport, cases[i].hostport);
		assert_string_equal(u.folder, cases[i].folder);
		remote_url_clear(&u);
		assert_null(u.host);
	}
}

/* The smarthost goes through the same grammar: no user, no path. */
static void test_smarthost_shares_the_grammar(void **state)
{
	enum smtp_url_tls tls;
	char *host = NULL, *hp = NULL;
	const char *err = NULL;

	assert_int_equal(smtp_url_parse("smtp://user@h", &tls, &host, &hp, &err), -1);
	assert_string_equal(err, "no user name may be given here");
	assert_int_equal(smtp_url_parse("smtp://h/x", &tls, &host, &hp, &err), -1);
	assert_string_equal(err, "nothing may follow HOST:PORT");
	assert_int_equal(smtp_url_parse("imap://h", &tls, &host, &hp, &err), -1);
	assert_non_null(strstr(err, "smtp+insecure://"));
	assert_int_equal(smtp_url_parse("smtps://h:2465/", &tls, &host, &hp, &err), 0);
	assert_int_equal(tls, SMTP_URL_IMPLICIT_TLS);
	assert_string_equal(hp, "h:2465");
	free(host);
	free(hp);
}

/* `loft check` finds a bad imap_url with the same grammar. */
static void test_setting_checked(void **state)
{
	static const struct {
		const char *rc, *error;
	} lines[] = {
		{ "set imap_url=imaps://me@h:993/INBOX\n", NULL },
		{ "account a {\nset imap_url=imap://h/Sent%20Items\n}\n", NULL },
		{ "set imap_url=h:993\n", "t:1:14: imap_url: 'h:993' must start with imaps://, "
		  "imap:// (STARTTLS) or imap+insecure:// (plaintext)" },
		{ "set imap_url=imaps://h:0/INBOX\n", "t:1:14: imap_url: bad port: 'imaps://h:0/INBOX'" },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct config *cfg = config_new();
		const char *err = NULL;
		int r = config_load_buffer(cfg, "t", lines[i].rc, strlen(lines[i].rc), &err);

		if (lines[i].error == NULL) {
			if (r != 0)
				fail_msg("%s: %s", lines[i].rc, err);
		} else {
			assert_int_equal(r, -1);
			assert_string_equal(err, lines[i].error);
		}
		config_free(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_urls),
		cmocka_unit_test(test_smarthost_shares_the_grammar),
		cmocka_unit_test(test_setting_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
