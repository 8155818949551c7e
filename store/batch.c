/* store batch: publish many appended messages in one state transaction
 * (store/batch.h says why and what survives a crash). */
#include "store/batch.h"
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/state.h"

#include "lib/crash.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Files held open between their write and their fsync; past this many the
 * open ones are fsynced then, so a big batch stays within the fd limit. */
#define BATCH_OPEN_MAX 256
/* Threads that fsync a group of files at once.  One fsync at a time waits
 * for each file's write and flush in turn (~1,000 small files: 1-4 s on
 * this machine's disk under load); several at once are served together
 * (0.1-0.2 s).  Below BATCH_THREAD_MIN files one thread does it. */
#define BATCH_SYNC_THREADS 8
#define BATCH_THREAD_MIN 4

struct batch_item {
	struct maildir_tmp tmp;		/* maildir: written in tmp/ */
	int fd;				/* its file until the commit fsyncs it; -1 */
	char *location;			/* once renamed into new/ or cur/ */
	uint32_t flags;
	char *keywords;			/* normalised, "" if none */
	int64_t internal_date;
	uint64_t size, vsize;
	char *envelope, *threadkey;
	char *bodystructure;		/* STORE_BATCH_BODYSTRUCTURE */
	uint32_t uid;			/* mbox: appended at once */
	/* For the rare rename that must write the file again (its name was
	 * taken meanwhile, or a tmp/ cleaner took it): a copy, or the
	 * caller's data with STORE_BATCH_BORROW. */
	const char *data;
	bool owned;			/* data is our copy */
};

struct store_batch {
	struct store_folder *f;
	unsigned opts;
	struct batch_item *items;
	size_t n, cap;
	size_t synced;			/* items[0..synced) fsynced and closed */
	size_t bytes;			/* of the copies held */
	bool unsynced;			/* an fsync failed: nothing may be published */
	store_batch_stored_fn *on_stored;
	void *on_stored_ctx;
};

struct store_batch *store_batch_new_opts(struct store_folder *f, unsigned opts)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));

	b->f = f;
	b->opts = opts;
	return b;
}

struct store_batch *store_batch_new(struct store_folder *f)
{
	return store_batch_new_opts(f, 0);
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
	free(it->bodystructure);
	if (it->owned)
		free((char *)it->data);
	memset(it, 0, sizeof(*it));
}

/* ---- fsync of many files at once ---- */

struct sync_job {
	struct batch_item *items;
	size_t n, step;			/* items[0], items[step], ... below n */
	int err;			/* the first errno, 0 */
	const char *path;		/* its file */
};

static void *sync_work(void *arg)
{
	struct sync_job *j = arg;

	for (size_t i = 0; i < j->n; i += j->step) {
		struct batch_item *it = &j->items[i];
		int r = fsync(it->fd);

		r = close(it->fd) < 0 ? -1 : r;
		it->fd = -1;
		if (r < 0 && j->err == 0) {
			j->err = errno;
			j->path = it->tmp.path;
		}
	}
	return NULL;
}

/* fsyncs and closes the files of items[synced..n): nothing is published
 * before all are durable.  0, or -1 (every file closed either way). */
static int sync_files(struct store_batch *b, const char **error_r)
{
	size_t n = b->n - b->synced, k = n < BATCH_THREAD_MIN ? 1 :
		n < BATCH_SYNC_THREADS ? n : BATCH_SYNC_THREADS, started = 1;
	struct sync_job jobs[BATCH_SYNC_THREADS];
	pthread_t threads[BATCH_SYNC_THREADS];
	struct batch_item *items = b->items + b->synced;

	if (n == 0)
		return 0;
	for (size_t t = 0; t < k; t++)
		jobs[t] = (struct sync_job){ .items = items + t, .n = n - t, .step = k };
	/* The workers block every signal, so a handler runs on the calling
	 * thread as when there were none.  A thread that cannot start leaves
	 * its share to the calling one. */
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < k; started++)
		if (pthread_create(&threads[started], NULL, sync_work, &jobs[started]) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t t = started; t < k; t++)
		sync_work(&jobs[t]);
	sync_work(&jobs[0]);
	for (size_t t = 1; t < started; t++)
		pthread_join(threads[t], NULL);
	b->synced = b->n;
	for (size_t t = 0; t < k; t++)
		if (jobs[t].err != 0) {
			b->unsynced = true;
			errno = jobs[t].err;
			return store_fail_errno(b->f->store, error_r, "fsync %s: %s", jobs[t].path,
						strerror(jobs[t].err));
		}
	return 0;
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
		/* The fsync waits for the commit (or for a full group of open
		 * files): issued together, the fsyncs of a batch share the
		 * disk's flushes and the file system's journal commits. */
		if (b->n - b->synced >= BATCH_OPEN_MAX && sync_files(b, error_r) < 0)
			return -1;
		if (maildir_write_tmp_unsynced(f->path, data, len, internal_date, &it.tmp, &it.fd,
					       &err) < 0)
			return store_fail_errno(f->store, error_r, "%s", err);
#ifdef SYNC_FILE_RANGE_WRITE
		/* Its writing starts now; the fsync later finds it done. */
		(void)sync_file_range(it.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
		/* Parsed now, outside the writer lock the commit takes. */
		it.envelope = store_envelope_of(data, len);
		it.threadkey = store_threadkey_of(data, len > STORE_HEADER_MAX ? STORE_HEADER_MAX
									    : len);
		if (b->opts & STORE_BATCH_BODYSTRUCTURE)
			it.bodystructure = store_bodystructure_of(data, len);
		it.vsize = store_crlf_size(data, len, &last);
		it.keywords = store_keywords_apply("", STORE_FLAGS_SET, keywords);
		if (b->opts & STORE_BATCH_BORROW) {
			it.data = data;
		} else {
			char *copy = xmalloc(len ? len : 1);

			memcpy(copy, data, len);
			it.data = copy;
			it.owned = true;
			b->bytes += len;
		}
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
		crash_point("batch:after-rename");
		key = store_location_key(it->location);
		it->flags = store_location_flags(it->location, NULL);
		struct state_rec rec = {
			.flags = it->flags, .size = it->size, .vsize = it->vsize,
			.internal_date = it->internal_date, .key = key,
			.location = it->location, .keywords = it->keywords,
			.envelope = it->envelope, .threadkey = it->threadkey,
			/* Without STORE_BATCH_BODYSTRUCTURE: made at its first FETCH. */
			.bodystructure = it->bodystructure,
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
	if (b->unsynced) {
		store_fail(f->store, error_r, "%s: a message of the batch could not be synced",
			   f->path);
		goto out;
	}
	if (sync_files(b, error_r) < 0)
		goto out;
	crash_point("batch:after-sync");
	if (state_begin(f->state, &txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	crash_point("batch:begin");
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
