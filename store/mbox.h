/* mbox: one mbox file in the mboxrd format, as the store's mbox driver.
 *
 * Format.  Every message starts with a From_ line ("From SENDER DATE").  It
 * is stored with mboxrd quoting: any line matching ^>*From  gets one more
 * '>', so reading removes exactly one and every message round-trips.  A
 * blank line separates messages.  Flags live in the Status: and X-Status:
 * headers as mutt writes them (Status: R = seen, O = old, i.e. not recent;
 * X-Status: A = answered, F = flagged, plus Dovecot's T = draft and
 * D = deleted).  Flags with no mbox letter (STORE_PASSED) are not stored.
 *
 * Locking.  Readers take a shared fcntl lock.  Writers take an exclusive
 * fcntl lock and then the dotlock PATH.lock, the order mutt uses.  Neither
 * lock is ever waited for while the other is held: when the dotlock is busy
 * the fcntl lock is dropped and both are tried again, so loft cannot
 * deadlock with a program that takes them the other way round (Postfix's
 * local(8) takes the dotlock first).  Attempts repeat every 100 ms until
 * the handle's lock timeout, then fail with "PATH: locked by another
 * program (...)".  A dotlock older than 5 minutes is taken to be stale and
 * removed, as mutt's dotlock does.  fcntl locks belong to the process:
 * keep one handle per file per process (closing a second handle on the
 * same file drops the first one's locks).
 *
 * Ownership: a struct mbox owns its error strings; *error_r stays valid
 * until the next call on the same handle (for mbox_open, until the next
 * failing mbox_open in the same thread).  Entries from mbox_scan() belong
 * to the caller (mbox_entries_free).  Nothing here prints or exits.
 *
 * Blocking: every call may block on disk I/O; calls that lock wait at most
 * the lock timeout given to mbox_open(). */
#ifndef LOFT_STORE_MBOX_H
#define LOFT_STORE_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct mbox;

/* Longest key, with its NUL: 16 hex digits, '-', a counter. */
#define MBOX_KEY_MAX 32

struct mbox_entry {
	uint64_t from_offset;	/* byte offset of the From_ line */
	uint64_t offset;	/* first byte of the message (after the From_ line) */
	uint64_t length;	/* bytes of the message as stored (still quoted),
				 * without the blank separator line */
	int64_t date;		/* the From_ line's date (read as UTC), seconds
				 * since the epoch; 0 if it could not be parsed */
	char *sender;		/* the From_ line's envelope sender ("" if none);
				 * owned by the entry array */
	uint32_t flags;		/* enum store_flag bits from Status/X-Status */
	/* Identifies the message across rescans while the file is only
	 * appended to or rewritten by mbox_rewrite: 64-bit FNV-1a of the
	 * From_ line and the first 4 KiB of the header (leaving out Status,
	 * X-Status and the other headers mail programs rewrite in place), in
	 * hex, plus "-N" for the N-th identical copy in file order.  Expunging
	 * an earlier identical copy renumbers the later ones. */
	char key[MBOX_KEY_MAX];
};

/* Opens path (creating it with mode 0600 when create is set and it does not
 * exist).  Opens read-write when allowed, read-only otherwise (writes then
 * fail).  lock_timeout_s: how long lock attempts retry, 0 = one attempt.
 * Does not lock and does not read the file.  Returns 0 and *mbox_r, or -1
 * with *error_r naming the path. */
int mbox_open(const char *path, bool create, unsigned lock_timeout_s,
	      struct mbox **mbox_r, const char **error_r);
/* Releases any lock held and closes the file.  NULL-safe; sets *mboxp to NULL. */
void mbox_close(struct mbox **mboxp);

/* Takes the lock: shared (fcntl read lock) or exclusive (fcntl write lock,
 * then the dotlock).  Holding a lock across several calls makes them one
 * consistent view; the calls below take and drop a lock themselves when
 * none is held.  Blocks up to the lock timeout.  Returns 0, or -1 with
 * *error_r ("PATH: locked by another program (dotlock PATH.lock)").
 * Asserts that no lock is held yet. */
int mbox_lock(struct mbox *mb, bool exclusive, const char **error_r);
/* Drops whatever lock is held (no-op when none). */
void mbox_unlock(struct mbox *mb);

/* Finds every message.  *entries_r (caller frees with mbox_entries_free)
 * gets *n_r entries in file order.  An empty file is an empty mailbox; a
 * file whose first non-blank line is not a From_ line is refused ("not an
 * mbox file").  A "From " line starts a message when it follows a blank
 * line or carries a valid date, so unquoted "From " in the bodies of old
 * mboxo files rarely splits a message.  Reads in 1 MiB blocks; memory
 * beyond the array is bounded.  Records the file's size and mtime for
 * mbox_changed().  Takes a shared lock when none is held. */
int mbox_scan(struct mbox *mb, struct mbox_entry **entries_r, size_t *n_r,
	      const char **error_r);
void mbox_entries_free(struct mbox_entry *entries, size_t n);

/* Appends the message of e, unquoted (">From " -> "From "), to out.
 * Fails if the file no longer has a From_ line at e->from_offset (it
 * changed: rescan).  Takes a shared lock when none is held. */
int mbox_read(struct mbox *mb, const struct mbox_entry *e, struct sbuf *out,
	      const char **error_r);

/* Appends a message: From_ line (sender: NULL or "" -> MAILER-DAEMON;
 * white space and control bytes become '_'; date: 0 -> now, written in
 * UTC), the message with Status/X-Status headers replaced by ones for
 * flags, mboxrd-quoted, ending in a newline, then the blank separator.
 * With flags == STORE_RECENT and no Status headers in data the message is
 * stored byte for byte.  Durable (fsync) before it returns.  All or
 * nothing: on any failure the file is truncated back to its old size.
 * *offset_r (may be NULL) gets the new From_ line's offset.  Takes the
 * exclusive lock when none is held; asserts a shared one is not held.
 * Afterwards mbox_changed() reports a change: rescan to see the message. */
int mbox_append(struct mbox *mb, const void *data, size_t len, const char *sender,
		int64_t date, uint32_t flags, uint64_t *offset_r, const char **error_r);

/* Expunges and/or re-flags: writes the messages of entries[0..n) (the
 * result of the last mbox_scan) with keep[i] true, into a temporary file
 * in the same directory with the original's mode (and owner, where
 * allowed), fsyncs it, renames it over the original and fsyncs the
 * directory.  new_flags (may be NULL: unchanged) gives each message's new
 * flags; a message whose flags do not change is copied byte for byte.
 * keep may be NULL (keep all).  Fails without touching the file when it
 * changed since the scan.  Takes the exclusive lock when none is held. */
int mbox_rewrite(struct mbox *mb, const struct mbox_entry *entries, size_t n,
		 const bool *keep, const uint32_t *new_flags, const char **error_r);

/* *changed_r: whether the file at the path differs (inode, size or mtime)
 * from what the last mbox_scan saw (true before the first scan).  Returns
 * 0, or -1 with *error_r when stat fails for a reason other than ENOENT
 * (a vanished file is "changed"). */
int mbox_changed(struct mbox *mb, bool *changed_r, const char **error_r);

/* mboxrd quoting of a whole message, appended to out: ">From " is added a
 * '>' per line matching ^>*From  (quote) or has one removed per line
 * matching ^>+From  (unquote).  unquote(quote(x)) == x for every x. */
void mbox_quote(const char *data, size_t len, struct sbuf *out);
void mbox_unquote(const char *data, size_t len, struct sbuf *out);

/* Parses a From_ line ("From " up to, not including, the newline).
 * *sender_r (caller frees) gets the sender, *date_r the date or 0.
 * Returns true when the line has a valid date. */
bool mbox_parse_from_line(const char *line, size_t len, char **sender_r,
			  int64_t *date_r);

#endif
