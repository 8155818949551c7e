/* tag_action: the `+` action (modify-labels: "+add -remove" on the
 * current message or the tagged ones), through the mailbox's tag call
 * (client/mailbox.h: a notmuch writer opened for this change only).  Flag
 * tags (unread, flagged, replied...) go to the maildir flags (the files
 * are renamed as by `loft tag`); the mailbox is then synced, so what is
 * shown follows the files. */
#include "ui/ui-private.h"

#include "client/mailbox.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Splits "+a -b c" into tags to add (bare words add) and to remove.
 * Returns the number of words; the arrays point into text (modified). */
static size_t parse_changes(char *text, const char ***add_r, size_t *n_add,
			    const char ***rm_r, size_t *n_rm)
{
	size_t n = 0, cap = strlen(text) / 2 + 2;
	const char **add = xcalloc(cap, sizeof(*add)), **rm = xcalloc(cap, sizeof(*rm));
	char *save = NULL;

	*n_add = *n_rm = 0;
	for (char *w = strtok_r(text, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (*w == '-' && w[1])
			rm[(*n_rm)++] = w + 1;
		else if (*w == '+' && w[1])
			add[(*n_add)++] = w + 1;
		else if (*w != '+' && *w != '-')
			add[(*n_add)++] = w;
		else
			continue;
		n++;
	}
	*add_r = add;
	*rm_r = rm;
	return n;
}

void ui_tags_modify(struct ui *ui, const uint32_t *v, size_t n)
{
	const char **add, **rm, *err;
	size_t n_add, n_rm, done = 0;
	char *text;
	int ret;

	if (n == 0)
		return;
	if (ui->read_only) {
		ui_message(ui, true, "the mailbox is read-only (-R)");
		return;
	}
	text = ui_prompt(ui, "Tags (+add -remove): ", NULL, NULL);
	if (text == NULL)
		return;
	if (parse_changes(text, &add, &n_add, &rm, &n_rm) == 0) {
		free(add);
		free(rm);
		free(text);
		return;
	}
	ui_message(ui, false, "Changing tags...");
	ret = mailbox_tag(ui->mb.box, v, n, add, n_add, rm, n_rm, &done, &err);
	if (ret < 0) {
		ui_message(ui, true, "%s", err);
		if (done == 0)
			goto out;
	}
	/* Everything shown may have changed: the tags, and the flags of
	 * renamed files. */
	ui_tags_forget(&ui->mb);
	ui_mailbox_refresh(ui);
	if (done == n)
		ui_message(ui, false, "%zu message%s tagged", done, done == 1 ? "" : "s");
	else if (ret == 0)
		ui_message(ui, true, "%zu message%s not in a maildir: not tagged", n - done,
			   n - done == 1 ? "" : "s");
out:
	free(add);
	free(rm);
	free(text);
}
