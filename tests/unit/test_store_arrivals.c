/* store_folder_sync() after files were delivered into new/ behind the
 * store's back (`loft deliver`, another MDA): only new/ is read
 * (folder_arrivals.c), the arrivals get the next UIDs in the order a full
 * rescan gives them, a later full rescan keeps those UIDs, and whatever
 * the fast path cannot vouch for (a file gone from new/, a key the state
 * has under another name) still gets the full rescan. */
#include "store/store.h"
#include "store/store-private.h"
#include "store/message.h"

#include "tests/unit/store-test.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define N_OLD 50

/* LOFT_CRASH_TRACE (lib/crash.h): every full reconcile passes the crash
 * point reconcile:scanned. */
static char trace[600];

static int setup_trace(void **state)
{
	if (setup(state) < 0)
		return -1;
	snprintf(trace, sizeof(trace), "%s/trace", tmpdir);
	return setenv("LOFT_CRASH_TRACE", trace, 1);
}

/* How many full reconciles since the last call. */
static int reconciles(void)
{
	char line[128];
	int n = 0;
	FILE *fp = fopen(trace, "r");

	while (fp && fgets(line, sizeof(line), fp))
		n += strcmp(line, "reconcile:scanned\n") == 0;
	if (fp)
		fclose(fp);
	unlink(trace);
	return n;
}

static void sync_ok(struct store_folder *f, struct store_changes *c)
{
	const char *err = NULL;

	if (store_folder_sync(f, c, &err) < 0)
		fail_msg("store_folder_sync: %s", err);
}

/* Moves the mtime of DIR/sub on by secs from now: the file system's clock
 * need not tick between two changes in a test. */
static void touch_dir(const char *dir, const char *sub, int secs)
{
	static int bump;
	char p[1024];
	struct timespec ts[2];

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += secs + ++bump;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* Writes a message as an MDA does: tmp/, then a rename into new/ under
 * TIME.M<n>P1Q1.test,S=SIZE.  Returns the name in name (room for 256). */
static void drop_new(const char *dir, long time, unsigned n, char *name)
{
	char body[256], tmp[1024], to[1024];
	int len = snprintf(body, sizeof(body),
			   "From: x@example.org\nSubject: arrival %u\n"
			   "Message-ID: <arr%u@example.org>\n\nhello %u\n", n, n, n);
	FILE *fp;

	snprintf(name, 256, "%ld.M%uP1Q1.test,S=%d", time, n, len);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
	snprintf(to, sizeof(to), "%s/new/%s", dir, name);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(body, 1, (size_t)len, fp), (size_t)len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, to), 0);
	touch_dir(dir, "new", 2);
}

static struct store_folder *folder_with_old(struct store **store_r, const char *name)
{
	struct store *store = open_store(name);
	struct store_folder *f = open_folder(store, "INBOX");
	const char *err = NULL;

	for (unsigned i = 1; i <= N_OLD; i++) {
		char buf[256];
		uint32_t uid;
		int len = snprintf(buf, sizeof(buf), "Subject: old %u\n\nold %u\n", i, i);

		if (store_append(f, buf, (size_t)len, i % 2 ? STORE_SEEN : 0, NULL, 0, &uid,
				 &err) < 0)
			fail_msg("store_append: %s", err);
	}
	*store_r = store;
	return f;
}

static void test_arrivals_fast(void **unused)
{
	struct store *store;
	struct store_folder *a = folder_with_old(&store, "fast"), *b;
	struct store_changes c;
	const struct store_msg *m;
	char name[256], name2[256], name3[256];

	sync_ok(a, NULL);
	b = open_folder(store, "INBOX");
	assert_int_equal(store_folder_count(a), N_OLD);
	/* One delivery: new, the next UID, no rescan. */
	drop_new(store_folder_path(a), 1700000000, 1, name);
	sync_ok(a, &c);
	assert_false(c.rescanned);
	assert_int_equal(c.n_new, 1);
	assert_int_equal(c.n_expunged + c.n_changed, 0);
	assert_int_equal(store_folder_count(a), N_OLD + 1);
	m = store_folder_msg(a, N_OLD);
	assert_int_equal(m->uid, N_OLD + 1);
	assert_int_equal(store_folder_uidnext(a), N_OLD + 2);
	assert_true(m->flags & STORE_RECENT);
	assert_int_equal(strncmp(m->location, "new/", 4), 0);
	assert_string_equal(m->location + 4, name);
	{
		/* The file's mtime, as the full scan's read of a few new
		 * files gives it. */
		char p[1024];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", store_folder_path(a), m->location);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(m->internal_date, st.st_mtime);
	}
	/* Read as the full scan reads a few new messages: thread key, CRLF
	 * size (5 LFs: 5 bytes more). */
	assert_non_null(m->threadkey);
	assert_int_equal(m->vsize, m->size + 5);
	store_changes_free(&c);
	/* The stamps went with it: the other handle learns it from the state,
	 * and a sync after that reads no directory. */
	sync_ok(b, &c);
	assert_false(c.rescanned);
	assert_int_equal(c.n_new, 1);
	assert_int_equal(store_folder_msg(b, N_OLD)->uid, N_OLD + 1);
	store_changes_free(&c);
	sync_ok(a, &c);
	assert_false(c.rescanned);
	assert_int_equal(c.n_new + c.n_expunged + c.n_changed, 0);
	store_changes_free(&c);
	/* Two at once: UIDs by the names' times, as a rebuild numbers them. */
	drop_new(store_folder_path(a), 1700000200, 2, name2);
	drop_new(store_folder_path(a), 1700000100, 3, name3);
	sync_ok(a, &c);
	assert_false(c.rescanned);
	assert_int_equal(c.n_new, 2);
	assert_string_equal(store_folder_find(a, N_OLD + 2)->location + 4, name3);
	assert_string_equal(store_folder_find(a, N_OLD + 3)->location + 4, name2);
	store_changes_free(&c);
	/* A full rescan (cur/ changed) keeps every UID. */
	touch_dir(store_folder_path(a), "cur", 4);
	sync_ok(a, &c);
	assert_true(c.rescanned);
	assert_int_equal(c.n_new + c.n_expunged + c.n_changed, 0);
	assert_int_equal(store_folder_count(a), N_OLD + 3);
	assert_string_equal(store_folder_find(a, N_OLD + 1)->location + 4, name);
	store_changes_free(&c);
	store_folder_close(&a);
	store_folder_close(&b);
	store_close(&store);
}

static void test_arrivals_fallback(void **unused)
{
	struct store *store;
	struct store_folder *a = folder_with_old(&store, "fallback");
	struct store_changes c;
	char name[256], name2[256], from[1024], to[1024];
	const struct store_msg *m;

	sync_ok(a, NULL);
	drop_new(store_folder_path(a), 1700000000, 1, name);
	drop_new(store_folder_path(a), 1700000001, 2, name2);
	sync_ok(a, &c);
	assert_false(c.rescanned);
	assert_int_equal(c.n_new, 2);
	store_changes_free(&c);
	/* Another program removes a message from new/: only a full rescan
	 * can tell, and it expunges it. */
	snprintf(from, sizeof(from), "%s/new/%s", store_folder_path(a), name);
	assert_int_equal(unlink(from), 0);
	touch_dir(store_folder_path(a), "new", 2);
	sync_ok(a, &c);
	assert_true(c.rescanned);
	assert_int_equal(c.n_expunged, 1);
	assert_int_equal(c.expunged[0], N_OLD + 1);
	assert_int_equal(c.n_new, 0);
	store_changes_free(&c);
	/* A file in new/ with the key of a message in cur/ (another program's
	 * copy half-way): not an arrival; the full scan keeps cur/'s. */
	m = store_folder_find(a, 1);
	assert_int_equal(strncmp(m->location, "cur/", 4), 0);
	snprintf(from, sizeof(from), "%s/%s", store_folder_path(a), m->location);
	snprintf(to, sizeof(to), "%s/new/%.*s", store_folder_path(a),
		 (int)strcspn(m->location + 4, ":"), m->location + 4);
	assert_int_equal(link(from, to), 0);
	touch_dir(store_folder_path(a), "new", 2);
	sync_ok(a, &c);
	assert_true(c.rescanned);
	assert_int_equal(c.n_new + c.n_expunged, 0);
	assert_int_equal(strncmp(store_folder_find(a, 1)->location, "cur/", 4), 0);
	store_changes_free(&c);
	store_folder_close(&a);
	store_close(&store);
}

/* A folder opened after a delivery: its snapshot from the state, then
 * new/ alone; no full reconcile. */
static void test_arrivals_open(void **unused)
{
	struct store *store;
	struct store_folder *a = folder_with_old(&store, "open");
	char name[256], dir[600];

	sync_ok(a, NULL);
	snprintf(dir, sizeof(dir), "%s", store_folder_path(a));
	store_folder_close(&a);
	drop_new(dir, 1700000000, 1, name);
	(void)reconciles();
	a = open_folder(store, "INBOX");
	assert_int_equal(reconciles(), 0);
	assert_int_equal(store_folder_count(a), N_OLD + 1);
	assert_int_equal(store_folder_msg(a, N_OLD)->uid, N_OLD + 1);
	assert_string_equal(store_folder_msg(a, N_OLD)->location + 4, name);
	store_folder_close(&a);
	/* The stamps went with it: the next open is a warm one. */
	a = open_folder(store, "INBOX");
	assert_int_equal(reconciles(), 0);
	assert_int_equal(store_folder_count(a), N_OLD + 1);
	store_folder_close(&a);
	/* cur/ changed too: the full reconcile, as before. */
	drop_new(dir, 1700000001, 2, name);
	touch_dir(dir, "cur", 4);
	a = open_folder(store, "INBOX");
	assert_int_equal(reconciles(), 1);
	assert_int_equal(store_folder_count(a), N_OLD + 2);
	store_folder_close(&a);
	store_close(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arrivals_fast),
		cmocka_unit_test(test_arrivals_fallback),
		cmocka_unit_test(test_arrivals_open),
	};

	return cmocka_run_group_tests(tests, setup_trace, teardown);
}
