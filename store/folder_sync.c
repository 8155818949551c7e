/* folder_sync: keeping a snapshot current from the state, so that a NOOP
 * or an IDLE wake on an unchanged folder costs microseconds and a warm
 * open reads no directory.
 *
 * Whether the files changed behind loft's back is told, as notmuch and
 * Dovecot do, by the modification times of new/ and cur/ (the "stamps"),
 * recorded in the state by every full reconcile (taken before its scan)
 * and carried forward by loft's own changes inside their transaction
 * (store_stamps_before/after): when the files had the recorded stamps
 * before the change, the stamps after it are ours to record.  A program
 * that renames a file in the instant between that check and loft's own
 * rename is missed until the directory changes again; on kernels with
 * multigrain timestamps (6.13+) any change after a stat gets a distinct
 * time, so a change right after a recorded stamp is always seen.
 *
 * mbox folders have no cheap check here: their sync is a reconcile
 * (which itself skips the scan when the file is unchanged). */
#include "store/store-private.h"

#include "store/state.h"

#include "lib/arena.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- stamps ---- */

void store_stamps_now(const struct store_folder *f, uint64_t stamps[STATE_STAMPS])
{
	static const char *const subs[STATE_STAMPS] = { "new", "cur" };

	for (int i = 0; i < STATE_STAMPS; i++)
		stamps[i] = 0;
	if (f->kind != STORE_MAILDIR)
		return;
	for (int i = 0; i < STATE_STAMPS; i++) {
		char *p = path_join(f->path, subs[i]);
		struct stat st;

		if (stat(p, &st) == 0)
			stamps[i] = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
				(uint64_t)st.st_mtim.tv_nsec;
		free(p);
		if (stamps[i] == 0) {
			stamps[0] = stamps[1] = 0;
			return;
		}
	}
}

static bool stamps_equal(const uint64_t a[STATE_STAMPS], const uint64_t b[STATE_STAMPS])
{
	return a[0] != 0 && a[0] == b[0] && a[1] == b[1];
}

/* Whether the state's stamps had, read in a transaction that began after
 * the files' stamps now were taken, vouch for the files.  A mismatch may
 * be a loft change under way (files renamed, the commit that carries the
 * stamps forward still to come) or one committed in between; neither is
 * a reason to rescan.  A loft change under way holds the files lock: the
 * view of the state that was read is then a consistent one, and the
 * change's commit wakes the notify fd.  Otherwise, with the lock held so
 * that none starts, files that have the state's latest stamps changed in
 * no way the state does not know (now is updated).  Neither waits for
 * the writer lock. */
static bool stamps_agree(struct store_folder *f, const uint64_t had[STATE_STAMPS],
			 uint64_t now[STATE_STAMPS])
{
	struct state_header hdr;
	uint64_t latest[STATE_STAMPS];
	const char *err;
	bool same;
	int r;

	if (stamps_equal(had, now))
		return true;
	if (f->kind != STORE_MAILDIR || had[0] == 0 || (r = state_files_trylock(f->state)) < 0)
		return false;
	if (r == 0)
		return true;
	store_stamps_now(f, now);
	same = state_foreach_since(f->state, UINT64_MAX, &hdr, latest, NULL, NULL, &err) == 0 &&
	       stamps_equal(latest, now);
	state_files_unlock(f->state);
	return same;
}

void store_stamps_record(struct store_folder *f, const uint64_t stamps[STATE_STAMPS])
{
	struct state_txn *txn = NULL;
	uint64_t had[STATE_STAMPS], now[STATE_STAMPS];
	const char *err;

	if (f->kind != STORE_MAILDIR || stamps[0] == 0)
		return;
	if (state_begin(f->state, &txn, &err) < 0 ||
	    state_txn_get_stamps(txn, had, &err) < 0) {
		state_abort(&txn);
		log_warning("%s", err);
		return;
	}
	/* Under the writer lock loft's own changes stand still: files that
	 * still have the stamps the scan began with did not change during
	 * it.  Files that did keep the state's stamps: those a loft change
	 * carried forward meanwhile (recording the older ones would make
	 * every process rescan), or stale ones, which make the next sync
	 * look again. */
	store_stamps_now(f, now);
	if (stamps_equal(had, now) || !stamps_equal(now, stamps)) {
		state_abort(&txn);
		return;
	}
	if (state_txn_set_stamps(txn, stamps, &err) < 0 || state_commit(&txn, &err) < 0) {
		state_abort(&txn);
		log_warning("%s", err);
	}
}

void store_stamps_before(struct store_folder *f, struct state_txn *txn, bool *keep_r)
{
	uint64_t had[STATE_STAMPS], now[STATE_STAMPS];
	const char *err;

	*keep_r = false;
	if (f->kind != STORE_MAILDIR || state_txn_get_stamps(txn, had, &err) < 0)
		return;
	store_stamps_now(f, now);
	*keep_r = stamps_equal(had, now);
	if (*keep_r)
		state_txn_lock_files(txn);
}

int store_stamps_after(struct store_folder *f, struct state_txn *txn, bool keep,
		       const char **error_r)
{
	uint64_t now[STATE_STAMPS];
	const char *err;

	if (!keep)
		return 0;
	store_stamps_now(f, now);
	if (state_txn_set_stamps(txn, now, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	return 0;
}

/* ---- the snapshot from the state ---- */

static void fill_msg(struct store_folder *f, size_t i, const struct state_rec *rec)
{
	struct store_msg *m = &f->msgs[i];

	m->uid = rec->uid;
	m->flags = rec->flags;
	m->modseq = rec->modseq;
	m->size = rec->size;
	m->vsize = rec->vsize;
	m->internal_date = rec->internal_date;
	m->keywords = rec->keywords && rec->keywords[0] ? arena_strdup(f->arena, rec->keywords) :
		"";
	m->threadkey = store_snapshot_threadkey(f, rec->threadkey);
	m->location = arena_strdup(f->arena, rec->location);
}

struct build {
	struct store_folder *f;
	size_t expect;
	bool unusable;			/* a record the state alone cannot serve */
};

static int build_cb(const struct state_rec *rec, void *ctx)
{
	struct build *b = ctx;
	struct store_folder *f = b->f;

	if (rec->location == NULL || f->count >= b->expect) {
		b->unusable = true;
		return -1;
	}
	fill_msg(f, f->count++, rec);
	return 0;
}

/* A message in new/ when the image was kept may have gone to cur/ since
 * without a new MODSEQ (an IMAP session claiming it as \Recent, a reader
 * moving it there: neither changes its flags), which no replay shows: its
 * record is read again.  Such messages are the few arrivals not yet seen.
 * A record with another MODSEQ was changed after the replay's read: its
 * flags go with that MODSEQ and come with it at the next sync; only its
 * file's name is taken now (flags with the old MODSEQ would be one MODSEQ
 * with two sets of flags, RFC 7162 3.1).  0 or -1. */
static int image_new_moved(struct store_folder *f, const char **error_r)
{
	for (size_t i = 0; i < f->count; i++) {
		struct store_msg *m = &f->msgs[i];
		struct state_rec rec;
		char *buf = NULL;
		const char *err;

		if (m->location == NULL || strncmp(m->location, "new/", 4) != 0)
			continue;
		int r = state_get(f->state, m->uid, &rec, &buf, &err);

		if (r < 0) {
			free(buf);
			return store_fail(f->store, error_r, "%s", err);
		}
		/* Gone since: the replay of the expunge log dropped it, or a
		 * rescan will. */
		if (r > 0 && rec.location != NULL && strcmp(rec.location, m->location) != 0) {
			m->location = arena_strdup(f->arena, rec.location);
			if (rec.modseq == m->modseq)
				m->flags = rec.flags;
		}
		free(buf);
	}
	return 0;
}

/* After an older image was loaded (read at got): the changes since, as a
 * sync replays them.  1 done (the snapshot is the state's now; it is kept
 * as the new image at close when many changes had to be replayed), 0 when
 * it could not be (the snapshot is emptied: walk), -1 on error. */
static int image_catch_up(struct store_folder *f, const struct store_image_key *got,
			  const char **error_r)
{
	struct store_changes ch;
	struct state_header hdr;
	uint64_t had[STATE_STAMPS];
	const char *err;

	f->uidvalidity = got->uidvalidity;
	f->uidnext = got->uidnext;
	f->highestmodseq = got->highestmodseq;
	if (store_folder_sync(f, &ch, error_r) < 0 || ch.rescanned) {
		/* A rescan built the snapshot the slow way: it stands. */
		bool built = ch.rescanned;

		store_changes_free(&ch);
		if (built)
			return 1;
		store_snapshot_clear(f);
		return 0;
	}
	size_t replayed = ch.n_new + ch.n_changed + ch.n_expunged;

	store_changes_free(&ch);
	crash_point("image:caught-up");
	if (image_new_moved(f, error_r) < 0) {
		store_snapshot_clear(f);
		return 0;
	}
	/* Worth a new image when the next open would replay many changes. */
	if (replayed > 1000 + f->count / 32 &&
	    state_foreach_since(f->state, UINT64_MAX, &hdr, had, NULL, NULL, &err) == 0 &&
	    hdr.highestmodseq == f->highestmodseq && hdr.uidnext == f->uidnext &&
	    hdr.count == f->count) {
		store_image_key_of(&f->image_key, &hdr, had);
		f->image_keep = true;
	}
	return 1;
}

int store_snapshot_from_state(struct store_folder *f, const char **error_r)
{
	struct state_header hdr;
	uint64_t had[STATE_STAMPS], now[STATE_STAMPS];
	struct build b = { f, 0, false };
	struct store_image_key key;
	const char *err;

	if (f->kind != STORE_MAILDIR)
		return 0;
	f->fill_next = 0;
	store_stamps_now(f, now);
	/* A first pass reads only the header and the stamps (modseq above
	 * any): no walk when they do not match. */
	if (state_foreach_since(f->state, UINT64_MAX, &hdr, had, build_cb, &b, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	bool agree = stamps_agree(f, had, now);

	/* Only new/ moved (deliveries): the snapshot the state has, then a
	 * sync, which reads new/ alone (folder_arrivals.c) or rescans. */
	if (!agree && (had[0] == 0 || had[1] != now[1]))
		return 0;
	/* The image of the snapshot a client (or an IMAP session) kept, when
	 * nothing changed since (folder_image.c): one copy instead of the
	 * walk; when a few things changed, the copy and those changes. */
	store_image_key_of(&key, &hdr, had);
	f->image_keep = false;
	struct store_image_key got;
	int loaded = store_image_load(f, &key, true, &got);

	if (loaded == 1 && agree) {
		arena_clear(f->arena);
		goto done;
	}
	/* Deliveries into new/ since (not agree) are replayed too: the sync
	 * reads new/ alone. */
	if (loaded > 0) {
		arena_clear(f->arena);
		int r = image_catch_up(f, &got, error_r);

		if (r != 0)
			return r;
	}
	b.expect = hdr.count;
	store_snapshot_clear(f);
	store_snapshot_reserve(f, hdr.count);
	int r = state_foreach_since(f->state, 0, &hdr, had, build_cb, &b, &err);
	bool retry = b.unusable || (agree && !stamps_agree(f, had, now)) ||
		f->count != hdr.count;

	if (r < 0 || retry) {
		store_snapshot_clear(f);
		return retry ? 0 : store_fail(f->store, error_r, "%s", err);
	}
	store_image_key_of(&f->image_key, &hdr, had);
	f->image_keep = agree;
done:
	f->uidvalidity = hdr.uidvalidity;
	f->uidnext = hdr.uidnext;
	f->highestmodseq = hdr.highestmodseq;
	if (!agree && store_folder_sync(f, NULL, error_r) < 0) {
		store_snapshot_clear(f);
		return -1;
	}
	return 1;
}

/* ---- sync ---- */

void store_changes_free(struct store_changes *c)
{
	if (c == NULL)
		return;
	free(c->expunged);
	free(c->changed);
	memset(c, 0, sizeof(*c));
}

static void push(uint32_t **v, size_t *n, uint32_t uid)
{
	/* Room for 8, then doubled whenever n reaches a power of two. */
	if (*n == 0 || (*n >= 8 && (*n & (*n - 1)) == 0))
		*v = xreallocarray(*v, *n ? *n * 2 : 8, sizeof(**v));
	(*v)[(*n)++] = uid;
}

struct delta {
	struct store_folder *f;
	struct store_changes *ch;
	size_t n_added;			/* new messages appended by the walk */
	bool out_of_order;		/* a new UID below the snapshot's last */
};

static int delta_cb(const struct state_rec *rec, void *ctx)
{
	struct delta *d = ctx;
	struct store_folder *f = d->f;
	long i = store_folder_index(f, rec->uid);

	if (i >= 0) {
		struct store_msg *m = &f->msgs[i];

		m->flags = rec->flags;
		m->modseq = rec->modseq;
		m->keywords = rec->keywords && rec->keywords[0] ?
			arena_strdup(f->arena, rec->keywords) : "";
		if (rec->location && (!m->location || strcmp(m->location, rec->location) != 0))
			m->location = arena_strdup(f->arena, rec->location);
		push(&d->ch->changed, &d->ch->n_changed, rec->uid);
		return 0;
	}
	if (rec->location == NULL || (f->count && f->msgs[f->count - 1].uid > rec->uid)) {
		d->out_of_order = true;
		return -1;
	}
	store_snapshot_reserve(f, f->count + 1);
	fill_msg(f, f->count++, rec);
	d->ch->n_new++;
	d->n_added++;
	return 0;
}

/* Removes the UIDs expunged after modseq from the snapshot. */
static int drop_expunged(struct store_folder *f, uint64_t modseq, struct store_changes *ch,
			 const char **error_r)
{
	uint32_t *uids;
	size_t n, w = 0;
	const char *err;

	if (state_expunged_since(f->state, modseq, &uids, &n, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	for (size_t k = 0; k < n; k++)
		if (store_folder_index(f, uids[k]) >= 0)
			push(&ch->expunged, &ch->n_expunged, uids[k]);
	free(uids);
	if (ch->n_expunged == 0)
		return 0;
	/* One compaction pass: both lists are in UID order. */
	for (size_t i = 0, k = 0; i < f->count; i++) {
		while (k < ch->n_expunged && ch->expunged[k] < f->msgs[i].uid)
			k++;
		if (k < ch->n_expunged && ch->expunged[k] == f->msgs[i].uid)
			continue;
		f->msgs[w++] = f->msgs[i];
	}
	f->count = w;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The full path: reconcile, then the differences between the snapshots. */
static int sync_rescan(struct store_folder *f, struct store_changes *ch, const char **error_r)
{
	size_t n_old = f->count;
	struct store_msg *old = xcalloc(n_old ? n_old : 1, sizeof(*old));
	uint32_t old_uidnext = f->uidnext;
	bool changed;
	int ret;

	if (n_old)
		memcpy(old, f->msgs, n_old * sizeof(*old));
	ret = store_reconcile(f, &changed, error_r);

	ch->rescanned = true;
	if (ret == 0) {
		size_t i = 0, k = 0;

		while (i < n_old || k < f->count) {
			if (k == f->count || (i < n_old && old[i].uid < f->msgs[k].uid)) {
				push(&ch->expunged, &ch->n_expunged, old[i++].uid);
			} else if (i == n_old || f->msgs[k].uid < old[i].uid) {
				if (f->msgs[k].uid < old_uidnext)
					push(&ch->changed, &ch->n_changed, f->msgs[k].uid);
				else
					ch->n_new++;
				k++;
			} else {
				if (old[i].modseq != f->msgs[k].modseq ||
				    old[i].flags != f->msgs[k].flags)
					push(&ch->changed, &ch->n_changed, f->msgs[k].uid);
				i++;
				k++;
			}
		}
	}
	free(old);
	return ret;
}

int store_folder_sync(struct store_folder *f, struct store_changes *changes_r,
		      const char **error_r)
{
	struct store_changes local, *ch = changes_r ? changes_r : &local;
	struct state_header hdr;
	uint64_t had[STATE_STAMPS], now[STATE_STAMPS], old_modseq = f->highestmodseq;
	struct delta d = { f, ch, 0, false };
	const char *err;
	int ret;

	memset(ch, 0, sizeof(*ch));
	f->fill_next = 0;
	store_notify_drain(f);
	store_stamps_now(f, now);
	if (f->kind != STORE_MAILDIR) {
		ret = sync_rescan(f, ch, error_r);
		goto out;
	}
	/* Changes applied in place must be undone by a rescan if the walk
	 * cannot finish: the rescan rebuilds everything anyway. */
	ret = state_foreach_since(f->state, old_modseq, &hdr, had, delta_cb, &d, &err);
	if (ret < 0 && !d.out_of_order) {
		ret = store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	bool agree = !d.out_of_order && stamps_agree(f, had, now);

	/* Only deliveries into new/ (folder_arrivals.c): once the state has
	 * them, the walk is done again on it, from the same start, so that
	 * it reports them as any other process's additions. */
	if (!d.out_of_order && !agree && hdr.uidvalidity == f->uidvalidity) {
		int r = store_arrivals(f, &hdr, had, error_r);

		if (r < 0) {
			ret = -1;
			goto out;
		}
		if (r > 0) {
			f->count -= d.n_added;
			ch->n_new = 0;
			d.n_added = 0;
			ret = state_foreach_since(f->state, old_modseq, &hdr, had, delta_cb, &d,
						  &err);
			if (ret < 0 && !d.out_of_order) {
				ret = store_fail(f->store, error_r, "%s", err);
				goto out;
			}
			agree = true;
		}
	}
	if (d.out_of_order || !agree || hdr.uidvalidity != f->uidvalidity) {
		/* What the walk applied in place stays listed in changed (the
		 * rescan's diff cannot see it); duplicates go below. */
		free(ch->expunged);
		ch->expunged = NULL;
		ch->n_expunged = 0;
		ch->n_new = 0;
		f->count -= d.n_added;
		ret = sync_rescan(f, ch, error_r);
		goto out;
	}
	if (hdr.highestmodseq > old_modseq && drop_expunged(f, old_modseq, ch, error_r) < 0) {
		ret = -1;
		goto out;
	}
	f->uidnext = hdr.uidnext;
	f->highestmodseq = hdr.highestmodseq;
	ret = 0;
out:
	/* A snapshot that changed is no longer the one its walk read. */
	if (ret < 0 || ch->rescanned || ch->n_new || ch->n_expunged || ch->n_changed ||
	    f->highestmodseq != old_modseq)
		f->image_keep = false;
	if (ret == 0 && ch->n_changed > 1) {
		size_t w = 1;

		qsort(ch->changed, ch->n_changed, sizeof(*ch->changed), cmp_u32);
		for (size_t i = 1; i < ch->n_changed; i++)
			if (ch->changed[i] != ch->changed[w - 1])
				ch->changed[w++] = ch->changed[i];
		ch->n_changed = w;
	}
	if (ret < 0 || ch == &local)
		store_changes_free(ch);
	return ret;
}

int store_folder_refresh(struct store_folder *f, bool *changed_r, const char **error_r)
{
	struct store_changes ch;
	uint64_t modseq = f->highestmodseq;
	uint32_t uidnext = f->uidnext;

	if (store_folder_sync(f, &ch, error_r) < 0)
		return -1;
	if (changed_r)
		*changed_r = ch.n_expunged || ch.n_changed || ch.n_new ||
			modseq != f->highestmodseq || uidnext != f->uidnext;
	store_changes_free(&ch);
	return 0;
}
