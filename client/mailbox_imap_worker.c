/* mailbox_imap_worker: the IMAP driver's worker thread (see
 * client/mailbox_imap.c for the whole picture).  It owns the connection
 * and the header cache: fills the rows from the cache, connects with
 * backoff, SELECTs, fetches what changed, serves the UI's one request at
 * a time, IDLEs, and publishes each new set of rows under the lock. */
#include "client/mailbox_imap-private.h"

#include "lib/sbuf.h"
#include "store/store.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long an IDLE lasts before it is renewed (RFC 2177: under 29 min),
 * and how often a server without IDLE is asked for news: a NOOP is one
 * short round trip that brings nothing when nothing changed, so every
 * 10 s costs the server little and new mail shows within 10 s. */
#define IDLE_RENEW_MS (25 * 60 * 1000)
#define BACKOFF_MAX_S 60

/* A shared string: its count, then its bytes. */
struct imap_str {
	atomic_uint refs;
	char s[];
};

char *imap_str_new(const char *s, size_t len)
{
	struct imap_str *p;

	if (s == NULL)
		return NULL;
	p = xmalloc(sizeof(*p) + len + 1);
	atomic_init(&p->refs, 1);
	memcpy(p->s, s, len);
	p->s[len] = '\0';
	return p->s;
}

char *imap_str_of(const char *s)
{
	return s ? imap_str_new(s, strlen(s)) : NULL;
}

char *imap_str_ref(char *s)
{
	if (s != NULL)
		atomic_fetch_add_explicit(&((struct imap_str *)(s - offsetof(struct imap_str, s)))->refs,
					  1, memory_order_relaxed);
	return s;
}

void imap_str_unref(char *s)
{
	struct imap_str *p;

	if (s == NULL)
		return;
	p = (struct imap_str *)(s - offsetof(struct imap_str, s));
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		free(p);
}

void imap_rows_free(struct imap_rows *r)
{
	for (size_t k = 0; k < r->n; k++) {
		imap_str_unref(r->v[k].envelope);
		imap_str_unref(r->v[k].keywords);
		imap_str_unref(r->v[k].threadkey);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

size_t imap_threadkey_len(const char *key)
{
	const char *p = key;

	for (int f = 0; f < 5; f++)
		p += strlen(p) + 1;
	return (size_t)(p - key);
}

bool imap_keywords_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
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

void imap_set_status(struct imap_mailbox *im, bool online, char *text)
{
	pthread_mutex_lock(&im->lock);
	free(im->status);
	im->status = text;
	im->status_gen++;
	im->online = online;
	/* "Connecting" is the one state that is not an outcome. */
	if (online || strncmp(text, "Connecting", 10) != 0) {
		im->tried = true;
		pthread_cond_broadcast(&im->cond);
	}
	pthread_mutex_unlock(&im->lock);
	imap_poke(im->notify[1]);
}

void imap_publish_rows(struct imap_mailbox *im, const struct imap_rows *mine, bool partial)
{
	struct imap_rows copy = { xcalloc(mine->n + 1, sizeof(*copy.v)), 0 };

	for (size_t k = 0; k < mine->n; k++) {
		struct imap_row *r = &copy.v[copy.n];

		if (!imap_row_has_headers(&mine->v[k]))
			continue;
		*r = mine->v[k];
		r->envelope = imap_str_ref(r->envelope);
		r->threadkey = imap_str_ref(r->threadkey);
		r->keywords = imap_str_ref(r->keywords);
		copy.n++;
	}
	pthread_mutex_lock(&im->lock);
	imap_rows_free(&im->pub);
	im->pub = copy;
	im->pub_new = true;
	/* With the rows it goes with: a fill's rows replaced by the whole
	 * before the UI took them are not partial. */
	im->pub_partial = partial;
	pthread_mutex_unlock(&im->lock);
	imap_poke(im->notify[1]);
}

void imap_publish(struct imap_mailbox *im, const struct imap_rows *mine)
{
	imap_publish_rows(im, mine, false);
}

void imap_publish_reset(struct imap_mailbox *im)
{
	pthread_mutex_lock(&im->lock);
	/* Rows published before and not taken yet are the old UIDs': the
	 * reset goes with rows published after it, or none. */
	imap_rows_free(&im->pub);
	im->pub_new = true;
	im->pub_reset = true;
	pthread_mutex_unlock(&im->lock);
	imap_poke(im->notify[1]);
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

/* A move whose messages are marked deleted takes the mark off first, so
 * the target does not get it (a server's MOVE and COPY keep flags), and
 * puts it back when the move fails. */
static int copy_msgs(struct remote_conn *c, struct imap_req *rq)
{
	char *why = NULL;

	if (rq->undelete &&
	    remote_store_flags(c, rq->uids, rq->n, -1, STORE_DELETED, &rq->error) < 0)
		return -1;
	if (remote_copy(c, rq->uids, rq->n, rq->folder, rq->move, &rq->error) == 0)
		return 0;
	if (rq->undelete)
		remote_store_flags(c, rq->uids, rq->n, 1, STORE_DELETED, &why);
	free(why);
	return -1;
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
		return copy_msgs(c, rq);
	case REQ_LIST:
		return list_folders(c, im, &rq->error);
	case REQ_SEARCH:
		return remote_search(c, rq->key, &rq->found, &rq->n_found, &rq->error);
	case REQ_KEYWORDS:
		return remote_store_keywords(c, rq->uids, rq->n, rq->op, rq->kw, rq->n_kw,
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

int imap_serve(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
	       char **error_r)
{
	struct imap_req *rq;
	int ret;

	pthread_mutex_lock(&im->lock);
	rq = im->req;
	pthread_mutex_unlock(&im->lock);
	if (rq == NULL)
		return 0;
	ret = do_request(c, im, rq);
	if (!im->target && rq->kind != REQ_READ && rq->kind != REQ_SEARCH &&
	    rq->kind != REQ_LIST) {
		/* The rows follow the change before the UI hears back, or
		 * right after the fill under way. */
		if (mine == NULL) {
			im->served = true;
		} else if (imap_refresh(c, im, mine, rq->kind == REQ_EXPUNGE || rq->move,
					error_r) < 0) {
			finish(im, rq, ret);
			return -1;
		} else {
			imap_publish(im, mine);
		}
	}
	/* The sidebar's counts follow a copy or a move. */
	if (ret == 0 && rq->kind == REQ_COPY && remote_has_cap(c, "LIST-STATUS")) {
		char *why = NULL;

		list_folders(c, im, &why);
		free(why);
	}
	finish(im, rq, ret);
	return 0;
}

/* Waits in IDLE (or, without it, imap_poll between two polls) until the
 * server has news, the UI wakes the worker, or the renewal time; what
 * came is in *news.  0, or -1 with *error_r. */
static int wait_news(struct remote_conn *c, struct imap_mailbox *im,
		     struct remote_idle_news *news, char **error_r)
{
	bool idle = remote_has_cap(c, "IDLE");
	struct pollfd pf[2] = { { im->wake[0], POLLIN, 0 }, { remote_fd(c), POLLIN, 0 } };

	if (idle && remote_idle_start(c, news, error_r) < 0)
		return -1;
	for (;;) {
		int p;

		if (idle && remote_idle_pending(c))
			p = 1, pf[0].revents = 0, pf[1].revents = POLLIN;
		else
			p = poll(pf, idle ? 2 : 1, idle ? IDLE_RENEW_MS : im->acct.poll_ms);
		if (p < 0 && errno == EINTR)
			continue;
		/* The poll is a NOOP: a server tells of new mail, flags and
		 * expunges at a command that allows them (a UID FETCH need
		 * not: loft's own holds them back), and the refresh that
		 * follows news is CHANGEDSINCE with CONDSTORE. */
		if (p == 0 && !idle)
			return remote_noop(c, news, error_r);
		if (p <= 0 || (pf[0].revents & POLLIN))
			break;
		/* The bytes are there: a short wait reads them (0 would
		 * return before reading). */
		int r = remote_idle_wait(c, 50, news, error_r);

		if (r < 0)
			return -1;
		if (r > 0)
			break;
	}
	imap_drain(im->wake[0]);
	if (idle && remote_idle_done(c, news, error_r) < 0)
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
		struct remote_idle_news news = { 0 };
		bool quit, waiting;

		pthread_mutex_lock(&im->lock);
		waiting = im->req != NULL;
		quit = im->quit;
		pthread_mutex_unlock(&im->lock);
		if (quit)
			return 0;
		if (im->served) {
			/* A request served during a fill changed the folder. */
			im->served = false;
			news.expunge = true;
		} else if (waiting) {
			if (imap_serve(c, im, mine, error_r) < 0)
				return -1;
			continue;
		} else if (im->target) {
			/* Nothing selected: only the UI has news. */
			backoff_wait(im, -1);
			continue;
		} else if (wait_news(c, im, &news, error_r) < 0) {
			return -1;
		}
		if (!news.exists && !news.expunge && !news.fetch)
			continue;
		if (imap_refresh(c, im, mine, news.expunge, error_r) < 0)
			return -1;
		imap_publish(im, mine);
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

/* Whether the UI gave up a request (and so the connection); clears it. */
static bool given_up(struct imap_mailbox *im)
{
	bool r;

	pthread_mutex_lock(&im->lock);
	r = im->cancelled;
	im->cancelled = false;
	pthread_mutex_unlock(&im->lock);
	return r;
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

/* The cached rows, loaded on a thread of their own while the worker
 * connects (each takes ~0.1 s for 100,000 messages; neither needs the
 * other until the SELECT names the known UIDs), and published at once,
 * unless the SELECT was answered first: then the rows the answer makes
 * of them follow within milliseconds, and the UI would only thread the
 * old ones before it can thread the new (a reopen with new mail drew
 * twice). */
struct loader {
	struct imap_mailbox *im;
	struct imap_rows rows;
	uint32_t validity;
	pthread_t thread;
	bool running;
	bool answered;		/* the SELECT was answered (under im->lock) */
	bool held;		/* the rows were loaded after it: not published */
};

static void *load_cached(void *arg)
{
	struct loader *l = arg;
	struct imap_mailbox *im = l->im;

	l->validity = imap_cache_load(im, &l->rows);
	if (l->validity != 0) {
		pthread_mutex_lock(&im->lock);
		im->uidvalidity = l->validity;
		l->held = l->answered;
		pthread_mutex_unlock(&im->lock);
		if (!l->held)
			imap_publish(im, &l->rows);
	}
	return NULL;
}

/* The loaded rows into *mine (empty) once the loader is done. */
static void loader_join(struct loader *l, struct imap_rows *mine, uint32_t *validity)
{
	if (!l->running)
		return;
	pthread_join(l->thread, NULL);
	l->running = false;
	*mine = l->rows;
	*validity = l->validity;
}

static void join_rows(void *ctx, bool answered, struct imap_rows *mine, uint32_t *validity)
{
	struct loader *l = ctx;

	pthread_mutex_lock(&l->im->lock);
	l->answered = answered;
	pthread_mutex_unlock(&l->im->lock);
	loader_join(l, mine, validity);
}

void *mailbox_imap_worker(void *arg)
{
	struct imap_mailbox *im = arg;
	struct imap_rows mine = { NULL, 0 };
	struct loader loader = { .im = arg };
	struct imap_pending pending = { .join = join_rows, .ctx = &loader };
	uint32_t known_validity = 0;
	int backoff = 1;
	bool quiet = false;
	char *cerr = NULL;

	if (!im->target)
		im->hc = hcache_open(im->cache_dir, &cerr);
	free(cerr);
	/* Read before the loader starts: it may drop a failing cache. */
	if (!im->target)
		imap_cache_known(im, &pending);
	/* What the last session saw, on screen before the server answers. */
	if (im->target) {
		/* No folder, no rows. */
	} else if (pthread_create(&loader.thread, NULL, load_cached, &loader) == 0) {
		loader.running = true;
	} else {
		load_cached(&loader);
		mine = loader.rows;
		known_validity = loader.validity;
	}
	for (;;) {
		struct remote_conn *c;
		char *err = NULL;
		/* Back after a Ctrl-G: the words say both, so the state shown
		 * next is not mistaken for the request's outcome. */
		const char *again = quiet ? " again; the request was cancelled" : "";

		if (quiet) {
			/* After Ctrl-G the UI says "cancelled": a quick
			 * reconnection does not cover it with its states. */
			pthread_mutex_lock(&im->lock);
			im->online = false;
			pthread_mutex_unlock(&im->lock);
			quiet = false;
		} else {
			imap_set_status(im, false,
					xasprintf("Connecting to %s...", im->acct.url.host));
		}
		c = remote_connect(&im->acct, &err);
		/* The index decodes the subjects of all the rows to thread:
		 * the charsets are loaded here, while the cache still loads,
		 * not before the connection (a few ms, up to tens under load). */
		if (!im->target)
			store_gconv_pin();
		/* Connected to a folder, the SELECT goes out before the rows
		 * are awaited (imap_open_folder joins the loader). */
		if (c == NULL || im->target)
			loader_join(&loader, &mine, &known_validity);
		pthread_mutex_lock(&im->lock);
		im->conn = c;
		if (im->quit && c != NULL)
			remote_cancel(c);
		pthread_mutex_unlock(&im->lock);
		if (c != NULL && im->target) {
			backoff = 1;
			imap_set_status(im, true,
					xasprintf("Connected to %s%s", im->acct.url.host, again));
			session(c, im, &mine, &err);
		} else if (c != NULL) {
			char *note = NULL;

			/* Online (and "tried") once the rows are in: a caller
			 * settling on the folder (mailbox_settle) sees them. */
			if (imap_open_folder(c, im, &mine, &known_validity,
					     loader.running ? &pending : NULL, &note, &err) == 0) {
				backoff = 1;
				imap_publish(im, &mine);
				imap_set_status(im, true, note ? note
							   : xasprintf("Connected to %s%s",
								       im->acct.url.host, again));
				note = NULL;
				/* For the sidebar and Tab, when it costs one round
				 * trip (a STATUS per folder waits for `c ?`); a
				 * server that will not list costs the list only. */
				char *why = NULL;

				if (remote_has_cap(c, "LIST-STATUS"))
					list_folders(c, im, &why);
				free(why);
				session(c, im, &mine, &err);
			} else if (loader.held) {
				/* What is cached stays readable while away. */
				imap_publish(im, &mine);
			}
			loader.held = false;
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
		if (given_up(im)) {
			/* The user dropped it (Ctrl-G): no error to wait on. */
			free(err);
			refuse_request(im);
			quiet = true;
			continue;
		}
		imap_set_status(im, false,
			   xasprintf("%s; retrying in %d s", err ? err : "disconnected", backoff));
		free(err);
		refuse_request(im);
		if (backoff_wait(im, backoff * 1000))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
	}
	refuse_request(im);
	loader_join(&loader, &mine, &known_validity);
	imap_rows_free(&mine);
	hcache_close(&im->hc);
	return NULL;
}
