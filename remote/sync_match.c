/* Pairing messages that have no pair by what they are -- Message-ID hash
 * and CRLF size, or an upload's token -- rather than by UID: the messages
 * of intents left by a run that was killed or cut off, and every message
 * after a UIDVALIDITY change.  Where several share one Message-ID and
 * size, a hash of their contents (fetched for those only) pairs equal
 * ones first, the rest in UID order. */
#include "remote/sync-private.h"
#include "remote/remote.h"
#include "lib/crash.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct ident {
	uint64_t idhash;
	uint64_t chash;			/* sync_content_hash, only where ids collide */
	uint32_t size, uid, flags;
	char *keywords;			/* remote: its keywords (malloc'd), or NULL */
	bool used;
};

static void idents_free(struct ident *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].keywords);
	free(v);
}

static int cmp_ident(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;

	if (x->idhash != y->idhash)
		return x->idhash < y->idhash ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Identities of remote uids[0..n) (ENVELOPE and RFC822.SIZE). */
static int remote_idents(struct sync_run *run, const uint32_t *uids, size_t n,
			 struct ident **out_r, char **error_r)
{
	struct ident *out = xcalloc(n ? n : 1, sizeof(*out));
	size_t got = 0;

	for (size_t i = 0; i < n; i += REMOTE_FETCH_BATCH) {
		size_t b = n - i < REMOTE_FETCH_BATCH ? n - i : REMOTE_FETCH_BATCH;
		struct remote_msg *msgs;
		size_t nm;

		if (remote_fetch(run->ctx->conn, uids + i, b, true, &msgs, &nm, error_r) < 0) {
			idents_free(out, (int)got);
			return -1;
		}
		for (size_t k = 0; k < nm && got < n; k++)
			out[got++] = (struct ident){ .idhash = sync_envelope_idhash(msgs[k].envelope),
						     .size = msgs[k].size, .uid = msgs[k].uid,
						     .flags = msgs[k].flags & SYNC_FLAGS_MASK,
						     .keywords = msgs[k].keywords != NULL
								 ? xstrdup(msgs[k].keywords)
								 : NULL };
		remote_msgs_free(msgs, nm);
	}
	qsort(out, got, sizeof(*out), cmp_ident);
	*out_r = out;
	return (int)got;
}

static int local_idents(struct sync_run *run, const uint32_t *uids, size_t n,
			struct ident **out_r, char **error_r)
{
	struct ident *out = xcalloc(n ? n : 1, sizeof(*out));
	size_t got = 0;

	for (size_t i = 0; i < n; i++) {
		const struct store_msg *m = store_folder_find(run->f, uids[i]);
		struct ident *id = &out[got];

		if (m == NULL)
			continue;
		if (sync_local_identity(run, uids[i], &id->idhash, &id->size, error_r) < 0) {
			free(out);
			return -1;
		}
		id->uid = uids[i];
		id->flags = m->flags & SYNC_FLAGS_MASK;
		got++;
	}
	qsort(out, got, sizeof(*out), cmp_ident);
	*out_r = out;
	return (int)got;
}

/* Whether two identities are one message's by Message-ID and size. */
static bool same_key(const struct ident *a, const struct ident *b)
{
	return a->idhash == b->idhash && a->size == b->size;
}

/* The flag changes that pairs made by matching need on each side. */
struct matched {
	struct flag_op *here, *there;
	size_t n_here, n_there, cap_here, cap_there;
};

static void push_op(struct flag_op **v, size_t *n, size_t *cap, uint32_t uid, uint32_t add)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = (struct flag_op){ .uid = uid, .add = add };
}

/* Pairs local with remote and marks them used.  With no agreed state a
 * flag set on either side stays set: the pair's flags are both sides'
 * together, and m collects what each side lacks of them (applied before
 * the pairs are committed, so a run killed in between matches again).
 * Keywords likewise, in this run: the union of both sides, applied here
 * at once.
 * 0, or -1. */
static int make_pair(struct sync_run *run, struct ident *local, struct ident *remote,
		     struct matched *m, char **error_r)
{
	const struct store_msg *lm = store_folder_find(run->f, local->uid);
	const char *here = lm != NULL && lm->keywords != NULL ? lm->keywords : "";
	const char *there = remote->keywords != NULL ? remote->keywords : "";
	struct sync_pair p = { .luid = local->uid, .ruid = remote->uid,
			       .flags = local->flags | remote->flags, .size = remote->size,
			       .idhash = remote->idhash,
			       .keywords = sync_keywords_merge(NULL, here, there) };
	int ret = 0;

	if (lm != NULL && (!sync_keywords_equal(here, p.keywords) ||
			   !sync_keywords_equal(there, p.keywords)))
		ret = sync_keywords_apply(run, &p, here, there, p.keywords, error_r);
	if (ret == 1) {
		/* The server keeps no new keywords: what it has is agreed, so
		 * the next run does not take the store's for removed there. */
		free(p.keywords);
		p.keywords = xstrdup(there);
		ret = 0;
	}
	if (ret >= 0)
		ret = sync_pair_put(run->ctx->st, run->local, &p, error_r);
	free(p.keywords);
	if (ret < 0)
		return -1;
	if (p.flags != local->flags)
		push_op(&m->here, &m->n_here, &m->cap_here, local->uid, p.flags & ~local->flags);
	if (p.flags != remote->flags)
		push_op(&m->there, &m->n_there, &m->cap_there, remote->uid,
			p.flags & ~remote->flags);
	local->used = remote->used = true;
	return 0;
}

/* Applies and frees what m collected.  0, or -1. */
static int apply_matched(struct sync_run *run, struct matched *m, char **error_r)
{
	int ret = -1;

	/* Marked before the change: a run killed after it leaves the mark. */
	if (m->n_here > 0)
		sync_local_change(run->ctx);
	if ((m->n_here > 0 && sync_apply_flags(run, m->here, m->n_here, true, error_r) < 0) ||
	    (m->n_there > 0 && sync_apply_flags(run, m->there, m->n_there, false, error_r) < 0))
		goto done;
	crash_point("sync:matched-applied");
	run->ctx->stats->flags_local += m->n_here;
	run->ctx->stats->flags_remote += m->n_there;
	ret = 0;
done:
	free(m->here);
	free(m->there);
	memset(m, 0, sizeof(*m));
	return ret;
}

struct group_fetch {
	struct ident *remote;
	size_t n;
};

static int hash_body(uint32_t uid, const char *data, size_t len, void *ctx, char **error_r)
{
	struct group_fetch *g = ctx;

	(void)error_r;
	for (size_t i = 0; i < g->n; i++)
		if (g->remote[i].uid == uid)
			g->remote[i].chash = sync_content_hash(data, len);
	return 0;
}

/* The content hashes of a group of messages sharing a Message-ID and a
 * size: local ones read from the store, remote ones fetched (in bounded
 * batches; a UID gone keeps hash 0).  0, or -1. */
static int hash_group(struct sync_run *run, struct ident *local, size_t nl,
		      struct ident *remote, size_t nr, char **error_r)
{
	size_t per = (4u << 20) / (remote[0].size ? remote[0].size : 1);
	uint32_t *uids = xcalloc(nr, sizeof(*uids));
	struct sbuf data = SBUF_INIT;
	const char *err;
	int ret = -1;

	if (per == 0)
		per = 1;
	for (size_t i = 0; i < nl; i++) {
		sbuf_reset(&data);
		if (store_msg_read(run->f, local[i].uid, &data, &err) < 0) {
			*error_r = xasprintf("%s: reading a message: %s", run->local, err);
			goto done;
		}
		local[i].chash = sync_content_hash(data.buf, data.len);
	}
	for (size_t i = 0; i < nr; i++)
		uids[i] = remote[i].uid;
	for (size_t i = 0; i < nr;) {
		size_t b = nr - i < per ? nr - i : per;
		struct group_fetch g = { remote + i, b };

		if (remote_fetch_bodies(run->ctx->conn, uids + i, b, hash_body, &g, error_r) < 0)
			goto done;
		i += b;
	}
	ret = 0;
done:
	sbuf_release(&data);
	free(uids);
	return ret;
}

/* Pairs a group of local[] and remote[] messages sharing a Message-ID
 * and a size.  Where either side holds more than one (copies of one
 * message, or different messages under one id), the contents are hashed
 * and equal contents pair first; the rest pair in UID order.  The number
 * paired, or -1. */
static long pair_group(struct sync_run *run, struct ident *local, size_t nl,
		       struct ident *remote, size_t nr, struct matched *m, char **error_r)
{
	long paired = 0;

	if ((nl > 1 || nr > 1) && hash_group(run, local, nl, remote, nr, error_r) < 0)
		return -1;
	for (int by_hash = nl > 1 || nr > 1; by_hash >= 0; by_hash--) {
		for (size_t i = 0; i < nl; i++) {
			for (size_t j = 0; j < nr && !local[i].used; j++) {
				if (remote[j].used || (by_hash && local[i].chash != remote[j].chash))
					continue;
				if (make_pair(run, &local[i], &remote[j], m, error_r) < 0)
					return -1;
				paired++;
			}
		}
	}
	return paired;
}

/* Pairs equal identities of local[] and remote[] (both sorted), group by
 * group of one Message-ID and size, skipping those used already.  The
 * number paired, or -1. */
static long pair_equal(struct sync_run *run, struct ident *local, size_t nl,
		       struct ident *remote, size_t nr, struct matched *m, char **error_r)
{
	size_t i = 0, j = 0;
	long paired = 0;

	while (i < nl && j < nr) {
		size_t i2 = i + 1, j2 = j + 1;
		long got;

		if (local[i].idhash == 0) {
			i++;
			continue;
		}
		if (!same_key(&local[i], &remote[j])) {
			if (cmp_ident(&local[i], &remote[j]) < 0)
				i++;
			else
				j++;
			continue;
		}
		while (i2 < nl && same_key(&local[i2], &local[i]))
			i2++;
		while (j2 < nr && same_key(&remote[j2], &remote[j]))
			j2++;
		if ((got = pair_group(run, local + i, i2 - i, remote + j, j2 - j, m, error_r)) < 0)
			return -1;
		paired += got;
		i = i2;
		j = j2;
	}
	return paired;
}

/* Pairs the local messages of upload intents that hold a token with the
 * remote message carrying it (an upload without Message-ID to a server
 * without UIDPLUS, cut off before its pair was committed).  remote[] is
 * searched by UID.  The number paired, or -1. */
static long pair_tokens(struct sync_run *run, struct ident *local, size_t nl,
			struct ident *remote, size_t nr, struct matched *m, char **error_r)
{
	long paired = 0;

	for (size_t i = 0; i < nl; i++) {
		struct ident *r = NULL;
		uint32_t ruid = 0;
		char *token;
		int found = sync_intent_token(run->ctx->st, run->local, 'U', local[i].uid, &token,
					      error_r);

		if (found == 1)
			found = sync_find_token(run, token, &ruid, error_r);
		free(token);
		if (found < 0)
			return -1;
		for (size_t j = 0; found == 1 && j < nr && r == NULL; j++)
			if (remote[j].uid == ruid && !remote[j].used)
				r = &remote[j];
		if (r == NULL)
			continue;
		if (make_pair(run, &local[i], r, m, error_r) < 0)
			return -1;
		paired++;
	}
	return paired;
}

/* Removes from list[0..*n) the uids marked used in ids[0..ni). */
static void drop_used(uint32_t *list, size_t *n, const struct ident *ids, size_t ni)
{
	uint32_t *used = xcalloc(ni + 1, sizeof(*used));
	size_t nu = 0, w = 0;

	for (size_t k = 0; k < ni; k++)
		if (ids[k].used)
			used[nu++] = ids[k].uid;
	qsort(used, nu, sizeof(*used), sync_cmp_uid);
	for (size_t i = 0; i < *n; i++)
		if (!bsearch(&list[i], used, nu, sizeof(*used), sync_cmp_uid))
			list[w++] = list[i];
	*n = w;
	free(used);
}

int sync_match_intents(struct sync_run *run, bool downloads, bool uploads, char **error_r)
{
	struct matched m = { 0 };
	struct ident *li = NULL, *ri = NULL;
	int nl = 0, nr = 0;
	long paired = 0;
	int ret = -1;

	/* A download cut short left a local message without a pair: look at
	 * every remote candidate for a local one and the reverse for an
	 * upload; only new messages (run->down, run->up) are candidates. */
	if (run->n_down > 0 && run->n_up > 0 && (downloads || uploads)) {
		if ((nr = remote_idents(run, run->down, run->n_down, &ri, error_r)) < 0 ||
		    (nl = local_idents(run, run->up, run->n_up, &li, error_r)) < 0)
			goto done;
		if (uploads &&
		    (paired = pair_tokens(run, li, (size_t)nl, ri, (size_t)nr, &m, error_r)) < 0)
			goto done;
		long by_id = pair_equal(run, li, (size_t)nl, ri, (size_t)nr, &m, error_r);

		if (by_id < 0)
			goto done;
		paired += by_id;
		drop_used(run->down, &run->n_down, ri, (size_t)nr);
		drop_used(run->up, &run->n_up, li, (size_t)nl);
		run->n_new_known += (size_t)paired;
	}
	for (int k = 0; k < 2; k++) {
		uint32_t *uids;
		size_t n;

		if (sync_intents(run->ctx->st, run->local, k ? 'U' : 'D', &uids, &n, error_r) < 0)
			goto done;
		for (size_t i = 0; i < n; i++)
			if (sync_intent_del(run->ctx->st, run->local, k ? 'U' : 'D', uids[i],
					    error_r) < 0) {
				free(uids);
				goto done;
			}
		free(uids);
	}
	if (apply_matched(run, &m, error_r) < 0 || sync_state_commit(run->ctx->st, true, error_r) < 0)
		goto done;
	ret = 0;
done:
	free(m.here);
	free(m.there);
	idents_free(li, nl);
	idents_free(ri, nr);
	return ret;
}

int sync_match_all(struct sync_run *run, const uint32_t *ruids, size_t n_ruids,
		   const char *side, char **error_r)
{
	struct matched m = { 0 };
	struct ident *li = NULL, *ri = NULL;
	uint32_t *luids = xcalloc(store_folder_count(run->f) + 1, sizeof(*luids));
	size_t n_luids = store_folder_count(run->f);
	int nl = 0, nr = 0, ret = -1;
	long paired;
	char *line;

	for (size_t i = 0; i < n_luids; i++)
		luids[i] = store_folder_msg(run->f, i)->uid;
	if ((nr = remote_idents(run, ruids, n_ruids, &ri, error_r)) < 0 ||
	    (nl = local_idents(run, luids, n_luids, &li, error_r)) < 0)
		goto done;
	if (sync_folder_drop(run->ctx->st, run->local, error_r) < 0)
		goto done;
	crash_point("sync:uidvalidity-dropped");
	if ((paired = pair_equal(run, li, (size_t)nl, ri, (size_t)nr, &m, error_r)) < 0)
		goto done;
	run->n_down = 0;
	run->down = xreallocarray(run->down, (size_t)nr + 1, sizeof(*run->down));
	for (int i = 0; i < nr; i++)
		if (!ri[i].used)
			run->down[run->n_down++] = ri[i].uid;
	run->n_up = 0;
	run->up = xreallocarray(run->up, (size_t)nl + 1, sizeof(*run->up));
	for (int i = 0; i < nl; i++)
		if (!li[i].used)
			run->up[run->n_up++] = li[i].uid;
	qsort(run->down, run->n_down, sizeof(*run->down), sync_cmp_uid);
	qsort(run->up, run->n_up, sizeof(*run->up), sync_cmp_uid);
	run->n_new_known = (size_t)paired;
	crash_point("sync:uidvalidity-before-commit");
	if (apply_matched(run, &m, error_r) < 0 || sync_state_commit(run->ctx->st, true, error_r) < 0)
		goto done;
	if (side != NULL && run->ctx->opt->note != NULL) {
		line = xasprintf("%s: the UIDVALIDITY changed %s: %ld messages matched again by "
				 "Message-ID and size, %zu to copy here, %zu to copy there",
				 run->local, side, paired, run->n_down, run->n_up);
		run->ctx->opt->note(run->ctx->opt->ctx, line);
		free(line);
	}
	ret = 0;
done:
	free(m.here);
	free(m.there);
	free(luids);
	idents_free(li, nl);
	idents_free(ri, nr);
	return ret;
}
