/* client/mailbox_imap: the IMAP driver through the driver table
 * (client/mailbox.h) against a real `loft daemon` this program starts on
 * 127.0.0.1 ($LOFT, the binary `make test` names; skipped without it):
 * the rows arrive through the notify fd, ENVELOPE and sizes; a body is
 * read; flags on a set, an expunge and an append reach the server (seen
 * by a second mailbox on the same folder); a delivery on the server wakes
 * the notify fd; with the server killed the cached body stays readable,
 * another read fails at once, and the driver reconnects by itself; threads
 * kept through the driver come back on the next open of the same rows
 * and not once the rows changed.  The
 * tests run in order on one server; each says what it leaves. */
#include "client/mailbox.h"
#include "client/thread.h"

#include "lib/config.h"
#include "remote/hcache.h"
#include "lib/arena.h"
#include "lib/sbuf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hcache-test.h"
#include <lmdb.h>

#define PW "phone-password-1"

static char dir[] = "/tmp/loft-test-mbimap-XXXXXX";
static char server_rc[600], url[200], loft[512];
static int port;
static pid_t daemon_pid = -1;
static struct config *cfg;
static struct mailbox_env env;
static struct mailbox *mb;

/* Runs `loft -F server.rc ARGS...` with input on its stdin; its status. */
static int run_loft(const char *input, const char *a1, const char *a2, const char *a3)
{
	int fds[2];
	pid_t pid;
	int st;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(fds[0], 0);
		dup2(null, 1);
		close(fds[0]);
		close(fds[1]);
		execl(loft, "loft", "-F", server_rc, a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (write(fds[1], input, strlen(input)) < 0)
		st = -1;
	close(fds[1]);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return st;
}

static void deliver(const char *subject)
{
	char text[400];

	snprintf(text, sizeof(text),
		 "From: Alice <alice@example.org>\nTo: me@example.org\nSubject: %s\n"
		 "Date: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <%s@test>\n\nbody of %s\n",
		 subject, subject, subject);
	assert_int_equal(run_loft(text, "deliver", NULL, NULL), 0);
}

static bool port_open(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return up;
}

/* Starts the daemon in a process group of its own (so a crash takes its
 * connections too) and waits until it accepts. */
static void start_daemon(void)
{
	char log[600];

	snprintf(log, sizeof(log), "%s/daemon.log", dir);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		setpgid(0, 0);
		dup2(fd, 2);
		execl(loft, "loft", "-F", server_rc, "daemon", (char *)NULL);
		_exit(127);
	}
	assert_true(daemon_pid > 0);
	for (int i = 0; i < 200 && !port_open(); i++)
		usleep(50 * 1000);
	assert_true(port_open());
}

static void kill_daemon(int sig)
{
	kill(-daemon_pid, sig);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = -1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Waits (ms at most) on m's notify fd, syncing, until it holds n rows and
 * its last status starts with want (NULL: any).  Returns the time taken,
 * or fails the test. */
static long wait_rows(struct mailbox *m, size_t n, const char *want, long ms)
{
	long t0 = now_ms();
	char last[300] = "";

	for (;;) {
		struct pollfd pf = { mailbox_notify_fd(m), POLLIN, 0 };
		const char *st, *err = NULL;

		if (mailbox_sync(m, NULL, &err) < 0)
			fail_msg("sync: %s", err);
		if ((st = mailbox_status(m)) != NULL)
			snprintf(last, sizeof(last), "%s", st);
		if (mailbox_count(m) == n && (want == NULL || strncmp(last, want, strlen(want)) == 0))
			return now_ms() - t0;
		if (now_ms() - t0 > ms)
			fail_msg("after %ld ms: %zu rows (want %zu), status '%s' (want '%s')", ms,
				 mailbox_count(m), n, last, want ? want : "");
		if (poll(&pf, 1, 100) > 0) {
			char buf[64];

			/* The driver's sync does not drain it: the UI's loop does. */
			if (read(pf.fd, buf, sizeof(buf)) < 0) {
				/* Nothing there after all. */
			}
		}
	}
}

static struct mailbox *open_url(void)
{
	struct mailbox *m = NULL;
	const char *err = NULL;

	if (mailbox_open(&env, url, 0, &m, &err) < 0)
		fail_msg("mailbox_open(%s): %s", url, err);
	return m;
}

static int rm_fn(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb, (void)type, (void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	const char *l = getenv("LOFT");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char rc[800];
	const char *err = NULL;
	FILE *f;

	(void)state;
	if (l == NULL || access(l, X_OK) != 0)
		return 0;	/* each test skips, saying why */
	snprintf(loft, sizeof(loft), "%s", l);
	if (mkdtemp(dir) == NULL)
		return -1;
	/* A free port: the kernel's pick, released for the daemon. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	port = ntohs(sa.sin_port);
	close(fd);
	snprintf(server_rc, sizeof(server_rc), "%s/server.rc", dir);
	f = fopen(server_rc, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "set folder=%s/Mail imap_listen=127.0.0.1:%d smtp_listen=\n"
		   "set hostname=localhost queue_interval=1h shutdown_timeout=1\n", dir, port);
	fclose(f);
	if (run_loft(PW "\n", "passwd", "--stdin", "phone") != 0)
		return -1;
	snprintf(url, sizeof(url), "imap+insecure://phone@127.0.0.1:%d/INBOX", port);
	snprintf(rc, sizeof(rc), "set folder=%s/Local\nset imap_password_command='echo %s'\n",
		 dir, PW);
	cfg = config_new();
	if (config_load_buffer(cfg, "test", rc, strlen(rc), &err) < 0)
		return -1;
	env = (struct mailbox_env){ .cfg = cfg };
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mailbox_close(&mb);
	if (daemon_pid > 0)
		kill_daemon(SIGKILL);
	config_free(&cfg);
	if (loft[0] != '\0')
		nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* The account of a URL without one is the URL up to the folder; the
 * caller frees it. */
static char *url_account(void)
{
	return strndup(url, (size_t)(strstr(url, "/INBOX") - url));
}

#define NEED_LOFT()                                                             \
	do {                                                                    \
		if (loft[0] == '\0') {                                          \
			print_message("no $LOFT: run through make test\n");     \
			skip();                                                 \
		}                                                               \
	} while (0)

/* Leaves mb open on INBOX with alpha, beta, gamma. */
static void test_open_rows(void **unused)
{
	struct sbuf e = SBUF_INIT;
	struct mailbox_msg m;
	const char *err = NULL, *key;

	(void)unused;
	NEED_LOFT();
	deliver("alpha");
	deliver("beta");
	deliver("gamma");
	start_daemon();
	mb = open_url();
	assert_string_equal(mailbox_name(mb), url);
	assert_true(mailbox_caps(mb) & MAILBOX_CAP_WRITE);
	assert_false(mailbox_caps(mb) & MAILBOX_CAP_VIRTUAL);
	print_message("rows after %ld ms\n", wait_rows(mb, 3, "Connected to 127.0.0.1", 5000));
	mailbox_msg(mb, 1, &m);
	assert_true(m.uid > 0);
	assert_int_equal(mailbox_index_of(mb, m.uid), 1);
	assert_int_equal(mailbox_index_of(mb, 999999), -1);
	assert_true(m.size > 50);
	assert_true(m.internal_date > 1700000000);
	assert_int_equal(m.flags & STORE_SEEN, 0);
	/* Flags alone (the status line's counts of every row) parse no
	 * envelope: the thread key comes only from mailbox_threadkey. */
	assert_null(m.threadkey);
	key = mailbox_threadkey(mb, 1);
	assert_non_null(key);
	for (int k = 0; k < 4; k++)
		key += strlen(key) + 1;
	assert_string_equal(key, "beta");
	assert_int_equal(mailbox_envelope(mb, 1, &e, &err), 1);
	assert_non_null(strstr(e.buf, "\"beta\""));
	assert_null(mailbox_path(mb, 1));
	assert_true(mailbox_same(mb, mb));
	assert_int_equal(mailbox_step(mb, 10), 0);
	assert_false(mailbox_pending(mb));
	sbuf_release(&e);
}

/* The last write transaction of the account's header cache. */
static size_t cache_txn(void)
{
	char *account = url_account();
	char *cdir = hcache_dir(cfg, account);
	MDB_env *e;
	MDB_envinfo info = { 0 };

	assert_int_equal(mdb_env_create(&e), 0);
	assert_int_equal(mdb_env_open(e, cdir, MDB_RDONLY, 0600), 0);
	mdb_env_info(e, &info);
	mdb_env_close(e);
	free(cdir);
	free(account);
	return info.me_last_txnid;
}

/* A warm open of an unchanged folder writes nothing to the cache (it
 * rewrote every row: the merge had moved their headers).  Leaves mb as
 * it was. */
static void test_warm_open_writes_nothing(void **unused)
{
	struct mailbox *other;
	size_t before;

	(void)unused;
	NEED_LOFT();
	other = open_url();
	wait_rows(other, 3, "Connected", 5000);
	mailbox_close(&other);
	before = cache_txn();
	other = open_url();
	wait_rows(other, 3, "Connected", 5000);
	mailbox_close(&other);
	assert_int_equal(cache_txn(), before);
}

/* Threads kept with mb's rows come back on another open of the folder
 * (a warm open skips threading), the same; other options get none.  Leaves
 * them kept. */
static void test_threads_kept(void **unused)
{
	static const struct thread_options other_opt = { .subject_fallback = true };
	struct thread_input in[3] = {
		{ "<a@x>", NULL, NULL, "a", 1 },
		{ "<b@x>", "<a@x>", "<a@x>", "Re: a", 2 },
		{ "<c@x>", NULL, NULL, "c", 3 },
	};
	struct thread *t, *u;
	struct mailbox *other;

	(void)unused;
	NEED_LOFT();
	t = thread_build(in, 3, NULL);
	mailbox_threads_keep(mb, t, NULL, NULL, NULL);
	other = open_url();
	wait_rows(other, 3, "Connected", 5000);
	u = mailbox_threads_cached(other, NULL);
	assert_non_null(u);
	assert_int_equal(u->n, 3);
	assert_memory_equal(u->order, t->order, 3 * sizeof(*t->order));
	assert_int_equal(u->nodes[1].parent, 0);
	thread_free(&u);
	assert_null(mailbox_threads_cached(other, &other_opt));
	mailbox_close(&other);
	thread_free(&t);
}

/* Kept threads of rows that changed since are not answered. */
static void test_threads_stale(void **unused)
{
	(void)unused;
	NEED_LOFT();
	assert_null(mailbox_threads_cached(mb, NULL));
}

/* Leaves alpha flagged and seen, beta expunged, delta appended. */
static void test_write_seen_by_another(void **unused)
{
	struct sbuf body = SBUF_INIT;
	struct store_changes ch;
	const char *err = NULL;
	uint32_t set[2] = { 0, 2 }, one = 1, uid = 99;
	const char delta[] = "From: me@example.org\nSubject: delta\n\nbody of delta\n";
	struct mailbox *other;
	struct mailbox_msg m0;

	(void)unused;
	NEED_LOFT();
	assert_int_equal(mailbox_read(mb, 0, &body, &err), 0);
	assert_non_null(strstr(body.buf, "body of alpha"));
	sbuf_release(&body);
	assert_int_equal(mailbox_set_flags(mb, set, 2, STORE_FLAGS_ADD, STORE_FLAGGED, &err), 0);
	assert_int_equal(mailbox_set_flags(mb, &set[0], 1, STORE_FLAGS_ADD, STORE_SEEN, &err), 0);
	/* The rows follow a change before the call returns. */
	assert_int_equal(mailbox_sync(mb, &ch, &err), 0);
	assert_int_equal(ch.n_changed, 2);
	store_changes_free(&ch);
	mailbox_msg(mb, 0, &m0);
	assert_int_equal(m0.flags & (STORE_FLAGGED | STORE_SEEN), STORE_FLAGGED | STORE_SEEN);
	assert_int_equal(mailbox_expunge(mb, &one, 1, &err), 0);
	assert_int_equal(mailbox_append(mb, delta, sizeof(delta) - 1, STORE_SEEN, &uid, &err), 0);
	assert_int_equal(uid, 0);	/* known at the next sync */
	wait_rows(mb, 3, NULL, 2000);

	other = open_url();
	wait_rows(other, 3, "Connected", 5000);
	for (size_t i = 0; i < 3; i++) {
		struct mailbox_msg m;
		struct sbuf e = SBUF_INIT;

		mailbox_msg(other, i, &m);
		assert_int_equal(mailbox_envelope(other, i, &e, &err), 1);
		if (strstr(e.buf, "\"alpha\""))
			assert_int_equal(m.flags & (STORE_FLAGGED | STORE_SEEN), STORE_FLAGGED | STORE_SEEN);
		else if (strstr(e.buf, "\"gamma\""))
			assert_int_equal(m.flags & (STORE_FLAGGED | STORE_SEEN), STORE_FLAGGED);
		else if (strstr(e.buf, "\"delta\""))
			assert_int_equal(m.flags & STORE_SEEN, STORE_SEEN);
		else
			fail_msg("unexpected row %zu: %s", i, e.buf);
		sbuf_release(&e);
	}
	mailbox_close(&other);
}

/* Leaves epsilon delivered (four rows). */
#define ALL_FIELDS (THREAD_FIELD_ID | THREAD_FIELD_REFS | THREAD_FIELD_SUBJECT)

/* thread_input_fn over an array. */
static void from_array(void *ctx, size_t i, unsigned fields, struct thread_input *in)
{
	(void)fields;
	*in = ((const struct thread_input *)ctx)[i];
}

/* Row i's whole input copied to pool (a key lasts one call). */
static void input_copy(struct mailbox *m, size_t i, struct thread_input *in, struct arena *pool,
		       struct sbuf *tmp)
{
	assert_true(mailbox_thread_input(m, i, ALL_FIELDS, in, pool, tmp));
	in->message_id = arena_strdup(pool, in->message_id);
	in->in_reply_to = arena_strdup(pool, in->in_reply_to);
	in->references = arena_strdup(pool, in->references);
	in->subject = arena_strdup(pool, in->subject);
}

/* Threads kept with their inputs get a message that arrived since added
 * on the next ask (client/thread_add.h: only the new row's thread key is
 * read), equal to threading every row, and kept so again, with what the
 * next addition needs. */
static void test_threads_added(void **unused)
{
	struct thread_input in[16];
	struct arena *pool;
	struct sbuf tmp = SBUF_INIT;
	size_t n;
	struct thread *t, *all;

	(void)unused;
	NEED_LOFT();	/* before anything touches mb or url */
	pool = arena_new(0);
	n = mailbox_count(mb);
	assert_true(n > 0 && n < 15);
	for (size_t i = 0; i < n; i++)
		input_copy(mb, i, &in[i], pool, &tmp);
	t = thread_build(in, n, NULL);
	mailbox_threads_keep(mb, t, from_array, in, NULL);
	thread_free(&t);
	deliver("zeta");
	wait_rows(mb, n + 1, NULL, 5000);
	t = mailbox_threads_cached(mb, NULL);
	assert_non_null(t);
	for (size_t i = 0; i <= n; i++)
		input_copy(mb, i, &in[i], pool, &tmp);
	all = thread_build(in, n + 1, NULL);
	assert_int_equal(t->n, n + 1);
	assert_memory_equal(t->order, all->order, (n + 1) * sizeof(*t->order));
	assert_memory_equal(t->nodes, all->nodes, (n + 1) * sizeof(*t->nodes));
	/* Kept once the caller is idle (it drew first): the next ask
	 * loads them as they are. */
	mailbox_threads_flush(mb, t, NULL);
	thread_free(&t);
	t = mailbox_threads_cached(mb, NULL);
	assert_non_null(t);
	assert_memory_equal(t->order, all->order, (n + 1) * sizeof(*t->order));
	thread_free(&t);
	thread_free(&all);
	/* The thread-ids the flush made (after the draw, from the kept ones
	 * and the new row) serve the next addition. */
	deliver("eta");
	wait_rows(mb, n + 2, NULL, 5000);
	t = mailbox_threads_cached(mb, NULL);
	assert_non_null(t);
	for (size_t i = 0; i <= n + 1; i++)
		input_copy(mb, i, &in[i], pool, &tmp);
	all = thread_build(in, n + 2, NULL);
	assert_int_equal(t->n, n + 2);
	assert_memory_equal(t->order, all->order, (n + 2) * sizeof(*t->order));
	assert_memory_equal(t->nodes, all->nodes, (n + 2) * sizeof(*t->nodes));
	thread_free(&t);
	thread_free(&all);
	/* The tests after this one count zeta's rows, not eta's. */
	uint32_t last = (uint32_t)(n + 1);
	const char *err = NULL;

	assert_int_equal(mailbox_expunge(mb, &last, 1, &err), 0);
	wait_rows(mb, n + 1, NULL, 5000);
	arena_free(&pool);
	sbuf_release(&tmp);
}

static int count_keys(const struct hcache_msg *m, void *ctx)
{
	*(size_t *)ctx += m->threadkey != NULL;
	return 0;
}

/* A header cache an older loft wrote (record version 2: no thread keys)
 * opens as before; its rows get their keys made once and written back
 * (version 3), and threading asks them of the cache. */
static void test_v2_cache_upgraded(void **unused)
{
	char *account, *cdir, *err = NULL;
	size_t n, keyed = 0;
	struct hcache *hc;

	(void)unused;
	NEED_LOFT();	/* before anything touches mb or url */
	account = url_account();
	cdir = hcache_dir(cfg, account);
	n = mailbox_count(mb);
	mailbox_close(&mb);
	assert_int_equal(hcache_test_make_v2(cdir), n);
	mb = open_url();
	wait_rows(mb, n, "Connected", 5000);
	for (size_t i = 0; i < n; i++)
		assert_non_null(mailbox_threadkey(mb, i));
	hc = hcache_open(cdir, &err);	/* mb's environment, shared */
	assert_non_null(hc);
	assert_int_equal(hcache_walk(hc, "INBOX", HCACHE_WANT_THREADKEY, count_keys, &keyed, &err),
			 0);
	assert_int_equal(keyed, n);
	hcache_close(&hc);
	free(cdir);
	free(account);
}

/* A folder of BIG_N messages: threads of 7 by In-Reply-To (what an IMAP
 * ENVELOPE carries), every 5th thread's top a "Re:" of the previous
 * thread's subject, dates out of order. */
#define BIG_N 5000

/* Writes the BIG_N messages into the server's folder Big (new/). */
static void make_big(void)
{
	struct sbuf path = SBUF_INIT;

	for (const char *sub = "cur\0new\0tmp\0"; *sub; sub += 4) {
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/Mail/Big", dir);
		mkdir(path.buf, 0700);
		sbuf_addf(&path, "/%s", sub);
		assert_true(mkdir(path.buf, 0700) == 0);
	}
	for (size_t k = 0; k < BIG_N; k++) {
		char date[64];
		time_t d = 1704189600 + (time_t)((k * 7919) % BIG_N) * 60;
		struct tm tm;
		FILE *f;

		gmtime_r(&d, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/Mail/Big/new/%zu.big", dir, k);
		f = fopen(path.buf, "w");
		assert_non_null(f);
		fprintf(f, "From: a@example.org\nSubject: %stopic %zu\nDate: %s\nMessage-ID: <m%zu@big>\n",
			k % 7 || (k / 7) % 5 == 4 ? "Re: " : "", k % 7 || (k / 7) % 5 != 4 ? k / 7 : k / 7 - 1,
			date, k);
		if (k % 7 != 0)
			fprintf(f, "In-Reply-To: <m%zu@big>\n", k - 1);
		fprintf(f, "\nbody %zu\n", k);
		fclose(f);
	}
	sbuf_release(&path);
}

struct through {
	struct mailbox *m;
	struct arena *pool;
	struct sbuf tmp;
	size_t calls;
};

/* thread_input_fn through the driver: keys read from the header cache
 * (a window of rows at a time), valid until the next call. */
static void through_driver(void *ctx, size_t i, unsigned fields, struct thread_input *in)
{
	struct through *th = ctx;

	th->calls++;
	assert_true(mailbox_thread_input(th->m, i, fields, in, th->pool, &th->tmp));
}

/* Threading a first open of BIG_N messages from the header cache, its
 * keys read a window at a time while the builder runs, gives the threads
 * of the same inputs held in memory whole; the threads and their ids are
 * kept once the fill is over, and come back on the next ask. */
static void test_threads_from_cache(void **unused)
{
	char big_url[200];
	struct mailbox *m;
	struct through th = { NULL, NULL, SBUF_INIT, 0 };
	struct thread_input *in;
	struct thread *t, *u;

	(void)unused;
	NEED_LOFT();	/* before anything is allocated */
	th.pool = arena_new(0);
	in = calloc(BIG_N, sizeof(*in));
	make_big();
	snprintf(big_url, sizeof(big_url), "%.*s/Big", (int)(strstr(url, "/INBOX") - url), url);
	assert_int_equal(mailbox_open(&env, big_url, 0, &m, &(const char *){ NULL }), 0);
	print_message("%d rows after %ld ms\n", BIG_N, wait_rows(m, BIG_N, "Connected", 60000));
	/* In memory: every row's input copied whole first. */
	for (size_t i = 0; i < BIG_N; i++)
		input_copy(m, i, &in[i], th.pool, &th.tmp);
	t = thread_build(in, BIG_N, NULL);
	th.m = m;
	u = thread_build_fn(BIG_N, through_driver, &th, NULL);
	assert_true(th.calls >= 2 * BIG_N);
	assert_int_equal(u->nroots, t->nroots);
	assert_memory_equal(u->order, t->order, BIG_N * sizeof(*t->order));
	assert_memory_equal(u->nodes, t->nodes, BIG_N * sizeof(*t->nodes));
	/* The corpus threads as written: 7 a thread, some joined by subject. */
	assert_true(t->nroots < (BIG_N + 6) / 7 && t->nroots > BIG_N / 14);
	thread_free(&u);
	mailbox_threads_keep(m, t, through_driver, &th, NULL);
	u = mailbox_threads_cached(m, NULL);
	assert_non_null(u);
	assert_memory_equal(u->order, t->order, BIG_N * sizeof(*t->order));
	thread_free(&u);
	thread_free(&t);
	mailbox_close(&m);
	free(in);
	arena_free(&th.pool);
	sbuf_release(&th.tmp);
}

/* Fills the stack below the caller with bytes no pointer has, so a
 * callee's variable read before it is set is garbage, not a lucky 0. */
static __attribute__((noinline)) void dirty_stack(void)
{
	unsigned char junk[16384];

	memset(junk, 0xa5, sizeof(junk));
	__asm__ volatile("" : : "r"(junk) : "memory");
}

/* A row on screen whose header record the worker has just removed (the
 * cache's rows published at once, then a SELECT saying the message went,
 * or a UIDVALIDITY change dropping them all, before the UI syncs) has
 * no envelope for now: it once freed whatever its stack held (loft
 * aborted, "free(): invalid pointer", in tests/ui_imap_reopen*.t).
 * Leaves the cache as it was. */
static void test_envelope_gone_from_cache(void **unused)
{
	char *account, *cdir, *err = NULL;
	struct sbuf e = SBUF_INIT;
	struct hcache_msg kept;
	struct mailbox_msg m;
	struct hcache *hc;
	const char *why = NULL;

	(void)unused;
	NEED_LOFT();	/* before anything touches mb or url */
	account = url_account();
	cdir = hcache_dir(cfg, account);
	mailbox_msg(mb, 0, &m);
	hc = hcache_open(cdir, &err);	/* mb's environment, shared */
	assert_non_null(hc);
	assert_int_equal(hcache_get(hc, "INBOX", m.uid, &kept, &err), 1);
	assert_int_equal(hcache_remove(hc, "INBOX", &m.uid, 1, &err), 0);
	dirty_stack();
	assert_int_equal(mailbox_envelope(mb, 0, &e, &why), 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(hcache_put(hc, "INBOX", &kept, 1, &err), 0);
	assert_int_equal(mailbox_envelope(mb, 0, &e, &why), 1);
	hcache_msg_clear(&kept);
	hcache_close(&hc);
	sbuf_release(&e);
	free(cdir);
	free(account);
}

static void test_push(void **unused)
{
	long t0 = now_ms();

	(void)unused;
	NEED_LOFT();
	deliver("epsilon");
	/* Within a second of loft deliver's exit (IDLE may have brought it
	 * before that). */
	wait_rows(mb, 4, NULL, 1000);
	print_message("from loft deliver's start to the new row: %ld ms\n", now_ms() - t0);
}

/* Leaves the daemon running again, mb connected. */
static void test_crash_reconnect(void **unused)
{
	struct sbuf body = SBUF_INIT;
	const char *err = NULL;

	(void)unused;
	NEED_LOFT();
	kill_daemon(SIGKILL);
	wait_rows(mb, 5, "cannot connect", 5000);	/* zeta came last */
	/* alpha was read before: its body comes from the cache. */
	assert_int_equal(mailbox_read(mb, 0, &body, &err), 0);
	assert_non_null(strstr(body.buf, "body of alpha"));
	sbuf_release(&body);
	/* epsilon was not: a clear error at once. */
	assert_int_equal(mailbox_read(mb, 3, &body, &err), -1);
	assert_string_equal(err, "not connected to 127.0.0.1");
	sbuf_release(&body);
	start_daemon();
	print_message("reconnected after %ld ms\n", wait_rows(mb, 5, "Connected", 10000));
	assert_int_equal(mailbox_read(mb, 3, &body, &err), 0);
	assert_non_null(strstr(body.buf, "body of epsilon"));
	sbuf_release(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_rows),
		cmocka_unit_test(test_envelope_gone_from_cache),
		cmocka_unit_test(test_warm_open_writes_nothing),
		cmocka_unit_test(test_threads_kept),
		cmocka_unit_test(test_write_seen_by_another),
		cmocka_unit_test(test_threads_stale),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_threads_added),
		cmocka_unit_test(test_v2_cache_upgraded),
		cmocka_unit_test(test_threads_from_cache),
		cmocka_unit_test(test_crash_reconnect),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
