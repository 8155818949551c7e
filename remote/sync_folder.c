/* One folder pair of mirror mode: what changed on each side since the
 * state, then expunges, flags (a three-way merge per flag against the
 * flags both sides last agreed on), and the copies (remote/sync_copy.c).
 *
 * Cost: an unchanged folder with QRESYNC is one SELECT, the store's
 * state header and one state record; nothing else is read, and nothing
 * is written but its time of success, with the run's last commit.  Otherwise the
 * pairs are loaded and the remote side is asked only what changed
 * (QRESYNC, CONDSTORE's CHANGEDSINCE), or, without CONDSTORE, every flag. */
#include "remote/sync-private.h"
#include "remote/remote.h"
#include "lib/crash.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int sync_cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool has_uid(const uint32_t *v, size_t n, uint32_t uid)
{
	return n > 0 && bsearch(&uid, v, n, sizeof(*v), sync_cmp_uid) != NULL;
}

static void push_uid(uint32_t **v, size_t *n, size_t *cap, uint32_t uid)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = uid;
}

/* What the server said changed: listed (flags of changed or every
 * message, UID order), gone (known UIDs expunged, sorted), fresh (UIDs
 * unknown to the state, ascending). */
struct remote_view {
	struct remote_msg *listed;
	size_t n_listed;
	uint32_t *gone, *fresh;
	size_t n_gone, n_fresh;
};

static void view_clear(struct remote_view *v)
{
	remote_msgs_free(v->listed, v->n_listed);
	free(v->gone);
	free(v->fresh);
	memset(v, 0, sizeof(*v));
}

static bool in_ranges(const struct remote_range *r, size_t n, uint32_t uid)
{
	for (size_t i = 0; i < n; i++)
		if (uid >= r[i].first && uid <= r[i].last)
			return true;
	return false;
}

/* Fills v from the set of every UID the folder has (all[0..n), sorted). */
static void view_from_set(struct sync_run *run, struct remote_view *v, const uint32_t *all,
			  size_t n)
{
	size_t cap_g = 0, cap_f = 0;

	free(v->gone);
	free(v->fresh);
	v->gone = v->fresh = NULL;
	v->n_gone = v->n_fresh = 0;
	for (size_t i = 0; i < run->n_known; i++)
		if (!has_uid(all, n, run->known[i]))
			push_uid(&v->gone, &v->n_gone, &cap_g, run->known[i]);
	for (size_t i = 0; i < n; i++)
		if (!has_uid(run->known, run->n_known, all[i]))
			push_uid(&v->fresh, &v->n_fresh, &cap_f, all[i]);
}

/* Asks the server what changed since the state (sel: the SELECT's answer). */
static int remote_changes(struct sync_run *run, struct remote_selected *sel, bool full,
			  struct remote_view *v, char **error_r)
{
	struct remote_range *vanished = NULL;
	size_t n_vanished = 0, cap_g = 0, cap_f = 0;
	uint32_t *all = NULL;
	size_t n_all = 0;

	if (!full && sel->resynced) {
		v->listed = sel->changed;
		v->n_listed = sel->n_changed;
		sel->changed = NULL;
		sel->n_changed = 0;
		vanished = sel->vanished;
		n_vanished = sel->n_vanished;
		sel->vanished = NULL;
		sel->n_vanished = 0;
	} else if (!full && sel->highestmodseq != 0 && run->rec.remote_modseq != 0) {
		if (sel->highestmodseq != run->rec.remote_modseq &&
		    remote_fetch_changed(run->ctx->conn, run->rec.remote_modseq, &v->listed,
					 &v->n_listed, &vanished, &n_vanished, error_r) < 0)
			return -1;
	} else {
		if (remote_fetch(run->ctx->conn, NULL, 0, false, &v->listed, &v->n_listed,
				 error_r) < 0)
			return -1;
		all = xcalloc(v->n_listed + 1, sizeof(*all));
		for (size_t i = 0; i < v->n_listed; i++)
			all[n_all++] = v->listed[i].uid;
		view_from_set(run, v, all, n_all);
		free(all);
		return 0;
	}
	for (size_t i = 0; i < run->n_known; i++)
		if (in_ranges(vanished, n_vanished, run->known[i]))
			push_uid(&v->gone, &v->n_gone, &cap_g, run->known[i]);
	for (size_t i = 0; i < v->n_listed; i++)
		if (!has_uid(run->known, run->n_known, v->listed[i].uid) &&
		    !in_ranges(vanished, n_vanished, v->listed[i].uid))
			push_uid(&v->fresh, &v->n_fresh, &cap_f, v->listed[i].uid);
	free(vanished);
	/* libetpan keeps only the first VANISHED, and a server may forget
	 * old expunges: when the count does not add up, ask for every UID. */
	if (run->n_known - v->n_gone + v->n_fresh != sel->exists) {
		if (remote_search_all(run->ctx->conn, &all, &n_all, error_r) < 0)
			return -1;
		view_from_set(run, v, all, n_all);
		free(all);
	}
	return 0;
}

/* What the server listed for ruid, or NULL (unchanged since the state). */
static const struct remote_msg *listed(const struct remote_view *v, uint32_t ruid)
{
	size_t lo = 0, hi = v->n_listed;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v->listed[mid].uid < ruid)
			lo = mid + 1;
		else if (v->listed[mid].uid > ruid)
			hi = mid;
		else
			return &v->listed[mid];
	}
	return NULL;
}

/* Keywords of a pair both sides still have; 0, or -1. */
static int merge_keywords(struct sync_run *run, struct sync_pair *p, const char *here,
			  const struct remote_msg *rm, bool *changed_r, char **error_r)
{
	const char *there = rm != NULL ? (rm->keywords != NULL ? rm->keywords : "") : p->keywords;
	char *merged;
	int r;

	if (sync_keywords_equal(here, p->keywords) && sync_keywords_equal(there, p->keywords))
		return 0;
	merged = sync_keywords_merge(p->keywords, here, there);
	r = sync_keywords_apply(run, p, here, there, merged, error_r);
	if (r < 0) {
		free(merged);
		return -1;
	}
	free(p->keywords);
	p->keywords = merged;
	*changed_r = true;
	return 0;
}

static int cmp_op(const void *a, const void *b)
{
	const struct flag_op *x = a, *y = b;

	if (x->add != y->add)
		return x->add < y->add ? -1 : 1;
	if (x->del != y->del)
		return x->del < y->del ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int sync_apply_flags(struct sync_run *run, struct flag_op *ops, size_t n, bool here,
		     char **error_r)
{
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));
	int ret = 0;

	qsort(ops, n, sizeof(*ops), cmp_op);
	for (size_t i = 0; i < n && ret == 0;) {
		size_t k = 0, j = i;

		while (j < n && ops[j].add == ops[i].add && ops[j].del == ops[i].del)
			uids[k++] = ops[j++].uid;
		for (int op = 1; op >= -1 && ret == 0; op -= 2) {
			uint32_t bits = op > 0 ? ops[i].add : ops[i].del;
			const char *err;

			if (bits == 0)
				continue;
			if (here) {
				struct store_flag_change ch = {
					.op = op > 0 ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE,
					.flags = bits,
				};

				sync_index_flags(run, true);
				if (store_set_flags_uids(run->f, uids, k, &ch, NULL, NULL, &err) < 0) {
					*error_r = xasprintf("%s: changing flags: %s", run->local, err);
					ret = -1;
				}
				sync_index_flags(run, false);
			} else if (remote_store_flags(run->ctx->conn, uids, k, op, bits, error_r) < 0) {
				ret = -1;
			}
		}
		i = j;
	}
	free(uids);
	return ret;
}

/* Expunges and flags of the paired messages. */
static int merge_pairs(struct sync_run *run, const struct remote_view *v, char **error_r)
{
	struct sync_ctx *ctx = run->ctx;
	struct flag_op *here = NULL, *there = NULL;
	uint32_t *exp_here = NULL, *exp_there = NULL;
	size_t n_here = 0, n_there = 0, n_eh = 0, n_et = 0, cap_eh = 0, cap_et = 0;
	int ret = -1;

	here = xcalloc(run->n_pairs + 1, sizeof(*here));
	there = xcalloc(run->n_pairs + 1, sizeof(*there));
	for (size_t i = 0; i < run->n_pairs; i++) {
		struct sync_pair *p = &run->pairs[i];
		const struct store_msg *m = p->luid ? store_folder_find(run->f, p->luid) : NULL;
		bool lgone = p->luid != 0 && m == NULL;
		bool rgone = p->ruid != 0 && has_uid(v->gone, v->n_gone, p->ruid);

		if (p->luid == 0 || p->ruid == 0) {
			/* A tombstone goes when its message does. */
			if ((lgone || rgone) &&
			    sync_pair_del(ctx->st, run->local, p->luid, p->ruid, error_r) < 0)
				goto done;
			continue;
		}
		if (lgone && rgone) {
			if (sync_pair_del(ctx->st, run->local, p->luid, p->ruid, error_r) < 0)
				goto done;
		} else if (rgone) {
			if (ctx->expunge_here) {
				push_uid(&exp_here, &n_eh, &cap_eh, p->luid);
			} else {
				struct sync_pair t = { .luid = p->luid };

				if (sync_pair_del(ctx->st, run->local, p->luid, p->ruid, error_r) < 0 ||
				    sync_pair_put(ctx->st, run->local, &t, error_r) < 0)
					goto done;
			}
		} else if (lgone) {
			if (ctx->expunge_there) {
				push_uid(&exp_there, &n_et, &cap_et, p->ruid);
			} else {
				struct sync_pair t = { .ruid = p->ruid };

				if (sync_pair_del(ctx->st, run->local, p->luid, p->ruid, error_r) < 0 ||
				    sync_pair_put(ctx->st, run->local, &t, error_r) < 0)
					goto done;
			}
		} else {
			const struct remote_msg *rm = listed(v, p->ruid);
			uint32_t base = p->flags, l = m->flags & SYNC_FLAGS_MASK;
			uint32_t r = rm != NULL ? rm->flags & SYNC_FLAGS_MASK : base;
			bool kw_changed = false;
			/* Per flag: the side that changed it since the base wins. */
			uint32_t changed_here = l ^ base, merged = (l & changed_here) | (r & ~changed_here);

			if (merged != l)
				here[n_here++] = (struct flag_op){ p->luid, merged & ~l, l & ~merged };
			if (merged != r)
				there[n_there++] = (struct flag_op){ p->ruid, merged & ~r, r & ~merged };
			if (merge_keywords(run, p, m->keywords, rm, &kw_changed, error_r) < 0)
				goto done;
			if (merged != base || kw_changed) {
				p->flags = merged;
				if (sync_pair_put(ctx->st, run->local, p, error_r) < 0)
					goto done;
			}
		}
	}
	crash_point("sync:before-flag-push");
	if (n_here > 0)
		sync_local_change(ctx);
	if (sync_apply_flags(run, here, n_here, true, error_r) < 0 ||
	    sync_apply_flags(run, there, n_there, false, error_r) < 0)
		goto done;
	crash_point("sync:after-flag-push");
	ctx->stats->flags_local += n_here;
	ctx->stats->flags_remote += n_there;
	if (n_eh > 0) {
		const char *err;

		sync_local_change(ctx);
		if (store_expunge(run->f, exp_here, n_eh, &err) < 0) {
			*error_r = xasprintf("%s: expunging: %s", run->local, err);
			goto done;
		}
		ctx->stats->expunged_local += n_eh;
	}
	if (n_et > 0) {
		qsort(exp_there, n_et, sizeof(*exp_there), sync_cmp_uid);
		if (remote_expunge(ctx->conn, exp_there, n_et, error_r) < 0)
			goto done;
		ctx->stats->expunged_remote += n_et;
		run->n_removed += n_et;
	}
	/* The pairs of what was expunged go with the flags' new bases. */
	for (size_t i = 0; i < run->n_pairs; i++) {
		const struct sync_pair *p = &run->pairs[i];

		if (p->luid != 0 && p->ruid != 0 &&
		    (has_uid(exp_here, n_eh, p->luid) || has_uid(exp_there, n_et, p->ruid)) &&
		    sync_pair_del(ctx->st, run->local, p->luid, p->ruid, error_r) < 0)
			goto done;
	}
	if (sync_state_commit(ctx->st, true, error_r) < 0)
		goto done;
	ret = 0;
done:
	free(here);
	free(there);
	free(exp_here);
	free(exp_there);
	return ret;
}

/* The local messages no pair or tombstone has, into run->up. */
static void local_new(struct sync_run *run)
{
	size_t n = store_folder_count(run->f), n_l = 0, cap = 0;
	uint32_t *paired = xcalloc(run->n_pairs + 1, sizeof(*paired));

	for (size_t i = 0; i < run->n_pairs; i++)
		if (run->pairs[i].luid != 0)
			paired[n_l++] = run->pairs[i].luid;
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = store_folder_msg(run->f, i)->uid;

		if (!has_uid(paired, n_l, uid))
			push_uid(&run->up, &run->n_up, &cap, uid);
	}
	free(paired);
}

static int load_pairs(struct sync_run *run, char **error_r)
{
	if (sync_pairs_load(run->ctx->st, run->local, &run->pairs, &run->n_pairs, error_r) < 0)
		return -1;
	run->known = xcalloc(run->n_pairs + 1, sizeof(*run->known));
	for (size_t i = 0; i < run->n_pairs; i++)
		if (run->pairs[i].ruid != 0)
			run->known[run->n_known++] = run->pairs[i].ruid;
	qsort(run->known, run->n_known, sizeof(*run->known), sync_cmp_uid);
	return 0;
}

int sync_folder_run(struct sync_ctx *ctx, const char *local, const char *remote, char **error_r)
{
	struct sync_run run = { .ctx = ctx, .local = local, .remote = remote };
	struct remote_selected sel;
	struct remote_view v = { 0 };
	uint32_t *intents = NULL;
	size_t n_d = 0, n_u = 0;
	const char *err;
	int ret = -1;

	memset(&sel, 0, sizeof(sel));
	if (sync_folder_get(ctx->st, local, &run.rec, NULL, error_r) < 0 ||
	    sync_intents(ctx->st, local, 'D', &intents, &n_d, error_r) < 0)
		goto done;
	free(intents);
	if (sync_intents(ctx->st, local, 'U', &intents, &n_u, error_r) < 0)
		goto done;
	free(intents);
	intents = NULL;
	/* The store's side first from its state header alone: an unchanged
	 * folder is not opened (no snapshot of every message). */
	uint32_t luv = 0, lnext = 0;
	uint64_t lhm = 0;
	bool local_same = store_folder_peek(ctx->store, local, &luv, &lnext, &lhm, &err) == 1 &&
			  luv == run.rec.local_uidvalidity && lhm == run.rec.local_modseq &&
			  lnext - 1 == run.rec.local_last_uid;

	if (remote_select_since(ctx->conn, remote, run.rec.remote_uidvalidity,
				run.rec.remote_modseq, NULL, 0, &sel, error_r) < 0)
		goto done;
	bool first = run.rec.remote_uidvalidity == 0;
	bool remote_same = sel.resynced ? sel.n_changed == 0 && sel.n_vanished == 0
					: sel.highestmodseq != 0 &&
						  sel.highestmodseq == run.rec.remote_modseq;

	ctx->stats->folders++;
	if (!first && local_same && n_d + n_u == 0 && remote_same &&
	    sel.uidvalidity == run.rec.remote_uidvalidity && sel.exists == run.rec.remote_count) {
		/* Only the time of this success to write: with the run's
		 * last commit. */
		sync_note_quiet(ctx, local);
		ret = 0;
		goto done;
	}
	if (store_folder_open(ctx->store, local, &run.f, &err) < 0) {
		*error_r = xasprintf("%s: %s", local, err);
		goto done;
	}
	luv = store_folder_uidvalidity(run.f);
	lnext = store_folder_uidnext(run.f);
	lhm = store_folder_highestmodseq(run.f);

	bool remote_reset = !first && sel.uidvalidity != run.rec.remote_uidvalidity;
	bool local_reset = !first && luv != run.rec.local_uidvalidity;

	if (load_pairs(&run, error_r) < 0)
		goto done;
	/* A first sync of two folders that both hold mail pairs what is the
	 * same message (mail mirrored before by another program) as a
	 * UIDVALIDITY change does. */
	bool rematch = remote_reset || local_reset ||
		       (first && store_folder_count(run.f) > 0 && sel.exists > 0);

	if (rematch) {
		uint32_t *all;
		size_t n_all;

		if (remote_search_all(ctx->conn, &all, &n_all, error_r) < 0)
			goto done;
		ret = sync_match_all(&run, all, n_all,
				     remote_reset && local_reset ? "on both sides"
				     : remote_reset		 ? "on the server"
				     : local_reset		 ? "here"
								 : NULL,
				     error_r);
		free(all);
		if (ret < 0)
			goto done;
		ret = -1;
		run.max_ruid = sel.uidnext > 0 ? sel.uidnext - 1 : 0;
	} else {
		if (remote_changes(&run, &sel, first, &v, error_r) < 0)
			goto done;
		run.down = v.fresh;
		run.n_down = v.n_fresh;
		v.fresh = NULL;
		v.n_fresh = 0;
		local_new(&run);
		if (n_d + n_u > 0 && sync_match_intents(&run, n_d > 0, n_u > 0, error_r) < 0)
			goto done;
		if (merge_pairs(&run, &v, error_r) < 0)
			goto done;
		run.max_ruid = sel.uidnext > 0 ? sel.uidnext - 1 : 0;
		run.n_known -= v.n_gone;
	}
	if (sync_copy_down(&run, error_r) < 0 || sync_copy_up(&run, error_r) < 0)
		goto done;
	if (rematch) {
		struct sync_pair *p;
		size_t n;

		/* Count what the state now holds (recovery is rare). */
		if (sync_pairs_load(ctx->st, local, &p, &n, error_r) < 0)
			goto done;
		run.n_known = 0;
		for (size_t i = 0; i < n; i++)
			run.n_known += p[i].ruid != 0;
		run.n_new_known = 0;
		sync_pairs_free(p, n);
	}
	run.rec.remote_uidvalidity = sel.uidvalidity;
	run.rec.local_uidvalidity = luv;
	run.rec.remote_modseq = sel.highestmodseq;
	run.rec.local_modseq = lhm;
	run.rec.local_last_uid = lnext - 1;
	run.rec.remote_last_uid = run.max_ruid;
	run.rec.remote_count = (uint32_t)(run.n_known + run.n_new_known - run.n_removed);
	run.rec.last_success = run.rec.last_attempt = time(NULL);
	if (sync_folder_put(ctx->st, local, &run.rec, NULL, error_r) < 0 ||
	    sync_state_commit(ctx->st, true, error_r) < 0)
		goto done;
	ret = 0;
done:
	view_clear(&v);
	remote_selected_clear(&sel);
	sync_pairs_free(run.pairs, run.n_pairs);
	free(run.known);
	free(run.down);
	free(run.up);
	store_folder_close(&run.f);
	return ret;
}
