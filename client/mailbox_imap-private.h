/* mailbox_imap-private: what the IMAP driver's two halves share: the
 * rows, the request handed from the UI thread to the worker, and the
 * mailbox both see under its lock.  Only client/mailbox_imap*.c include
 * it. */
#ifndef LOFT_CLIENT_MAILBOX_IMAP_PRIVATE_H
#define LOFT_CLIENT_MAILBOX_IMAP_PRIVATE_H

#include "client/mailbox-private.h"

#include "remote/hcache.h"
#include "remote/remote.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct imap_row {
	uint32_t uid, flags, size;
	int64_t internaldate;
	char *envelope;
};

struct imap_rows {
	struct imap_row *v;
	size_t n;
};

enum imap_req_kind { REQ_READ, REQ_FLAGS, REQ_EXPUNGE, REQ_APPEND, REQ_LIST, REQ_COPY };

struct imap_req {
	enum imap_req_kind kind;
	const uint32_t *uids;		/* ascending */
	size_t n;
	int op;				/* REQ_FLAGS: +1, -1, 0 */
	uint32_t flags;
	const char *data;		/* REQ_APPEND */
	size_t len;
	const char *folder;		/* REQ_COPY's target; REQ_APPEND's when
					 * not the open folder's */
	bool move;			/* REQ_COPY: move */
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
	bool target;			/* MAILBOX_OPEN_TARGET: no SELECT, no rows */
	bool started;			/* the worker runs (a target's starts late) */

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
	struct remote_folder *folders;	/* the account's last folder list */
	size_t n_folders;
	bool have_folders;
	struct imap_req *req;		/* the one request waiting */
	int notify[2];			/* worker -> UI */
	int wake[2];			/* UI -> worker */
	pthread_t thread;
};

#define IMB(m) ((struct imap_mailbox *)(m))
#define CIMB(m) ((const struct imap_mailbox *)(m))

/* Hands rq to the worker (starting a target's) and waits for its
 * answer; fails at once while disconnected.  0, or -1 with *error_r
 * (owned by im). */
int imap_request(struct imap_mailbox *im, struct imap_req *rq, const char **error_r);
/* The UIDs of rows v[0..n), ascending; caller frees. */
uint32_t *imap_sorted_uids(const struct mailbox *mb, const uint32_t *v, size_t n);
/* Keeps list as the account's folder list (taking it), under the lock. */
void imap_keep_folders(struct imap_mailbox *im, struct remote_folder *list, size_t n);

/* The driver's folder operations (client/mailbox_imap_folders.c);
 * contracts as struct mailbox_driver's. */
int imap_folders(struct mailbox *mb, enum mailbox_folders_mode mode, struct mailbox_folder **v_r,
		 size_t *n_r, const char **error_r);
char *imap_resolve(const struct mailbox *mb, const char *name, bool bare);
const char *imap_folder(const struct mailbox *mb);
char *imap_role(struct mailbox *mb, enum mailbox_role role);
int imap_settle(struct mailbox *mb, const char **error_r);
const char *imap_account(const struct mailbox *mb);
int imap_copy(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
	      unsigned flags, const char **error_r);
int imap_move(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
	      const char **error_r);

/* Frees the rows and their envelopes; r is left empty. */
void imap_rows_free(struct imap_rows *r);
/* The index of uid in r (ascending by UID), or -1. */
long imap_rows_find(const struct imap_rows *r, uint32_t uid);
/* Writes a byte to the pipe fd (a full pipe already says so). */
void imap_poke(int fd);
/* Reads the pipe fd empty. */
void imap_drain(int fd);

/* The worker thread (pthread_create's start routine; arg is the
 * struct imap_mailbox): connects, fills and publishes the rows, serves
 * im->req, reconnects with backoff, until im->quit. */
void *mailbox_imap_worker(void *arg);

#endif
