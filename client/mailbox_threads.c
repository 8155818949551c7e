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
 * added, which reads only their keys.  The kept bytes are read where
 * they lie (cache_view): the threads copied once, the thread_add bytes
 * only looked up; the bytes to keep for the new rows are made later,
 * once the caller has drawn (mailbox_threads_flush). */
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

/* Threads made by adding rows to kept ones, waiting to be kept
 * (mailbox_threads_flush): what thread_add_ids needs to make the bytes
 * of the n_old + k rows from the kept ones of the n_old. */
struct mailbox_kept_add {
	uint64_t key;			/* rows_key of the n_old + k rows */
	uint64_t old_key;		/* the kept bytes' */
	size_t n_old, k;
	struct thread_input *in;	/* the k new rows' inputs, in pool */
	struct arena *pool;
};

void mailbox_threads_drop(struct mailbox *mb)
{
	if (mb->kept_add == NULL)
		return;
	free(mb->kept_add->in);
	arena_free(&mb->kept_add->pool);
	free(mb->kept_add);
	mb->kept_add = NULL;
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

/* The n_old rows whose thread-ids bytes data[0..len) are (kept for mb's
 * first rows, opt theirs: the fingerprint and every UID checked), and
 * their fingerprint; 0 when they are not such bytes. */
static size_t ids_rows(struct mailbox *mb, const struct thread_options *opt, const char *data,
		       size_t len, uint64_t *key_r)
{
	struct ids_head h;
	size_t n = mailbox_count(mb);

	if (len < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	if (h.n == 0 || h.n >= n || len < ids_at((size_t)h.n) || rows_key(mb, opt, h.n) != h.key)
		return 0;
	for (size_t i = 0; i < h.n; i++) {
		struct mailbox_msg m;
		uint32_t uid;

		mailbox_msg(mb, i, &m);
		memcpy(&uid, data + sizeof(h) + i * sizeof(uid), sizeof(uid));
		if (uid != m.uid)
			return 0;
	}
	*key_r = h.key;
	return (size_t)h.n;
}

/* mailbox_threads_cached's reading, through the nested views. */
struct cached {
	struct mailbox *mb;
	const struct thread_options *opt;
	const void *threads;		/* the kept threads' bytes (in place) */
	size_t threads_len;
	struct thread *t;
};

/* The kept threads with the rows that came since added (thread_add),
 * when the thread-ids bytes data[0..len) are of the kept ones' UIDs,
 * followed by new ones now. */
static void on_ids(const void *data, size_t len, void *ctx)
{
	struct cached *c = ctx;
	struct mailbox *mb = c->mb;
	struct mailbox_kept_add *ka = NULL;
	size_t n = mailbox_count(mb), n_old;
	struct sbuf tmp = SBUF_INIT;
	struct thread *old = NULL;
	uint64_t key;
	bool ok;

	n_old = ids_rows(mb, c->opt, data, len, &key);
	ok = n_old > 0 && (old = thread_load(c->threads, c->threads_len, n_old, key)) != NULL;
	if (ok) {
		ka = xcalloc(1, sizeof(*ka));
		*ka = (struct mailbox_kept_add){ 0, key, n_old, n - n_old,
						 xcalloc(n - n_old, sizeof(*ka->in)), arena_new(0) };
		for (size_t i = n_old; ok && i < n; i++)
			ok = new_input(mb, i, &ka->in[i - n_old], ka->pool, &tmp);
	}
	if (ok)
		c->t = thread_add(old, (const char *)data + ids_at(n_old), len - ids_at(n_old),
				  ka->in, ka->k, c->opt);
	/* The bytes to keep are made by mailbox_threads_flush. */
	if (c->t != NULL) {
		ka->key = rows_key(mb, c->opt, n);
		mb->kept_add = ka;
	} else if (ka != NULL) {
		free(ka->in);
		arena_free(&ka->pool);
		free(ka);
	}
	thread_free(&old);
	sbuf_release(&tmp);
}

static void on_threads(const void *data, size_t len, void *ctx)
{
	struct cached *c = ctx;
	struct mailbox *mb = c->mb;
	size_t n = mailbox_count(mb);
	const char *err;

	c->t = thread_load(data, len, n, rows_key(mb, c->opt, n));
	/* Kept for fewer rows: those the rows that came since are added to
	 * (the bytes read in place meanwhile). */
	if (c->t == NULL && mb->drv->threadkey != NULL) {
		c->threads = data;
		c->threads_len = len;
		(void)mb->drv->cache_view(mb, MAILBOX_THREAD_IDS_NAME, on_ids, c, &err);
	}
}

struct thread *mailbox_threads_cached(struct mailbox *mb, const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct cached c = { mb, opt != NULL ? opt : &defaults, NULL, 0, NULL };
	const char *err;

	if (mb->drv->cache_view == NULL)
		return NULL;
	/* Threads added before and not kept yet are not these rows'. */
	mailbox_threads_drop(mb);
	(void)mb->drv->cache_view(mb, MAILBOX_THREADS_NAME, on_threads, &c, &err);
	return c.t;
}

/* The thread-ids bytes of the rows ka added to, made into those of all
 * the rows (key ka->key) in the sbuf ctx (left empty when the kept ones
 * are not those any more). */
struct ids_next {
	struct mailbox *mb;
	const struct thread_options *opt;
	const struct mailbox_kept_add *ka;
	struct sbuf *next;
};

static void on_old_ids(const void *data, size_t len, void *ctx)
{
	struct ids_next *x = ctx;
	const struct mailbox_kept_add *ka = x->ka;
	struct ids_head h;

	if (len < sizeof(h))
		return;
	memcpy(&h, data, sizeof(h));
	if (h.key != ka->old_key || h.n != ka->n_old || len < ids_at(ka->n_old))
		return;
	ids_start(x->mb, ka->key, ka->n_old + ka->k, x->next);
	if (thread_add_ids((const char *)data + ids_at(ka->n_old), len - ids_at(ka->n_old),
			   ka->n_old, ka->in, ka->k, x->opt, x->next) < 0)
		sbuf_reset(x->next);
}

void mailbox_threads_flush(struct mailbox *mb, const struct thread *t,
			   const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct mailbox_kept_add *ka = mb->kept_add;
	struct sbuf next = SBUF_INIT;
	struct ids_next x = { mb, opt != NULL ? opt : &defaults, ka, &next };
	const char *err;

	if (ka == NULL)
		return;
	/* The rows may have changed since (a sync): then t is not them.
	 * The bytes to keep are made before the threads are written over. */
	if (t != NULL && t->n == mailbox_count(mb) && t->n == ka->n_old + ka->k &&
	    rows_key(mb, x.opt, t->n) == ka->key &&
	    mb->drv->cache_view(mb, MAILBOX_THREAD_IDS_NAME, on_old_ids, &x, &err) > 0 &&
	    next.len > 0 && keep_threads(mb, t, ka->key) == 0)
		keep_ids(mb, &next);
	sbuf_release(&next);
	mailbox_threads_drop(mb);
}

void mailbox_threads_keep(struct mailbox *mb, const struct thread *t, thread_input_fn *fn,
			  void *ctx, const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct sbuf ids = SBUF_INIT;
	uint64_t key;

	/* These threads replace any waiting to be kept. */
	mailbox_threads_drop(mb);
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
