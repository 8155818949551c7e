/* index internals shared by store/index.c (handle, messages, search, tag)
 * and store/index-scan.c (the `loft index` walk).  Nothing outside store/
 * includes this. */
#ifndef LOFT_STORE_INDEX_PRIVATE_H
#define LOFT_STORE_INDEX_PRIVATE_H

#include "store/index.h"

#include <notmuch.h>

struct index {
	notmuch_database_t *db;
	char *root;		/* mail root, no trailing slash */
	char *error;		/* last error, owned */
	bool writable;
	bool bad_query;		/* last error was a query syntax error */
};

/* Formats into ix->error and returns it. */
const char *index_errorf(struct index *ix, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ix->error from a notmuch status (and the database's status string). */
const char *index_nm_error(struct index *ix, const char *what, notmuch_status_t st);

/* Maildir flags of all the message's files to tags: notmuch's own
 * notmuch_message_maildir_flags_to_tags (D F P R S, exactly as `notmuch
 * new` does) plus T -> deleted.  The message should be frozen. */
notmuch_status_t index_sync_flags_to_tags(notmuch_message_t *msg);
/* Adds the database's new.tags to a message seen for the first time. */
notmuch_status_t index_add_new_tags(struct index *ix, notmuch_message_t *msg);

#endif
