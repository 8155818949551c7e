/* mailbox_imap_fetch: how the IMAP driver's worker brings its rows up to
 * date, on open and after news, fetching as little as the server allows.
 *
 * The rows come first from the header cache (remote/hcache.h), which
 * keeps the folder's HIGHESTMODSEQ beside them.  On open, a server with
 * QRESYNC gets SELECT folder (QRESYNC (uidvalidity modseq known-uids)):
 * it answers with the FETCHes of what changed and the VANISHED UIDs, so an
 * unchanged folder costs that one round trip.  With CONDSTORE only, an
 * unchanged HIGHESTMODSEQ says the same; else UID FETCH 1:* (FLAGS)
 * (CHANGEDSINCE modseq).  Without either, the FLAGS of every message, in
 * UID ranges of SCAN_BATCH (libetpan holds each answer whole).
 * When the count still differs from EXISTS (a VANISHED libetpan dropped,
 * an expunge CONDSTORE does not report), UID SEARCH ALL settles which
 * UIDs exist.
 *
 * Headers of the UIDs not known yet come in batches of REMOTE_FETCH_BATCH,
 * the highest UIDs (the newest mail) first; the rows are published after
 * the first batch and then about once a second, with "Fetching headers
 * N/TOTAL" as the status, and a request of the UI is served between two
 * batches, so a first open of a big folder shows its newest screenful at
 * once and stays usable while the rest fills in.  If the fill stops (the
 * connection drops, the mailbox closes), what was fetched stays in the
 * rows and the cache; the stored HIGHESTMODSEQ stays the old one, so the
 * next open fetches the rest. */
#include "client/mailbox_imap-private.h"

#include "client/envelope.h"

#include "lib/clock.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How often a long fill publishes its rows and its progress. */
#define FILL_PUBLISH_MS 1000
/* A long fill writes the headers it got to the cache every this many rows
 * and lets go of them: a first open of 100,000 messages never holds every
 * envelope (nor one transaction of them all) in memory. */
#define FILL_CACHE_ROWS 1000
/* Messages a FLAGS scan asks of the server at once (scan_all). */
#define SCAN_BATCH 5000

/* ---- the header cache, on the worker only ----
 * A cache that fails is dropped for this session: it only saves time. */

static void cache_fail(struct imap_mailbox *im, char *err)
{
	free(err);
	hcache_close(&im->hc);
}

/* m for r; m->keywords is malloc'd (the cache keeps $Forwarded among
 * them). */
static void row_to_cache(const struct imap_row *r, struct hcache_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->uid = r->uid;
	m->flags = r->flags & (HCACHE_SEEN | HCACHE_ANSWERED | HCACHE_FLAGGED | HCACHE_DELETED |
			       HCACHE_DRAFT);
	if (r->flags & STORE_PASSED)
		m->keywords = xasprintf("$Forwarded%s%s", r->keywords ? " " : "",
					r->keywords ? r->keywords : "");
	else if (r->keywords != NULL)
		m->keywords = xstrdup(r->keywords);
	m->size = r->size;
	m->internaldate = r->internaldate;
	m->envelope = r->envelope;
	m->threadkey = r->threadkey;
	m->threadkey_len = r->threadkey ? imap_threadkey_len(r->threadkey) : 0;
}

struct loading {
	struct imap_rows *rows;
	size_t cap;
};

static int cache_row(const struct hcache_msg *m, void *ctx)
{
	struct loading *l = ctx;
	struct imap_rows *rows = l->rows;
	struct imap_row *r;

	if (rows->n == l->cap) {
		l->cap *= 2;
		rows->v = xreallocarray(rows->v, l->cap, sizeof(*rows->v));
	}
	r = &rows->v[rows->n++];
	memset(r, 0, sizeof(*r));

	r->uid = m->uid;
	r->flags = m->flags;
	/* $Forwarded is a flag here, the rest the row's keywords. */
	for (const char *p = m->keywords; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len == 10 && strncasecmp(p, "$Forwarded", 10) == 0) {
			r->flags |= STORE_PASSED;
		} else if (len > 0) {
			char *kw = r->keywords ? xasprintf("%s %.*s", r->keywords, (int)len, p)
					       : xstrndup(p, len);

			imap_str_unref(r->keywords);
			r->keywords = imap_str_of(kw);
			free(kw);
		}
		p += len;
		p += strspn(p, " ");
	}
	r->size = m->size;
	r->internaldate = m->internaldate;
	r->cached = true;	/* the envelope stays there */
	/* A record of version 2 (no thread key) comes with its envelope:
	 * the key is made once, and imap_cache_load writes it back. */
	if (m->envelope != NULL) {
		struct sbuf key = SBUF_INIT;

		if (envelope_thread_key(m->envelope, strlen(m->envelope), &key) == 0) {
			r->envelope = imap_str_of(m->envelope);
			r->threadkey = imap_str_new(key.buf, key.len);
		}
		sbuf_release(&key);
	}
	return 0;
}

/* Drops from memory the headers the cache holds (after writing them). */
static void forget_cached(struct imap_rows *rows)
{
	for (size_t k = 0; k < rows->n; k++) {
		struct imap_row *r = &rows->v[k];

		if (r->envelope == NULL)
			continue;
		imap_str_unref(r->envelope);
		imap_str_unref(r->threadkey);
		r->envelope = r->threadkey = NULL;
		r->cached = true;
	}
}

/* Writes back the thread keys made for records of version 2, once, in
 * transactions of UPGRADE_BATCH (a write transaction holds its pages in
 * memory). */
#define UPGRADE_BATCH 4096
static void upgrade_keys(struct imap_mailbox *im, struct imap_rows *rows)
{
	struct hcache_msg *put = xcalloc(UPGRADE_BATCH, sizeof(*put));
	size_t n = 0;
	char *err = NULL;

	for (size_t k = 0; k <= rows->n && im->hc != NULL; k++) {
		if (k < rows->n && rows->v[k].threadkey != NULL)
			row_to_cache(&rows->v[k], &put[n++]);
		if (n == UPGRADE_BATCH || (k == rows->n && n > 0)) {
			if (hcache_put(im->hc, im->acct.url.folder, put, n, &err) < 0)
				cache_fail(im, err);
			for (size_t j = 0; j < n; j++)
				free(put[j].keywords);
			n = 0;
		}
	}
	for (size_t j = 0; j < n; j++)
		free(put[j].keywords);
	free(put);
	if (im->hc != NULL)
		forget_cached(rows);
}

uint32_t imap_cache_load(struct imap_mailbox *im, struct imap_rows *mine)
{
	struct hcache_folder f;
	struct loading l = { mine, 0 };
	char *err = NULL;
	int r;

	if (im->hc == NULL)
		return 0;
	r = hcache_folder_get(im->hc, im->acct.url.folder, &f, &err);
	if (r > 0) {
		/* One walk, no count first: the rows number less than UIDNEXT
		 * (pages of the array never filled are never touched). */
		l.cap = f.uidnext < 1024 ? 1024 : f.uidnext > (1u << 24) ? 1u << 24 : f.uidnext;
		mine->v = xmalloc(l.cap * sizeof(*mine->v));
		if (hcache_walk(im->hc, im->acct.url.folder,
				HCACHE_WANT_KEYWORDS | HCACHE_WANT_ENVELOPE_IF_NO_KEY, cache_row, &l,
				&err) == 0) {
			upgrade_keys(im, mine);
			im->modseq = f.highestmodseq;
			return f.uidvalidity;
		}
	}
	if (err != NULL)
		cache_fail(im, err);
	imap_rows_free(mine);
	return 0;
}

void imap_cache_known(struct imap_mailbox *im, struct imap_pending *p)
{
	struct hcache_folder f;
	char *err = NULL;

	p->uidvalidity = p->last_uid = 0;
	p->modseq = 0;
	if (im->hc != NULL && hcache_folder_get(im->hc, im->acct.url.folder, &f, &err) > 0) {
		p->uidvalidity = f.uidvalidity;
		p->last_uid = f.uidnext > 0 ? f.uidnext - 1 : 0;
		p->modseq = f.highestmodseq;
	}
	free(err);	/* the load that follows meets it again */
}

/* Tells the cache how old became now; fetched[0..n_fetched) (ascending)
 * are the UIDs whose headers were fetched.  The merge moved old's
 * headers into now, so only that list tells which rows the cache lacks:
 * a warm open rewrites none.  Whether the cache holds now's headers. */
static bool cache_update(struct imap_mailbox *im, const struct imap_rows *old,
			 const struct imap_rows *now, const uint32_t *fetched, size_t n_fetched)
{
	struct hcache_msg *put = xcalloc(now->n + 1, sizeof(*put));
	struct hcache_msg *fl = xcalloc(now->n + 1, sizeof(*fl));
	uint32_t *gone = xcalloc(old->n + 1, sizeof(*gone));
	size_t n_put = 0, n_fl = 0, n_gone = 0, o = 0;
	const char *folder = im->acct.url.folder;
	char *err = NULL;
	bool ok = false;

	if (im->hc == NULL)
		goto done;
	/* Both are in UID order: one walk side by side (a search per row
	 * cost 100,000 binary searches on each reopen). */
	for (size_t k = 0; k < now->n; k++) {
		const struct imap_row *r = &now->v[k];
		const struct imap_row *was;

		while (o < old->n && old->v[o].uid < r->uid)
			gone[n_gone++] = old->v[o++].uid;
		was = o < old->n && old->v[o].uid == r->uid ? &old->v[o++] : NULL;
		/* A row written during the fill has no envelope here now. */
		if (r->envelope != NULL && (was == NULL || remote_uid_in(fetched, n_fetched, r->uid)))
			row_to_cache(r, &put[n_put++]);
		else if (was != NULL && (was->flags != r->flags ||
			 imap_keywords_differ(was->keywords, r->keywords)))
			row_to_cache(r, &fl[n_fl++]);
	}
	while (o < old->n)
		gone[n_gone++] = old->v[o++].uid;
	if ((n_put && hcache_put(im->hc, folder, put, n_put, &err) < 0) ||
	    (n_fl && hcache_set_flags(im->hc, folder, fl, n_fl, &err) < 0) ||
	    (n_gone && hcache_remove(im->hc, folder, gone, n_gone, &err) < 0))
		cache_fail(im, err);
	else
		ok = true;
done:
	for (size_t k = 0; k < n_put; k++)
		free(put[k].keywords);
	for (size_t k = 0; k < n_fl; k++)
		free(fl[k].keywords);
	free(put);
	free(fl);
	free(gone);
	return ok;
}

/* The cache's HIGHESTMODSEQ once the rows it covers are in. */
static void cache_numbers(struct imap_mailbox *im, uint32_t uidnext)
{
	char *err = NULL;

	if (im->hc != NULL &&
	    hcache_folder_set(im->hc, im->acct.url.folder, uidnext, im->modseq, &err) < 0)
		cache_fail(im, err);
}

/* ---- merging what the server said into the rows ---- */

static int cmp_range(const void *a, const void *b)
{
	uint32_t x = ((const struct remote_range *)a)->first;
	uint32_t y = ((const struct remote_range *)b)->first;

	return x < y ? -1 : x > y;
}

/* Whether uid is in one of the ranges (sorted by first). */
static bool in_ranges(const struct remote_range *v, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].first <= uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges may overlap: look back while one could still hold uid. */
	for (size_t k = lo; k > 0; k--)
		if (v[k - 1].last >= uid)
			return true;
	return false;
}

struct imap_rows imap_rows_merge(struct imap_rows *mine, const struct remote_msg *msgs, size_t n,
				 enum imap_merge mode, struct remote_range *ranges, size_t n_ranges,
				 uint32_t **missing_r, size_t *n_missing_r)
{
	struct imap_rows next = { xcalloc(mine->n + n + 1, sizeof(*next.v)), 0 };
	uint32_t *missing = xcalloc(n + 1, sizeof(*missing));
	size_t i = 0, j = 0, n_missing = 0;

	if (n_ranges > 0)
		qsort(ranges, n_ranges, sizeof(*ranges), cmp_range);
	while (i < mine->n || j < n) {
		struct imap_row *r = i < mine->n ? &mine->v[i] : NULL;
		const struct remote_msg *m = j < n ? &msgs[j] : NULL;

		if (r != NULL && (m == NULL || r->uid < m->uid)) {
			i++;
			if (mode != IMAP_MERGE_DELTA || in_ranges(ranges, n_ranges, r->uid))
				continue;
			next.v[next.n++] = *r;
			r->envelope = r->threadkey = r->keywords = NULL;	/* moved */
		} else if (m != NULL && (r == NULL || m->uid < r->uid)) {
			j++;
			/* A FETCH may repeat a UID (an unsolicited one too). */
			if (next.n > 0 && next.v[next.n - 1].uid == m->uid)
				continue;
			next.v[next.n++] = (struct imap_row){
				.uid = m->uid, .flags = m->flags,
				.keywords = imap_str_of(m->keywords)
			};
			missing[n_missing++] = m->uid;
		} else {
			i++, j++;
			next.v[next.n] = *r;
			r->envelope = r->threadkey = r->keywords = NULL;	/* moved */
			if (mode != IMAP_MERGE_ALL_UIDS) {
				next.v[next.n].flags = m->flags;
				imap_str_unref(next.v[next.n].keywords);
				next.v[next.n].keywords = imap_str_of(m->keywords);
			}
			/* Known but never given headers (a fill cut short). */
			if (!imap_row_has_headers(&next.v[next.n]))
				missing[n_missing++] = m->uid;
			next.n++;
		}
	}
	*missing_r = missing;
	*n_missing_r = n_missing;
	return next;
}

/* ---- the headers of new UIDs, newest first ---- */

/* Publishes the rows that have headers (a fill under way) and the
 * progress. */
static void fill_publish(struct imap_mailbox *im, const struct imap_rows *next, size_t done,
			 size_t total)
{
	imap_publish_rows(im, next, true);
	imap_set_status(im, true, xasprintf("Fetching headers %zu/%zu", done, total));
}

/* Drops the rows that got no headers and were not known before (expunged
 * between the two fetches, or not fetched yet when the fill stopped). */
static void drop_headless(struct imap_rows *next)
{
	size_t m = 0;

	for (size_t k = 0; k < next->n; k++) {
		if (imap_row_has_headers(&next->v[k]))
			next->v[m++] = next->v[k];
		else
			imap_str_unref(next->v[k].keywords);
	}
	next->n = m;
}

/* r's headers from a FETCH: the envelope and its thread key, made here
 * on the worker (the cache keeps it: the UI threads without parsing). */
static void take_headers(struct imap_row *r, const char *envelope, struct sbuf *tmp)
{
	imap_str_unref(r->envelope);
	imap_str_unref(r->threadkey);
	r->envelope = imap_str_of(envelope);
	r->threadkey = NULL;
	r->cached = false;
	sbuf_reset(tmp);
	if (envelope != NULL && envelope_thread_key(envelope, strlen(envelope), tmp) == 0)
		r->threadkey = imap_str_new(tmp->buf, tmp->len);
}

/* Writes the headers of next's rows at[0..n) to the cache and drops them
 * from memory (they stay in memory if the cache fails). */
static void fill_cache(struct imap_mailbox *im, struct imap_rows *next, const size_t *at, size_t n)
{
	struct hcache_msg *put = xcalloc(n + 1, sizeof(*put));
	size_t n_put = 0;
	char *err = NULL;

	for (size_t k = 0; k < n; k++)
		if (next->v[at[k]].envelope != NULL)
			row_to_cache(&next->v[at[k]], &put[n_put++]);
	if (im->hc != NULL && n_put > 0 &&
	    hcache_put(im->hc, im->acct.url.folder, put, n_put, &err) < 0) {
		cache_fail(im, err);
	} else if (im->hc != NULL) {
		for (size_t k = 0; k < n; k++) {
			struct imap_row *r = &next->v[at[k]];

			if (r->envelope == NULL)
				continue;	/* none came: not cached */
			imap_str_unref(r->envelope);
			imap_str_unref(r->threadkey);
			r->envelope = r->threadkey = NULL;
			r->cached = true;
		}
	}
	for (size_t k = 0; k < n_put; k++)
		free(put[k].keywords);
	free(put);
}

/* Fetches the headers of missing[0..n) into next, highest UIDs first.
 * 0, or -1 with *error_r (next keeps what came). */
static int fill(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *next,
		const uint32_t *missing, size_t n, char **error_r)
{
	struct sbuf tmp = SBUF_INIT;
	int64_t last = 0;
	size_t done = 0, *pending = xcalloc(FILL_CACHE_ROWS + REMOTE_FETCH_BATCH, sizeof(*pending));
	size_t n_pending = 0;
	int r = 0;

	for (size_t end = n; end > 0;) {
		size_t start = end > REMOTE_FETCH_BATCH ? end - REMOTE_FETCH_BATCH : 0;
		struct remote_msg *got;
		size_t n_got;

		if (remote_fetch(c, missing + start, end - start, true, &got, &n_got, error_r) < 0) {
			r = -1;
			break;
		}
		for (size_t j = 0; j < n_got; j++) {
			long at = imap_rows_find(next, got[j].uid);

			if (at < 0)
				continue;
			next->v[at].flags = got[j].flags;
			imap_str_unref(next->v[at].keywords);
			next->v[at].keywords = imap_str_of(got[j].keywords);
			next->v[at].size = got[j].size;
			next->v[at].internaldate = got[j].internaldate;
			take_headers(&next->v[at], got[j].envelope, &tmp);
			if (n_pending < FILL_CACHE_ROWS + REMOTE_FETCH_BATCH)
				pending[n_pending++] = (size_t)at;
		}
		remote_msgs_free(got, n_got);
		done += end - start;
		end = start;
		if (end == 0)
			break;
		if (n_pending >= FILL_CACHE_ROWS) {
			fill_cache(im, next, pending, n_pending);
			n_pending = 0;
		}
		/* The first screenful at once, then about once a second. */
		if (clock_monotonic_ms() - last >= FILL_PUBLISH_MS) {
			fill_publish(im, next, done, n);
			last = clock_monotonic_ms();
		}
		if (imap_serve(c, im, NULL, error_r) < 0) {
			r = -1;
			break;
		}
	}
	/* The rest goes with the fill's end (cache_update, one write). */
	free(pending);
	sbuf_release(&tmp);
	return r;
}

/* Makes mine next (fetched as cache_update's): the cache learns the
 * difference, and the headers it now holds leave memory. */
static void adopt(struct imap_mailbox *im, struct imap_rows *mine, struct imap_rows *next,
		  const uint32_t *fetched, size_t n_fetched)
{
	bool cached = cache_update(im, mine, next, fetched, n_fetched);

	imap_rows_free(mine);
	*mine = *next;
	*next = (struct imap_rows){ NULL, 0 };
	if (cached)
		forget_cached(mine);
}

/* The headers of missing, then next becomes mine; on failure mine keeps
 * the rows that got headers (and the cache them) and the stored
 * HIGHESTMODSEQ stays the old one.  0, or -1 with *error_r. */
static int complete(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		    struct imap_rows *next, uint32_t *missing, size_t n_missing,
		    uint64_t modseq, char **error_r)
{
	int r = fill(c, im, next, missing, n_missing, error_r);

	drop_headless(next);
	/* A few new rows are shown before the cache is written (a commit,
	 * an fsync: ~5-30 ms); the publish that follows the write is the
	 * same rows, no news for the UI.  Not a long fill's end: the UI would
	 * thread 100,000 rows while the worker writes, a peak ~5 MB higher. */
	if (n_missing > 0 && n_missing <= FILL_CACHE_ROWS && !im->target)
		imap_publish(im, next);
	adopt(im, mine, next, missing, n_missing);
	free(missing);
	/* A long fill's batches were freed, many in this thread's own
	 * malloc arena: given back before the UI threads every row, so the
	 * peak of a first open is the threading's alone. */
	if (n_missing > FILL_CACHE_ROWS)
		malloc_trim(0);
	if (mine->n > 0 && mine->v[mine->n - 1].uid >= im->uidnext)
		im->uidnext = mine->v[mine->n - 1].uid + 1;
	if (r == 0 && modseq != im->modseq) {
		im->modseq = modseq;
		cache_numbers(im, im->uidnext);
	}
	return r;
}

static uint64_t max_modseq(uint64_t m, const struct remote_msg *msgs, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (msgs[k].modseq > m)
			m = msgs[k].modseq;
	return m;
}

/* One range of scan_all: UID FETCH first:last (FLAGS) (last 0: "*"),
 * appended to *all (*n_all, room for *cap).  What the server says outside
 * the range (an unsolicited FETCH, "N:*" past the last UID) is left to
 * its own range, so *all stays in UID order.  0, or -1 with *error_r. */
static int scan_range(struct remote_conn *c, uint32_t first, uint32_t last,
		      struct remote_msg **all, size_t *n_all, size_t *cap, char **error_r)
{
	struct remote_msg *got;
	size_t n_got;

	if (remote_fetch_range(c, first, last, &got, &n_got, error_r) < 0)
		return -1;
	for (size_t k = 0; k < n_got; k++) {
		if (got[k].uid < first || (last != 0 && got[k].uid > last)) {
			free(got[k].keywords);
			continue;
		}
		if (*n_all == *cap) {
			*cap = *cap * 2 + SCAN_BATCH;
			*all = xreallocarray(*all, *cap, sizeof(**all));
		}
		(*all)[(*n_all)++] = got[k];	/* its keywords move */
	}
	free(got);	/* no envelopes: FLAGS only */
	return 0;
}

/* The whole folder's UIDs and flags (no CONDSTORE, no known state), asked
 * in UID ranges of about SCAN_BATCH messages: libetpan holds a FETCH
 * reply whole (~0.5 KB a message: one UID FETCH 1:* of 100,000 held
 * ~50 MB), each range's is let go before the next, and what it said is
 * kept compact (a remote_msg, ~40 bytes) for the one merge at the end,
 * which leaves mine as it was until then (the cache's difference, and a
 * failure, want the old rows).  The known rows cut the ranges; above
 * them, ranges SCAN_BATCH UIDs wide up to uidnext (0: unknown), then the
 * rest ("N:*"). */
static int scan_all(struct remote_conn *c, struct imap_rows *mine, uint32_t uidnext,
		    struct imap_rows *next_r, uint32_t **missing_r, size_t *n_missing_r,
		    char **error_r)
{
	struct remote_msg *all = NULL;
	size_t n_all = 0, cap = 0, k = SCAN_BATCH;
	uint32_t first = 1;
	int r = 0;

	/* Each range ends at the last known UID of SCAN_BATCH rows. */
	for (; r == 0 && k <= mine->n; first = mine->v[k - 1].uid + 1, k += SCAN_BATCH)
		r = scan_range(c, first, mine->v[k - 1].uid, &all, &n_all, &cap, error_r);
	for (; r == 0 && uidnext > SCAN_BATCH && first < uidnext - SCAN_BATCH; first += SCAN_BATCH)
		r = scan_range(c, first, first + SCAN_BATCH - 1, &all, &n_all, &cap, error_r);
	if (r == 0)
		r = scan_range(c, first, 0, &all, &n_all, &cap, error_r);
	if (r == 0)
		*next_r = imap_rows_merge(mine, all, n_all, IMAP_MERGE_ALL_FLAGS, NULL, 0,
					  missing_r, n_missing_r);
	remote_msgs_free(all, n_all);
	return r;
}

/* The UIDs from first on, merged into next (new ones without headers,
 * added to *missing): mail that came while away, which a QRESYNC answer
 * may leave out (Dovecot tells only of changes to the known UIDs).  One
 * FETCH of what came, where UID SEARCH ALL would list the whole folder
 * (100,000 UIDs: ~0.1 s of the client's time).  0, or -1 with *error_r. */
static int fetch_new(struct remote_conn *c, struct imap_rows *next, uint32_t first,
		     uint32_t **missing, size_t *n_missing, char **error_r)
{
	struct remote_msg *got;
	struct imap_rows merged;
	uint32_t *more;
	size_t n_got, n_more;

	if (remote_fetch_range(c, first, 0, &got, &n_got, error_r) < 0)
		return -1;
	merged = imap_rows_merge(next, got, n_got, IMAP_MERGE_DELTA, NULL, 0, &more, &n_more);
	remote_msgs_free(got, n_got);
	imap_rows_free(next);
	*next = merged;
	*missing = xreallocarray(*missing, *n_missing + n_more + 1, sizeof(**missing));
	memcpy(*missing + *n_missing, more, n_more * sizeof(*more));
	*n_missing += n_more;
	free(more);
	return 0;
}

/* Which UIDs exist, when the count says a change was missed: UID SEARCH
 * ALL, merged into next (which keeps its flags). */
static int settle_uids(struct remote_conn *c, struct imap_rows *next, uint32_t **missing,
		       size_t *n_missing, char **error_r)
{
	uint32_t *uids, *more;
	size_t n, n_more;
	struct remote_msg *as_msgs;
	struct imap_rows settled;

	if (remote_search_all(c, &uids, &n, error_r) < 0)
		return -1;
	as_msgs = xcalloc(n + 1, sizeof(*as_msgs));
	for (size_t k = 0; k < n; k++)
		as_msgs[k].uid = uids[k];
	free(uids);
	settled = imap_rows_merge(next, as_msgs, n, IMAP_MERGE_ALL_UIDS, NULL, 0, &more, &n_more);
	free(as_msgs);
	imap_rows_free(next);
	*next = settled;
	/* Missing: the UIDs still without headers (the earlier list may
	 * name some that are gone now). */
	free(*missing);
	free(more);
	*missing = xcalloc(next->n + 1, sizeof(**missing));
	*n_missing = 0;
	for (size_t k = 0; k < next->n; k++)
		if (!imap_row_has_headers(&next->v[k]))
			(*missing)[(*n_missing)++] = next->v[k].uid;
	return 0;
}

int imap_open_folder(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		     uint32_t *known_validity, const struct imap_pending *pending,
		     char **note_r, char **error_r)
{
	struct remote_selected sel;
	struct imap_rows next = { NULL, 0 };
	uint32_t *missing = NULL, last_known;
	size_t n_missing = 0;
	uint64_t modseq;
	bool resynced;
	char *err = NULL;
	int r;

	if (pending != NULL) {
		/* The SELECT goes out while the rows load (~0.1 s for
		 * 100,000; the server's answer takes as long), named after
		 * the cache's record; the rows are awaited once it is in. */
		r = remote_select_upto(c, im->acct.url.folder, pending->uidvalidity,
				       pending->modseq, pending->last_uid, &sel, error_r);
		pending->join(pending->ctx, r == 0, mine, known_validity);
	} else {
		uint32_t *known = xcalloc(mine->n + 1, sizeof(*known));

		for (size_t k = 0; k < mine->n; k++)
			known[k] = mine->v[k].uid;
		r = remote_select_since(c, im->acct.url.folder, *known_validity, im->modseq,
					known, mine->n, &sel, error_r);
		free(known);
	}
	if (r < 0)
		return -1;
	/* A resync answers the state the SELECT named: with rows that are
	 * not that state (the load failed), the changes are asked for. */
	resynced = sel.resynced && (pending == NULL || (*known_validity == pending->uidvalidity &&
							   im->modseq == pending->modseq));
	last_known = mine->n > 0 ? mine->v[mine->n - 1].uid : 0;
	if (*known_validity != 0 && sel.uidvalidity != *known_validity) {
		/* The old UIDs mean nothing now, nor the old bodies. */
		imap_rows_free(mine);
		last_known = 0;
		im->modseq = 0;
		imap_publish_reset(im);
		imap_bodies_drop(im, sel.uidvalidity);
		*note_r = xasprintf("%s: UIDVALIDITY changed, messages read again",
				    im->acct.url.folder);
	}
	*known_validity = sel.uidvalidity;
	/* The cache drops the folder's entries of another UIDVALIDITY. */
	if (im->hc != NULL &&
	    hcache_folder_open(im->hc, im->acct.url.folder, sel.uidvalidity, NULL, &err) < 0)
		cache_fail(im, err);
	pthread_mutex_lock(&im->lock);
	im->uidvalidity = sel.uidvalidity;
	pthread_mutex_unlock(&im->lock);

	modseq = sel.highestmodseq;
	if (resynced) {
		next = imap_rows_merge(mine, sel.changed, sel.n_changed, IMAP_MERGE_DELTA, sel.vanished,
			     sel.n_vanished, &missing, &n_missing);
	} else if (modseq != 0 && im->modseq != 0 && modseq == im->modseq) {
		next = imap_rows_merge(mine, NULL, 0, IMAP_MERGE_DELTA, NULL, 0, &missing, &n_missing);
	} else if (modseq != 0 && im->modseq != 0) {
		struct remote_msg *ch;
		struct remote_range *van;
		size_t n_ch, n_van;

		if (remote_fetch_changed(c, im->modseq, &ch, &n_ch, &van, &n_van, error_r) < 0)
			goto fail;
		next = imap_rows_merge(mine, ch, n_ch, IMAP_MERGE_DELTA, van, n_van, &missing, &n_missing);
		modseq = max_modseq(modseq, ch, n_ch);
		remote_msgs_free(ch, n_ch);
		free(van);
	} else if (mine->n == 0) {
		/* No rows yet: their UIDs alone (UID SEARCH ALL), the flags
		 * come with the headers.  libetpan holds a reply whole: a
		 * FLAGS scan of 100,000 messages cost ~50 MB of it. */
		if (settle_uids(c, &next, &missing, &n_missing, error_r) < 0)
			goto fail;
	} else if (scan_all(c, mine, sel.uidnext, &next, &missing, &n_missing, error_r) < 0) {
		goto fail;
	}
	/* Fewer rows than EXISTS and UIDs given out past the last known:
	 * new mail the answer did not name. */
	if (next.n < sel.exists && last_known > 0 && sel.uidnext > last_known + 1 &&
	    fetch_new(c, &next, last_known + 1, &missing, &n_missing, error_r) < 0)
		goto fail;
	/* The rows should number EXISTS now.  When they do not (a VANISHED
	 * libetpan dropped, an expunge CONDSTORE alone does not report, mail
	 * that came after the SELECT), UID SEARCH ALL settles the UIDs. */
	if (next.n != sel.exists && settle_uids(c, &next, &missing, &n_missing, error_r) < 0)
		goto fail;
	im->uidnext = sel.uidnext;
	r = complete(c, im, mine, &next, missing, n_missing, modseq, error_r);
	remote_selected_clear(&sel);
	return r;
fail:
	free(missing);
	imap_rows_free(&next);
	remote_selected_clear(&sel);
	return -1;
}

int imap_refresh(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		 bool expunged, char **error_r)
{
	struct imap_rows next;
	uint32_t *missing;
	size_t n_missing;
	uint64_t modseq = im->modseq;

	if (remote_condstore(c) && im->modseq != 0) {
		struct remote_msg *ch;
		struct remote_range *van;
		size_t n_ch, n_van;

		if (remote_fetch_changed(c, im->modseq, &ch, &n_ch, &van, &n_van, error_r) < 0)
			return -1;
		next = imap_rows_merge(mine, ch, n_ch, IMAP_MERGE_DELTA, van, n_van, &missing, &n_missing);
		modseq = max_modseq(modseq, ch, n_ch);
		remote_msgs_free(ch, n_ch);
		free(van);
		/* CONDSTORE alone does not say which UIDs went. */
		if (expunged && !remote_qresync(c) &&
		    settle_uids(c, &next, &missing, &n_missing, error_r) < 0) {
			free(missing);
			imap_rows_free(&next);
			return -1;
		}
	} else if (scan_all(c, mine, 0, &next, &missing, &n_missing, error_r) < 0) {
		return -1;
	}
	return complete(c, im, mine, &next, missing, n_missing, modseq, error_r);
}
