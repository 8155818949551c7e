/* state: loft's per-folder state in LMDB (store-private).
 *
 * One LMDB environment per folder, in a directory under the store's state
 * dir (never inside a maildir's cur/new/tmp).  It holds UIDVALIDITY, UIDNEXT
 * and HIGHESTMODSEQ; per UID a record (struct state_rec); the map from the
 * driver's stable key (maildir: the unique part of the file name, before
 * ":2,") to the UID; and the log of expunged UIDs by MODSEQ.  It is a cache
 * of what the files say plus the UID/MODSEQ numbering: deleting it loses no
 * mail, it is rebuilt with a new UIDVALIDITY.
 *
 * Ownership: struct state_rec strings handed to callbacks are valid only
 * during the callback; records passed in are copied.  Errors: 0 / -1 with
 * *error_r (owned by the state, valid until its next call) naming the path
 * ("DIR/data.mdb: MDB_MAP_FULL: ... (writing a record)").  state_open() and
 * state_destroy() have no state yet: their *error_r is a thread-local
 * buffer, valid until the next failing state_open()/state_destroy() in the
 * same thread.  A struct state is used by one thread at a time.
 *
 * Concurrency: open after fork(); any number of processes may read and one
 * writes at a time (LMDB serialises writers; state_begin blocks until the
 * writer lock is free).  Read transactions are opened and closed inside each
 * call, never held across waits.  mdb_reader_check() runs at open; the
 * environment has room for 512 readers (one process per IMAP connection).
 * Every commit is durable when state_commit returns (two fsyncs, the
 * second after the writer lock is released): batch changes in one
 * transaction. */
#ifndef LOFT_STORE_STATE_H
#define LOFT_STORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct state;
struct state_txn;

struct state_rec {
	uint32_t uid;			/* set by the state on add */
	uint32_t flags;			/* enum store_flag bits */
	uint64_t modseq;		/* set by the state on add/update */
	uint64_t size;
	int64_t internal_date;
	const char *key;		/* driver's stable key (unique, non-empty) */
	const char *location;		/* driver's current location ("cur/NAME:2,S"), may be ""
					 * (NULL is kept as NULL) */
	const char *keywords;		/* space-separated, may be "" (NULL kept as NULL) */
	const char *envelope;		/* cached IMAP ENVELOPE, may be NULL */
	/* Threading fields from the header (store_threadkey_of() in
	 * store-private.h); NULL in a record written before they existed
	 * (version 1), then the folder's next open computes it. */
	const char *threadkey;
	const char *bodystructure;	/* cached IMAP BODYSTRUCTURE, may be NULL */
	/* The message's size in CRLF form (RFC822.SIZE), counted when it was
	 * first seen; 0 when unknown (a record written before it was kept:
	 * version 1 or 2). */
	uint64_t vsize;
};

struct state_header {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	bool created;			/* true when this open created it (rebuild) */
	size_t count;			/* number of records */
};

/* Opens the state in directory dir (created with its parents, mode 0700,
 * when missing).  A new state gets UIDVALIDITY = the clock, raised above
 * the last value handed out under the same parent directory (kept in
 * PARENT/.uidvalidity), UIDNEXT 1, HIGHESTMODSEQ 1.  Clears stale reader
 * slots.  Blocks on disk I/O and, when it creates, on the writer lock.
 * 0 and *state_r (free with state_close()), or -1. */
int state_open(const char *dir, struct state **state_r, const char **error_r);
/* As state_open(); a new state's UIDVALIDITY is also raised above the
 * value kept in keep_file, which then holds it: a file outside the state
 * tree, so a state rebuilt after the tree was deleted never reuses a
 * UIDVALIDITY (NULL: as state_open()). */
int state_open_keep(const char *dir, const char *keep_file, struct state **state_r,
		    const char **error_r);
/* NULL-safe; sets *statep to NULL.  No transaction may be open. */
void state_close(struct state **statep);
/* Removes dir/data.mdb and dir/lock.mdb, then dir itself unless it still
 * holds something (nested folders' states).  Missing files are fine.  The
 * state must not be open in this process. */
int state_destroy(const char *dir, const char **error_r);
/* The directory the state lives in (owned by st).  Every commit touches
 * DIR/changed once it is complete (created when missing), so an inotify
 * watch on DIR for IN_ATTRIB | IN_CREATE sees every change any process
 * makes. */
const char *state_dir(const struct state *st);
/* How many stale reader slots (of processes that died in a read) this
 * state_open() cleared. */
unsigned state_readers_cleared(const struct state *st);

int state_get_header(struct state *st, struct state_header *hdr_r, const char **error_r);
/* The number of records, and of records without STORE_SEEN, from a
 * counter every write transaction keeps (states written before the
 * counter existed are walked until their next write).  Cheap: no record
 * is decoded.  0 or -1. */
int state_get_counts(struct state *st, size_t *total_r, size_t *unseen_r, const char **error_r);
/* Calls fn for every record in UID order; fn returns 0 to go on, -1 to stop
 * (then state_foreach returns -1 with *error_r "...: stopped").  One read
 * transaction spans the walk, so fn must not block or call state_begin();
 * it may call the other read functions.  A garbled record ends the walk
 * with -1. */
int state_foreach(struct state *st, int (*fn)(const struct state_rec *rec, void *ctx),
		  void *ctx, const char **error_r);
/* The change-detection stamps of the folder's files the state was last
 * reconciled with (store/folder_sync.c: the mtimes of new/ and cur/ in
 * nanoseconds), 0 when unknown.  Kept in meta "stamp0"/"stamp1". */
#define STATE_STAMPS 2
/* One read transaction: the header (with count), the stamps, then fn for
 * every record whose MODSEQ is greater than modseq, in UID order.  When
 * few changed (fewer than 64 + count/8) they are found through the index
 * of the records by MODSEQ (state-modseq.c), at the cost of the changes;
 * otherwise, or while that index is not exact, records at or below modseq
 * are skipped without being decoded (a walk of the cursor's pages).  fn
 * as in state_foreach().  0 or -1. */
int state_foreach_since(struct state *st, uint64_t modseq, struct state_header *hdr_r,
			uint64_t stamps_r[STATE_STAMPS],
			int (*fn)(const struct state_rec *rec, void *ctx), void *ctx,
			const char **error_r);
/* UID for a key: 1 and *uid_r if found, 0 if not, -1 on error. */
int state_lookup_key(struct state *st, const char *key, uint32_t *uid_r, const char **error_r);
/* Copies the record of uid into *rec_r with strings in *buf_r (caller
 * frees *buf_r): 1 found, 0 not, -1 error. */
int state_get(struct state *st, uint32_t uid, struct state_rec *rec_r, char **buf_r,
	      const char **error_r);
/* UIDs expunged with a MODSEQ greater than modseq, sorted by UID;
 * *uids_r caller frees (NULL when *n_r is 0). */
int state_expunged_since(struct state *st, uint64_t modseq, uint32_t **uids_r, size_t *n_r,
			 const char **error_r);

/* A write transaction: everything between begin and commit is one fsync.
 * state_begin blocks until no other process writes; one transaction per
 * struct state at a time.  On a state whose MODSEQ index is not exact
 * (written before it existed, or by an older loft) state_begin rebuilds
 * it first: one pass over the records (~0.1 s for 100,000), once.  state_commit and state_abort always free the
 * transaction and set *txnp to NULL (abort is NULL-safe).  After a failing
 * state_txn_* call the transaction should be aborted, except a duplicate
 * key in add/update, which changes nothing. */
int state_begin(struct state *st, struct state_txn **txn_r, const char **error_r);
int state_commit(struct state_txn **txnp, const char **error_r);
void state_abort(struct state_txn **txnp);
/* Keeps the headers of uid read after its record was added (a big first
 * open adds records without them): its thread key, envelope (NULL: it did
 * not parse) and CRLF size (0: unknown), beside the record, without a new
 * MODSEQ; every read of the record then has them (a record's own thread
 * key wins).  1 written, 0 when the record is gone or has its thread key
 * already (another process filled it), -1 on error. */
int state_txn_fill(struct state_txn *txn, uint32_t uid, const char *threadkey,
		   const char *envelope, uint64_t vsize, const char **error_r);
/* The commit of txn does not touch DIR/changed: for a transaction that
 * changes nothing another process shows (state_txn_fill only), so that
 * filling a big folder does not wake every watcher (the filling client
 * included) once per step. */
void state_txn_no_wake(struct state_txn *txn);
/* Drops the state's mapped pages from this process's resident set (they
 * stay in the page cache; the next read faults them back in for the cost
 * of a page table entry): after work that read much of the state, such as
 * a fill, whose pages would otherwise count in the RSS.  No transaction of
 * this state may be open.  Best effort. */
void state_release_map(struct state *st);
/* Bytes a caller keeps under name (a short word) in the state, opaque
 * to it (state-cache.c): state_cache_get appends them to out and returns
 * 1, or 0 when there are none, -1 on error; state_cache_put replaces them
 * in a transaction of its own (blocks on the writer lock) that takes no
 * MODSEQ and wakes no watcher.  0 or -1.  They go with the state. */
int state_cache_get(struct state *st, const char *name, struct sbuf *out, const char **error_r);
int state_cache_put(struct state *st, const char *name, const void *data, size_t len,
		    const char **error_r);
/* state_cache_put of len bytes that fill(dst, len, ctx) writes in place
 * (no buffer of the caller's: for megabytes). */
int state_cache_put_with(struct state *st, const char *name, size_t len,
			 void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			 const char **error_r);
/* The same without a copy: fn(data, len, ctx) sees the bytes in place,
 * inside one read transaction (they are gone after it), and its return
 * (not 0) is state_cache_read's; 0 when there are none, -1 on error. */
int state_cache_read(struct state *st, const char *name,
		     int (*fn)(const void *data, size_t len, void *ctx), void *ctx,
		     const char **error_r);
/* Drops the pages of the state's map that hold p[0..len) (bytes a
 * state_cache_read callback sees) from this process's resident set; they
 * stay in the page cache.  For a callback that copies megabytes: dropped
 * as it goes, they never all count at once. */
void state_map_drop(const void *p, size_t len);
/* UIDNEXT and HIGHESTMODSEQ as this transaction has them so far: after an
 * add, update with bump or remove, the MODSEQ that change took. */
uint32_t state_txn_uidnext(const struct state_txn *txn);
uint64_t state_txn_highestmodseq(const struct state_txn *txn);
/* Adds a record: UID = rec->uid when that is >= UIDNEXT (a rebuild that
 * keeps order), else UIDNEXT; UIDNEXT becomes UID + 1; a new MODSEQ
 * (rec->modseq is ignored).  *uid_r (if not NULL) gets the UID.  Fails if
 * the key is empty, longer than 511 bytes or already present. */
int state_txn_add(struct state_txn *txn, const struct state_rec *rec, uint32_t *uid_r,
		  const char **error_r);
/* Replaces the record of rec->uid (key changes allowed: the old key is
 * unmapped, the new one must be free); new MODSEQ unless bump_modseq is
 * false (a location-only change, invisible to IMAP), then the old MODSEQ
 * is kept.  rec->modseq is ignored.  Fails if uid has no record. */
int state_txn_update(struct state_txn *txn, const struct state_rec *rec, bool bump_modseq,
		     const char **error_r);
/* Removes uid and its key, logging it as expunged at a new MODSEQ.  Fails
 * if uid has no record. */
int state_txn_remove(struct state_txn *txn, uint32_t uid, const char **error_r);
/* The stamps as this transaction sees them, and replacing them.  0 or -1. */
int state_txn_get_stamps(struct state_txn *txn, uint64_t stamps_r[STATE_STAMPS],
			 const char **error_r);
int state_txn_set_stamps(struct state_txn *txn, const uint64_t stamps[STATE_STAMPS],
			 const char **error_r);
/* The files lock (flock on DIR/files.lock), for telling a loft change of
 * the folder's files under way from one by another program: a write
 * transaction that found the stamps current takes it exclusively before
 * it changes files (state_txn_lock_files, blocking only while a reader
 * holds it for a moment) and keeps it until its commit has made the
 * change visible, or its abort.  A reader that finds files newer than the
 * stamps tries it shared: state_files_trylock() is 1 when it got it (no
 * such change is under way; then state_files_unlock()), 0 when a writer
 * holds it (this process's own too), -1 when the lock file cannot be
 * opened. */
void state_txn_lock_files(struct state_txn *txn);
int state_files_trylock(struct state *st);
void state_files_unlock(struct state *st);
/* Lookups inside the write transaction (they see its own changes); returns
 * as state_lookup_key() and state_get(). */
int state_txn_lookup_key(struct state_txn *txn, const char *key, uint32_t *uid_r,
			 const char **error_r);
int state_txn_get(struct state_txn *txn, uint32_t uid, struct state_rec *rec_r, char **buf_r,
		  const char **error_r);

#endif
