/* loop: cmd_ui (opening the store, the first-run welcome), the event loop
 * that waits on the keyboard, the folder's notify fd and SIGWINCH at once,
 * the message line, and leaving curses for the editor and shell commands.
 *
 * Curses runs with its own SIGWINCH handler: a resize interrupts poll()
 * and the next wget_wch() returns KEY_RESIZE, which ui_getkey() hands on
 * as UI_EV_RESIZE: the screens answer it with a full re-layout. */
#include "ui/ui.h"
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/message.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/clock.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <ncurses.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

static struct ui *the_ui;

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

static void read_notify(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int ui_event_key(struct ui_event ev)
{
	return ev.kind == UI_EV_KEY ? ev.key : 0;
}

void ui_redraw(struct ui *ui)
{
	if (ui->redraw)
		ui->redraw(ui);
}

static struct ui_event event(enum ui_event_kind kind)
{
	return (struct ui_event){ kind, 0 };
}

static struct ui_event key_event(int key)
{
	return (struct ui_event){ UI_EV_KEY, key };
}

struct ui_event ui_getkey(struct ui *ui)
{
	wint_t ch;
	int r;

	for (;;) {
		int notify_fd = ui->mb.box ? mailbox_notify_fd(ui->mb.box) : -1;
		struct pollfd pfd[3] = { { 0, POLLIN, 0 }, { notify_fd, POLLIN, 0 },
					 { ui_queue_fd(ui), POLLIN, 0 } };
		int nfds = 3, qwait = ui_queue_wait_ms(ui), wait;

		/* Keys already buffered by curses come first. */
		nodelay(stdscr, TRUE);
		r = wget_wch(stdscr, &ch);
		nodelay(stdscr, FALSE);
		if (r != ERR)
			break;
		/* A search still reading: the next batch when no key comes. */
		bool searching = ui_search_running(ui);
		wait = searching ? ui_search_wait_ms(ui) : 60 * 1000;
		if (qwait >= 0 && qwait < wait)
			wait = qwait;
		/* poll() skips the negative fds (no folder, no queue run). */
		int n = poll(pfd, (nfds_t)nfds, wait);

		if (n < 0) {
			if (errno == EINTR)
				continue;	/* SIGWINCH: wget_wch gives KEY_RESIZE */
			return event(UI_EV_RESIZE);
		}
		if (n == 0 && qwait >= 0 && qwait <= wait) {
			ui_queue_tick(ui);
			if (!searching)
				continue;
		}
		if (pfd[2].fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP))) {
			if (ui_queue_read(ui) && ui->in_index)
				return event(UI_EV_STATUS);	/* the new count, the message */
			continue;
		}
		if (n == 0 && searching) {
			ui_search_step(ui);
			if (ui->in_index)
				return event(UI_EV_MAILBOX);	/* the new rows */
			continue;
		}
		if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN)) {
			read_notify(notify_fd);
			/* Let a burst of changes settle into one refresh. */
			usleep(30 * 1000);
			read_notify(notify_fd);
			if (ui_mailbox_refresh(ui))
				return event(UI_EV_MAILBOX);
		}
	}
	/* Ctrl-G on the index stops a search (elsewhere it cancels a prompt). */
	if (r == OK && ch == 7 && ui->in_index && ui_search_running(ui)) {
		ui_search_stop(ui);
		return event(UI_EV_MAILBOX);
	}
	if (r == OK && ch == 27) {
		/* Esc then a key within ESCDELAY: a meta key. */
		wint_t ch2;

		halfdelay(1);
		r = wget_wch(stdscr, &ch2);
		nocbreak();
		cbreak();
		if (r == OK && ch2 != 27)
			return key_event(UI_META | (int)ch2);
		return key_event(27);
	}
	if (r == KEY_CODE_YES && ch == KEY_RESIZE)
		return event(UI_EV_RESIZE);
	return key_event(r == KEY_CODE_YES ? UK((int)ch) : (int)ch);
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

/* ---- starting ---- */

static const char welcome[] =
	"From: loft <loft@localhost>\n"
	"To: you@localhost\n"
	"Subject: Welcome to loft\n"
	"Date: %s\n"
	"Message-ID: <welcome.%ld@loft.localhost>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Welcome to loft, a mail system in one program.\n"
	"\n"
	"Keys work as in mutt:\n"
	"  j/k, Up/Down     move          Enter   read the message\n"
	"  q                back / quit   ?       all keys of this screen\n"
	"  m                new message   r/g/L   reply / to all / to the list\n"
	"  f                forward       d/u     delete / undelete\n"
	"  s/C              move / copy   F, N    flag, toggle new\n"
	"  /                search here   \\       search all mail (notmuch)\n"
	"  l                limit         c       change folder\n"
	"  v                attachments   $       expunge deleted messages\n"
	"\n"
	"Your mail lives in ~/Mail as ordinary maildirs.  Settings go in\n"
	"~/.config/loft/mailrc: see mailrc.example and loft-mailrc(5).\n"
	"\n"
	"To send mail beyond this machine, quit (q) and run `loft init`: it asks\n"
	"for your address and your provider, writes the mailrc and a login for\n"
	"your phone, and tells you how to start the daemon.\n";

static void first_run(struct ui *ui)
{
	struct store_folder *f = NULL;
	const char *err;

	if (store_folder_open(ui->store, "INBOX", &f, &err) < 0)
		return;
	if (store_folder_count(f) == 0 && store_folder_uidnext(f) <= 1) {
		char date[64];
		time_t now = time(NULL);
		struct sbuf sb = SBUF_INIT;
		uint32_t uid;

		clock_rfc5322(now, date, sizeof(date));
		sbuf_addf(&sb, welcome, date, (long)now);
		store_append(f, sb.buf, sb.len, 0, NULL, 0, &uid, &err);
		sbuf_release(&sb);
	}
	store_folder_close(&f);
}

static void ui_free(struct ui *ui)
{
	ui_mailbox_close(ui);
	ui_queue_free(ui);
	store_close(&ui->store);
	free(ui->root);
	free(ui->last_search);
	ui_keymap_free();
	ui_mailcap_set_path(NULL);
	ui_sidebar_free();
	ui_color_free();
	ui_tags_free();
	ui_complete_free();
	message_deinit();
}

int cmd_ui(struct loft_ctx *ctx, int argc, char **argv)
{
	struct ui ui = { .ctx = ctx, .cfg = ctx->cfg, .queue_fd = -1,
			 .queue_out = SBUF_INIT };
	const char *mailbox = NULL, *err;
	struct store_settings set = { 0 };
	struct stat st;
	bool fresh;
	int c, status = EX_OK;

	while ((c = getopt(argc, argv, "f:R")) != -1) {
		if (c == 'f') {
			mailbox = optarg;
		} else if (c == 'R') {
			ui.read_only = true;
		} else {
			fprintf(stderr, "usage: loft [-F MAILRC] [-R] [-f MAILBOX]\n");
			return EX_USAGE;
		}
	}
	if (!isatty(0) || !isatty(1)) {
		fprintf(stderr, "loft: the mail client needs a terminal\n");
		return EX_USAGE;
	}
	ui.root = xstrdup(config_get(ctx->cfg, "folder"));
	set.root = ui.root;
	set.state_dir = config_get(ctx->cfg, "state_dir");
	set.notmuch_db = config_get(ctx->cfg, "notmuch_database");
	fresh = stat(ui.root, &st) < 0;
	/* -R writes nothing under the store: no default folders, states
	 * in the cache (a backup, another user's mail, a read-only mount). */
	if (store_open(&set, ui.read_only ? STORE_OPEN_READONLY : STORE_OPEN_CREATE, &ui.store,
		       &err) < 0) {
		fprintf(stderr, "loft: %s\n", err);
		free(ui.root);
		return EX_CONFIG;
	}
	ui.env = (struct mailbox_env){ ui.store, ui.root, set.notmuch_db };
	if (fresh)
		first_run(&ui);
	if (sort_key_parse(config_get(ctx->cfg, "sort"), &ui.sort) < 0)
		ui.sort = SORT_THREADS;
	ui.reverse = config_bool(ctx->cfg, "sort_reverse");
	ui.sidebar = config_bool(ctx->cfg, "sidebar_visible");
	ui_keymap_init(ctx->cfg);
	ui_mailcap_set_path(config_get(ctx->cfg, "mailcap_path"));

	if (mailbox == NULL)
		mailbox = "INBOX";

	/* Curses first: a first open of a big folder shows its progress. */
	setlocale(LC_ALL, "");
	set_escdelay(25);
	initscr();
	the_ui = &ui;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	ui_color_init(ctx->cfg);
	if (ui_mailbox_open(&ui, mailbox, &err) < 0) {
		endwin();
		/* A search's query error. */
		if (strncmp(mailbox, "search:", 7) == 0) {
			fprintf(stderr, "loft: %s: %s\n", mailbox, err);
			status = EX_DATAERR;
		} else if (ui.cancelled) {
			fprintf(stderr, "loft: opening %s cancelled\n", mailbox);
		} else {
			fprintf(stderr, "loft: %s\n", err);
			status = EX_NOINPUT;
		}
		goto out;
	}
	ui_queue_count(&ui);
	ui_index_run(&ui);
	endwin();
out:
	the_ui = NULL;
	ui_free(&ui);
	return status;
}
