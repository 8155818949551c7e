/* folder_meta: per-store facts about folders that IMAP clients set and the
 * maildirs cannot hold, each in a small file in the state directory:
 *
 *   subscriptions  the folders subscribed with IMAP SUBSCRIBE, in Dovecot's
 *                  format ("V\t2\n\n", then one name a line with the
 *                  hierarchy separator written as a tab);
 *   special-use    RFC 6154 uses given at CREATE, "\Use NAME" a line
 *                  (Sent, Drafts, Trash, Junk and Archive have theirs by
 *                  name and need no line).
 *
 * Changes take an exclusive lock on FILE.lock, read, change and replace the
 * file atomically (fsync'd), so concurrent sessions never lose one
 * another's change.  Names are store folder names (UTF-8, '/'-separated).
 * Errors as in store.h (0 or -1 with *error_r owned by the store); every
 * call blocks on disk I/O (and on the lock, held only while writing). */
#ifndef LOFT_STORE_FOLDER_META_H
#define LOFT_STORE_FOLDER_META_H

#include <stddef.h>

struct store;

enum store_meta { STORE_META_SUBSCRIPTIONS, STORE_META_SPECIAL_USE };

struct store_meta_entry {
	char *name;			/* the folder */
	char *value;			/* the use ("\Archive"); "" for subscriptions */
};

/* Every entry, in the file's order; a missing file is an empty list,
 * except for subscriptions: until the first SUBSCRIBE or UNSUBSCRIBE
 * writes the file, every folder counts as subscribed.
 * *list_r (NULL when empty) is freed with store_meta_free(). */
int store_meta_read(struct store *store, enum store_meta which,
		    struct store_meta_entry **list_r, size_t *n_r, const char **error_r);
void store_meta_free(struct store_meta_entry *list, size_t n);

/* Sets name's entry to value, or removes it (value NULL); setting an
 * existing one replaces its value.  Fails on a read-only store. */
int store_meta_set(struct store *store, enum store_meta which, const char *name,
		   const char *value, const char **error_r);
/* Renames the entries of from and of its subfolders ("from/x" -> "to/x"),
 * or removes them (to NULL): what RENAME and DELETE of a folder do. */
int store_meta_rename(struct store *store, enum store_meta which, const char *from,
		      const char *to, const char **error_r);

#endif
