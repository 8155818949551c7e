/* screen: what every screen draws the same way — the message line (a
 * long message wraps upwards instead of being cut), the status bars —
 * and leaving curses for the editor and shell commands.  Calls nothing
 * of the screens themselves. */
#include "ui/ui-private.h"

#include "client/format.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include "ui/curses_lazy.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void ui_message(struct ui *ui, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->status, sizeof(ui->status), fmt, ap);
	va_end(ap);
	ui->status_error = error;
	if (stdscr != NULL && !isendwin()) {
		ui_draw_message(ui);
		refresh();
	}
}

/* A message wider than the screen is never cut: it wraps upwards over the
 * rows above the bottom line (the status bar, the last list rows) until
 * the screen is drawn again after the next key. */
void ui_draw_message(struct ui *ui)
{
	size_t len = strlen(ui->status), n, cols = COLS > 1 ? (size_t)COLS : 1;
	struct ui_line *lines = NULL;
	int attr = ui->status_error ? ui_color_attr(C_ERROR) : 0;

	move(LINES - 1, 0);
	clrtoeol();
	if (len == 0)
		return;
	n = ui_wrap(ui->status, len, cols, &lines);
	if (n > (size_t)(LINES > 1 ? LINES - 1 : 1))
		n = (size_t)(LINES > 1 ? LINES - 1 : 1);
	attron(attr);
	for (size_t k = 0; k < n; k++) {
		move(LINES - (int)n + (int)k, 0);
		clrtoeol();
		addnstr(ui->status + lines[k].off, (int)lines[k].len);
	}
	attroff(attr);
	free(lines);
}

char *ui_tmpfile_template(const char *prefix)
{
	const char *dir = getenv("TMPDIR");

	if (dir == NULL || *dir == '\0' || strchr(dir, '\'') != NULL)
		dir = "/tmp";
	return xasprintf("%s/%s.XXXXXX", dir, prefix);
}

int ui_top_rows(struct ui *ui)
{
	return config_bool(ui->cfg, "help") && LINES >= 6 ? 1 : 0;
}

void ui_draw_helpline(struct ui *ui, enum ui_menu menu)
{
	struct sbuf sb = SBUF_INIT;

	if (!ui_top_rows(ui))
		return;
	ui_keymap_helpline(menu, &sb);
	ui_draw_bar(0, sb.buf, "");
	sbuf_release(&sb);
}

void ui_draw_bar(int y, const char *left, const char *right)
{
	struct sbuf sb = SBUF_INIT;
	size_t rw = format_width(right), cols = (size_t)COLS;
	size_t lw;

	attron(ui_color_attr(C_STATUS));
	move(y, 0);
	if (rw + 1 > cols)
		rw = 0;
	lw = format_field(left, strlen(left), cols - rw, cols - rw, false, &sb);
	if (rw)
		format_field(right, strlen(right), rw, rw, false, &sb);
	(void)lw;
	addstr(sb.buf);
	attroff(ui_color_attr(C_STATUS));
	sbuf_release(&sb);
}

int ui_run_shell(struct ui *ui, const char *cmd, bool wait_key)
{
	int status;

	def_prog_mode();
	endwin();
	status = system(cmd);
	if (wait_key) {
		printf("\nPress any key to continue...");
		fflush(stdout);
		reset_prog_mode();
		getch();
	}
	reset_prog_mode();
	/* Nothing the command drew may stay: repaint from scratch. */
	clearok(curscr, TRUE);
	clear();
	refresh();
	return status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
