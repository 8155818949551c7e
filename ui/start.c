/* start: cmd_ui — opening the store and the first mailbox, the
 * first-run welcome, the index until quit, and the clean-up. */
#include "ui/ui.h"
#include "ui/ui-private.h"

#include "store/message.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/clock.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <getopt.h>
#include <locale.h>
#include "ui/curses_lazy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

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
	ui.env = (struct mailbox_env){ ui.store, ui.root, set.notmuch_db, ctx->cfg,
				       ui_net_waiting, &ui };
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
	ui_index_run(&ui);
	endwin();
out:
	ui_free(&ui);
	return status;
}
