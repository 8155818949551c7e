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
#include "client/mailbox_imap-private.h"

#include "lib/atomic.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the driver, on the UI's thread ---- */

static bool imap_accepts(const char *name)
{
	return remote_url_is(name);
}

static int start_worker(struct imap_mailbox *im)
{
	if (pthread_create(&im->thread, NULL, mailbox_imap_worker, im) != 0)
		return -1;
	im->started = true;
	return 0;
}

static int imap_open(const struct mailbox_env *env, const char *name, unsigned flags,
		     struct mailbox **mb_r, const char **error_r)
{
	static char why[512];
	struct imap_mailbox *im;
	char *err = NULL;

	im = xcalloc(1, sizeof(*im));
	im->target = (flags & MAILBOX_OPEN_TARGET) != 0;
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
	    (!im->target && start_worker(im) < 0)) {
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
	imap_poke(im->wake[1]);
	if (im->started)
		pthread_join(im->thread, NULL);
	for (int k = 0; k < 2; k++) {
		close(im->notify[k]);
		close(im->wake[k]);
	}
	pthread_mutex_destroy(&im->lock);
	pthread_cond_destroy(&im->cond);
	imap_rows_free(&im->view);
	imap_rows_free(&im->pub);
	imap_keys_forget(im);
	remote_folders_free(im->folders, im->n_folders);
	free(im->status);
	free(im->status_seen);
	hcache_close(&im->ui_hc);
	free(im->cache_error);
	free(im->bodies);
	free(im->cache_dir);
	remote_account_clear(&im->acct);
	mailbox_base_deinit(mb);
	free(im);
}

static unsigned imap_caps(const struct mailbox *mb)
{
	(void)mb;
	return MAILBOX_CAP_WRITE | MAILBOX_CAP_MOVE | MAILBOX_CAP_SEARCH;
}

static size_t imap_count(const struct mailbox *mb)
{
	return CIMB(mb)->view.n;
}

/* No thread key here: the status line's counts ask for every row's flags
 * on each open, and would parse 100,000 envelopes (imap_threadkey). */
static void imap_msg(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r)
{
	const struct imap_row *r = &CIMB(mb)->view.v[i];

	*m_r = (struct mailbox_msg){ r->uid, r->flags, r->size, r->internaldate, NULL };
}

static long imap_index_of(const struct mailbox *mb, uint32_t uid)
{
	return imap_rows_find(&CIMB(mb)->view, uid);
}

/* How often a waiting UI thread asks its waiting callback (Ctrl-G). */
#define WAIT_STEP_MS 50

/* Waits on im->cond (locked) up to WAIT_STEP_MS; the time waited so far
 * goes up by that step. */
static void wait_step(struct imap_mailbox *im, long *waited_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += WAIT_STEP_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&im->cond, &im->lock, &until);
	*waited_ms += WAIT_STEP_MS;
}

/* Whether the user gave up the wait (env's waiting callback, unlocked
 * meanwhile: it draws). */
static bool given_up(struct imap_mailbox *im, long waited_ms)
{
	int r;

	if (im->mb.env.waiting == NULL)
		return false;
	pthread_mutex_unlock(&im->lock);
	r = im->mb.env.waiting(im->mb.env.waiting_ctx, waited_ms);
	pthread_mutex_lock(&im->lock);
	return r < 0;
}

static int fail(struct imap_mailbox *im, const char *why, const char **error_r)
{
	snprintf(im->mb.error, sizeof(im->mb.error), "%s", why);
	*error_r = im->mb.error;
	return -1;
}

/* Ctrl-G (the env's waiting callback) ends the wait at once: the
 * connection is shut down, so whatever the worker is blocked in fails
 * now, and the worker hands rq back (it lives on the caller's stack)
 * before connecting again. */
int imap_request(struct imap_mailbox *im, struct imap_req *rq, const char **error_r)
{
	long waited = 0;
	bool cancelled = false;

	if (!im->started && start_worker(im) < 0) {
		*error_r = "cannot start the IMAP worker";
		return -1;
	}
	pthread_mutex_lock(&im->lock);
	/* A mailbox just opened (a copy's target) waits for its first
	 * connection; later a disconnected one answers at once. */
	while (!im->tried) {
		wait_step(im, &waited);
		if (!im->tried && given_up(im, waited)) {
			pthread_mutex_unlock(&im->lock);
			return fail(im, "cancelled", error_r);
		}
	}
	if (!im->online || im->req != NULL) {
		pthread_mutex_unlock(&im->lock);
		snprintf(im->mb.error, sizeof(im->mb.error), "not connected to %s",
			 im->acct.url.host);
		*error_r = im->mb.error;
		return -1;
	}
	im->req = rq;
	imap_poke(im->wake[1]);
	while (!rq->done) {
		wait_step(im, &waited);
		if (!rq->done && !cancelled && given_up(im, waited)) {
			cancelled = true;
			im->cancelled = true;
			if (im->conn != NULL)
				remote_cancel(im->conn);
			imap_poke(im->wake[1]);
		}
	}
	/* "Connected to HOST", not shown yet, is older than what the caller
	 * will say about this request: it is not shown after it. */
	if (im->status != NULL && im->online) {
		free(im->status_seen);
		im->status_seen = xstrdup(im->status);
		im->status_gen_seen = im->status_gen;
	}
	pthread_mutex_unlock(&im->lock);
	if (cancelled) {
		free(rq->error);
		return fail(im, "cancelled", error_r);
	}
	if (rq->ret < 0) {
		snprintf(im->mb.error, sizeof(im->mb.error), "%s",
			 rq->error ? rq->error : "the IMAP request failed");
		*error_r = im->mb.error;
	}
	free(rq->error);
	return rq->ret < 0 ? -1 : 0;
}

/* The folder's name in hex: its bodies' file names start with it. */
static void add_folder_hex(struct sbuf *b, const struct imap_mailbox *im)
{
	for (const char *p = im->acct.url.folder; *p != '\0'; p++)
		sbuf_addf(b, "%02x", (unsigned char)*p);
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
	add_folder_hex(&b, im);
	sbuf_addf(&b, ".%u.%u", validity, uid);
	return sbuf_detach(&b, NULL);
}

void imap_bodies_drop(struct imap_mailbox *im, uint32_t validity)
{
	struct sbuf prefix = SBUF_INIT, keep = SBUF_INIT, path = SBUF_INIT;
	DIR *d = opendir(im->bodies);
	struct dirent *e;

	if (d == NULL)
		return;
	add_folder_hex(&prefix, im);
	sbuf_addch(&prefix, '.');
	sbuf_addf(&keep, "%s%u.", prefix.buf, validity);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix.buf, prefix.len) != 0 ||
		    strncmp(e->d_name, keep.buf, keep.len) == 0)
			continue;
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/%s", im->bodies, e->d_name);
		unlink(path.buf);
	}
	closedir(d);
	sbuf_release(&prefix);
	sbuf_release(&keep);
	sbuf_release(&path);
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
	ret = imap_request(im, &rq, error_r);
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

/* store_changes between the UI's rows and the worker's latest, both in
 * UID order: one walk side by side. */
static void diff(struct imap_rows *old, struct imap_rows *now, struct store_changes *ch)
{
	size_t kept = 0, at = 0;

	ch->expunged = xcalloc(old->n + 1, sizeof(uint32_t));
	ch->changed = xcalloc(old->n + 1, sizeof(uint32_t));
	for (size_t k = 0; k < old->n; k++) {
		while (at < now->n && now->v[at].uid < old->v[k].uid)
			at++;
		if (at == now->n || now->v[at].uid != old->v[k].uid) {
			ch->expunged[ch->n_expunged++] = old->v[k].uid;
			continue;
		}
		kept++;
		if (now->v[at].flags != old->v[k].flags ||
		    imap_keywords_differ(now->v[at].keywords, old->v[k].keywords))
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
		imap_rows_free(&im->view);
		imap_keys_forget(im);
		im->view_partial = im->pub_partial;
		im->pub_partial = false;
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
	} else if (im->status_seen == NULL || im->status_gen_seen != im->status_gen) {
		/* Set again, even in the same words: the state is new. */
		free(im->status_seen);
		im->status_seen = xstrdup(im->status);
		im->status_gen_seen = im->status_gen;
		now = im->status_seen;
	} else {
		now = NULL;
	}
	pthread_mutex_unlock(&im->lock);
	return now;
}

uint32_t *imap_sorted_uids(const struct mailbox *mb, const uint32_t *v, size_t n)
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
	uint32_t *uids = imap_sorted_uids(mb, v, n);
	struct imap_req rq = { .kind = REQ_FLAGS, .uids = uids, .n = n, .flags = flags,
			       .op = op == STORE_FLAGS_ADD ? 1 : op == STORE_FLAGS_REMOVE ? -1 : 0 };
	int ret = imap_request(IMB(mb), &rq, error_r);

	free(uids);
	return ret;
}

static int imap_expunge(struct mailbox *mb, const uint32_t *v, size_t n, const char **error_r)
{
	uint32_t *uids = imap_sorted_uids(mb, v, n);
	struct imap_req rq = { .kind = REQ_EXPUNGE, .uids = uids, .n = n };
	int ret = imap_request(IMB(mb), &rq, error_r);

	free(uids);
	return ret;
}

static int imap_append(struct mailbox *mb, const char *data, size_t len, uint32_t flags,
		       uint32_t *uid_r, const char **error_r)
{
	struct imap_req rq = { .kind = REQ_APPEND, .data = data, .len = len, .flags = flags };

	*uid_r = 0;	/* the new row arrives with the next sync */
	return imap_request(IMB(mb), &rq, error_r);
}

static const char *imap_msg_tags(const struct mailbox *mb, size_t i)
{
	const char *kw = CIMB(mb)->view.v[i].keywords;

	return kw != NULL ? kw : "";
}

/* A tag as an IMAP keyword: an atom, no flag's backslash. */
static bool keyword_ok(const char *t)
{
	if (*t == '\0')
		return false;
	for (; *t != '\0'; t++)
		if ((unsigned char)*t <= ' ' || (unsigned char)*t >= 0x7f || strchr("(){%*\"\\]", *t))
			return false;
	return true;
}

/* The notmuch tags that are flags here (as store/index.c maps them). */
static uint32_t flag_of_tag(const char *t, bool *inverse_r)
{
	*inverse_r = strcmp(t, "unread") == 0;
	return *inverse_r ? STORE_SEEN : strcmp(t, "flagged") == 0 ? STORE_FLAGGED
		: strcmp(t, "replied") == 0 ? STORE_ANSWERED : strcmp(t, "passed") == 0 ? STORE_PASSED
		: strcmp(t, "draft") == 0 ? STORE_DRAFT : strcmp(t, "deleted") == 0 ? STORE_DELETED : 0;
}

/* One side of a tag change (op +1 add, -1 remove): the flag tags as flags,
 * the rest as keywords, each a UID STORE. */
static int tag_side(struct imap_mailbox *im, const uint32_t *uids, size_t n, int op,
		    const char *const *tags, size_t n_tags, const char **error_r)
{
	const char **kw = xcalloc(n_tags + 1, sizeof(*kw));
	uint32_t on = 0, off = 0;
	size_t n_kw = 0;
	int ret = 0;

	for (size_t k = 0; k < n_tags; k++) {
		bool inverse;
		uint32_t f = flag_of_tag(tags[k], &inverse);

		if (f != 0)
			*((op > 0) != inverse ? &on : &off) |= f;
		else if (keyword_ok(tags[k]))
			kw[n_kw++] = tags[k];
		else {
			snprintf(im->mb.error, sizeof(im->mb.error),
				 "'%s' cannot be an IMAP keyword", tags[k]);
			*error_r = im->mb.error;
			free(kw);
			return -1;
		}
	}
	struct imap_req add = { .kind = REQ_FLAGS, .uids = uids, .n = n, .op = 1, .flags = on };
	struct imap_req rm = { .kind = REQ_FLAGS, .uids = uids, .n = n, .op = -1, .flags = off };
	struct imap_req kws = { .kind = REQ_KEYWORDS, .uids = uids, .n = n, .op = op,
				.kw = kw, .n_kw = n_kw };

	if ((n_kw && imap_request(im, &kws, error_r) < 0) ||
	    (on && imap_request(im, &add, error_r) < 0) ||
	    (off && imap_request(im, &rm, error_r) < 0))
		ret = -1;
	free(kw);
	return ret;
}

static int imap_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		    size_t n_add, const char *const *rm, size_t n_rm, size_t *done_r,
		    const char **error_r)
{
	uint32_t *uids = imap_sorted_uids(mb, v, n);
	int ret = tag_side(IMB(mb), uids, n, 1, add, n_add, error_r) < 0 ||
				  tag_side(IMB(mb), uids, n, -1, rm, n_rm, error_r) < 0
			  ? -1
			  : 0;

	*done_r = ret == 0 ? n : 0;
	free(uids);
	return ret;
}

static int imap_search(struct mailbox *mb, const char *key, uint32_t **uids_r, size_t *n_r,
		       const char **error_r)
{
	struct imap_req rq = { .kind = REQ_SEARCH, .key = key };

	if (imap_request(IMB(mb), &rq, error_r) < 0) {
		free(rq.found);
		return -1;
	}
	*uids_r = rq.found;
	*n_r = rq.n_found;
	return 0;
}

int imap_cache_handle(struct imap_mailbox *im, uint32_t *validity_r, const char **error_r)
{
	pthread_mutex_lock(&im->lock);
	*validity_r = im->uidvalidity;
	pthread_mutex_unlock(&im->lock);
	free(im->cache_error);
	im->cache_error = NULL;
	if (*validity_r == 0)
		im->cache_error = xstrdup("the folder is not selected yet");
	else if (im->ui_hc == NULL)
		im->ui_hc = hcache_open(im->cache_dir, &im->cache_error);
	*error_r = im->cache_error;
	return im->cache_error != NULL ? -1 : 0;
}

/* The envelope of row i: the row's own, or the header cache's. */
static int imap_envelope(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	const struct imap_row *r = &im->view.v[i];
	struct hcache_msg m;
	uint32_t validity;
	int got;

	if (r->envelope != NULL) {
		sbuf_addstr(out, r->envelope);
		return 1;
	}
	if (!r->cached || imap_cache_handle(im, &validity, error_r) < 0)
		return 0;
	/* m is filled only when the record is there: the worker may have
	 * removed it (a message gone, a UIDVALIDITY change) before the UI
	 * took the rows without it. */
	got = hcache_get(im->ui_hc, im->acct.url.folder, r->uid, &m, &im->cache_error);
	if (got <= 0) {
		*error_r = im->cache_error;
		return 0;
	}
	if (m.envelope != NULL)
		sbuf_addstr(out, m.envelope);
	else
		got = 0;
	hcache_msg_clear(&m);
	*error_r = im->cache_error;
	return got;
}

static int imap_cache_view(struct mailbox *mb, const char *name,
			   void (*fn)(const void *data, size_t len, void *ctx), void *ctx,
			   const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	uint32_t validity;
	int r;

	if (imap_cache_handle(im, &validity, error_r) < 0)
		return -1;
	r = hcache_blob_view(im->ui_hc, im->acct.url.folder, name, validity, fn, ctx,
			     &im->cache_error);
	*error_r = im->cache_error;
	return r;
}

static int imap_cache_put(struct mailbox *mb, const char *name, size_t len,
			  void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			  const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	uint32_t validity;
	int r;

	/* Threads of a fill's rows so far fit no later open: writing them
	 * each second would cost megabytes of cache pages each time. */
	if (im->view_partial) {
		*error_r = "the headers are still arriving";
		return -1;
	}
	if (imap_cache_handle(im, &validity, error_r) < 0)
		return -1;
	r = hcache_blob_put(im->ui_hc, im->acct.url.folder, name, validity, len, fill, ctx,
			    &im->cache_error);
	*error_r = im->cache_error;
	return r;
}

const struct mailbox_driver mailbox_imap_driver = {
	.name = "imap",
	.accepts = imap_accepts,
	.open = imap_open,
	.close = imap_close,
	.caps = imap_caps,
	.count = imap_count,
	.msg = imap_msg,
	.threadkey = imap_threadkey,
	.index_of = imap_index_of,
	.envelope = imap_envelope,
	.read = imap_read,
	.same = imap_same,
	.sync = imap_sync,
	.notify_fd = imap_notify_fd,
	.status = imap_status,
	.set_flags = imap_set_flags,
	.copy = imap_copy,
	.move = imap_move,
	.expunge = imap_expunge,
	.append = imap_append,
	.folders = imap_folders,
	.resolve = imap_resolve,
	.folder = imap_folder,
	.role = imap_role,
	.settle = imap_settle,
	.account = imap_account,
	.search = imap_search,
	.tag = imap_tag,
	.msg_tags = imap_msg_tags,
	.cache_view = imap_cache_view,
	.cache_put = imap_cache_put,
};
