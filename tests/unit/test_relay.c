/* relay: smarthost URLs (table-driven) and the password command
 * (lib/secret_cmd.c: first line, failure, timeout). */
#include "localmta/relay-private.h"
#include "lib/secret_cmd.h"

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
	int tls;		/* enum relay_tls, or -1 for an error */
	const char *host, *hostport;
} urls[] = {
	{ "smtp://mail.example.org", RELAY_STARTTLS, "mail.example.org", "mail.example.org:587" },
	{ "smtp://mail.example.org:25", RELAY_STARTTLS, "mail.example.org", "mail.example.org:25" },
	{ "SMTPS://mail.example.org", RELAY_IMPLICIT_TLS, "mail.example.org", "mail.example.org:465" },
	{ "smtps://mail.example.org:1465/", RELAY_IMPLICIT_TLS, "mail.example.org", "mail.example.org:1465" },
	{ "smtp+insecure://127.0.0.1:2525", RELAY_PLAIN, "127.0.0.1", "127.0.0.1:2525" },
	{ "smtp+insecure://localhost", RELAY_PLAIN, "localhost", "localhost:25" },
	{ "smtp://[::1]:2525", RELAY_STARTTLS, "::1", "[::1]:2525" },
	{ "smtps://[2001:db8::1]", RELAY_IMPLICIT_TLS, "2001:db8::1", "[2001:db8::1]:465" },
	{ "mail.example.org:587", -1, NULL, NULL },		/* no scheme: no guessing */
	{ "http://mail.example.org", -1, NULL, NULL },
	{ "smtp://", -1, NULL, NULL },
	{ "smtp://:25", -1, NULL, NULL },
	{ "smtp://host:0", -1, NULL, NULL },
	{ "smtp://host:65536", -1, NULL, NULL },
	{ "smtp://host:25x", -1, NULL, NULL },
	{ "smtp://host:", -1, NULL, NULL },
	{ "smtp://[::1", -1, NULL, NULL },
	{ "smtp://[]:25", -1, NULL, NULL },
	{ "smtp://host/path", -1, NULL, NULL },
	{ "smtp://host]x", -1, NULL, NULL },
};

static void test_urls(void **state)
{
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		enum relay_tls tls;
		char *host = NULL, *hp = NULL;
		const char *err = NULL;
		int r = relay_parse_url(urls[i].url, &tls, &host, &hp, &err);

		if (urls[i].tls < 0) {
			if (r != -1)
				fail_msg("%s: accepted", urls[i].url);
			assert_non_null(err);
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s", urls[i].url, err);
		assert_int_equal(tls, urls[i].tls);
		assert_string_equal(host, urls[i].host);
		assert_string_equal(hp, urls[i].hostport);
		free(host);
		free(hp);
	}
}

static void test_password_command(void **state)
{
	char *pw = NULL, *err = NULL;

	assert_int_equal(secret_cmd_run("smarthost_password_command", "printf 's3cret word\\nsecond\\n'", 5, &pw, &err), 0);
	assert_string_equal(pw, "s3cret word");
	free(pw);
	assert_int_equal(secret_cmd_run("smarthost_password_command", "echo leaked; exit 2", 5, &pw, &err), -1);
	assert_non_null(strstr(err, "status 2"));
	assert_null(strstr(err, "leaked"));
	free(err);
	assert_int_equal(secret_cmd_run("smarthost_password_command", "true", 5, &pw, &err), -1);
	assert_non_null(strstr(err, "smarthost_password_command printed nothing"));
	free(err);
	assert_int_equal(secret_cmd_run("smarthost_password_command", "exec sleep 10", 1, &pw, &err), -1);
	assert_non_null(strstr(err, "timed out"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_password_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
