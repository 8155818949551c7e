/* tag_sync: notmuch tags and the store's IMAP keywords kept as one set,
 * both ways, whoever changed them (loft's client, `loft tag`, plain
 * `notmuch tag`, an IMAP client of `loft imapd`, `loft sync`).
 *
 * The mapping (loft(1), "Keywords and tags"): a tag is carried as the IMAP
 * keyword of the same spelling when tag_sync_is_keyword() says so; every
 * other tag stays in notmuch only, and a store keyword that is not such a
 * tag is left alone by this module (it still reaches notmuch as a tag when
 * the store indexes).  Flags are not this module's business: the flag tags
 * (unread, replied, flagged, draft, passed, deleted) follow the maildir
 * file names, as notmuch's synchronize_flags does.
 *
 * The merge: per notmuch message, the keyword set both sides last agreed
 * on is kept as the message property "loft.keyword" (one value per
 * keyword, and "\\" marking that there is one); the tags and each
 * copy of the message in the store are merged against it by
 * tag_sync_merge() (a change on one side wins), and the result is written
 * back to the tags, to every copy's keywords and to the property.  A
 * second pass right after finds nothing to do: no loop.
 *
 * What changed since the last pass is found without reading everything:
 * messages whose notmuch lastmod is past the revision the last pass saw
 * (notmuch_database_get_revision), and store records whose MODSEQ is past
 * the folder's HIGHESTMODSEQ the last pass saw (or whose UID is new).
 * Both marks are kept in STATE_DIR/tag-sync.  A missing file, or a
 * notmuch database with another UUID, makes a full pass: every message
 * that has a keyword tag and every record that has a keyword.
 *
 * Errors: 0 / -1 with *error_r owned by the store (store_fail), valid
 * until its next call.  Nothing here prints.  Blocking: disk; the caller
 * holds the notmuch writer. */
#ifndef LOFT_STORE_TAG_SYNC_H
#define LOFT_STORE_TAG_SYNC_H

#include <stdbool.h>
#include <stddef.h>

struct index;
struct store;

/* Longest keyword carried, in bytes: Dovecot's default
 * mail_max_keyword_length; a longer tag stays in notmuch only. */
#define TAG_SYNC_KEYWORD_MAX 50

/* Whether the tag tag[0..len) is carried as an IMAP keyword: an IMAP atom
 * of printable ASCII (no space, control, non-ASCII, ( ) { % * " \ ]) of at
 * most TAG_SYNC_KEYWORD_MAX bytes that is not a flag tag (unread replied
 * flagged draft passed deleted), not one notmuch or loft sets by itself
 * (inbox new attachment signed encrypted) and not $Forwarded (the passed
 * flag); compared case-insensitively.  The database's new.tags are kept
 * out as well, by the pass.  Pure. */
bool tag_sync_is_keyword(const char *tag, size_t len);

/* The n-way merge, per word (case-insensitive): with no agreed set (base
 * NULL) the union of the sides; else a word of base stays unless a side
 * whose known[i] is true lacks it (a side that did not exist when base was
 * agreed cannot remove), and a word not in base is kept when any side has
 * it.  Lists are space-separated; the result keeps the first spelling met
 * (sides in order, then base).  Returns a malloc'd list, caller frees. */
char *tag_sync_merge(const char *base, const char *const *sides, const bool *known, size_t n);

struct tag_sync_result {
	size_t messages;	/* notmuch messages looked at */
	size_t tags_changed;	/* messages whose tags this pass changed */
	size_t keywords_changed;	/* store records whose keywords it changed */
	bool full;		/* a full pass (no marks, or another database) */
	bool quick;		/* tag_sync_store(): nothing had changed (the
				 * database at the same commit, every folder as
				 * the marks say): notmuch was not opened */
};

/* One pass (see above) over store with ix, the notmuch writer of the same
 * root; the store must not have been opened with STORE_OPEN_INDEX (the
 * pass writes the tags itself).  Folders it opens are closed again;
 * folders the caller has open are shared (their snapshots see the keyword
 * changes after their next sync).  result_r may be NULL. */
int tag_sync_run(struct store *store, struct index *ix, struct tag_sync_result *result_r,
		 const char **error_r);
/* tag_sync_run() with the notmuch writer of the store's root and database
 * opened for the pass and closed (committed) after: for callers that do
 * not hold it (loft sync).  Blocks while another process holds it.  When
 * neither side changed since the last pass, returns at once without
 * loading notmuch (result_r->quick). */
int tag_sync_store(struct store *store, struct tag_sync_result *result_r, const char **error_r);

/* For a long-running process that passes tags on when they change (the
 * daemon's sync task): an inotify descriptor (non-blocking, close-on-exec;
 * the caller owns and closes it) that becomes readable when a notmuch
 * writer commits to the store's database (files written in its xapian
 * directory), whoever the writer is (`notmuch tag` included).  Read and
 * discard what it holds, then pass.  -1 with *error_r when there is no
 * database yet or inotify fails. */
int tag_sync_notify_fd(struct store *store, const char **error_r);

#endif
