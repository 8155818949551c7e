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
	bool only_deleted = n == 0, keep_stamps = false;
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
	store_stamps_before(f, txn, &keep_stamps);
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
		if (store_mbox_change(f, (const char *const *)gone, n_gone, NULL, error_r) < 0)
			goto out;
		crash_point("expunge:after-rewrite");
	}
	crash_point("expunge:after-state");
	if (store_stamps_after(f, txn, keep_stamps, error_r) < 0)
		goto out;
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

struct copy_src {
	struct state_rec rec;
	char *buf;			/* rec's strings */
	size_t at;			/* index in the caller's uids */
};

/* Maildir to maildir, the whole set in one transaction of dst: a hard
 * link (or copy) of each file under a fresh name, its record (envelope,
 * bodystructure and keywords included) copied.  A failure removes the
 * files made and commits nothing.  Crash points are named PREFIX:STEP. */
static int copy_maildir(struct store_folder *src, const struct copy_src *cs, size_t n,
			struct store_folder *dst, const char *prefix, uint32_t *new_uids,
			const char **error_r)
{
	struct state_txn *txn = NULL;
	char extra[MAILDIR_EXTRA_SIZE], point[64];
	char **locs = xcalloc(n ? n : 1, sizeof(*locs));
	size_t made = 0;
	bool keep_stamps = false;
	const char *err;
	int ret = -1;

	if (state_begin(dst->state, &txn, &err) < 0) {
		store_fail(dst->store, error_r, "%s", err);
		goto out;
	}
	snprintf(point, sizeof(point), "%s:begin", prefix);
	crash_point(point);
	store_stamps_before(dst, txn, &keep_stamps);
	for (size_t i = 0; i < n; i++) {
		const struct state_rec *rec = &cs[i].rec;
		char *loc = NULL, *key;

		store_location_flags(rec->location, extra);
		if (maildir_copy(src->path, rec->location, dst->path,
				 rec->flags & ~(uint32_t)STORE_RECENT, extra, &loc, &err) < 0) {
			store_fail_errno(dst->store, error_r, "%s", err);
			goto undo;
		}
		locs[made++] = loc;
		snprintf(point, sizeof(point), "%s:after-copy", prefix);
		crash_point(point);
		key = store_location_key(loc);
		struct state_rec nr = *rec;

		nr.uid = 0;
		nr.flags = store_location_flags(loc, NULL);
		nr.key = key;
		nr.location = loc;
		int r = state_txn_add(txn, &nr, &new_uids[cs[i].at], &err);

		free(key);
		if (r < 0) {
			store_fail(dst->store, error_r, "%s", err);
			goto undo;
		}
	}
	if (store_stamps_after(dst, txn, keep_stamps, error_r) < 0)
		goto undo;
	if (state_commit(&txn, &err) < 0) {
		store_fail(dst->store, error_r, "%s", err);
		goto undo;
	}
	snprintf(point, sizeof(point), "%s:after-dst-commit", prefix);
	crash_point(point);
	for (size_t i = 0; i < made; i++)
		store_index_add(dst, locs[i], store_location_flags(locs[i], NULL),
				cs[i].rec.keywords);
	ret = 0;
	goto out;
undo:
	for (size_t i = 0; i < made; i++) {
		const char *e2;

		if (maildir_remove(dst->path, locs[i], &e2) < 0)
			log_warning("%s", e2);
	}
	for (size_t i = 0; i < n; i++)
		new_uids[cs[i].at] = 0;
out:
	state_abort(&txn);
	for (size_t i = 0; i < made; i++)
		free(locs[i]);
	free(locs);
	return ret;
}

/* Across kinds: read each message and append it (one transaction each). */
static int copy_append(struct store_folder *src, const struct copy_src *cs, size_t n,
		       struct store_folder *dst, bool move, uint32_t *new_uids,
		       const char **error_r)
{
	struct sbuf data = SBUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct state_rec *rec = &cs[i].rec;

		sbuf_reset(&data);
		if (store_msg_read(src, rec->uid, &data, error_r) < 0 ||
		    store_append(dst, data.buf, data.len, rec->flags & ~(uint32_t)STORE_RECENT,
				 rec->keywords, rec->internal_date, &new_uids[cs[i].at],
				 error_r) < 0)
			ret = -1;
		else
			crash_point(move ? "move:after-dst-commit" : "copy:after-dst-commit");
	}
	sbuf_release(&data);
	return ret;
}

/* The one body of copy and move; strict: an unknown UID is an error. */
static int copy_set(struct store_folder *src, const uint32_t *uids, size_t n,
		    struct store_folder *dst, bool move, bool strict, uint32_t *new_uids,
		    const char **error_r)
{
	struct copy_src *cs = xcalloc(n ? n : 1, sizeof(*cs));
	uint32_t *moved = NULL;
	size_t m = 0;
	const char *err;
	int ret = -1;

	if (store_check_writable(dst->store, error_r) < 0 ||
	    (move && store_check_writable(src->store, error_r) < 0))
		goto out;
	/* The records first: src may be dst, and one process cannot read
	 * a state while it writes it. */
	for (size_t i = 0; i < n; i++) {
		int r;

		new_uids[i] = 0;
		r = state_get(src->state, uids[i], &cs[m].rec, &cs[m].buf, &err);
		if (r < 0) {
			store_fail(src->store, error_r, "%s", err);
			goto out;
		}
		if (r == 0 && strict) {
			store_fail_code(src->store, STORE_ERR_NO_MESSAGE, error_r,
					"%s: UID %u: no such message", src->path, uids[i]);
			goto out;
		}
		if (r > 0)
			cs[m++].at = i;
	}
	if (m == 0) {
		ret = 0;
		goto out;
	}
	if (src->kind == STORE_MAILDIR && dst->kind == STORE_MAILDIR)
		ret = copy_maildir(src, cs, m, dst, move ? "move" : "copy", new_uids, error_r);
	else
		ret = copy_append(src, cs, m, dst, move, new_uids, error_r);
	store_index_commit(dst->store);
	if (ret < 0 || !move)
		goto out;
	/* The copies are safe in dst; now the sources go, in one transaction.
	 * Should this fail, the messages are in both folders: reported, not
	 * lost. */
	moved = xcalloc(m, sizeof(*moved));
	for (size_t i = 0; i < m; i++)
		moved[i] = cs[i].rec.uid;
	if (store_expunge(src, moved, m, error_r) < 0) {
		log_warning("move: copied to %s but not removed from %s", dst->path, src->path);
		ret = -1;
		goto out;
	}
	crash_point("move:after-src-commit");
out:
	for (size_t i = 0; i < n; i++)
		free(cs[i].buf);
	free(cs);
	free(moved);
	return ret;
}

int store_copy_uids(struct store_folder *src, const uint32_t *uids, size_t n,
		    struct store_folder *dst, uint32_t *new_uids_r, const char **error_r)
{
	return copy_set(src, uids, n, dst, false, false, new_uids_r, error_r);
}

int store_move_uids(struct store_folder *src, const uint32_t *uids, size_t n,
		    struct store_folder *dst, uint32_t *new_uids_r, const char **error_r)
{
	return copy_set(src, uids, n, dst, true, false, new_uids_r, error_r);
}

int store_copy(struct store_folder *src, uint32_t uid, struct store_folder *dst,
	       uint32_t *new_uid_r, const char **error_r)
{
	return copy_set(src, &uid, 1, dst, false, true, new_uid_r, error_r);
}

int store_move(struct store_folder *src, uint32_t uid, struct store_folder *dst,
	       uint32_t *new_uid_r, const char **error_r)
{
	return copy_set(src, &uid, 1, dst, true, true, new_uid_r, error_r);
}
