/* mailbox: the open mailbox of the mail client, behind one driver table.
 *
 * The screens (ui/) see a mailbox only through the calls below; each one
 * goes through the function pointers of the mailbox's driver
 * (struct mailbox_driver).  Two drivers today: a folder of the store
 * (client/mailbox_store.c), a notmuch search shown as a virtual
 * folder of files (client/mailbox_search.c) and a folder on an IMAP
 * server (client/mailbox_imap*.c, its network on a worker thread).
 *
 * Ownership, once for all:
 *   - a struct mailbox belongs to whoever opened it, until
 *     mailbox_close();
 *   - const pointers a call returns (names, the thread key of
 *     struct mailbox_msg) belong to the mailbox and stay valid until the
 *     next call that changes its rows (mailbox_sync, mailbox_step) or
 *     mailbox_close;
 *   - a struct sbuf handed in is appended to and stays the caller's;
 *     char * returns are malloc'd and the caller frees them;
 *   - *error_r is a static string or one owned by the mailbox, valid until
 *     the next call on it.
 * Nothing here prints or exits.  Calls return 0 on success and -1 with
 * *error_r on failure unless said otherwise.
 *
 * Messages are addressed by their index 0..count-1 in the mailbox's own
 * order (a folder: UID order; a search: notmuch's, newest first).  An
 * index is valid until the next mailbox_sync/mailbox_step; a UID is
 * stable for as long as the mailbox is open (a search numbers its rows
 * 1, 2, ...).  Sets of messages are arrays of distinct indices.  Flags are
 * store.h's enum store_flag bits.  Every call may block on the disk (a
 * future IMAP driver: on its worker); none waits for the user. */
#ifndef LOFT_CLIENT_MAILBOX_H
#define LOFT_CLIENT_MAILBOX_H

#include "client/thread.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct sbuf;
struct mailbox;
struct thread;
struct arena;
struct thread_options;

/* What a driver needs from the client's settings (borrowed: must outlive
 * every mailbox opened with it). */
struct mailbox_env {
	struct store *store;
	const char *root;		/* the store's root (notmuch's mail root) */
	const char *notmuch_db;		/* the notmuch_database setting, or NULL */
	const struct config *cfg;	/* the IMAP driver's account settings */
	/* Called on the caller's thread about every 50 ms while a call waits
	 * for the network (an IMAP request), waited_ms since the wait began;
	 * returns -1 to give up (Ctrl-G): the call then fails with
	 * "cancelled" and the connection is dropped and made again.  NULL:
	 * wait for the answer or the account's imap_timeout. */
	int (*waiting)(void *ctx, long waited_ms);
	void *waiting_ctx;
};

/* One message as the index needs it, without reading its file. */
struct mailbox_msg {
	uint32_t uid;
	uint32_t flags;
	uint64_t size;			/* bytes; 0 when unknown */
	int64_t internal_date;		/* arrival time; 0 when unknown */
	/* store.h's thread key (five NUL-terminated header fields), or NULL
	 * when the driver has none or makes it only when asked (then
	 * mailbox_threadkey): with neither, thread from the envelope. */
	const char *threadkey;
};

/* What a mailbox can do (mailbox_caps). */
enum mailbox_cap {
	MAILBOX_CAP_WRITE = 1 << 0,	/* flags, copy, move, expunge, append */
	MAILBOX_CAP_VIRTUAL = 1 << 1,	/* rows gathered from many folders, in
					 * the query's order (a search) */
	MAILBOX_CAP_MOVE = 1 << 2,	/* mailbox_move moves at once (a server's
					 * MOVE): s moves rather than marks */
	MAILBOX_CAP_SEARCH = 1 << 3,	/* its server searches (mailbox_search) */
};

/* A folder beside the open mailbox (mailbox_folders). */
struct mailbox_folder {
	char *name;			/* "INBOX", "Lists/foo": for mailbox_resolve */
	size_t total, unread;		/* 0 when not counted */
};

/* How fresh mailbox_folders' list must be. */
enum mailbox_folders_mode {
	/* Asked now: of an IMAP account, LIST-STATUS (else LIST and STATUS)
	 * on its worker while the caller waits, at most the account's
	 * timeout. */
	MAILBOX_FOLDERS_FRESH,
	MAILBOX_FOLDERS_CACHED,		/* the last list when there is one, else FRESH */
	MAILBOX_FOLDERS_NOWAIT,		/* the last list, never waiting on the network */
};

/* Called around each folder of the store counted by mailbox_folders (a
 * folder never opened is scanned once, which may take long). */
struct mailbox_count_hooks {
	void (*begin)(void *ctx, const char *name);
	bool (*end)(void *ctx);		/* true: count no more (the rest stay 0) */
	void *ctx;
};

/* Where mail of a kind is kept (mailbox_role). */
enum mailbox_role {
	MAILBOX_ROLE_SENT,		/* the copy of sent mail (record) */
	MAILBOX_ROLE_DRAFTS,		/* postponed messages (postponed) */
	MAILBOX_ROLE_TRASH,		/* purged messages (trash) */
};

/* The setting that names the mailbox of role ("record", "postponed",
 * "trash"); static. */
const char *mailbox_role_setting(enum mailbox_role role);

/* mailbox_open flags. */
enum mailbox_open_flag {
	MAILBOX_OPEN_CREATE = 1 << 0,	/* "+NAME" missing: create it */
	/* Opened only to be copied or appended to: an IMAP folder reads no
	 * rows and connects at its first write. */
	MAILBOX_OPEN_TARGET = 1 << 1,
};

/* mailbox_copy flags. */
enum mailbox_copy_flag {
	MAILBOX_COPY_UNDELETE = 1 << 0,	/* the copies lose STORE_DELETED (a trash) */
};

/* The driver table.  A driver fills what it can; a NULL operation is
 * answered by the mailbox_ call (documented there), so a driver that
 * cannot write leaves the write calls NULL.  Drivers embed struct mailbox
 * as their first member (client/mailbox-private.h). */
struct mailbox_driver {
	const char *name;		/* "store", "search", ... */
	/* Whether this driver serves name ("search:..." for notmuch). */
	bool (*accepts)(const char *name);
	int (*open)(const struct mailbox_env *env, const char *name, unsigned flags,
		    struct mailbox **mb_r, const char **error_r);
	void (*close)(struct mailbox *mb);
	unsigned (*caps)(const struct mailbox *mb);
	size_t (*count)(const struct mailbox *mb);
	void (*msg)(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r);
	/* The thread key msg leaves NULL because it costs work (IMAP parses
	 * the envelope): NULL when none. */
	const char *(*threadkey)(const struct mailbox *mb, size_t i);
	long (*index_of)(const struct mailbox *mb, uint32_t uid);
	/* The IMAP ENVELOPE of message i appended to out: 1, 0 when there is
	 * none, -1. */
	int (*envelope)(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r);
	int (*read)(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r);
	char *(*path)(const struct mailbox *mb, size_t i);
	bool (*same)(const struct mailbox *a, const struct mailbox *b);
	int (*sync)(struct mailbox *mb, struct store_changes *ch_r, const char **error_r);
	int (*notify_fd)(struct mailbox *mb);
	const char *(*status)(struct mailbox *mb);
	int (*step)(struct mailbox *mb, size_t max);
	bool (*pending)(const struct mailbox *mb);
	void (*stop)(struct mailbox *mb);
	int (*set_flags)(struct mailbox *mb, const uint32_t *v, size_t n, enum store_flag_op op,
			 uint32_t flags, const char **error_r);
	/* Copies to a mailbox of the same driver. */
	int (*copy)(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		    unsigned flags, const char **error_r);
	int (*move)(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		    const char **error_r);
	int (*expunge)(struct mailbox *mb, const uint32_t *v, size_t n, const char **error_r);
	int (*append)(struct mailbox *mb, const char *data, size_t len, uint32_t flags,
		      uint32_t *uid_r, const char **error_r);
	int (*tag)(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		   size_t n_add, const char *const *rm, size_t n_rm, size_t *done_r,
		   const char **error_r);
	/* The folders beside mb, counted (NULL: the store's). */
	int (*folders)(struct mailbox *mb, enum mailbox_folders_mode mode,
		       struct mailbox_folder **v_r, size_t *n_r, const char **error_r);
	/* mailbox_resolve, mailbox_folder, mailbox_role (NULL: the store's
	 * answers) and mailbox_settle (NULL: nothing to wait for). */
	char *(*resolve)(const struct mailbox *mb, const char *name, bool bare);
	const char *(*folder)(const struct mailbox *mb);
	char *(*role)(struct mailbox *mb, enum mailbox_role role);
	int (*settle)(struct mailbox *mb, const char **error_r);
	const char *(*account)(const struct mailbox *mb);	/* NULL: none */
	int (*search)(struct mailbox *mb, const char *key, uint32_t **uids_r, size_t *n_r,
		      const char **error_r);
	const char *(*msg_tags)(const struct mailbox *mb, size_t i);
	/* Bytes kept for the next open under name (NULL: nothing kept).
	 * cache_view calls fn with them (data valid during the call only,
	 * at any alignment) and answers 1, 0 when there are none, -1 on
	 * error; cache_put as store_folder_cache_put: 0 / -1. */
	int (*cache_view)(struct mailbox *mb, const char *name,
			  void (*fn)(const void *data, size_t len, void *ctx), void *ctx,
			  const char **error_r);
	int (*cache_put)(struct mailbox *mb, const char *name, size_t len,
			 void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			 const char **error_r);
};

/* Opens name with the first driver that accepts it: "search:QUERY" a
 * notmuch search (its first results are not read yet: mailbox_step),
 * "imaps://user@host/Folder" (imap://, imap+insecure://) an IMAP folder
 * (returns at once, empty: the rows come through mailbox_sync once the
 * worker has connected; mailbox_status says how it goes),
 * anything else a folder of the store ("INBOX", "+Lists/foo", a path).
 * A first open of a big folder may take long: the store's progress
 * callback (store_set_progress) is called meanwhile and can cancel. */
int mailbox_open(const struct mailbox_env *env, const char *name, unsigned flags,
		 struct mailbox **mb_r, const char **error_r);
/* Closes and frees; NULL-safe; sets *mbp to NULL. */
void mailbox_close(struct mailbox **mbp);
/* The name it was opened with. */
const char *mailbox_name(const struct mailbox *mb);
/* enum mailbox_cap bits. */
unsigned mailbox_caps(const struct mailbox *mb);

size_t mailbox_count(const struct mailbox *mb);
/* Message i (i < count) into *m_r. */
void mailbox_msg(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r);
/* Message i's thread key when mailbox_msg gave none because the driver
 * makes it only when asked (flags and counts then parse no envelope);
 * NULL when there is none.  Owned by the mailbox, valid until the next
 * call (or sync, or close): an IMAP folder reads keys from its header
 * cache a window of rows at a time, so threading every row never holds
 * every key. */
const char *mailbox_threadkey(const struct mailbox *mb, size_t i);
/* The index of the message with this UID, or -1 (gone).  O(log n). */
long mailbox_index_of(const struct mailbox *mb, uint32_t uid);
/* The IMAP ENVELOPE string of message i appended to out: 1, 0 when
 * there is none (unreadable), -1 on error. */
int mailbox_envelope(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r);
/* The whole message i appended to out. */
int mailbox_read(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r);
/* The file holding message i (for notmuch), or NULL when it has none
 * (mbox, a remote folder).  Caller frees. */
char *mailbox_path(const struct mailbox *mb, size_t i);
/* Whether a and b are the same mailbox (a purge into its own trash). */
bool mailbox_same(const struct mailbox *a, const struct mailbox *b);

/* Brings the rows up to date with what changed in the mailbox (any
 * process); *ch_r (may be NULL) says what changed, as store_folder_sync
 * does: indices change when messages come or go.  A mailbox that never
 * changes by itself (a search) reports nothing. */
int mailbox_sync(struct mailbox *mb, struct store_changes *ch_r, const char **error_r);
/* A descriptor that polls readable when mailbox_sync may find changes
 * (a connection's state change, later), or -1.  Owned by the mailbox. */
int mailbox_notify_fd(struct mailbox *mb);
/* What the mailbox has to say about its connection since the last call
 * ("Connecting to HOST...", why it dropped, "Connected to HOST"), or
 * NULL when nothing changed or it has no connection.  A change is
 * announced on mailbox_notify_fd. */
const char *mailbox_status(struct mailbox *mb);
/* Rows still arriving (a search read in steps): reads at most max more
 * (appended after the last) and returns 1 when more remain, 0 when all
 * are in.  0 at once for a mailbox that is complete when opened.  A
 * store folder opened for the first time (not virtual) has all its rows
 * but may lack their headers: a step reads those of max rows; until the
 * last, thread keys are NULL and envelopes are read one by one. */
int mailbox_step(struct mailbox *mb, size_t max);
/* Whether rows (or a store folder's headers) are still arriving. */
bool mailbox_pending(const struct mailbox *mb);
/* Stops the arrival, keeping the rows read (Ctrl-G; a store folder's
 * headers cannot be stopped). */
void mailbox_stop(struct mailbox *mb);

/* Changes the flags of v[0..n) in one transaction: all or nothing.
 * Fails on a mailbox without MAILBOX_CAP_WRITE. */
int mailbox_set_flags(struct mailbox *mb, const uint32_t *v, size_t n, enum store_flag_op op,
		      uint32_t flags, const char **error_r);
/* Copies v[0..n) into dst, all or nothing (dst commits nothing on
 * failure).  Between two folders of one IMAP account the server copies
 * (UID COPY); between drivers the messages are read and appended. */
int mailbox_copy(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		 unsigned flags, const char **error_r);
/* Moves v[0..n) into dst.  The store driver's move is store_move_uids()
 * (atomic between maildirs on one file system); between two folders of
 * one IMAP account the server's UID MOVE, else UID COPY then \Deleted and
 * UID EXPUNGE (a server without UIDPLUS: the originals stay, marked
 * \Deleted, and the call fails); otherwise, and between drivers, a copy
 * then an expunge here: a failure in between leaves the messages in
 * both, never in neither. */
int mailbox_move(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		 const char **error_r);
/* Removes v[0..n) (those gone already are skipped) in one transaction. */
int mailbox_expunge(struct mailbox *mb, const uint32_t *v, size_t n, const char **error_r);
/* Adds a message, durably; *uid_r (may be NULL) gets its UID. */
int mailbox_append(struct mailbox *mb, const char *data, size_t len, uint32_t flags,
		   uint32_t *uid_r, const char **error_r);
/* Changes the notmuch tags of v[0..n) (flag tags rename the files, as
 * `loft tag` does; sync to see the new flags) through a database writer
 * opened for this call only.  *done_r gets how many were tagged: messages
 * without a file (mbox) are skipped.  On failure *done_r still counts the
 * ones tagged before it. */
int mailbox_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		size_t n_add, const char *const *rm, size_t n_rm, size_t *done_r,
		const char **error_r);
/* The tags of message i when the mailbox keeps them itself (an IMAP
 * folder: its keywords, space separated, "" for none), or NULL when they
 * are notmuch's (ask the index by mailbox_path).  Owned by the mailbox,
 * valid until its rows change. */
const char *mailbox_msg_tags(const struct mailbox *mb, size_t i);
/* The UIDs (ascending; caller frees *uids_r) of the messages the
 * mailbox's server finds for an IMAP SEARCH key ("BODY \"word\""), for
 * the patterns that would otherwise read every message.  Fails on a
 * mailbox without MAILBOX_CAP_SEARCH, or while disconnected.  Blocks on
 * the network (the env's waiting callback can give up). */
int mailbox_search(struct mailbox *mb, const char *key, uint32_t **uids_r, size_t *n_r,
		   const char **error_r);

/* ---- threads kept between opens: client/mailbox_threads.c ---- */

/* The threads of mb's rows as mailbox_threads_keep() left them, when they
 * were built from the same rows (the same UIDs in the same order) with
 * the same options (NULL: THREAD_OPTIONS_DEFAULT); else, and for a
 * mailbox that keeps nothing (a search), NULL; for an IMAP folder whose
 * rows are those UIDs followed by a few new ones, the kept threads with
 * the new ones added (client/thread_add.h).  The
 * caller frees the result with thread_free().  A store folder reads them
 * from its state: a few ms for 100,000 messages, against ~150 ms for
 * thread_build() and its input. */
struct thread *mailbox_threads_cached(struct mailbox *mb, const struct thread_options *opt);
/* Keeps t, built over mb's current rows with opt, for the next open (one
 * state write of ~50 bytes a message; a failure is ignored: the next
 * open builds them again).  Does nothing for a mailbox that keeps
 * nothing.  A mailbox whose thread keys are made only when asked (IMAP)
 * also keeps what client/thread_add.h needs of the input t was built
 * from, read through fn (NULL: none; thread_build_fn's contract), so that
 * mailbox_threads_cached can add a few new rows to t (reading only their
 * keys) instead of answering NULL. */
void mailbox_threads_keep(struct mailbox *mb, const struct thread *t, thread_input_fn *fn,
			  void *ctx, const struct thread_options *opt);
/* Keeps t as mailbox_threads_keep would, when mailbox_threads_cached added
 * rows to kept threads and t is what it answered (the same rows since,
 * the same options: opt NULL the defaults); else does nothing.  Those
 * threads are not kept by mailbox_threads_cached itself: the caller
 * draws first (keeping them is two state commits, tens of ms for 100,000
 * rows) and calls this when idle, or before closing. */
void mailbox_threads_flush(struct mailbox *mb, const struct thread *t,
			   const struct thread_options *opt);
/* The fields (enum thread_field) of message i's thread input from its
 * thread key (pointers into the key, valid as mailbox_threadkey's: until
 * the next call; a decoded subject in pool, through tmp): false when it
 * has no key. */
bool mailbox_thread_input(struct mailbox *mb, size_t i, unsigned fields, struct thread_input *in,
			  struct arena *pool, struct sbuf *tmp);

/* ---- the folders beside a mailbox: client/mailbox_folders.c ----
 * ui/ lists, completes and opens folders through these, whatever the
 * kind of the open mailbox. */

/* The folders beside mb (NULL: none open yet): of an IMAP folder the
 * account's folders with the server's counts (mode says how fresh); else
 * the store's folders, counted from their state when counts is true
 * (hooks, may be NULL, around each).  0 with *v_r (mailbox_folders_free)
 * and *n_r, or -1 with *error_r. */
int mailbox_folders(struct mailbox *mb, const struct mailbox_env *env,
		    enum mailbox_folders_mode mode, bool counts,
		    const struct mailbox_count_hooks *hooks, struct mailbox_folder **v_r,
		    size_t *n_r, const char **error_r);
void mailbox_folders_free(struct mailbox_folder *v, size_t n);
/* The name mailbox_open takes for name typed (or, with bare, chosen from
 * mailbox_folders) while mb is open (may be NULL): on an IMAP folder
 * "+F", "=F" and a bare F are folder F of the same account (its URL);
 * otherwise name as given, with mutt's '=' read as '+'.  Malloc'd. */
char *mailbox_resolve(const struct mailbox *mb, const char *name, bool bare);
/* mb's own entry in mailbox_folders' list ("INBOX"); owned by mb. */
const char *mailbox_folder(const struct mailbox *mb);
/* The mailbox that keeps mail of role for whoever composes (or purges)
 * while mb is open (may be NULL): for an IMAP folder, the account's
 * special-use folder (\Sent, \Drafts, \Trash from LIST; asked when not
 * known yet, waiting at most the timeout), else the folder the account
 * block's record/postponed/trash names, else "Sent"/"Drafts"/"Trash", on
 * the same server; otherwise the record/postponed/trash setting.  A name
 * for mailbox_open (malloc'd), or NULL when the setting is unset (no copy
 * kept; purged for good). */
char *mailbox_role(struct mailbox *mb, const struct mailbox_env *env, enum mailbox_role role);
/* The mailrc `account` block mb belongs to (an IMAP folder whose server
 * and login are that block's imap_url), or NULL: the global settings
 * apply.  Owned by mb.  Mail written while mb is open goes out with that
 * account's from, realname and smarthost. */
const char *mailbox_account(const struct mailbox *mb);
/* Waits until a mailbox just opened has its first rows (an IMAP folder:
 * its first connection attempt is over, at most the timeout), then
 * syncs.  0, or -1 with *error_r (not connected). */
int mailbox_settle(struct mailbox *mb, const char **error_r);

#endif
