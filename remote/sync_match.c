/* Pairing messages that have no pair by what they are -- Message-ID hash
 * and CRLF size, or an upload's token -- rather than by UID: the messages
 * of intents left by a run that was killed or cut off, and every message
 * after a UIDVALIDITY change.  Several messages with one Message-ID and size are paired in UID
 * order. */
#include "remote/sync-private.h"
#include "remote/remote.h"
#include "lib/crash.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct ident {
	uint64_t idhash;
	uint32_t size, uid, flags;
	bool used;
};

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
			free(out);
			return -1;
		}
		for (size_t k = 0; k < nm && got < n; k++)
			out[got++] = (struct ident){ .idhash = sync_envelope_idhash(msgs[k].envelope),
						     .size = msgs[k].size, .uid = msgs[k].uid,
						     .flags = msgs[k].flags & SYNC_FLAGS_MASK };
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

/* Pairs equal identities of local[] and remote[] (both sorted); the base
 * is what both have (so a flag set on either side stays set).  Marks them
 * used.  The number paired, or -1. */
static long pair_equal(struct sync_run *run, struct ident *local, size_t nl,
		       struct ident *remote, size_t nr, char **error_r)
{
	size_t i = 0, j = 0;
	long paired = 0;

	while (i < nl && j < nr) {
		int c = cmp_ident(&local[i], &remote[j]);

		if (local[i].idhash == 0 || local[i].used) {
			i++;
			continue;
		}
		if (remote[j].used) {
			j++;
			continue;
		}
		if (local[i].idhash == remote[j].idhash && local[i].size == remote[j].size)
			c = 0;
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			struct sync_pair p = { .luid = local[i].uid, .ruid = remote[j].uid,
					       .flags = local[i].flags & remote[j].flags,
					       .size = remote[j].size, .idhash = remote[j].idhash };

			if (sync_pair_put(run->ctx->st, run->local, &p, error_r) < 0)
				return -1;
			local[i++].used = true;
			remote[j++].used = true;
			paired++;
		}
	}
	return paired;
}

/* Pairs the local messages of upload intents that hold a token with the
 * remote message carrying it (an upload without Message-ID to a server
 * without UIDPLUS, cut off before its pair was committed).  remote[] is
 * searched by UID.  The number paired, or -1. */
static long pair_tokens(struct sync_run *run, struct ident *local, size_t nl,
			struct ident *remote, size_t nr, char **error_r)
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
		struct sync_pair p = { .luid = local[i].uid, .ruid = r->uid,
				       .flags = local[i].flags & r->flags, .size = r->size,
				       .idhash = r->idhash };

		if (sync_pair_put(run->ctx->st, run->local, &p, error_r) < 0)
			return -1;
		local[i].used = r->used = true;
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
		    (paired = pair_tokens(run, li, (size_t)nl, ri, (size_t)nr, error_r)) < 0)
			goto done;
		long by_id = pair_equal(run, li, (size_t)nl, ri, (size_t)nr, error_r);

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
	if (sync_state_commit(run->ctx->st, true, error_r) < 0)
		goto done;
	ret = 0;
done:
	free(li);
	free(ri);
	return ret;
}

int sync_match_all(struct sync_run *run, const uint32_t *ruids, size_t n_ruids,
		   const char *side, char **error_r)
{
	struct ident *li = NULL, *ri = NULL;
	uint32_t *luids = xcalloc(store_folder_count(run->f) + 1, sizeof(*luids));
	size_t n_luids = store_folder_count(run->f);
	int nl, nr, ret = -1;
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
	if ((paired = pair_equal(run, li, (size_t)nl, ri, (size_t)nr, error_r)) < 0)
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
	if (sync_state_commit(run->ctx->st, true, error_r) < 0)
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
	free(luids);
	free(li);
	free(ri);
	return ret;
}
