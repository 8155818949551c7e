/* folders: the folder list (c / y) with message and unread counts, a
 * prompt to type a name (Tab completes) for folders not in the list, and
 * the sidebar (Esc b, sidebar_visible) with the same counts.
 *
 * The list is the open mailbox's (mailbox_folders): the store's folders,
 * counted from each folder's state (a few LMDB reads per folder, not a
 * scan; a folder never opened is scanned once, with the progress bar), or
 * on an IMAP folder the account's folders with the server's counts
 * (asked on the connection's worker while the message line says so, at
 * most the account's timeout; the sidebar takes the last list without
 * waiting).  A folder chosen opens through mailbox_resolve: on an IMAP
 * folder, on the same account.  The sidebar keeps its list for a second
 * between draws; the open folder's own line comes from the mailbox
 * itself, so it follows every key. */
#include "ui/ui-private.h"

#include "client/format.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include "ui/curses_lazy.h"
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

/* The store's progress bar around each folder counted. */
static void count_begin(void *ctx, const char *name)
{
	struct ui_progress *p = ctx;

	ui_progress_begin(p->ui, p, name);
}

static bool count_end(void *ctx)
{
	struct ui_progress *p = ctx;

	return ui_progress_end(p->ui, p);
}

/* The folders of the open mailbox into rows; NULL after a message. */
static struct frow *fill(struct ui *ui, enum mailbox_folders_mode mode, size_t *n_r)
{
	struct ui_progress prog = { .ui = ui };
	struct mailbox_count_hooks hooks = { count_begin, count_end, &prog };
	struct mailbox_folder *list;
	struct frow *rows;
	const char *err;

	ui->cancelled = false;
	/* An IMAP account's list is a round trip: say so meanwhile. */
	if (mode == MAILBOX_FOLDERS_FRESH)
		ui_message(ui, false, "Listing folders...");
	if (mailbox_folders(ui->mb.box, &ui->env, mode, true, &hooks, &list, n_r, &err) < 0) {
		ui_message(ui, true, "%s", err);
		return NULL;
	}
	rows = xcalloc(*n_r + 1, sizeof(*rows));
	for (size_t i = 0; i < *n_r; i++) {
		rows[i].name = list[i].name;
		list[i].name = NULL;
		rows[i].total = list[i].total;
		rows[i].unread = list[i].unread;
	}
	mailbox_folders_free(list, *n_r);
	return rows;
}

/* Whether row name is the open mailbox. */
static bool is_open(struct ui *ui, const char *name)
{
	return ui->mb.box != NULL && strcmp(mailbox_folder(ui->mb.box), name) == 0;
}

char *ui_folders_run(struct ui *ui)
{
	size_t n, cur = 0, top = 0;
	char *chosen = NULL;
	struct frow *rows = fill(ui, MAILBOX_FOLDERS_FRESH, &n);

	if (rows == NULL)
		return NULL;
	if (ui->status[0] != '\0' && !ui->status_error)
		ui->status[0] = '\0';	/* "Listing folders..." is over */
	for (size_t i = 0; i < n; i++)
		if (is_open(ui, rows[i].name))
			cur = i;
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
			char *typed = ui_prompt(ui, "Open folder: ", "+", ui_complete_folder);

			if (typed == NULL)
				continue;
			chosen = mailbox_resolve(ui->mb.box, typed, false);
			free(typed);
			break;
		}
		if (ui_menu_move(a, n, h, &cur))
			continue;
		if (a == A_DISPLAY && n) {
			chosen = mailbox_resolve(ui->mb.box, rows[cur].name, true);
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
	side_free();
	side.when = mono_now();
	side.rows = fill(ui, MAILBOX_FOLDERS_NOWAIT, &side.n);
	/* Ctrl-G left the rest at 0: not again for a minute. */
	if (ui->cancelled)
		side.when += 60;
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
			bool cur = is_open(ui, r->name);
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
