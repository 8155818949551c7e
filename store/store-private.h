/* store-private: what store.c, folders.c, folder.c, folder_ops.c,
 * envelope.c and notify.c share.  Nothing outside store/store*.c,
 * folder*.c, envelope.c and notify.c includes this.
 *
 * Layout on disk: the state of folder NAME lives in STATE_DIR/NAME (so
 * nested folders' states nest like the folders); a folder given by an
 * absolute path outside the root gets STATE_DIR/.ext/HASH, HASH being the
 * FNV-1a of its path.  STATE_DIR/NAME/.tmpclean's mtime records the last
 * tmp/ cleaning of a maildir.
 *
 * One process may open the same folder twice (two struct store_folder):
 * LMDB forbids opening one environment twice in a process and an mbox's
 * fcntl locks die with any handle on the file, so both are shared through
 * the store's table of open folders (struct store_shared), refcounted. */
#ifndef LOFT_STORE_STORE_PRIVATE_H
#define LOFT_STORE_STORE_PRIVATE_H

#include "store/store.h"
#include "store/state.h"

#include <stdarg.h>

struct arena;
struct index;
struct mbox;
struct mbox_entry;
struct maildir_scan;
struct state;
struct state_rec;

struct store_shared {
	struct store_shared *next;
	char *path;			/* the folder's directory or mbox file */
	struct state *state;
	struct mbox *mbox;		/* mbox folders */
	unsigned refs;
};

struct store {
	char *root;
	char *state_dir;
	char *cache_dir;		/* for states that cannot be beside the mail */
	char *notmuch_db;
	unsigned lock_timeout;
	unsigned flags;			/* enum store_open_flags */
	struct index *index;		/* the writer, with STORE_OPEN_INDEX */
	bool index_dirty;		/* uncommitted index changes */
	char *error;			/* the last error, owned */
	enum store_error error_code;	/* its kind */
	struct store_shared *shared;
	unsigned open_folders;
	store_progress_fn *progress;	/* store_set_progress() */
	void *progress_ctx;
	/* New messages per transaction on an open (STORE_ADD_CHUNK; unit
	 * tests lower it to reach several chunks with few files). */
	size_t add_chunk;
	/* More new messages than this are added without reading their
	 * headers (STORE_EAGER_MAX when 0; unit tests lower it). */
	size_t eager_max;
	/* Messages per part of a kept snapshot image (IMAGE_PART when 0,
	 * folder_image.c; unit tests lower it). */
	size_t image_part;
};

/* What a snapshot built from the state was read at (folder_image.c). */
struct store_image_key {
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq, count;
	uint64_t stamps[STATE_STAMPS];
};

struct store_folder {
	struct store *store;
	char *name;			/* as resolved: "INBOX", "Lists/foo" or a path */
	char *path;			/* absolute: maildir directory or mbox file */
	char *state_dir;
	enum store_folder_kind kind;
	struct store_shared *sh;
	struct state *state;		/* sh->state */
	struct mbox *mbox;		/* sh->mbox (mbox folders) */

	/* The snapshot: msgs sorted by UID (malloc'd, room for cap); strings
	 * in arena or scan. */
	struct arena *arena;
	struct store_msg *msgs;
	size_t count, cap;
	struct maildir_scan *scan;	/* locations point into it */
	struct mbox_entry *mbox_entries;	/* the last mbox_scan */
	size_t mbox_count;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;

	int notify_fd;			/* -1 until asked for */
	/* Below this snapshot index every message has its thread key
	 * (folder_fill.c); 0 whenever the snapshot is rebuilt. */
	size_t fill_next;
	/* folder_image.c: the strings of a snapshot loaded from an image
	 * (malloc'd, or NULL); whether the snapshot is one built from the
	 * state and unchanged since, read at image_key. */
	char *image;
	bool image_keep;
	struct store_image_key image_key;
	/* store_folder_set_flags_hook(); NULL: none. */
	store_flags_hook_fn *flags_hook;
	void *flags_hook_ctx;
};

/* ---- store.c ---- */

/* Sets store->error to the formatted message, *error_r to it, its kind to
 * STORE_ERR_INTERNAL; returns -1. */
int store_fail(struct store *store, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with the kind given. */
int store_fail_code(struct store *store, enum store_error code, const char **error_r,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* store_fail_code() with the kind errno (as at the call) gives. */
int store_fail_errno(struct store *store, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The kind of a failure with this errno (store_error.c). */
enum store_error store_errno_code(int errnum);
/* Resolves a folder name ("INBOX", "+Lists/foo", "/abs/path") to its
 * absolute path, kind, display name and state directory (all malloc'd,
 * caller frees).  must_exist: fail with ENOENT text when there is no
 * maildir or mbox file there.  0 or -1. */
int store_resolve(struct store *store, const char *name, bool must_exist, char **path_r,
		  char **display_r, char **state_dir_r, enum store_folder_kind *kind_r,
		  const char **error_r);
/* The state directory of a root-relative folder name (malloc'd). */
char *store_state_dir_for(struct store *store, const char *name);
/* With STORE_OPEN_READONLY: fails with "STORE: the store is open
 * read-only" (-1); else 0.  Every call that changes mail or folders
 * starts with it. */
int store_check_writable(struct store *store, const char **error_r);
/* Takes a reference on the shared state (and mbox handle) of path,
 * opening them on first use.  0 or -1. */
int store_shared_get(struct store *store, const char *path, const char *state_dir,
		     enum store_folder_kind kind, struct store_shared **sh_r,
		     const char **error_r);
void store_shared_put(struct store *store, struct store_shared *sh);
/* Whether path is open in this process. */
bool store_shared_busy(struct store *store, const char *path);
/* Index hooks: no-ops without STORE_OPEN_INDEX or for mbox folders;
 * failures are logged, never returned (the mail operation succeeded). */
void store_index_add(struct store_folder *f, const char *location, uint32_t flags,
		     const char *keywords);
void store_index_remove(struct store_folder *f, const char *location);
void store_index_rename(struct store_folder *f, const char *old_location,
			const char *new_location);
void store_index_flags(struct store_folder *f, const char *location, uint32_t flags,
		       const char *keywords, const char *removed_keywords);
/* Commits what the hooks did (end of each store call). */
void store_index_commit(struct store *store);
/* True when name (a path) is a regular file whose first line starts with
 * "From ". */
bool store_is_mbox_file(const char *path);

/* ---- envelope.c ---- */

/* The IMAP ENVELOPE of a message from its header block: bytes up to the
 * first empty line (at most STORE_HEADER_MAX).  Malloc'd, or NULL when the
 * bytes do not parse. */
#define STORE_HEADER_MAX (256 * 1024)
char *store_envelope_of(const char *data, size_t len);
/* The same without GMime for simple headers (ASCII, plain addresses, no
 * encoded words); NULL when the header needs GMime (envelope_fast.c). */
char *store_envelope_fast(const char *data, size_t len);
/* Reads the header block of the file at path (relative to the directory
 * dirfd, or absolute) and returns its envelope (malloc'd) or NULL;
 * *size_r / *mtime_r get the file's size and mtime when it could be
 * opened (else they are left alone); *threadkey_r its thread key
 * (malloc'd; "" when the file cannot be read).  vsize_r not NULL: the
 * rest of the file is read too, to count its CRLF size into *vsize_r (0
 * when the file cannot be read). */
char *store_envelope_file(int dirfd, const char *path, uint64_t *size_r, int64_t *mtime_r,
			  char **threadkey_r, uint64_t *vsize_r);
/* The size of data in CRLF form (RFC822.SIZE): an LF not after a CR
 * counts two.  *last is the byte before data ('\0' at the start) and
 * becomes data's last byte, so a file can be counted in pieces. */
uint64_t store_crlf_size(const char *data, size_t len, char *last);

/* ---- threadkey.c ---- */

/* The thread key of a header block (data up to the empty line; an mbox
 * From_ line is skipped): five fields separated by tabs,
 *   DATE \t MESSAGE-ID \t IN-REPLY-TO \t REFERENCES \t SUBJECT
 * each the raw header value (first occurrence) unfolded, tabs and runs of
 * white space made one space, trimmed, at most 200 bytes; REFERENCES is
 * its last 4 <ids> separated by spaces (enough to find a parent when a
 * few ancestors are missing).  An absent field is empty.
 * Malloc'd; never NULL. */
char *store_threadkey_of(const char *data, size_t len);

struct store_env_job {
	const char *location;		/* relative to the folder */
	char *envelope;			/* out: malloc'd or NULL */
	char *threadkey;		/* out: malloc'd, never NULL */
	uint64_t size;			/* in: from the scan; out: fstat */
	uint64_t vsize;			/* out: the CRLF size (the name's ",W=", else
					 * counted); 0 when the file cannot be read */
	int64_t date;			/* in: from the scan; out: mtime */
	/* in: only stat the file (size, mtime; vsize from the name, else 0):
	 * envelope and thread key stay NULL. */
	bool stat_only;
};
/* Fills every job of a maildir folder, on two threads when there are
 * many, in chunks with a call of progress (may be NULL) after each; the
 * jobs are messages done..done + n of total (progress is called with 0
 * first when done is 0).  Returns 0, or -1 when progress asked to stop
 * (jobs not reached keep NULL envelope and thread key). */
int store_envelope_jobs(const char *folder_path, struct store_env_job *jobs, size_t n,
			size_t done, size_t total, store_progress_fn *progress, void *ctx);

/* ---- folder.c ---- */

/* New messages are added this many per transaction (store->add_chunk). */
#define STORE_ADD_CHUNK 4096
/* More new messages than this at once are added with their headers
 * unread (store->eager_max; folder.c says why). */
#define STORE_EAGER_MAX 1000

/* Scans, reconciles with the state and rebuilds the snapshot (the full
 * path of open and sync).  *changed_r: whether the state had to change. */
int store_reconcile(struct store_folder *f, bool *changed_r, const char **error_r);
/* Whether the file a maildir location names exists (false for an mbox,
 * a NULL or empty location). */
bool store_location_exists(const struct store_folder *f, const char *location);
/* The snapshot index of uid, or -1. */
long store_folder_index(const struct store_folder *f, uint32_t uid);
/* For mbox folders: makes f->mbox_entries current (rescans when the file
 * changed).  The caller holds the lock it wants.  0 or -1. */
int store_mbox_entries(struct store_folder *f, const char **error_r);
/* The mbox entry with this key in f->mbox_entries, or NULL. */
const struct mbox_entry *store_mbox_entry(const struct store_folder *f, const char *key);

/* The snapshot's form of a stored thread key (tabs between the fields):
 * the fields as consecutive NUL-terminated strings in a; NULL for NULL
 * (not read yet), five empty strings for "" (unreadable). */
const char *store_threadkey_split(struct arena *a, const char *key);
/* f's snapshot form of key: store_threadkey_split into f's arena, or with
 * STORE_OPEN_NO_THREADKEYS that of "" (no copy) for a key that is there. */
const char *store_snapshot_threadkey(struct store_folder *f, const char *key);
/* Empties the snapshot and frees its strings (arena and image). */
void store_snapshot_clear(struct store_folder *f);
/* Makes room for n messages in f->msgs (contents kept). */
void store_snapshot_reserve(struct store_folder *f, size_t n);

/* ---- folder_sync.c ---- */

/* The stamps of a maildir's files now (mtimes of new/ and cur/ in ns);
 * all 0 for an mbox or when a stat fails. */
void store_stamps_now(const struct store_folder *f, uint64_t stamps[STATE_STAMPS]);
/* After a full reconcile that started with stamps: records them in the
 * state when it has others and the files still have them (taken under
 * the writer lock; a failure is logged: it only costs a rescan). */
void store_stamps_record(struct store_folder *f, const uint64_t stamps[STATE_STAMPS]);
/* A loft change of the files inside txn: before it, *keep_r tells whether
 * the state's stamps match the files; after it (before the commit), the
 * new stamps are written when they did, else left to force a rescan.
 * 0 or -1 (after). */
void store_stamps_before(struct store_folder *f, struct state_txn *txn, bool *keep_r);
int store_stamps_after(struct store_folder *f, struct state_txn *txn, bool keep,
		       const char **error_r);
/* The warm open: builds the snapshot from the state alone when the stamps
 * match the files.  1 built, 0 a reconcile is needed, -1 error. */
int store_snapshot_from_state(struct store_folder *f, const char **error_r);

/* ---- folder_arrivals.c ---- */

/* The order in which several new messages get their UIDs: by the date
 * the scan saw (a maildir name's time), then by key, so that a rebuild
 * numbers them the same way every time.  <0, 0 or >0 as strcmp. */
int store_new_order(int64_t date_a, const char *key_a, int64_t date_b, const char *key_b);
/* A maildir sync whose walk at hdr found the state's stamps had not
 * vouching for the files: when only new/ changed, reads new/ alone and
 * adds its arrivals to the state (one transaction) with the stamps.  1
 * done (the state now has them: walk again), 0 a full reconcile is needed,
 * -1 error. */
int store_arrivals(struct store_folder *f, const struct state_header *hdr,
		   const uint64_t had[STATE_STAMPS], const char **error_r);

/* ---- folder_image.c ---- */

void store_image_key_of(struct store_image_key *key, const struct state_header *hdr,
			const uint64_t stamps[STATE_STAMPS]);
/* Replaces the snapshot with the image kept in the state when it was read
 * at key (the state's header and stamps now, which the files agree with):
 * 1.  older: an image read at an older key of the same UIDVALIDITY, with
 * few changes since, is loaded too: 2, *got_r its key (the caller replays
 * the changes since got_r->highestmodseq).  0 none usable (the snapshot
 * may be emptied: build it anew). */
int store_image_load(struct store_folder *f, const struct store_image_key *key, bool older,
		     struct store_image_key *got_r);

/* ---- notify.c ---- */

/* Drains pending notifications (refresh is about to look). */
void store_notify_drain(struct store_folder *f);
void store_notify_close(struct store_folder *f);

/* ---- folder_ops.c ---- */
/* The extended BODYSTRUCTURE of a message (malloc'd), or NULL when GMime
 * cannot make a message of it. */
char *store_bodystructure_of(const char *data, size_t len);

/* The flags a maildir location carries (STORE_RECENT for new/); its extra
 * info letters into extra[MAILDIR_EXTRA_SIZE] when extra is not NULL. */
uint32_t store_location_flags(const char *location, char *extra);
/* Rewrites the mbox so the messages with keys[0..n) are dropped (flags
 * NULL) or carry flags[k] (folder_flags.c).  The caller holds the
 * exclusive lock.  0 or -1. */
int store_mbox_change(struct store_folder *f, const char *const *keys, size_t n,
		      const uint32_t *flags, const char **error_r);
/* The key of a maildir location (malloc'd). */
char *store_location_key(const char *location);

/* Applies op with kw to the space-separated set cur; returns a malloc'd
 * normalised set (distinct, in first-seen order, single spaces). */
char *store_keywords_apply(const char *cur, int op, const char *kw);

#endif
