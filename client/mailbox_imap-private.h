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
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>


/* envelope, threadkey and keywords are shared strings (imap_str_new):
 * the worker's rows and each copy it publishes hold the same bytes.  A
 * row's headers live in the header cache once written there (cached):
 * its envelope and thread key are then read from the cache when asked
 * (the UI's imap_envelope, imap_threadkey), not kept in memory, so
 * 100,000 rows stay small.  Without a working cache they stay here. */
struct imap_row {
	uint32_t uid, flags, size;
	bool cached;			/* the headers are in the header cache */
	int64_t internaldate;
	char *envelope;			/* NULL: in the cache, or not fetched yet */
	char *threadkey;		/* client/mailbox.h's thread key of the
					 * envelope (made on the worker); NULL
					 * likewise */
	char *keywords;			/* space separated, $Forwarded aside; NULL: none */
};

/* Whether r has its headers (in memory or in the cache). */
static inline bool imap_row_has_headers(const struct imap_row *r)
{
	return r->envelope != NULL || r->cached;
}

struct imap_rows {
	struct imap_row *v;
	size_t n;
};

enum imap_req_kind { REQ_READ, REQ_FLAGS, REQ_EXPUNGE, REQ_APPEND, REQ_LIST, REQ_COPY,
		     REQ_SEARCH, REQ_KEYWORDS };

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
	bool undelete;			/* REQ_COPY with move: \Deleted taken off
					 * first (put back if the move fails) */
	struct sbuf *out;		/* REQ_READ */
	const char *const *kw;		/* REQ_KEYWORDS: add (op > 0) or remove */
	size_t n_kw;
	const char *key;		/* REQ_SEARCH: in */
	uint32_t *found;		/* REQ_SEARCH: out, malloc'd */
	size_t n_found;
	int ret;
	char *error;			/* malloc'd */
	bool done;
};

struct imap_mailbox {
	struct mailbox mb;
	struct remote_account acct;
	struct imap_rows view;		/* the UI's rows (UI thread only) */
	struct imap_keys *keys;		/* thread keys of view's rows read from
					 * the cache (UI thread); NULL: none */
	bool view_partial;		/* view is a fill's rows so far: no
					 * threads are kept for them */
	char *status_seen;		/* the status the UI last took */
	unsigned status_gen_seen;	/* status_gen when it took it */
	char *cache_dir;		/* STATE_DIR/hcache/ACCOUNT */
	char *bodies;			/* the directory of cached bodies */
	struct hcache *hc;		/* the worker's; NULL when it failed */
	struct hcache *ui_hc;		/* the UI thread's, for kept threads; NULL:
					 * not opened yet */
	char *cache_error;		/* the UI thread's last cache_get/put error */
	uint64_t modseq;		/* the worker's: HIGHESTMODSEQ its rows cover, 0: none */
	uint32_t uidnext;		/* the worker's: past the highest UID seen */
	bool served;			/* the worker's: a request changed the folder
					 * during a fill; the rows must look again */
	bool target;			/* MAILBOX_OPEN_TARGET: no SELECT, no rows */
	bool started;			/* the worker runs (a target's starts late) */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct imap_rows pub;		/* the worker's latest rows */
	bool pub_new;
	bool pub_reset;			/* UIDVALIDITY changed: no row is the same */
	bool pub_partial;		/* pub is a fill's rows so far (set
					 * with pub, taken with it) */
	char *status;			/* the connection's state in words */
	unsigned status_gen;		/* counts the statuses set: the same
					 * words again (a reconnection) are news */
	bool online, quit;
	bool tried;			/* the first connection attempt is over */
	bool cancelled;			/* the UI gave up a request: reconnect at once */
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

/* The UI thread's handle on the header cache (im->ui_hc, sharing the
 * worker's LMDB environment) and the UIDVALIDITY of the rows, for kept
 * bytes; -1 with *error_r before the first SELECT or when the cache does
 * not open (client/mailbox_imap.c). */
int imap_cache_handle(struct imap_mailbox *im, uint32_t *validity_r, const char **error_r);
/* The driver's threadkey (client/mailbox_imap_keys.c): a cached row's
 * key is valid until the next call (or sync, or close).  UI thread. */
const char *imap_threadkey(const struct mailbox *mb, size_t i);
/* Lets go of the keys read (a sync changed the view; close). */
void imap_keys_forget(struct imap_mailbox *im);

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

/* Shared strings: immutable, counted, freed by the last imap_str_unref
 * (any thread).  imap_str_new copies s[0..len) (NULL: NULL); imap_str_of
 * copies a C string (NULL: NULL); imap_str_ref returns s, counted once
 * more; imap_str_unref is NULL-safe. */
char *imap_str_new(const char *s, size_t len);
char *imap_str_of(const char *s);
char *imap_str_ref(char *s);
void imap_str_unref(char *s);
/* Whether two keyword strings (NULL: none) differ. */
bool imap_keywords_differ(const char *a, const char *b);
/* The length of a thread key (its five NUL-terminated fields). */
size_t imap_threadkey_len(const char *key);
/* Frees the rows and their strings; r is left empty. */
void imap_rows_free(struct imap_rows *r);
/* The index of uid in r (ascending by UID), or -1. */
long imap_rows_find(const struct imap_rows *r, uint32_t uid);
/* Writes a byte to the pipe fd (a full pipe already says so). */
void imap_poke(int fd);
/* Reads the pipe fd empty. */
void imap_drain(int fd);

/* What a list of messages from the server is (imap_rows_merge). */
enum imap_merge {
	IMAP_MERGE_DELTA,	/* those changed or new since a MODSEQ; ranges vanished */
	IMAP_MERGE_ALL_FLAGS,	/* the whole folder with its flags */
	IMAP_MERGE_ALL_UIDS,	/* the whole folder, flags unknown (SEARCH ALL) */
};
/* The rows mine becomes after msgs[0..n) (UID order, a UID may repeat)
 * and, for a delta, the VANISHED ranges (sorted here): rows keep their
 * headers, which move out of mine (free mine after); a row not in a
 * whole-folder list goes.  The UIDs still without headers (new ones,
 * and known ones never given any) into *missing_r (ascending, malloc'd)
 * and *n_missing_r.  Pure: unit-tested. */
struct imap_rows imap_rows_merge(struct imap_rows *mine, const struct remote_msg *msgs, size_t n,
				 enum imap_merge mode, struct remote_range *ranges, size_t n_ranges,
				 uint32_t **missing_r, size_t *n_missing_r);

/* The worker's side (client/mailbox_imap_worker.c), for the fetches:
 * publishes a copy of the rows that have headers (sharing their strings;
 * mine stays the caller's) and says so on the notify pipe. */
void imap_publish(struct imap_mailbox *im, const struct imap_rows *mine);
/* The same, saying whether they are a fill's rows so far (partial: no
 * threads are kept for them). */
void imap_publish_rows(struct imap_mailbox *im, const struct imap_rows *mine, bool partial);
/* After a UIDVALIDITY change: publishes no rows, and the next rows the
 * UI takes (these, or later ones) are all new, whatever their UIDs. */
void imap_publish_reset(struct imap_mailbox *im);
/* Sets the connection's state in words (text malloc'd, taken). */
void imap_set_status(struct imap_mailbox *im, bool online, char *text);
/* Serves the UI's request waiting, if any.  When it may have changed
 * the folder, mine (in a session) is refreshed and published before the
 * UI hears back; with mine NULL (a fill under way) im->served is set
 * instead.  0, or -1 with *error_r when the connection failed. */
int imap_serve(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
	       char **error_r);

/* The fetches (client/mailbox_imap_fetch.c), on the worker.  The cached
 * rows of the folder into mine (empty) and im->modseq; returns their
 * UIDVALIDITY, 0 when the cache has none. */
uint32_t imap_cache_load(struct imap_mailbox *im, struct imap_rows *mine);
/* The cached rows while they still load (on a thread of the worker's):
 * what the cache's folder record says, which a SELECT can name at once,
 * and the wait for the rows. */
struct imap_pending {
	uint32_t uidvalidity;		/* 0: no record */
	uint32_t last_uid;		/* UIDNEXT - 1 */
	uint64_t modseq;
	/* Fills mine (empty) and *validity once the rows are loaded;
	 * answered: the SELECT was answered, so rows loaded only now need
	 * not be shown before the answer is merged into them. */
	void (*join)(void *ctx, bool answered, struct imap_rows *mine, uint32_t *validity);
	void *ctx;
};
/* p's record fields from the cache (zeros without one). */
void imap_cache_known(struct imap_mailbox *im, struct imap_pending *p);
/* SELECTs the folder and brings mine up to date (see the file's
 * comment for how little that fetches); *known_validity is the
 * UIDVALIDITY of mine (0: none) and becomes the folder's; on a change
 * *note_r says so (malloc'd).  With pending (not NULL), mine is still
 * loading: the SELECT names pending's state and pending->join is called
 * (on every path) once it is answered.  0, or -1 with *error_r. */
int imap_open_folder(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		     uint32_t *known_validity, const struct imap_pending *pending,
		     char **note_r, char **error_r);
/* Brings mine up to date in a selected folder after news (expunged: the
 * news said some message went).  0, or -1 with *error_r. */
int imap_refresh(struct remote_conn *c, struct imap_mailbox *im, struct imap_rows *mine,
		 bool expunged, char **error_r);
/* Removes the cached bodies of the folder under another UIDVALIDITY
 * than validity (client/mailbox_imap.c; a failure only leaves files). */
void imap_bodies_drop(struct imap_mailbox *im, uint32_t validity);

/* The worker thread (pthread_create's start routine; arg is the
 * struct imap_mailbox): connects, fills and publishes the rows, serves
 * im->req, reconnects with backoff, until im->quit. */
void *mailbox_imap_worker(void *arg);

#endif
