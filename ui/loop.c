/* loop: the event loop that waits on the keyboard, the mailbox's notify
 * fd, a search's next rows, the queue's timers and SIGWINCH at once, and
 * hands the screens one event at a time.
 *
 * Curses runs with its own SIGWINCH handler: a resize interrupts poll()
 * and the next wget_wch() returns KEY_RESIZE, which ui_getkey() hands on
 * as UI_EV_RESIZE: the screens answer it with a full re-layout. */
#include "ui/ui-private.h"

#include "client/mailbox.h"

#include <errno.h>
#include "ui/curses_lazy.h"
#include <poll.h>
#include <signal.h>
#include <unistd.h>

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

/* The terminal hung up and no key will ever come: poll() keeps saying so
 * and wget_wch() keeps failing.  Leave as the SIGHUP the kernel normally
 * sends would make us, also where SIGHUP is ignored (nohup, a tracer). */
static _Noreturn void terminal_gone(void)
{
	raise(SIGHUP);
	_exit(128 + SIGHUP);
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
		/* Threads with new rows added are kept once drawn (the
		 * screen does not wait for the state's commits). */
		if (ui->mb.box != NULL)
			mailbox_threads_flush(ui->mb.box, ui->mb.thr, NULL);
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
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			terminal_gone();
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
			/* At once, with no wait for more: a burst of news
			 * (a connection's state, then its rows) comes while
			 * a refresh runs and is taken by the next one (a wait
			 * of 30 ms here was on the path of every reopen with
			 * new mail). */
			read_notify(notify_fd);
			/* A remote mailbox's connection state, said over the
			 * rows' "N new messages" (it says more). */
			const char *status = mailbox_status(ui->mb.box);
			bool changed = ui_mailbox_refresh(ui);

			if (status != NULL)
				ui_message(ui, false, "%s", status);
			if (changed)
				return event(UI_EV_MAILBOX);
			if (status != NULL)
				return event(UI_EV_CONNECTION);
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
