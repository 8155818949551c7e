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
 * the folder.  A mailbox that moves at once (an IMAP folder) moves the
 * messages to its trash instead: the account's own (\Trash, else Trash:
 * mailbox_role), by the server's MOVE (or COPY, \Deleted and UID
 * EXPUNGE), the deleted mark taken off the moved ones. */
#include "ui/ui-private.h"

#include "client/mailbox.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ui_mailbox_purge(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	char *trash_name = NULL;
	const char *err, *shown = NULL;
	struct mailbox *trash = NULL;
	uint32_t *rows;
	size_t n = 0, nd, foreign = 0, gone = 0;
	bool moves = false;
	char q[160];

	if (!ui_mailbox_writable(ui) || ui->read_only)
		return 0;
	/* The flags as they are now: another client may have changed them. */
	ui_mailbox_refresh(ui);
	/* rows[0..nd) go to the trash; rows[nd..n) were saved elsewhere with
	 * s and already have their copy. */
	rows = xcalloc(mb->n + 1, sizeof(*rows));
	for (size_t i = 0; i < mb->n; i++) {
		if (!(ui_msg_flags(ui, i) & STORE_DELETED))
			continue;
		if (mb->deleted_here[i] == UI_DEL_HERE)
			rows[n++] = (uint32_t)i;
		else if (!mb->deleted_here[i])
			foreign++;
	}
	nd = n;
	for (size_t i = 0; i < mb->n; i++)
		if ((ui_msg_flags(ui, i) & STORE_DELETED) && mb->deleted_here[i] == UI_DEL_SAVED)
			rows[n++] = (uint32_t)i;
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
	trash_name = mailbox_role(mb->box, &ui->env, MAILBOX_ROLE_TRASH);
	if (trash_name != NULL && nd > 0) {
		trash = ui_box_open(ui, trash_name, MAILBOX_OPEN_CREATE | MAILBOX_OPEN_TARGET, &err);
		if (trash == NULL) {
			ui_message(ui, true, "cannot open the trash %s: %s; nothing was deleted",
				   trash_name, err);
			n = 0;
			goto out;
		}
		/* Purged in the trash itself: removed for good. */
		if (mailbox_same(trash, mb->box))
			mailbox_close(&trash);
		else
			shown = mailbox_folder(trash);
	}
	/* The copies lose the deleted flag: in the trash they are messages
	 * like any other (purged only when deleted there).  A failed set
	 * copy commits nothing in the trash. */
	moves = trash && (mailbox_caps(mb->box) & MAILBOX_CAP_MOVE);
	if (trash && nd > 0 &&
	    (moves ? mailbox_move(mb->box, rows, nd, trash, &err)
		   : mailbox_copy(mb->box, rows, nd, trash, MAILBOX_COPY_UNDELETE, &err)) < 0) {
		ui_message(ui, true, "cannot move to %s: %s; nothing was deleted", shown, err);
		n = 0;
		goto out;
	}
	/* Moved ones are gone already. */
	gone = moves ? nd : 0;
	if (n > gone && mailbox_expunge(mb->box, rows + gone, n - gone, &err) < 0) {
		ui_mailbox_refresh(ui);
		ui_message(ui, true, "%s", err);
		n = gone;
		goto out;
	}
	ui_mailbox_refresh(ui);
	if (trash && nd > 0)
		ui_message(ui, false, "%zu message%s moved to %s%s", nd, nd == 1 ? "" : "s",
			   shown, n > nd ? " (saved ones purged)" : "");
	else
		ui_message(ui, false, "%zu message%s %s", n, n == 1 ? "" : "s",
			   trash_name && n > nd ? "purged (already saved elsewhere)" : "deleted");
out:
	mailbox_close(&trash);
	free(trash_name);
	free(rows);
	return n;
}
