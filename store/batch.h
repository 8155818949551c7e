/* store batch: many appends to one folder for the price of one.
 *
 * store_append() costs one state transaction (two fsyncs), one fsync of
 * the file and one of its directory, and one notmuch commit per message;
 * a pull of 100,000 messages through it spends most of its time there.
 * A batch writes each message into tmp/ as it is added; then
 * store_batch_commit() fsyncs the files from several threads at once (the
 * disk and the file system's journal serve them together), publishes them
 * all in one state transaction, fsyncs new/ and cur/ once each, and
 * indexes them in one notmuch transaction.  Each message is durable before the commit returns,
 * so before the caller's upstream is told anything.
 *
 * Crash safety: before the commit nothing is visible (files sit in tmp/,
 * cleaned by a later open); a crash between the renames and the state
 * commit leaves files the next open reconciles (they get UIDs then), as
 * with store_append().  The caller that must not store twice after such a
 * crash marks its copies (a header token) and looks for them.
 *
 * mbox folders have no tmp/: there store_batch_add() is a store_append()
 * (durable at once) and the commit only reports the UIDs.
 *
 * Ownership: the batch belongs to the caller until commit or abort (each
 * frees it and sets the pointer to NULL); it borrows the folder, which
 * must outlive it.  Errors as store.h: -1 with *error_r owned by the
 * store.  Blocking: disk I/O; the commit takes the folder's writer lock. */
#ifndef LOFT_STORE_BATCH_H
#define LOFT_STORE_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct store_batch;
struct store_folder;

/* A new, empty batch of appends to f (opened with store_folder_open or
 * store_folder_open_append).  Never fails. */
struct store_batch *store_batch_new(struct store_folder *f);
/* What store_batch_new_opts() may ask besides. */
enum store_batch_opt {
	/* The caller keeps every added message's data unchanged until the
	 * commit or abort: the batch holds no copy (store_batch_bytes() 0). */
	STORE_BATCH_BORROW = 1 << 0,
	/* BODYSTRUCTURE parsed when a message is added and kept with its
	 * record, as store_append() does, not at its first FETCH. */
	STORE_BATCH_BODYSTRUCTURE = 1 << 1,
};
/* store_batch_new() with opts, a mask of enum store_batch_opt. */
struct store_batch *store_batch_new_opts(struct store_folder *f, unsigned opts);
/* Writes the message into the folder's tmp/ (not visible yet; the files
 * are fsynced a few hundred at a time, together, the last ones by the
 * commit).  flags and keywords as store_append(); internal_date 0: now.
 * 0, or -1 (nothing of this message is kept; the batch stays usable,
 * unless the fsync of earlier ones failed: then its commit fails). */
int store_batch_add(struct store_batch *b, const char *data, size_t len, uint32_t flags,
		    const char *keywords, int64_t internal_date, const char **error_r);
/* The number of messages added and not yet committed, and their bytes:
 * the batch keeps a copy of each until the commit (a rename that finds
 * its name taken writes the file again), so callers bound both. */
size_t store_batch_count(const struct store_batch *b);
size_t store_batch_bytes(const struct store_batch *b);
/* Publishes every added message: an fsync of each file, renames, one
 * state transaction, one fsync of each directory written, one notmuch
 * commit.  uids_r (may be
 * NULL; room for store_batch_count() entries, caller owns) gets their
 * UIDs in the order added.  0 when all are durable and recorded; -1 when
 * none is recorded (files already renamed are removed again).  Frees the
 * batch either way. */
int store_batch_commit(struct store_batch **bp, uint32_t *uids_r, const char **error_r);
/* Has the next successful commit call fn(ctx, location) for each message
 * it stored, in the order added, once all are durable and recorded
 * (location: relative to the folder, valid during the call). */
typedef void store_batch_stored_fn(void *ctx, const char *location);
void store_batch_on_stored(struct store_batch *b, store_batch_stored_fn *fn, void *ctx);
/* Discards what was added and not committed; frees the batch.  NULL-safe. */
void store_batch_abort(struct store_batch **bp);

#endif
