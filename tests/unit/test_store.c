/* store: the store core on real files — open/create, append/read, flags
 * and MODSEQ, expunge log, copy/move, reconcile after other programs'
 * changes, state rebuild, bad files, mbox folders, the envelope fast
 * path against GMime. */
#include "store/store.h"
#include "store/store-private.h"
#include "store/message.h"
#include "store/state.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "tests/unit/store-test.h"

#include <dirent.h>
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
#include <unistd.h>
#include <cmocka.h>


static const char msg1[] =
	"From: Alice Example <alice@example.org>\nTo: bob@example.org\n"
	"Subject: first\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n"
	"Message-ID: <one@example.org>\n\nbody one\n";
static const char msg2[] =
	"From: \"Cox, Lars\" <lars@example.org>\nTo: =?utf-8?q?B=C3=B6b?= <bob@example.org>\n"
	"Subject: second\n\nbody two\n";

static uint32_t append(struct store_folder *f, const char *data, uint32_t flags)
{
	const char *err = NULL;
	uint32_t uid = 0;

	if (store_append(f, data, strlen(data), flags, NULL, 0, &uid, &err) < 0)
		fail_msg("store_append: %s", err);
	return uid;
}

static void refresh(struct store_folder *f)
{
	const char *err = NULL;

	if (store_folder_refresh(f, NULL, &err) < 0)
		fail_msg("refresh: %s", err);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static void test_create_list(void **unused)
{
	struct store *store = open_store("create");
	struct store_folder_info *list;
	size_t n;
	const char *err;
	char path[600];

	assert_int_equal(store_folder_create(store, "Lists/foo", &err), 0);
	assert_int_equal(store_folder_create(store, "Lists/foo", &err), -1);
	assert_int_equal(store_folder_create(store, "../evil", &err), -1);
	snprintf(path, sizeof(path), "%s/old.mbox", root);
	write_file(path, "From a@b Tue Jan  2 10:00:00 2024\nSubject: x\n\nhi\n\n", 50);
	assert_int_equal(store_folder_list(store, &list, &n, &err), 0);
	assert_int_equal(n, 6);
	assert_string_equal(list[0].name, "INBOX");
	assert_string_equal(list[1].name, "Drafts");
	assert_string_equal(list[2].name, "Lists/foo");
	assert_string_equal(list[4].name, "Trash");
	assert_string_equal(list[5].name, "old.mbox");
	assert_int_equal(list[5].kind, STORE_MBOX);
	store_folder_list_free(list, n);

	struct store_folder *f = open_folder(store, "+Lists/foo");

	append(f, msg1, 0);
	assert_int_equal(store_folder_rename(store, "Lists/foo", "Lists/foo", &err), -1);
	assert_int_equal(store_folder_rename(store, "Lists/foo", "Lists/bar", &err), -1);
	uint32_t uidv = store_folder_uidvalidity(f);

	store_folder_close(&f);
	assert_int_equal(store_folder_rename(store, "Lists/foo", "Archive/bar", &err), 0);
	f = open_folder(store, "Archive/bar");
	assert_int_equal(store_folder_uidvalidity(f), uidv);
	assert_int_equal(store_folder_count(f), 1);
	store_folder_close(&f);
	/* "Archive" is only a directory holding "Archive/bar": renaming it
	 * renames its folders (RFC 3501 RENAME of a \Noselect parent). */
	assert_int_equal(store_folder_rename(store, "Archive", "Old", &err), 0);
	f = open_folder(store, "Old/bar");
	assert_int_equal(store_folder_uidvalidity(f), uidv);
	store_folder_close(&f);
	assert_int_equal(store_folder_rename(store, "Old", "Archive", &err), 0);
	assert_int_equal(store_folder_rename(store, "NoSuch", "Other", &err), -1);
	assert_int_equal(store_folder_delete(store, "Archive/bar", &err), 0);
	assert_int_equal(store_folder_open(store, "Archive/bar", &f, &err), -1);
	assert_non_null(strstr(err, "Archive/bar"));
	store_close(&store);
}

/* store_folder_name_check: the names issue 10 lists, and the good ones. */
static void test_folder_name_check(void **unused)
{
	static const struct { const char *name; int ret; } cases[] = {
		{ "INBOX", 0 }, { "Lists/dev", 0 }, { "a/b/c/d/e/f/g/h", 0 }, { "Caf\xc3\xa9", 0 },
		{ "", -1 }, { "/etc", -1 }, { "../../etc", -1 }, { "a/../b", -1 }, { "./a", -1 },
		{ ".loft", -1 }, { ".loft/queue", -1 }, { ".notmuch/xapian", -1 }, { "a/.hidden", -1 },
		{ "INBOX/new", -1 }, { "cur", -1 }, { "a/tmp/b", -1 }, { "a//b", -1 }, { "a/", -1 },
		{ "a\tb", -1 }, { "a\x7f", -1 }, { "a/b/c/d/e/f/g/h/i", -1 }, { "newer/current", 0 },
	};
	char longname[STORE_FOLDER_NAME_MAX + 2];
	const char *err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = NULL;
		if (store_folder_name_check(cases[i].name, &err) != cases[i].ret)
			fail_msg("'%s': expected %d (%s)", cases[i].name, cases[i].ret, err ? err : "");
		if (cases[i].ret < 0)
			assert_non_null(err);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(store_folder_name_check(longname, &err), -1);
	longname[STORE_FOLDER_NAME_MAX] = '\0';
	assert_int_equal(store_folder_name_check(longname, &err), 0);
	/* store_folder_create applies it. */
	struct store *store = open_store("names");

	assert_int_equal(store_folder_create(store, ".loft/queue", &err), -1);
	assert_non_null(strstr(err, "bad folder name"));
	assert_int_equal(store_folder_create(store, "+Lists/ok", &err), 0);
	store_close(&store);
}

/* The thread key: raw fields unfolded, References cut to its last 6 ids. */
static void test_threadkey(void **unused)
{
	static const char hdr[] =
		"From x@y Mon Jan  1 00:00:00 2024\n"
		"Subject: Re: =?utf-8?q?caf=C3=A9?=\n\tlong\n"
		"References: <1@a> <2@a>\n <3@a> garbage <4@a> <5@a> <6@a> <7@a>\n"
		"In-Reply-To: <7@a> (comment)\nMessage-ID:   <8@a>  \n"
		"Subject: second subject ignored\n\nDate: in the body\n";
	char *k = store_threadkey_of(hdr, sizeof(hdr) - 1);

	(void)unused;
	assert_string_equal(k, "\t<8@a>\t<7@a> (comment)\t<4@a> <5@a> <6@a> <7@a>"
			    "\tRe: =?utf-8?q?caf=C3=A9?= long");
	free(k);
	k = store_threadkey_of("", 0);
	assert_string_equal(k, "\t\t\t\t");
	free(k);

	/* The snapshot's form: an In-Reply-To that is the last reference
	 * goes (it adds nothing to threading), another stays. */
	struct arena *a = arena_new(0);

	assert_memory_equal(store_threadkey_split(a, "D\t<8@a>\t<7@a>\t<6@a> <7@a>\tS"),
			    "D\0<8@a>\0\0<6@a> <7@a>\0S", 22);
	assert_memory_equal(store_threadkey_split(a, "D\t<8@a>\t<7@a>\t<17@a>\tS"),
			    "D\0<8@a>\0<7@a>\0<17@a>\0S", 23);
	assert_memory_equal(store_threadkey_split(a, "D\t<8@a>"), "D\0<8@a>\0\0\0", 11);
	assert_null(store_threadkey_split(a, NULL));
	arena_free(&a);
}

static void test_append_read_flags(void **unused)
{
	struct store *store = open_store("append");
	struct store_folder *f = open_folder(store, "INBOX");
	struct sbuf out = SBUF_INIT;
	const char *err;
	uint32_t a = append(f, msg1, 0), b = append(f, msg2, STORE_SEEN);

	assert_true(a >= 1);
	assert_true(b > a);
	assert_int_equal(store_msg_read(f, a, &out, &err), 0);
	assert_int_equal(out.len, strlen(msg1));
	assert_memory_equal(out.buf, msg1, out.len);
	sbuf_reset(&out);
	assert_int_equal(store_msg_read(f, 999, &out, &err), -1);
	refresh(f);
	assert_int_equal(store_folder_count(f), 2);
	const struct store_msg *m = store_folder_find(f, a);

	assert_non_null(m);
	assert_true(m->flags & STORE_RECENT);
	sbuf_reset(&out);
	assert_int_equal(store_folder_envelope(f, a, &out, &err), 1);
	assert_non_null(strstr(out.buf, "\"first\""));
	sbuf_reset(&out);
	assert_int_equal(store_folder_envelope(f, 999, &out, &err), 0);
	assert_int_equal(out.len, 0);
	assert_true(store_folder_find(f, b)->flags & STORE_SEEN);
	assert_memory_equal(m->threadkey,
			    "Tue, 02 Jan 2024 10:00:00 +0000\0<one@example.org>\0\0\0first", 55);

	uint64_t ms = m->modseq;

	assert_int_equal(store_set_flags(f, a, STORE_FLAGS_ADD, STORE_FLAGGED, "work", &err), 0);
	m = store_folder_find(f, a);
	assert_true(m->modseq > ms);
	assert_true(m->flags & STORE_FLAGGED);
	assert_string_equal(m->keywords, "work");
	assert_non_null(strstr(m->location, ":2,F"));
	ms = m->modseq;
	assert_int_equal(store_set_flags(f, a, STORE_FLAGS_SET, STORE_SEEN, "x y", &err), 0);
	refresh(f);
	m = store_folder_find(f, a);
	assert_true(m->modseq > ms);
	assert_int_equal(m->flags & ~(uint32_t)STORE_RECENT, STORE_SEEN);
	assert_string_equal(m->keywords, "x y");
	assert_int_equal(store_set_flags(f, a, STORE_FLAGS_REMOVE, STORE_SEEN, "x", &err), 0);
	refresh(f);
	m = store_folder_find(f, a);
	assert_int_equal(m->flags, 0);
	assert_string_equal(m->keywords, "y");
	assert_int_equal(store_set_flags(f, 4242, STORE_FLAGS_ADD, STORE_SEEN, NULL, &err), -1);

	/* Expunge logs by MODSEQ. */
	uint64_t before = store_folder_highestmodseq(f);
	uint32_t *uids;
	size_t n;

	assert_int_equal(store_set_flags(f, b, STORE_FLAGS_ADD, STORE_DELETED, NULL, &err), 0);
	assert_int_equal(store_expunge(f, NULL, 0, &err), 0);
	refresh(f);
	assert_int_equal(store_folder_count(f), 1);
	assert_int_equal(store_expunged_since(f, before, &uids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(uids[0], b);
	free(uids);
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

static void status_is(struct store *store, const char *name, size_t total, size_t unseen)
{
	size_t t = 99, u = 99;
	const char *err = NULL;

	if (store_folder_status(store, name, &t, &u, &err) < 0)
		fail_msg("store_folder_status(%s): %s", name, err);
	assert_int_equal(t, total);
	assert_int_equal(u, unseen);
}

/* store_folder_status: counts from the state's counters, with the folder
 * open in this process or not, after flag changes, copies and expunges;
 * a folder without state is scanned once; files changed behind the
 * store's back show after the next open. */
static void test_folder_status(void **unused)
{
	struct store *store = open_store("status");
	const char *err;
	char path[600];
	size_t t, u;

	(void)unused;
	/* No state yet: scanned (and the state built). */
	snprintf(path, sizeof(path), "%s/Sent/cur/1.x.host:2,S", root);
	write_file(path, msg1, strlen(msg1));
	snprintf(path, sizeof(path), "%s/Sent/new/2.x.host", root);
	write_file(path, msg2, strlen(msg2));
	status_is(store, "Sent", 2, 1);
	status_is(store, "+Sent", 2, 1);
	status_is(store, "Drafts", 0, 0);

	struct store_folder *f = open_folder(store, "INBOX");
	uint32_t a = append(f, msg1, 0), b = append(f, msg2, STORE_SEEN);

	append(f, msg1, STORE_FLAGGED);
	status_is(store, "INBOX", 3, 2);	/* open here: the shared state */
	assert_int_equal(store_set_flags(f, a, STORE_FLAGS_ADD, STORE_SEEN, NULL, &err), 0);
	status_is(store, "INBOX", 3, 1);
	assert_int_equal(store_set_flags(f, b, STORE_FLAGS_REMOVE, STORE_SEEN, NULL, &err), 0);
	status_is(store, "INBOX", 3, 2);
	assert_int_equal(store_set_flags(f, b, STORE_FLAGS_ADD, STORE_DELETED, NULL, &err), 0);
	assert_int_equal(store_expunge(f, NULL, 0, &err), 0);
	status_is(store, "INBOX", 2, 1);
	struct store_folder *tr = open_folder(store, "Trash");
	uint32_t c;
	assert_int_equal(store_move(f, a, tr, &c, &err), 0);
	store_folder_close(&tr);
	status_is(store, "Trash", 1, 0);
	status_is(store, "INBOX", 1, 1);
	store_folder_close(&f);
	status_is(store, "INBOX", 1, 1);	/* closed: its own environment */

	/* Another program marks Sent's new message seen: the counter follows
	 * at the next open. */
	snprintf(path, sizeof(path), "%s/Sent/new/2.x.host", root);
	char to[600];
	snprintf(to, sizeof(to), "%s/Sent/cur/2.x.host:2,S", root);
	assert_int_equal(rename(path, to), 0);
	f = open_folder(store, "Sent");
	store_folder_close(&f);
	status_is(store, "Sent", 2, 0);

	assert_int_equal(store_folder_status(store, "Nope", &t, &u, &err), -1);
	assert_non_null(strstr(err, "no such folder"));
	store_close(&store);
}

static void test_copy_move(void **unused)
{
	struct store *store = open_store("copy");
	struct store_folder *in = open_folder(store, "INBOX"), *tr = open_folder(store, "Trash");
	const char *err;
	uint32_t a = append(in, msg1, STORE_SEEN), c, d;
	struct sbuf out = SBUF_INIT;

	assert_int_equal(store_copy(in, a, tr, &c, &err), 0);
	assert_int_equal(store_move(in, a, tr, &d, &err), 0);
	assert_true(d > c);
	refresh(in);
	refresh(tr);
	assert_int_equal(store_folder_count(in), 0);
	assert_int_equal(store_folder_count(tr), 2);
	/* Fresh unique names: two different files. */
	assert_string_not_equal(store_folder_msg(tr, 0)->location,
				store_folder_msg(tr, 1)->location);
	assert_int_equal(store_msg_read(tr, d, &out, &err), 0);
	assert_memory_equal(out.buf, msg1, strlen(msg1));
	assert_true(store_folder_find(tr, d)->flags & STORE_SEEN);
	sbuf_reset(&out);
	assert_int_equal(store_folder_envelope(tr, d, &out, &err), 1);
	assert_non_null(strstr(out.buf, "\"first\""));
	sbuf_release(&out);
	store_folder_close(&in);
	store_folder_close(&tr);
	store_close(&store);
}

static void test_reconcile_rebuild(void **unused)
{
	struct store *store = open_store("reconcile");
	struct store_folder *f = open_folder(store, "INBOX");
	char path[700], path2[700], state[600];
	uint32_t a = append(f, msg1, STORE_SEEN);
	const char *loc;

	(void)append(f, msg2, 0);
	refresh(f);
	loc = store_folder_find(f, a)->location;
	/* Another program: renames a's flags, adds one, deletes the other. */
	snprintf(path, sizeof(path), "%s/INBOX/%s", root, loc);
	snprintf(path2, sizeof(path2), "%s/INBOX/%s", root, loc);
	strcpy(strstr(path2, ":2,"), ":2,RS");
	assert_int_equal(rename(path, path2), 0);
	snprintf(path, sizeof(path), "%s/INBOX/new/1700000000.ext1.host", root);
	write_file(path, msg2, strlen(msg2));
	snprintf(path, sizeof(path), "%s/INBOX/%s", root, store_folder_msg(f, 1)->location);
	assert_int_equal(unlink(path), 0);
	bool changed = false;
	const char *err;

	assert_int_equal(store_folder_refresh(f, &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(store_folder_count(f), 2);
	assert_int_equal(store_folder_msg(f, 0)->uid, a);
	assert_int_equal(store_folder_msg(f, 0)->flags, STORE_SEEN | STORE_ANSWERED);
	assert_true(store_folder_msg(f, 1)->uid > a + 1);
	assert_int_equal(store_folder_refresh(f, &changed, &err), 0);
	assert_false(changed);

	/* State deleted: rebuilt with a new UIDVALIDITY, same messages. */
	uint32_t uidv = store_folder_uidvalidity(f);

	store_folder_close(&f);
	snprintf(state, sizeof(state), "%s/.loft/INBOX", root);
	assert_int_equal(state_destroy(state, &err), 0);
	unlink(strcat(state, "/.tmpclean"));
	f = open_folder(store, "INBOX");
	assert_int_not_equal(store_folder_uidvalidity(f), uidv);
	assert_int_equal(store_folder_count(f), 2);
	assert_int_equal(store_folder_msg(f, 0)->uid, 1);
	assert_int_equal(store_folder_msg(f, 1)->uid, 2);
	assert_int_equal(store_folder_msg(f, 0)->flags | store_folder_msg(f, 1)->flags,
			 STORE_SEEN | STORE_ANSWERED | STORE_RECENT);
	store_folder_close(&f);
	store_close(&store);
}

static void test_bad_files(void **unused)
{
	struct store *store = open_store("bad");
	char path[700];
	struct sbuf out = SBUF_INIT;
	const char *err;

	snprintf(path, sizeof(path), "%s/INBOX/cur/1700000001.empty.host:2,S", root);
	write_file(path, "", 0);
	snprintf(path, sizeof(path), "%s/INBOX/cur/1700000002.garbled.host:2,", root);
	write_file(path, "\x01\x02\xff\xfe garbage\n\n\n", 13);
	snprintf(path, sizeof(path), "%s/INBOX/new/noinfo", root);
	write_file(path, msg1, strlen(msg1));
	snprintf(path, sizeof(path), "%s/INBOX/cur/1700000003.unreadable.host:2,Z", root);
	write_file(path, msg1, strlen(msg1));
	chmod(path, 0);
	struct store_folder *f = open_folder(store, "INBOX");

	assert_int_equal(store_folder_count(f), 4);
	for (size_t i = 0; i < 4; i++)
		assert_non_null(store_folder_msg(f, i)->location);
	assert_int_equal(store_msg_read(f, store_folder_msg(f, 0)->uid, &out, &err), 0);
	chmod(path, 0600);
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

static void test_mbox(void **unused)
{
	struct store *store = open_store("mbox");
	char path[700];
	struct sbuf out = SBUF_INIT;
	const char *err;

	snprintf(path, sizeof(path), "%s/box", root);
	write_file(path, "From a@b Tue Jan  2 10:00:00 2024\nSubject: one\n\nhi\n\n", 51);
	struct store_folder *f = open_folder(store, "box");
	uint32_t a, b;

	assert_int_equal(store_folder_kind(f), STORE_MBOX);
	assert_int_equal(store_folder_count(f), 1);
	a = store_folder_msg(f, 0)->uid;
	b = append(f, msg1, 0);
	assert_true(b > a);
	assert_int_equal(store_msg_read(f, b, &out, &err), 0);
	assert_memory_equal(out.buf, msg1, strlen(msg1));
	assert_int_equal(store_set_flags(f, a, STORE_FLAGS_ADD, STORE_SEEN | STORE_DELETED, NULL,
					 &err), 0);
	refresh(f);
	assert_int_equal(store_folder_count(f), 2);
	assert_true(store_folder_find(f, a)->flags & STORE_SEEN);
	assert_int_equal(store_expunge(f, NULL, 0, &err), 0);
	refresh(f);
	assert_int_equal(store_folder_count(f), 1);
	assert_int_equal(store_folder_msg(f, 0)->uid, b);
	/* Into a maildir and back (read + append across kinds). */
	struct store_folder *in = open_folder(store, "INBOX");
	uint32_t c;

	assert_int_equal(store_move(f, b, in, &c, &err), 0);
	refresh(f);
	refresh(in);
	assert_int_equal(store_folder_count(f), 0);
	assert_int_equal(store_folder_count(in), 1);
	sbuf_release(&out);
	store_folder_close(&in);
	store_folder_close(&f);
	store_close(&store);
}

/* The fast ENVELOPE path gives GMime's string or gives up. */
/* ---- a first open of a big folder ---- */

/* Messages, and how many are added per transaction (store->add_chunk):
 * a few chunks. */
#define BIG_COUNT 300
#define BIG_CHUNK 128

static int cancel_late(size_t done, size_t total, void *ctx)
{
	size_t *calls = ctx;

	(*calls)++;
	return done > BIG_CHUNK ? -1 : 0;
}

static void same_msg(const struct store_msg *a, const struct store_msg *b)
{
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->modseq, b->modseq);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->vsize, b->vsize);
	assert_int_equal(a->internal_date, b->internal_date);
	assert_string_equal(a->keywords, b->keywords);
	assert_string_equal(a->location, b->location);
	/* The thread key: five strings one after the other. */
	const char *x = a->threadkey, *y = b->threadkey;

	for (int i = 0; i < 5; i++) {
		assert_string_equal(x, y);
		x += strlen(x) + 1;
		y += strlen(y) + 1;
	}
}

/* A first open adds the messages a chunk per transaction: cancelled in
 * the second chunk it keeps the first, and the next open goes on from
 * there, numbering by the time in the file names (oldest first); the
 * snapshot built while adding is the one a later open reads back. */
static void test_first_open_chunks(void **unused)
{
	struct store *store = open_store("big");
	struct store_folder *f = NULL, *g;
	char path[700], data[200];
	const char *err = NULL;
	size_t calls = 0;

	for (int i = 0; i < BIG_COUNT; i++) {
		/* Names with later times for lower i: UID order is not i's.
		 * With the size in the name the scan needs no stat. */
		snprintf(data, sizeof(data), "From: a@example.org\nSubject: m %d\n"
			 "Message-ID: <%d@example.org>\n\nbody\n", i, i);
		snprintf(path, sizeof(path), "%s/INBOX/cur/%d.M%dP1.host,S=%zu:2,S", root,
			 1700000000 + BIG_COUNT - i, i, strlen(data));
		write_file(path, data, strlen(data));
	}
	store->add_chunk = BIG_CHUNK;
	store_set_progress(store, cancel_late, &calls);
	assert_int_equal(store_folder_open(store, "INBOX", &f, &err), -1);
	assert_int_equal(store_error_code(store), STORE_ERR_CANCELLED);
	assert_true(calls > 2);
	store_set_progress(store, NULL, NULL);
	/* The first chunk was committed. */
	size_t total = 0, unseen = 0;

	assert_int_equal(store_folder_status(store, "INBOX", &total, &unseen, &err), 0);
	assert_int_equal(total, BIG_CHUNK);

	f = open_folder(store, "INBOX");
	assert_int_equal(store_folder_count(f), BIG_COUNT);
	assert_int_equal(store_folder_uidnext(f), BIG_COUNT + 1);
	for (int k = 0; k < BIG_COUNT; k++) {
		const struct store_msg *m = store_folder_msg(f, (size_t)k);
		int i = BIG_COUNT - 1 - k;

		assert_int_equal(m->uid, k + 1);
		snprintf(data, sizeof(data), "cur/%d.M%dP1.host,S=", 1700000000 + BIG_COUNT - i, i);
		assert_memory_equal(m->location, data, strlen(data));
		snprintf(data, sizeof(data), "<%d@example.org>", i);
		assert_string_equal(m->threadkey + strlen(m->threadkey) + 1, data);
		assert_int_equal(m->flags, STORE_SEEN);
	}
	/* A second handle reads the state back (the warm path). */
	g = open_folder(store, "INBOX");
	assert_int_equal(store_folder_count(g), BIG_COUNT);
	for (size_t k = 0; k < BIG_COUNT; k++)
		same_msg(store_folder_msg(f, k), store_folder_msg(g, k));
	store_folder_close(&g);
	store_folder_close(&f);
	store_close(&store);
}

static void test_envelope_fast(void **unused)
{
	static const char *const headers[] = {
		"From: a@b.c\nTo: x@y.z, \"Last, First\" <f@l.org>\nSubject: hi \"q\"\n\n",
		"From: Bob Smith <bob@example.org>\nSubject: =?utf-8?q?caf=C3=A9?=\n"
		"Date: Tue, 2 Jan 2024 10:00:00 +0000\nMessage-ID: <m@x>\nIn-Reply-To: <p@x>\n\n",
		"Subject: only\n\n",
		"From: =?utf-8?q?B=C3=B6b?= <bob@example.org>\n\n",
		"From: group: a@b.c;\n\n",
		"To: <a@b.c>\nCc: a@b.c (comment)\n\n",
		"From: Bob\n Smith <bob@example.org>\nSubject: folded\n\tline\n\n",
		/* Encoded display names: decoded, encoded again when not ASCII. */
		"From: =?utf-8?b?SsO2cmc=?= =?utf-8?q?_M=C3=BCller?= <j@example.org>\n"
		"To: Anna =?iso-8859-1?q?K=F6hler?= <a@example.org>, b@example.org\n"
		"Cc: =?us-ascii?q?Plain_Name?= <p@example.org>\n\n",
		"From: \"=?utf-8?q?Quoted_=C3=A9?=\" <q@example.org>\n\n",
		"From: =?utf-8?q?bad?word?= <x@example.org>\nTo: =?utf-8?q?a?= <=?x?=@b.c>\n\n",
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(*headers); i++) {
		const char *h = headers[i], *err;
		char *fast = store_envelope_fast(h, strlen(h));
		struct message *m = message_parse(h, strlen(h), NULL, &err);
		struct sbuf out = SBUF_INIT;

		message_imap_envelope(m, &out);
		if (fast)
			assert_string_equal(fast, out.buf);
		char *any = store_envelope_of(h, strlen(h));

		assert_string_equal(any, out.buf);
		free(any);
		free(fast);
		sbuf_release(&out);
		message_free(&m);
	}
	char *plain = store_envelope_fast(headers[0], strlen(headers[0]));
	char *encoded = store_envelope_fast(headers[7], strlen(headers[7]));

	assert_non_null(plain);
	assert_non_null(encoded);	/* taken without a GMime parse */
	free(plain);
	free(encoded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_list),
		cmocka_unit_test(test_threadkey),
		cmocka_unit_test(test_append_read_flags),
		cmocka_unit_test(test_copy_move),
		cmocka_unit_test(test_folder_status),
		cmocka_unit_test(test_reconcile_rebuild),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_mbox),
		cmocka_unit_test(test_folder_name_check),
		cmocka_unit_test(test_envelope_fast),
		cmocka_unit_test(test_first_open_chunks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
