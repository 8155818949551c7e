/* folder_copy: expunge, copy and move, under the same rule as folder_ops.c
 * (state transaction begin -> file operation -> state update -> commit).
 *
 * A move between two maildirs on one file system is a rename of each
 * file, so at every instant a message is in exactly one folder: the
 * writer locks of both states are taken (always in the order of their
 * directories, so two processes moving in opposite directions cannot
 * deadlock), each file is renamed into the destination, its record added
 * there and removed (logged as expunged) in the source, the directories
 * fsynced, then the destination commits and the source right after.  A
 * kill before the commits leaves files the states do not know: the
 * destination's next scan adds the file (a new UID), the source's sees
 * its file gone and expunges the UID.  A kill between the commits leaves
 * the source's record alone, and its directories changed since its
 * stamps: the next sync rescans and expunges it.  Never two copies, never
 * none.  Other moves (into the same folder, across file systems or
 * kinds) copy, commit, then expunge the source: a kill between leaves the
 * message in both folders, never in neither. */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/mbox.h"
#include "store/state.h"

#include "lib/atomic.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		new_uids[cs[i].at] = 0;
		if (maildir_copy(src->path, rec->location, dst->path,
				 rec->flags & ~(uint32_t)STORE_RECENT, extra, &loc, &err) < 0) {
			/* Expunged by another session or program since the
			 * record was read: skipped (UID 0), as a move does;
			 * COPY then answers NO [EXPUNGEISSUED], not SERVERBUG. */
			if (errno == ENOENT)
				continue;
			store_fail_errno(dst->store, error_r, "%s", err);
			goto undo;
		}
		locs[i] = loc;
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
	for (size_t i = 0; i < n; i++)
		if (locs[i] != NULL)
			store_index_add(dst, locs[i], store_location_flags(locs[i], NULL),
					cs[i].rec.keywords);
	ret = 0;
	goto out;
undo:
	for (size_t i = 0; i < n; i++) {
		const char *e2;

		if (locs[i] != NULL && maildir_remove(dst->path, locs[i], &e2) < 0)
			log_warning("%s", e2);
	}
	for (size_t i = 0; i < n; i++)
		new_uids[cs[i].at] = 0;
out:
	state_abort(&txn);
	for (size_t i = 0; i < n; i++)
		free(locs[i]);
	free(locs);
	return ret;
}

/* Whether a move from src to dst can be a rename per message: two
 * distinct maildirs on one file system. */
static bool move_by_rename(const struct store_folder *src, const struct store_folder *dst)
{
	struct stat a, b;

	if (src->kind != STORE_MAILDIR || dst->kind != STORE_MAILDIR || src->sh == dst->sh)
		return false;
	return stat(src->path, &a) == 0 && stat(dst->path, &b) == 0 && a.st_dev == b.st_dev;
}

/* fsync of new/ and cur/ of a maildir: the renames in and out of them. */
static int sync_maildir_dirs(struct store_folder *f, const char **error_r)
{
	static const char *const subs[] = { "new", "cur" };

	for (size_t i = 0; i < 2; i++) {
		char *dir = path_join(f->path, subs[i]);
		int r = fsync_dir(dir);

		if (r < 0)
			store_fail_errno(f->store, error_r, "fsync %s: %s", dir, strerror(errno));
		free(dir);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* One message renamed, kept for the index and for undoing. */
struct moved {
	char *from, *to;		/* locations in src and in dst */
	char *keywords;
};

/* Renames the files back after a failure before the commits (best
 * effort: a file left in dst is found there by the next scan, not lost). */
static void move_undo(struct store_folder *src, struct store_folder *dst,
		      const struct moved *mv, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		char *from = path_join(dst->path, mv[i].to), *to = path_join(src->path, mv[i].from);

		if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0)
			log_warning("move: %s stays in %s (%s)", mv[i].to, dst->path,
				    strerror(errno));
		free(from);
		free(to);
	}
}

/* The atomic move (see the top of this file); crash points move:STEP. */
static int move_maildir(struct store_folder *src, const struct copy_src *cs, size_t n,
			struct store_folder *dst, uint32_t *new_uids, const char **error_r)
{
	struct state_txn *stx = NULL, *dtx = NULL;
	struct moved *mv = xcalloc(n, sizeof(*mv));
	bool src_first = strcmp(state_dir(src->state), state_dir(dst->state)) < 0;
	bool keep_src = false, keep_dst = false;
	size_t made = 0;
	const char *err;
	int ret = -1;

	if (state_begin((src_first ? src : dst)->state, src_first ? &stx : &dtx, &err) < 0 ||
	    state_begin((src_first ? dst : src)->state, src_first ? &dtx : &stx, &err) < 0) {
		store_fail(src->store, error_r, "%s", err);
		goto out;
	}
	crash_point("move:begin");
	store_stamps_before(src, stx, &keep_src);
	store_stamps_before(dst, dtx, &keep_dst);
	for (size_t i = 0; i < n; i++) {
		struct state_rec rec;
		char extra[MAILDIR_EXTRA_SIZE], *buf = NULL, *key;
		/* Read again under the lock: a flag change since renamed it,
		 * an expunge since took it. */
		int r = state_txn_get(stx, cs[i].rec.uid, &rec, &buf, &err);

		if (r < 0) {
			store_fail(src->store, error_r, "%s", err);
			goto undo;
		}
		if (r == 0) {
			free(buf);
			continue;
		}
		store_location_flags(rec.location, extra);
		if (maildir_move(src->path, rec.location, dst->path,
				 rec.flags & ~(uint32_t)STORE_RECENT, extra, &mv[made].from,
				 &mv[made].to, &err) < 0) {
			free(buf);
			if (errno == ENOENT)	/* removed by another program */
				continue;
			store_fail_errno(dst->store, error_r, "%s", err);
			goto undo;
		}
		mv[made].keywords = xstrdup(rec.keywords ? rec.keywords : "");
		made++;
		crash_point("move:after-rename");
		key = store_location_key(mv[made - 1].to);
		struct state_rec nr = rec;

		nr.uid = 0;
		nr.flags = store_location_flags(mv[made - 1].to, NULL);
		nr.key = key;
		nr.location = mv[made - 1].to;
		r = state_txn_add(dtx, &nr, &new_uids[cs[i].at], &err);
		free(key);
		if (r < 0 || state_txn_remove(stx, rec.uid, &err) < 0) {
			store_fail(dst->store, error_r, "%s", err);
			free(buf);
			goto undo;
		}
		free(buf);
	}
	if (made > 0 && (sync_maildir_dirs(dst, error_r) < 0 || sync_maildir_dirs(src, error_r) < 0))
		goto undo;
	crash_point("move:after-sync");
	if (store_stamps_after(dst, dtx, keep_dst, error_r) < 0 ||
	    store_stamps_after(src, stx, keep_src, error_r) < 0)
		goto undo;
	if (state_commit(&dtx, &err) < 0) {
		store_fail(dst->store, error_r, "%s", err);
		goto undo;
	}
	crash_point("move:after-dst-commit");
	/* The messages are in dst, recorded: should the source's commit
	 * fail, its next sync sees the files gone and expunges them. */
	if (state_commit(&stx, &err) < 0)
		log_warning("move: %s", err);
	crash_point("move:after-src-commit");
	for (size_t i = 0; i < made; i++) {
		store_index_add(dst, mv[i].to, store_location_flags(mv[i].to, NULL), mv[i].keywords);
		store_index_remove(src, mv[i].from);
	}
	ret = 0;
	goto out;
undo:
	state_abort(&dtx);
	state_abort(&stx);
	move_undo(src, dst, mv, made);
	for (size_t i = 0; i < n; i++)
		new_uids[cs[i].at] = 0;
out:
	state_abort(&dtx);
	state_abort(&stx);
	for (size_t i = 0; i < made; i++) {
		free(mv[i].from);
		free(mv[i].to);
		free(mv[i].keywords);
	}
	free(mv);
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
	if (move && move_by_rename(src, dst)) {
		ret = move_maildir(src, cs, m, dst, new_uids, error_r);
		store_index_commit(dst->store);
		goto out;
	}
	if (src->kind == STORE_MAILDIR && dst->kind == STORE_MAILDIR)
		ret = copy_maildir(src, cs, m, dst, move ? "move" : "copy", new_uids, error_r);
	else
		ret = copy_append(src, cs, m, dst, move, new_uids, error_r);
	store_index_commit(dst->store);
	/* A file gone meanwhile was skipped; the one-UID forms say so. */
	for (size_t i = 0; ret == 0 && strict && i < m; i++)
		if (new_uids[cs[i].at] == 0)
			ret = store_fail_code(src->store, STORE_ERR_NO_MESSAGE, error_r,
					      "%s: UID %u: the file is gone", src->path, cs[i].rec.uid);
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
