/* index: the notmuch database over the store (store-private, but the
 * commands `loft index`, `loft search` and `loft tag` use it through the
 * functions below as well).
 *
 * A normal notmuch database: the `notmuch` CLI and its front ends use it at
 * the same time as loft.  Exactly one writer: notmuch 0.37 blocks a second
 * read-write open with no timeout and deadlocks a process that opens it
 * read-write twice, so a process opens it read-write only through
 * index_open(..., true), once.  Readers open read-only and call
 * index_reopen() when told of changes.  XAPIAN_CJK_NGRAM=1 is set in the
 * environment by index_open() (CJK search finds nothing without it), and
 * XAPIAN_FLUSH_THRESHOLD=100 unless already set (a writer then indexes at
 * about twice the speed in a sixth of the memory: index-open.c).
 *
 * Layout: with the default db_dir (NULL, "" or ROOT/.notmuch) the database
 * is notmuch's classic one, ROOT/.notmuch/xapian, and a notmuch config with
 * `[database] path=ROOT` finds it.  With another db_dir the database is
 * DB_DIR/xapian and the mail root is recorded in the database's own config
 * (database.mail_root), so a notmuch config with `path=DB_DIR` (and, for
 * clarity, `mail_root=ROOT`) finds it.  No notmuch config file is read by
 * loft: every setting comes from the arguments or the database.
 *
 * Flags map to tags both directions: unread = not \Seen, replied, flagged,
 * draft, passed, as notmuch's maildir.synchronize_flags does, plus deleted
 * = T (\Deleted), which notmuch itself does not synchronise; loft does, so
 * that an IMAP \Deleted survives a round trip through the tags.  IMAP
 * keywords are tags, case kept.  Other tags are never removed by loft
 * unless asked by name.
 *
 * Ownership: strings passed to callbacks are valid during the callback
 * only.  Errors: 0 / -1 with *error_r owned by the index (valid until its
 * next call).  Nothing here prints.
 * Blocking: every call may block on disk; a read-write open blocks while
 * another process holds the writer. */
#ifndef LOFT_STORE_INDEX_H
#define LOFT_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index;

/* root: the mail root (the notmuch "mail_root"); db_dir: where the
 * database lives (NULL or "": ROOT/.notmuch).  Creates it (and db_dir)
 * when writable and missing; a read-only open of a missing database fails.
 * Sets XAPIAN_CJK_NGRAM=1 (and XAPIAN_FLUSH_THRESHOLD, when unset) in the
 * environment first.  On failure *error_r is a static string valid until
 * the next failing index_open(). */
int index_open(const char *root, const char *db_dir, bool writable, struct index **index_r,
	       const char **error_r);
/* Commits (writer) and closes.  NULL-safe; sets *indexp to NULL. */
void index_close(struct index **indexp);
/* Read-only handles: see what other processes committed since. */
int index_reopen(struct index *ix, const char **error_r);
/* Writer: commits, so that other processes (and read-only handles, after
 * index_reopen) see the changes made so far.  Changes are otherwise
 * committed every database.autocommit (8000) atomic sections and at
 * index_close().  Added to the contract: the delivering process must make
 * each delivery visible without closing the one writer.  Costs a reopen of
 * the Xapian database (about a millisecond). */
int index_commit(struct index *ix, const char **error_r);

/* Writer side; path is absolute, under root.  flags: enum store_flag bits;
 * keywords space-separated (may be NULL).  Adding a file of a message
 * already indexed (same Message-ID) adds the file name to it.  A message
 * new to the index also gets the database's new.tags ("inbox unread" by
 * default, unread then following flags) like `notmuch new`.  The flag tags
 * become those of flags; keywords are added. */
int index_add_file(struct index *ix, const char *path, uint32_t flags, const char *keywords,
		   const char **error_r);
/* Removes the file name; the message goes when its last file does (when
 * another file remains, its flag tags are resynchronised from the files). */
int index_remove_file(struct index *ix, const char *path, const char **error_r);
/* A file renamed by a flag change or a move: old name removed, new added,
 * tags kept; the flag tags then follow the new file name. */
int index_rename_file(struct index *ix, const char *old_path, const char *new_path,
		      const char **error_r);
/* For a flag change the store is about to make on the file at path (a
 * maildir file, absolute): when the message is indexed with path as its
 * only file, sets its flag tags to flags (enum store_flag bits as the
 * store will have them, STORE_RECENT included) and has notmuch rename the
 * file to the name the store's own rename would give it (KEY:2,LETTERS in
 * cur/), in one atomic section and one load of the message's document;
 * the store's rename then finds its target in place.  A rename found by
 * index_scan() instead costs parsing the file again and three loads
 * (index-rename.c says why that matters).  Returns 1 with *new_path_r
 * (malloc'd, caller frees) when the file was renamed; 0 when nothing was
 * done (not indexed under path, other files, a name notmuch would write
 * otherwise, flag sync off, the file gone): the store's rename and the
 * next scan do it the usual way; -1 with *error_r on a database error. */
int index_flag_rename(struct index *ix, const char *path, uint32_t flags, char **new_path_r,
		      const char **error_r);
/* Sets the flag tags of the message in path to flags exactly, and adds the
 * keyword tags (keywords may be NULL).  Keywords are never removed here:
 * loft does not know which tags other programs own, so removal is explicit
 * through index_change_tags().  Files are not renamed. */
int index_set_flags(struct index *ix, const char *path, uint32_t flags, const char *keywords,
		    const char **error_r);
/* Adds then removes tags (each space-separated, either may be NULL) on the
 * message in path.  Added to the contract: IMAP STORE -FLAGS of a keyword
 * needs a way to remove exactly that tag. */
int index_change_tags(struct index *ix, const char *path, const char *add, const char *remove,
		      const char **error_r);
/* Flags and keywords (as tags say) of the message in path: for notmuch tag
 * changes made by other programs flowing back to maildir flags.  Keywords
 * are every tag that is not a flag tag and is a valid IMAP atom (no space,
 * no parentheses...), space-separated, "" if none; *keywords_r is malloc'd,
 * caller frees; keywords_r may be NULL. */
int index_get_flags(struct index *ix, const char *path, uint32_t *flags_r, char **keywords_r,
		    const char **error_r);

/* ---- the commands' side: scan, search, tag ---- */

struct index_progress {
	size_t done;		/* files indexed (or found indexed) so far */
	size_t total;		/* files to index in this run */
	size_t removed;		/* file names removed (vanished from disk) */
	double elapsed;		/* seconds since the scan started */
};

/* Called after every file (and once after the directory walk with done 0);
 * returns false to stop the scan at this point (SIGINT). */
typedef bool index_progress_fn(void *ctx, const struct index_progress *p);

/* What the scan passed over, or a file it indexed with a complaint:
 * path, and why ("not mail", "cannot be read: ...", "a folder path of 238
 * bytes (notmuch indexes at most 237)", or what GMime logged while parsing
 * it); skipped: whether it was left out of the index.  Strings are valid
 * during the call only. */
typedef void index_note_fn(void *ctx, const char *path, bool skipped, const char *why);

struct index_scan_result {
	size_t added;		/* file names added (new messages and new copies) */
	size_t removed;		/* file names removed */
	size_t skipped;		/* files that are not mail, or vanished meanwhile */
	size_t unindexable;	/* files and folders notmuch cannot take (path too
				 * long) or that cannot be read */
	size_t warnings;	/* files indexed with a complaint */
	size_t dirs_unchanged;	/* maildir cur/new directories skipped by mtime */
	bool interrupted;	/* the callback stopped it; what was done is kept */
};

/* Writer only.  Walks the maildirs under the root (cur/ and new/ of every
 * folder; .notmuch, .loft, tmp/ and dot-files skipped) like `notmuch new`:
 * a directory whose mtime matches the one recorded is skipped unless full;
 * new files are indexed (new.tags, then flags to tags), vanished ones
 * removed, renames picked up (added before removed, so tags are kept).
 * Each file is one atomic notmuch section, so an interrupted or killed run
 * leaves a consistent database and the next run does only the rest.
 * One bad file or folder never stops it: each one skipped, and each file
 * indexed with a complaint, is told to note (may be NULL) and counted.
 * progress may be NULL; ctx goes to progress and note.  Returns 0 (also
 * when interrupted: see result_r->interrupted), -1 on a database error. */
int index_scan(struct index *ix, bool full, index_progress_fn *progress, index_note_fn *note,
	       void *ctx, struct index_scan_result *result_r, const char **error_r);
/* Indexes one new file under the root as index_scan() would (its own
 * atomic section, new.tags, flags to tags): for a caller that knows what
 * it just stored and indexes it while storing more.  A file that vanished,
 * is not mail, or lies outside the root is left to the next scan (0).
 * 0, or -1 on a database error. */
int index_add_new_file(struct index *ix, const char *path, const char **error_r);

struct index_thread {
	const char *thread_id;	/* without the "thread:" prefix */
	int64_t newest, oldest;	/* dates, seconds since the epoch */
	int matched, total;	/* messages */
	const char *authors;	/* as notmuch formats them ("A, B| C") */
	const char *subject;
	const char *const *tags;	/* n_tags tags, sorted */
	size_t n_tags;
};

/* Return 0 to go on, non-zero to stop the search (then returned as 0). */
typedef int index_thread_fn(void *ctx, const struct index_thread *t);
typedef int index_file_fn(void *ctx, const char *path);

/* Runs a notmuch query (Xapian syntax; the database's search.exclude_tags
 * are excluded unless named in it), newest first, and calls cb for each
 * thread (index_search_threads) or for each file of each matching message
 * (index_search_files) as results come, at most limit threads / messages
 * (0: no limit).  -1 on error; index_error_is_query() then tells a bad
 * query from a database failure. */
int index_search_threads(struct index *ix, const char *query, size_t limit,
			 index_thread_fn *cb, void *ctx, const char **error_r);
int index_search_files(struct index *ix, const char *query, size_t limit,
		       index_file_fn *cb, void *ctx, const char **error_r);
/* As index_search_files, but calls cb once per message with the value of
 * one of its headers (decoded to UTF-8 as notmuch stores it; "" when
 * missing): for address completion over "from:PREFIX*". */
typedef int index_header_fn(void *ctx, const char *value);
int index_search_header(struct index *ix, const char *query, const char *header, size_t limit,
			index_header_fn *cb, void *ctx, const char **error_r);
/* The same search in steps, for a caller that must stay responsive (the
 * mail client's event loop): begin runs the query (errors as above), then
 * each index_search_next() calls cb for the files of at most max more
 * messages (0: all the rest) and returns 1 when more remain, 0 at the end
 * (or when cb stopped it).  The index must stay open, and not be reopened,
 * until index_search_end() (NULL-safe; sets *sp to NULL). */
struct index_search;
int index_search_begin(struct index *ix, const char *query, struct index_search **s_r,
		       const char **error_r);
int index_search_next(struct index_search *s, size_t max, index_file_fn *cb, void *ctx);
void index_search_end(struct index_search **sp);
/* Number of messages matching query (no exclusions). */
int index_count(struct index *ix, const char *query, unsigned *count_r, const char **error_r);
/* Whether the last failing call failed because of the query's syntax. */
bool index_error_is_query(const struct index *ix);

/* Writer only.  On every message matching query: adds the n_add tags,
 * removes the n_remove ones (frozen, one atomic section per message), then
 * renames the message's maildir files so their flags agree with the tags
 * (unread/replied/flagged/draft/passed through notmuch, deleted = T by
 * loft).  *changed_r (may be NULL): messages whose tags changed. */
int index_tag(struct index *ix, const char *query, const char *const *add, size_t n_add,
	      const char *const *remove, size_t n_remove, size_t *changed_r,
	      const char **error_r);

/* Writer only.  index_tag() for the one message of the file at path:
 * adds and removes the tags, then renames the message's files so their
 * maildir flags agree with the tags (as `loft tag`).  A file not indexed
 * under this name (renamed since by a flag change, or never indexed) is
 * indexed first with flags (enum store_flag bits: the caller's view of
 * its flags); file names of the message that are gone from disk are
 * dropped from the index first.  *new_path_r (may be NULL) gets the
 * file's name after the renames (malloc'd, caller frees). */
int index_tag_file(struct index *ix, const char *path, uint32_t flags, const char *const *add,
		   size_t n_add, const char *const *remove, size_t n_remove, char **new_path_r,
		   const char **error_r);
/* Every tag of the message in path (flag tags too), sorted,
 * space-separated, "" if none; *tags_r malloc'd, caller frees. */
int index_get_tags(struct index *ix, const char *path, char **tags_r, const char **error_r);

/* ---- deferred indexing ---- */

/* `loft deliver` stores mail without opening notmuch (loading Xapian and
 * committing cost more than the delivery) and marks the index as behind
 * with a file in the state dir (STATE_DIR/index-pending); the next command
 * that reads the index takes the mark and runs index_scan() first.  The
 * mark is made after the message is in new/ and taken before the scan, so
 * a delivery racing a scan leaves the mark for the next one.  Neither
 * opens the database.  mark: 0, or -1 with *error_r (static, valid until
 * the next failing call).  take: whether a mark was there (it is gone). */
int index_pending_mark(const char *state_dir, const char **error_r);
bool index_pending_take(const char *state_dir);
/* Takes the mark and, if there was one, scans the new mail into the index
 * (opening it as the writer, so this waits for another writer).  0 (no
 * mark, or scanned), or -1 with *error_r (static, valid until the next
 * failing call) and the mark put back for the next reader. */
int index_catch_up(const char *root, const char *db_dir, const char *state_dir,
		   const char **error_r);

#endif
