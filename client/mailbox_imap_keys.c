/* mailbox_imap_keys: the thread keys of the UI's rows, read from the
 * header cache a window of rows at a time (the driver's threadkey).
 *
 * Threading asks for every row's key in order, two or three times
 * (client/thread.h: ids, references, the tops' subjects, then the bytes
 * kept for thread_add), and keeps no pointer past the next call.  So a
 * key is read when asked, with the next KEYS_WINDOW rows' keys in the
 * same walk of the cache (one short read transaction), and the window is
 * replaced by the next: a 100,000-row folder threads with one window in
 * memory instead of every key (~20 MB), and the walk lets go of the
 * cache file's pages as it goes (remote/hcache.h). */
#include "client/mailbox_imap-private.h"

#include "client/envelope.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Rows a walk reads ahead: ~200 bytes of key each. */
#define KEYS_WINDOW 2048
#define NO_KEY SIZE_MAX

struct imap_keys {
	size_t lo, n;			/* the window: view rows lo .. lo + n - 1 */
	size_t off[KEYS_WINDOW];	/* each row's key in buf, NO_KEY: none */
	struct sbuf buf;
	struct sbuf tmp;		/* a key made from an envelope */
};

/* The cache's key of m into the window when m is one of its rows (both
 * in UID order, from view row *at on); a record without one (version 2)
 * has it made from its envelope.  Stops past the window's last UID. */
struct keys_walk {
	struct imap_mailbox *im;
	size_t at;
};

static int key_row(const struct hcache_msg *m, void *ctx)
{
	struct keys_walk *w = ctx;
	struct imap_keys *k = w->im->keys;
	const struct imap_rows *v = &w->im->view;
	size_t end = k->lo + k->n;
	const char *key;
	size_t len;

	while (w->at < end && v->v[w->at].uid < m->uid)
		w->at++;
	if (w->at >= end)
		return 1;
	if (v->v[w->at].uid != m->uid)
		return 0;
	if (m->threadkey != NULL) {
		key = m->threadkey;
		len = m->threadkey_len;
	} else if (m->envelope != NULL) {
		sbuf_reset(&k->tmp);
		if (envelope_thread_key(m->envelope, strlen(m->envelope), &k->tmp) < 0)
			return 0;
		key = k->tmp.buf;
		len = k->tmp.len;
	} else {
		return 0;
	}
	/* The key's fields are NUL-terminated: bytes, not a string. */
	k->off[w->at - k->lo] = k->buf.len;
	sbuf_add(&k->buf, key, len);
	return 0;
}

/* The window from view row i on. */
static void load_window(struct imap_mailbox *im, size_t i)
{
	struct imap_keys *k = im->keys;
	struct keys_walk w = { im, i };
	const char *err;
	uint32_t validity;

	k->lo = i;
	k->n = im->view.n - i < KEYS_WINDOW ? im->view.n - i : KEYS_WINDOW;
	for (size_t j = 0; j < k->n; j++)
		k->off[j] = NO_KEY;
	sbuf_reset(&k->buf);
	if (imap_cache_handle(im, &validity, &err) == 0 &&
	    hcache_walk_from(im->ui_hc, im->acct.url.folder, im->view.v[i].uid,
			     HCACHE_WANT_THREADKEY | HCACHE_WANT_ENVELOPE_IF_NO_KEY, key_row, &w,
			     &im->cache_error) < 0) {
		/* A cache that fails costs only the keys it would have
		 * given: those rows thread by what the rows hold. */
	}
}

const char *imap_threadkey(const struct mailbox *mb, size_t i)
{
	/* The view and its keys are the UI thread's own. */
	struct imap_mailbox *im = IMB((struct mailbox *)mb);
	const struct imap_row *r = &im->view.v[i];
	struct imap_keys *k;

	if (r->threadkey != NULL || !r->cached)
		return r->threadkey;
	if (im->keys == NULL) {
		im->keys = xcalloc(1, sizeof(*im->keys));
		sbuf_init(&im->keys->buf, 0);
		sbuf_init(&im->keys->tmp, 0);
		load_window(im, i);
	} else if (i < im->keys->lo || i - im->keys->lo >= im->keys->n) {
		load_window(im, i);
	}
	k = im->keys;
	return k->off[i - k->lo] == NO_KEY ? NULL : k->buf.buf + k->off[i - k->lo];
}

void imap_keys_forget(struct imap_mailbox *im)
{
	if (im->keys == NULL)
		return;
	sbuf_release(&im->keys->buf);
	sbuf_release(&im->keys->tmp);
	free(im->keys);
	im->keys = NULL;
}
