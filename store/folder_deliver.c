/* folder_deliver: a message added as a file only, for the one process per
 * message that an MTA starts (`loft deliver`).
 *
 * store_append() costs such a process most of its time beyond the file
 * itself: opening the folder's LMDB environment, parsing the message for
 * the envelope and BODYSTRUCTURE caches, and a commit, which is two more
 * fdatasyncs after the file's and the directory's.  Here the file is
 * written as any maildir deliverer writes it (tmp/, fsync, rename into
 * new/ or cur/, fsync of that directory) and the state is not touched:
 * the next open or refresh of the folder finds the file because new/'s
 * modification time no longer matches the stamps in the state, and gives
 * it its UID in a normal, fully synced commit — exactly as for a file
 * procmail or another program put there.  An IDLE waiting on the folder
 * is woken by the rename itself (store_folder_notify_fd watches new/ and
 * cur/).
 *
 * Why not keep the commit and only skip its meta-page sync
 * (MDB_NOMETASYNC)?  A crash could then roll back a commit whose UID an
 * IMAP client had already seen; the next scan would number the surviving
 * files again, in the order of their names, which is not always the order
 * in which concurrent deliveries took their UIDs, and a UID would then
 * name a different message under the same UIDVALIDITY.  A UID given only
 * by a durable commit cannot be given twice.
 *
 * The price is paid by the next reader instead: its open rescans the
 * folder's directories once (a warm open of an unchanged folder reads
 * none), and the envelope is read on demand by the fill machinery. */
#include "store/store-private.h"

#include "store/maildir.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <time.h>

int store_deliver_file(struct store *store, const char *name, const char *data, size_t len,
		       uint32_t flags, const char **error_r)
{
	char *path = NULL, *display = NULL, *state_dir = NULL, *location = NULL;
	enum store_folder_kind kind;
	const char *err;
	int ret = -1;

	if (store_check_writable(store, error_r) < 0)
		return -1;
	if (store_resolve(store, name, true, &path, &display, &state_dir, &kind, error_r) < 0)
		return -1;
	if (kind != STORE_MAILDIR) {
		ret = 0;
		goto out;
	}
	/* \Recent is the state's to give, as for any file found by a scan. */
	if (maildir_deliver(path, data, len, flags & ~(uint32_t)STORE_RECENT, NULL,
			    (int64_t)time(NULL), &location, &err) < 0) {
		store_fail_errno(store, error_r, "%s", err);
		goto out;
	}
	ret = 1;
out:
	free(location);
	free(path);
	free(display);
	free(state_dir);
	return ret;
}
