/* store as an IMAP backend: the error kinds and their one mapping to IMAP
 * response codes and sysexits, the UID-set calls (flags with CONDSTORE
 * unchangedsince, copy, move, expunge; unknown UIDs skipped), the change
 * lists of store_folder_sync() (loft's own changes without a rescan,
 * another program's rename with one), and range reads. */
#include "store/store.h"
#include "store/store-private.h"
#include "store/message.h"

#include "lib/sbuf.h"
#include "tests/unit/store-test.h"

#include <errno.h>
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
#include <sysexits.h>
#include <unistd.h>
#include <cmocka.h>


static const char msg_fmt[] =
	"From: Alice <alice@example.org>\nTo: bob@example.org\n"
	"Subject: number %u\nMessage-ID: <%u@example.org>\n\nbody %u\n";

/* Appends messages 1..n (UIDs 1..n in a fresh folder). */
static void fill(struct store_folder *f, unsigned n)
{
	char buf[256];
	const char *err = NULL;

	for (unsigned i = 1; i <= n; i++) {
		uint32_t uid;
		int len = snprintf(buf, sizeof(buf), msg_fmt, i, i, i);

		if (store_append(f, buf, (size_t)len, 0, NULL, 0, &uid, &err) < 0)
			fail_msg("store_append: %s", err);
		assert_int_equal(uid, i);
	}
}

static void sync_ok(struct store_folder *f, struct store_changes *c)
{
	const char *err = NULL;

	if (store_folder_sync(f, c, &err) < 0)
		fail_msg("store_folder_sync: %s", err);
}

/* ---- errors ---- */

static void test_error_map(void **unused)
{
	static const struct {
		enum store_error err;
		const char *imap, *imap_target;
		int sysexit;
	} table[] = {
		{ STORE_OK, NULL, NULL, EX_OK },
		{ STORE_ERR_INTERNAL, "SERVERBUG", "SERVERBUG", EX_TEMPFAIL },
		{ STORE_ERR_NO_FOLDER, "NONEXISTENT", "TRYCREATE", EX_CANTCREAT },
		{ STORE_ERR_NO_MESSAGE, "EXPUNGEISSUED", "EXPUNGEISSUED", EX_TEMPFAIL },
		{ STORE_ERR_EXISTS, "ALREADYEXISTS", "ALREADYEXISTS", EX_CANTCREAT },
		{ STORE_ERR_NO_SPACE, "OVERQUOTA", "OVERQUOTA", EX_TEMPFAIL },
		{ STORE_ERR_LOCKED, "INUSE", "INUSE", EX_TEMPFAIL },
		{ STORE_ERR_TOO_BIG, "TOOBIG", "TOOBIG", EX_DATAERR },
		{ STORE_ERR_LIMIT, "LIMIT", "LIMIT", EX_CANTCREAT },
		{ STORE_ERR_BAD_NAME, "CANNOT", "CANNOT", EX_CANTCREAT },
		{ STORE_ERR_NOT_PERMITTED, "NOPERM", "NOPERM", EX_NOPERM },
		{ STORE_ERR_READ_ONLY, "NOPERM", "NOPERM", EX_NOPERM },
		{ STORE_ERR_CANCELLED, NULL, NULL, EX_TEMPFAIL },
		{ STORE_ERR_CORRUPT, "CORRUPTION", "CORRUPTION", EX_TEMPFAIL },
	};
	static const struct {
		int errnum;
		enum store_error err;
	} errnos[] = {
		{ ENOSPC, STORE_ERR_NO_SPACE }, { EDQUOT, STORE_ERR_NO_SPACE },
		{ EACCES, STORE_ERR_NOT_PERMITTED }, { EPERM, STORE_ERR_NOT_PERMITTED },
		{ EROFS, STORE_ERR_READ_ONLY }, { EEXIST, STORE_ERR_EXISTS },
		{ EFBIG, STORE_ERR_TOO_BIG }, { ENAMETOOLONG, STORE_ERR_BAD_NAME },
		{ EIO, STORE_ERR_INTERNAL }, { ENOENT, STORE_ERR_INTERNAL },
	};

	/* Every kind is in the table: the last one is STORE_ERR_CORRUPT. */
	assert_int_equal(sizeof(table) / sizeof(*table), STORE_ERR_CORRUPT + 1);
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		const char *a = store_error_imap(table[i].err, false);
		const char *b = store_error_imap(table[i].err, true);

		assert_int_equal(table[i].err, (enum store_error)i);
		if (table[i].imap == NULL) {
			assert_null(a);
			assert_null(b);
		} else {
			assert_string_equal(a, table[i].imap);
			assert_string_equal(b, table[i].imap_target);
		}
		assert_int_equal(store_error_sysexit(table[i].err), table[i].sysexit);
	}
	for (size_t i = 0; i < sizeof(errnos) / sizeof(*errnos); i++)
		assert_int_equal(store_errno_code(errnos[i].errnum), errnos[i].err);
}

/* The kind set by real failing calls. */
static void test_error_codes(void **unused)
{
	struct store *store = open_store("errors");
	struct store_folder *f = NULL;
	const char *err = NULL;

	assert_int_equal(store_error_code(store), STORE_OK);
	assert_int_equal(store_folder_open(store, "Nowhere", &f, &err), -1);
	assert_null(f);
	assert_int_equal(store_error_code(store), STORE_ERR_NO_FOLDER);
	assert_int_equal(store_folder_create(store, "Sent", &err), -1);
	assert_int_equal(store_error_code(store), STORE_ERR_EXISTS);
	assert_int_equal(store_folder_create(store, "a/../b", &err), -1);
	assert_int_equal(store_error_code(store), STORE_ERR_BAD_NAME);
	f = open_folder(store, "INBOX");
	fill(f, 1);
	assert_int_equal(store_set_flags(f, 42, STORE_FLAGS_ADD, STORE_SEEN, NULL, &err), -1);
	assert_int_equal(store_error_code(store), STORE_ERR_NO_MESSAGE);
	assert_non_null(err);
	store_folder_close(&f);
	store_close(&store);
}

/* ---- UID sets ---- */

static void test_set_flags_uids(void **unused)
{
	struct store *store = open_store("flags");
	struct store_folder *f = open_folder(store, "INBOX");
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_SEEN, NULL, 0 };
	const uint32_t uids[] = { 5, 1, 99, 3 };	/* any order; 99 unknown */
	uint32_t *modified = NULL;
	size_t n_modified = 7;
	uint64_t before, m3;
	const char *err = NULL;

	fill(f, 6);
	sync_ok(f, NULL);
	before = store_folder_highestmodseq(f);
	assert_int_equal(store_set_flags_uids(f, uids, 4, &ch, &modified, &n_modified, &err), 0);
	assert_null(modified);
	assert_int_equal(n_modified, 0);
	/* The snapshot is updated in place; the others are untouched. */
	for (uint32_t u = 1; u <= 6; u++) {
		const struct store_msg *m = store_folder_find(f, u);

		assert_non_null(m);
		assert_int_equal(!!(m->flags & STORE_SEEN), u == 1 || u == 3 || u == 5);
		if (u == 1 || u == 3 || u == 5)
			assert_true(m->modseq > before);
		/* A flag leaves new/ for cur/ with the info suffix. */
		if (u == 3)
			assert_non_null(strstr(m->location, ":2,S"));
	}
	/* Keywords on a set, and CONDSTORE: message 3 is changed again
	 * after m3, so an UNCHANGEDSINCE m3 leaves it alone. */
	m3 = store_folder_find(f, 3)->modseq;
	ch = (struct store_flag_change){ STORE_FLAGS_ADD, STORE_FLAGGED, NULL, 0 };
	assert_int_equal(store_set_flags_uids(f, (uint32_t[]){ 3 }, 1, &ch, NULL, NULL, &err), 0);
	ch = (struct store_flag_change){ STORE_FLAGS_ADD, 0, "work Later", m3 };
	assert_int_equal(store_set_flags_uids(f, (uint32_t[]){ 6, 3, 2 }, 3, &ch, &modified,
					      &n_modified, &err), 0);
	assert_int_equal(n_modified, 1);
	assert_int_equal(modified[0], 3);
	free(modified);
	modified = NULL;
	assert_null(strstr(store_folder_find(f, 3)->keywords, "work"));
	assert_non_null(strstr(store_folder_find(f, 2)->keywords, "work"));
	assert_non_null(strstr(store_folder_find(f, 6)->keywords, "Later"));
	/* Two skipped by UNCHANGEDSINCE come back ascending. */
	ch = (struct store_flag_change){ STORE_FLAGS_REMOVE, STORE_SEEN, NULL, before };
	assert_int_equal(store_set_flags_uids(f, (uint32_t[]){ 5, 4, 1 }, 3, &ch, &modified,
					      &n_modified, &err), 0);
	assert_int_equal(n_modified, 2);
	assert_int_equal(modified[0], 1);
	assert_int_equal(modified[1], 5);
	assert_false(store_folder_find(f, 4)->flags & STORE_SEEN);
	assert_true(store_folder_find(f, 5)->flags & STORE_SEEN);
	free(modified);
	/* A set of nothing but unknown UIDs changes nothing, and is no error
	 * (the snapshot's HIGHESTMODSEQ moves on at a sync). */
	sync_ok(f, NULL);
	before = store_folder_highestmodseq(f);
	ch = (struct store_flag_change){ STORE_FLAGS_ADD, STORE_DELETED, NULL, 0 };
	assert_int_equal(store_set_flags_uids(f, (uint32_t[]){ 77, 78 }, 2, &ch, NULL, NULL, &err),
			 0);
	sync_ok(f, NULL);
	assert_int_equal(store_folder_highestmodseq(f), before);
	store_folder_close(&f);
	store_close(&store);
}

static void test_copy_move_uids(void **unused)
{
	struct store *store = open_store("copy");
	struct store_folder *in = open_folder(store, "INBOX"), *tr = open_folder(store, "Trash");
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_FLAGGED, "kw", 0 };
	uint32_t got[4], *gone = NULL;
	size_t n_gone = 0;
	struct sbuf out = SBUF_INIT;
	const char *err = NULL;

	fill(in, 4);
	assert_int_equal(store_set_flags_uids(in, (uint32_t[]){ 2 }, 1, &ch, NULL, NULL, &err), 0);
	memset(got, 0xff, sizeof(got));
	assert_int_equal(store_copy_uids(in, (uint32_t[]){ 4, 50, 2 }, 3, tr, got, &err), 0);
	/* Destination UIDs in order of the request, 0 for the skipped one. */
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 0);
	assert_int_equal(got[2], 2);
	sync_ok(tr, NULL);
	assert_int_equal(store_folder_count(tr), 2);
	assert_true(store_folder_find(tr, 2)->flags & STORE_FLAGGED);
	assert_string_equal(store_folder_find(tr, 2)->keywords, "kw");
	assert_int_equal(store_msg_read(tr, 1, &out, &err), 0);
	assert_non_null(strstr(out.buf, "Subject: number 4\n"));
	/* Move: the next UIDs in dst, gone from src, logged as expunged. */
	uint64_t ms = store_folder_highestmodseq(in);
	assert_int_equal(store_move_uids(in, (uint32_t[]){ 1, 3 }, 2, tr, got, &err), 0);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[1], 4);
	sync_ok(in, NULL);
	assert_int_equal(store_folder_count(in), 2);
	assert_null(store_folder_find(in, 1));
	assert_null(store_folder_find(in, 3));
	assert_int_equal(store_expunged_since(in, ms, &gone, &n_gone, &err), 0);
	assert_int_equal(n_gone, 2);
	assert_int_equal(gone[0], 1);
	assert_int_equal(gone[1], 3);
	free(gone);
	/* Expunge of a set with an unknown UID: the known one goes. */
	assert_int_equal(store_expunge(in, (uint32_t[]){ 9, 2 }, 2, &err), 0);
	sync_ok(in, NULL);
	assert_int_equal(store_folder_count(in), 1);
	assert_int_equal(store_folder_msg(in, 0)->uid, 4);
	sbuf_release(&out);
	store_folder_close(&in);
	store_folder_close(&tr);
	store_close(&store);
}

/* A message expunged by another session between the records being read
 * and its file being linked: the copy skips it (UID 0) and copies the
 * rest, as a move does, so COPY can answer NO [EXPUNGEISSUED]; it failed
 * whole before, and IMAP answered NO [SERVERBUG] (tests/imap_stress.t). */
static void test_copy_file_gone(void **unused)
{
	struct store *store = open_store("copygone");
	struct store_folder *in = open_folder(store, "INBOX"), *tr = open_folder(store, "Trash");
	uint32_t got[3];
	char path[1024];
	const char *err = NULL;

	fill(in, 3);
	sync_ok(in, NULL);
	snprintf(path, sizeof(path), "%s/%s", store_folder_path(in), store_folder_find(in, 2)->location);
	assert_int_equal(unlink(path), 0);
	memset(got, 0xff, sizeof(got));
	if (store_copy_uids(in, (uint32_t[]){ 1, 2, 3 }, 3, tr, got, &err) < 0)
		fail_msg("store_copy_uids: %s", err);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 0);
	assert_int_equal(got[2], 2);
	sync_ok(tr, NULL);
	assert_int_equal(store_folder_count(tr), 2);
	/* The one-UID form still fails on it. */
	assert_int_equal(store_copy(in, 2, tr, &got[0], &err), -1);
	assert_int_equal(store_error_code(store), STORE_ERR_NO_MESSAGE);
	store_folder_close(&in);
	store_folder_close(&tr);
	store_close(&store);
}

/* ---- sync change lists ---- */

static void test_sync_changes(void **unused)
{
	struct store *store = open_store("sync");
	struct store_folder *a = open_folder(store, "INBOX"), *b;
	struct store_flag_change ch = { STORE_FLAGS_ADD, 0, "todo", 0 };
	struct store_changes c;
	char from[1024], to[1100];
	struct timespec ts[2];
	const char *err = NULL;

	fill(a, 5);
	sync_ok(a, NULL);
	b = open_folder(store, "INBOX");
	/* Nothing changed: empty lists, no rescan. */
	sync_ok(a, &c);
	assert_int_equal(c.n_expunged + c.n_changed + c.n_new, 0);
	assert_null(c.expunged);
	assert_null(c.changed);
	assert_false(c.rescanned);
	store_changes_free(&c);
	/* Another handle changes a keyword, a flag, expunges and appends:
	 * the first one learns each from the state, reading no file. */
	assert_int_equal(store_set_flags_uids(b, (uint32_t[]){ 4 }, 1, &ch, NULL, NULL, &err), 0);
	ch = (struct store_flag_change){ STORE_FLAGS_ADD, STORE_SEEN, NULL, 0 };
	assert_int_equal(store_set_flags_uids(b, (uint32_t[]){ 2 }, 1, &ch, NULL, NULL, &err), 0);
	assert_int_equal(store_expunge(b, (uint32_t[]){ 1, 3 }, 2, &err), 0);
	{
		uint32_t uid;
		static const char m[] = "Subject: late\n\nlate\n";

		assert_int_equal(store_append(b, m, sizeof(m) - 1, 0, NULL, 0, &uid, &err), 0);
		assert_int_equal(uid, 6);
	}
	sync_ok(a, &c);
	assert_false(c.rescanned);
	assert_int_equal(c.n_expunged, 2);
	assert_int_equal(c.expunged[0], 1);
	assert_int_equal(c.expunged[1], 3);
	assert_int_equal(c.n_changed, 2);
	assert_int_equal(c.changed[0], 2);
	assert_int_equal(c.changed[1], 4);
	assert_int_equal(c.n_new, 1);
	assert_int_equal(store_folder_count(a), 4);
	assert_int_equal(store_folder_msg(a, 3)->uid, 6);
	assert_true(store_folder_find(a, 2)->flags & STORE_SEEN);
	assert_string_equal(store_folder_find(a, 4)->keywords, "todo");
	store_changes_free(&c);
	assert_null(c.expunged);
	/* Another program (mutt) marks message 5 flagged by renaming its
	 * file: found by the directory stamps, with a rescan.  The time is
	 * moved on by hand in case the file system's clock did not tick. */
	{
		const char *loc = store_folder_find(a, 5)->location;
		const char *base = strrchr(loc, '/') + 1;

		snprintf(from, sizeof(from), "%s/%s", store_folder_path(a), loc);
		snprintf(to, sizeof(to), "%s/cur/%.*s:2,F", store_folder_path(a),
			 (int)strcspn(base, ":"), base);
	}
	assert_int_equal(rename(from, to), 0);
	snprintf(from, sizeof(from), "%s/cur", store_folder_path(a));
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += 2;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, from, ts, 0), 0);
	sync_ok(a, &c);
	assert_true(c.rescanned);
	assert_int_equal(c.n_changed, 1);
	assert_int_equal(c.changed[0], 5);
	assert_int_equal(c.n_expunged + c.n_new, 0);
	assert_true(store_folder_find(a, 5)->flags & STORE_FLAGGED);
	store_changes_free(&c);
	/* The other handle sees the same through its own sync. */
	sync_ok(b, &c);
	assert_true(store_folder_find(b, 5)->flags & STORE_FLAGGED);
	store_changes_free(&c);
	store_folder_close(&a);
	store_folder_close(&b);
	store_close(&store);
}

/* ---- range reads ---- */

static void test_read_range(void **unused)
{
	struct store *store = open_store("range");
	struct store_folder *f = open_folder(store, "INBOX");
	struct sbuf whole = SBUF_INIT, part = SBUF_INIT;
	uint64_t size = 0;
	char buf[16];
	int fd = -1;
	const char *err = NULL;

	fill(f, 1);
	assert_int_equal(store_msg_read(f, 1, &whole, &err), 0);
	assert_int_equal(store_msg_read_range(f, 1, 6, 5, &part, &err), 0);
	assert_int_equal(part.len, 5);
	assert_memory_equal(part.buf, whole.buf + 6, 5);
	/* A range over the end is cut; one past it is empty. */
	sbuf_reset(&part);
	assert_int_equal(store_msg_read_range(f, 1, whole.len - 3, 100, &part, &err), 0);
	assert_int_equal(part.len, 3);
	assert_memory_equal(part.buf, whole.buf + whole.len - 3, 3);
	sbuf_reset(&part);
	assert_int_equal(store_msg_read_range(f, 1, whole.len + 10, 4, &part, &err), 0);
	assert_int_equal(part.len, 0);
	/* An unknown UID is an error of its kind. */
	assert_int_equal(store_msg_read_range(f, 2, 0, 4, &part, &err), -1);
	assert_int_equal(store_error_code(store), STORE_ERR_NO_MESSAGE);
	/* The descriptor form: the size, then pread anywhere. */
	assert_int_equal(store_msg_open(f, 1, &fd, &size, &err), 0);
	assert_true(fd >= 0);
	assert_int_equal(size, whole.len);
	assert_int_equal(pread(fd, buf, 4, 10), 4);
	assert_memory_equal(buf, whole.buf + 10, 4);
	close(fd);
	sbuf_release(&whole);
	sbuf_release(&part);
	store_folder_close(&f);
	store_close(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_map),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_set_flags_uids),
		cmocka_unit_test(test_copy_move_uids),
		cmocka_unit_test(test_copy_file_gone),
		cmocka_unit_test(test_sync_changes),
		cmocka_unit_test(test_read_range),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
