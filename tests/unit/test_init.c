/* loft init's mailrc: whatever the answers hold (quotes, $, ~, #,
 * backslashes, blanks, UTF-8), the text it writes reads back through the
 * config loader as exactly those values; the parts left out are absent. */
#include "localmta/init-private.h"
#include "lib/config.h"
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct config *load(const struct init_answers *a)
{
	struct config *cfg = config_new();
	struct sbuf text = SBUF_INIT;
	const char *err = NULL;

	init_mailrc_text(a, &text);
	if (config_load_buffer(cfg, "/test/mailrc", text.buf, text.len, &err) < 0)
		fail_msg("the mailrc does not load: %s\n%s", err, text.buf);
	sbuf_release(&text);
	return cfg;
}

static void test_values_round_trip(void **state)
{
	static const char *const names[] = {
		"Ann O'Example", "Bob \"the\" Builder", "$HOME and ${USER}", "~tilde",
		"# not a comment", "back\\slash", "Zoë Ünïcode", "it's $5 \"each\" \\o/",
		"plain",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct init_answers a = {
			.name = (char *)names[i], .address = "ann@example.org",
			.provider = "other", .smarthost = "smtps://mail.example.org:465",
			.smarthost_user = "ann's login",
			.password_command = "pass show 'mail/ann' | head -1",
			.devices = 1, .listen = "0.0.0.0:1587", .imap_listen = "0.0.0.0:1143",
			.device = "phone",
		};
		struct config *cfg = load(&a);

		assert_string_equal(config_get(cfg, "realname"), names[i]);
		assert_string_equal(config_get(cfg, "from"), "ann@example.org");
		assert_string_equal(config_get(cfg, "smarthost"), a.smarthost);
		assert_string_equal(config_get(cfg, "smarthost_user"), a.smarthost_user);
		assert_string_equal(config_get(cfg, "smarthost_password_command"),
				    a.password_command);
		assert_string_equal(config_get(cfg, "smtp_listen"), "0.0.0.0:1587");
		assert_string_equal(config_get(cfg, "imap_listen"), "0.0.0.0:1143");
		config_free(&cfg);
	}
}

static void test_folder_expands_tilde(void **state)
{
	struct init_answers a = {
		.name = "", .address = "a@b.example", .provider = "none", .smarthost = "",
		.smarthost_user = "", .devices = 0, .folder = "~/My Mail",
	};
	const char *home = getenv("HOME");
	char want[512];
	struct config *cfg;

	assert_non_null(home);
	snprintf(want, sizeof(want), "%s/My Mail", home);
	cfg = load(&a);
	assert_string_equal(config_get(cfg, "folder"), want);
	config_free(&cfg);
}

static void test_left_out_parts(void **state)
{
	struct init_answers a = {
		.name = "", .address = "a@b.example", .provider = "none", .smarthost = "",
		.smarthost_user = "", .devices = 0,
	};
	struct config *cfg = load(&a);
	struct sbuf text = SBUF_INIT;

	assert_null(config_get(cfg, "realname"));
	assert_null(config_get(cfg, "smarthost"));
	assert_null(config_get(cfg, "smarthost_user"));
	/* No device: the listeners stay on their loopback defaults. */
	assert_string_equal(config_get(cfg, "smtp_listen"), "127.0.0.1:1587");
	assert_string_equal(config_get(cfg, "imap_listen"), "127.0.0.1:1143");
	init_mailrc_text(&a, &text);
	assert_non_null(strstr(text.buf, "#set imap_listen=0.0.0.0:1143"));
	sbuf_release(&text);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_round_trip),
		cmocka_unit_test(test_folder_expands_tilde),
		cmocka_unit_test(test_left_out_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
