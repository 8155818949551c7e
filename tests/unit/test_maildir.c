/* maildir: names and flags (tables), delivery, scans, flag renames racing
 * other programs, removal, copies, tmp/ cleaning, folder discovery, bad
 * input.  Every test works in its own directory under /tmp.  The tests run
 * as root here, so "unreadable" is made of things root cannot read either:
 * fifos, dangling symlinks, directories where files belong. */
#include "store/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

/* ---- helpers ---- */

/* Formats a path into a 1024-byte buffer; the tests' paths are short. */
static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, 1024, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < 1024);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *make_tmpdir(void)
{
	char *dir = strdup("/tmp/test_maildir.XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static int setup_dir(void **state)
{
	*state = make_tmpdir();
	return 0;
}

static int teardown_dir(void **state)
{
	rm_rf(*state);
	free(*state);
	return 0;
}

/* A fresh maildir PATH/NAME; returns its path (caller frees). */
static char *new_maildir(const char *base, const char *name)
{
	char *p;
	const char *err = NULL;

	assert_true(asprintf(&p, "%s/%s", base, name) > 0);
	assert_int_equal(maildir_create(p, &err), 0);
	return p;
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static char *read_file(const char *dir, const char *rel)
{
	char path[1024], *buf = calloc(1, 65536);
	int fd;
	ssize_t n;

	pathf(path, "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, 65535);
	assert_true(n >= 0);
	close(fd);
	return buf;
}

static bool exists(const char *dir, const char *rel)
{
	char path[1024];
	struct stat st;

	pathf(path, "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

static int count_files(const char *dir, const char *sub)
{
	char path[1024];
	int n = 0;
	DIR *d;
	struct dirent *de;

	pathf(path, "%s/%s", dir, sub);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const struct maildir_entry *scan_find(const struct maildir_scan *s,
					     const char *key)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

/* ---- names ---- */

struct name_case {
	const char *name;
	const char *key;
	uint32_t flags;
	const char *extra;
	bool has_info;
	char sep;
	int64_t size, vsize, time;
};

#define S STORE_SEEN
#define R STORE_ANSWERED
#define F STORE_FLAGGED
#define T STORE_DELETED
#define D STORE_DRAFT
#define P STORE_PASSED

static const struct name_case name_cases[] = {
	/* Dovecot */
	{ "1700000000.M1P2.host,S=1234,W=1260:2,RS", "1700000000.M1P2.host,S=1234,W=1260",
	  R | S, "", true, ':', 1234, 1260, 1700000000 },
	{ "1700000000.M123456P4242Q7.mail.example.org,S=99,W=101:2,", "1700000000.M123456P4242Q7.mail.example.org,S=99,W=101",
	  0, "", true, ':', 99, 101, 1700000000 },
	{ "1700000000.M1P2.host,S=10:2,DFPRST", "1700000000.M1P2.host,S=10",
	  D | F | P | R | S | T, "", true, ':', 10, -1, 1700000000 },
	/* Dovecot keywords: lowercase letters are indexes into dovecot-keywords */
	{ "1700000000.M1P2.host,S=10:2,Sac", "1700000000.M1P2.host,S=10",
	  S, "ac", true, ':', 10, -1, 1700000000 },
	{ "1700000000.M1P2.host,S=10:2,zSaF", "1700000000.M1P2.host,S=10",
	  S | F, "az", true, ':', 10, -1, 1700000000 },
	/* mbsync (isync): ",U=" UID field, and the '!' separator */
	{ "1496276592.12345_1.laptop,U=12:2,S", "1496276592.12345_1.laptop,U=12",
	  S, "", true, ':', -1, -1, 1496276592 },
	{ "1496276592.12345_1.laptop,U=12!2,FS", "1496276592.12345_1.laptop,U=12",
	  F | S, "", true, '!', -1, -1, 1496276592 },
	/* mutt / neomutt */
	{ "1496276592.R3715046318473913845.laptop:2,RS", "1496276592.R3715046318473913845.laptop",
	  R | S, "", true, ':', -1, -1, 1496276592 },
	/* notmuch insert, qmail/postfix style, procmail */
	{ "1496276592.31432_1.laptop:2,", "1496276592.31432_1.laptop",
	  0, "", true, ':', -1, -1, 1496276592 },
	{ "1496276592.V801I4e3cM123456.mx1", "1496276592.V801I4e3cM123456.mx1",
	  0, "", false, 0, -1, -1, 1496276592 },
	{ "1496276592.P31432Q0.mx1", "1496276592.P31432Q0.mx1",
	  0, "", false, 0, -1, -1, 1496276592 },
	/* no info but a size */
	{ "1746227666.M028514P4007Q99006.loftgen,S=5174,W=5280", "1746227666.M028514P4007Q99006.loftgen,S=5174,W=5280",
	  0, "", false, 0, 5174, 5280, 1746227666 },
	/* escaped host names */
	{ "1700000000.M1P2Q3.a\\057b\\072c,S=7:2,S", "1700000000.M1P2Q3.a\\057b\\072c,S=7",
	  S, "", true, ':', 7, -1, 1700000000 },
	/* unknown letters kept; bytes that cannot be in an info dropped */
	{ "1700000000.x:2,SXq9", "1700000000.x", S, "9Xq", true, ':', -1, -1, 1700000000 },
	{ "1700000000.x:2,S,F", "1700000000.x", S | F, "", true, ':', -1, -1, 1700000000 },
	{ "1700000000.x:2,SS", "1700000000.x", S, "", true, ':', -1, -1, 1700000000 },
	/* another info version: ignored, the key still ends at ':' */
	{ "1700000000.x:1,foo", "1700000000.x", 0, "", false, 0, -1, -1, 1700000000 },
	/* names not starting with a time */
	{ "message-1", "message-1", 0, "", false, 0, -1, -1, -1 },
	{ "foo.bar:2,T", "foo.bar", T, "", true, ':', -1, -1, -1 },
	{ "12345", "12345", 0, "", false, 0, -1, -1, -1 },
	/* a bad size field is not a size */
	{ "1700000000.h,S=12x:2,S", "1700000000.h,S=12x", S, "", true, ':', -1, -1, 1700000000 },
	{ "1700000000.h,S=:2,S", "1700000000.h,S=", S, "", true, ':', -1, -1, 1700000000 },
	{ "1700000000.h,S=5,S=6", "1700000000.h,S=5,S=6", 0, "", false, 0, 6, -1, 1700000000 },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		struct maildir_name mn;
		char key[MAILDIR_NAME_SIZE];

		assert_int_equal(maildir_parse_name(c->name, &mn), 0);
		snprintf(key, sizeof(key), "%.*s", (int)mn.key_len, mn.key);
		assert_string_equal(key, c->key);	/* names the failing case */
		assert_int_equal(mn.flags, c->flags);
		assert_string_equal(mn.extra, c->extra);
		assert_int_equal(mn.has_info, c->has_info);
		assert_int_equal(mn.sep, c->sep);
		assert_int_equal(mn.size, c->size);
		assert_int_equal(mn.vsize, c->vsize);
		assert_int_equal(mn.time, c->time);
	}
}

static void test_parse_rejects(void **state)
{
	struct maildir_name mn;

	assert_int_equal(maildir_parse_name("", &mn), -1);
	assert_int_equal(maildir_parse_name(".hidden:2,S", &mn), -1);
	assert_int_equal(maildir_parse_name("cur/1.x:2,S", &mn), -1);
}

static void test_format_round_trip(void **state)
{
	static const struct {
		const char *key;
		uint32_t flags;
		const char *extra;
		char sep;
		const char *want;
	} cases[] = {
		{ "1.M1P1.h", S | R | F | D | T | P, NULL, ':', "1.M1P1.h:2,DFPRST" },
		{ "1.M1P1.h", T | S, "", ':', "1.M1P1.h:2,ST" },
		{ "1.M1P1.h", 0, NULL, ':', "1.M1P1.h:2," },
		{ "1.M1P1.h", S | STORE_RECENT, NULL, ':', "1.M1P1.h:2,S" },
		{ "1.M1P1.h", S, "ca", ':', "1.M1P1.h:2,Sac" },
		{ "1.M1P1.h", S, "aS", ':', "1.M1P1.h:2,Sa" },
		{ "1.M1P1.h", F, "X", ':', "1.M1P1.h:2,FX" },
		{ "1.M1P1.h,U=3", S | F, NULL, '!', "1.M1P1.h,U=3!2,FS" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[MAILDIR_NAME_SIZE];
		struct maildir_name mn;
		int n = maildir_format_name(cases[i].key, cases[i].flags, cases[i].extra,
					    cases[i].sep, buf, sizeof(buf));

		assert_int_equal(n, (int)strlen(cases[i].want));
		assert_string_equal(buf, cases[i].want);
		/* And back: the parse gives what was formatted. */
		assert_int_equal(maildir_parse_name(buf, &mn), 0);
		assert_int_equal(mn.key_len, strlen(cases[i].key));
		assert_int_equal(mn.flags, cases[i].flags & MAILDIR_NAME_FLAGS);
		assert_int_equal(mn.sep, cases[i].sep);
		n = maildir_format_name(cases[i].key, mn.flags, mn.extra, mn.sep,
					buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_format_errors(void **state)
{
	char buf[16];

	errno = 0;
	assert_int_equal(maildir_format_name("k", S, "a/", ':', buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(maildir_format_name("k", S, "a:", ':', buf, sizeof(buf)), -1);
	assert_int_equal(maildir_format_name("k", S, "\x01", ':', buf, sizeof(buf)), -1);
	errno = 0;
	assert_int_equal(maildir_format_name("0123456789012", S, NULL, ':', buf,
					     sizeof(buf)), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(maildir_format_name("0123456789", S, NULL, ':', buf,
					     sizeof(buf)), 14);
}

static void test_flag_letters(void **state)
{
	char buf[7];

	maildir_flags_to_letters(0, buf);
	assert_string_equal(buf, "");
	maildir_flags_to_letters(STORE_RECENT | S, buf);
	assert_string_equal(buf, "S");
	maildir_flags_to_letters(T | S | R | P | F | D, buf);
	assert_string_equal(buf, "DFPRST");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_unique_names(void **state)
{
	enum { N = 10000 };
	char **names = calloc(N, sizeof(*names));
	char prefix[64];
	time_t now = time(NULL);

	for (int i = 0; i < N; i++) {
		char buf[MAILDIR_NAME_SIZE];
		struct maildir_name mn;
		int n = maildir_unique_name(buf, sizeof(buf));

		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(buf));
		assert_null(strchr(buf, '/'));
		assert_null(strchr(buf, ':'));
		assert_int_equal(maildir_parse_name(buf, &mn), 0);
		assert_false(mn.has_info);
		assert_true(mn.time >= now && mn.time <= now + 5);
		snprintf(prefix, sizeof(prefix), "P%ldQ", (long)getpid());
		assert_non_null(strstr(buf, prefix));
		assert_non_null(strstr(buf, ".M"));
		names[i] = strdup(buf);
	}
	qsort(names, N, sizeof(*names), cmp_str);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(names[i - 1], names[i]);
	for (int i = 0; i < N; i++)
		free(names[i]);
	free(names);

	char tiny[8];

	assert_int_equal(maildir_unique_name(tiny, sizeof(tiny)), -1);
	assert_int_equal(errno, ERANGE);
}

/* ---- folders, delivery, scans ---- */

static void test_create_and_detect(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "a/b/c");
	char path[1024];
	struct stat st;

	assert_true(maildir_is_maildir(md));
	pathf(path, "%s/tmp", md);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(maildir_create(md, &err), 0);	/* exists: fine */
	assert_false(maildir_is_maildir(base));
	pathf(path, "%s/a", base);
	assert_false(maildir_is_maildir(path));
	free(md);
}

static void test_deliver_then_scan(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	const char *msg1 = "From: a@example.org\n\nhello\n";
	const char *msg2 = "From: b@example.org\n\nseen and flagged\n";
	char *loc1, *loc2, *loc3;
	struct maildir_scan *scan = NULL;
	struct maildir_name mn;
	const struct maildir_entry *e;
	char key1[MAILDIR_NAME_SIZE], key2[MAILDIR_NAME_SIZE];

	assert_int_equal(maildir_deliver(md, msg1, strlen(msg1), 0, NULL, 0, &loc1, &err), 0);
	assert_int_equal(maildir_deliver(md, msg2, strlen(msg2), S | F, NULL,
					 1500000000, &loc2, &err), 0);
	assert_int_equal(maildir_deliver(md, "", 0, 0, "b", 0, &loc3, &err), 0);
	assert_int_equal(strncmp(loc1, "new/", 4), 0);
	assert_null(strchr(loc1, ':'));
	assert_int_equal(strncmp(loc2, "cur/", 4), 0);
	assert_non_null(strstr(loc2, ":2,FS"));
	assert_non_null(strstr(loc3, ":2,b"));	/* extra letters alone: cur/ too */
	assert_int_equal(count_files(md, "tmp"), 0);

	char *got = read_file(md, loc2);
	assert_string_equal(got, msg2);
	free(got);

	assert_int_equal(maildir_parse_name(loc1 + 4, &mn), 0);
	snprintf(key1, sizeof(key1), "%.*s", (int)mn.key_len, mn.key);
	assert_int_equal(mn.size, (int64_t)strlen(msg1));
	assert_int_equal(maildir_parse_name(loc2 + 4, &mn), 0);
	snprintf(key2, sizeof(key2), "%.*s", (int)mn.key_len, mn.key);

	assert_int_equal(maildir_scan(md, 0, &scan, &err), 0);
	assert_int_equal(scan->count, 3);
	assert_int_equal(scan->problem_count, 0);
	e = scan_find(scan, key1);
	assert_non_null(e);
	assert_string_equal(e->location, loc1);
	assert_int_equal(e->size, strlen(msg1));
	assert_int_equal(e->flags, STORE_RECENT);
	assert_int_equal(e->source, MAILDIR_SIZE_FROM_NAME | MAILDIR_DATE_FROM_NAME);
	assert_true(e->date >= time(NULL) - 5);
	e = scan_find(scan, key2);
	assert_non_null(e);
	assert_string_equal(e->location, loc2);
	assert_int_equal(e->size, strlen(msg2));
	assert_int_equal(e->flags, S | F);
	assert_string_equal(e->extra, "");
	maildir_scan_free(&scan);
	assert_null(scan);

	/* With stat: the mtime set at delivery is the internal date. */
	assert_int_equal(maildir_scan(md, MAILDIR_SCAN_STAT, &scan, &err), 0);
	e = scan_find(scan, key2);
	assert_non_null(e);
	assert_int_equal(e->date, 1500000000);
	assert_int_equal(e->size, strlen(msg2));
	assert_int_equal(e->source, 0);
	maildir_scan_free(&scan);
	free(loc1);
	free(loc2);
	free(loc3);
	free(md);
}

static void test_deliver_bad_extra_leaves_nothing(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	char *loc = (char *)"unchanged";

	assert_int_equal(maildir_deliver(md, "x", 1, S, "a/b", 0, &loc, &err), -1);
	assert_null(loc);
	assert_non_null(strstr(err, "bad flags"));
	assert_int_equal(count_files(md, "tmp"), 0);
	assert_int_equal(count_files(md, "cur"), 0);
	free(md);
}

static void test_deliver_into_missing_folder(void **state)
{
	const char *base = *state, *err = NULL;
	char path[1024], *loc;

	pathf(path, "%s/nope", base);
	assert_int_equal(maildir_deliver(path, "x", 1, 0, NULL, 0, &loc, &err), -1);
	assert_non_null(strstr(err, path));
}

static void test_set_flags_moves_and_renames(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	char *loc, *loc2, *loc3, *loc4;

	assert_int_equal(maildir_deliver(md, "m\n", 2, 0, NULL, 0, &loc, &err), 0);
	/* Still recent and no flags: stays in new/, same name. */
	assert_int_equal(maildir_set_flags(md, loc, STORE_RECENT, NULL, &loc2, &err), 0);
	assert_string_equal(loc2, loc);
	free(loc2);
	/* Seen: moves to cur/ with the info. */
	assert_int_equal(maildir_set_flags(md, loc, STORE_RECENT | S, NULL, &loc2, &err), 0);
	assert_int_equal(strncmp(loc2, "cur/", 4), 0);
	assert_string_equal(loc2 + 4 + strlen(loc + 4), ":2,S");
	assert_false(exists(md, loc));
	assert_true(exists(md, loc2));
	/* Keywords and more flags; sorted. */
	assert_int_equal(maildir_set_flags(md, loc2, S | R | F, "ba", &loc3, &err), 0);
	assert_string_equal(loc3 + strlen(loc2) - 1, "FRSab");
	assert_false(exists(md, loc2));
	assert_true(exists(md, loc3));
	/* Clearing everything keeps it in cur/ with an empty info. */
	assert_int_equal(maildir_set_flags(md, loc3, 0, NULL, &loc4, &err), 0);
	assert_string_equal(loc4 + strlen(loc4) - 3, ":2,");
	assert_int_equal(count_files(md, "cur"), 1);
	assert_int_equal(count_files(md, "new"), 0);
	free(loc);
	free(loc2);
	free(loc3);
	free(loc4);

	/* Clearing STORE_RECENT alone moves a new/ message to cur/. */
	assert_int_equal(maildir_deliver(md, "n\n", 2, 0, NULL, 0, &loc, &err), 0);
	assert_int_equal(maildir_set_flags(md, loc, 0, NULL, &loc2, &err), 0);
	assert_int_equal(strncmp(loc2, "cur/", 4), 0);
	assert_string_equal(loc2 + strlen(loc2) - 3, ":2,");
	free(loc);
	free(loc2);
	free(md);
}

static void test_set_flags_keeps_bang_separator(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	char path[1024], *loc;

	pathf(path, "%s/cur/1496276592.1_1.laptop,U=7!2,S", md);
	write_file(path, "x\n");
	assert_int_equal(maildir_set_flags(md, "cur/1496276592.1_1.laptop,U=7!2,S",
					   S | R, NULL, &loc, &err), 0);
	assert_string_equal(loc, "cur/1496276592.1_1.laptop,U=7!2,RS");
	assert_true(exists(md, loc));
	free(loc);
	free(md);
}

/* Between our scan and our rename, another program (mutt, mbsync) renames
 * the file: set_flags must find it by key and still succeed. */
static void test_set_flags_after_foreign_rename(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	char from[1024], to[1024], *loc, *loc2;
	struct maildir_scan *scan;

	assert_int_equal(maildir_deliver(md, "hi\n", 3, 0, NULL, 0, &loc, &err), 0);
	assert_int_equal(maildir_scan(md, 0, &scan, &err), 0);
	assert_int_equal(scan->count, 1);
	/* "mutt": reads it, moves it to cur/ as seen and flagged. */
	pathf(from, "%s/%s", md, scan->entries[0].location);
	pathf(to, "%s/cur/%s:2,FS", md, scan->entries[0].location + 4);
	assert_int_equal(rename(from, to), 0);

	assert_int_equal(maildir_set_flags(md, scan->entries[0].location, S | R,
					   NULL, &loc2, &err), 0);
	assert_int_equal(strncmp(loc2, "cur/", 4), 0);
	assert_non_null(strstr(loc2, ":2,RS"));
	assert_true(exists(md, loc2));
	assert_int_equal(count_files(md, "cur"), 1);
	assert_int_equal(count_files(md, "new"), 0);
	maildir_scan_free(&scan);

	/* Truly gone: "lost", errno ENOENT, the path named. */
	pathf(to, "%s/%s", md, loc2);
	assert_int_equal(unlink(to), 0);
	free(loc2);
	assert_int_equal(maildir_set_flags(md, loc, S, NULL, &loc2, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(loc2);
	assert_non_null(strstr(err, md));
	assert_non_null(strstr(err, "lost"));
	free(loc);
	free(md);
}

static void test_remove(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	char from[1024], to[1024], *loc;

	assert_int_equal(maildir_deliver(md, "a\n", 2, S, NULL, 0, &loc, &err), 0);
	assert_int_equal(maildir_remove(md, loc, &err), 0);
	assert_false(exists(md, loc));
	/* Already removed: success. */
	assert_int_equal(maildir_remove(md, loc, &err), 0);
	free(loc);

	/* Renamed by someone else: the renamed file is removed. */
	assert_int_equal(maildir_deliver(md, "b\n", 2, S, NULL, 0, &loc, &err), 0);
	pathf(from, "%s/%s", md, loc);
	pathf(to, "%sT", from);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(maildir_remove(md, loc, &err), 0);
	assert_int_equal(count_files(md, "cur"), 0);

	assert_int_equal(maildir_remove(md, "elsewhere/x", &err), -1);
	assert_non_null(strstr(err, "bad location"));
	free(loc);
	free(md);
}

static void test_copy_and_move(void **state)
{
	const char *base = *state, *err = NULL;
	char *a = new_maildir(base, "A"), *b = new_maildir(base, "B");
	const char *msg = "Subject: copy me\n\nbody\n";
	char *loc, *copy, *moved, *got, *shm = NULL;
	struct maildir_name m1, m2;
	struct stat st;

	assert_int_equal(maildir_deliver(a, msg, strlen(msg), S, NULL, 1400000000,
					 &loc, &err), 0);
	assert_int_equal(maildir_copy(a, loc, b, S | F, NULL, &copy, &err), 0);
	assert_int_equal(maildir_parse_name(loc + 4, &m1), 0);
	assert_int_equal(maildir_parse_name(copy + 4, &m2), 0);
	/* Always a fresh unique name, never the old one. */
	assert_false(m1.key_len == m2.key_len && memcmp(m1.key, m2.key, m1.key_len) == 0);
	assert_int_equal(m2.size, (int64_t)strlen(msg));
	assert_int_equal(m2.flags, S | F);
	got = read_file(b, copy);
	assert_string_equal(got, msg);
	free(got);
	assert_true(exists(a, loc));
	assert_int_equal(count_files(b, "tmp"), 0);

	/* Move after a foreign rename of the source. */
	char from[1024], to[1024];

	pathf(from, "%s/%s", a, loc);
	pathf(to, "%sR", from);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(maildir_move(a, loc, b, 0, NULL, NULL, &moved, &err), 0);
	assert_int_equal(strncmp(moved, "new/", 4), 0);
	assert_int_equal(count_files(a, "cur"), 0);
	assert_int_equal(count_files(b, "cur") + count_files(b, "new"), 2);
	pathf(to, "%s/%s", b, moved);
	assert_int_equal(stat(to, &st), 0);
	assert_int_equal(st.st_mtime, 1400000000);	/* internal date kept */

	/* Across file systems (tmpfs): a copy, mtime kept. */
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) {
		char tmpl[] = "/dev/shm/test_maildir.XXXXXX";

		assert_non_null(mkdtemp(tmpl));
		shm = strdup(tmpl);
	} else {
		shm = make_tmpdir();
	}
	char *c = new_maildir(shm, "C"), *cloc;

	assert_int_equal(maildir_copy(b, moved, c, S, NULL, &cloc, &err), 0);
	got = read_file(c, cloc);
	assert_string_equal(got, msg);
	free(got);
	pathf(to, "%s/%s", c, cloc);
	assert_int_equal(stat(to, &st), 0);
	assert_int_equal(st.st_mtime, 1400000000);
	assert_int_equal(count_files(c, "tmp"), 0);

	/* A source that is gone is reported, naming it. */
	char *none = (char *)"unchanged";

	assert_int_equal(maildir_move(a, loc, b, 0, NULL, NULL, &none, &err), -1);
	assert_null(none);
	assert_non_null(strstr(err, a));
	assert_int_equal(errno, ENOENT);
	free(moved);

	rm_rf(shm);
	free(shm);
	free(c);
	free(cloc);
	free(loc);
	free(copy);
	free(a);
	free(b);
}

static void test_clean_tmp(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX");
	char fresh[1024], old[1024];
	time_t now = time(NULL);
	struct timespec ts[2] = { { now - 37 * 3600, 0 }, { now - 37 * 3600, 0 } };

	pathf(fresh, "%s/tmp/fresh", md);
	pathf(old, "%s/tmp/old", md);
	write_file(fresh, "delivery in progress");
	write_file(old, "left by a crash");
	assert_int_equal(utimensat(AT_FDCWD, old, ts, 0), 0);
	/* 35 hours old: kept. */
	ts[0].tv_sec = ts[1].tv_sec = now - 35 * 3600;
	assert_int_equal(utimensat(AT_FDCWD, fresh, ts, 0), 0);

	assert_int_equal(maildir_clean_tmp(md, now, &err), 1);
	assert_true(exists(md, "tmp/fresh"));
	assert_false(exists(md, "tmp/old"));
	assert_int_equal(maildir_clean_tmp(md, now, &err), 0);
	/* Injected clock: two days later the other goes too. */
	assert_int_equal(maildir_clean_tmp(md, now + 2 * 86400, &err), 1);

	rm_rf(old);
	pathf(old, "%s/tmp", md);
	rm_rf(old);
	assert_int_equal(maildir_clean_tmp(md, now, &err), 0);	/* no tmp/: 0 */
	free(md);
}

/* ---- folder listing ---- */

struct listed {
	char names[32][128];
	bool pp[32];
	int n;
};

static int collect(const struct maildir_folder *f, void *context)
{
	struct listed *l = context;

	assert_true(l->n < 32);
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", f->name);
	l->pp[l->n] = f->maildirpp;
	l->n++;
	return 0;
}

static int stop_at_first(const struct maildir_folder *f, void *context)
{
	(*(int *)context)++;
	return -1;
}

static void test_list_layouts(void **state)
{
	const char *base = *state, *err = NULL;
	char root[1024], path[1024], outside[1024];
	struct listed l = { .n = 0 };
	static const bool want_pp[] = {
		true, true, true, true, true, false, false, false, false,
	};
	int calls = 0;

	pathf(root, "%s/Mail", base);
	free(new_maildir(base, "Mail"));		/* root = INBOX (Maildir++) */
	free(new_maildir(root, ".Sent"));
	free(new_maildir(root, ".Archive"));
	free(new_maildir(root, ".Lists.foo"));
	free(new_maildir(root, ".Lists.bar"));
	free(new_maildir(root, "Archive/2023"));	/* plain nested */
	free(new_maildir(root, "Projects/alpha"));	/* Projects: a container */
	free(new_maildir(root, "Projects/alpha/sub"));	/* nested in a maildir */
	free(new_maildir(root, ".notmuch/xapian"));	/* looks like nothing */
	pathf(path, "%s/.notmuch/xapian/cur", root);
	rm_rf(path);
	free(new_maildir(root, ".loft/INBOX"));		/* a maildir, but hidden */
	free(new_maildir(root, "Archive/.hidden"));
	/* A maildir outside the root, reachable only by a symlink. */
	free(new_maildir(base, "Outside"));
	pathf(outside, "%s/Outside", base);
	pathf(path, "%s/escape", root);
	assert_int_equal(symlink(outside, path), 0);
	pathf(path, "%s/.Escape", root);
	assert_int_equal(symlink(outside, path), 0);
	/* A symlink inside the root is followed; a loop is not. */
	pathf(path, "%s/alias", root);
	assert_int_equal(symlink("Projects/alpha/sub", path), 0);
	pathf(path, "%s/Projects/loop", root);
	assert_int_equal(symlink("..", path), 0);
	/* Files lying around are not folders. */
	pathf(path, "%s/subscriptions", root);
	write_file(path, "Sent\n");
	pathf(path, "%s/mbox-file", root);
	write_file(path, "From x\n");

	assert_int_equal(maildir_list(root, collect, &l, &err), 0);
	for (int i = 0; i < l.n; i++)
		print_message("listed %s%s\n", l.names[i], l.pp[i] ? " (Maildir++)" : "");
	/* Root first, then the root's entries in name order: dot names sort
	 * before letters, and plain folders come depth first. */
	static const char *const order[] = { "INBOX", "Archive", "Lists/bar", "Lists/foo", "Sent",
				"Archive/2023", "Projects/alpha", "Projects/alpha/sub",
				"alias" };
	assert_int_equal(l.n, (int)(sizeof(order) / sizeof(order[0])));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		assert_string_equal(l.names[i], order[i]);
		assert_int_equal(l.pp[i], want_pp[i]);
	}

	/* A callback can stop the walk. */
	assert_int_equal(maildir_list(root, stop_at_first, &calls, &err), -1);
	assert_int_equal(calls, 1);
	assert_int_equal(errno, ECANCELED);

	/* A plain root (not itself a maildir). */
	l.n = 0;
	pathf(path, "%s/Projects", root);
	assert_int_equal(maildir_list(path, collect, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.names[0], "alpha");
	assert_false(l.pp[0]);
	assert_string_equal(l.names[1], "alpha/sub");

	pathf(path, "%s/none", base);
	assert_int_equal(maildir_list(path, collect, &l, &err), -1);
	assert_non_null(strstr(err, path));
}

/* ---- bad input ---- */

static void test_scan_vanished_folder(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "Gone"), path[1024];
	struct maildir_scan *scan = (struct maildir_scan *)1;

	rm_rf(md);
	assert_int_equal(maildir_scan(md, 0, &scan, &err), -1);
	assert_non_null(strstr(err, md));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(errno, ENOENT);

	/* Only cur/ gone. */
	free(md);
	md = new_maildir(base, "Half");
	pathf(path, "%s/cur", md);
	rm_rf(path);
	assert_int_equal(maildir_scan(md, 0, &scan, &err), -1);
	assert_non_null(strstr(err, path));

	char *loc;

	assert_int_equal(maildir_find(md, "1.x", &loc, &err), -1);
	assert_non_null(strstr(err, path));
	free(md);
}

static void test_scan_survives_bad_entries(void **state)
{
	const char *base = *state, *err = NULL;
	char *md = new_maildir(base, "INBOX"), path[1024];
	struct maildir_scan *scan;
	const struct maildir_entry *e;
	char *loc;
	int problems_seen = 0;

	/* A good message, delivered. */
	assert_int_equal(maildir_deliver(md, "good\n", 5, S, NULL, 0, &loc, &err), 0);
	/* A fifo: not a message, and never opened (it would block). */
	pathf(path, "%s/cur/1700000001.fifo,S=10:2,S", md);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A dangling symlink: unreadable, even by root. */
	pathf(path, "%s/cur/1700000002.dangling:2,S", md);
	assert_int_equal(symlink("/nonexistent/loft-test", path), 0);
	/* A directory where a message should be. */
	pathf(path, "%s/new/1700000003.dir", md);
	assert_int_equal(mkdir(path, 0700), 0);
	/* An empty file, no info, no size: listed with size 0. */
	pathf(path, "%s/cur/1700000004.empty", md);
	write_file(path, "");
	/* Unknown letters, a garbled name: listed. */
	pathf(path, "%s/cur/garbled name with spaces:2,SXYZ", md);
	write_file(path, "garbage");
	/* chmod 000: root still reads it; listed either way. */
	pathf(path, "%s/cur/1700000005.M1P1.h,S=3:2,", md);
	write_file(path, "abc");
	chmod(path, 0);
	/* A working symlink to a message: followed. */
	pathf(path, "%s/cur/1700000006.link:2,F", md);
	{
		char target[1024];

		pathf(target, "%s/%s", md, loc);
		assert_int_equal(symlink(target, path), 0);
	}
	/* Dot files are not messages. */
	pathf(path, "%s/cur/.nfs000123", md);
	write_file(path, "x");

	assert_int_equal(maildir_scan(md, 0, &scan, &err), 0);
	for (size_t i = 0; i < scan->problem_count; i++) {
		print_message("problem: %s\n", scan->problems[i]);
		assert_non_null(strstr(scan->problems[i], md));
		if (strstr(scan->problems[i], "fifo") ||
		    strstr(scan->problems[i], "dangling symbolic link") ||
		    strstr(scan->problems[i], "(directory)"))
			problems_seen++;
	}
	assert_int_equal(scan->problem_count, 3);
	assert_int_equal(problems_seen, 3);
	assert_int_equal(scan->count, 5);
	e = scan_find(scan, "1700000004.empty");
	assert_non_null(e);
	assert_int_equal(e->size, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->source, 0);		/* no S=: statted */
	e = scan_find(scan, "garbled name with spaces");
	assert_non_null(e);
	assert_int_equal(e->flags, S);
	assert_string_equal(e->extra, "XYZ");
	assert_int_equal(e->size, 7);
	e = scan_find(scan, "1700000005.M1P1.h,S=3");
	assert_non_null(e);
	assert_int_equal(e->size, 3);
	assert_int_equal(e->date, 1700000005);
	e = scan_find(scan, "1700000006.link");
	assert_non_null(e);
	assert_int_equal(e->flags, F);
	assert_int_equal(e->size, 5);
	maildir_scan_free(&scan);

	/* The unknown letters survive a flag change. */
	char *loc2;

	assert_int_equal(maildir_set_flags(md, "cur/garbled name with spaces:2,SXYZ",
					   S | R, "XYZ", &loc2, &err), 0);
	assert_string_equal(loc2, "cur/garbled name with spaces:2,RSXYZ");
	assert_true(exists(md, loc2));
	free(loc2);
	free(loc);
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_flag_letters),
		cmocka_unit_test(test_unique_names),
		cmocka_unit_test_setup_teardown(test_create_and_detect, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_deliver_then_scan, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_deliver_bad_extra_leaves_nothing, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_deliver_into_missing_folder, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_flags_moves_and_renames, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_flags_keeps_bang_separator, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_flags_after_foreign_rename, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_remove, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_copy_and_move, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_clean_tmp, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_list_layouts, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_scan_vanished_folder, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_scan_survives_bad_entries, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
