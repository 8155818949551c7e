/* index_cmd: the index's mutt habits that ask a question first — the
 * change-folder prompt (`c`), jumping to a message by its number, a
 * mailrc line typed at `:`, and tag/delete/undelete by pattern (T D U). */
#include "ui/ui-private.h"

#include "store/store.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

char *ui_folder_prompt(struct ui *ui)
{
	char *name = ui_prompt_list(ui, "Open mailbox ('?' for list): ", NULL, ui_complete_folder,
				    ui_folders_run);
	char *open;

	/* mutt's '=' is '+': a folder of the store, or on an IMAP folder
	 * one of its account (the list already gives a resolved name). */
	if (name == NULL)
		return NULL;
	open = mailbox_resolve(ui->mb.box, name, false);
	free(name);
	return open;
}

void ui_jump(struct ui *ui, int digit)
{
	char first[2] = { (char)digit, '\0' };
	char *s = ui_prompt(ui, "Jump to message: ", first, NULL);
	char *end;
	long n;

	if (s == NULL || *s == '\0') {
		free(s);
		return;
	}
	n = strtol(s, &end, 10);
	if (*end != '\0' || n < 1) {
		ui_message(ui, true, "Argument must be a message number.");
	} else if ((size_t)n > ui->mb.norder) {
		ui_message(ui, true, "Invalid message number.");
	} else {
		ui->mb.cur = (size_t)n - 1;
	}
	free(s);
}

void ui_enter_command(struct ui *ui)
{
	char *line = ui_prompt(ui, ":", NULL, NULL);
	const char *err;

	if (line == NULL || *line == '\0') {
		free(line);
		return;
	}
	/* The same parser and checks as the mailrc; `source` paths are
	 * relative to the current directory. */
	if (config_load_buffer(ui->cfg, "command", line, strlen(line), &err) < 0) {
		ui_message(ui, true, "%s", err);
	} else {
		/* What the line may have changed that the screens keep. */
		ui_keymap_init(ui->cfg);
		ui_color_init(ui->cfg);
		ui->sidebar = config_bool(ui->cfg, "sidebar_visible");
		if (sort_key_parse(config_get(ui->cfg, "sort"), &ui->sort) == 0) {
			ui->reverse = config_bool(ui->cfg, "sort_reverse");
			ui_mailbox_resort(ui);
		}
	}
	free(line);
}

void ui_pattern_action(struct ui *ui, enum ui_action a)
{
	struct ui_mailbox *mb = &ui->mb;
	char *pat = ui_prompt(ui, a == A_TAG_PATTERN ? "Tag messages matching: " :
			      a == A_DELETE_PATTERN ? "Delete messages matching: " :
			      "Undelete messages matching: ", NULL, NULL);
	const char *err;
	uint32_t *v;
	size_t n = 0;

	if (pat == NULL || *pat == '\0') {
		free(pat);
		return;
	}
	if (ui_pattern_check(pat, &err) < 0) {
		ui_message(ui, true, "%s", err);
		free(pat);
		return;
	}
	/* The rows shown (a limit applies), as mutt does. */
	v = xcalloc(mb->norder + 1, sizeof(*v));
	for (size_t r = 0; r < mb->norder; r++) {
		struct ui_pattern_msg pm;

		ui_msg_pattern(ui, mb->order[r], &pm);
		if (ui_pattern_match(pat, &pm))
			v[n++] = mb->order[r];
	}
	if (a == A_TAG_PATTERN) {
		for (size_t k = 0; k < n; k++)
			mb->tagged[v[k]] = 1;
		ui_message(ui, false, "%zu message%s tagged.", n, n == 1 ? "" : "s");
	} else if (n && ui_msgs_set_flags(ui, v, n, a == A_DELETE_PATTERN ? STORE_FLAGS_ADD :
					  STORE_FLAGS_REMOVE, STORE_DELETED) == 0) {
		ui_message(ui, false, "%zu message%s %s.", n, n == 1 ? "" : "s",
			   a == A_DELETE_PATTERN ? "deleted" : "undeleted");
	} else if (n == 0) {
		ui_message(ui, true, "No messages matched.");
	}
	free(v);
	free(pat);
}
