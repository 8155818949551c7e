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
 * them. */
#include "client/mailbox-private.h"
#include "client/thread.h"

#include "lib/sbuf.h"

#define MAILBOX_THREADS_NAME "threads"

/* A 64-bit fingerprint of the rows' UIDs (in order) and opt. */
static uint64_t rows_key(const struct mailbox *mb, const struct thread_options *opt)
{
	uint64_t h = 0x9e3779b97f4a7c15u;
	size_t n = mailbox_count(mb);

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
	if (mb->drv->cache_get(mb, MAILBOX_THREADS_NAME, &sb, &err) > 0)
		t = thread_load(sb.buf, sb.len, mailbox_count(mb), rows_key(mb, opt));
	sbuf_release(&sb);
	return t;
}

struct keep {
	const struct thread *t;
	uint64_t key;
};

static void keep_fill(void *dst, size_t len, void *ctx)
{
	const struct keep *k = ctx;

	(void)len;
	thread_save(k->t, k->key, dst);
}

void mailbox_threads_keep(struct mailbox *mb, const struct thread *t,
			  const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct keep k = { t, 0 };
	const char *err;

	if (mb->drv->cache_put == NULL || t->n != mailbox_count(mb))
		return;
	k.key = rows_key(mb, opt ? opt : &defaults);
	/* Written in place; a failure costs the next open a thread build. */
	(void)mb->drv->cache_put(mb, MAILBOX_THREADS_NAME, thread_save_size(t), keep_fill, &k,
				 &err);
}
