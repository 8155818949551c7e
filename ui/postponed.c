/* postponed: the list R shows when the Drafts folder holds more than one
 * message, as mutt's postponed menu does: newest first, each with its
 * date, first recipient and subject (from the folder's cached envelopes:
 * no message is read), Enter recalls the one under the cursor, q or
 * Ctrl-G goes back.  The same screen for a folder of the store and for an
 * IMAP account's Drafts. */
#include "ui/ui-private.h"

#include "client/envelope.h"
#include "client/format.h"

#include "lib/sbuf.h"

#include "ui/curses_lazy.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Row r of the list (newest first) is message count-1-r of f. */
static void draw_row(struct mailbox *f, size_t i, int y, bool cur, size_t number)
{
	struct sbuf env = SBUF_INIT, line = SBUF_INIT, cell = SBUF_INIT;
	struct envelope *e = NULL;
	const char *err, *to = "", *subject = "";
	char date[32] = "";

	if (mailbox_envelope(f, i, &env, &err) == 1)
		e = envelope_parse(env.buf, env.len, &err);
	if (e != NULL) {
		time_t t = (time_t)e->date;
		struct tm tm;

		if (e->date != 0 && localtime_r(&t, &tm) != NULL)
			strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
		to = *e->to_name ? e->to_name : e->to_addr;
		subject = e->subject;
	}
	sbuf_addf(&line, "%3zu  %-16s  ", number, date);
	format_field(to, strlen(to), 24, 24, false, &line);
	sbuf_addstr(&line, "  ");
	sbuf_addstr(&line, subject);
	format_field(line.buf, line.len, (size_t)COLS, (size_t)COLS, false, &cell);
	if (cur)
		attron(ui_color_attr(C_INDICATOR));
	mvaddstr(y, 0, cell.buf);
	if (cur)
		attroff(ui_color_attr(C_INDICATOR));
	envelope_free(&e);
	sbuf_release(&env);
	sbuf_release(&line);
	sbuf_release(&cell);
}

static void draw(struct ui *ui, struct mailbox *f, size_t n, size_t cur, size_t top)
{
	int h = LINES > 2 ? LINES - 2 : 1;

	erase();
	for (int y = 0; y < h && top + (size_t)y < n; y++) {
		size_t r = top + (size_t)y;

		draw_row(f, n - 1 - r, y, r == cur, r + 1);
	}
	ui_draw_bar(LINES - 2, "-- loft: postponed messages  (Enter recall, q back)", "");
	ui_draw_message(ui);
	refresh();
}

long ui_postponed_choose(struct ui *ui, struct mailbox *f)
{
	size_t n = mailbox_count(f), cur = 0, top = 0;

	ui->status[0] = '\0';
	for (;;) {
		size_t h = LINES > 2 ? (size_t)LINES - 2 : 1;

		if (cur < top || cur >= top + h)
			top = cur - cur % h;
		draw(ui, f, n, cur, top);
		struct ui_event ev = ui_getkey(ui);
		int k = ev.key;

		if (ev.kind != UI_EV_KEY)
			continue;	/* drawn again */
		const struct ui_binding *b = ui_keymap_lookup(MENU_BROWSER, k);
		enum ui_action a = b ? b->action : A_NONE;

		if (ui_menu_move(a, n, h, &cur))
			continue;
		if (a == A_DISPLAY)
			return (long)(n - 1 - cur);
		else if (a == A_QUIT || k == 7)
			return -1;
	}
}
