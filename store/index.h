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
 * environment by index_open() (CJK search finds nothing without it).
 *
 * Flags map to the usual tags (unread = not \Seen, replied, flagged, draft,
 * passed, deleted) and IMAP keywords are tags, both directions.
 * Ownership: strings passed to callbacks are valid during the callback only.
 * Errors: 0 / -1 with *error_r owned by the index (valid until its next call).
 * Blocking: every call may block on disk; a read-write open blocks while
 * another process holds the writer. */
#ifndef LOFT_STORE_INDEX_H
#define LOFT_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index;

/* root: the mail root (the notmuch "mail_root"); db_dir: where the
 * database lives (ROOT/.notmuch by default).  Creates it when writable and
 * missing. */
int index_open(const char *root, const char *db_dir, bool writable, struct index **index_r,
	       const char **error_r);
void index_close(struct index **indexp);
/* Read-only handles: see what other processes committed since. */
int index_reopen(struct index *ix, const char **error_r);

/* Writer side; path is absolute, under root.  flags: enum store_flag bits;
 * keywords space-separated (may be NULL).  Adding a file of a message
 * already indexed (same Message-ID) adds the file name to it. */
int index_add_file(struct index *ix, const char *path, uint32_t flags, const char *keywords,
		   const char **error_r);
int index_remove_file(struct index *ix, const char *path, const char **error_r);
/* A file renamed by a flag change or a move: old name removed, new added,
 * tags kept. */
int index_rename_file(struct index *ix, const char *old_path, const char *new_path,
		      const char **error_r);
/* Sets the flag tags and keyword tags of the message in path. */
int index_set_flags(struct index *ix, const char *path, uint32_t flags, const char *keywords,
		    const char **error_r);
/* Flags and keywords (as tags say) of the message in path: for notmuch tag
 * changes made by other programs flowing back to maildir flags. */
int index_get_flags(struct index *ix, const char *path, uint32_t *flags_r, char **keywords_r,
		    const char **error_r);

#endif
