/* Pull mode of `loft sync` (fetchmail's and getmail's role): new messages
 * of the account's folders handed to delivery -- loop checks, Sieve, the
 * store, notmuch -- exactly once, then pull_after applied upstream.
 *
 * The order of each batch, and what a crash (kill -9) at each step leaves:
 *   fetch the bodies            nothing written: the next run fetches again
 *   commit the intents ('i')    the next run delivers them with their token
 *                               and maybe_delivered: stored where missing
 *   deliver (store batch)       fsynced, published, indexed; same as above
 *   commit 'd', last UID, 'a'   delivered and known: never again
 *   apply pull_after upstream   the 'a' records make the next run redo it
 *   commit the 'a' removals     done
 * The token (X-Loft-Delivery) names the account, folder and match key, so
 * a retry finds a copy a crashed run stored, wherever Sieve filed it.  A
 * UIDVALIDITY change resets the last UID: every message's size and
 * ENVELOPE are fetched again, and one whose match key (size and
 * Message-ID) is recorded is not delivered again, only given its
 * pull_after; only the others' bodies are fetched. */
#include "remote/pull-private.h"
#include "remote/remote.h"
#include "remote/sync-private.h"

#include "localmta/deliver_batch.h"
#include "localmta/queue.h"
#include "localmta/transport.h"
#include "store/store.h"

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crash.h"
#include "lib/header.h"
#include "lib/log.h"
#include "lib/ossl.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <fnmatch.h>
#include <inttypes.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSGID_MAX 300

void pull_note(struct pull_run *run, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	if (run->opt == NULL || run->opt->note == NULL)
		return;
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	run->opt->note(run->opt->ctx, sb.buf);
	sbuf_release(&sb);
}

void pull_record(struct pull_run *run, const char *folder, const char *error)
{
	struct pull_txn *t = NULL;
	char *value = error ? xasprintf("%" PRId64 " %s", clock_now(), error)
			    : xasprintf("%" PRId64, clock_now());
	char *err = NULL;

	if (pull_txn_begin(run->state, &t, &err) < 0 ||
	    pull_txn_put(t, 'F', "", folder, &err) < 0 ||
	    pull_txn_put_value(t, error ? 'e' : 's', folder, value, &err) < 0 ||
	    (!error && pull_txn_del(t, 'e', folder, "", &err) < 0) ||
	    pull_txn_commit(&t, &err) < 0) {
		log_warning("sync: %s: %s", run->account, err);
		free(err);
	}
	pull_txn_abort(&t);
	free(value);
}

char *pull_match_key(const char *data, size_t len)
{
	struct header_iter it;
	struct header_field f;
	struct sbuf id = SBUF_INIT;
	char *key = NULL;

	header_iter_init(&it, data, len);
	while (header_iter_next(&it, &f)) {
		if (!header_field_is(&f, "Message-ID"))
			continue;
		header_unfold(&f, &id);
		break;
	}
	/* Only the <...> part: spacing and comments differ between copies. */
	char *lt = strchr(id.buf, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (gt != NULL && (size_t)(gt - lt) < MSGID_MAX) {
		key = xasprintf("%zu %.*s", len, (int)(gt - lt + 1), lt);
	} else {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		char hex[2 * 16 + 1];

		EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
		for (unsigned i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		key = xasprintf("%zu #%s", len, hex);
	}
	sbuf_release(&id);
	return key;
}

void pull_msgs_clear(struct pull_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(msgs[i].id);
		free(msgs[i].match);
		free(msgs[i].keywords);
		sbuf_release(&msgs[i].data);
		memset(&msgs[i], 0, sizeof(msgs[i]));
	}
}

/* CRLF line ends (as IMAP and POP3 send them) to LF, as maildirs keep
 * mail (Dovecot, mbsync and procmail write LF). */
static void to_lf(struct sbuf *sb)
{
	size_t o = 0;

	for (size_t i = 0; i < sb->len; i++)
		if (!(sb->buf[i] == '\r' && i + 1 < sb->len && sb->buf[i + 1] == '\n'))
			sb->buf[o++] = sb->buf[i];
	sbuf_setlen(sb, o);
}

/* The redirects of one pulled message: 'R' records "MATCH\tADDRESS",
 * committed as each redirect is queued, read by a retry after a crash
 * (deliver_request's redirected), removed once the message is recorded
 * as delivered. */
struct redirects {
	struct pull_run *run;
	const char *folder, *match;
};

static char *redirect_key(const struct redirects *r, const char *address)
{
	return xasprintf("%s\t%s", r->match, address);
}

static bool was_redirected(void *ctx, const char *address)
{
	struct redirects *r = ctx;
	char *key = redirect_key(r, address);
	bool yes = pull_state_has(r->run->state, 'R', r->folder, key);

	free(key);
	return yes;
}

static void redirected(void *ctx, const char *address)
{
	struct redirects *r = ctx;
	struct pull_txn *t = NULL;
	char *key = redirect_key(r, address), *err = NULL;

	/* Not recorded (a full disk): a crash before the delivery's record
	 * would queue it again; the message itself is not at risk. */
	if (pull_txn_begin(r->run->state, &t, &err) < 0 ||
	    pull_txn_put(t, 'R', r->folder, key, &err) < 0 || pull_txn_commit(&t, &err) < 0) {
		log_warning("sync: %s: recording a redirect: %s", r->run->account, err);
		free(err);
	}
	pull_txn_abort(&t);
	free(key);
}

struct redirect_keys {
	const char *match;
	size_t len;
	char **keys;
	size_t n;
};

static void add_redirect_key(const char *key, void *ctx)
{
	struct redirect_keys *rk = ctx;

	if (strncmp(key, rk->match, rk->len) != 0 || key[rk->len] != '\t')
		return;
	rk->keys = xreallocarray(rk->keys, rk->n + 1, sizeof(*rk->keys));
	rk->keys[rk->n++] = xstrdup(key);
}

/* Removes in t the 'R' records of match.  0, or -1. */
static int drop_redirects(struct pull_run *run, struct pull_txn *t, const char *folder,
			  const char *match, char **error_r)
{
	struct redirect_keys rk = { match, strlen(match), NULL, 0 };
	int ret = pull_state_keys(run->state, 'R', folder, add_redirect_key, &rk, error_r);

	for (size_t i = 0; i < rk.n; i++) {
		if (ret == 0)
			ret = pull_txn_del(t, 'R', folder, rk.keys[i], error_r);
		free(rk.keys[i]);
	}
	free(rk.keys);
	return ret;
}

int pull_deliver(struct pull_run *run, const char *folder, struct pull_msg *msgs, size_t n,
		 uint32_t uidvalidity, uint32_t last_uid, bool after, char **error_r)
{
	struct pull_txn *t = NULL;
	struct deliver_batch *b = NULL;
	bool *maybe = xcalloc(n ? n : 1, sizeof(*maybe));
	bool pop3 = uidvalidity == 0;
	int ret = -1;

	/* 1. Intents, so that a crash after the delivery is recognised. */
	if (pull_txn_begin(run->state, &t, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].skip)
			continue;
		maybe[i] = pull_state_has(run->state, 'i', folder, msgs[i].match);
		if (pull_txn_put(t, 'i', folder, msgs[i].match, error_r) < 0)
			goto out;
	}
	if (pull_txn_commit(&t, error_r) < 0)
		goto out;
	crash_point("pull:after-intent");

	/* 2. Delivery, one batch. */
	b = deliver_batch_begin(run->agent);
	for (size_t i = 0; i < n; i++) {
		struct pull_msg *m = &msgs[i];
		char *answer = NULL, *token;

		if (m->skip)
			continue;
		token = xasprintf("pull %s %s %s", run->account, folder, m->match);
		to_lf(&m->data);
		struct redirects rd = { run, folder, m->match };
		struct deliver_request req = {
			.data = m->data.buf, .len = m->data.len, .token = token,
			.keywords = m->keywords, .maybe_delivered = maybe[i], .redirected = was_redirected,
			.on_redirect = redirected, .redirect_ctx = &rd,
		};
		enum deliver_status st = deliver_batch_add(b, &req, &answer);

		free(token);
		if (st == DELIVER_TEMPFAIL) {
			*error_r = xasprintf("%s: message %s: %s", folder, m->id,
					     answer ? answer : "cannot deliver");
			free(answer);
			goto out;
		}
		if (st == DELIVER_PERMFAIL) {
			/* Left upstream untouched: pull_after never loses it. */
			m->refused = true;
			pull_note(run, "%s: message %s refused: %s (left on the server)", folder,
				  m->id, answer ? answer : "");
		} else if (st == DELIVER_OK && run->stats) {
			run->stats->downloaded++;
		}
		free(answer);
	}
	if (deliver_batch_commit(&b, error_r) < 0)
		goto out;
	crash_point("pull:after-deliver");

	/* 3. Delivered: recorded, with what is left to do upstream. */
	if (pull_txn_begin(run->state, &t, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pull_msg *m = &msgs[i];
		/* POP3 remembers a refused message ('r') so that it is neither
		 * fetched again nor deleted; IMAP's last UID does the first. */
		char kind = m->refused ? (pop3 ? 'r' : 0) : pop3 ? 'u' : after ? 'a' : 0;

		if (!m->refused && pull_txn_put(t, 'd', folder, m->match, error_r) < 0)
			goto out;
		if (pull_txn_del(t, 'i', folder, m->match, error_r) < 0 ||
		    drop_redirects(run, t, folder, m->match, error_r) < 0)
			goto out;
		if (kind != 0 && pull_txn_put(t, kind, folder, m->id, error_r) < 0)
			goto out;
	}
	if (!pop3 && pull_txn_set_folder(t, folder, uidvalidity, last_uid, error_r) < 0)
		goto out;
	if (pull_txn_commit(&t, error_r) < 0)
		goto out;
	crash_point("pull:after-state");
	ret = 0;
out:
	deliver_batch_abort(&b);
	pull_txn_abort(&t);
	free(maybe);
	return ret;
}

/* ---- IMAP ---- */

struct uid_list {
	uint32_t *uids;
	size_t n;
};

static void add_uid(const char *key, void *ctx)
{
	struct uid_list *l = ctx;
	char *end;
	unsigned long u = strtoul(key, &end, 10);

	if (*end != '\0' || u == 0 || u > UINT32_MAX)
		return;
	l->uids = xreallocarray(l->uids, l->n + 1, sizeof(*l->uids));
	l->uids[l->n++] = (uint32_t)u;
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* pull_after on uids (ascending) of the selected folder, then their 'a'
 * records removed.  0 or -1. */
static int apply_after(struct pull_run *run, struct remote_conn *c, const char *folder,
		       enum pull_after after, const char *move_to, const uint32_t *uids, size_t n,
		       char **error_r)
{
	struct pull_txn *t = NULL;
	int r = 0;

	if (n == 0)
		return 0;
	if (after == PULL_SEEN)
		r = remote_store_flags(c, uids, n, 1, STORE_SEEN, error_r);
	else if (after == PULL_MOVE) {
		r = remote_copy(c, uids, n, move_to, true, error_r);
		/* The folder missing ([TRYCREATE]): created, then the move
		 * again; any other cause keeps the first error. */
		if (r < 0) {
			char *first = *error_r, *why = NULL;

			if (sync_imap_folder_cmd(c, "CREATE", move_to, &why) == 0) {
				pull_note(run, "%s: created upstream for pull_after", move_to);
				free(first);
				*error_r = NULL;
				r = remote_copy(c, uids, n, move_to, true, error_r);
			} else {
				free(why);
				*error_r = first;
			}
		}
	}
	else if (after == PULL_DELETE)
		r = remote_expunge(c, uids, n, error_r);
	if (r < 0)
		return -1;
	crash_point("pull:after-upstream");
	if (pull_txn_begin(run->state, &t, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%" PRIu32, uids[i]);
		if (pull_txn_del(t, 'a', folder, id, error_r) < 0) {
			pull_txn_abort(&t);
			return -1;
		}
	}
	return pull_txn_commit(&t, error_r);
}

/* The 'a' records a crashed or failed run left, for UIDs still there. */
static int finish_after(struct pull_run *run, struct remote_conn *c, const char *folder,
			enum pull_after after, const char *move_to, char **error_r)
{
	struct uid_list pending = { 0 };
	uint32_t *all = NULL;
	size_t n_all = 0, k = 0;
	int ret = -1;

	if (pull_state_keys(run->state, 'a', folder, add_uid, &pending, error_r) < 0)
		return -1;
	if (pending.n == 0)
		return 0;
	/* A MOVE of a UID already moved is refused by some servers. */
	if (remote_search_all(c, &all, &n_all, error_r) < 0)
		goto out;
	qsort(pending.uids, pending.n, sizeof(*pending.uids), cmp_uid);
	for (size_t i = 0; i < pending.n; i++)
		if (bsearch(&pending.uids[i], all, n_all, sizeof(*all), cmp_uid) != NULL)
			pending.uids[k++] = pending.uids[i];
	if (apply_after(run, c, folder, after, move_to, pending.uids, k, error_r) < 0)
		goto out;
	/* UIDs gone meanwhile: nothing left to do for them. */
	struct pull_txn *t = NULL;

	if (pull_txn_begin(run->state, &t, error_r) < 0)
		goto out;
	if (pull_txn_del(t, 'a', folder, NULL, error_r) < 0) {
		pull_txn_abort(&t);
		goto out;
	}
	ret = pull_txn_commit(&t, error_r);
out:
	free(pending.uids);
	free(all);
	return ret;
}

/* The bodies of a batch as remote_fetch_bodies hands them over. */
struct fetched {
	struct pull_run *run;
	const char *folder;
	struct pull_msg *msgs;
	size_t n;
	const uint32_t *batch;		/* the batch's UIDs and their keywords */
	char **keywords;
	size_t n_batch;
};

static int on_body(uint32_t uid, const char *data, size_t len, void *ctx, char **error_r)
{
	struct fetched *fb = ctx;
	struct pull_msg *m = &fb->msgs[fb->n];

	(void)error_r;
	if (fb->n == PULL_BATCH)
		return 0;	/* a server sending more than asked */
	sbuf_init(&m->data, 0);
	sbuf_add(&m->data, data, len);
	m->id = xasprintf("%" PRIu32, uid);
	m->match = pull_match_key(data, len);
	for (size_t i = 0; i < fb->n_batch; i++)
		if (fb->batch[i] == uid && fb->keywords[i] != NULL)
			m->keywords = xstrdup(fb->keywords[i]);
	m->skip = pull_state_has(fb->run->state, 'd', fb->folder, m->match);
	fb->n++;
	return 0;
}

/* pull_match_key of a message from its header FETCH: its RFC822.SIZE and
 * its ENVELOPE's Message-ID; NULL without a usable one. */
static char *envelope_match_key(const struct remote_msg *m)
{
	const char *id, *lt, *gt;
	size_t len;

	if (m->size == 0 || !sync_envelope_msgid(m->envelope, &id, &len) ||
	    (lt = memchr(id, '<', len)) == NULL ||
	    (gt = memchr(lt, '>', len - (size_t)(lt - id))) == NULL || gt - lt >= MSGID_MAX)
		return NULL;
	return xasprintf("%" PRIu32 " %.*s", m->size, (int)(gt - lt + 1), lt);
}

/* The next batch of uids[*done..] above last: at most PULL_BATCH UIDs
 * whose RFC822.SIZEs sum to PULL_BATCH_BYTES at most (one at least), so
 * that one FETCH of their bodies stays bounded in memory.  Ascending in
 * batch[0..*n_r); *done moves past them.  known[i] (malloc'd) is the
 * match key of batch[i] when its size and Message-ID are recorded as
 * delivered (after a UIDVALIDITY change: its body need not come again),
 * else NULL.  0, or -1 with *error_r. */
static int next_batch(struct pull_run *run, const char *folder, struct remote_conn *c,
		      const uint32_t *uids, size_t n_uids, size_t *done, uint32_t last,
		      uint32_t *batch, char **known, char **keywords, size_t *n_r,
		      char **error_r)
{
	struct remote_msg *info = NULL;
	size_t n = 0, n_info = 0, k = 0;
	uint64_t bytes = 0;

	for (size_t i = *done; i < n_uids && n < PULL_BATCH; i++)
		if (uids[i] > last)
			batch[n++] = uids[i];
	*n_r = 0;
	if (n == 0) {
		*done = n_uids;
		return 0;
	}
	if (remote_fetch(c, batch, n, true, &info, &n_info, error_r) < 0)
		return -1;
	/* UIDs gone since the SEARCH are in no reply: they cost nothing. */
	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < n_info && info[j].uid < batch[i])
			j++;
		uint64_t size = j < n_info && info[j].uid == batch[i] ? info[j].size : 0;

		if (k > 0 && bytes + size > PULL_BATCH_BYTES)
			break;
		bytes += size;
		known[k] = NULL;
		keywords[k] = size > 0 && info[j].keywords != NULL ? xstrdup(info[j].keywords)
								  : NULL;
		if (size > 0) {
			known[k] = envelope_match_key(&info[j]);
			if (known[k] != NULL && !pull_state_has(run->state, 'd', folder, known[k])) {
				free(known[k]);
				known[k] = NULL;
			}
		}
		k++;
	}
	remote_msgs_free(info, n_info);
	while (*done < n_uids && (uids[*done] <= last || uids[*done] <= batch[k - 1]))
		(*done)++;
	*n_r = k;
	return 0;
}

static int pull_folder(struct pull_run *run, struct remote_conn *c, const char *folder,
		       enum pull_after after, const char *move_to, char **error_r)
{
	uint32_t exists, uv, uv0, last, *uids = NULL;
	size_t n_uids = 0, done = 0;
	struct pull_msg *msgs = xcalloc(PULL_BATCH, sizeof(*msgs));
	struct pull_txn *t = NULL;
	char key[48];
	int ret = -1;

	if (remote_select(c, folder, &exists, &uv, NULL, error_r) < 0 ||
	    pull_state_folder(run->state, folder, &uv0, &last, error_r) < 0)
		goto out;
	if (uv0 != uv) {
		if (uv0 != 0)
			pull_note(run, "%s: UIDVALIDITY changed (%" PRIu32 " -> %" PRIu32
				  "): messages matched by size and Message-ID, none delivered "
				  "twice", folder, uv0, uv);
		last = 0;
		if (pull_txn_begin(run->state, &t, error_r) < 0 ||
		    pull_txn_set_folder(t, folder, uv, 0, error_r) < 0 ||
		    pull_txn_del(t, 'a', folder, NULL, error_r) < 0 ||
		    pull_txn_commit(&t, error_r) < 0)
			goto out;
	}
	if (run->stats)
		run->stats->folders++;
	if (after != PULL_KEEP && finish_after(run, c, folder, after, move_to, error_r) < 0)
		goto out;
	if (exists == 0) {
		ret = 0;
		goto out;
	}
	/* "UID n:*" names the highest UID even when it is below n. */
	snprintf(key, sizeof(key), "UID %" PRIu32 ":*", last + 1);
	if (remote_search(c, key, &uids, &n_uids, error_r) < 0)
		goto out;
	while (done < n_uids) {
		uint32_t hi, acted[PULL_BATCH], batch[PULL_BATCH], want[PULL_BATCH];
		char *known[PULL_BATCH], *keywords[PULL_BATCH];
		size_t n = 0, n_acted = 0, n_batch, n_want = 0;
		struct fetched fb = { run, folder, msgs, 0, batch, keywords, 0 };

		if (next_batch(run, folder, c, uids, n_uids, &done, last, batch, known, keywords,
			       &n_batch, error_r) < 0)
			goto out;
		fb.n_batch = n_batch;
		if (n_batch == 0)
			break;
		hi = batch[n_batch - 1];
		/* Known by their headers: recorded only (and given their
		 * pull_after), their bodies not fetched. */
		for (size_t i = 0; i < n_batch; i++) {
			if (known[i] == NULL) {
				want[n_want++] = batch[i];
				continue;
			}
			msgs[fb.n] = (struct pull_msg){ .id = xasprintf("%" PRIu32, batch[i]),
							.match = known[i], .skip = true };
			sbuf_init(&msgs[fb.n++].data, 0);
		}
		int got = n_want > 0 ? remote_fetch_bodies(c, want, n_want, on_body, &fb, error_r) : 0;

		for (size_t i = 0; i < n_batch; i++)
			free(keywords[i]);
		if (got < 0) {
			pull_msgs_clear(msgs, fb.n);
			goto out;
		}
		n = fb.n;
		crash_point("pull:after-fetch");
		if (n > 0 && pull_deliver(run, folder, msgs, n, uv, hi, after != PULL_KEEP,
					  error_r) < 0) {
			pull_msgs_clear(msgs, n);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (!msgs[i].refused)
				acted[n_acted++] = (uint32_t)strtoul(msgs[i].id, NULL, 10);
		pull_msgs_clear(msgs, n);
		last = hi;
		if (after != PULL_KEEP &&
		    apply_after(run, c, folder, after, move_to, acted, n_acted, error_r) < 0)
			goto out;
	}
	ret = 0;
out:
	pull_txn_abort(&t);
	free(msgs);
	free(uids);
	return ret;
}

/* The sync_folders words: space separated, "quoted" for blanks. */
static size_t split_words(const char *s, char ***words_r)
{
	char **w = NULL;
	size_t n = 0;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		const char *start = s, *end;

		if (*s == '"') {
			start = ++s;
			end = strchr(s, '"');
			if (end == NULL)
				end = s + strlen(s);
			s = *end ? end + 1 : end;
		} else {
			end = s + strcspn(s, " \t");
			s = end;
		}
		w = xreallocarray(w, n + 1, sizeof(*w));
		w[n++] = xstrndup(start, (size_t)(end - start));
	}
	*words_r = w;
	return n;
}

static bool folder_wanted(char **words, size_t n, const char *name)
{
	bool want = false;

	for (size_t i = 0; i < n; i++) {
		const char *p = words[i];
		bool neg = *p == '!';

		if (fnmatch(neg ? p + 1 : p, name, 0) == 0)
			want = !neg;
	}
	return want;
}

/* The folders to pull: the plain names of sync_folders as they are, or
 * with a pattern the server's folders that match.  *names_r: malloc'd. */
static int folders_to_pull(struct remote_conn *c, const char *spec, char ***names_r,
			   size_t *n_r, char **error_r)
{
	char **words, **names = NULL;
	size_t n_words = split_words(spec && *spec ? spec : "INBOX", &words), n = 0;
	bool patterns = false;
	int ret = 0;

	for (size_t i = 0; i < n_words; i++)
		patterns |= strpbrk(words[i], "*?[!") != NULL;
	if (!patterns) {
		*names_r = words;
		*n_r = n_words;
		return 0;
	}
	struct remote_folder *fl;
	size_t n_fl;

	if (remote_list_folders(c, &fl, &n_fl, error_r) < 0) {
		ret = -1;
	} else {
		for (size_t i = 0; i < n_fl; i++) {
			if (fl[i].noselect || !folder_wanted(words, n_words, fl[i].name))
				continue;
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(fl[i].name);
		}
		remote_folders_free(fl, n_fl);
	}
	for (size_t i = 0; i < n_words; i++)
		free(words[i]);
	free(words);
	*names_r = names;
	*n_r = n;
	return ret;
}

static enum remote_sync_result imap_pull(struct pull_run *run, enum pull_after after,
					 const char *move_to, char **error_r)
{
	struct remote_account acc;
	struct remote_conn *c;
	char **names = NULL;
	size_t n = 0;
	enum remote_sync_result r = REMOTE_SYNC_TEMP;

	if (remote_account_load(run->cfg, run->account, &acc, error_r) < 0)
		return REMOTE_SYNC_UNAVAILABLE;
	c = remote_connect(&acc, error_r);
	remote_account_clear(&acc);
	if (c == NULL) {
		pull_record(run, PULL_ACCOUNT, *error_r);
		return REMOTE_SYNC_TEMP;
	}
	if (folders_to_pull(c, config_account_get(run->cfg, run->account, "sync_folders"),
			    &names, &n, error_r) < 0) {
		pull_record(run, PULL_ACCOUNT, *error_r);
	} else {
		char *was = NULL;

		/* Reaching the server clears an account error of an earlier run. */
		if (pull_state_value(run->state, 'e', PULL_ACCOUNT, &was))
			pull_record(run, PULL_ACCOUNT, NULL);
		free(was);
		r = REMOTE_SYNC_OK;
		for (size_t i = 0; i < n && r == REMOTE_SYNC_OK; i++) {
			if (run->opt != NULL && run->opt->folder != NULL &&
			    strcmp(names[i], run->opt->folder) != 0)
				continue;
			if (pull_folder(run, c, names[i], after, move_to, error_r) < 0)
				r = REMOTE_SYNC_TEMP;
			pull_record(run, names[i], r == REMOTE_SYNC_OK ? NULL : *error_r);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	remote_close(&c);
	return r;
}

/* ---- the entry ---- */

/* pull_after's value (its syntax checked when the mailrc was read);
 * *move_to_r points into it.  0, or -1 with *error_r for seen or move: on
 * a POP3 account (set globally: a block is checked as it is read). */
static int parse_after(const char *account, const char *value, bool pop3,
		       enum pull_after *after_r, const char **move_to_r, char **error_r)
{
	*move_to_r = NULL;
	if (value == NULL || strcmp(value, "keep") == 0)
		*after_r = PULL_KEEP;
	else if (strcmp(value, "seen") == 0)
		*after_r = PULL_SEEN;
	else if (strcmp(value, "delete") == 0)
		*after_r = PULL_DELETE;
	else {
		*after_r = PULL_MOVE;
		*move_to_r = value + strlen("move:");
	}
	if (pop3 && (*after_r == PULL_SEEN || *after_r == PULL_MOVE)) {
		*error_r = xasprintf("account %s: pull_after %s needs IMAP: a pop3_url account "
				     "takes keep or delete", account, value);
		return -1;
	}
	return 0;
}

enum remote_sync_result remote_sync_pull(const struct config *cfg, const char *account,
					 const struct remote_sync_options *opt,
					 struct remote_sync_stats *stats_r, char **error_r)
{
	struct remote_sync_stats stats = { 0 };
	struct pull_run run = { .cfg = cfg, .account = account, .opt = opt, .stats = &stats };
	const char *pop3 = config_account_get(cfg, account, "pop3_url");
	const char *state = config_get(cfg, "state_dir"), *move_to;
	enum pull_after after;
	enum remote_sync_result r = REMOTE_SYNC_UNAVAILABLE;
	struct queue *q = NULL;
	const char *qerr;
	char *dir = NULL;
	bool queued = false;

	if (pop3 != NULL && *pop3 == '\0')
		pop3 = NULL;
	if (parse_after(account, config_account_get(cfg, account, "pull_after"), pop3 != NULL,
			&after, &move_to, error_r) < 0)
		goto out;
	dir = state && *state ? xstrdup(state) : path_join(config_get(cfg, "folder"), ".loft");
	r = REMOTE_SYNC_TEMP;
	/* A queue for Sieve redirects; without one they are kept instead. */
	if (transport_queue_open(cfg, &q, &qerr) < 0)
		log_warning("queue: %s (Sieve redirects are kept instead)", qerr);
	if (pull_state_open(dir, account, &run.state, error_r) < 0 ||
	    deliver_open(cfg, q, false, &run.agent, error_r) < 0)
		goto out;
	r = pop3 ? pop3_pull(&run, pop3, after, error_r) : imap_pull(&run, after, move_to, error_r);
	queued = deliver_queued(run.agent);
out:
	deliver_close(&run.agent);
	queue_free(&q);
	pull_state_close(&run.state);
	free(dir);
	/* The runner is forked only once everything is let go: a child
	 * holding the state's lock makes the next `loft sync` say busy, and
	 * one holding the agent's Xapian write lock (its lock-holder
	 * process's pipe) waits for that lock for ever. */
	if (queued)
		transport_spawn_runner(cfg);
	if (stats_r != NULL)
		*stats_r = stats;
	return r;
}

/* ---- loft sync --status ---- */

struct status_ctx {
	struct pull_run *run;
	struct sbuf *out;
	size_t n;
};

static void count_key(const char *key, void *ctx)
{
	(void)key;
	(*(size_t *)ctx)++;
}

static void add_when(struct sbuf *out, const char *value)
{
	char buf[48];

	sbuf_addstr(out, clock_rfc5322(strtoll(value, NULL, 10), buf, sizeof(buf)));
}

static void folder_status(const char *folder, void *ctx)
{
	struct status_ctx *sc = ctx;
	struct pull_state *ps = sc->run->state;
	size_t after = 0, flight = 0;
	uint32_t uv, last;
	char *ok = NULL, *bad = NULL, *err = NULL;

	sc->n++;
	sbuf_addf(sc->out, "  %s: last success ", folder);
	if (pull_state_value(ps, 's', folder, &ok))
		add_when(sc->out, ok);
	else
		sbuf_addstr(sc->out, "never");
	if (pull_state_folder(ps, folder, &uv, &last, &err) > 0)
		sbuf_addf(sc->out, ", UIDs up to %" PRIu32 " pulled", last);
	free(err);
	pull_state_keys(ps, 'a', folder, count_key, &after, &err);
	free(err);
	pull_state_keys(ps, 'i', folder, count_key, &flight, &err);
	free(err);
	sbuf_addf(sc->out, ", %zu waiting for pull_after upstream, %zu in flight", after, flight);
	if (pull_state_value(ps, 'e', folder, &bad)) {
		char *text = strchr(bad, ' ');

		sbuf_addstr(sc->out, ", last error ");
		add_when(sc->out, bad);
		sbuf_addf(sc->out, ": %s", text ? text + 1 : "");
	}
	sbuf_addch(sc->out, '\n');
	free(ok);
	free(bad);
}

enum remote_sync_result remote_sync_pull_status(const struct config *cfg, const char *account,
						struct sbuf *out, char **error_r)
{
	const char *state = config_get(cfg, "state_dir");
	char *dir = state && *state ? xstrdup(state) : path_join(config_get(cfg, "folder"), ".loft");
	struct pull_run run = { .cfg = cfg, .account = account };
	struct sbuf lines = SBUF_INIT;
	struct status_ctx sc = { &run, &lines, 0 };
	enum remote_sync_result r = REMOTE_SYNC_TEMP;

	if (pull_state_open(dir, account, &run.state, error_r) == 0 &&
	    pull_state_keys(run.state, 'F', "", folder_status, &sc, error_r) == 0) {
		sbuf_addf(out, "%s (sync=pull): %zu folders\n", account, sc.n);
		sbuf_add(out, lines.buf, lines.len);
		r = REMOTE_SYNC_OK;
	}
	pull_state_close(&run.state);
	sbuf_release(&lines);
	free(dir);
	return r;
}
