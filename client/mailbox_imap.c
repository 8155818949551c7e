/* mailbox_imap: the driver for a folder on an IMAP server
 * (imaps://user@host/Folder, imap://, imap+insecure://).
 *
 * The network never runs on the UI's thread.  A worker thread owns the
 * connection: it connects, logs in, SELECTs, fetches the rows (UID FLAGS
 * of all, the headers of the new ones in batches of REMOTE_FETCH_BATCH),
 * then IDLEs (or polls with NOOP-like rescans) and reconnects with
 * backoff when the connection drops.  Each time its rows change it
 * publishes a copy under the lock and writes a byte to the notify pipe,
 * which the UI's loop polls; mailbox_sync then takes the copy and says
 * what changed.  The state of the connection ("Connecting to HOST...",
 * the reason it dropped) is published the same way (mailbox_status).
 *
 * The UI's own requests (read a message, change flags, expunge, append)
 * are handed to the worker one at a time; the UI thread waits for that
 * one answer, which the account's timeout bounds.  While disconnected
 * they fail at once; the rows already fetched stay in the index, and
 * the messages read before stay readable: each body fetched is kept on
 * disk (STATE_DIR/hcache/ACCOUNT/bodies/, named by folder, UIDVALIDITY
 * and UID). */
#include "client/mailbox-private.h"

#include "remote/hcache.h"
#include "remote/remote.h"

#include "lib/atomic.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long an IDLE lasts before it is renewed (RFC 2177: under 29 min),
 * and the rescan period of a server without IDLE. */
#define IDLE_RENEW_MS (25 * 60 * 1000)
#define POLL_MS (30 * 1000)
#define BACKOFF_MAX_S 60

struct imap_row {
	uint32_t uid, flags, size;
	int64_t internaldate;
	char *envelope;
};

struct imap_rows {
	struct imap_row *v;
	size_t n;
};

enum imap_req_kind { REQ_READ, REQ_FLAGS, REQ_EXPUNGE, REQ_APPEND };

struct imap_req {
	enum imap_req_kind kind;
	const uint32_t *uids;		/* ascending */
	size_t n;
	int op;				/* REQ_FLAGS: +1, -1, 0 */
	uint32_t flags;
	const char *data;		/* REQ_APPEND */
	size_t len;
	struct sbuf *out;		/* REQ_READ */
	int ret;
	char *error;			/* malloc'd */
	bool done;
};

struct imap_mailbox {
	struct mailbox mb;
	struct remote_account acct;
	struct imap_rows view;		/* the UI's rows (UI thread only) */
	char *status_seen;		/* the status the UI last took */
	char *cache_dir;		/* STATE_DIR/hcache/ACCOUNT */
	char *bodies;			/* the directory of cached bodies */
	struct hcache *hc;		/* the worker's; NULL when it failed */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct imap_rows pub;		/* the worker's latest rows */
	bool pub_new;
	bool pub_reset;			/* UIDVALIDITY changed: no row is the same */
	char *status;			/* the connection's state in words */
	bool online, quit;
	bool tried;			/* the first connection attempt is over */
	struct remote_conn *conn;	/* for remote_cancel at close */
	uint32_t uidvalidity;		/* of the rows published; 0 before */
	struct imap_req *req;		/* the one request waiting */
	int notify[2];			/* worker -> UI */
	int wake[2];			/* UI -> worker */
	pthread_t thread;
};

#define IMB(m) ((struct imap_mailbox *)(m))
#define CIMB(m) ((const struct imap_mailbox *)(m))

static void rows_free(struct imap_rows *r)
{
	for (size_t k = 0; k < r->n; k++)
		free(r->v[k].envelope);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static long rows_find(const struct imap_rows *r, uint32_t uid)
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

static void poke(int fd)
{
	char c = 1;

	if (write(fd, &c, 1) < 0 && errno != EAGAIN) {
		/* A full pipe already says there is news. */
	}
}

static void drain(int fd)
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
	poke(im->notify[1]);
}

static void publish(struct imap_mailbox *im, const struct imap_rows *mine)
{
	struct imap_rows copy = { xcalloc(mine->n + 1, sizeof(*copy.v)), mine->n };

	for (size_t k = 0; k < mine->n; k++) {
		copy.v[k] = mine->v[k];
		copy.v[k].envelope = mine->v[k].envelope ? xstrdup(mine->v[k].envelope) : NULL;
	}
	pthread_mutex_lock(&im->lock);
	rows_free(&im->pub);
	im->pub = copy;
	im->pub_new = true;
	pthread_mutex_unlock(&im->lock);
	poke(im->notify[1]);
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
	rows_free(mine);
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
		long at = rows_find(old, now->v[k].uid);

		if (at < 0)
			row_to_cache(&now->v[k], &put[n_put++]);
		else if (old->v[at].flags != now->v[k].flags)
			row_to_cache(&now->v[k], &fl[n_fl++]);
	}
	for (size_t k = 0; k < old->n; k++)
		if (rows_find(now, old->v[k].uid) < 0)
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
		long old = rows_find(mine, all[k].uid);

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
			rows_free(&next);
			return -1;
		}
		for (size_t j = 0; j < n_got; j++) {
			long at = rows_find(&next, got[j].uid);

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
		if (next.v[k].envelope != NULL || rows_find(mine, next.v[k].uid) >= 0)
			next.v[m++] = next.v[k];
	next.n = m;
	cache_update(im, mine, &next);
	rows_free(mine);
	*mine = next;
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
		return remote_append(c, im->acct.url.folder, rq->data, rq->len, rq->flags,
				     &rq->error);
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
	drain(im->wake[0]);
	if (idle && remote_idle_done(c, &news, error_r) < 0)
		return -1;
	return 0;
}

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
			if (rq->kind != REQ_READ && refresh(c, im, mine, error_r) == 0)
				publish(im, mine);
			finish(im, rq, ret);
			if (*error_r != NULL)
				return -1;
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
		drain(im->wake[0]);
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

static void *worker(void *arg)
{
	struct imap_mailbox *im = arg;
	struct imap_rows mine = { NULL, 0 };
	uint32_t known_validity;
	int backoff = 1;
	char *cerr = NULL;

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
		if (c != NULL && remote_select(c, im->acct.url.folder, NULL, &validity, NULL,
					       &err) == 0) {
			char *note = NULL;

			if (known_validity != 0 && validity != known_validity) {
				/* The old UIDs mean nothing now. */
				rows_free(&mine);
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
	rows_free(&mine);
	hcache_close(&im->hc);
	return NULL;
}

/* ---- the driver, on the UI's thread ---- */

static bool imap_accepts(const char *name)
{
	return remote_url_is(name);
}

static int imap_open(const struct mailbox_env *env, const char *name, unsigned flags,
		     struct mailbox **mb_r, const char **error_r)
{
	static char why[512];
	struct imap_mailbox *im;
	char *err = NULL;

	(void)flags;
	im = xcalloc(1, sizeof(*im));
	if (remote_account_from_url(env->cfg, name, &im->acct, &err) < 0) {
		snprintf(why, sizeof(why), "%s", err);
		free(err);
		free(im);
		*error_r = why;
		return -1;
	}
	mailbox_base_init(&im->mb, &mailbox_imap_driver, env, name);
	im->cache_dir = hcache_dir(env->cfg, im->acct.name);
	im->bodies = xasprintf("%s/bodies", im->cache_dir);
	pthread_mutex_init(&im->lock, NULL);
	pthread_cond_init(&im->cond, NULL);
	if (pipe2(im->notify, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(im->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pthread_create(&im->thread, NULL, worker, im) != 0) {
		*error_r = "cannot start the IMAP worker";
		free(im->bodies);
		free(im->cache_dir);
		remote_account_clear(&im->acct);
		mailbox_base_deinit(&im->mb);
		free(im);
		return -1;
	}
	*mb_r = &im->mb;
	return 0;
}

static void imap_close(struct mailbox *mb)
{
	struct imap_mailbox *im = IMB(mb);

	pthread_mutex_lock(&im->lock);
	im->quit = true;
	if (im->conn != NULL)
		remote_cancel(im->conn);
	pthread_mutex_unlock(&im->lock);
	poke(im->wake[1]);
	pthread_join(im->thread, NULL);
	for (int k = 0; k < 2; k++) {
		close(im->notify[k]);
		close(im->wake[k]);
	}
	pthread_mutex_destroy(&im->lock);
	pthread_cond_destroy(&im->cond);
	rows_free(&im->view);
	rows_free(&im->pub);
	free(im->status);
	free(im->status_seen);
	free(im->bodies);
	free(im->cache_dir);
	remote_account_clear(&im->acct);
	mailbox_base_deinit(mb);
	free(im);
}

static unsigned imap_caps(const struct mailbox *mb)
{
	(void)mb;
	return MAILBOX_CAP_WRITE;
}

static size_t imap_count(const struct mailbox *mb)
{
	return CIMB(mb)->view.n;
}

static void imap_msg(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r)
{
	const struct imap_row *r = &CIMB(mb)->view.v[i];

	*m_r = (struct mailbox_msg){ r->uid, r->flags, r->size, r->internaldate, NULL };
}

static long imap_index_of(const struct mailbox *mb, uint32_t uid)
{
	return rows_find(&CIMB(mb)->view, uid);
}

static int imap_envelope(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	const char *env = IMB(mb)->view.v[i].envelope;

	(void)error_r;
	if (env == NULL)
		return 0;
	sbuf_addstr(out, env);
	return 1;
}

/* Hands rq to the worker and waits for its answer. */
static int request(struct imap_mailbox *im, struct imap_req *rq, const char **error_r)
{
	pthread_mutex_lock(&im->lock);
	/* A mailbox just opened (a copy's target) waits for its first
	 * connection; later a disconnected one answers at once. */
	while (!im->tried)
		pthread_cond_wait(&im->cond, &im->lock);
	if (!im->online || im->req != NULL) {
		pthread_mutex_unlock(&im->lock);
		snprintf(im->mb.error, sizeof(im->mb.error), "not connected to %s",
			 im->acct.url.host);
		*error_r = im->mb.error;
		return -1;
	}
	im->req = rq;
	poke(im->wake[1]);
	while (!rq->done)
		pthread_cond_wait(&im->cond, &im->lock);
	pthread_mutex_unlock(&im->lock);
	if (rq->ret < 0) {
		snprintf(im->mb.error, sizeof(im->mb.error), "%s",
			 rq->error ? rq->error : "the IMAP request failed");
		*error_r = im->mb.error;
	}
	free(rq->error);
	return rq->ret < 0 ? -1 : 0;
}

/* The cache file of uid: BODIES/FOLDER-IN-HEX.UIDVALIDITY.UID, or NULL
 * before the first SELECT.  Malloc'd. */
static char *body_path(struct imap_mailbox *im, uint32_t uid)
{
	struct sbuf b = SBUF_INIT;
	uint32_t validity;

	pthread_mutex_lock(&im->lock);
	validity = im->uidvalidity;
	pthread_mutex_unlock(&im->lock);
	if (validity == 0)
		return NULL;
	sbuf_addf(&b, "%s/", im->bodies);
	for (const char *p = im->acct.url.folder; *p != '\0'; p++)
		sbuf_addf(&b, "%02x", (unsigned char)*p);
	sbuf_addf(&b, ".%u.%u", validity, uid);
	return sbuf_detach(&b, NULL);
}

static int imap_read(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	uint32_t uid = im->view.v[i].uid;
	struct imap_req rq = { .kind = REQ_READ, .uids = &uid, .n = 1, .out = out };
	char *path = body_path(im, uid);
	size_t had = out->len;
	const char *why;
	int ret;

	if (path != NULL && sbuf_read_file(out, path, 0) == 0) {
		free(path);
		return 0;
	}
	ret = request(im, &rq, error_r);
	/* A cache that cannot be written costs a fetch next time, no more. */
	if (ret == 0 && path != NULL && path_mkdirs(im->bodies, 0700) == 0)
		atomic_write_file(path, out->buf + had, out->len - had, 0600, &why);
	free(path);
	return ret;
}

static bool imap_same(const struct mailbox *a, const struct mailbox *b)
{
	return strcmp(a->name, b->name) == 0;
}

/* store_changes between the UI's rows and the worker's latest. */
static void diff(const struct imap_rows *old, const struct imap_rows *now,
		 struct store_changes *ch)
{
	size_t kept = 0;

	ch->expunged = xcalloc(old->n + 1, sizeof(uint32_t));
	ch->changed = xcalloc(old->n + 1, sizeof(uint32_t));
	for (size_t k = 0; k < old->n; k++) {
		long at = rows_find(now, old->v[k].uid);

		if (at < 0) {
			ch->expunged[ch->n_expunged++] = old->v[k].uid;
			continue;
		}
		kept++;
		if (now->v[at].flags != old->v[k].flags)
			ch->changed[ch->n_changed++] = old->v[k].uid;
	}
	ch->n_new = now->n - kept;
	if (ch->n_expunged == 0) {
		free(ch->expunged);
		ch->expunged = NULL;
	}
	if (ch->n_changed == 0) {
		free(ch->changed);
		ch->changed = NULL;
	}
}

static int imap_sync(struct mailbox *mb, struct store_changes *ch_r, const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	struct store_changes ch = { 0 };

	(void)error_r;
	pthread_mutex_lock(&im->lock);
	if (im->pub_new) {
		struct imap_rows none = { NULL, 0 };

		/* After a UIDVALIDITY change every old row goes, every row
		 * is new, even where the numbers are the same. */
		if (im->pub_reset) {
			diff(&im->view, &none, &ch);
			ch.n_new = im->pub.n;
		} else {
			diff(&im->view, &im->pub, &ch);
		}
		im->pub_reset = false;
		rows_free(&im->view);
		im->view = im->pub;
		im->pub = (struct imap_rows){ NULL, 0 };
		im->pub_new = false;
	}
	pthread_mutex_unlock(&im->lock);
	if (ch_r != NULL)
		*ch_r = ch;
	else
		store_changes_free(&ch);
	return 0;
}

static int imap_notify_fd(struct mailbox *mb)
{
	return IMB(mb)->notify[0];
}

static const char *imap_status(struct mailbox *mb)
{
	struct imap_mailbox *im = IMB(mb);
	const char *now;

	pthread_mutex_lock(&im->lock);
	if (im->status == NULL) {
		free(im->status_seen);
		im->status_seen = NULL;
		now = NULL;
	} else if (im->status_seen == NULL || strcmp(im->status_seen, im->status) != 0) {
		free(im->status_seen);
		im->status_seen = xstrdup(im->status);
		now = im->status_seen;
	} else {
		now = NULL;
	}
	pthread_mutex_unlock(&im->lock);
	return now;
}

/* The UIDs of rows v[0..n), ascending; caller frees. */
static uint32_t *sorted_uids(const struct mailbox *mb, const uint32_t *v, size_t n)
{
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));

	for (size_t k = 0; k < n; k++) {
		uint32_t u = CIMB(mb)->view.v[v[k]].uid;
		size_t j = k;

		for (; j > 0 && uids[j - 1] > u; j--)
			uids[j] = uids[j - 1];
		uids[j] = u;
	}
	return uids;
}

static int imap_set_flags(struct mailbox *mb, const uint32_t *v, size_t n, enum store_flag_op op,
			  uint32_t flags, const char **error_r)
{
	uint32_t *uids = sorted_uids(mb, v, n);
	struct imap_req rq = { .kind = REQ_FLAGS, .uids = uids, .n = n, .flags = flags,
			       .op = op == STORE_FLAGS_ADD ? 1 : op == STORE_FLAGS_REMOVE ? -1 : 0 };
	int ret = request(IMB(mb), &rq, error_r);

	free(uids);
	return ret;
}

static int imap_expunge(struct mailbox *mb, const uint32_t *v, size_t n, const char **error_r)
{
	uint32_t *uids = sorted_uids(mb, v, n);
	struct imap_req rq = { .kind = REQ_EXPUNGE, .uids = uids, .n = n };
	int ret = request(IMB(mb), &rq, error_r);

	free(uids);
	return ret;
}

static int imap_append(struct mailbox *mb, const char *data, size_t len, uint32_t flags,
		       uint32_t *uid_r, const char **error_r)
{
	struct imap_req rq = { .kind = REQ_APPEND, .data = data, .len = len, .flags = flags };

	*uid_r = 0;	/* the new row arrives with the next sync */
	return request(IMB(mb), &rq, error_r);
}

const struct mailbox_driver mailbox_imap_driver = {
	.name = "imap",
	.accepts = imap_accepts,
	.open = imap_open,
	.close = imap_close,
	.caps = imap_caps,
	.count = imap_count,
	.msg = imap_msg,
	.index_of = imap_index_of,
	.envelope = imap_envelope,
	.read = imap_read,
	.same = imap_same,
	.sync = imap_sync,
	.notify_fd = imap_notify_fd,
	.status = imap_status,
	.set_flags = imap_set_flags,
	.expunge = imap_expunge,
	.append = imap_append,
};
