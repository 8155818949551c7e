/* folders: the folder list (c / y) with message and unread counts, a
 * prompt to type a name (Tab completes) for folders not in the list, and
 * the sidebar (Esc b, sidebar_visible) with the same counts.
 *
 * Counts come from store_folder_status(): the counters in each folder's
 * state, so the list costs a few LMDB reads per folder, not a scan of the
 * messages (a folder never opened is scanned once, to build its state).
 * The sidebar keeps its list for a second between draws; the open folder's
 * own line comes from the mailbox itself, so it follows every key. */
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/store.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		struct ui_progress prog;

		rows[i].name = xstrdup(list[i].name);
		if (ui->mb.name && strcmp(list[i].name, ui->mb.name) == 0)
			cur = i;
		if (cancelled)
			continue;	/* Ctrl-G: no counts for the rest */
		/* Counters from the state; a folder never opened builds its
		 * state here (a scan): with the bar. */
		ui_progress_begin(ui, &prog, list[i].name);
		if (store_folder_status(ui->store, list[i].name, &rows[i].total, &rows[i].unread,
					&err) < 0)
			rows[i].total = rows[i].unread = 0;
		cancelled = ui_progress_end(ui, &prog);
	}
	store_folder_list_free(list, n);
	for (;;) {
		size_t h = LINES > 2 ? (size_t)LINES - 2 : 1;

		if (cur < top || cur >= top + h)
			top = cur - cur % h;
		draw(ui, rows, n, cur, top);
		struct ui_event ev = ui_getkey(ui);
		int k = ev.key;

		if (ev.kind != UI_EV_KEY)
			continue;	/* drawn again */
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

/* ---- the sidebar ---- */

static struct {
	struct frow *rows;
	size_t n;
	double when;		/* CLOCK_MONOTONIC seconds of the last fill */
} side;

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void side_free(void)
{
	for (size_t i = 0; i < side.n; i++)
		free(side.rows[i].name);
	free(side.rows);
	side.rows = NULL;
	side.n = 0;
}

static void side_fill(struct ui *ui)
{
	struct store_folder_info *list;
	size_t n;
	const char *err;

	side_free();
	side.when = mono_now();
	if (store_folder_list(ui->store, &list, &n, &err) < 0)
		return;
	side.rows = xcalloc(n + 1, sizeof(*side.rows));
	for (size_t i = 0; i < n; i++) {
		struct ui_progress prog;
		bool cancelled;

		side.rows[i].name = xstrdup(list[i].name);
		/* A folder never opened is scanned once to build its state:
		 * with the bar; Ctrl-G leaves the rest at 0 for a minute. */
		ui_progress_begin(ui, &prog, list[i].name);
		if (store_folder_status(ui->store, list[i].name, &side.rows[i].total,
					&side.rows[i].unread, &err) < 0)
			side.rows[i].total = side.rows[i].unread = 0;
		cancelled = ui_progress_end(ui, &prog);
		if (cancelled) {
			for (size_t k = i + 1; k < n; k++)
				side.rows[k].name = xstrdup(list[k].name);
			side.when += 60;
			break;
		}
	}
	side.n = n;
	store_folder_list_free(list, n);
}

void ui_sidebar_free(void)
{
	side_free();
	side.when = 0;
}

void ui_sidebar_line(const char *name, size_t unread, size_t total, size_t width,
		     struct sbuf *out)
{
	char counts[48];
	size_t cw;

	snprintf(counts, sizeof(counts), " %zu/%zu", unread, total);
	cw = strlen(counts);
	if (cw + 2 > width) {
		format_field(name, strlen(name), width, width, false, out);
		return;
	}
	format_field(name, strlen(name), width - cw, width - cw, false, out);
	sbuf_addstr(out, counts);
}

void ui_sidebar_draw(struct ui *ui, int y0, int rows, int width)
{
	if (side.rows == NULL || mono_now() - side.when > 1.0)
		side_fill(ui);
	for (int y = 0; y < rows; y++) {
		struct sbuf sb = SBUF_INIT;

		if ((size_t)y < side.n) {
			struct frow *r = &side.rows[y];
			bool cur = ui->mb.name && strcmp(r->name, ui->mb.name) == 0;
			size_t unread = r->unread, total = r->total;
			int attr;

			if (cur && !ui_mailbox_virtual(ui)) {
				size_t fl, del;

				ui_mailbox_counts(ui, &unread, &fl, &del);
				total = ui->mb.n;
			}
			attr = (cur ? (int)A_REVERSE : 0) | (unread ? (int)A_BOLD : 0);
			ui_sidebar_line(r->name, unread, total, (size_t)width - 1, &sb);
			attron(attr);
			mvaddstr(y0 + y, 0, sb.buf);
			attroff(attr);
		} else {
			mvhline(y0 + y, 0, ' ', width - 1);
		}
		mvaddch(y0 + y, width - 1, ACS_VLINE);
		sbuf_release(&sb);
	}
}
