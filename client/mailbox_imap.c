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

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	remote_folders_free(im->folders, im->n_folders);
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
	return MAILBOX_CAP_WRITE | MAILBOX_CAP_MOVE;
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
	return imap_rows_find(&CIMB(mb)->view, uid);
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

int imap_request(struct imap_mailbox *im, struct imap_req *rq, const char **error_r)
{
	if (!im->started && start_worker(im) < 0) {
		*error_r = "cannot start the IMAP worker";
		return -1;
	}
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
	imap_poke(im->wake[1]);
	while (!rq->done)
		pthread_cond_wait(&im->cond, &im->lock);
	/* "Connected to HOST", not shown yet, is older than what the caller
	 * will say about this request: it is not shown after it. */
	if (im->status != NULL && im->online) {
		free(im->status_seen);
		im->status_seen = xstrdup(im->status);
	}
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

/* store_changes between the UI's rows and the worker's latest. */
static void diff(const struct imap_rows *old, const struct imap_rows *now,
		 struct store_changes *ch)
{
	size_t kept = 0;

	ch->expunged = xcalloc(old->n + 1, sizeof(uint32_t));
	ch->changed = xcalloc(old->n + 1, sizeof(uint32_t));
	for (size_t k = 0; k < old->n; k++) {
		long at = imap_rows_find(now, old->v[k].uid);

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
		imap_rows_free(&im->view);
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
};
