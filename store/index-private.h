/* index internals shared by store/index.c (handle, messages, search, tag)
 * and store/index-scan.c (the `loft index` walk).  Nothing outside store/
 * includes this. */
#ifndef LOFT_STORE_INDEX_PRIVATE_H
#define LOFT_STORE_INDEX_PRIVATE_H

#include "store/index.h"

#include "store/index-nm-private.h"

struct index {
	notmuch_database_t *db;
	char *root;		/* mail root, no trailing slash */
	char *error;		/* last error, owned */
	bool writable;
	bool bad_query;		/* last error was a query syntax error */
	notmuch_indexopts_t *opts;	/* writer: decryption off (index-guard.c) */
};

/* Formats into ix->error and returns it. */
const char *index_errorf(struct index *ix, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ix->error from a notmuch status (and the database's status string). */
const char *index_nm_error(struct index *ix, const char *what, notmuch_status_t st);

/* Why notmuch cannot index the file (file true) or the folder directory
 * (file false) at path, absolute and under the root: a name or a folder
 * path too long for a Xapian term (index-guard.c).  The reason is
 * formatted into buf; NULL when notmuch can take it. */
const char *index_path_problem(const struct index *ix, const char *path, bool file,
			       char *buf, size_t size);
/* notmuch_database_index_file() as loft calls it: with ix->opts, and
 * NOTMUCH_STATUS_PATH_ERROR without calling notmuch for a path that
 * index_path_problem() refuses or a message over the message model's caps
 * (message_file_over_limits()).  *note_r (caller frees, NULL when there is
 * nothing to say) gets that reason, or the GLib messages (GMime criticals)
 * logged while the file was parsed, which are not written to stderr. */
notmuch_status_t index_nm_index_file(struct index *ix, const char *path,
				     notmuch_message_t **msg_r, char **note_r);

/* Whether the file name path of a message is on its way out (a scan's
 * removal to come). */
typedef bool index_gone_fn(void *ctx, const char *path);
/* Maildir flags of all the message's files to tags, as `notmuch new`
 * (notmuch_message_maildir_flags_to_tags: D F P R S) plus T -> deleted,
 * touching only the tags that differ; files gone() says are leaving are
 * left out (gone may be NULL).  The message should be frozen. */
notmuch_status_t index_sync_flags_to_tags(notmuch_message_t *msg, index_gone_fn *gone,
					  void *ctx);
/* Sets the flag tags (unread replied flagged deleted draft passed) to
 * those of flags, enum store_flag bits; only the tags that differ are
 * touched.  The message should be frozen. */
notmuch_status_t index_set_flag_tags(notmuch_message_t *msg, uint32_t flags);
/* Whether the database's maildir.synchronize_flags is on (the default). */
bool index_sync_flags_on(struct index *ix);
/* Adds the database's new.tags to a message seen for the first time. */
notmuch_status_t index_add_new_tags(struct index *ix, notmuch_message_t *msg);

#endif
