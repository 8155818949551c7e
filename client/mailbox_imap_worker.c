/* mailbox_imap_worker: the IMAP driver's worker thread (see
 * client/mailbox_imap.c for the whole picture).  It owns the connection
 * and the header cache: fills the rows from the cache, connects with
 * backoff, SELECTs, fetches what changed, serves the UI's one request at
 * a time, IDLEs, and publishes each new set of rows under the lock. */
#include "client/mailbox_imap-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long an IDLE lasts before it is renewed (RFC 2177: under 29 min),
 * and the rescan period of a server without IDLE. */
#define IDLE_RENEW_MS (25 * 60 * 1000)
#define POLL_MS (30 * 1000)
#define BACKOFF_MAX_S 60

void imap_rows_free(struct imap_rows *r)
{
	for (size_t k = 0; k < r->n; k++)
		free(r->v[k].envelope);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

long imap_rows_find(const struct imap_rows *r, uint32_t uid)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].uid == uid)
			return (long)mid;
		if (r->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void imap_poke(int fd)
{
	char c = 1;

	if (write(fd, &c, 1) < 0 && errno != EAGAIN) {
		/* A full pipe already says there is news. */
	}
}

void imap_drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- the worker ---- */

static void set_status(struct imap_mailbox *im, bool online, char *text)
{
	pthread_mutex_lock(&im->lock);
	free(im->status);
	im->status = text;
	im->online = online;
	/* "Connecting" is the one state that is not an outcome. */
	if (online || strncmp(text, "Connecting", 10) != 0) {
		im->tried = true;
		pthread_cond_broadcast(&im->cond);
	}
	pthread_mutex_unlock(&im->lock);
	imap_poke(im->notify[1]);
}

static void publish(struct imap_mailbox *im, const struct imap_rows *mine)
{
	struct imap_rows copy = { xcalloc(mine->n + 1, sizeof(*copy.v)), mine->n };

	for (size_t k = 0; k < mine->n; k++) {
		copy.v[k] = mine->v[k];
		copy.v[k].envelope = mine->v[k].envelope ? xstrdup(mine->v[k].envelope) : NULL;
	}
	pthread_mutex_lock(&im->lock);
	imap_rows_free(&im->pub);
	im->pub = copy;
	im->pub_new = true;
	pthread_mutex_unlock(&im->lock);
	imap_poke(im->notify[1]);
}

/* ---- the header cache (remote/hcache.h), on the worker only ----
 * Rows come from it at once, before the connection is up; after each
 * refresh it learns what changed, one transaction per kind of change.
 * A cache that fails is dropped for this session: it only saves time. */

static void cache_fail(struct imap_mailbox *im, char *err)
{
	free(err);
	hcache_close(&im->hc);
}

static void row_to_cache(const struct imap_row *r, struct hcache_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->uid = r->uid;
	m->flags = r->flags & (HCACHE_SEEN | HCACHE_ANSWERED | HCACHE_FLAGGED | HCACHE_DELETED |
			       HCACHE_DRAFT);
	m->keywords = r->flags & STORE_PASSED ? (char *)"$Forwarded" : NULL;
	m->size = r->size;
	m->internaldate = r->internaldate;
	m->envelope = r->envelope;
}

static int cache_row(const struct hcache_msg *m, void *ctx)
{
	struct imap_rows *rows = ctx;
	struct imap_row *r = &rows->v[rows->n++];

	r->uid = m->uid;
	r->flags = m->flags | (m->keywords && strstr(m->keywords, "$Forwarded") ? STORE_PASSED : 0);
	r->size = m->size;
	r->internaldate = m->internaldate;
	r->envelope = m->envelope ? xstrdup(m->envelope) : NULL;
	return 0;
}

/* The cached rows of the folder into mine (empty); its UIDVALIDITY, 0
 * when it has none. */
static uint32_t cache_load(struct imap_mailbox *im, struct imap_rows *mine)
{
	struct hcache_folder f;
	char *err = NULL;
	long n;
	int r;

	if (im->hc == NULL)
		return 0;
	r = hcache_folder_get(im->hc, im->acct.url.folder, &f, &err);
	n = r > 0 ? hcache_count(im->hc, im->acct.url.folder, &err) : -1;
	if (r > 0 && n >= 0) {
		mine->v = xcalloc((size_t)n + 1, sizeof(*mine->v));
		/* A row the cache adds meanwhile would overflow: one process
		 * per folder writes it, this one, and not yet. */
		if (hcache_foreach(im->hc, im->acct.url.folder, cache_row, mine, &err) == 0)
			return f.uidvalidity;
	}
	if (err != NULL)
		cache_fail(im, err);
	imap_rows_free(mine);
	return 0;
}

/* Tells the cache how old became now. */
static void cache_update(struct imap_mailbox *im, const struct imap_rows *old,
			 const struct imap_rows *now)
{
	struct hcache_msg *put = xcalloc(now->n + 1, sizeof(*put));
	struct hcache_msg *fl = xcalloc(now->n + 1, sizeof(*fl));
	uint32_t *gone = xcalloc(old->n + 1, sizeof(*gone));
	size_t n_put = 0, n_fl = 0, n_gone = 0;
	const char *folder = im->acct.url.folder;
	char *err = NULL;

	if (im->hc == NULL)
		goto done;
	for (size_t k = 0; k < now->n; k++) {
		long at = imap_rows_find(old, now->v[k].uid);

		if (at < 0)
			row_to_cache(&now->v[k], &put[n_put++]);
		else if (old->v[at].flags != now->v[k].flags)
			row_to_cache(&now->v[k], &fl[n_fl++]);
	}
	for (size_t k = 0; k < old->n; k++)
		if (imap_rows_find(now, old->v[k].uid) < 0)
			gone[n_gone++] = old->v[k].uid;
	if ((n_put && hcache_put(im->hc, folder, put, n_put, &err) < 0) ||
	    (n_fl && hcache_set_flags(im->hc, folder, fl, n_fl, &err) < 0) ||
	    (n_gone && hcache_remove(im->hc, folder, gone, n_gone, &err) < 0))
		cache_fail(im, err);
done:
	free(put);
	free(fl);
	free(gone);
}

/* Brings mine up to date: the flags of every message, the headers of
 * those not known yet (in bounded batches).  0, or -1 with *error_r. */
static int refresh(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		   char **error_r)
{
	struct remote_msg *all = NULL;
	size_t n_all = 0, n_missing = 0, m = 0;
	struct imap_rows next;
	uint32_t *missing;

	if (remote_fetch(c, NULL, 0, false, &all, &n_all, error_r) < 0)
		return -1;
	next.v = xcalloc(n_all + 1, sizeof(*next.v));
	next.n = n_all;
	missing = xcalloc(n_all + 1, sizeof(*missing));
	for (size_t k = 0; k < n_all; k++) {
		long old = imap_rows_find(mine, all[k].uid);

		if (old >= 0) {
			next.v[k] = mine->v[old];
			mine->v[old].envelope = NULL;	/* moved */
		} else {
			next.v[k].uid = all[k].uid;
			missing[n_missing++] = all[k].uid;
		}
		next.v[k].flags = all[k].flags;
	}
	remote_msgs_free(all, n_all);
	for (size_t k = 0; k < n_missing; k += REMOTE_FETCH_BATCH) {
		size_t len = n_missing - k < REMOTE_FETCH_BATCH ? n_missing - k : REMOTE_FETCH_BATCH;
		struct remote_msg *got;
		size_t n_got;

		if (remote_fetch(c, missing + k, len, true, &got, &n_got, error_r) < 0) {
			free(missing);
			imap_rows_free(&next);
			return -1;
		}
		for (size_t j = 0; j < n_got; j++) {
			long at = imap_rows_find(&next, got[j].uid);

			if (at < 0)
				continue;
			next.v[at].flags = got[j].flags;
			next.v[at].size = got[j].size;
			next.v[at].internaldate = got[j].internaldate;
			next.v[at].envelope = got[j].envelope;
			got[j].envelope = NULL;
		}
		remote_msgs_free(got, n_got);
	}
	free(missing);
	/* A message expunged between the two fetches has no headers. */
	for (size_t k = 0; k < next.n; k++)
		if (next.v[k].envelope != NULL || imap_rows_find(mine, next.v[k].uid) >= 0)
			next.v[m++] = next.v[k];
	next.n = m;
	cache_update(im, mine, &next);
	imap_rows_free(mine);
	*mine = next;
	return 0;
}

void imap_keep_folders(struct imap_mailbox *im, struct remote_folder *list, size_t n)
{
	pthread_mutex_lock(&im->lock);
	remote_folders_free(im->folders, im->n_folders);
	im->folders = list;
	im->n_folders = n;
	im->have_folders = true;
	pthread_mutex_unlock(&im->lock);
	imap_poke(im->notify[1]);	/* a sidebar shows it */
}

/* The account's folders with their counts, kept for the UI. */
static int list_folders(struct remote_conn *c, struct imap_mailbox *im, char **error_r)
{
	struct remote_folder *list;
	size_t n;

	if (remote_list_folders(c, &list, &n, error_r) < 0)
		return -1;
	imap_keep_folders(im, list, n);
	return 0;
}

static int do_request(struct remote_conn *c, struct imap_mailbox *im, struct imap_req *rq)
{
	switch (rq->kind) {
	case REQ_READ:
		return remote_fetch_body(c, rq->uids[0], rq->out, &rq->error);
	case REQ_FLAGS:
		return remote_store_flags(c, rq->uids, rq->n, rq->op, rq->flags, &rq->error);
	case REQ_EXPUNGE:
		return remote_expunge(c, rq->uids, rq->n, &rq->error);
	case REQ_APPEND:
		return remote_append(c, rq->folder ? rq->folder : im->acct.url.folder, rq->data,
				     rq->len, rq->flags, &rq->error);
	case REQ_COPY:
		return remote_copy(c, rq->uids, rq->n, rq->folder, rq->move, &rq->error);
	case REQ_LIST:
		return list_folders(c, im, &rq->error);
	}
	return -1;
}

static void finish(struct imap_mailbox *im, struct imap_req *rq, int ret)
{
	pthread_mutex_lock(&im->lock);
	rq->ret = ret;
	rq->done = true;
	im->req = NULL;
	pthread_cond_broadcast(&im->cond);
	pthread_mutex_unlock(&im->lock);
}

/* Waits in IDLE (or for POLL_MS without it) until the server has news,
 * the UI wakes the worker, or the renewal time.  0, or -1 with *error_r. */
static int wait_news(struct remote_conn *c, struct imap_mailbox *im, char **error_r)
{
	bool idle = remote_has_cap(c, "IDLE");
	struct remote_idle_news news = { 0 };
	struct pollfd pf[2] = { { im->wake[0], POLLIN, 0 }, { remote_fd(c), POLLIN, 0 } };

	if (idle && remote_idle_start(c, &news, error_r) < 0)
		return -1;
	for (;;) {
		int p;

		if (idle && remote_idle_pending(c))
			p = 1, pf[0].revents = 0, pf[1].revents = POLLIN;
		else
			p = poll(pf, idle ? 2 : 1, idle ? IDLE_RENEW_MS : POLL_MS);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0 || (pf[0].revents & POLLIN))
			break;
		/* The bytes are there: a short wait reads them (0 would
		 * return before reading). */
		int r = remote_idle_wait(c, 50, &news, error_r);

		if (r < 0)
			return -1;
		if (r > 0)
			break;
	}
	imap_drain(im->wake[0]);
	if (idle && remote_idle_done(c, &news, error_r) < 0)
		return -1;
	return 0;
}

static bool backoff_wait(struct imap_mailbox *im, int ms);

/* One connected session: serves requests and waits for news until the
 * connection fails (-1 with *error_r) or the mailbox closes (0). */
static int session(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		   char **error_r)
{
	for (;;) {
		struct imap_req *rq;
		bool quit;

		pthread_mutex_lock(&im->lock);
		rq = im->req;
		quit = im->quit;
		pthread_mutex_unlock(&im->lock);
		if (quit)
			return 0;
		if (rq != NULL) {
			int ret = do_request(c, im, rq);

			/* The rows follow the change before the UI hears back. */
			if (!im->target && rq->kind != REQ_READ && rq->kind != REQ_LIST &&
			    refresh(c, im, mine, error_r) == 0)
				publish(im, mine);
			/* The sidebar's counts follow a copy or a move. */
			if (ret == 0 && rq->kind == REQ_COPY && *error_r == NULL &&
			    remote_has_cap(c, "LIST-STATUS")) {
				char *why = NULL;

				list_folders(c, im, &why);
				free(why);
			}
			finish(im, rq, ret);
			if (*error_r != NULL)
				return -1;
			continue;
		}
		if (im->target) {
			/* Nothing selected: only the UI has news. */
			backoff_wait(im, -1);
			continue;
		}
		if (wait_news(c, im, error_r) < 0 || refresh(c, im, mine, error_r) < 0)
			return -1;
		publish(im, mine);
	}
}

/* Waits ms or until the UI wakes the worker; true when closing. */
static bool backoff_wait(struct imap_mailbox *im, int ms)
{
	struct pollfd pf = { im->wake[0], POLLIN, 0 };
	bool quit;

	if (poll(&pf, 1, ms) > 0)
		imap_drain(im->wake[0]);
	pthread_mutex_lock(&im->lock);
	quit = im->quit;
	pthread_mutex_unlock(&im->lock);
	return quit;
}

/* Fails the request waiting, if any, while there is no connection. */
static void refuse_request(struct imap_mailbox *im)
{
	struct imap_req *rq;

	pthread_mutex_lock(&im->lock);
	rq = im->req;
	pthread_mutex_unlock(&im->lock);
	if (rq != NULL) {
		rq->error = xasprintf("not connected to %s", im->acct.url.host);
		finish(im, rq, -1);
	}
}

void *mailbox_imap_worker(void *arg)
{
	struct imap_mailbox *im = arg;
	struct imap_rows mine = { NULL, 0 };
	uint32_t known_validity;
	int backoff = 1;
	char *cerr = NULL;

	if (!im->target)
		im->hc = hcache_open(im->cache_dir, &cerr);
	free(cerr);
	/* What the last session saw, on screen before the server answers. */
	known_validity = cache_load(im, &mine);
	if (known_validity != 0) {
		pthread_mutex_lock(&im->lock);
		im->uidvalidity = known_validity;
		pthread_mutex_unlock(&im->lock);
		publish(im, &mine);
	}
	for (;;) {
		struct remote_conn *c;
		char *err = NULL;
		uint32_t validity = 0;

		set_status(im, false, xasprintf("Connecting to %s...", im->acct.url.host));
		c = remote_connect(&im->acct, &err);
		pthread_mutex_lock(&im->lock);
		im->conn = c;
		if (im->quit && c != NULL)
			remote_cancel(c);
		pthread_mutex_unlock(&im->lock);
		if (c != NULL && im->target) {
			backoff = 1;
			set_status(im, true, xasprintf("Connected to %s", im->acct.url.host));
			session(c, im, &mine, &err);
		} else if (c != NULL && remote_select(c, im->acct.url.folder, NULL, &validity,
						      NULL, &err) == 0) {
			char *note = NULL;

			if (known_validity != 0 && validity != known_validity) {
				/* The old UIDs mean nothing now. */
				imap_rows_free(&mine);
				pthread_mutex_lock(&im->lock);
				im->pub_reset = true;
				pthread_mutex_unlock(&im->lock);
				note = xasprintf("%s: UIDVALIDITY changed, messages read again",
						 im->acct.url.folder);
			}
			known_validity = validity;
			/* The cache drops the folder's entries of another
			 * UIDVALIDITY. */
			if (im->hc != NULL &&
			    hcache_folder_open(im->hc, im->acct.url.folder, validity, NULL, &err) < 0) {
				cache_fail(im, err);
				err = NULL;
			}
			pthread_mutex_lock(&im->lock);
			im->uidvalidity = validity;
			pthread_mutex_unlock(&im->lock);
			if (refresh(c, im, &mine, &err) == 0) {
				backoff = 1;
				publish(im, &mine);
				set_status(im, true,
					   note ? note : xasprintf("Connected to %s", im->acct.url.host));
				note = NULL;
				/* For the sidebar and Tab, when it costs one round
				 * trip (a STATUS per folder waits for `c ?`); a
				 * server that will not list costs the list only. */
				char *why = NULL;

				if (remote_has_cap(c, "LIST-STATUS"))
					list_folders(c, im, &why);
				free(why);
				session(c, im, &mine, &err);
			}
			free(note);
		}
		pthread_mutex_lock(&im->lock);
		im->conn = NULL;
		pthread_mutex_unlock(&im->lock);
		remote_close(&c);
		if (backoff_wait(im, 0)) {
			free(err);
			break;
		}
		set_status(im, false,
			   xasprintf("%s; retrying in %d s", err ? err : "disconnected", backoff));
		free(err);
		refuse_request(im);
		if (backoff_wait(im, backoff * 1000))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
	}
	refuse_request(im);
	imap_rows_free(&mine);
	hcache_close(&im->hc);
	return NULL;
}
