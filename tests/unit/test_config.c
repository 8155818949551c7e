/* config: the meaning of each mailrc command, every error message with its
 * FILE:LINE:COL, expansion, accounts, aliases, source, suggestions, the dump
 * round trip.  Every table case is loaded whole and one byte at a time and
 * must give the same dump and the same error. */
#include "lib/config.h"
#include "lib/config-private.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* Checks, one per line: "name=value" (config_get; "(null)" for NULL),
 * "ACCOUNT.name=value" (config_account_get), "@alias=value" (config_alias),
 * "#name=N" (config_int), "?name=0|1" (config_bool). */
static void check_values(const struct config *cfg, const char *checks, const char *in)
{
	char *copy = strdup(checks), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *dot;
		char got[256];
		const char *v;

		*eq = '\0';
		if (line[0] == '#') {
			snprintf(got, sizeof(got), "%lld", config_int(cfg, line + 1));
			v = got;
		} else if (line[0] == '?') {
			v = config_bool(cfg, line + 1) ? "1" : "0";
		} else if (line[0] == '@') {
			v = config_alias(cfg, line + 1);
		} else if ((dot = strchr(line, '.')) != NULL) {
			*dot = '\0';
			v = config_account_get(cfg, line, dot + 1);
			*dot = '.';
		} else {
			v = config_get(cfg, line);
		}
		if (strcmp(v ? v : "(null)", eq + 1) != 0)
			fail_msg("input '%s': %s: got '%s', want '%s'", in, line, v ? v : "(null)", eq + 1);
	}
	free(copy);
}

/* Loads in (fed in chunks of chunk bytes) into a fresh config; returns its
 * dump followed by "ERROR: " + the error, if any. */
static char *load_dump(const char *in, size_t chunk, struct config **cfg_r)
{
	struct config *cfg = config_new();
	struct sbuf out = SBUF_INIT;
	const char *error;

	if (config_load_chunked(cfg, "t", in, strlen(in), chunk, &error) < 0)
		sbuf_addf(&out, "ERROR: %s\n", error);
	else
		assert_string_equal(error, "");
	config_dump(cfg, &out);
	if (cfg_r)
		*cfg_r = cfg;
	else
		config_free(&cfg);
	return sbuf_detach(&out, NULL);
}

struct cfg_case {
	const char *in;
	const char *error;	/* NULL: loads fine */
	const char *checks;
};

static const struct cfg_case cases[] = {
	/* Defaults (HOME=/home/t in the setup). */
	{ "", NULL, "folder=/home/t/Mail\nsieve=/home/t/.config/loft/sieve\nlog_level=warning\n"
	  "imap_listen=127.0.0.1:1143\nsmtp_listen=127.0.0.1:1587\nfrom=(null)\nsort=threads\n"
	  "record=+Sent\n?sort_reverse=0\n#sync_interval=300\n#max_message_size=52428800\n"
	  "notmuch_database=(null)\nlog=stderr" },
	/* Quoting and comments. */
	{ "set from=\"Me <me@x.org>\" realname='A \"q\" name' # c\n", NULL,
	  "from=Me <me@x.org>\nrealname=A \"q\" name" },
	{ "set index_format='%s #%d'\n", NULL, "index_format=%s #%d" },
	{ "set realname=\"x \\\n y\"\r\nset domain=a\\ b\n", NULL, "realname=x  y\ndomain=a b" },
	/* Expansion in paths only, at set time. */
	{ "set folder=$MAILROOT/x state_dir=${MAILROOT}y notmuch_database='$MAILROOT'\n", NULL,
	  "folder=/m/x\nstate_dir=/my\nnotmuch_database=$MAILROOT" },
	{ "set folder=\"~/My Mail\" sieve=~\n", NULL, "folder=/home/t/My Mail\nsieve=/home/t" },
	{ "set folder=/a$NOPE/b\n", NULL, "folder=/a/b" },
	{ "set from=$MAILROOT@x hostname=~\n", NULL, "from=$MAILROOT@x\nhostname=~" },
	/* Booleans, unset, no-prefix. */
	{ "set sort_reverse\n", NULL, "?sort_reverse=1" },
	{ "set sort_reverse\nset nosort_reverse\n", NULL, "?sort_reverse=0" },
	{ "set sort_reverse=Yes\n", NULL, "?sort_reverse=1" },
	{ "set sort_reverse=on\nset sort_reverse=off\n", NULL, "?sort_reverse=0" },
	{ "set sort_reverse\nunset sort_reverse\n", NULL, "?sort_reverse=0" },
	{ "set folder=/x\nunset folder\n", NULL, "folder=/home/t/Mail" },
	{ "set folder=/x log=syslog\nset nofolder\nunset log\n", NULL, "folder=/home/t/Mail\nlog=stderr" },
	{ "set notmuch_database=/n\n", NULL, "notmuch_database=/n" },
	{ "set notmuch_database=/n\nunset notmuch_database\n", NULL, "notmuch_database=(null)" },
	{ "set from=x\nset from=\n", NULL, "from=(null)" },
	/* Folders the user switches off: unset and no-prefix empty them. */
	{ "unset trash\nset norecord\n", NULL, "trash=(null)\nrecord=(null)" },
	{ "set trash=+T\nunset postponed\n", NULL, "trash=+T\npostponed=+Drafts" },
	/* Types. */
	{ "set max_message_size=10M sync_interval=1h30m\n", NULL,
	  "#max_message_size=10485760\n#sync_interval=5400\nsync_interval=1h30m" },
	{ "set max_message_size=2048 sync_interval=45\n", NULL, "#max_message_size=2048\n#sync_interval=45" },
	{ "set imap_listen=[::1]:143 smtp_listen=*:25 smarthost=smtp://smtp.example.org:587\n", NULL,
	  "imap_listen=[::1]:143\nsmtp_listen=*:25\nsmarthost=smtp://smtp.example.org:587" },
	{ "set imap_listen= smtp_listen=''\n", NULL, "imap_listen=(null)\nsmtp_listen=(null)" },
	{ "set log_level=debug sort=date\n", NULL, "log_level=debug\nsort=date" },
	/* Accounts. */
	{ "set from=me@home\naccount work {\n  set from=me@work record=\n  set sort_reverse\n}\n", NULL,
	  "work.from=me@work\nwork.record=(null)\nwork.folder=/home/t/Mail\nfrom=me@home\n"
	  "other.from=me@home\nrecord=+Sent\n?sort_reverse=0" },
	{ "account a {\nset from=1 domain=d\n}\naccount a {\nset from=2\n}\n", NULL,
	  "a.from=2\na.domain=(null)" },
	{ "set domain=g\naccount a {\nset domain=d\nunset domain\n}\n", NULL, "a.domain=g" },
	/* Aliases: quoted addresses, a second line adds to the first. */
	{ "alias bob \"Bob Smith <bob@x.org>\" bob2@y\nalias bob 'c@z'\nalias solo s@x\n", NULL,
	  "@bob=Bob Smith <bob@x.org>, bob2@y, c@z\n@solo=s@x\n@nobody=(null)" },
	/* Errors, with what came before them kept. */
	{ "set smarthots=x\n", "t:1:5: unknown setting 'smarthots' (did you mean 'smarthost'?)", NULL },
	{ "set from=a\n\n  set log_levle=debug\n", "t:3:7: unknown setting 'log_levle' (did you mean 'log_level'?)",
	  "from=a" },
	{ "set zzzzzzz=1\n", "t:1:5: unknown setting 'zzzzzzz'", NULL },
	{ "set nosmarthots\n", "t:1:5: unknown setting 'nosmarthots' (did you mean 'nosmarthost'?)", NULL },
	{ "unset fodler\n", "t:1:7: unknown setting 'fodler' (did you mean 'folder'?)", NULL },
	{ "set log_level=loud\n", "t:1:15: log_level: expected one of debug, info, warning, error", NULL },
	{ "set sort=random\n", "t:1:10: sort: expected one of date, threads, from, subject, size", NULL },
	{ "set imap_listen=localhost\n", "t:1:17: imap_listen: expected HOST:PORT", NULL },
	{ "set smarthost=smtp.example.org:587\n", "t:1:15: smarthost: 'smtp.example.org:587' has no "
	  "scheme: write smtp://smtp.example.org:587 (STARTTLS), or smtp+insecure://smtp.example.org:587 "
	  "for plaintext", NULL },
	{ "set smarthost=mail.example.org:465\n", "t:1:15: smarthost: 'mail.example.org:465' has no "
	  "scheme: write smtps://mail.example.org:465 (implicit TLS), or smtp+insecure://mail.example.org:465 "
	  "for plaintext", NULL },
	{ "set smarthost=smtp://h:0\n", "t:1:15: smarthost: bad port: 'smtp://h:0'", NULL },
	{ "set smarthost=http://h\n", "t:1:15: smarthost: must start with smtp://, smtps:// or "
	  "smtp+insecure://: 'http://h'", NULL },
	{ "set imap_listen=h:0\n", "t:1:17: imap_listen: expected HOST:PORT", NULL },
	{ "set smtp_listen=h:65536\n", "t:1:17: smtp_listen: expected HOST:PORT", NULL },
	{ "set smtp_listen=[::1]25\n", "t:1:17: smtp_listen: expected HOST:PORT", NULL },
	{ "set smtps_listen=a/b:25\n", "t:1:18: smtps_listen: expected HOST:PORT", NULL },
	{ "set sort_reverse=maybe\n", "t:1:18: sort_reverse: expected yes or no", NULL },
	{ "set max_message_size=12\n", "t:1:22: max_message_size: expected a number from 1024 to 2147483648", NULL },
	{ "set max_message_size=1X\n", "t:1:22: max_message_size: expected a number from 1024 to 2147483648", NULL },
	{ "set sync_interval=5x\n",
	  "t:1:19: sync_interval: expected a duration from 30s to 604800s, such as 300, 5m, 4h or 1d", NULL },
	{ "set folder=\n", "t:1:12: folder: must not be empty", NULL },
	{ "set folder\n", "t:1:5: folder: expected a value (set folder=VALUE)", NULL },
	{ "set from=\"abc\n", "t:1:10: unterminated double quote", NULL },
	{ "set from='abc", "t:1:10: unterminated single quote", NULL },
	{ "set from=\"a\\nb\"\n", "t:1:10: from: line breaks are not allowed in a value", NULL },
	{ "set folder=${HOME\n", "t:1:12: folder: unterminated ${", NULL },
	{ "sett folder=x\n", "t:1:1: unknown command 'sett' (did you mean 'set'?)", NULL },
	{ "frobnicate\n", "t:1:1: unknown command 'frobnicate'", NULL },
	{ "set\n", "t:1:1: set: expected NAME=VALUE", NULL },
	{ "set =x\n", "t:1:5: set: expected NAME=VALUE", NULL },
	{ "unset\n", "t:1:1: unset: expected NAME", NULL },
	{ "account a {\n account b {\n", "t:2:2: account blocks cannot be nested\n"
	  "t:1:1: account a: missing '}' at end of file", NULL },
	{ "account a {\nset from=x\n", "t:1:1: account a: missing '}' at end of file", "a.from=x" },
	{ "account a\n", "t:1:1: account: expected 'account NAME {'", NULL },
	{ "account a { set from=x }\n", "t:1:1: account: expected 'account NAME {'", NULL },
	{ "}\n", "t:1:1: '}' without an account block", NULL },
	{ "account a {\nalias x y\n}\n", "t:2:1: only set, unset and '}' may appear inside an account block", NULL },
	{ "account a {\n} x\n", "t:2:1: only set, unset and '}' may appear inside an account block\n"
	  "t:1:1: account a: missing '}' at end of file", NULL },
	{ "account a {\nset imap_listen=1:2\n}\n", "t:2:5: imap_listen cannot be set inside an account block", NULL },
	{ "alias bob\n", "t:1:1: alias: expected 'alias NAME ADDRESS...'", NULL },
	{ "alias bob a@b \"\"\n", "t:1:15: alias bob: empty address or line break in an address", NULL },
	{ "source\n", "t:1:1: source: expected 'source FILE'", NULL },
	{ "set from=x\nset log=bad from=y\n", "t:2:9: log: expected one of stderr, syslog", "from=x" },
	{ "set from=x log=bad\n", "t:1:16: log: expected one of stderr, syslog", "from=x" },
	/* A faulty line is skipped and the rest still applied; every error
	 * is reported, one a line. */
	{ "set log_level=loud\nset from=after\n",
	  "t:1:15: log_level: expected one of debug, info, warning, error", "from=after\nlog_level=warning" },
	{ "set smarthots=x\nset from=\"abc\nsett y\nset domain=d\n",
	  "t:1:5: unknown setting 'smarthots' (did you mean 'smarthost'?)\n"
	  "t:2:10: unterminated double quote\nt:3:1: unknown command 'sett' (did you mean 'set'?)",
	  "domain=d\nfrom=(null)" },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cfg_case *c = &cases[i];
		struct config *cfg;
		char *whole = load_dump(c->in, 0, &cfg);
		char *bytes = load_dump(c->in, 1, NULL);
		const char *error;

		assert_string_equal(bytes, whole);
		free(bytes);
		free(whole);
		config_free(&cfg);
		cfg = config_new();
		if (c->error == NULL) {
			if (config_load_buffer(cfg, "t", c->in, strlen(c->in), &error) != 0)
				fail_msg("input '%s': unexpected error %s", c->in, error);
		} else {
			if (config_load_buffer(cfg, "t", c->in, strlen(c->in), &error) != -1)
				fail_msg("input '%s': loaded, expected %s", c->in, c->error);
			if (strcmp(error, c->error) != 0)
				fail_msg("input '%s':\n got: %s\nwant: %s", c->in, error, c->error);
		}
		if (c->checks != NULL)
			check_values(cfg, c->checks, c->in);
		config_free(&cfg);
		assert_null(cfg);
	}
}

/* Strips the "\t# source" comments that differ between two readings. */
static void strip_sources(char *s)
{
	char *in = s, *out = s;

	while (*in != '\0') {
		if (*in == '\t' && in[1] == '#') {
			while (*in != '\0' && *in != '\n')
				in++;
			continue;
		}
		*out++ = *in++;
	}
	*out = '\0';
}

static void test_dump_round_trip(void **state)
{
	static const char in[] =
		"set folder='/tmp/a b' from=\"it's \\\"me\\\" $x\" realname='~x' hostname=~y\n"
		"set index_format=\"%s\\t#%d \\\\ {}\" domain='$HOME' log_level=info sort_reverse\n"
		"set imap_listen= smarthost=smtp://h:1 sync_interval=1d max_message_size=1G\n"
		"account 'my work' {\n set from=w@x record= nosort_reverse\n}\n"
		"alias bob \"Bob <b@x>\" 'it''s@x' '$y'\n";
	struct config *a = config_new(), *b = config_new();
	struct sbuf da = SBUF_INIT, db = SBUF_INIT;
	const char *error;

	assert_int_equal(config_load_buffer(a, "in", in, sizeof(in) - 1, &error), 0);
	config_dump(a, &da);
	if (config_load_buffer(b, "dump", da.buf, da.len, &error) != 0)
		fail_msg("dump does not load: %s\n%s", error, da.buf);
	config_dump(b, &db);
	assert_non_null(strstr(da.buf, "set log_level=info\t# in:2\n"));
	assert_non_null(strstr(da.buf, "set log=stderr\t# default\n"));
	assert_non_null(strstr(db.buf, "set log_level=info\t# dump:"));
	strip_sources(da.buf);
	strip_sources(db.buf);
	assert_string_equal(da.buf, db.buf);
	check_values(b, "from=it's \"me\" $x\nrealname=~x\nhostname=~y\nindex_format=%s\t#%d \\ {}\n"
		     "domain=$HOME\nfolder=/tmp/a b\nmy work.from=w@x\n@bob=Bob <b@x>, its@x, $y", "dump");
	sbuf_release(&da);
	sbuf_release(&db);
	config_free(&a);
	config_free(&b);
}

static void test_settings_doc(void **state)
{
	struct sbuf text = SBUF_INIT, man = SBUF_INIT;

	config_settings_doc(&text, false);
	config_settings_doc(&man, true);
	for (size_t i = 0; i < settings_count; i++) {
		char want[128];

		snprintf(want, sizeof(want), "\n%s  ", settings_table[i].name);
		assert_true(i == 0 ? strncmp(text.buf, want + 1, strlen(want + 1)) == 0
				   : strstr(text.buf, want) != NULL);
		snprintf(want, sizeof(want), ".TP\n.B %s\n", settings_table[i].name);
		assert_non_null(strstr(man.buf, want));
		assert_true(settings_table[i].desc[0] != '\0');
	}
	assert_non_null(strstr(text.buf, "log_level  one of debug|info|warning|error  (default: warning)\n"));
	assert_null(strstr(man.buf, "\n."  "\\"));
	sbuf_release(&text);
	sbuf_release(&man);
}

/* Every default in the table passes its own type check. */
static void test_defaults_valid(void **state)
{
	struct sbuf err = SBUF_INIT;

	for (size_t i = 0; i < settings_count; i++) {
		char *canon;
		const char *error;

		if (settings_check(&settings_table[i], settings_table[i].def, &canon, &err, &error) != 0)
			fail_msg("default of %s: %s", settings_table[i].name, error);
		free(canon);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(settings_table[i].name, settings_table[j].name);
	}
	sbuf_release(&err);
}

static int setup(void **state)
{
	setenv("HOME", "/home/t", 1);
	setenv("MAILROOT", "/m", 1);
	unsetenv("NOPE");
	return 0;
}

/* File tests: a fresh directory per test, removed at the end. */
static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "%s/loft-config.XXXXXX", "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static char *path_of(const char *rel)
{
	static char buf[4][256];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, rel);
	return buf[n];
}

static void write_file(const char *rel, const char *content)
{
	FILE *f = fopen(path_of(rel), "w");

	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

/* Loads rel; expects the error want ("%s" stands for the directory) or
 * success when want is NULL.  Returns the config (caller frees). */
static struct config *load_expect(const char *rel, const char *want)
{
	struct config *cfg = config_new();
	const char *error;
	int ret = config_load(cfg, path_of(rel), &error);

	if (want == NULL) {
		if (ret != 0)
			fail_msg("%s: %s", rel, error);
	} else {
		char expect[512];

		snprintf(expect, sizeof(expect), want, dir, dir, dir);
		assert_int_equal(ret, -1);
		assert_string_equal(error, expect);
	}
	return cfg;
}

static void test_source(void **state)
{
	struct config *cfg;
	struct sbuf dump = SBUF_INIT;
	char want[256];
	const char *error;

	make_dir();
	assert_int_equal(mkdir(path_of("sub"), 0700), 0);
	setenv("CFGDIR", dir, 1);
	write_file("main", "set from=a\nsource sub/inc\nsource $CFGDIR/abs\nset realname=r\n");
	write_file("sub/inc", "set domain=d\nsource ../other\n");
	write_file("other", "set hostname=h\nalias x y@z\n");
	write_file("abs", "set editor=ed\n");
	cfg = load_expect("main", NULL);
	check_values(cfg, "from=a\ndomain=d\nhostname=h\n@x=y@z\neditor=ed\nrealname=r", "main");
	config_dump(cfg, &dump);
	snprintf(want, sizeof(want), "set hostname=h\t# %s/sub/../other:1\n", dir);
	assert_non_null(strstr(dump.buf, want));
	snprintf(want, sizeof(want), "set realname=r\t# %s/main:4\n", dir);
	assert_non_null(strstr(dump.buf, want));
	/* A buffer's name gives the base directory of relative sources. */
	assert_int_equal(config_load_buffer(cfg, path_of("buf"), "source abs\n", 11, &error), 0);
	sbuf_release(&dump);
	config_free(&cfg);
	remove_dir();
}

static void test_source_errors(void **state)
{
	struct config *cfg;

	make_dir();
	assert_int_equal(mkdir(path_of("sub"), 0700), 0);
	write_file("main", "set from=a\nsource sub/bad\nset from=b\n");
	write_file("sub/bad", "\nset log_level=x\n");
	cfg = load_expect("main", "%s/sub/bad:2:15: log_level: expected one of debug, info, warning, error");
	check_values(cfg, "from=b", "main");
	config_free(&cfg);
	write_file("main2", "source nope\n");
	config_free((cfg = load_expect("main2", "%s/main2:1:8: source: cannot open '%s/nope': "
					"No such file or directory"), &cfg));
	write_file("main3", "source sub\n");
	config_free((cfg = load_expect("main3", "%s/main3:1:8: source: %s/sub: Is a directory"), &cfg));
	write_file("main4", "source sub/acc\n");
	write_file("sub/acc", "account a {\n");
	config_free((cfg = load_expect("main4", "%s/sub/acc:1:1: account a: missing '}' at end of file"), &cfg));
	remove_dir();
}

static void test_source_loop(void **state)
{
	struct config *cfg;

	make_dir();
	write_file("a", "source b\n");
	write_file("b", "set from=b\nsource a\n");
	cfg = load_expect("a", "%s/b:2:8: source: more than 10 nested files (a loop?)");
	config_free(&cfg);
	write_file("self", "source self\n");
	cfg = load_expect("self", "%s/self:1:8: source: more than 10 nested files (a loop?)");
	config_free(&cfg);
	remove_dir();
}

static void test_load_missing(void **state)
{
	struct config *cfg = config_new();
	const char *error;

	make_dir();
	errno = 0;
	assert_int_equal(config_load(cfg, path_of("none"), &error), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(error, "/none: No such file or directory"));
	assert_int_equal(config_load(cfg, dir, &error), -1);
	assert_int_equal(errno, EISDIR);
	write_file("ok", "set from=ok\n");
	assert_int_equal(config_load(cfg, path_of("ok"), &error), 0);
	assert_string_equal(error, "");
	check_values(cfg, "from=ok", "ok");
	config_free(&cfg);
	config_free(&cfg);	/* NULL-safe */
	remove_dir();
}

/* config_next_unbuilt: non-empty not-built-yet settings a mailrc sets,
 * global ones first, then each account's, with where they were set. */
static void test_next_unbuilt(void **state)
{
	static const char rc[] = "set imap_listen=127.0.0.1:1 sync_interval=2h trash= folder=/m\n"
				 "account a {\n  set sync_interval=1h trash=+T\n}\n";
	struct config *cfg = config_new();
	const char *error, *account, *file;
	unsigned long line;
	size_t pos = 0;

	assert_null(config_next_unbuilt(cfg, &pos, &account, &file, &line));
	assert_int_equal(config_load_buffer(cfg, "rc", rc, strlen(rc), &error), 0);
	pos = 0;
	/* Every setting is built now (sync_interval by the daemon's sync
	 * task, imap_listen by its IMAP listener, trash by the client):
	 * nothing is reported, neither globally nor in the account block. */
	assert_null(config_next_unbuilt(cfg, &pos, &account, &file, &line));
	assert_null(config_next_unbuilt(cfg, &pos, &account, &file, &line));
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_settings_doc),
		cmocka_unit_test(test_defaults_valid),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_source_errors),
		cmocka_unit_test(test_source_loop),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_next_unbuilt),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
