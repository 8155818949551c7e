/* mailbox_imap_folders: what an IMAP folder knows of the other folders of
 * its account: their list with counts (for `c`, `?`, Tab and the
 * sidebar), the URL of a sibling ("+Sent" on an IMAP folder is the
 * account's Sent), the special-use Sent and Drafts folders, and copies
 * and moves between two folders of one account done by the server (UID
 * COPY, UID MOVE) instead of a read and an append.
 *
 * The list is asked on the worker, over the open connection: LIST-STATUS
 * when offered, else LIST then STATUS per folder (remote_list_folders).
 * The UI thread waits for the answer, bounded by the account's timeout,
 * with "Listing folders..." on the message line (keys wait meanwhile).
 * With LIST-STATUS the worker also lists after each connection and each
 * copy or move, so the sidebar and Tab have a list without waiting;
 * without it (a STATUS per folder) the first `c ?` or Tab asks. */
#include "client/mailbox_imap-private.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The folders of the last list, as struct mailbox_folder; under the lock. */
static void copy_folders(struct imap_mailbox *im, struct mailbox_folder **v_r, size_t *n_r)
{
	struct mailbox_folder *v;
	size_t n = 0;

	pthread_mutex_lock(&im->lock);
	v = xcalloc(im->n_folders + 1, sizeof(*v));
	for (size_t i = 0; i < im->n_folders; i++) {
		const struct remote_folder *f = &im->folders[i];

		if (f->noselect)
			continue;	/* holds folders, not messages */
		v[n].name = xstrdup(f->name);
		v[n].total = f->messages;
		v[n].unread = f->unseen;
		n++;
	}
	pthread_mutex_unlock(&im->lock);
	*v_r = v;
	*n_r = n;
}

static int ask_list(struct imap_mailbox *im, const char **error_r)
{
	struct imap_req rq = { .kind = REQ_LIST };

	return imap_request(im, &rq, error_r);
}

int imap_folders(struct mailbox *mb, enum mailbox_folders_mode mode, struct mailbox_folder **v_r,
		 size_t *n_r, const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	bool have;

	pthread_mutex_lock(&im->lock);
	have = im->have_folders;
	pthread_mutex_unlock(&im->lock);
	/* Without an answer the last list will do (offline), but not after
	 * Ctrl-G: the user gave up the whole thing. */
	if ((mode == MAILBOX_FOLDERS_FRESH || (mode == MAILBOX_FOLDERS_CACHED && !have)) &&
	    ask_list(im, error_r) < 0 && (!have || strcmp(*error_r, "cancelled") == 0))
		return -1;
	copy_folders(im, v_r, n_r);
	return 0;
}

/* The URL of folder on mb's server, with mb's scheme and login. */
static char *sibling_url(const struct mailbox *mb, const char *folder)
{
	static const char keep[] = "-._~/!$&'()*+,;=:@";
	const char *host = strstr(mb->name, "://") + 3, *slash = strchr(host, '/');
	struct sbuf b = SBUF_INIT;

	if (slash == NULL)
		slash = host + strlen(host);
	sbuf_add(&b, mb->name, (size_t)(slash - mb->name));
	sbuf_addch(&b, '/');
	for (const unsigned char *p = (const unsigned char *)folder; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (strchr(keep, *p) != NULL && *p != '\0'))
			sbuf_addch(&b, (char)*p);
		else
			sbuf_addf(&b, "%%%02X", *p);
	}
	return sbuf_detach(&b, NULL);
}

char *imap_resolve(const struct mailbox *mb, const char *name, bool bare)
{
	if (name[0] == '+' || name[0] == '=')
		return sibling_url(mb, name + 1);
	if (bare && !remote_url_is(name))
		return sibling_url(mb, name);
	return xstrdup(name);
}

const char *imap_folder(const struct mailbox *mb)
{
	return CIMB(mb)->acct.url.folder;
}

/* The folder of the last list with the special-use bit, or NULL. */
static char *special_folder(struct imap_mailbox *im, unsigned bit)
{
	char *name = NULL;

	pthread_mutex_lock(&im->lock);
	for (size_t i = 0; i < im->n_folders && name == NULL; i++)
		if (im->folders[i].special & bit)
			name = xstrdup(im->folders[i].name);
	pthread_mutex_unlock(&im->lock);
	return name;
}

char *imap_role(struct mailbox *mb, enum mailbox_role role)
{
	static const unsigned special[] = { [MAILBOX_ROLE_SENT] = REMOTE_SPECIAL_SENT,
					    [MAILBOX_ROLE_DRAFTS] = REMOTE_SPECIAL_DRAFTS,
					    [MAILBOX_ROLE_TRASH] = REMOTE_SPECIAL_TRASH };
	static const char *const fallback[] = { [MAILBOX_ROLE_SENT] = "Sent",
						[MAILBOX_ROLE_DRAFTS] = "Drafts",
						[MAILBOX_ROLE_TRASH] = "Trash" };
	struct imap_mailbox *im = IMB(mb);
	const char *v = config_account_get(mb->env.cfg, im->acct.name, mailbox_role_setting(role));
	const char *err;
	char *name, *url;
	bool have;

	/* `unset record` keeps no copy, wherever the mail comes from;
	 * `unset trash` purges for good. */
	if (v == NULL || *v == '\0')
		return NULL;
	pthread_mutex_lock(&im->lock);
	have = im->have_folders;
	pthread_mutex_unlock(&im->lock);
	if (!have)
		ask_list(im, &err);
	name = special_folder(im, special[role]);
	if (name == NULL) {
		/* "+Sent" (the default) names the account's Sent; a path
		 * names nothing on a server: its last component then. */
		const char *base = v[0] == '+' || v[0] == '=' ? v + 1 : strrchr(v, '/');

		base = base == NULL ? v : base[0] == '/' ? base + 1 : base;
		name = xstrdup(*base != '\0' ? base : fallback[role]);
	}
	url = sibling_url(mb, name);
	free(name);
	return url;
}

int imap_settle(struct mailbox *mb, const char **error_r)
{
	struct imap_mailbox *im = IMB(mb);
	bool online;

	if (im->target)
		return 0;	/* no rows: it connects at its first write */
	pthread_mutex_lock(&im->lock);
	while (!im->tried)
		pthread_cond_wait(&im->cond, &im->lock);
	online = im->online;
	pthread_mutex_unlock(&im->lock);
	if (mailbox_sync(mb, NULL, error_r) < 0)
		return -1;
	if (!online && mailbox_count(mb) == 0) {
		snprintf(mb->error, sizeof(mb->error), "not connected to %s", im->acct.url.host);
		*error_r = mb->error;
		return -1;
	}
	return 0;
}

const char *imap_account(const struct mailbox *mb)
{
	const struct imap_mailbox *im = CIMB(mb);

	return config_account_exists(mb->env.cfg, im->acct.name) ? im->acct.name : NULL;
}

/* Whether a and b are folders of one account: the same server and login. */
static bool same_account(const struct imap_mailbox *a, const struct imap_mailbox *b)
{
	const char *ua = a->acct.user ? a->acct.user : "", *ub = b->acct.user ? b->acct.user : "";

	return strcasecmp(a->acct.url.hostport, b->acct.url.hostport) == 0 &&
	       strcmp(ua, ub) == 0 && a->acct.url.security == b->acct.url.security;
}

static int server_copy(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		       bool move, const char **error_r)
{
	uint32_t *uids = imap_sorted_uids(mb, v, n);
	struct imap_req rq = { .kind = REQ_COPY, .uids = uids, .n = n,
			       .folder = IMB(dst)->acct.url.folder, .move = move };
	int ret;

	/* A message moved arrives as a message like any other, not marked
	 * deleted (a purge into the account's trash is such a move). */
	for (size_t k = 0; move && k < n; k++)
		rq.undelete = rq.undelete || (IMB(mb)->view.v[v[k]].flags & STORE_DELETED);
	ret = imap_request(IMB(mb), &rq, error_r);

	free(uids);
	return ret;
}

int imap_copy(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
	      unsigned flags, const char **error_r)
{
	/* A server's COPY keeps \Deleted: into a trash, read and append. */
	if (!same_account(IMB(mb), IMB(dst)) || (flags & MAILBOX_COPY_UNDELETE))
		return mailbox_copy_through(mb, v, n, dst, flags, error_r);
	return server_copy(mb, v, n, dst, false, error_r);
}

int imap_move(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
	      const char **error_r)
{
	if (!same_account(IMB(mb), IMB(dst))) {
		if (mailbox_copy_through(mb, v, n, dst, MAILBOX_COPY_UNDELETE, error_r) < 0)
			return -1;
		return mailbox_expunge(mb, v, n, error_r);
	}
	return server_copy(mb, v, n, dst, true, error_r);
}
