/* client/mailbox: both drivers (a store folder, a notmuch search) through
 * the one table, on a small store made per test: open, flags on a set,
 * copy, move, expunge, a change by another process seen by sync, a
 * search read in steps, tags, and a copy between drivers. */
#include "client/mailbox.h"
#include "client/thread.h"
#include "store/index.h"

#include "lib/sbuf.h"

#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store-test.h"

struct fixture {
	struct store *store;
	struct mailbox_env env;
};

static struct mailbox *open_mb(struct fixture *fx, const char *name, unsigned flags)
{
	struct mailbox *mb = NULL;
	const char *err = NULL;

	if (mailbox_open(&fx->env, name, flags, &mb, &err) < 0)
		fail_msg("mailbox_open(%s): %s", name, err);
	return mb;
}

static void add_msg(struct mailbox *mb, const char *subject, uint32_t flags)
{
	char text[512];
	const char *err = NULL;
	uint32_t uid = 0;

	snprintf(text, sizeof(text),
		 "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: %s\n"
		 "Date: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <%s@test>\n\nbody of %s\n",
		 subject, subject, subject);
	if (mailbox_append(mb, text, strlen(text), flags, &uid, &err) < 0)
		fail_msg("append: %s", err);
	assert_true(uid > 0);
}

static void sync_ok(struct mailbox *mb, struct store_changes *ch)
{
	const char *err = NULL;

	if (mailbox_sync(mb, ch, &err) < 0)
		fail_msg("sync: %s", err);
}

static uint32_t flags_of(struct mailbox *mb, size_t i)
{
	struct mailbox_msg m;

	mailbox_msg(mb, i, &m);
	return m.flags;
}

/* A store with INBOX holding alpha, beta, gamma (in UID order). */
static void fixture_init(struct fixture *fx, const char *name)
{
	struct mailbox *in;
	struct store_changes ch;

	fx->store = open_store(name);
	fx->env = (struct mailbox_env){ .store = fx->store, .root = root };
	in = open_mb(fx, "INBOX", 0);
	add_msg(in, "alpha", 0);
	add_msg(in, "beta", 0);
	add_msg(in, "gamma", STORE_SEEN);
	sync_ok(in, &ch);
	assert_int_equal(ch.n_new, 3);
	store_changes_free(&ch);
	mailbox_close(&in);
	assert_null(in);
}

static void fixture_deinit(struct fixture *fx)
{
	store_close(&fx->store);
}

static void test_store_open_flags(void **unused)
{
	struct fixture fx;
	struct mailbox *mb, *again;
	const char *err = NULL;
	uint32_t set[] = { 0, 1 };
	struct sbuf sb = SBUF_INIT;
	char *path;

	fixture_init(&fx, "flags");
	mb = open_mb(&fx, "INBOX", 0);
	assert_string_equal(mailbox_name(mb), "INBOX");
	assert_true(mailbox_caps(mb) & MAILBOX_CAP_WRITE);
	assert_false(mailbox_caps(mb) & MAILBOX_CAP_VIRTUAL);
	assert_int_equal(mailbox_count(mb), 3);
	assert_int_equal(mailbox_step(mb, 10), 0);
	assert_false(mailbox_pending(mb));
	assert_true(mailbox_notify_fd(mb) >= 0);

	/* UIDs ascending; index_of finds them back. */
	for (size_t i = 0; i < 3; i++) {
		struct mailbox_msg m;

		mailbox_msg(mb, i, &m);
		assert_int_equal(mailbox_index_of(mb, m.uid), (long)i);
		assert_non_null(m.threadkey);
		assert_true(m.size > 0);
	}
	assert_int_equal(mailbox_index_of(mb, 999), -1);
	assert_int_equal(mailbox_envelope(mb, 1, &sb, &err), 1);
	assert_non_null(strstr(sb.buf, "beta"));
	sbuf_reset(&sb);
	assert_int_equal(mailbox_read(mb, 2, &sb, &err), 0);
	assert_non_null(strstr(sb.buf, "body of gamma"));
	sbuf_release(&sb);

	/* Flags on a set: one call, visible at once and to another open. */
	assert_int_equal(mailbox_set_flags(mb, set, 2, STORE_FLAGS_ADD, STORE_FLAGGED, &err), 0);
	assert_true(flags_of(mb, 0) & STORE_FLAGGED);
	assert_true(flags_of(mb, 1) & STORE_FLAGGED);
	assert_false(flags_of(mb, 2) & STORE_FLAGGED);
	again = open_mb(&fx, "+INBOX", 0);
	assert_true(mailbox_same(mb, again));
	assert_true(flags_of(again, 0) & STORE_FLAGGED);
	assert_true(flags_of(again, 1) & STORE_FLAGGED);
	assert_true(flags_of(again, 2) & STORE_SEEN);
	mailbox_close(&again);

	/* Maildir: every message has a file (for notmuch). */
	path = mailbox_path(mb, 0);
	assert_non_null(path);
	assert_int_equal(access(path, R_OK), 0);
	free(path);
	mailbox_close(&mb);
	fixture_deinit(&fx);
}

static void test_store_copy_move_expunge(void **unused)
{
	struct fixture fx;
	struct mailbox *mb, *arch, *trash;
	struct store_changes ch;
	const char *err = NULL;
	uint32_t first = 0;

	fixture_init(&fx, "move");
	mb = open_mb(&fx, "INBOX", 0);
	/* A missing +Archive is made only when asked. */
	assert_int_equal(mailbox_open(&fx.env, "+Archive", 0, &arch, &err), -1);
	arch = open_mb(&fx, "+Archive", MAILBOX_OPEN_CREATE);
	assert_false(mailbox_same(mb, arch));

	/* Move alpha: gone here, there in the archive. */
	assert_int_equal(mailbox_move(mb, &first, 1, arch, &err), 0);
	sync_ok(mb, &ch);
	assert_int_equal(ch.n_expunged, 1);
	store_changes_free(&ch);
	assert_int_equal(mailbox_count(mb), 2);
	sync_ok(arch, &ch);
	assert_int_equal(ch.n_new, 1);
	store_changes_free(&ch);
	assert_int_equal(mailbox_count(arch), 1);

	/* beta (now row 0) deleted and copied to a trash with UNDELETE: the
	 * copy is a message like any other there; the original keeps its
	 * flag. */
	assert_int_equal(mailbox_set_flags(mb, &first, 1, STORE_FLAGS_ADD, STORE_DELETED, &err), 0);
	trash = open_mb(&fx, "+Trash", MAILBOX_OPEN_CREATE);
	assert_int_equal(mailbox_copy(mb, &first, 1, trash, MAILBOX_COPY_UNDELETE, &err), 0);
	sync_ok(trash, &ch);
	store_changes_free(&ch);
	assert_int_equal(mailbox_count(trash), 1);
	assert_false(flags_of(trash, 0) & STORE_DELETED);
	assert_true(flags_of(mb, 0) & STORE_DELETED);

	/* Expunged here: gamma is left. */
	assert_int_equal(mailbox_expunge(mb, &first, 1, &err), 0);
	sync_ok(mb, &ch);
	assert_int_equal(ch.n_expunged, 1);
	store_changes_free(&ch);
	assert_int_equal(mailbox_count(mb), 1);
	assert_true(flags_of(mb, 0) & STORE_SEEN);

	mailbox_close(&trash);
	mailbox_close(&arch);
	mailbox_close(&mb);
	fixture_deinit(&fx);
}

/* Another process flags and appends; the notify fd wakes and sync lists
 * what changed. */
static void test_store_sync_other_process(void **unused)
{
	struct fixture fx;
	struct mailbox *mb;
	struct store_changes ch;
	struct pollfd pfd;
	int status;
	pid_t pid;

	fixture_init(&fx, "other");
	mb = open_mb(&fx, "INBOX", 0);
	/* Watching starts here: the fd is made before the change. */
	pfd = (struct pollfd){ mailbox_notify_fd(mb), POLLIN, 0 };
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_settings set = { .root = root };
		struct store *s = NULL;
		struct mailbox *other = NULL;
		struct mailbox_env env;
		const char *err;
		uint32_t row = 0;

		if (store_open(&set, 0, &s, &err) < 0)
			_exit(1);
		env = (struct mailbox_env){ .store = s, .root = root };
		if (mailbox_open(&env, "INBOX", 0, &other, &err) < 0)
			_exit(2);
		if (mailbox_set_flags(other, &row, 1, STORE_FLAGS_ADD, STORE_ANSWERED, &err) < 0)
			_exit(3);
		add_msg(other, "delta", 0);
		mailbox_close(&other);
		store_close(&s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_false(flags_of(mb, 0) & STORE_ANSWERED);
	sync_ok(mb, &ch);
	assert_int_equal(ch.n_new, 1);
	assert_int_equal(ch.n_changed, 1);
	assert_int_equal(ch.n_expunged, 0);
	store_changes_free(&ch);
	assert_int_equal(mailbox_count(mb), 4);
	assert_true(flags_of(mb, 0) & STORE_ANSWERED);
	mailbox_close(&mb);
	fixture_deinit(&fx);
}

/* Indexes the store with a writer opened and closed at once (one writer
 * per process at a time). */
static void index_store(void)
{
	struct index *w = NULL;
	struct index_scan_result res;
	const char *err = NULL;

	if (index_open(root, NULL, true, &w, &err) < 0)
		fail_msg("index_open: %s", err);
	if (index_scan(w, true, NULL, NULL, NULL, &res, &err) < 0)
		fail_msg("index_scan: %s", err);
	index_close(&w);
}

static void test_search_driver(void **unused)
{
	struct fixture fx;
	struct mailbox *q, *dst, *bad = NULL;
	struct store_changes ch;
	const char *err = NULL, *add[] = { "work" };
	struct sbuf sb = SBUF_INIT;
	uint32_t row = 0, all[] = { 0, 1, 2 };
	size_t done = 0, steps = 0;
	struct index *ix = NULL;
	char *path, *tags = NULL;

	fixture_init(&fx, "search");
	index_store();

	/* A bad query fails at open, before any row, and says why. */
	assert_int_equal(mailbox_open(&fx.env, "search:foo AND", 0, &bad, &err), -1);
	assert_null(bad);
	assert_non_null(strstr(err, "foo AND"));

	q = open_mb(&fx, "search:from:alice", 0);
	assert_true(mailbox_caps(q) & MAILBOX_CAP_VIRTUAL);
	assert_false(mailbox_caps(q) & MAILBOX_CAP_WRITE);
	assert_int_equal(mailbox_notify_fd(q), -1);
	/* Nothing read at open; one row a step. */
	assert_true(mailbox_pending(q));
	assert_int_equal(mailbox_count(q), 0);
	while (mailbox_step(q, 1) == 1)
		steps++;
	assert_true(steps >= 2);
	assert_false(mailbox_pending(q));
	assert_int_equal(mailbox_count(q), 3);
	sync_ok(q, &ch);
	assert_int_equal(ch.n_new + ch.n_expunged + ch.n_changed, 0);

	/* Rows numbered 1..n; flags from the file names; envelopes and
	 * bodies from the files. */
	for (size_t i = 0; i < 3; i++) {
		struct mailbox_msg m;

		mailbox_msg(q, i, &m);
		assert_int_equal(m.uid, i + 1);
		assert_null(m.threadkey);
		assert_int_equal(mailbox_index_of(q, m.uid), (long)i);
		assert_int_equal(mailbox_envelope(q, i, &sb, &err), 1);
		assert_non_null(strstr(sb.buf, "\"example.org\""));
		sbuf_reset(&sb);
		assert_int_equal(mailbox_read(q, i, &sb, &err), 0);
		assert_non_null(strstr(sb.buf, "body of "));
		sbuf_reset(&sb);
	}
	sbuf_release(&sb);

	/* Read-only: no flags, no expunge. */
	assert_int_equal(mailbox_set_flags(q, &row, 1, STORE_FLAGS_ADD, STORE_FLAGGED, &err), -1);
	assert_string_equal(err, "search results are read-only");
	assert_int_equal(mailbox_expunge(q, &row, 1, &err), -1);

	/* Tags: through a writer of its own. */
	assert_int_equal(mailbox_tag(q, &row, 1, add, 1, NULL, 0, &done, &err), 0);
	assert_int_equal(done, 1);
	path = mailbox_path(q, 0);
	assert_non_null(path);
	assert_int_equal(index_open(root, NULL, false, &ix, &err), 0);
	assert_int_equal(index_get_tags(ix, path, &tags, &err), 0);
	assert_non_null(strstr(tags, "work"));
	free(tags);
	index_close(&ix);
	free(path);

	/* Between drivers: read there, appended here. */
	dst = open_mb(&fx, "+Found", MAILBOX_OPEN_CREATE);
	assert_int_equal(mailbox_copy(q, all, 3, dst, 0, &err), 0);
	sync_ok(dst, &ch);
	assert_int_equal(ch.n_new, 3);
	store_changes_free(&ch);
	mailbox_close(&dst);

	/* Stopped early: the rows read stay. */
	mailbox_close(&q);
	q = open_mb(&fx, "search:from:alice", 0);
	assert_int_equal(mailbox_step(q, 1), 1);
	mailbox_stop(q);
	assert_false(mailbox_pending(q));
	assert_int_equal(mailbox_count(q), 1);
	assert_int_equal(mailbox_step(q, 10), 0);
	mailbox_close(&q);
	fixture_deinit(&fx);
}

/* Threads of n rows, each its own thread, newest first or last. */
static struct thread *some_threads(size_t n)
{
	struct thread_input *in = calloc(n + 1, sizeof(*in));
	struct thread *t;

	for (size_t i = 0; i < n; i++)
		in[i].date = (int64_t)(n - i);
	t = thread_build(in, n, NULL);
	free(in);
	return t;
}

/* A store folder keeps its threads across opens while its rows are the
 * same UIDs; an arrival or an expunge (seen by sync or by the next open)
 * makes them unusable, other options too; flags do not. */
static void test_store_threads_kept(void **unused)
{
	struct fixture fx;
	struct mailbox *mb;
	struct thread *t, *u;
	struct thread_options other = THREAD_OPTIONS_DEFAULT;
	struct store_changes ch;
	const char *err;
	uint32_t row = 0;

	fixture_init(&fx, "threads-kept");
	mb = open_mb(&fx, "INBOX", 0);
	assert_null(mailbox_threads_cached(mb, NULL));
	t = some_threads(mailbox_count(mb));
	mailbox_threads_keep(mb, t, NULL, NULL, NULL);
	u = mailbox_threads_cached(mb, NULL);
	assert_non_null(u);
	assert_memory_equal(u->order, t->order, t->n * sizeof(*t->order));
	thread_free(&u);
	other.newest_first = true;
	assert_null(mailbox_threads_cached(mb, &other));
	mailbox_close(&mb);

	/* Another open of the same messages; flags changed meanwhile. */
	mb = open_mb(&fx, "INBOX", 0);
	assert_int_equal(mailbox_set_flags(mb, &row, 1, STORE_FLAGS_ADD, STORE_FLAGGED, &err), 0);
	sync_ok(mb, &ch);
	store_changes_free(&ch);
	u = mailbox_threads_cached(mb, NULL);
	assert_non_null(u);
	thread_free(&u);

	/* An arrival. */
	add_msg(mb, "delta", 0);
	sync_ok(mb, &ch);
	assert_int_equal(ch.n_new, 1);
	store_changes_free(&ch);
	assert_null(mailbox_threads_cached(mb, NULL));
	mailbox_close(&mb);
	mb = open_mb(&fx, "INBOX", 0);
	assert_null(mailbox_threads_cached(mb, NULL));
	thread_free(&t);
	t = some_threads(mailbox_count(mb));
	mailbox_threads_keep(mb, t, NULL, NULL, NULL);

	/* An expunge: as many rows as an arrival would leave, other UIDs. */
	row = 1;
	assert_int_equal(mailbox_expunge(mb, &row, 1, &err), 0);
	add_msg(mb, "epsilon", 0);
	sync_ok(mb, &ch);
	assert_int_equal(ch.n_expunged, 1);
	store_changes_free(&ch);
	assert_int_equal(mailbox_count(mb), t->n);
	assert_null(mailbox_threads_cached(mb, NULL));
	mailbox_close(&mb);

	thread_free(&t);
	store_close(&fx.store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_open_flags),
		cmocka_unit_test(test_store_copy_move_expunge),
		cmocka_unit_test(test_store_sync_other_process),
		cmocka_unit_test(test_search_driver),
		cmocka_unit_test(test_store_threads_kept),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
