/* store/mbox: mboxrd quoting, scanning, append, rewrite, locking. */
#include "store/mbox.h"
#include "store/store.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static char tmpdir[] = "/tmp/loft-mbox-test.XXXXXX";
static unsigned file_counter;

/* A fresh path in the test directory. */
static char *new_path(void)
{
	return xasprintf("%s/mbox%u", tmpdir, file_counter++);
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The whole file; caller frees. */
static char *slurp(const char *path, size_t *len_r)
{
	struct sbuf sb = SBUF_INIT;
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sbuf_add(&sb, buf, (size_t)n);
	close(fd);
	return sbuf_detach(&sb, len_r);
}

static struct mbox *open_ok(const char *path, bool create, unsigned timeout)
{
	struct mbox *mb = NULL;
	const char *error = NULL;

	if (mbox_open(path, create, timeout, &mb, &error) < 0)
		fail_msg("%s", error);
	return mb;
}

static size_t scan_ok(struct mbox *mb, struct mbox_entry **e)
{
	const char *error = NULL;
	size_t n = 0;

	if (mbox_scan(mb, e, &n, &error) < 0)
		fail_msg("%s", error);
	return n;
}

static void assert_read(struct mbox *mb, const struct mbox_entry *e, const char *want,
			size_t want_len)
{
	struct sbuf sb = SBUF_INIT;
	const char *error = NULL;

	if (mbox_read(mb, e, &sb, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(sb.len, want_len);
	assert_memory_equal(sb.buf, want, want_len);
	sbuf_release(&sb);
}

/* ---- quoting ---- */

static void test_quote_table(void **state)
{
	static const struct { const char *in, *quoted; } cases[] = {
		{ "From x\n", ">From x\n" },
		{ ">From x\n", ">>From x\n" },
		{ ">>From x\n", ">>>From x\n" },
		{ ">>From\n", ">>From\n" },		/* no space: not a From_ line */
		{ "From\n", "From\n" },
		{ "Fromage\n", "Fromage\n" },
		{ "from x\n", "from x\n" },		/* case matters */
		{ " From x\n", " From x\n" },
		{ "a\nFrom x", "a\n>From x" },		/* last line without newline */
		{ "From x\r\n>From y\r\n", ">From x\r\n>>From y\r\n" },
		{ "x\n\nFrom a\n>\n", "x\n\n>From a\n>\n" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf q = SBUF_INIT, u = SBUF_INIT;

		mbox_quote(cases[i].in, strlen(cases[i].in), &q);
		assert_string_equal(q.buf, cases[i].quoted);
		mbox_unquote(q.buf, q.len, &u);
		assert_string_equal(u.buf, cases[i].in);
		sbuf_release(&q);
		sbuf_release(&u);
	}
}

static void test_parse_from_line(void **state)
{
	static const struct { const char *line, *sender; int64_t date; } cases[] = {
		{ "From a@b Mon Jan  1 00:00:00 2024\n", "a@b", 1704067200 },
		{ "From a@b Mon Jan 1 00:00:00 2024\r\n", "a@b", 1704067200 },
		{ "From \"a b\"@c Tue Feb 27 13:14:15 2024", "\"a b\"@c", 1709039655 },
		{ "From x Mon Jan  1 02:00:00 +0200 2024", "x", 1704067200 },
		{ "From x Mon Jan  1 00:00 2024", "x", 1704067200 },
		{ "From x Jan  1 00:00:00 2024", "x", 1704067200 },
		{ "From x y z", "x", 0 },
		{ "From x Mon Jan 99 00:00:00 2024", "x", 0 },
		{ "From ", "", 0 },
		{ "From  Mon Jan  1 00:00:00 2024", "", 1704067200 },
		{ "From Jan 1 00:00:00 2024", "", 1704067200 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *sender = NULL;
		int64_t date = -1;
		bool ok = mbox_parse_from_line(cases[i].line, strlen(cases[i].line),
					       &sender, &date);

		assert_string_equal(sender, cases[i].sender);
		assert_int_equal(date, cases[i].date);
		assert_int_equal(ok, cases[i].date != 0);
		free(sender);
	}
}

/* ---- scanning ---- */

static const char sample[] =
	"From alice@example.org Mon Jan  1 00:00:00 2024\n"
	"From: alice@example.org\n"
	"Subject: one\n"
	"Status: RO\n"
	"\n"
	"Body one.\n"
	">From the quoted line\n"
	"\n"
	"From bob@example.org Tue Jan  2 00:00:00 2024\n"
	"From: bob@example.org\n"
	"Subject: two\n"
	"X-Status: AF\n"
	"\n"
	"Body two.\n"
	"From inside a paragraph (mboxo style, no blank line before)\n"
	"\n"
	"From carol@example.org Wed Jan  3 00:00:00 2024\n"
	"Subject: three\n"
	"Status: O\n"
	"X-Status: TD\n"
	"\n"
	"Body three.\n"
	"\n";

static void test_scan_sample(void **state)
{
	char *path = new_path();
	struct mbox *mb;
	struct mbox_entry *e;
	size_t n;

	write_file(path, sample, sizeof(sample) - 1, 0600);
	mb = open_ok(path, false, 1);
	n = scan_ok(mb, &e);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].sender, "alice@example.org");
	assert_int_equal(e[0].date, 1704067200);
	assert_int_equal(e[1].date, 1704067200 + 86400);
	assert_int_equal(e[0].from_offset, 0);
	assert_int_equal(e[0].flags, STORE_SEEN);
	assert_int_equal(e[1].flags, STORE_ANSWERED | STORE_FLAGGED | STORE_RECENT);
	assert_int_equal(e[2].flags, STORE_DRAFT | STORE_DELETED);
	assert_string_not_equal(e[0].key, e[1].key);
	assert_string_not_equal(e[1].key, e[2].key);

	const char *m1 = "From: alice@example.org\nSubject: one\nStatus: RO\n\n"
			 "Body one.\nFrom the quoted line\n";
	assert_read(mb, &e[0], m1, strlen(m1));
	const char *m2 = "From: bob@example.org\nSubject: two\nX-Status: AF\n\n"
			 "Body two.\nFrom inside a paragraph (mboxo style, no blank line before)\n";
	assert_read(mb, &e[1], m2, strlen(m2));
	assert_int_equal(e[2].offset + e[2].length + 1, sizeof(sample) - 1);
	mbox_entries_free(e, n);
	mbox_close(&mb);
	assert_null(mb);
	free(path);
}

static void test_scan_empty_and_not_mbox(void **state)
{
	char *path = new_path();
	struct mbox *mb;
	struct mbox_entry *e = NULL;
	const char *error = NULL;
	size_t n = 99;

	mb = open_ok(path, true, 1);	/* created, empty */
	assert_int_equal(scan_ok(mb, &e), 0);
	mbox_entries_free(e, 0);
	mbox_close(&mb);

	write_file(path, "Hello, this is not a mailbox\n", 29, 0600);
	mb = open_ok(path, false, 1);
	assert_int_equal(mbox_scan(mb, &e, &n, &error), -1);
	assert_non_null(strstr(error, path));
	assert_non_null(strstr(error, "not an mbox file"));
	mbox_close(&mb);

	/* leading blank lines are tolerated */
	write_file(path, "\n\nFrom a Mon Jan  1 00:00:00 2024\n\nx\n", 37, 0600);
	mb = open_ok(path, false, 1);
	assert_int_equal(scan_ok(mb, &e), 1);
	assert_read(mb, &e[0], "\nx\n", 3);
	mbox_entries_free(e, 1);
	mbox_close(&mb);

	assert_int_equal(mbox_open("/nonexistent/dir/mbox", false, 1, &mb, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/dir/mbox"));
	assert_int_equal(mbox_open(tmpdir, false, 1, &mb, &error), -1);
	assert_non_null(strstr(error, "directory"));
	free(path);
}

static void test_scan_bad_input(void **state)
{
	char *path = new_path();
	struct mbox *mb;
	struct mbox_entry *e;
	size_t n;

	/* CRLF, NUL bytes, a garbled From_ line after a blank line, a final
	 * message without a newline. */
	static const char bad[] =
		"From a Mon Jan  1 00:00:00 2024\r\n"
		"Subject: crlf\r\nStatus: R\r\n\r\nbody\0with nul\r\n\r\n"
		"From garbled\n"
		"x\n"
		"\n"
		"From c Mon Jan  1 00:00:00 2024\n"
		"no newline at the end";
	write_file(path, bad, sizeof(bad) - 1, 0600);
	mb = open_ok(path, false, 1);
	n = scan_ok(mb, &e);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].flags, STORE_SEEN | STORE_RECENT);
	assert_read(mb, &e[0], "Subject: crlf\r\nStatus: R\r\n\r\nbody\0with nul\r\n",
		    43);
	assert_string_equal(e[1].sender, "garbled");
	assert_int_equal(e[1].date, 0);
	assert_read(mb, &e[2], "no newline at the end", 21);
	mbox_entries_free(e, n);
	mbox_close(&mb);

	/* a 3 MiB line (longer than the read block) and a long From_ line */
	struct sbuf sb = SBUF_INIT;
	sbuf_addstr(&sb, "From a Mon Jan  1 00:00:00 2024\nSubject: big\n\n");
	for (int i = 0; i < 3 * 1024 * 1024; i++)
		sbuf_addch(&sb, 'A' + i % 26);
	sbuf_addstr(&sb, "\n\nFrom ");
	for (int i = 0; i < 1024 * 1024 + 10; i++)
		sbuf_addch(&sb, 'x');
	sbuf_addstr(&sb, " Mon Jan  1 00:00:00 2024\nSubject: after\n\nbody\n\n");
	write_file(path, sb.buf, sb.len, 0600);
	mb = open_ok(path, false, 1);
	n = scan_ok(mb, &e);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].length, 14 + 3 * 1024 * 1024 + 1);
	assert_read(mb, &e[1], "Subject: after\n\nbody\n", 21);
	mbox_entries_free(e, n);
	mbox_close(&mb);
	sbuf_release(&sb);
	free(path);
}

/* ---- append ---- */

static void test_append_roundtrip(void **state)
{
	static const char *msgs[] = {
		"From: a@b\nSubject: hi\n\nFrom the start\n>From quoted\n>>From x\nFromage\n",
		"Subject: no final newline\n\nlast line",
		"Subject: crlf\r\n\r\nFrom x\r\n",
		"Subject: ends in blank lines\n\nbody\n\n\n",
		"",
	};
	size_t nmsgs = sizeof(msgs) / sizeof(msgs[0]);
	char *path = new_path();
	struct mbox *mb = open_ok(path, true, 1);
	struct mbox_entry *e;
	const char *error = NULL;
	uint64_t off;
	size_t n;

	for (size_t i = 0; i < nmsgs; i++)
		if (mbox_append(mb, msgs[i], strlen(msgs[i]), i == 0 ? "a@b" : NULL,
				1704067200 + (int64_t)i, STORE_RECENT, &off, &error) < 0)
			fail_msg("%s", error);
	assert_true(off > 0);
	n = scan_ok(mb, &e);
	assert_int_equal(n, nmsgs);
	assert_int_equal(e[nmsgs - 1].from_offset, off);
	for (size_t i = 0; i < nmsgs; i++) {
		struct sbuf want = SBUF_INIT;

		sbuf_addstr(&want, msgs[i]);
		if (want.len > 0 && want.buf[want.len - 1] != '\n')
			sbuf_addch(&want, '\n');
		assert_read(mb, &e[i], want.buf, want.len);
		assert_int_equal(e[i].date, 1704067200 + (int64_t)i);
		assert_int_equal(e[i].flags, STORE_RECENT);
		sbuf_release(&want);
	}
	assert_string_equal(e[0].sender, "a@b");
	assert_string_equal(e[1].sender, "MAILER-DAEMON");
	mbox_entries_free(e, n);

	/* flags become Status/X-Status; old ones in the data are replaced */
	const char *m = "Subject: flags\nStatus: O\nX-Status: D\n\nbody\n";
	if (mbox_append(mb, m, strlen(m), "we ird\tsender", 0,
			STORE_SEEN | STORE_FLAGGED | STORE_ANSWERED, NULL, &error) < 0)
		fail_msg("%s", error);
	n = scan_ok(mb, &e);
	assert_int_equal(n, nmsgs + 1);
	assert_int_equal(e[nmsgs].flags, STORE_SEEN | STORE_FLAGGED | STORE_ANSWERED);
	assert_string_equal(e[nmsgs].sender, "we_ird_sender");
	assert_true(e[nmsgs].date > 1704067200);
	const char *want = "Subject: flags\nStatus: RO\nX-Status: AF\n\nbody\n";
	assert_read(mb, &e[nmsgs], want, strlen(want));
	mbox_entries_free(e, n);
	mbox_close(&mb);
	free(path);
}

/* The UI runs with setlocale(LC_ALL, ""): a From_ line written under a
 * German locale must still carry English names our own parser (and mutt's)
 * reads back.  The locale is compiled into the test directory (localedef
 * and the `locales` sources are installed by `make deps`). */
static void test_append_foreign_locale(void **state)
{
	char *path = new_path();
	char *locdir = xasprintf("%s/locale", tmpdir);
	char *cmd = xasprintf("localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 2>/dev/null", locdir);
	struct mbox *mb;
	struct mbox_entry *e;
	const char *error = NULL;
	const char *m = "Subject: Datum\n\nbody\n";
	size_t n;

	mkdir(locdir, 0700);
	if (system(cmd) != 0)
		fail_msg("localedef -i de_DE failed (make deps installs `locales`)");
	setenv("LOCPATH", locdir, 1);
	if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL)
		fail_msg("the de_DE.UTF-8 locale built in %s does not load", locdir);
	mb = open_ok(path, true, 1);
	/* Tue 2024-05-14: "Di" and "Mai" in German. */
	if (mbox_append(mb, m, strlen(m), "a@b", 1715689800, 0, NULL, &error) < 0)
		fail_msg("%s", error);
	n = scan_ok(mb, &e);
	setlocale(LC_ALL, "C");
	unsetenv("LOCPATH");
	assert_int_equal(n, 1);
	assert_int_equal(e[0].date, 1715689800);
	assert_string_equal(e[0].sender, "a@b");
	mbox_entries_free(e, n);
	mbox_close(&mb);
	free(cmd);
	free(locdir);
	free(path);
}

/* An mbox that does not end in a blank line still gets a proper separator. */
static void test_append_after_unterminated(void **state)
{
	char *path = new_path();
	struct mbox *mb;
	struct mbox_entry *e;
	const char *error = NULL;
	size_t n;

	write_file(path, "From a Mon Jan  1 00:00:00 2024\n\nold", 36, 0600);
	mb = open_ok(path, false, 1);
	if (mbox_append(mb, "\nnew\n", 5, "b", 0, STORE_RECENT, NULL, &error) < 0)
		fail_msg("%s", error);
	n = scan_ok(mb, &e);
	assert_int_equal(n, 2);
	assert_read(mb, &e[0], "\nold\n", 5);
	assert_read(mb, &e[1], "\nnew\n", 5);
	mbox_entries_free(e, n);
	mbox_close(&mb);
	free(path);
}

static void test_append_failure_truncates(void **state)
{
	char *path = new_path();
	char *before, *after;
	size_t before_len, after_len;
	struct mbox *mb = open_ok(path, true, 1);
	const char *error = NULL;
	int status;
	pid_t pid;

	if (mbox_append(mb, "Subject: one\n\nbody\n", 19, "a", 0, STORE_RECENT, NULL,
			&error) < 0)
		fail_msg("%s", error);
	before = slurp(path, &before_len);

	/* A real failure: a file size limit a little above the current size
	 * makes the write fail half way (EFBIG).  In a child, so the limit
	 * does not stay. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { before_len + 100, before_len + 100 };
		struct sbuf big = SBUF_INIT;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		sbuf_addstr(&big, "Subject: big\n\n");
		for (int i = 0; i < 10000; i++)
			sbuf_addstr(&big, "0123456789\n");
		if (mbox_append(mb, big.buf, big.len, "b", 0, 0, NULL, &error) == 0)
			_exit(3);
		if (strstr(error, path) == NULL || strstr(error, "unchanged") == NULL)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(before);
	free(after);
	mbox_close(&mb);
	free(path);
}

/* ---- rewrite ---- */

static void check_rewrite_keeps_mode(mode_t mode)
{
	char *path = new_path();
	struct mbox *mb;
	struct mbox_entry *e, *e2;
	const char *error = NULL;
	char *orig, *now;
	size_t n, orig_len, now_len;
	struct stat st;
	bool keep[3] = { true, false, true };

	write_file(path, sample, sizeof(sample) - 1, mode);
	orig = slurp(path, &orig_len);
	mb = open_ok(path, false, 1);
	n = scan_ok(mb, &e);
	assert_int_equal(n, 3);
	if (mbox_rewrite(mb, e, n, keep, NULL, &error) < 0)
		fail_msg("%s", error);
	now = slurp(path, &now_len);

	/* message 1 and message 3, each with From_ line and separator, byte
	 * for byte */
	size_t l1 = (size_t)e[1].from_offset;
	size_t l3 = orig_len - (size_t)e[2].from_offset;
	assert_int_equal(now_len, l1 + l3);
	assert_memory_equal(now, orig, l1);
	assert_memory_equal(now + l1, orig + e[2].from_offset, l3);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);

	bool changed = false;
	assert_int_equal(mbox_changed(mb, &changed, &error), 0);
	assert_true(changed);
	n = scan_ok(mb, &e2);
	assert_int_equal(n, 2);
	assert_string_equal(e2[0].key, e[0].key);
	assert_string_equal(e2[1].key, e[2].key);
	mbox_entries_free(e, 3);

	/* re-flagging: the key survives, the flags change */
	uint32_t flags[2] = { e2[0].flags, STORE_SEEN | STORE_FLAGGED };
	if (mbox_rewrite(mb, e2, n, NULL, flags, &error) < 0)
		fail_msg("%s", error);
	n = scan_ok(mb, &e);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].flags, flags[0]);
	assert_int_equal(e[1].flags, flags[1]);
	assert_string_equal(e[1].key, e2[1].key);
	assert_read(mb, &e[1], "Subject: three\nStatus: RO\nX-Status: F\n\nBody three.\n",
		    51);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);

	/* a stale scan is refused */
	if (mbox_append(mb, "x\n", 2, "a", 0, STORE_RECENT, NULL, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(mbox_rewrite(mb, e, n, NULL, NULL, &error), -1);
	assert_non_null(strstr(error, "changed since it was scanned"));

	mbox_entries_free(e, n);
	mbox_entries_free(e2, 2);
	mbox_close(&mb);
	free(orig);
	free(now);
	free(path);
}

static void test_rewrite_expunge(void **state)
{
	check_rewrite_keeps_mode(0600);
	check_rewrite_keeps_mode(0644);
}

/* ---- locking ---- */

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_lock_fcntl_held_by_child(void **state)
{
	char *path = new_path();
	struct mbox *mb = open_ok(path, true, 1);
	const char *error = NULL;
	struct timespec t0;
	int to_parent[2], to_child[2], status;
	char c;
	pid_t pid;

	assert_int_equal(pipe(to_parent), 0);
	assert_int_equal(pipe(to_child), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mbox *cm = NULL;
		const char *err;

		if (mbox_open(path, false, 1, &cm, &err) < 0 ||
		    mbox_lock(cm, true, &err) < 0)
			_exit(1);
		if (write(to_parent[1], "L", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(2);
		mbox_close(&cm);
		_exit(0);
	}
	assert_int_equal(read(to_parent[0], &c, 1), 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mbox_lock(mb, false, &error), -1);
	assert_true(elapsed(&t0) >= 0.9);
	assert_true(elapsed(&t0) < 5);
	assert_non_null(strstr(error, path));
	assert_non_null(strstr(error, "locked by another program"));
	assert_non_null(strstr(error, "fcntl"));
	/* append and scan give up the same way */
	assert_int_equal(mbox_append(mb, "x\n", 2, "a", 0, 0, NULL, &error), -1);
	assert_non_null(strstr(error, "locked by another program"));

	assert_int_equal(write(to_child[1], "U", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	/* released: now it works, and the dotlock was cleaned up */
	if (mbox_lock(mb, true, &error) < 0)
		fail_msg("%s", error);
	mbox_unlock(mb);
	char *lock = xasprintf("%s.lock", path);
	assert_int_equal(access(lock, F_OK), -1);
	free(lock);
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
	mbox_close(&mb);
	free(path);
}

static void test_lock_dotlock(void **state)
{
	char *path = new_path();
	char *lock = xasprintf("%s.lock", path);
	struct mbox *mb = open_ok(path, true, 1);
	const char *error = NULL;
	struct timespec t0;
	struct mbox_entry *e;

	write_file(lock, "12345\n", 6, 0644);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mbox_lock(mb, true, &error), -1);
	assert_true(elapsed(&t0) >= 0.9);
	char *want = xasprintf("%s: locked by another program (dotlock %s)", path, lock);
	assert_non_null(strstr(error, want));
	free(want);
	assert_int_equal(mbox_append(mb, "x\n", 2, "a", 0, 0, NULL, &error), -1);
	assert_int_equal(access(lock, F_OK), 0);	/* someone else's: left alone */

	/* readers do not need the dotlock */
	assert_int_equal(scan_ok(mb, &e), 0);
	free(e);

	/* a dotlock 10 minutes old is stale and removed */
	struct timeval old[2] = { { time(NULL) - 600, 0 }, { time(NULL) - 600, 0 } };
	assert_int_equal(utimes(lock, old), 0);
	if (mbox_append(mb, "x\n", 2, "a", 0, 0, NULL, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(access(lock, F_OK), -1);

	/* timeout 0: a single attempt */
	write_file(lock, "1\n", 2, 0644);
	mbox_close(&mb);
	mb = open_ok(path, false, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mbox_lock(mb, true, &error), -1);
	assert_true(elapsed(&t0) < 0.5);
	unlink(lock);
	mbox_close(&mb);
	free(lock);
	free(path);
}

/* ---- changes behind our back, keys ---- */

static void test_changed_and_keys(void **state)
{
	char *path = new_path();
	struct mbox *a = open_ok(path, true, 1), *b = open_ok(path, false, 1);
	struct mbox_entry *e, *e2;
	const char *error = NULL;
	bool changed = false;
	size_t n;

	assert_int_equal(mbox_changed(a, &changed, &error), 0);
	assert_true(changed);		/* never scanned */
	for (int i = 0; i < 3; i++)	/* three identical messages */
		assert_int_equal(mbox_append(b, "S: d\n\nx\n", 8, "a", 1704067200,
					     STORE_RECENT, NULL, &error), 0);
	assert_int_equal(mbox_append(b, "S: u\n\nx\n", 8, "a", 1704067200, STORE_RECENT,
				     NULL, &error), 0);
	n = scan_ok(a, &e);
	assert_int_equal(n, 4);
	assert_int_equal(mbox_changed(a, &changed, &error), 0);
	assert_false(changed);
	assert_null(strchr(e[0].key, '-'));
	assert_true(strncmp(e[1].key, e[0].key, 16) == 0 && strcmp(e[1].key + 16, "-2") == 0);
	assert_true(strncmp(e[2].key, e[0].key, 16) == 0 && strcmp(e[2].key + 16, "-3") == 0);
	assert_string_not_equal(e[3].key, e[0].key);

	/* another handle appends: a changes */
	assert_int_equal(mbox_append(b, "S: d\n\nx\n", 8, "a", 1704067200, STORE_SEEN,
				     NULL, &error), 0);
	assert_int_equal(mbox_changed(a, &changed, &error), 0);
	assert_true(changed);
	n = scan_ok(a, &e2);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(e2[i].key, e[i].key);
	/* flags are not part of the key: a fourth copy */
	assert_true(strcmp(e2[4].key + 16, "-4") == 0);
	mbox_entries_free(e, 4);
	mbox_entries_free(e2, 5);

	/* the file vanished: changed */
	unlink(path);
	assert_int_equal(mbox_changed(a, &changed, &error), 0);
	assert_true(changed);
	mbox_close(&a);
	mbox_close(&b);
	free(path);
}

/* Interop: python3's mailbox.mbox reads what we write (count, envelope
 * sender, flags). */
static void test_python_reads_ours(void **state)
{
	char *path = new_path();
	struct mbox *mb = open_ok(path, true, 1);
	const char *error = NULL;
	char *cmd;
	int r;

	for (int i = 0; i < 3; i++)
		if (mbox_append(mb, "Subject: py\n\nFrom here\n", 23, "s@x", 1704067200,
				i == 1 ? STORE_SEEN | STORE_FLAGGED : STORE_RECENT, NULL,
				&error) < 0)
			fail_msg("%s", error);
	mbox_close(&mb);
	/* python3 is one of the packages `make deps` installs: its absence is
	 * a broken test machine, not a reason to pass. */
	if (system("python3 -c 'import mailbox' 2>/dev/null") != 0)
		fail_msg("python3 with its mailbox module is missing (make deps installs it)");
	cmd = xasprintf("python3 -c 'import mailbox, sys\n"
			"m = list(mailbox.mbox(sys.argv[1], create=False))\n"
			"assert len(m) == 3, len(m)\n"
			"assert m[0].get_from().startswith(\"s@x Mon Jan  1 00:00:00 2024\")\n"
			"assert m[1].get_flags() == \"ROF\", m[1].get_flags()\n"
			"assert m[2][\"Subject\"] == \"py\"' '%s'", path);
	r = system(cmd);
	assert_int_equal(r, 0);
	free(cmd);
	free(path);
}

static int group_setup(void **state)
{
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int r = system(cmd);

	free(cmd);
	return r == 0 ? 0 : -1;
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);	/* the stale dotlock warning */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_table),
		cmocka_unit_test(test_parse_from_line),
		cmocka_unit_test(test_scan_sample),
		cmocka_unit_test(test_scan_empty_and_not_mbox),
		cmocka_unit_test(test_scan_bad_input),
		cmocka_unit_test(test_append_roundtrip),
		cmocka_unit_test(test_append_foreign_locale),
		cmocka_unit_test(test_append_after_unterminated),
		cmocka_unit_test(test_append_failure_truncates),
		cmocka_unit_test(test_rewrite_expunge),
		cmocka_unit_test(test_lock_fcntl_held_by_child),
		cmocka_unit_test(test_lock_dotlock),
		cmocka_unit_test(test_changed_and_keys),
		cmocka_unit_test(test_python_reads_ours),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
