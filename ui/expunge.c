/* expunge: purging the messages deleted in the index, as mutt does with
 * `trash` set — they move to the trash folder, and are really removed only
 * when purged in the trash itself (or with trash empty: `set notrash`).
 *
 * Messages saved to another folder with s are purged without a trash copy
 * (mutt does the same): the saved copy is the one that counts.
 *
 * Only what this session marked deleted is purged.  A message another
 * program flagged \Deleted (maildir T set behind our back, an IMAP client
 * that has not expunged yet) is shown as deleted but kept: removing it is
 * that program's decision, and the question would not count it anyway.
 * The user can take it over with u then d.
 *
 * The move is one set copy into the trash first, then one expunge: when
 * the copy fails, the trash commits nothing and nothing is removed from
 * the folder. */
#include "ui/ui-private.h"

#include "store/store.h"

#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_folder *ui_folder_open_create(struct ui *ui, const char *name, const char **error_r)
{
	struct store_folder *f = ui_folder_open(ui, name, error_r);

	if (f == NULL && name[0] == '+' && store_folder_create(ui->store, name + 1, error_r) == 0)
		f = ui_folder_open(ui, name, error_r);
	return f;
}

/* Copies uids[0..n) of the open folder to trash, with the deleted flag
 * taken off the copies: two transactions in the trash whatever n is.
 * Returns 0, or -1 with the message line set and the trash as before. */
static int copy_to_trash(struct ui *ui, struct store_folder *trash, const uint32_t *uids, size_t n)
{
	struct store_flag_change undelete = { STORE_FLAGS_REMOVE, STORE_DELETED, NULL, 0 };
	uint32_t *made = xcalloc(n + 1, sizeof(*made));
	const char *err;
	size_t m = 0;

	/* A failed set copy commits nothing in the trash. */
	if (store_copy_uids(ui->mb.folder, uids, n, trash, made, &err) < 0) {
		ui_message(ui, true, "cannot move to %s: %s; nothing was deleted",
			   config_get(ui->cfg, "trash"), err);
		free(made);
		return -1;
	}
	/* The copy carries the T flag along; in the trash it is a message
	 * like any other (purged only when deleted there).  UIDs another
	 * process expunged meanwhile were skipped (0). */
	for (size_t k = 0; k < n; k++)
		if (made[k])
			made[m++] = made[k];
	store_set_flags_uids(trash, made, m, &undelete, NULL, NULL, &err);
	free(made);
	return 0;
}

size_t ui_mailbox_purge(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	const char *trash_name = config_get(ui->cfg, "trash"), *err;
	struct store_folder *trash = NULL;
	uint32_t *uids;
	size_t n = 0, nd, foreign = 0;
	char q[160];

	if (mb->folder == NULL || ui->read_only)
		return 0;
	/* The flags as they are now: another client may have changed them. */
	ui_mailbox_refresh(ui);
	/* uids[0..nd) go to the trash; uids[nd..n) were saved elsewhere with s
	 * and already have their copy. */
	uids = xcalloc(mb->n + 1, sizeof(*uids));
	for (size_t i = 0; i < mb->n; i++) {
		if (!(ui_msg_flags(ui, i) & STORE_DELETED))
			continue;
		if (mb->deleted_here[i] == UI_DEL_HERE)
			uids[n++] = ui_msg_uid(ui, i);
		else if (!mb->deleted_here[i])
			foreign++;
	}
	nd = n;
	for (size_t i = 0; i < mb->n; i++)
		if ((ui_msg_flags(ui, i) & STORE_DELETED) && mb->deleted_here[i] == UI_DEL_SAVED)
			uids[n++] = ui_msg_uid(ui, i);
	if (n == 0) {
		if (foreign)
			ui_message(ui, false, "%zu message%s marked deleted by another program kept "
				   "(u then d to purge here)", foreign, foreign == 1 ? "" : "s");
		goto out;
	}
	snprintf(q, sizeof(q), "Purge %zu deleted message%s?", n, n == 1 ? "" : "s");
	if (config_bool(ui->cfg, "delete_confirm") && !ui_yesno(ui, q, true)) {
		n = 0;
		goto out;
	}
	if (trash_name && *trash_name) {
		trash = ui_folder_open_create(ui, trash_name, &err);
		if (trash == NULL) {
			ui_message(ui, true, "cannot open the trash %s: %s; nothing was deleted",
				   trash_name, err);
			n = 0;
			goto out;
		}
		/* Purged in the trash itself: removed for good. */
		if (strcmp(store_folder_path(trash), store_folder_path(mb->folder)) == 0)
			store_folder_close(&trash);
	}
	if (trash && nd > 0 && copy_to_trash(ui, trash, uids, nd) < 0) {
		n = 0;
		goto out;
	}
	if (store_expunge(mb->folder, uids, n, &err) < 0) {
		ui_message(ui, true, "%s", err);
		n = 0;
		goto out;
	}
	ui_mailbox_refresh(ui);
	if (trash && nd > 0)
		ui_message(ui, false, "%zu message%s moved to %s%s", nd, nd == 1 ? "" : "s",
			   trash_name, n > nd ? " (saved ones purged)" : "");
	else
		ui_message(ui, false, "%zu message%s %s", n, n == 1 ? "" : "s",
			   trash && n > nd ? "purged (already saved elsewhere)" : "deleted");
out:
	store_folder_close(&trash);
	free(uids);
	return n;
}
