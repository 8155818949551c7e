/* Unit tests of the snapshot image (store/folder_image.c): a warm open of
 * an unchanged folder copies the kept snapshot back; after a change by
 * loft (flags, a keyword, an arrival, an expunge) it copies it and replays
 * the change, which gives what a walk of the records gives; a rename by
 * another program makes it read the files; a garbled image is ignored. */
#include "store/batch.h"
#include "store/store.h"
#include "store/store-private.h"
#include "store/state.h"

#include "lib/sbuf.h"
#include "tests/unit/store-test.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

static const char *const msgs[] = {
	"From: a@example.org\nSubject: one\nMessage-ID: <1@x>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nbody\n",
	"From: b@example.org\nSubject: Re: one\nMessage-ID: <2@x>\nIn-Reply-To: <1@x>\n"
	"References: <1@x>\nDate: Mon, 1 Jan 2024 11:00:00 +0000\n\nbody\n",
	"From: c@example.org\nSubject: two\nMessage-ID: <3@x>\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n\nbody\n",
};

static struct store_folder *filled(struct store *store, uint32_t *uids)
{
	struct store_folder *f = open_folder(store, "INBOX");
	const char *err;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(store_append(f, msgs[i], strlen(msgs[i]), i ? 0 : STORE_SEEN,
					      i == 2 ? "work" : NULL, 0, &uids[i], &err), 0);
	store_folder_close(&f);
	return open_folder(store, "INBOX");
}

/* Whether two snapshots hold the same messages, field by field. */
static void assert_same(const struct store_folder *a, const struct store_folder *b)
{
	assert_int_equal(store_folder_count(a), store_folder_count(b));
	assert_int_equal(store_folder_uidnext(a), store_folder_uidnext(b));
	assert_int_equal(store_folder_highestmodseq(a), store_folder_highestmodseq(b));
	for (size_t i = 0; i < store_folder_count(a); i++) {
		const struct store_msg *x = store_folder_msg(a, i), *y = store_folder_msg(b, i);

		assert_int_equal(x->uid, y->uid);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->modseq, y->modseq);
		assert_int_equal(x->size, y->size);
		assert_int_equal(x->vsize, y->vsize);
		assert_int_equal(x->internal_date, y->internal_date);
		assert_string_equal(x->keywords, y->keywords);
		assert_string_equal(x->location, y->location);
		assert_true((x->threadkey == NULL) == (y->threadkey == NULL));
		for (const char *p = x->threadkey, *q = y->threadkey; p && p < x->threadkey + 1;)
			for (int k = 0; k < 5; k++) {	/* its five fields */
				assert_string_equal(p, q);
				p += strlen(p) + 1;
				q += strlen(q) + 1;
			}
	}
}

/* Opens INBOX, keeps its snapshot and reopens it: the reopened one. */
static struct store_folder *kept_then_reopened(struct store *store, struct store_folder **f)
{
	const char *err;

	assert_int_equal(store_folder_keep_snapshot(*f, &err), 0);
	store_folder_close(f);
	return open_folder(store, "INBOX");
}

static void test_image_used_when_unchanged(void **unused)
{
	struct store *store = open_store("image-used");
	uint32_t uids[3];
	struct store_folder *f = filled(store, uids), *g, *h;
	const char *err;

	/* Built from the records: kept at close, used by the next open. */
	assert_null(f->image);
	assert_true(f->image_keep);
	g = open_folder(store, "INBOX");	/* a second handle: the same walk */
	f = kept_then_reopened(store, &f);
	assert_non_null(f->image);
	assert_false(f->image_keep);	/* nothing new to keep */
	assert_same(f, g);
	assert_string_equal(store_folder_find(f, uids[2])->keywords, "work");
	assert_string_equal(store_folder_find(f, uids[1])->threadkey + 0,
			    store_folder_find(g, uids[1])->threadkey);
	/* And again: an image survives any number of unchanged opens. */
	store_folder_close(&f);
	h = open_folder(store, "INBOX");
	assert_non_null(h->image);
	assert_same(h, g);
	assert_int_equal(store_folder_keep_snapshot(h, &err), 0);
	store_folder_close(&h);
	store_folder_close(&g);
	store_close(&store);
}

/* A change of any kind between the keep and the next open. */
enum change { CH_FLAGS, CH_KEYWORD, CH_ARRIVAL, CH_EXPUNGE, CH_RENAME_BEHIND };

static void change_folder(struct store *store, enum change ch, const uint32_t *uids)
{
	struct store_folder *f = open_folder(store, "INBOX");
	const char *err;
	uint32_t uid;

	switch (ch) {
	case CH_FLAGS:
		assert_int_equal(store_set_flags(f, uids[1], STORE_FLAGS_ADD, STORE_FLAGGED, NULL,
						 &err), 0);
		break;
	case CH_KEYWORD:
		assert_int_equal(store_set_flags(f, uids[0], STORE_FLAGS_ADD, 0, "later", &err), 0);
		break;
	case CH_ARRIVAL:
		assert_int_equal(store_append(f, msgs[0], strlen(msgs[0]), 0, NULL, 0, &uid, &err),
				 0);
		break;
	case CH_EXPUNGE:
		assert_int_equal(store_expunge(f, &uids[0], 1, &err), 0);
		break;
	case CH_RENAME_BEHIND: {
		/* mutt flags a message: its file renamed, no state touched. */
		const struct store_msg *m = store_folder_find(f, uids[0]);
		char from[1024], to[1100];

		assert_non_null(m);
		snprintf(from, sizeof(from), "%s/%s", store_folder_path(f), m->location);
		snprintf(to, sizeof(to), "%sF", from);
		assert_non_null(strstr(from, ":2,"));
		/* A later mtime than the one recorded, on any file system. */
		usleep(20 * 1000);
		assert_int_equal(rename(from, to), 0);
		break;
	}
	}
	store_folder_close(&f);
}

/* A snapshot built by walking the records (the image emptied first). */
static struct store_folder *walked(struct store *store)
{
	struct store_folder *f = open_folder(store, "INBOX");
	const char *err;

	assert_int_equal(state_cache_put(f->state, "snapshot", "", 0, &err), 0);
	store_folder_close(&f);
	f = open_folder(store, "INBOX");
	assert_null(f->image);
	return f;
}

static void test_image_older_replayed(void **unused)
{
	static const enum change changes[] = { CH_FLAGS, CH_KEYWORD, CH_ARRIVAL, CH_EXPUNGE,
					       CH_RENAME_BEHIND };

	for (size_t c = 0; c < sizeof(changes) / sizeof(changes[0]); c++) {
		char name[32];
		struct store *store;
		uint32_t uids[3];
		struct store_folder *f, *g;

		snprintf(name, sizeof(name), "image-stale-%zu", c);
		store = open_store(name);
		f = filled(store, uids);
		f = kept_then_reopened(store, &f);
		assert_non_null(f->image);	/* kept, and valid so far */
		store_folder_close(&f);
		change_folder(store, changes[c], uids);
		/* A change by loft: the image, then the change replayed; one
		 * behind loft's back: the files are read (a rescan). */
		f = open_folder(store, "INBOX");
		if (changes[c] == CH_RENAME_BEHIND)
			assert_null(f->image);
		else
			assert_non_null(f->image);
		assert_false(f->image_keep);	/* one change: not worth a new image */
		switch (changes[c]) {
		case CH_FLAGS:
			assert_true(store_folder_find(f, uids[1])->flags & STORE_FLAGGED);
			break;
		case CH_KEYWORD:
			assert_string_equal(store_folder_find(f, uids[0])->keywords, "later");
			break;
		case CH_ARRIVAL:
			assert_int_equal(store_folder_count(f), 4);
			break;
		case CH_EXPUNGE:
			assert_int_equal(store_folder_count(f), 2);
			assert_null(store_folder_find(f, uids[0]));
			break;
		case CH_RENAME_BEHIND:
			assert_true(store_folder_find(f, uids[0])->flags & STORE_FLAGGED);
			break;
		}
		/* What the replay gives is what a walk reads. */
		g = walked(store);
		assert_same(f, g);
		store_folder_close(&g);
		store_folder_close(&f);
		store_close(&store);
	}
}

/* A snapshot changed in this process after its walk is not kept: it may
 * not be what the state had at the walk. */
static void test_image_not_kept_after_change(void **unused)
{
	struct store *store = open_store("image-changed");
	uint32_t uids[3];
	struct store_folder *f = filled(store, uids);
	const char *err;

	assert_int_equal(store_set_flags(f, uids[0], STORE_FLAGS_ADD, STORE_FLAGGED, NULL, &err),
			 0);
	assert_false(f->image_keep);
	f = kept_then_reopened(store, &f);
	assert_null(f->image);
	assert_true(store_folder_find(f, uids[0])->flags & STORE_FLAGGED);
	store_folder_close(&f);
	store_close(&store);
}

static void test_image_garbled(void **unused)
{
	struct store *store = open_store("image-garbled");
	uint32_t uids[3];
	struct store_folder *f = filled(store, uids), *g;
	struct sbuf img = SBUF_INIT;
	const char *err;

	g = open_folder(store, "INBOX");
	f = kept_then_reopened(store, &f);
	assert_non_null(f->image);
	assert_int_equal(state_cache_get(f->state, "snapshot", &img, &err), 1);
	/* Bytes flipped in turn past the magic: never a crash or a read out
	 * of bounds (ASan runs this too); a refused image leaves the snapshot
	 * the records give.  (A flip in a flag or a string is taken as it is:
	 * the state's records carry no checksum either.) */
	for (size_t i = 8; i < img.len; i += 7) {
		struct store_folder *h;

		img.buf[i] ^= 0x5a;
		assert_int_equal(state_cache_put(f->state, "snapshot", img.buf, img.len, &err), 0);
		h = open_folder(store, "INBOX");
		if (h->image == NULL)
			assert_same(h, g);
		else
			assert_int_equal(store_folder_count(h), 3);
		store_folder_close(&h);
		img.buf[i] ^= 0x5a;
	}
	/* The same for the part the head names. */
	sbuf_reset(&img);
	assert_int_equal(state_cache_get(f->state, "snapshot.0", &img, &err), 1);
	for (size_t i = 4; i < img.len; i += 5) {
		struct store_folder *h;

		img.buf[i] ^= 0x5a;
		assert_int_equal(state_cache_put(f->state, "snapshot.0", img.buf, img.len, &err), 0);
		h = open_folder(store, "INBOX");
		if (h->image == NULL)
			assert_same(h, g);
		else
			assert_int_equal(store_folder_count(h), 3);
		store_folder_close(&h);
		img.buf[i] ^= 0x5a;
	}
	/* Cut short. */
	assert_int_equal(state_cache_put(f->state, "snapshot.0", img.buf, img.len / 2, &err), 0);
	store_folder_close(&f);
	f = open_folder(store, "INBOX");
	assert_null(f->image);
	assert_same(f, g);
	sbuf_release(&img);
	store_folder_close(&f);
	store_folder_close(&g);
	store_close(&store);
}

/* An image in parts (two messages a part here): loaded whole; a part
 * of another image (its nonce) refuses it; parts left by an older image
 * of more parts are emptied when a shorter one is kept. */
static void test_image_parts(void **unused)
{
	struct store *store = open_store("image-parts");
	uint32_t uids[3];
	struct store_folder *f, *g;
	struct sbuf part = SBUF_INIT;
	const char *err;

	store->image_part = 1;
	f = filled(store, uids);
	g = open_folder(store, "INBOX");
	f = kept_then_reopened(store, &f);	/* three parts */
	assert_non_null(f->image);
	assert_same(f, g);
	assert_int_equal(state_cache_get(f->state, "snapshot.2", &part, &err), 1);
	assert_true(part.len > 0);
	/* A change, so the next open walks and keeps again, in two parts. */
	assert_int_equal(store_set_flags(f, uids[2], STORE_FLAGS_ADD, STORE_FLAGGED, NULL, &err),
			 0);
	store_folder_close(&f);
	store_folder_close(&g);
	store->image_part = 2;
	f = open_folder(store, "INBOX");
	g = open_folder(store, "INBOX");
	assert_null(f->image);
	f = kept_then_reopened(store, &f);
	assert_non_null(f->image);
	assert_same(f, g);
	assert_true(store_folder_find(f, uids[2])->flags & STORE_FLAGGED);
	sbuf_reset(&part);
	assert_int_equal(state_cache_get(f->state, "snapshot.2", &part, &err), 1);
	assert_int_equal(part.len, 0);
	/* Part 1 with another nonce (bytes 8-15 of its head). */
	sbuf_reset(&part);
	assert_int_equal(state_cache_get(f->state, "snapshot.1", &part, &err), 1);
	part.buf[9] ^= 1;
	assert_int_equal(state_cache_put(f->state, "snapshot.1", part.buf, part.len, &err), 0);
	store_folder_close(&f);
	f = open_folder(store, "INBOX");
	assert_null(f->image);
	assert_same(f, g);
	sbuf_release(&part);
	store_folder_close(&f);
	store_folder_close(&g);
	store_close(&store);
}

/* The snapshot of an IMAP server's store (STORE_OPEN_NO_THREADKEYS) is
 * kept apart: a client never loads it (its thread keys are empty), and
 * the server never loads the client's.  Messages delivered into new/ (no
 * state change) are replayed onto an image; 1,100 changes are too, and
 * make it worth keeping a new image; 2,000 more are too many: a walk. */
static void test_image_server(void **unused)
{
	struct store *store = open_store("image-server"), *srv;
	struct store_settings set = { .root = root };
	uint32_t uids[3];
	struct store_folder *f = filled(store, uids), *g;
	const char *err;

	assert_int_equal(store_open(&set, STORE_OPEN_NO_THREADKEYS, &srv, &err), 0);
	g = open_folder(srv, "INBOX");
	assert_null(g->image);
	assert_true(g->image_keep);
	assert_int_equal(store_folder_keep_snapshot(g, &err), 0);
	store_folder_close(&g);
	store_folder_close(&f);
	f = open_folder(store, "INBOX");
	assert_null(f->image);			/* the server's is not the client's */
	g = open_folder(srv, "INBOX");
	assert_non_null(g->image);
	assert_string_equal(store_folder_find(g, uids[1])->threadkey, "");
	assert_string_equal(store_folder_find(f, uids[1])->threadkey, "Mon, 1 Jan 2024 11:00:00 +0000");
	store_folder_close(&g);
	store_folder_close(&f);

	/* A delivery into new/: the image and the arrival. */
	assert_int_equal(store_deliver_file(store, "INBOX", msgs[0], strlen(msgs[0]), 0, &err), 1);
	g = open_folder(srv, "INBOX");
	assert_non_null(g->image);
	assert_int_equal(store_folder_count(g), 4);
	assert_false(g->image_keep);
	store_folder_close(&g);

	/* 1,100 new messages: replayed, and a new image worth keeping. */
	f = open_folder(store, "INBOX");
	struct store_batch *b = store_batch_new(f);
	for (int i = 0; i < 1100; i++) {
		if (i > 0 && i % 200 == 0) {
			assert_int_equal(store_batch_commit(&b, NULL, &err), 0);
			b = store_batch_new(f);
		}
		assert_int_equal(store_batch_add(b, msgs[2], strlen(msgs[2]), 0, NULL, 0, &err), 0);
	}
	assert_int_equal(store_batch_commit(&b, NULL, &err), 0);
	store_folder_close(&f);
	g = open_folder(srv, "INBOX");
	assert_non_null(g->image);
	assert_int_equal(store_folder_count(g), 1104);
	assert_true(g->image_keep);
	assert_int_equal(store_folder_keep_snapshot(g, &err), 0);
	store_folder_close(&g);
	g = open_folder(srv, "INBOX");
	assert_non_null(g->image);
	assert_false(g->image_keep);
	f = walked(store);
	assert_int_equal(store_folder_count(f), 1104);
	store_folder_close(&g);

	/* 2,000 flag changes: more than the image may replay. */
	uint32_t *all = calloc(store_folder_count(f), sizeof(*all));
	size_t n = store_folder_count(f);
	for (size_t i = 0; i < n; i++)
		all[i] = store_folder_msg(f, i)->uid;
	struct store_flag_change flagged = { STORE_FLAGS_ADD, STORE_FLAGGED, NULL, 0 };
	struct store_flag_change answered = { STORE_FLAGS_ADD, STORE_ANSWERED, NULL, 0 };

	assert_int_equal(store_set_flags_uids(f, all, n, &flagged, NULL, NULL, &err), 0);
	assert_int_equal(store_set_flags_uids(f, all, 900, &answered, NULL, NULL, &err), 0);
	free(all);
	store_folder_close(&f);
	g = open_folder(srv, "INBOX");
	assert_null(g->image);
	assert_true(g->image_keep);
	assert_true(store_folder_msg(g, 0)->flags & STORE_FLAGGED);
	store_folder_close(&g);
	store_close(&srv);
	store_close(&store);
}

/* A message in new/ when the image was kept, claimed as \Recent since (to
 * cur/, no new MODSEQ): the open that replays onto the image reads its
 * record again, so its location and flags are the walk's. */
static void test_image_new_claimed(void **unused)
{
	struct store *store = open_store("image-claimed"), *srv;
	struct store_settings set = { .root = root };
	uint32_t uids[3], *claimed = NULL;
	size_t n_claimed = 0;
	struct store_folder *f = filled(store, uids), *g;
	const char *err;

	store_folder_close(&f);
	assert_int_equal(store_deliver_file(store, "INBOX", msgs[0], strlen(msgs[0]), 0, &err), 1);
	assert_int_equal(store_open(&set, STORE_OPEN_NO_THREADKEYS, &srv, &err), 0);
	g = open_folder(srv, "INBOX");		/* gives the delivery its UID */
	store_folder_close(&g);
	g = open_folder(srv, "INBOX");		/* a walk: kept */
	const struct store_msg *m = store_folder_msg(g, 3);
	uint32_t uid = m->uid;

	assert_true(m->flags & STORE_RECENT);
	assert_int_equal(strncmp(m->location, "new/", 4), 0);
	assert_true(g->image_keep);
	assert_int_equal(store_folder_keep_snapshot(g, &err), 0);
	store_folder_close(&g);
	f = open_folder(store, "INBOX");
	assert_int_equal(store_claim_recent(f, &uid, 1, &claimed, &n_claimed, &err), 0);
	assert_int_equal(n_claimed, 1);
	free(claimed);
	store_folder_close(&f);
	g = open_folder(srv, "INBOX");
	assert_non_null(g->image);
	m = store_folder_find(g, uid);
	assert_false(m->flags & STORE_RECENT);
	assert_int_equal(strncmp(m->location, "cur/", 4), 0);
	f = walked(store);
	assert_string_equal(store_folder_find(f, uid)->location, m->location);
	assert_int_equal(store_folder_find(f, uid)->flags, m->flags);
	store_folder_close(&f);
	store_folder_close(&g);
	store_close(&srv);
	store_close(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_used_when_unchanged),
		cmocka_unit_test(test_image_older_replayed),
		cmocka_unit_test(test_image_not_kept_after_change),
		cmocka_unit_test(test_image_garbled),
		cmocka_unit_test(test_image_parts),
		cmocka_unit_test(test_image_server),
		cmocka_unit_test(test_image_new_claimed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
