/* Copying messages between the server and the store, exactly once.
 *
 * Each batch (SYNC_BATCH messages or SYNC_BATCH_BYTES) first commits an
 * intent per message, then copies them one by one (a download is fsynced
 * in the store by store_append before the next step), then commits their
 * pairs and drops the intents in one transaction.  A run killed or cut off
 * in between leaves intents; the next run (sync_folder.c) matches their
 * messages on Message-ID and size with what reached the other side before
 * copying anything again. */
#include "remote/sync-private.h"
#include "remote/remote.h"
#include "lib/crash.h"
#include "lib/header.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/batch.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SYNC_BATCH 100
#define SYNC_BATCH_BYTES (4u << 20)

static char *folder_error(const char *folder, const char *what, const char *why)
{
	return xasprintf("%s: %s: %s", folder, what, why);
}

/* data with CR LF line ends turned into LF (the store's maildirs hold
 * Unix line ends, as mbsync and Dovecot write them). */
static void crlf_to_lf(struct sbuf *sb)
{
	size_t w = 0;

	for (size_t r = 0; r < sb->len; r++) {
		if (sb->buf[r] == '\r' && r + 1 < sb->len && sb->buf[r + 1] == '\n')
			continue;
		sb->buf[w++] = sb->buf[r];
	}
	sbuf_setlen(sb, w);
}

/* data with every bare LF made CR LF, into out. */
static void lf_to_crlf(const struct sbuf *in, struct sbuf *out)
{
	sbuf_reset(out);
	sbuf_reserve(out, in->len + in->len / 32);
	for (size_t i = 0; i < in->len; i++) {
		if (in->buf[i] == '\n' && (i == 0 || in->buf[i - 1] != '\r'))
			sbuf_addch(out, '\r');
		sbuf_addch(out, in->buf[i]);
	}
}

/* The byte count of data in CR LF form. */
static uint32_t crlf_size(const char *data, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			n++;
	return (uint32_t)n;
}

int sync_local_identity(struct sync_run *run, uint32_t luid, uint64_t *idhash_r,
			uint32_t *size_r, char **error_r)
{
	const struct store_msg *m = store_folder_find(run->f, luid);
	struct sbuf data = SBUF_INIT;
	const char *err;

	if (m != NULL && m->threadkey != NULL && m->vsize != 0) {
		const char *id = m->threadkey + strlen(m->threadkey) + 1;

		*idhash_r = sync_id_hash(id, strlen(id));
		*size_r = (uint32_t)m->vsize;
		return 0;
	}
	if (store_msg_read(run->f, luid, &data, &err) < 0) {
		*error_r = folder_error(run->local, "reading a message", err);
		sbuf_release(&data);
		return -1;
	}
	*idhash_r = sync_message_idhash(data.buf, data.len);
	*size_r = crlf_size(data.buf, data.len);
	sbuf_release(&data);
	return 0;
}

/* Commits intents of kind for uids[0..n).  Uploads to a server without
 * UIDPLUS get a token each, for the messages that have no Message-ID to
 * be found by (see sync_copy_up). */
static int put_intents(struct sync_run *run, char kind, const uint32_t *uids, size_t n,
		       char **error_r)
{
	bool tokens = kind == 'U' && !remote_has_cap(run->ctx->conn, "UIDPLUS");

	for (size_t i = 0; i < n; i++) {
		unsigned char r[12];
		char token[2 * sizeof(r) + 1] = "";

		if (tokens) {
			if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
				*error_r = xasprintf("%s: no random bytes for a token: %s",
						     run->local, strerror(errno));
				return -1;
			}
			for (size_t k = 0; k < sizeof(r); k++)
				snprintf(token + 2 * k, 3, "%02x", r[k]);
		}
		if (sync_intent_put_token(run->ctx->st, run->local, kind, uids[i], token,
					  error_r) < 0)
			return -1;
	}
	crash_point("sync:intent-before-commit");
	return sync_state_commit(run->ctx->st, true, error_r);
}

/* Commits the pairs made (each dropping its intent). */
static int put_pairs(struct sync_run *run, char kind, const struct sync_pair *pairs, size_t n,
		     char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		if (sync_pair_put(run->ctx->st, run->local, &pairs[i], error_r) < 0 ||
		    sync_intent_del(run->ctx->st, run->local, kind,
				    kind == 'D' ? pairs[i].ruid : pairs[i].luid, error_r) < 0)
			return -1;
		if (pairs[i].ruid > run->max_ruid)
			run->max_ruid = pairs[i].ruid;
	}
	run->n_new_known += n;
	crash_point("sync:before-commit");
	if (sync_state_commit(run->ctx->st, true, error_r) < 0)
		return -1;
	crash_point("sync:after-commit");
	return 0;
}

/* One batch of downloads on its way into the store. */
struct down_batch {
	struct sync_run *run;
	struct store_batch *sb;
	const struct remote_msg *msgs;	/* the batch's headers, UID order */
	size_t n_msgs;
	struct sync_pair pairs[SYNC_BATCH];
	size_t n_pairs;
	struct sbuf body;
};

static int add_body(uint32_t uid, const char *data, size_t len, void *ctx, char **error_r)
{
	struct down_batch *d = ctx;
	const struct remote_msg *m = NULL;
	const char *err;

	for (size_t i = 0; i < d->n_msgs && m == NULL; i++)
		if (d->msgs[i].uid == uid)
			m = &d->msgs[i];
	if (m == NULL || d->n_pairs == SYNC_BATCH)
		return 0;	/* not asked for */
	crash_point("sync:fetched");
	sbuf_reset(&d->body);
	sbuf_add(&d->body, data, len);
	crlf_to_lf(&d->body);
	if (store_batch_add(d->sb, d->body.buf, d->body.len, m->flags & SYNC_FLAGS_MASK,
			    m->keywords, m->internaldate, &err) < 0) {
		*error_r = folder_error(d->run->local, "storing a message", err);
		return -1;
	}
	d->pairs[d->n_pairs++] = (struct sync_pair){
		.ruid = uid, .flags = m->flags & SYNC_FLAGS_MASK, .size = m->size,
		.idhash = sync_envelope_idhash(m->envelope), .keywords = m->keywords,
	};
	return 0;
}

/* store_batch_stored_fn: hands a stored file to the indexer. */
static void index_stored(void *ctx, const char *location)
{
	struct sync_run *run = ctx;

	sync_indexer_add(run->ctx->indexer, store_folder_path(run->f), location);
}

int sync_copy_down(struct sync_run *run, char **error_r)
{
	struct down_batch d = { .run = run, .body = SBUF_INIT };
	uint32_t uids[SYNC_BATCH], luids[SYNC_BATCH];
	struct remote_msg *msgs = NULL;
	size_t n_msgs = 0, n_use;
	const char *err;
	int ret = -1, r;

	for (size_t i = 0; i < run->n_down;) {
		size_t n = run->n_down - i < SYNC_BATCH ? run->n_down - i : SYNC_BATCH;
		size_t bytes = 0;

		/* Sizes, dates, flags and Message-IDs of the batch, which the
		 * sizes bound (libetpan holds a FETCH reply whole). */
		if (remote_fetch(run->ctx->conn, run->down + i, n, true, &msgs, &n_msgs,
				 error_r) < 0)
			goto done;
		for (n_use = 0; n_use < n_msgs && (n_use == 0 || bytes < SYNC_BATCH_BYTES); n_use++)
			bytes += msgs[n_use].size;
		for (size_t k = 0; k < n_use; k++)
			uids[k] = msgs[k].uid;
		if (n_use > 0 && put_intents(run, 'D', uids, n_use, error_r) < 0)
			goto done;
		/* The bodies in one UID FETCH, into one store batch: every file
		 * fsynced and recorded by its commit, then the pairs in the
		 * next state commit. */
		d.sb = store_batch_new(run->f);
		if (run->ctx->indexer == NULL && run->ctx->index_root != NULL)
			run->ctx->indexer = sync_indexer_start(run->ctx);
		store_batch_on_stored(d.sb, index_stored, run);
		d.msgs = msgs;
		d.n_msgs = n_use;
		d.n_pairs = 0;
		r = n_use > 0 ? remote_fetch_bodies(run->ctx->conn, uids, n_use, add_body, &d, error_r)
			      : 0;
		if (r < 0) {
			store_batch_abort(&d.sb);
			goto done;
		}
		if (d.n_pairs > 0) {
			sync_local_change(run->ctx);
			if (store_batch_commit(&d.sb, luids, &err) < 0) {
				*error_r = folder_error(run->local, "storing messages", err);
				goto done;
			}
			crash_point("sync:stored");
			for (size_t j = 0; j < d.n_pairs; j++)
				d.pairs[j].luid = luids[j];
			run->ctx->stats->downloaded += d.n_pairs;
		}
		store_batch_abort(&d.sb);
		if (put_pairs(run, 'D', d.pairs, d.n_pairs, error_r) < 0)
			goto done;
		/* A UID gone meanwhile is skipped (its intent stays, harmless). */
		i += n_use > 0 ? n_use : n;
		remote_msgs_free(msgs, n_msgs);
		msgs = NULL;
		n_msgs = 0;
	}
	ret = 0;
done:
	store_batch_abort(&d.sb);
	remote_msgs_free(msgs, n_msgs);
	sbuf_release(&d.body);
	return ret;
}

/* The highest remote UID that UID SEARCH key finds and no pair holds:
 * 1 with *ruid_r, 0 none, -1. */
static int search_unpaired(struct sync_run *run, const char *key, uint32_t *ruid_r,
			   char **error_r)
{
	uint32_t *uids = NULL, l;
	size_t n = 0;
	int found = 0;

	if (remote_search(run->ctx->conn, key, &uids, &n, error_r) < 0)
		return -1;
	for (size_t i = n; i-- > 0 && found == 0;) {
		int paired = sync_pair_by_remote(run->ctx->st, run->local, uids[i], &l, error_r);

		if (paired < 0) {
			found = -1;
		} else if (paired == 0) {
			found = 1;
			*ruid_r = uids[i];
		}
	}
	free(uids);
	return found;
}

int sync_find_token(struct sync_run *run, const char *token, uint32_t *ruid_r, char **error_r)
{
	char *key = xasprintf("HEADER " SYNC_TOKEN_HEADER " \"%s\"", token);
	int r = search_unpaired(run, key, ruid_r, error_r);

	free(key);
	return r;
}

/* The Message-ID of data if a SEARCH key can carry it (malloc'd), else
 * NULL. */
static char *search_id(const struct sbuf *data)
{
	struct header_iter it;
	struct header_field f;
	struct sbuf id = SBUF_INIT;

	header_iter_init(&it, data->buf, data->len);
	while (header_iter_next(&it, &f))
		if (header_field_is(&f, "Message-ID")) {
			header_unfold(&f, &id);
			break;
		}
	if (id.len == 0 || strpbrk(id.buf, "\"\\") != NULL) {
		sbuf_release(&id);
		return NULL;
	}
	return sbuf_detach(&id, NULL);
}

/* The UID a server without UIDPLUS gave the message just appended: found
 * by its token when it carries one, else by its Message-ID (id, NULL:
 * none).  0 when not found, also on an error (the next run pairs it by
 * the intent; a dead connection fails the next command). */
static uint32_t find_appended(struct sync_run *run, const char *id, const char *token)
{
	uint32_t ruid = 0;
	char *key = NULL, *ignored = NULL;

	if (token != NULL) {
		if (sync_find_token(run, token, &ruid, &ignored) <= 0)
			ruid = 0;
	} else if (id != NULL) {
		key = xasprintf("HEADER Message-ID \"%s\"", id);
		if (search_unpaired(run, key, &ruid, &ignored) <= 0)
			ruid = 0;
	}
	free(key);
	free(ignored);
	return ruid;
}

int sync_copy_up(struct sync_run *run, char **error_r)
{
	struct sync_pair batch[SYNC_BATCH];
	struct sbuf data = SBUF_INIT, wire = SBUF_INIT;
	bool uidplus = remote_has_cap(run->ctx->conn, "UIDPLUS");
	char *id = NULL, *token = NULL;
	size_t nb = 0;
	int ret = -1;

	for (size_t i = 0; i < run->n_up;) {
		size_t n = run->n_up - i < SYNC_BATCH ? run->n_up - i : SYNC_BATCH;

		if (put_intents(run, 'U', run->up + i, n, error_r) < 0)
			goto done;
		nb = 0;
		for (size_t k = 0; k < n; k++) {
			uint32_t luid = run->up[i + k], ruid = 0;
			const struct store_msg *m = store_folder_find(run->f, luid);
			const char *err;

			if (m == NULL)
				continue;	/* expunged meanwhile */
			sbuf_reset(&data);
			if (store_msg_read(run->f, luid, &data, &err) < 0) {
				if (store_error_code(run->ctx->store) == STORE_ERR_NO_MESSAGE)
					continue;
				*error_r = folder_error(run->local, "reading a message", err);
				goto flush;
			}
			lf_to_crlf(&data, &wire);
			free(id);
			free(token);
			id = token = NULL;
			/* Without UIDPLUS the copy is found again by a SEARCH: for
			 * its Message-ID, or when it has none for the token its
			 * intent holds, in a header added to the copy only (mbsync
			 * adds X-TUID the same way).  A killed run's next run finds
			 * it by the same token (sync_match_intents). */
			if (!uidplus && (id = search_id(&wire)) == NULL) {
				if (sync_intent_token(run->ctx->st, run->local, 'U', luid, &token,
						      error_r) < 0)
					goto flush;
				if (token != NULL) {
					sbuf_reset(&data);
					sbuf_addf(&data, SYNC_TOKEN_HEADER ": %s\r\n", token);
					sbuf_add(&data, wire.buf, wire.len);
					struct sbuf with = data;

					data = wire;
					wire = with;
				}
			}
			if (sync_imap_append(run->ctx->conn, run->remote, wire.buf, wire.len,
					     m->flags & SYNC_FLAGS_MASK, m->keywords, m->internal_date,
					     &ruid, error_r) < 0)
				goto flush;
			crash_point("sync:appended");
			if (ruid == 0 && (ruid = find_appended(run, id, token)) == 0)
				continue;	/* paired by the intent next run */
			batch[nb++] = (struct sync_pair){
				.luid = luid, .ruid = ruid, .flags = m->flags & SYNC_FLAGS_MASK,
				.size = (uint32_t)wire.len,
				.idhash = sync_message_idhash(wire.buf, wire.len),
				.keywords = (char *)m->keywords,
			};
			run->ctx->stats->uploaded++;
		}
		if (put_pairs(run, 'U', batch, nb, error_r) < 0)
			goto done;
		i += n;
	}
	ret = 0;
	goto done;
flush: {
	char *ignored = NULL;

	put_pairs(run, 'U', batch, nb, &ignored);
	free(ignored);
}
done:
	free(id);
	free(token);
	sbuf_release(&data);
	sbuf_release(&wire);
	return ret;
}
