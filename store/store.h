/* store: the mailbox store — folders under one root (maildirs, or mbox
 * files), loft's per-folder state beside them, and the notmuch index.
 *
 * Ownership, once for all: a struct store_folder owns every struct
 * store_msg and string it hands out; they stay valid until the next
 * store_folder_sync(), store_folder_refresh() or store_folder_close() on
 * that folder.  Strings said to be "caller frees" are malloc'd.  Errors:
 * functions return 0 on success and -1 on failure with *error_r set to a
 * message that names the path involved, valid until the next call on the
 * same store (owned by the store), and store_error_code() telling what
 * kind of failure it was.  Nothing here prints or exits.
 *
 * Blocking: every call may block on disk I/O; calls that take an mbox lock
 * wait at most the lock timeout (then fail with a "locked" error); the
 * notmuch writer is taken only by a store opened with STORE_OPEN_INDEX.
 *
 * Processes: open the store after fork() (LMDB environments must not cross
 * a fork).  Any number of processes may open the same store at once; they
 * see each other's changes on store_folder_sync() or through
 * store_folder_notify_fd(). */
#ifndef LOFT_STORE_STORE_H
#define LOFT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sbuf;
struct store;
struct store_folder;

/* ---- errors ---- */

/* What kind of failure the last failing call on a store was, for callers
 * that answer a protocol: the one mapping to IMAP response codes and to
 * sysexits is store_error_imap() / store_error_sysexit() below. */
enum store_error {
	STORE_OK = 0,
	STORE_ERR_INTERNAL,		/* I/O error, or none of the below */
	STORE_ERR_NO_FOLDER,		/* no such folder */
	STORE_ERR_NO_MESSAGE,		/* no such UID, or its file is gone */
	STORE_ERR_EXISTS,		/* the folder (or name) already exists */
	STORE_ERR_NO_SPACE,		/* ENOSPC, EDQUOT */
	STORE_ERR_LOCKED,		/* an mbox lock timed out, a folder is open */
	STORE_ERR_TOO_BIG,		/* a message over a limit (EFBIG, header size) */
	STORE_ERR_LIMIT,		/* UID or MODSEQ space, name length, depth */
	STORE_ERR_BAD_NAME,		/* a folder name store_folder_name_check refuses */
	STORE_ERR_NOT_PERMITTED,	/* EACCES, EPERM */
	STORE_ERR_READ_ONLY,		/* STORE_OPEN_READONLY, EROFS */
	STORE_ERR_CANCELLED,		/* the progress callback asked to stop */
	STORE_ERR_CORRUPT,		/* a garbled state record or header */
};

/* The kind of the last failure on store (STORE_OK when none yet): valid
 * with the *error_r of the same failing call.  A failing store_open() has
 * no store: treat it as STORE_ERR_INTERNAL. */
enum store_error store_error_code(const struct store *store);
/* The IMAP response code for err (RFC 3501, 5530, 7889), without the
 * brackets: "TRYCREATE" for STORE_ERR_NO_FOLDER when the folder is the
 * target of APPEND, COPY or MOVE (target true), else "NONEXISTENT";
 * "EXPUNGEISSUED", "ALREADYEXISTS", "OVERQUOTA", "INUSE", "TOOBIG",
 * "LIMIT", "CANNOT", "NOPERM", "SERVERBUG", "CORRUPTION"; NULL when the
 * answer carries no code (STORE_OK, STORE_ERR_CANCELLED).  Static. */
const char *store_error_imap(enum store_error err, bool target);
/* The sysexits.h status an MDA exits with for err: EX_TEMPFAIL for what
 * may pass later (no space, locked, I/O, cancelled, corrupt state),
 * EX_CANTCREAT for a missing or unnamable folder, EX_NOPERM, EX_DATAERR
 * for a message too big; EX_OK for STORE_OK. */
int store_error_sysexit(enum store_error err);

struct store_settings {
	const char *root;		/* the `folder` setting, expanded; required */
	const char *state_dir;		/* NULL: ROOT/.loft */
	const char *notmuch_db;		/* NULL: ROOT/.notmuch */
	unsigned mbox_lock_timeout;	/* seconds; 0: 10 */
	/* Where the states of read-only folders are built (below); NULL:
	 * $XDG_CACHE_HOME/loft, else $HOME/.cache/loft. */
	const char *cache_dir;
};

enum store_open_flags {
	/* This process is the notmuch writer: store changes are indexed as
	 * they happen.  At most one process should ask for it at a time
	 * (notmuch 0.37 blocks a second writer with no timeout). */
	STORE_OPEN_INDEX = 1 << 0,
	/* Create the root and INBOX when missing, and Sent/Drafts/Trash with
	 * a new store (INBOX was missing too). */
	STORE_OPEN_CREATE = 1 << 1,
	/* Read-only (`loft -R`): nothing under the root or the state dir is
	 * written (no tmp/ cleaning, no state beside the mail); every
	 * folder's state is built in the cache dir; append, copy, move,
	 * flag changes, expunge and folder create/rename/delete fail with
	 * "read-only".  Not with STORE_OPEN_INDEX or STORE_OPEN_CREATE. */
	STORE_OPEN_READONLY = 1 << 2,
	/* Snapshots without thread keys (an IMAP server never threads): a
	 * store_msg's threadkey is then five empty strings where the
	 * headers were read, NULL where not, and a SELECT of 100,000
	 * messages copies no key (~20% of its time). */
	STORE_OPEN_NO_THREADKEYS = 1 << 3,
};

/* Opens the store.  Returns 0 and *store_r, or -1 with *error_r (a static
 * or thread-local string: valid until the next failing store_open()).
 * Per-folder state lives in STATE_DIR/NAME ("Lists/foo" -> .loft/Lists/foo);
 * a folder given by a path outside the root in STATE_DIR/.ext/HASH.
 * When neither that state nor the folder can be written (a backup, another
 * user's mail, a read-only mount), or with STORE_OPEN_READONLY, it is
 * built instead in
 * CACHE_DIR/state/HASH (HASH of the state path it stands for) and kept
 * there for the next open; it is a cache of the files like any state.
 * Initialises GMime (message_init()); call message_deinit() at exit. */
int store_open(const struct store_settings *set, unsigned flags,
	       struct store **store_r, const char **error_r);
/* Progress of long work (computing the envelopes of many new messages on
 * a folder's first open): fn(done, total, ctx) is called on the caller's
 * thread at the start (done 0) and every thousand messages, and returns 0 to go on or -1 to
 * cancel; a cancelled open or refresh fails with "cancelled" and keeps
 * what it committed (new messages are added a few thousand per
 * transaction: the next open goes on from there).  fn NULL removes it.
 * fn must not call into this store. */
typedef int store_progress_fn(size_t done, size_t total, void *ctx);
void store_set_progress(struct store *store, store_progress_fn *fn, void *ctx);

/* Closes the store; every folder opened from it must be closed first.
 * NULL-safe; sets *storep to NULL. */
void store_close(struct store **storep);
/* The store's state directory (the state_dir setting, else ROOT/.loft);
 * owned by the store, valid until store_close(). */
const char *store_state_dir(const struct store *store);

/* ---- folders ---- */

enum store_folder_kind { STORE_MAILDIR, STORE_MBOX };

struct store_folder_info {
	char *name;			/* "INBOX", "Lists/foo" (caller frees via
					 * store_folder_list_free) */
	enum store_folder_kind kind;
	bool maildirpp;			/* found as a Maildir++ ".Name" */
};

/* Every folder under the root: maildirs (plain and Maildir++ ".a.b" style
 * as Dovecot and Courier write them), mbox files.  Sorted by name, INBOX
 * first.  Unreadable subdirectories are skipped (and logged). */
int store_folder_list(struct store *store, struct store_folder_info **list_r,
		      size_t *count_r, const char **error_r);
void store_folder_list_free(struct store_folder_info *list, size_t count);

/* Limits of store_folder_name_check(). */
#define STORE_FOLDER_NAME_MAX 160	/* bytes */
#define STORE_FOLDER_DEPTH_MAX 8	/* components */

/* Whether name (relative to the root, without a leading '+') may become a
 * folder: not empty, not absolute, at most STORE_FOLDER_NAME_MAX bytes and
 * STORE_FOLDER_DEPTH_MAX components, no control character, no empty, ".",
 * ".." or dot-led component (.loft holds loft's state and queue, .notmuch
 * the index), no "new", "cur" or "tmp" component.  The one check for every
 * name that comes from outside the store: delivery (Sieve fileinto), `loft
 * sieve check/test`, store_folder_create(), the IMAP server.  Returns 0, or
 * -1 with *error_r a static description.  Pure: touches no file. */
int store_folder_name_check(const char *name, const char **error_r);

/* name is relative to the root ("Lists/foo", "+Lists/foo") and must pass
 * store_folder_name_check(); a name inside the state directory or the
 * notmuch database (when those are under the root) is refused too.  Fails
 * when the folder exists. */
int store_folder_create(struct store *store, const char *name, const char **error_r);
/* Renames the folder (or a directory that only holds folders) with its
 * subfolders and their state; UIDVALIDITYs are kept.  Fails when the
 * target exists or the folder is open in this process. */
int store_folder_rename(struct store *store, const char *from, const char *to,
			const char **error_r);
/* Deletes the folder, its messages and its state (subfolders stay).
 * Fails when the folder is open in this process. */
int store_folder_delete(struct store *store, const char *name, const char **error_r);

/* ---- a folder as a snapshot ---- */

enum store_flag {
	STORE_SEEN = 1 << 0,		/* maildir S, IMAP \Seen */
	STORE_ANSWERED = 1 << 1,	/* R, \Answered */
	STORE_FLAGGED = 1 << 2,		/* F, \Flagged */
	STORE_DELETED = 1 << 3,		/* T, \Deleted */
	STORE_DRAFT = 1 << 4,		/* D, \Draft */
	STORE_PASSED = 1 << 5,		/* P, $Forwarded */
	STORE_RECENT = 1 << 6,		/* in new/ (maildir) or not yet seen by loft */
};

struct store_msg {
	uint32_t uid;
	uint32_t flags;			/* enum store_flag bits */
	uint64_t modseq;
	uint64_t size;			/* bytes of the message as stored */
	/* Bytes of its CRLF form (IMAP's RFC822.SIZE: a bare LF counts
	 * two), counted when the message was first seen; 0 when unknown
	 * (state written by an older loft; an mbox message, whose Status
	 * header changes with its flags). */
	uint64_t vsize;
	int64_t internal_date;		/* seconds since the epoch */
	const char *keywords;		/* IMAP keywords, space-separated, "" if none */
	/* The cached IMAP ENVELOPE is not in the snapshot (it would be most
	 * of its memory): store_folder_envelope() reads it on demand. */
	/* The fields threading needs, cached with the envelope: five
	 * NUL-terminated strings one after the other, DATE, MESSAGE-ID,
	 * IN-REPLY-TO, REFERENCES, SUBJECT: raw header values unfolded
	 * (REFERENCES: its last 4 ids; IN-REPLY-TO "" when it is the last of
	 * them); each "" when absent, all "" when the file could not be read.
	 * NULL while the header is not read yet (a big first open:
	 * store_folder_fill()). */
	const char *threadkey;
	const char *location;		/* maildir: path relative to the folder
					 * ("cur/123.M4P5.host:2,S"); mbox: NULL */
};

/* name: a folder name relative to the root ("INBOX", "+Lists/foo" also
 * accepted), or an absolute path to a maildir or an mbox file anywhere.
 * Scans the folder, reconciles it with the state (new files get UIDs,
 * vanished ones are expunged, renamed flags picked up; a missing state is
 * rebuilt with a new UIDVALIDITY) and returns the snapshot, ordered by UID. */
int store_folder_open(struct store *store, const char *name,
		      struct store_folder **folder_r, const char **error_r);
/* Opens a folder only to append to it (delivery): no scan, no snapshot
 * (count 0), so its cost does not grow with the folder; UIDVALIDITY, UIDNEXT
 * and HIGHESTMODSEQ are the state's at open.  Only store_append,
 * store_msg_read of appended UIDs and store_folder_close may be used. */
int store_folder_open_append(struct store *store, const char *name,
			     struct store_folder **folder_r, const char **error_r);
void store_folder_close(struct store_folder **folderp);
/* What a caller that skips unchanged folders (loft sync) needs without a
 * snapshot: the state's UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, valid
 * only when the maildir's files are as the state last recorded them (no
 * other program changed them since).  1 with *uidvalidity_r, *uidnext_r
 * and *modseq_r set; 0 when they are not (the files changed, an mbox, no
 * state yet): open the folder; -1 on error.  A header read and two stats
 * (store/folder_peek.c). */
int store_folder_peek(struct store *store, const char *name, uint32_t *uidvalidity_r,
		      uint32_t *uidnext_r, uint64_t *modseq_r, const char **error_r);

/* The number of messages of folder name and how many lack STORE_SEEN, as
 * its state last recorded them (counters in the state: no scan, no record
 * read; what changed on disk since the last open or refresh by any
 * process is not seen).  A folder without a state yet is opened (a scan)
 * once to build it.  For folder lists and sidebars. */
int store_folder_status(struct store *store, const char *name, size_t *total_r,
			size_t *unseen_r, const char **error_r);

size_t store_folder_count(const struct store_folder *f);
/* i-th message in UID order (0 <= i < count). */
const struct store_msg *store_folder_msg(const struct store_folder *f, size_t i);
/* The message with this UID, or NULL. O(log n). */
const struct store_msg *store_folder_find(const struct store_folder *f, uint32_t uid);
/* Appends the cached IMAP ENVELOPE of uid (as the current state has it)
 * to out: 1, or 0 when there is none (no such UID, or the file could not
 * be read/parsed when it was cached), or -1 on a state error.  One short
 * read transaction: for the rows on screen, a FETCH, a sort.  A message
 * whose header is not read yet (a big first open) is read then, with up
 * to 255 more unread ones after it in the snapshot, and kept in the state
 * (one transaction; store_folder_fill() says what it writes). */
int store_folder_envelope(struct store_folder *f, uint32_t uid, struct sbuf *out,
			  const char **error_r);

/* A first open that finds more than a thousand new messages (a big maildir
 * nobody opened before) only lists and stats them: UIDs, flags, sizes
 * and dates are there at once, their headers (thread key, envelope, CRLF
 * size) are read later, on demand (store_folder_envelope) or in steps by
 * a caller that needs them all (the client's threads).
 *
 * Whether every message of the snapshot has its thread key.  Cheap: it
 * remembers how far it looked. */
bool store_folder_filled(struct store_folder *f);
/* Reads the headers of at most max messages of the snapshot that lack
 * their thread key (in UID order, on two threads), and writes thread
 * keys, envelopes and CRLF sizes into the state in one transaction
 * without a new MODSEQ, and into the snapshot (its threadkey and vsize
 * fields change in place; the messages do not move).  The first call
 * after a scan also moves the snapshot's location strings to a tight
 * copy (their pointers change, their text does not).  *left_r (may be
 * NULL): how many still lack it.  About 10 ms per 1,000 messages; 0 or
 * -1. */
int store_folder_fill(struct store_folder *f, size_t max, size_t *left_r,
		      const char **error_r);
/* What a client derives from the folder and keeps for the next open (the
 * client's threads), under name (a short word): bytes opaque to the store,
 * kept in the folder's state and dropped with it.  store_folder_cache_get
 * appends those last put under name to out: 1, or 0 when there are none
 * or they were put under another UIDVALIDITY; -1 on a state error.  The
 * caller checks they still fit the folder (they survive every change).
 * store_folder_cache_put replaces them with the len bytes fill(dst, len,
 * ctx) writes in place (no copy): one state transaction that takes
 * no MODSEQ and wakes no other process (a read-only store writes it too:
 * its states are in the cache dir).  0 or -1. */
int store_folder_cache_get(struct store_folder *f, const char *name, struct sbuf *out,
			   const char **error_r);
int store_folder_cache_put(struct store_folder *f, const char *name, size_t len,
			   void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			   const char **error_r);
/* Keeps the snapshot in the folder's state as one block, so that the next
 * open of the folder, unchanged by then, copies it back rather than
 * reading every record (the client's warm first screen), and one after a
 * few changes copies it and replays those (fewer than 1,000 + a tenth of
 * the folder; an IMAP server's SELECT after a new message).  Only a
 * snapshot the open built from the state (or from an image and more than
 * 1,000 + count/32 changes), unchanged since in this process and with
 * every thread key read (not asked with STORE_OPEN_NO_THREADKEYS, whose
 * images are kept apart), is kept (else nothing is done); one state
 * transaction per 16,384 messages (~100 bytes a message) that wakes no
 * other process.  A UIDVALIDITY change or many changes make the next
 * open ignore it.  0 or -1. */
int store_folder_keep_snapshot(struct store_folder *f, const char **error_r);
uint32_t store_folder_uidvalidity(const struct store_folder *f);
uint32_t store_folder_uidnext(const struct store_folder *f);
uint64_t store_folder_highestmodseq(const struct store_folder *f);
/* The folder's absolute path: its maildir directory (store_msg.location
 * is relative to it) or its mbox file. */
const char *store_folder_path(const struct store_folder *f);
enum store_folder_kind store_folder_kind(const struct store_folder *f);

/* What store_folder_sync() found changed since the snapshot before it.
 * The arrays are malloc'd (free with store_changes_free()), NULL when
 * empty. */
struct store_changes {
	uint32_t *expunged;		/* UIDs gone from the snapshot, ascending */
	size_t n_expunged;
	uint32_t *changed;		/* UIDs still there whose flags, keywords or
					 * MODSEQ changed, ascending (new ones not) */
	size_t n_changed;
	size_t n_new;			/* the last n_new messages of the new snapshot
					 * are new (UID >= the old UIDNEXT) */
	bool rescanned;			/* the files were read (see below) */
};
void store_changes_free(struct store_changes *c);

/* Brings the snapshot up to date and says what changed (changes_r may be
 * NULL).  Pointers into the old snapshot are invalid afterwards.
 *
 * Cost: the state is the source.  When the directories new/ and cur/ (an
 * mbox: the file) have the modification times the state recorded at its
 * last reconcile, the files are not read: an unchanged folder costs a
 * stat per directory and one state header read (microseconds), a change
 * by any loft process costs the changed records.  When they differ
 * (mutt, mbsync, `rm`, a delivery by another program), or a recorded
 * time was too recent to be trusted (the file system's clock tick had not
 * passed), the folder is rescanned and reconciled as at open, and
 * rescanned is set.  Can block on the state's writer lock (reconcile). */
int store_folder_sync(struct store_folder *f, struct store_changes *changes_r,
		      const char **error_r);

/* store_folder_sync() for callers that only need to know whether anything
 * changed: *changed_r (if not NULL) tells whether anything changed (the
 * files, or the state through another process or this one).
 *
 * The snapshot is what the last open/refresh saw: store_append, copy, move
 * and expunge do not change it (refresh to see them); store_set_flags
 * updates the message's flags, MODSEQ, keywords and location in place.
 * The calls below take a UID, not a snapshot entry, and work on the
 * current state (a UID appended after the snapshot can be read). */
int store_folder_refresh(struct store_folder *f, bool *changed_r, const char **error_r);

/* A file descriptor that becomes readable when the folder may have changed
 * (inotify on new/ and cur/ (mbox: the file's directory) and on the
 * folder's state, so every state change by any process wakes it, keyword
 * changes included).  After it polls readable, call store_folder_sync().
 * A queue overflow simply means "changed".  Owned by the folder; -1 when
 * inotify is not available. */
int store_folder_notify_fd(struct store_folder *f);

/* ---- messages ---- */

/* Appends the whole message to out.  A maildir file renamed meanwhile by
 * another program is found again by a rescan. */
int store_msg_read(struct store_folder *f, uint32_t uid, struct sbuf *out,
		   const char **error_r);
/* Opens the message for reading without copying it: *fd_r (caller
 * closes; positioned at 0) and *size_r its size.  Maildir: the file itself
 * (found again by key when renamed meanwhile); mbox: an anonymous file
 * holding the message un-quoted.  Then read a range with pread(), so
 * BODY[]<0.4096> of a 40 MB message reads 4 KB. */
int store_msg_open(struct store_folder *f, uint32_t uid, int *fd_r, uint64_t *size_r,
		   const char **error_r);
/* Appends at most len bytes of the message from offset to out (nothing
 * when offset is past the end): a partial FETCH. */
int store_msg_read_range(struct store_folder *f, uint32_t uid, uint64_t offset,
			 uint64_t len, struct sbuf *out, const char **error_r);
/* Appends the cached IMAP BODYSTRUCTURE (with extension data) of uid to
 * out: 1, 0 when there is no such UID or the message does not parse, -1
 * on error.  Cached in the state with the envelope: computed when a
 * message is appended or copied by loft, and for files that arrived
 * otherwise on the first call (one parse, then one state write). */
int store_folder_bodystructure(struct store_folder *f, uint32_t uid, struct sbuf *out,
			       const char **error_r);
/* Adds a message, durably (fsync of the file and of the directory) before
 * returning.  internal_date 0 means now.  *uid_r gets the new UID. */
int store_append(struct store_folder *f, const char *data, size_t len,
		 uint32_t flags, const char *keywords, int64_t internal_date,
		 uint32_t *uid_r, const char **error_r);
/* Adds a message to the maildir folder name as a file only: written,
 * fsynced, renamed into new/ (cur/ with flags) and the directory fsynced
 * before returning, the folder's state not opened.  The next open or
 * refresh finds the file and gives it its UID (see folder_deliver.c); an
 * IDLE on the folder is woken by the rename.  For one process per message,
 * where the state's commit would cost more than the file.  Returns 1 when
 * added; 0 when name is an mbox folder (nothing done: use store_append);
 * -1 on error (STORE_ERR_NO_FOLDER when there is no such folder). */
int store_deliver_file(struct store *store, const char *name, const char *data, size_t len,
		       uint32_t flags, const char **error_r);
/* Copies/moves the message to another folder (a fresh unique name there);
 * *new_uid_r gets its UID in dst (the one-UID forms of store_copy_uids()
 * and store_move_uids(); an unknown UID is an error here).  Keywords, flags and the cached envelope
 * go along.  A move is atomic as store_move_uids() says. */
int store_copy(struct store_folder *src, uint32_t uid, struct store_folder *dst,
	       uint32_t *new_uid_r, const char **error_r);
int store_move(struct store_folder *src, uint32_t uid, struct store_folder *dst,
	       uint32_t *new_uid_r, const char **error_r);

enum store_flag_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };
/* Whether the space-separated list (may be NULL) has the word w[0..n),
 * compared case-insensitively as IMAP keywords are. */
bool store_keywords_has(const char *list, const char *w, size_t n);

/* Changes flags and/or keywords (keywords space-separated, NULL = leave
 * them alone; compared case-insensitively); bumps the MODSEQ when a flag
 * other than STORE_RECENT or a keyword changes; a maildir file is renamed,
 * and leaves new/ for cur/ when it gets any flag (or STORE_RECENT is
 * removed).  STORE_FLAGS_SET keeps STORE_RECENT as it was.  Keywords are
 * stored in the state only (and as notmuch tags with STORE_OPEN_INDEX).
 * The one-UID form of store_set_flags_uids(); an unknown UID is an error
 * here (STORE_ERR_NO_MESSAGE). */
int store_set_flags(struct store_folder *f, uint32_t uid, enum store_flag_op op,
		    uint32_t flags, const char *keywords, const char **error_r);
/* Removes the given UIDs (unknown ones are skipped), or every \Deleted
 * message when n == 0, in one transaction; the expunges are logged by
 * MODSEQ for QRESYNC. */
int store_expunge(struct store_folder *f, const uint32_t *uids, size_t n,
		  const char **error_r);
/* ---- UID sets: one state transaction (one fsync) per call ----
 *
 * uids[0..n) in any order, distinct (a copy or move of a UID listed
 * twice makes two copies); UIDs the state does not have (expunged by
 * someone) are skipped, not an error.  Files are renamed, linked or
 * removed one by one as the single calls do, inside the one transaction,
 * so a crash at any step leaves files the next open reconciles: nothing
 * lost, nothing duplicated, UIDs never reused.  The snapshot is updated
 * in place for flag changes (as store_set_flags). */

struct store_flag_change {
	enum store_flag_op op;
	uint32_t flags;			/* enum store_flag bits */
	const char *keywords;		/* space-separated; NULL: leave alone */
	/* CONDSTORE: when not 0, messages whose MODSEQ is greater are left
	 * alone and their UIDs returned in *modified_r. */
	uint64_t unchangedsince;
};
/* Applies ch to every message of uids.  *modified_r (malloc'd, ascending,
 * caller frees; NULL when none) / *n_modified_r get the UIDs skipped by
 * unchangedsince; both may be NULL when it is 0. */
int store_set_flags_uids(struct store_folder *f, const uint32_t *uids, size_t n,
			 const struct store_flag_change *ch, uint32_t **modified_r,
			 size_t *n_modified_r, const char **error_r);
/* Called by the flag calls above for each maildir file they are about to
 * rename for a flag change, inside their state transaction and before
 * the rename: path (absolute) and flags (the message's new enum
 * store_flag bits).  The hook may rename the file to the name the store
 * gives it (index_flag_rename() does, for the notmuch index); the store's
 * rename then finds it in place, and a file renamed meanwhile is found as
 * always.  The hook must not call into this folder or open the notmuch
 * writer (whoever holds it may be waiting for this folder).  fn NULL
 * removes it. */
typedef void store_flags_hook_fn(void *ctx, const char *path, uint32_t flags);
void store_folder_set_flags_hook(struct store_folder *f, store_flags_hook_fn *fn, void *ctx);
/* \Recent for exactly one IMAP session: of uids, the messages that still
 * have STORE_RECENT lose it (maildir: new/ -> cur/), in one transaction
 * that reads each record under the writer lock, so of two sessions
 * claiming the same message at the same instant exactly one gets it.
 * *claimed_r (malloc'd, ascending, caller frees; NULL when none) /
 * *n_claimed_r: the UIDs this call took the mark from.  0 or -1. */
int store_claim_recent(struct store_folder *f, const uint32_t *uids, size_t n,
		       uint32_t **claimed_r, size_t *n_claimed_r, const char **error_r);
/* Copies/moves every message of uids to dst.  A copy: one transaction in
 * dst (files linked or copied, records added).  A move between two
 * maildirs on one file system: each file renamed into dst, both folders'
 * transactions held together and committed back to back (records added
 * in dst, expunges logged in src), so a crash or a failure at any point
 * leaves each message in exactly one folder; a failure before the
 * commits renames the files back.  Other moves (same folder, another
 * file system, maildir <-> mbox) are a copy then an expunge in src: a
 * crash or a failure in between leaves the messages in both folders,
 * never in neither.  new_uids_r[i] (an array of n the caller owns) gets
 * the UID in dst of uids[i], or 0 when it was skipped (an unknown UID, or
 * a message whose file another session or program removed meanwhile),
 * for COPYUID.
 * Between kinds each message is an append in dst.  A failure half-way in
 * a copy commits nothing in dst (the files made are removed).  Blocks on
 * both folders' writer locks (taken in a fixed order: no deadlock). */
int store_copy_uids(struct store_folder *src, const uint32_t *uids, size_t n,
		    struct store_folder *dst, uint32_t *new_uids_r, const char **error_r);
int store_move_uids(struct store_folder *src, const uint32_t *uids, size_t n,
		    struct store_folder *dst, uint32_t *new_uids_r, const char **error_r);

/* UIDs expunged after modseq, for QRESYNC.  *uids_r caller frees. */
int store_expunged_since(struct store_folder *f, uint64_t modseq, uint32_t **uids_r,
			 size_t *n_r, const char **error_r);

/* Keeps the gconv modules of the common charsets loaded for the life of
 * the process (once; later calls return at once), so decoding many
 * encoded words costs no dlopen each.  Thread-safe; never fails. */
void store_gconv_pin(void);

#endif
