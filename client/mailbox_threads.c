/* mailbox_threads: the threads of a mailbox's rows kept between opens
 * (client/mailbox.h, mailbox_threads_cached / mailbox_threads_keep).
 *
 * Threads depend on the thread keys of the rows only, and a store
 * folder's UID names one message for as long as its UIDVALIDITY lasts
 * (the store drops kept bytes of another UIDVALIDITY), so the kept
 * threads fit the rows exactly when the rows are the same UIDs in the
 * same order and the options are the same: the key is a fingerprint of
 * those.  A message that arrived or was expunged changes it, so stale
 * threads are never shown; flag changes do not, so reading mail keeps
 * them.
 *
 * A mailbox that makes thread keys only when asked (an IMAP folder: each
 * is read from its header cache) also keeps what thread_add needs
 * (client/thread_add.h) with the rows' UIDs: when the rows are those
 * UIDs followed by a few new ones, the kept threads get the new ones
 * added, which reads only their keys. */
#include "client/mailbox-private.h"
#include "client/envelope.h"
#include "client/thread.h"
#include "client/thread_add.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAILBOX_THREADS_NAME "threads"
#define MAILBOX_THREAD_IDS_NAME "thread-ids"

/* A 64-bit fingerprint of the first n rows' UIDs (in order) and opt. */
static uint64_t rows_key(const struct mailbox *mb, const struct thread_options *opt, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15u;

	h ^= (uint64_t)opt->subject_fallback | (uint64_t)opt->subject_needs_reply << 1 |
	     (uint64_t)opt->strip_list_tags << 2 | (uint64_t)opt->newest_first << 3;
	for (size_t i = 0; i < n; i++) {
		struct mailbox_msg m;

		mailbox_msg(mb, i, &m);
		/* splitmix64's mixer over the running value: order matters. */
		h += m.uid + 0x9e3779b97f4a7c15u;
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
		h ^= h >> 31;
	}
	return h ^ n;
}

/* Whether a raw subject needs envelope_decode_words(): an encoded word
 * or 8-bit bytes. */
static bool subject_encoded(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80 || (s[i] == '=' && i + 1 < len && s[i + 1] == '?'))
			return true;
	return false;
}

bool mailbox_thread_input(struct mailbox *mb, size_t i, unsigned fields, struct thread_input *in,
			  struct arena *pool, struct sbuf *tmp)
{
	struct mailbox_msg m;
	const char *f[5];

	mailbox_msg(mb, i, &m);
	if (m.threadkey == NULL)
		m.threadkey = mailbox_threadkey(mb, i);
	if (m.threadkey == NULL)
		return false;
	f[0] = m.threadkey;
	for (int k = 1; k < 5; k++)
		f[k] = f[k - 1] + strlen(f[k - 1]) + 1;
	if (fields & THREAD_FIELD_ID) {
		in->message_id = f[1];
		in->date = f[0][0] ? envelope_parse_date(f[0]) : 0;
		if (in->date == 0)
			in->date = m.internal_date;
	}
	if (fields & THREAD_FIELD_REFS) {
		in->in_reply_to = f[2];
		in->references = f[3];
	}
	if (fields & THREAD_FIELD_SUBJECT) {
		in->subject = f[4];
		if (subject_encoded(f[4], strlen(f[4]))) {
			sbuf_reset(tmp);
			envelope_decode_words(f[4], strlen(f[4]), tmp);
			in->subject = arena_strndup(pool, tmp->buf, tmp->len);
		}
	}
	return true;
}

/* Every field of row i's input, copied to pool: thread_add takes the new
 * rows' inputs at once, and a key lasts one mailbox_threadkey call. */
static bool new_input(struct mailbox *mb, size_t i, struct thread_input *in, struct arena *pool,
		      struct sbuf *tmp)
{
	if (!mailbox_thread_input(mb, i, THREAD_FIELD_ID | THREAD_FIELD_REFS | THREAD_FIELD_SUBJECT,
				  in, pool, tmp))
		return false;
	in->message_id = arena_strdup(pool, in->message_id);
	in->in_reply_to = arena_strdup(pool, in->in_reply_to);
	in->references = arena_strdup(pool, in->references);
	in->subject = arena_strdup(pool, in->subject);
	return true;
}

/* The thread-ids bytes: this head, the rows' UIDs, then thread_add's
 * bytes from the next multiple of 8 (they are read in place). */
struct ids_head {
	uint64_t key;		/* rows_key of the rows */
	uint64_t n;
};

static size_t ids_at(size_t n)
{
	return (sizeof(struct ids_head) + n * sizeof(uint32_t) + 7) & ~(size_t)7;
}

struct keep {
	const struct thread *t;
	uint64_t key;
	const struct sbuf *bytes;
};

static void keep_fill(void *dst, size_t len, void *ctx)
{
	const struct keep *k = ctx;

	(void)len;
	thread_save(k->t, k->key, dst);
}

static void bytes_fill(void *dst, size_t len, void *ctx)
{
	const struct keep *k = ctx;

	memcpy(dst, k->bytes->buf, len);
}

/* Keeps t (over all of mb's rows, key theirs): 0, or -1 (the next open
 * builds them again; the mailbox may refuse, as an IMAP folder whose
 * headers are still arriving does). */
static int keep_threads(struct mailbox *mb, const struct thread *t, uint64_t key)
{
	struct keep k = { t, key, NULL };
	const char *err;

	return mb->drv->cache_put(mb, MAILBOX_THREADS_NAME, thread_save_size(t), keep_fill, &k,
				  &err);
}

/* The head of the thread-ids bytes of mb's first n rows (key theirs)
 * into b, padded: thread_add's bytes are appended in place after it, not
 * made apart and copied (megabytes for 100,000 rows). */
static void ids_start(struct mailbox *mb, uint64_t key, size_t n, struct sbuf *b)
{
	struct ids_head h = { key, n };

	sbuf_add(b, &h, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		struct mailbox_msg m;

		mailbox_msg(mb, i, &m);
		sbuf_add(b, &m.uid, sizeof(m.uid));
	}
	while (b->len < ids_at(n))
		sbuf_addch(b, '\0');
}

/* Keeps the thread-ids bytes b (ids_start's head, then thread_add's). */
static void keep_ids(struct mailbox *mb, const struct sbuf *b)
{
	struct keep k = { NULL, 0, b };
	const char *err;

	(void)mb->drv->cache_put(mb, MAILBOX_THREAD_IDS_NAME, b->len, bytes_fill, &k, &err);
}

/* The kept threads (their bytes tb, read already) with the rows that came
 * since added (thread_add), when the rows are the kept ones' UIDs
 * followed by new ones; NULL else.  tb is let go once loaded. */
static struct thread *threads_added(struct mailbox *mb, const struct thread_options *opt,
				    struct sbuf *tb)
{
	struct sbuf ib = SBUF_INIT, tmp = SBUF_INIT, next = SBUF_INIT;
	size_t n = mailbox_count(mb), n_old = 0;
	struct thread *old = NULL, *t = NULL;
	struct thread_input *in = NULL;
	struct arena *pool = NULL;
	struct ids_head h;
	const char *err;
	uint64_t key = 0;
	bool ok;

	ok = mb->drv->cache_get(mb, MAILBOX_THREAD_IDS_NAME, &ib, &err) > 0 &&
	     ib.len >= sizeof(h);
	if (ok) {
		memcpy(&h, ib.buf, sizeof(h));
		n_old = (size_t)h.n;
		ok = n_old < n && ib.len >= ids_at(n_old) && rows_key(mb, opt, n_old) == h.key;
	}
	for (size_t i = 0; ok && i < n_old; i++) {
		struct mailbox_msg m;
		uint32_t uid;

		mailbox_msg(mb, i, &m);
		memcpy(&uid, ib.buf + sizeof(h) + i * sizeof(uid), sizeof(uid));
		ok = uid == m.uid;
	}
	ok = ok && (old = thread_load(tb->buf, tb->len, n_old, h.key)) != NULL;
	sbuf_release(tb);	/* copied: megabytes less at the peak */
	if (ok) {
		in = xcalloc(n - n_old, sizeof(*in));
		pool = arena_new(0);
		for (size_t i = n_old; ok && i < n; i++)
			ok = new_input(mb, i, &in[i - n_old], pool, &tmp);
	}
	if (ok) {
		key = rows_key(mb, opt, n);
		ids_start(mb, key, n, &next);
		t = thread_add(old, ib.buf + ids_at(n_old), ib.len - ids_at(n_old), in, n - n_old,
			       opt, &next);
	}
	/* Kept later (mailbox_threads_flush), once the caller has drawn. */
	if (t != NULL) {
		if (mb->keep_ids == NULL)
			mb->keep_ids = xcalloc(1, sizeof(*mb->keep_ids));
		sbuf_release(mb->keep_ids);
		*mb->keep_ids = next;
		next = (struct sbuf)SBUF_INIT;
		mb->keep_key = key;
	}
	thread_free(&old);
	free(in);
	arena_free(&pool);
	sbuf_release(&ib);
	sbuf_release(&tmp);
	sbuf_release(&next);
	return t;
}

struct thread *mailbox_threads_cached(struct mailbox *mb, const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct sbuf sb = SBUF_INIT;
	struct thread *t = NULL;
	const char *err;

	if (mb->drv->cache_get == NULL)
		return NULL;
	if (opt == NULL)
		opt = &defaults;
	if (mb->drv->cache_get(mb, MAILBOX_THREADS_NAME, &sb, &err) > 0) {
		t = thread_load(sb.buf, sb.len, mailbox_count(mb), rows_key(mb, opt, mailbox_count(mb)));
		/* Kept for fewer rows: those the rows that came since are
		 * added to (the bytes read once). */
		if (t == NULL && mb->drv->threadkey != NULL)
			t = threads_added(mb, opt, &sb);
	}
	sbuf_release(&sb);
	return t;
}

void mailbox_threads_flush(struct mailbox *mb, const struct thread *t,
			   const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct sbuf *ids = mb->keep_ids;

	if (ids == NULL || ids->len == 0)
		return;
	mb->keep_ids = NULL;
	if (opt == NULL)
		opt = &defaults;
	/* The rows may have changed since (a sync): then t is not them. */
	if (t != NULL && t->n == mailbox_count(mb) && rows_key(mb, opt, t->n) == mb->keep_key &&
	    keep_threads(mb, t, mb->keep_key) == 0)
		keep_ids(mb, ids);
	sbuf_release(ids);
	free(ids);
}

void mailbox_threads_keep(struct mailbox *mb, const struct thread *t, thread_input_fn *fn,
			  void *ctx, const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct sbuf ids = SBUF_INIT;
	uint64_t key;

	/* These threads replace any waiting to be kept. */
	mailbox_threads_flush(mb, NULL, opt);
	if (mb->drv->cache_put == NULL || t->n != mailbox_count(mb))
		return;
	if (opt == NULL)
		opt = &defaults;
	key = rows_key(mb, opt, t->n);
	/* One after the other: the threads' bytes are written (and their
	 * pages let go) before the ids' are made, which are of no use
	 * without them. */
	if (keep_threads(mb, t, key) < 0 || fn == NULL || mb->drv->threadkey == NULL)
		return;
	ids_start(mb, key, t->n, &ids);
	thread_ids_make(t, fn, ctx, opt, &ids);
	keep_ids(mb, &ids);
	sbuf_release(&ids);
}
