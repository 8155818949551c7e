/* mailbox_tags: notmuch tag changes for the drivers whose messages are
 * files (a store maildir, a search).  The database writer is opened for
 * this change only and closed (committed) at once: the client never holds
 * it while waiting for a key.  Before it closes, the tags carried as IMAP
 * keywords are passed on to the store (store/tag_sync.h), so that loft's
 * IMAP server and the next `loft sync` see them. */
#include "client/mailbox-private.h"

#include "store/index.h"
#include "store/tag_sync.h"

#include <stdio.h>
#include <stdlib.h>

int mailbox_files_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		      size_t n_add, const char *const *rm, size_t n_rm,
		      void (*renamed)(struct mailbox *mb, size_t i, const char *path),
		      size_t *done_r, const char **error_r)
{
	struct index *w = NULL;
	int ret = 0;

	*done_r = 0;
	if (index_open(mb->env.root, mb->env.notmuch_db, true, &w, error_r) < 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		char *path = mailbox_path(mb, v[k]), *np = NULL;
		struct mailbox_msg m;

		if (path == NULL)
			continue;
		mailbox_msg(mb, v[k], &m);
		if (index_tag_file(w, path, m.flags & ~(uint32_t)STORE_RECENT, add, n_add, rm, n_rm,
				   &np, error_r) < 0) {
			/* The writer owns the text; it closes below. */
			snprintf(mb->error, sizeof(mb->error), "%s", *error_r);
			*error_r = mb->error;
			free(path);
			ret = -1;
			break;
		}
		if (renamed && np)
			renamed(mb, v[k], np);
		free(np);
		free(path);
		(*done_r)++;
	}
	/* A pass that fails (a read-only store) leaves its marks as they
	 * were: the next one (loft sync, loft index) does the work. */
	const char *ignored;

	if (mb->env.store != NULL && *done_r > 0)
		tag_sync_run(mb->env.store, w, NULL, &ignored);
	index_close(&w);
	return ret;
}
