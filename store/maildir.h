/* maildir: the maildir driver under the store — unique names and the `:2,`
 * info, fast folder scans, durable delivery, flag renames that survive other
 * programs (mutt, notmuch, mbsync) renaming the same files, tmp/ cleaning
 * and folder discovery (plain nested and Maildir++ layouts).
 *
 * Vocabulary.  A folder is a directory with cur/ and new/ (tmp/ is created
 * when missing).  A message's *location* is its path relative to the folder
 * ("new/NAME" or "cur/NAME:2,FS").  Its *key* is the unique part of the name,
 * everything before the ":2," (or mbsync's "!2,") info: it never changes
 * when flags change, so the store maps keys to UIDs.
 *
 * Flags are enum store_flag bits (store/store.h): D=STORE_DRAFT,
 * F=STORE_FLAGGED, P=STORE_PASSED, R=STORE_ANSWERED, S=STORE_SEEN,
 * T=STORE_DELETED.  STORE_RECENT means "in new/" and is never written into a
 * name.  Every other info byte (Dovecot's keyword letters a-z, letters this
 * module does not know) is kept as an "extra" string of sorted, distinct
 * printable ASCII bytes, so renames preserve what other programs wrote.
 *
 * Errors, once for all: functions return 0 on success and -1 on failure with
 * *error_r set to a message naming the path involved and errno set.  The
 * message lives in a thread-local buffer valid until the next failing
 * maildir_ call in the same thread.  Nothing here prints or exits; problems
 * that do not fail a call are returned (scan) or logged (list).
 *
 * Blocking: the name functions never block; everything else blocks on disk
 * I/O, and delivery and copies wait for fsync.  No call takes locks: maildir
 * is lock-free by design, and concurrent renames by other programs are
 * handled by finding the message again by its key. */
#ifndef LOFT_STORE_MAILDIR_H
#define LOFT_STORE_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Room for any file name (NAME_MAX + NUL). */
#define MAILDIR_NAME_SIZE 256
/* Room for an extra-letters string (every printable ASCII byte + NUL). */
#define MAILDIR_EXTRA_SIZE 96
/* Files in tmp/ older than this are removed by maildir_clean_tmp(). */
#define MAILDIR_TMP_MAX_AGE (36 * 60 * 60)
/* maildir_list() does not descend deeper than this below the root. */
#define MAILDIR_LIST_MAX_DEPTH 16

/* The flag bits that have a letter in the info. */
#define MAILDIR_NAME_FLAGS \
	(STORE_SEEN | STORE_ANSWERED | STORE_FLAGGED | STORE_DELETED | \
	 STORE_DRAFT | STORE_PASSED)

/* ---- names (pure functions: no I/O beyond gethostname/clock) ---- */

struct maildir_name {
	const char *key;	/* points into the parsed name (not copied) */
	size_t key_len;		/* the key is key[0 .. key_len) */
	uint32_t flags;		/* store_flag bits from the info */
	char extra[MAILDIR_EXTRA_SIZE];	/* other info bytes, sorted, distinct */
	char sep;		/* ':' or '!' (the info separator), 0 if no info */
	bool has_info;		/* a ":2," / "!2," info was present */
	int64_t size;		/* from ",S=N" in the key, -1 if absent */
	int64_t vsize;		/* from ",W=N" (Dovecot's CRLF size), -1 if absent */
	int64_t time;		/* the leading TIME of the key, -1 if not a number */
};

/* Writes a fresh unique name "TIME.M<usec>P<pid>Q<counter>.HOST" into buf,
 * HOST being gethostname() with '/' -> "\057", ':' -> "\072" and
 * ',' -> "\054" (so ",S=" fields stay parseable).  The counter is per
 * process and thread-safe.  Returns the length, or -1 (errno ERANGE) when
 * size is too small (MAILDIR_NAME_SIZE is always enough). */
int maildir_unique_name(char *buf, size_t size);

/* Parses a file name (no directory part).  Always succeeds for a non-empty
 * name without '/': a name without info is valid (flags 0, has_info false);
 * info of another version (":1,...") is ignored (key = text before ':').
 * Returns 0, or -1 for "", names containing '/' or starting with '.'
 * (which maildir readers skip). */
int maildir_parse_name(const char *name, struct maildir_name *name_r);

/* Writes "KEY<sep>2,LETTERS" into buf: the letters of flags (STORE_RECENT
 * ignored) and of extra (NULL = none), merged, sorted by ASCII and
 * deduplicated.  sep: ':' normally, '!' to keep an mbsync-style name.
 * Returns the length, or -1 (errno ERANGE) when buf is too small or
 * (errno EINVAL) when extra holds a byte that cannot be in an info
 * (non-printable, '/', ':' or ','). */
int maildir_format_name(const char *key, uint32_t flags, const char *extra,
			char sep, char *buf, size_t size);

/* The letters for flags (sorted), NUL-terminated, into buf[7]. */
void maildir_flags_to_letters(uint32_t flags, char buf[7]);

/* ---- folders ---- */

/* True when path is a directory with cur/ and new/ subdirectories. */
bool maildir_is_maildir(const char *path);

/* Creates path (and missing parents) and its cur/, new/, tmp/ (mode 0700);
 * existing ones are fine.  0 or -1. */
int maildir_create(const char *path, const char **error_r);

/* ---- scanning ---- */

enum maildir_scan_flags {
	/* stat() every file: exact size and mtime even when the name has a
	 * ",S=" size and a TIME.  Use it when no state exists yet and the
	 * internal dates must be exact (loft sets the mtime of delivered
	 * files to the internal date; the name carries the delivery time). */
	MAILDIR_SCAN_STAT = 1 << 0,
	/* new/ only (cur/ is not read): for a caller that knows cur/ did
	 * not change. */
	MAILDIR_SCAN_NEW_ONLY = 1 << 1,
};

enum maildir_entry_source {
	MAILDIR_SIZE_FROM_NAME = 1 << 0,	/* size came from ",S=" */
	MAILDIR_DATE_FROM_NAME = 1 << 1,	/* date came from the TIME */
};

struct maildir_entry {
	const char *location;	/* "new/NAME" or "cur/NAME" */
	const char *key;	/* the unique part of NAME */
	const char *extra;	/* extra info letters, "" when none */
	uint64_t size;		/* bytes */
	int64_t date;		/* internal date: TIME of the name, or mtime */
	uint32_t flags;		/* store_flag bits; STORE_RECENT for new/ */
	uint32_t source;	/* enum maildir_entry_source bits */
};

struct maildir_scan {
	struct maildir_entry *entries;	/* in directory order, not sorted */
	size_t count;
	/* Files skipped, one message each naming the path and why
	 * ("cur/x: not a regular file (fifo)"); a bad file never fails a
	 * scan. */
	char **problems;
	size_t problem_count;
	/* private: the name blocks the strings live in */
	char **blocks;
	size_t block_count;
};

/* Lists new/ then cur/.  Names starting with '.' are skipped as the spec
 * says.  stat() is called only when the name lacks a ",S=" size or a TIME,
 * when the directory entry type is unknown or a symlink, or with
 * MAILDIR_SCAN_STAT.  A directory that changed while it was read is read
 * again (up to three times), so concurrent renames are rarely missed.  Each
 * key is listed once: a message moved from new/ to cur/ during the scan
 * from cur/, a file listed under its old and its new name (a rename that
 * beat the three reads) under the name it has after the scan, and of two
 * files with one key the first (the other goes to problems).
 * Fails (naming the directory) when cur/ or new/ cannot be read, e.g. the
 * folder vanished.  Returns 0 and *scan_r (free with maildir_scan_free:
 * entries and their strings are owned by the scan). */
int maildir_scan(const char *path, unsigned flags, struct maildir_scan **scan_r,
		 const char **error_r);
/* NULL-safe; sets *scanp to NULL. */
void maildir_scan_free(struct maildir_scan **scanp);
/* Frees the entries array only (count becomes 0): the strings they
 * pointed to stay valid until maildir_scan_free(), for a caller that kept
 * those and not the entries (64 bytes a file). */
void maildir_scan_drop_entries(struct maildir_scan *scan);

/* Finds the current location of the message with this key (a readdir of
 * new/ then cur/, ~30 ms for 100,000 files).  Returns 1 and *location_r (caller frees), 0 when no
 * file has the key, -1 on error. */
int maildir_find(const char *path, const char *key, char **location_r,
		 const char **error_r);

/* ---- writing ---- */

/* Delivers a message: writes it under a fresh unique name (with ",S=len")
 * into tmp/ (O_EXCL), sets its mtime (and atime) to mtime when mtime > 0,
 * fsyncs it, renames it (never over an existing file) into new/ when flags
 * (STORE_RECENT aside) and extra are empty, otherwise into
 * cur/NAME:2,LETTERS, then fsyncs that directory.  Returns 0 only then,
 * with *location_r (caller frees); on failure nothing is left in tmp/.
 * extra may be NULL. */
int maildir_deliver(const char *path, const void *data, size_t len,
		    uint32_t flags, const char *extra, int64_t mtime,
		    char **location_r, const char **error_r);

/* maildir_deliver in two steps, so that the writing and its fsync need
 * not wait for a lock the rename needs.  maildir_write_tmp: writes data
 * into tmp/ (as maildir_deliver), 0 with t->path set (caller owns t until
 * published or discarded) or -1 with nothing left.  maildir_publish_tmp:
 * renames it into place and (sync_dir) fsyncs the directory, writing it
 * again under a new name when the tmp file is gone (cleaned meanwhile) or
 * the name is taken; returns as maildir_deliver, t is consumed either way.
 * Without sync_dir the caller makes the rename durable later with
 * maildir_sync_location (0 or -1).  maildir_tmp_discard: removes an
 * unpublished file (t->path NULL: none). */
struct maildir_tmp {
	char *path;			/* PATH/tmp/NAME, NULL once consumed */
	char name[MAILDIR_NAME_SIZE];
};
int maildir_write_tmp(const char *path, const void *data, size_t len, int64_t mtime,
		      struct maildir_tmp *t, const char **error_r);
/* maildir_write_tmp without the fsync, for many files synced together
 * (store/batch.c: fsyncs issued back to back share the journal commits):
 * *fd_r is the open file; the caller fsyncs and closes it before
 * publishing (on failure, closes it and calls maildir_tmp_discard). */
int maildir_write_tmp_unsynced(const char *path, const void *data, size_t len, int64_t mtime,
			       struct maildir_tmp *t, int *fd_r, const char **error_r);
int maildir_publish_tmp(const char *path, struct maildir_tmp *t, const void *data, size_t len,
			uint32_t flags, const char *extra, int64_t mtime, bool sync_dir,
			char **location_r, const char **error_r);
int maildir_sync_location(const char *path, const char *location, const char **error_r);
void maildir_tmp_discard(struct maildir_tmp *t);

/* Renames the message to carry exactly flags and extra (NULL = ""),
 * keeping its key and its info separator.  Where it goes: it stays in new/
 * only when it is there, flags has STORE_RECENT and nothing else is set;
 * otherwise it goes to (or stays in) cur/ — so any flag, or clearing
 * STORE_RECENT, moves a message out of new/.  When the file is gone
 * (another program renamed it) it is found again by its key and the rename
 * retried.  Returns 0 and *new_location_r (caller frees; may equal
 * location); -1 with errno ENOENT when no file has the key any more.
 * The directory is not fsynced: a flag change lost in a crash only
 * reverts the flags, and the key still finds the file. */
int maildir_set_flags(const char *path, const char *location, uint32_t flags,
		      const char *extra, char **new_location_r,
		      const char **error_r);

/* Removes the message (found again by key if renamed meanwhile).  A message
 * that is already gone is a success. */
int maildir_remove(const char *path, const char *location, const char **error_r);

/* Copies the message at src/location into the maildir dst under a fresh
 * unique name (never the old one), with flags/extra as in maildir_deliver:
 * hard link into dst/tmp/, or on another file system (or where links are
 * refused) a copy keeping the mtime; then fsync, rename into new/ or cur/,
 * fsync of the directory.  A source renamed meanwhile is found by key.
 * Returns 0 and *location_r (in dst; caller frees). */
int maildir_copy(const char *src, const char *location, const char *dst,
		 uint32_t flags, const char *extra, char **location_r,
		 const char **error_r);
/* Moves the message at src/location into the maildir dst with one
 * rename(2) (same file system), under a fresh unique name (",S=" its
 * size) with flags/extra as in maildir_deliver, never over an existing
 * file: at every instant the message is in exactly one of the two
 * folders.  A source renamed meanwhile is found by key.  The directories
 * are not fsynced: the caller does it once for a set (fsync_dir() of the
 * new/ and cur/ of both).  Returns 0, *location_r (in dst) and, when
 * from_r is not NULL, *from_r (the location it had in src); both caller
 * frees.  -1 with errno EXDEV when dst is on another file system, ENOENT
 * when no file has the key any more. */
int maildir_move(const char *src, const char *location, const char *dst,
		 uint32_t flags, const char *extra, char **from_r, char **location_r,
		 const char **error_r);

/* Removes regular files in tmp/ whose mtime is older than now minus
 * MAILDIR_TMP_MAX_AGE (newer ones are deliveries in progress).  A delivery
 * that races with this sees its rename fail and starts over.  Returns the
 * number removed, or -1 when tmp/ cannot be read (a missing tmp/ is 0). */
int maildir_clean_tmp(const char *path, int64_t now, const char **error_r);

/* ---- discovering folders ---- */

struct maildir_folder {
	const char *name;	/* "INBOX", "Sent", "Lists/foo" */
	const char *path;	/* the directory */
	bool maildirpp;		/* the root itself, or a ".A.B" folder in it */
};

/* Called for each folder found; return 0 to go on, -1 to stop the walk
 * (maildir_list then returns -1 with errno ECANCELED).  The strings are
 * valid during the call only. */
typedef int maildir_list_callback(const struct maildir_folder *folder, void *context);

/* Finds every maildir under root, calling cb in name order per directory:
 *  - the root itself when it is a maildir, as "INBOX" (Maildir++);
 *  - its ".A.B" subdirectories that are maildirs, as "A/B" (Maildir++;
 *    modified UTF-7 '&' names are not decoded);
 *  - plain nested maildirs "A/B/{cur,new}" at any depth up to
 *    MAILDIR_LIST_MAX_DEPTH, as "A/B".
 * Other dot-directories (.loft, .notmuch) are skipped, so is a maildir's
 * cur/new/tmp.  Symbolic links are followed only when they resolve inside
 * the root.  Unreadable subdirectories are skipped and logged.  The same
 * folder may be reported under two names (".A" and "A/") when both exist.
 * Returns 0, or -1 when root cannot be read or cb stopped the walk. */
int maildir_list(const char *root, maildir_list_callback *cb, void *context,
		 const char **error_r);

#endif
