/* hcache: the header cache of remote folders, one LMDB environment per
 * account (STATE_DIR/hcache/ACCOUNT/), so that reopening a folder fetches
 * only what changed.
 *
 * Per folder it keeps UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ; per UID the
 * flags, MODSEQ, RFC822.SIZE, INTERNALDATE and the envelope fields the
 * index shows and threads by.  The entries of a folder belong to one
 * UIDVALIDITY: hcache_folder_open with another one drops them all first.
 *
 * A walk over a folder does not leave the file's pages counted in the
 * process's resident memory (it lets go of them as it goes).  A walk
 * that wants no header string (HCACHE_WANT_KEYWORDS and
 * HCACHE_WANT_ENVELOPE_IF_NO_KEY at most) reads a compact copy of each
 * message's numbers and keywords (~50 bytes, not ~1.2 KB): a client's
 * rows of 100,000 messages in a few ms.  A cache written before that copy
 * existed is read in full until hcache_folder_open (same UIDVALIDITY)
 * makes it, once.
 *
 * Writes are batched: one transaction (one fsync: MDB_NOMETASYNC, a
 * crash may undo the last one) per call, however many
 * messages it carries.  LMDB serialises writers: a second process writing
 * the same account waits.  Nothing prints.  Errors: -1 with *error_r
 * malloc'd.  Memory: strings in a struct hcache_msg filled here are
 * malloc'd; hcache_msg_clear frees them. */
#ifndef LOFT_REMOTE_HCACHE_H
#define LOFT_REMOTE_HCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct hcache;

/* System flags as bits; keywords go in hcache_msg.keywords. */
#define HCACHE_SEEN	0x01
#define HCACHE_ANSWERED	0x02
#define HCACHE_FLAGGED	0x04
#define HCACHE_DELETED	0x08
#define HCACHE_DRAFT	0x10

struct hcache_msg {
	uint32_t uid;
	uint32_t flags;		/* HCACHE_* */
	uint64_t modseq;	/* 0 without CONDSTORE */
	uint32_t size;		/* RFC822.SIZE */
	int64_t internaldate;	/* seconds since the epoch */
	int64_t date;		/* the Date: header, seconds; 0 when absent */
	/* NULL when absent.  Addresses as the index shows them
	 * ("Name <a@b>, ..."), the rest decoded to UTF-8. */
	char *keywords;		/* space separated */
	char *subject, *from, *to, *cc;
	char *message_id, *in_reply_to, *references;
	char *envelope;		/* the IMAP ENVELOPE string, as FETCH gave it */
	/* The client's thread key of the message: threadkey_len opaque
	 * bytes (NULs among them) and a NUL; NULL when absent (a record
	 * written before it was kept, version 2).  A walk that does not
	 * want it may leave threadkey_len 0. */
	char *threadkey;
	size_t threadkey_len;
};

struct hcache_folder {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;	/* 0 without CONDSTORE */
};

/* The directory of account's cache: STATE_DIR/hcache/NAME, with '/', '%'
 * and a leading '.' of NAME percent-encoded (one path component whatever
 * the name).  Malloc'd. */
char *hcache_dir(const struct config *cfg, const char *account);

/* Opens (creating dir and the environment) the cache in dir.  The
 * handle, or NULL with *error_r.  Blocks on file I/O only.  Opens of one
 * dir in one process share one LMDB environment (LMDB forbids two: the
 * close of one would drop the other's locks), so two folders of an
 * account open at once (a folder change, a copy) are safe from any
 * thread; each open takes one hcache_close. */
struct hcache *hcache_open(const char *dir, char **error_r);
/* NULL-safe; sets *hcp NULL. */
void hcache_close(struct hcache **hcp);

/* Makes folder's entries those of uidvalidity: when the cache holds the
 * folder under another UIDVALIDITY, its entries are dropped and
 * *dropped_r (may be NULL) tells how many (the caller says so to the
 * user); uidnext and highestmodseq then restart at 0.  Under the same
 * one, a cache written by an older loft gets its compact copy made (one
 * walk of the folder, once).  0, or -1. */
int hcache_folder_open(struct hcache *hc, const char *folder, uint32_t uidvalidity,
		       size_t *dropped_r, char **error_r);
/* The folder's record: 1 with *f_r, 0 when the cache has no such folder,
 * -1 on error. */
int hcache_folder_get(struct hcache *hc, const char *folder, struct hcache_folder *f_r,
		      char **error_r);
/* Sets UIDNEXT and HIGHESTMODSEQ of an opened folder.  0, or -1 (also
 * when the folder was never opened). */
int hcache_folder_set(struct hcache *hc, const char *folder, uint32_t uidnext,
		      uint64_t highestmodseq, char **error_r);

/* Stores n messages (replacing those with the same UIDs) in one
 * transaction.  0, or -1 (nothing stored). */
int hcache_put(struct hcache *hc, const char *folder, const struct hcache_msg *msgs, size_t n,
	       char **error_r);
/* Changes flags, keywords (NULL: none) and MODSEQ of cached UIDs in one
 * transaction; UIDs not in the cache are skipped.  0, or -1. */
int hcache_set_flags(struct hcache *hc, const char *folder, const struct hcache_msg *msgs,
		     size_t n, char **error_r);
/* Removes n UIDs (EXPUNGE, VANISHED) in one transaction.  0, or -1. */
int hcache_remove(struct hcache *hc, const char *folder, const uint32_t *uids, size_t n,
		  char **error_r);
/* One message: 1 with *m_r filled (hcache_msg_clear), 0 when not cached,
 * -1 on error. */
int hcache_get(struct hcache *hc, const char *folder, uint32_t uid, struct hcache_msg *m_r,
	       char **error_r);
/* Calls fn for every cached message of folder in UID order (m is valid
 * during the call only); fn returns 0 to go on, non-zero to stop (that
 * value is returned).  Runs in one read transaction.  0, or -1. */
int hcache_foreach(struct hcache *hc, const char *folder,
		   int (*fn)(const struct hcache_msg *m, void *ctx), void *ctx, char **error_r);
/* Which strings hcache_walk decodes (the numbers always): a walk over
 * 100,000 messages that copies only what its caller keeps. */
#define HCACHE_WANT_KEYWORDS	0x01
#define HCACHE_WANT_FIELDS	0x02	/* subject, from ... references */
#define HCACHE_WANT_ENVELOPE	0x04
#define HCACHE_WANT_THREADKEY	0x08
#define HCACHE_WANT_ENVELOPE_IF_NO_KEY 0x10	/* the envelope of a record
						 * without a thread key */
#define HCACHE_WANT_ALL		0x0f
/* hcache_foreach with the strings want asks for (the others NULL). */
int hcache_walk(struct hcache *hc, const char *folder, unsigned want,
		int (*fn)(const struct hcache_msg *m, void *ctx), void *ctx, char **error_r);
/* hcache_walk from the first cached UID >= first_uid on: a reader of a
 * part (fn stops it) costs that part, whatever the folder's size. */
int hcache_walk_from(struct hcache *hc, const char *folder, uint32_t first_uid, unsigned want,
		     int (*fn)(const struct hcache_msg *m, void *ctx), void *ctx, char **error_r);
/* Number of cached messages of folder, or -1 on error. */
long hcache_count(struct hcache *hc, const char *folder, char **error_r);

/* Bytes a client keeps with folder under name (a thread order), valid for
 * one UIDVALIDITY.  hcache_blob_view calls fn with them where they lie
 * (data valid during the call alone, at any alignment; fn may make other
 * cache calls, views among them) and answers 1, only when they were put
 * under the same uidvalidity; 0 when there are none (or they belong to
 * another, or the folder is not cached), fn not called; -1 on error.
 * hcache_blob_put stores len bytes that fill writes in place (the folder
 * must be open): 0, or -1. */
int hcache_blob_view(struct hcache *hc, const char *folder, const char *name,
		     uint32_t uidvalidity, void (*fn)(const void *data, size_t len, void *ctx),
		     void *ctx, char **error_r);
int hcache_blob_put(struct hcache *hc, const char *folder, const char *name,
		    uint32_t uidvalidity, size_t len,
		    void (*fill)(void *dst, size_t len, void *ctx), void *ctx, char **error_r);

void hcache_msg_clear(struct hcache_msg *m);

#endif
