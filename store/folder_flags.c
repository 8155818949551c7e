/* folder_flags: flag and keyword changes of a set of UIDs, under the rule
 * of folder_ops.c (state write transaction begin -> file operations ->
 * state updates -> commit), one transaction for the whole set: STORE
 * 1:10000 +FLAGS (\Seen) is one fsync of the state, not 10,000.
 *
 * A failure or a kill after some files were renamed leaves names the state
 * does not have yet: the next sync sees the directories changed and
 * reconciles them (the files are the truth), so nothing is lost. */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/mbox.h"
#include "store/state.h"

#include "lib/arena.h"
#include "lib/crash.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define NOT_RECENT(fl) ((fl) & ~(uint32_t)STORE_RECENT)

/* One message changed, kept for after the commit. */
struct flag_done {
	uint32_t uid, flags;
	uint64_t modseq;
	char *keywords, *location, *old_location, *removed;
	char *key;			/* mbox */
};

static void snapshot_update(struct store_folder *f, const struct flag_done *d)
{
	long i = store_folder_index(f, d->uid);

	if (i < 0)
		return;
	struct store_msg *m = &f->msgs[i];

	f->image_keep = false;
	m->flags = d->flags;
	m->modseq = d->modseq;
	m->keywords = arena_strdup(f->arena, d->keywords ? d->keywords : "");
	if (d->location && (!m->location || strcmp(m->location, d->location) != 0))
		m->location = arena_strdup(f->arena, d->location);
}

int store_mbox_change(struct store_folder *f, const char *const *keys, size_t n,
		      const uint32_t *flags, const char **error_r)
{
	const char *err;
	bool *keep;
	uint32_t *nf;
	size_t hit = 0;

	if (store_mbox_entries(f, error_r) < 0)
		return -1;
	keep = xcalloc(f->mbox_count + 1, sizeof(*keep));
	nf = xcalloc(f->mbox_count + 1, sizeof(*nf));
	for (size_t i = 0; i < f->mbox_count; i++) {
		keep[i] = true;
		nf[i] = f->mbox_entries[i].flags;
		for (size_t k = 0; k < n; k++) {
			if (strcmp(f->mbox_entries[i].key, keys[k]) == 0) {
				hit++;
				if (flags == NULL)
					keep[i] = false;
				else
					nf[i] = flags[k];
			}
		}
	}
	int ret = 0;

	if (hit > 0 && mbox_rewrite(f->mbox, f->mbox_entries, f->mbox_count, keep, nf,
				    &err) < 0)
		ret = store_fail(f->store, error_r, "%s", err);
	free(keep);
	free(nf);
	return ret;
}

static uint32_t new_flags(enum store_flag_op op, uint32_t cur, uint32_t flags)
{
	switch (op) {
	case STORE_FLAGS_SET:
		/* \Recent is not the client's to set: it stays as it was. */
		return NOT_RECENT(flags) | (cur & STORE_RECENT);
	case STORE_FLAGS_ADD:
		return cur | flags;
	default:
		return cur & ~flags;
	}
}

static void push_uid(uint32_t **v, size_t *n, size_t *alloc, uint32_t uid)
{
	if (*n == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		*v = xreallocarray(*v, *alloc, sizeof(**v));
	}
	(*v)[(*n)++] = uid;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Changes one message inside txn; *d gets what changed (d->uid 0: nothing
 * did).  1 changed or skipped, 0 no such UID, -1 error. */
static int change_one(struct store_folder *f, struct state_txn *txn, uint32_t uid,
		      const struct store_flag_change *ch, bool *modified_r,
		      struct flag_done *d, const char **error_r)
{
	struct state_rec rec;
	char *buf = NULL, *kw, *removed = NULL, *newloc = NULL;
	char extra[MAILDIR_EXTRA_SIZE];
	const char *err;
	uint32_t cur, nf;
	int r = state_txn_get(txn, uid, &rec, &buf, &err);

	memset(d, 0, sizeof(*d));
	*modified_r = false;
	if (r <= 0)
		return r < 0 ? store_fail(f->store, error_r, "%s", err) : 0;
	if (ch->unchangedsince && rec.modseq > ch->unchangedsince) {
		*modified_r = true;
		free(buf);
		return 1;
	}
	cur = rec.flags;
	nf = new_flags(ch->op, cur, ch->flags);
	kw = ch->keywords ? store_keywords_apply(rec.keywords, (int)ch->op, ch->keywords) :
		xstrdup(rec.keywords ? rec.keywords : "");
	if (ch->keywords && rec.keywords && rec.keywords[0]) {
		removed = ch->op == STORE_FLAGS_REMOVE ? xstrdup(ch->keywords) :
			ch->op == STORE_FLAGS_SET ?
			store_keywords_apply(rec.keywords, STORE_FLAGS_REMOVE, kw) : NULL;
	}
	bool kw_changed = strcmp(kw, rec.keywords ? rec.keywords : "") != 0;

	if (nf == cur && !kw_changed) {
		free(kw);
		free(removed);
		free(buf);
		return 1;
	}
	if (f->kind == STORE_MAILDIR && nf != cur) {
		store_location_flags(rec.location, extra);
		if (f->flags_hook) {
			char *path = xasprintf("%s/%s", f->path, rec.location);

			f->flags_hook(f->flags_hook_ctx, path, nf);
			free(path);
		}
		if (maildir_set_flags(f->path, rec.location, nf, extra, &newloc, &err) < 0) {
			store_fail_errno(f->store, error_r, "%s", err);
			goto fail;
		}
		nf = store_location_flags(newloc, NULL);
		d->old_location = xstrdup(rec.location);
		rec.location = newloc;
	}
	crash_point("flags:after-rename");
	rec.flags = nf;
	rec.keywords = kw;
	bool bump = NOT_RECENT(nf) != NOT_RECENT(cur) || kw_changed;

	if (state_txn_update(txn, &rec, bump, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto fail;
	}
	d->uid = uid;
	d->flags = nf;
	d->modseq = bump ? state_txn_highestmodseq(txn) : rec.modseq;
	d->keywords = kw;
	d->location = newloc ? newloc : rec.location ? xstrdup(rec.location) : NULL;
	d->removed = removed;
	d->key = f->kind == STORE_MBOX ? xstrdup(rec.key) : NULL;
	free(buf);
	return 1;
fail:
	free(d->old_location);
	d->old_location = NULL;
	free(newloc);
	free(kw);
	free(removed);
	free(buf);
	return -1;
}

static void done_free(struct flag_done *d)
{
	free(d->keywords);
	free(d->location);
	free(d->old_location);
	free(d->removed);
	free(d->key);
}

void store_folder_set_flags_hook(struct store_folder *f, store_flags_hook_fn *fn, void *ctx)
{
	f->flags_hook = fn;
	f->flags_hook_ctx = ctx;
}

/* Whether the change leaves every message as the state has it now (a
 * read: no writer lock).  A STORE that sets what is set, or a session
 * claiming \Recent that another one took first, then waits behind no
 * writer.  False when anything is not plain (a UID missing, MODSEQs to
 * compare): the transaction decides. */
static bool changes_nothing(struct store_folder *f, const uint32_t *uids, size_t n,
			    const struct store_flag_change *ch)
{
	for (size_t i = 0; i < n; i++) {
		struct state_rec rec;
		char *buf = NULL, *kw = NULL;
		const char *err;
		bool same;

		if (ch->unchangedsince || state_get(f->state, uids[i], &rec, &buf, &err) <= 0) {
			free(buf);
			return false;
		}
		if (ch->keywords)
			kw = store_keywords_apply(rec.keywords, (int)ch->op, ch->keywords);
		same = new_flags(ch->op, rec.flags, ch->flags) == rec.flags &&
		       (kw == NULL || strcmp(kw, rec.keywords ? rec.keywords : "") == 0);
		free(kw);
		free(buf);
		if (!same)
			return false;
	}
	return true;
}

/* The one body of the flag calls; strict: an unknown UID is an error. */
static int set_flags(struct store_folder *f, const uint32_t *uids, size_t n,
		     const struct store_flag_change *ch, bool strict, uint32_t **modified_r,
		     size_t *n_modified_r, uint32_t **changed_r, size_t *n_changed_r,
		     const char **error_r)
{
	struct state_txn *txn = NULL;
	struct flag_done *done = xcalloc(n ? n : 1, sizeof(*done));
	uint32_t *mod = NULL;
	size_t n_done = 0, n_mod = 0, a_mod = 0;
	bool keep_stamps = false;
	const char *err;
	int ret = -1;

	if (modified_r) {
		*modified_r = NULL;
		*n_modified_r = 0;
	}
	if (changed_r) {
		*changed_r = NULL;
		*n_changed_r = 0;
	}
	if (store_check_writable(f->store, error_r) < 0)
		goto out;
	if (changes_nothing(f, uids, n, ch)) {
		ret = 0;
		goto out;
	}
	if (state_begin(f->state, &txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	crash_point("flags:begin");
	store_stamps_before(f, txn, &keep_stamps);
	for (size_t i = 0; i < n; i++) {
		bool modified;
		int r = change_one(f, txn, uids[i], ch, &modified, &done[n_done], error_r);

		if (r < 0)
			goto out;
		if (r == 0 && strict) {
			store_fail_code(f->store, STORE_ERR_NO_MESSAGE, error_r,
					"%s: UID %u: no such message", f->path, uids[i]);
			goto out;
		}
		if (modified)
			push_uid(&mod, &n_mod, &a_mod, uids[i]);
		if (done[n_done].uid)
			n_done++;
	}
	if (n_done == 0) {
		ret = 0;
		goto out;
	}
	if (f->kind == STORE_MBOX) {
		const char **keys = xcalloc(n_done, sizeof(*keys));
		uint32_t *fl = xcalloc(n_done, sizeof(*fl));

		for (size_t i = 0; i < n_done; i++) {
			keys[i] = done[i].key;
			fl[i] = done[i].flags;
		}
		int r = mbox_lock(f->mbox, true, &err);

		if (r < 0)
			store_fail_code(f->store, STORE_ERR_LOCKED, error_r, "%s", err);
		else
			r = store_mbox_change(f, keys, n_done, fl, error_r);
		free(keys);
		free(fl);
		if (r < 0)
			goto out;
	}
	crash_point("flags:after-state");
	if (store_stamps_after(f, txn, keep_stamps, error_r) < 0)
		goto out;
	if (state_commit(&txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	crash_point("flags:after-commit");
	for (size_t i = 0; i < n_done; i++) {
		struct flag_done *d = &done[i];

		snapshot_update(f, d);
		if (f->kind != STORE_MAILDIR)
			continue;
		if (d->old_location)
			store_index_rename(f, d->old_location, d->location);
		store_index_flags(f, d->location, d->flags, d->keywords, d->removed);
	}
	store_index_commit(f->store);
	if (changed_r) {
		*changed_r = xcalloc(n_done, sizeof(**changed_r));
		for (size_t i = 0; i < n_done; i++)
			(*changed_r)[i] = done[i].uid;
		qsort(*changed_r, n_done, sizeof(**changed_r), cmp_u32);
		*n_changed_r = n_done;
	}
	ret = 0;
out:
	state_abort(&txn);
	if (f->mbox)
		mbox_unlock(f->mbox);
	for (size_t i = 0; i < n_done; i++)
		done_free(&done[i]);
	free(done);
	if (ret == 0 && modified_r && n_mod) {
		qsort(mod, n_mod, sizeof(*mod), cmp_u32);
		*modified_r = mod;
		*n_modified_r = n_mod;
		mod = NULL;
	}
	free(mod);
	return ret;
}

int store_set_flags_uids(struct store_folder *f, const uint32_t *uids, size_t n,
			 const struct store_flag_change *ch, uint32_t **modified_r,
			 size_t *n_modified_r, const char **error_r)
{
	return set_flags(f, uids, n, ch, false, modified_r, n_modified_r, NULL, NULL, error_r);
}

int store_claim_recent(struct store_folder *f, const uint32_t *uids, size_t n,
		       uint32_t **claimed_r, size_t *n_claimed_r, const char **error_r)
{
	/* Removing STORE_RECENT changes only the records that still have
	 * it, read inside the transaction: the check and the clear are one
	 * step under the writer lock. */
	const struct store_flag_change ch = { STORE_FLAGS_REMOVE, STORE_RECENT, NULL, 0 };

	return set_flags(f, uids, n, &ch, false, NULL, NULL, claimed_r, n_claimed_r, error_r);
}

int store_set_flags(struct store_folder *f, uint32_t uid, enum store_flag_op op,
		    uint32_t flags, const char *keywords, const char **error_r)
{
	const struct store_flag_change ch = { op, flags, keywords, 0 };

	return set_flags(f, &uid, 1, &ch, true, NULL, NULL, NULL, NULL, error_r);
}
