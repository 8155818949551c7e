/* folder_copy: expunge, copy and move, under the same rule as folder_ops.c
 * (state transaction begin -> file operation -> state update -> commit).
 *
 * A move is two transactions, never two held at once (two processes
 * moving in opposite directions cannot deadlock): the destination's (copy
 * the file under a fresh name, add the record, commit), then the
 * source's (remove the file, remove the record, commit).  A kill between
 * the two leaves the message in both folders, never in neither. */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/mbox.h"
#include "store/state.h"

#include "lib/crash.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- expunge ---- */

struct deleted_ctx {
	uint32_t *uids;
	size_t n, alloc;
};

static int collect_deleted(const struct state_rec *rec, void *ctx)
{
	struct deleted_ctx *d = ctx;

	if (!(rec->flags & STORE_DELETED))
		return 0;
	if (d->n == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 64;
		d->uids = xreallocarray(d->uids, d->alloc, sizeof(*d->uids));
	}
	d->uids[d->n++] = rec->uid;
	return 0;
}

int store_expunge(struct store_folder *f, const uint32_t *uids, size_t n,
		  const char **error_r)
{
	struct deleted_ctx d = { 0 };
	struct state_txn *txn = NULL;
	char **gone = NULL;		/* maildir locations, or mbox keys */
	size_t n_gone = 0;
	bool only_deleted = n == 0;
	const char *err;
	int ret = -1;

	if (store_check_writable(f->store, error_r) < 0)
		return -1;
	if (only_deleted) {
		if (state_foreach(f->state, collect_deleted, &d, &err) < 0)
			return store_fail(f->store, error_r, "%s", err);
		uids = d.uids;
		n = d.n;
	}
	if (n == 0)
		return 0;
	gone = xcalloc(n, sizeof(*gone));
	if (state_begin(f->state, &txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	crash_point("expunge:begin");
	for (size_t i = 0; i < n; i++) {
		struct state_rec rec;
		char *buf = NULL;
		int r = state_txn_get(txn, uids[i], &rec, &buf, &err);

		if (r < 0) {
			store_fail(f->store, error_r, "%s", err);
			goto out;
		}
		/* Already gone, or un-deleted since by another process. */
		if (r == 0 || (only_deleted && !(rec.flags & STORE_DELETED))) {
			free(buf);
			continue;
		}
		if (f->kind == STORE_MAILDIR) {
			if (maildir_remove(f->path, rec.location, &err) < 0) {
				store_fail(f->store, error_r, "%s", err);
				free(buf);
				goto out;
			}
			crash_point("expunge:after-remove");
			gone[n_gone++] = xstrdup(rec.location);
		} else {
			gone[n_gone++] = xstrdup(rec.key);
		}
		free(buf);
		if (state_txn_remove(txn, uids[i], &err) < 0) {
			store_fail(f->store, error_r, "%s", err);
			goto out;
		}
	}
	if (f->kind == STORE_MBOX && n_gone > 0) {
		if (mbox_lock(f->mbox, true, &err) < 0) {
			store_fail_code(f->store, STORE_ERR_LOCKED, error_r, "%s", err);
			goto out;
		}
		crash_point("expunge:before-rewrite");
		if (store_mbox_change(f, (const char *const *)gone, n_gone, true, 0, error_r) < 0)
			goto out;
		crash_point("expunge:after-rewrite");
	}
	crash_point("expunge:after-state");
	if (state_commit(&txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	crash_point("expunge:after-commit");
	if (f->kind == STORE_MAILDIR) {
		for (size_t i = 0; i < n_gone; i++)
			store_index_remove(f, gone[i]);
		store_index_commit(f->store);
	}
	ret = 0;
out:
	state_abort(&txn);
	if (f->mbox)
		mbox_unlock(f->mbox);
	for (size_t i = 0; i < n_gone; i++)
		free(gone[i]);
	free(gone);
	free(d.uids);
	return ret;
}

int store_expunged_since(struct store_folder *f, uint64_t modseq, uint32_t **uids_r,
			 size_t *n_r, const char **error_r)
{
	const char *err;

	if (state_expunged_since(f->state, modseq, uids_r, n_r, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	return 0;
}

/* ---- copy and move ---- */

/* Maildir to maildir: a hard link (or copy) under a fresh name, the record
 * (envelope and keywords included) copied.  Crash points are named
 * PREFIX:STEP. */
static int copy_maildir(struct store_folder *src, const struct state_rec *rec,
			struct store_folder *dst, const char *prefix, uint32_t *uid_r,
			char **location_r, const char **error_r)
{
	struct state_txn *txn = NULL;
	char extra[MAILDIR_EXTRA_SIZE], point[64];
	char *loc = NULL, *key = NULL;
	const char *err;
	uint32_t flags;
	int ret = -1;

	if (state_begin(dst->state, &txn, &err) < 0)
		return store_fail(dst->store, error_r, "%s", err);
	snprintf(point, sizeof(point), "%s:begin", prefix);
	crash_point(point);
	store_location_flags(rec->location, extra);
	if (maildir_copy(src->path, rec->location, dst->path,
			 rec->flags & ~(uint32_t)STORE_RECENT, extra, &loc, &err) < 0) {
		store_fail(dst->store, error_r, "%s", err);
		goto out;
	}
	snprintf(point, sizeof(point), "%s:after-copy", prefix);
	crash_point(point);
	key = store_location_key(loc);
	flags = store_location_flags(loc, NULL);
	struct state_rec nr = *rec;

	nr.flags = flags;
	nr.key = key;
	nr.location = loc;
	if (state_txn_add(txn, &nr, uid_r, &err) < 0 || state_commit(&txn, &err) < 0) {
		const char *e2;

		store_fail(dst->store, error_r, "%s", err);
		if (maildir_remove(dst->path, loc, &e2) < 0)
			log_warning("%s", e2);
		goto out;
	}
	snprintf(point, sizeof(point), "%s:after-dst-commit", prefix);
	crash_point(point);
	store_index_add(dst, loc, flags, rec->keywords);
	*location_r = loc;
	loc = NULL;
	ret = 0;
out:
	state_abort(&txn);
	free(loc);
	free(key);
	return ret;
}

static int copy_or_move(struct store_folder *src, uint32_t uid, struct store_folder *dst,
			bool move, uint32_t *new_uid_r, const char **error_r)
{
	struct state_rec rec;
	struct sbuf data = SBUF_INIT;
	char *buf = NULL, *loc = NULL;
	const char *err;
	int r, ret = -1;

	r = state_get(src->state, uid, &rec, &buf, &err);
	if (r <= 0) {
		if (r < 0)
			return store_fail(src->store, error_r, "%s", err);
		return store_fail(src->store, error_r, "%s: UID %u: no such message", src->path,
				  uid);
	}
	if (src->kind == STORE_MAILDIR && dst->kind == STORE_MAILDIR) {
		if (copy_maildir(src, &rec, dst, move ? "move" : "copy", new_uid_r, &loc,
				 error_r) < 0)
			goto out;
	} else {
		/* Across kinds: read the message and append it. */
		if (store_msg_read(src, uid, &data, error_r) < 0 ||
		    store_append(dst, data.buf, data.len, rec.flags & ~(uint32_t)STORE_RECENT,
				 rec.keywords, rec.internal_date, new_uid_r, error_r) < 0)
			goto out;
		crash_point(move ? "move:after-dst-commit" : "copy:after-dst-commit");
	}
	store_index_commit(dst->store);
	if (move) {
		/* The copy is safe in dst; now the source goes.  Should this
		 * fail, the message is in both folders: reported, not lost. */
		if (store_expunge(src, &uid, 1, error_r) < 0) {
			log_warning("move: copied to %s but not removed from %s", dst->path,
				    src->path);
			goto out;
		}
		crash_point("move:after-src-commit");
	}
	ret = 0;
out:
	sbuf_release(&data);
	free(buf);
	free(loc);
	return ret;
}

int store_copy(struct store_folder *src, uint32_t uid, struct store_folder *dst,
	       uint32_t *new_uid_r, const char **error_r)
{
	if (store_check_writable(dst->store, error_r) < 0)
		return -1;
	return copy_or_move(src, uid, dst, false, new_uid_r, error_r);
}

int store_move(struct store_folder *src, uint32_t uid, struct store_folder *dst,
	       uint32_t *new_uid_r, const char **error_r)
{
	if (store_check_writable(src->store, error_r) < 0 ||
	    store_check_writable(dst->store, error_r) < 0)
		return -1;
	return copy_or_move(src, uid, dst, true, new_uid_r, error_r);
}
