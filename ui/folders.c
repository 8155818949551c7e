/* folders: the folder list (c / y) with message and unread counts, and a
 * prompt to type a name (Tab completes) for folders not in the list.
 *
 * Counts come from each folder's snapshot (the store's state), so the
 * list costs a state read per folder, not a scan of the messages. */
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/store.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct frow {
	char *name;
	size_t total, unread;
};

static void draw(struct ui *ui, struct frow *rows, size_t n, size_t cur, size_t top)
{
	int h = LINES > 2 ? LINES - 2 : 1;

	erase();
	for (int y = 0; y < h && top + (size_t)y < n; y++) {
		struct frow *r = &rows[top + (size_t)y];
		struct sbuf line = SBUF_INIT, sb = SBUF_INIT;

		sbuf_addf(&line, "%3zu %s%6zu %6zu  %s", top + (size_t)y + 1,
			  r->unread ? "N" : " ", r->total, r->unread, r->name);
		format_field(line.buf, line.len, (size_t)COLS, (size_t)COLS, false, &sb);
		if (top + (size_t)y == cur)
			attron(ui_color_attr(C_INDICATOR));
		mvaddstr(y, 0, sb.buf);
		if (top + (size_t)y == cur)
			attroff(ui_color_attr(C_INDICATOR));
		sbuf_release(&line);
		sbuf_release(&sb);
	}
	ui_draw_bar(LINES - 2, "-- loft: folders  (Enter open, c type a name, q back)", "");
	move(LINES - 1, 0);
	clrtoeol();
	refresh();
}

char *ui_folders_run(struct ui *ui)
{
	struct store_folder_info *list;
	size_t n, cur = 0, top = 0;
	const char *err;
	char *chosen = NULL;

	if (store_folder_list(ui->store, &list, &n, &err) < 0) {
		ui_message(ui, true, "%s", err);
		return NULL;
	}
	struct frow *rows = xcalloc(n + 1, sizeof(*rows));
	bool cancelled = false;

	for (size_t i = 0; i < n; i++) {
		struct store_folder *f = NULL;
		struct ui_progress prog;

		rows[i].name = xstrdup(list[i].name);
		if (ui->mb.name && strcmp(list[i].name, ui->mb.name) == 0)
			cur = i;
		if (cancelled)
			continue;	/* Ctrl-G: no counts for the rest */
		/* A folder never opened builds its state here: with the bar. */
		ui_progress_begin(ui, &prog, list[i].name);
		int r = store_folder_open(ui->store, list[i].name, &f, &err);

		cancelled = ui_progress_end(ui, &prog);
		if (r == 0) {
			rows[i].total = store_folder_count(f);
			for (size_t k = 0; k < rows[i].total; k++)
				rows[i].unread += !(store_folder_msg(f, k)->flags & STORE_SEEN);
			store_folder_close(&f);
		}
	}
	store_folder_list_free(list, n);
	for (;;) {
		size_t h = LINES > 2 ? (size_t)LINES - 2 : 1;

		if (cur < top || cur >= top + h)
			top = cur - cur % h;
		draw(ui, rows, n, cur, top);
		int k = ui_getkey(ui);
		const struct ui_binding *b = ui_keymap_lookup(MENU_BROWSER, k);
		enum ui_action a = b ? b->action : A_NONE;

		if (k == 'c' || k == 'y') {
			chosen = ui_prompt(ui, "Open folder: ", "+", ui_complete_folder);
			if (chosen)
				break;
			continue;
		}
		if (a == A_NEXT && cur + 1 < n)
			cur++;
		else if (a == A_PREV && cur > 0)
			cur--;
		else if (a == A_FIRST)
			cur = 0;
		else if (a == A_LAST && n)
			cur = n - 1;
		else if (a == A_NEXT_PAGE)
			cur = cur + h < n ? cur + h : (n ? n - 1 : 0);
		else if (a == A_PREV_PAGE)
			cur = cur > h ? cur - h : 0;
		else if (a == A_DISPLAY && n) {
			chosen = xstrdup(rows[cur].name);
			break;
		} else if (a == A_QUIT || k == 7)
			break;
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].name);
	free(rows);
	return chosen;
}
