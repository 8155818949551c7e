/* store batch: publish many appended messages in one state transaction
 * (store/batch.h says why and what survives a crash). */
#include "store/batch.h"
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/state.h"

#include "lib/crash.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct batch_item {
	struct maildir_tmp tmp;		/* maildir: written in tmp/ */
	int fd;				/* its file until the commit fsyncs it; -1 */
	char *location;			/* once renamed into new/ or cur/ */
	uint32_t flags;
	char *keywords;			/* normalised, "" if none */
	int64_t internal_date;
	uint64_t size, vsize;
	char *envelope, *threadkey;
	uint32_t uid;			/* mbox: appended at once */
	/* A copy, for the rare rename that must write the file again (its
	 * name was taken meanwhile). */
	char *data;
};

struct store_batch {
	struct store_folder *f;
	struct batch_item *items;
	size_t n, cap;
	size_t bytes;			/* of the copies held */
	store_batch_stored_fn *on_stored;
	void *on_stored_ctx;
};

struct store_batch *store_batch_new(struct store_folder *f)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));

	b->f = f;
	return b;
}

void store_batch_on_stored(struct store_batch *b, store_batch_stored_fn *fn, void *ctx)
{
	b->on_stored = fn;
	b->on_stored_ctx = ctx;
}

size_t store_batch_count(const struct store_batch *b)
{
	return b->n;
}

size_t store_batch_bytes(const struct store_batch *b)
{
	return b->bytes;
}

static void item_clear(struct batch_item *it)
{
	if (it->fd >= 0)
		close(it->fd);
	maildir_tmp_discard(&it->tmp);
	free(it->location);
	free(it->keywords);
	free(it->envelope);
	free(it->threadkey);
	free(it->data);
	memset(it, 0, sizeof(*it));
}

int store_batch_add(struct store_batch *b, const char *data, size_t len, uint32_t flags,
		    const char *keywords, int64_t internal_date, const char **error_r)
{
	struct store_folder *f = b->f;
	struct batch_item it = { .flags = flags & ~(uint32_t)STORE_RECENT, .fd = -1 };
	const char *err;
	char last = '\0';

	if (store_check_writable(f->store, error_r) < 0)
		return -1;
	if (internal_date <= 0)
		internal_date = (int64_t)time(NULL);
	if (f->kind == STORE_MBOX) {
		if (store_append(f, data, len, flags, keywords, internal_date, &it.uid,
				 error_r) < 0)
			return -1;
	} else {
		/* The fsync waits for the commit: issued back to back, the
		 * fsyncs of a batch share the file system's journal commits
		 * (five times faster here than one fsync per add). */
		if (maildir_write_tmp_unsynced(f->path, data, len, internal_date, &it.tmp, &it.fd,
					       &err) < 0)
			return store_fail_errno(f->store, error_r, "%s", err);
		/* Parsed now, outside the writer lock the commit takes. */
		it.envelope = store_envelope_of(data, len);
		it.threadkey = store_threadkey_of(data, len > STORE_HEADER_MAX ? STORE_HEADER_MAX
									    : len);
		it.vsize = store_crlf_size(data, len, &last);
		it.keywords = store_keywords_apply("", STORE_FLAGS_SET, keywords);
		it.data = xmalloc(len ? len : 1);
		memcpy(it.data, data, len);
		b->bytes += len;
	}
	it.size = len;
	it.internal_date = internal_date;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->items = xreallocarray(b->items, b->cap, sizeof(*b->items));
	}
	b->items[b->n++] = it;
	crash_point("batch:after-add");
	return 0;
}

void store_batch_abort(struct store_batch **bp)
{
	struct store_batch *b = *bp;

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		item_clear(&b->items[i]);
	free(b->items);
	free(b);
	*bp = NULL;
}

/* fsyncs and closes every file written: nothing is published before all
 * are durable.  0, or -1. */
static int sync_files(struct store_batch *b, const char **error_r)
{
	for (size_t i = 0; i < b->n; i++) {
		struct batch_item *it = &b->items[i];
		int r = fsync(it->fd);

		r = close(it->fd) < 0 ? -1 : r;
		it->fd = -1;
		if (r < 0)
			return store_fail_errno(b->f->store, error_r, "%s", it->tmp.path);
	}
	return 0;
}

/* Renames the files into place and adds their records inside txn.  0, or
 * -1 with the files renamed so far left for the caller to remove. */
static int publish(struct store_batch *b, struct state_txn *txn, const char **error_r)
{
	struct store_folder *f = b->f;
	const char *err;

	for (size_t i = 0; i < b->n; i++) {
		struct batch_item *it = &b->items[i];
		char *key;

		if (maildir_publish_tmp(f->path, &it->tmp, it->data, it->size, it->flags, NULL,
					it->internal_date, false, &it->location, &err) < 0)
			return store_fail_errno(f->store, error_r, "%s", err);
		key = store_location_key(it->location);
		it->flags = store_location_flags(it->location, NULL);
		struct state_rec rec = {
			.flags = it->flags, .size = it->size, .vsize = it->vsize,
			.internal_date = it->internal_date, .key = key,
			.location = it->location, .keywords = it->keywords,
			.envelope = it->envelope, .threadkey = it->threadkey,
			/* BODYSTRUCTURE: computed on its first FETCH. */
		};
		int r = state_txn_add(txn, &rec, &it->uid, &err);

		free(key);
		if (r < 0)
			return store_fail(f->store, error_r, "%s", err);
	}
	return 0;
}

/* fsyncs each directory that received a file, once. */
static int sync_dirs(struct store_batch *b, const char **error_r)
{
	bool done_new = false, done_cur = false;
	const char *err;

	for (size_t i = 0; i < b->n; i++) {
		const char *loc = b->items[i].location;
		bool *done = strncmp(loc, "new/", 4) == 0 ? &done_new : &done_cur;

		if (*done)
			continue;
		if (maildir_sync_location(b->f->path, loc, &err) < 0)
			return store_fail_errno(b->f->store, error_r, "%s", err);
		*done = true;
	}
	return 0;
}

int store_batch_commit(struct store_batch **bp, uint32_t *uids_r, const char **error_r)
{
	struct store_batch *b = *bp;
	struct store_folder *f = b->f;
	struct state_txn *txn = NULL;
	const char *err;
	bool keep_stamps = false;
	int ret = -1;

	if (f->kind == STORE_MBOX || b->n == 0) {
		ret = 0;
		goto out;
	}
	if (sync_files(b, error_r) < 0)
		goto out;
	crash_point("batch:after-sync");
	if (state_begin(f->state, &txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	store_stamps_before(f, txn, &keep_stamps);
	if (publish(b, txn, error_r) < 0)
		goto undo;
	crash_point("batch:after-publish");
	if (store_stamps_after(f, txn, keep_stamps, error_r) < 0)
		goto undo;
	if (state_commit(&txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto undo;
	}
	crash_point("batch:after-commit");
	if (sync_dirs(b, error_r) < 0)
		goto undo;
	for (size_t i = 0; i < b->n; i++)
		store_index_add(f, b->items[i].location, b->items[i].flags,
				b->items[i].keywords);
	store_index_commit(f->store);
	for (size_t i = 0; b->on_stored && i < b->n; i++)
		b->on_stored(b->on_stored_ctx, b->items[i].location);
	ret = 0;
	goto out;
undo:
	/* Not reported stored, so not kept (a retry would store them twice);
	 * records committed for them go with the files at the next open. */
	state_abort(&txn);
	for (size_t i = 0; i < b->n; i++) {
		const char *e2;

		if (b->items[i].location && maildir_remove(f->path, b->items[i].location, &e2) < 0)
			log_warning("%s", e2);
	}
out:
	state_abort(&txn);
	if (ret == 0 && uids_r)
		for (size_t i = 0; i < b->n; i++)
			uids_r[i] = b->items[i].uid;
	store_batch_abort(bp);
	return ret;
}
