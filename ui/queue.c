/* queue: what the client knows of the outgoing queue — loft's own
 * sendmail and `loft queue` run as child processes (the UI never includes
 * the MTA), the count of messages waiting for the status line, the reason
 * a message is still queued, and the queue runs the client makes itself
 * while it is open and no `loft daemon` runs.
 *
 * A run started from the event loop is a background child whose output
 * comes through a pipe that ui_getkey() polls: a slow smarthost never
 * freezes the screen.  The run right after a send is waited for (under
 * "Sending message..."), so the message line can say what happened. */
#include "ui/ui-private.h"

#include "lib/command.h"
#include "lib/config.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Output of a child kept at most (a queue listing of a huge queue). */
#define OUT_MAX (1u << 20)

static pid_t spawn_loft(struct ui *ui, const char *const *args, int *in_r, int *out_r)
{
	int in[2] = { -1, -1 }, out[2];
	const char *argv[16];
	size_t n = 0;
	pid_t pid;

	if (in_r && pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		if (in_r) {
			close(in[0]);
			close(in[1]);
		}
		return -1;
	}
	argv[n++] = "loft";
	if (ui->ctx->config_path) {
		argv[n++] = "-F";
		argv[n++] = ui->ctx->config_path;
	}
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(in_r ? in[0] : null, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	if (in_r) {
		close(in[0]);
		*in_r = in[1];
		if (pid < 0)
			close(in[1]);
	}
	close(out[1]);
	*out_r = out[0];
	if (pid < 0)
		close(out[0]);
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ui_run_loft(struct ui *ui, const char *const *args, const char *in, size_t len,
		struct sbuf *out)
{
	int ifd = -1, ofd;
	size_t off = 0;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	pid_t pid = spawn_loft(ui, args, in ? &ifd : NULL, &ofd);

	if (pid < 0) {
		sbuf_addf(out, "cannot start loft %s: %s", args[0], strerror(errno));
		signal(SIGPIPE, old);
		return -1;
	}
	/* Feed stdin and drain the output together: neither side can fill a
	 * pipe and wait for the other. */
	while (ofd >= 0) {
		struct pollfd p[2] = { { ofd, POLLIN, 0 }, { ifd, POLLOUT, 0 } };
		int n = poll(p, ifd >= 0 ? 2 : 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (ifd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = off < len ? write(ifd, in + off, len - off) : 0;

			if (w > 0)
				off += (size_t)w;
			if (w <= 0 || off == len) {
				close(ifd);
				ifd = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[4096];
			ssize_t r = read(ofd, buf, sizeof(buf));

			if (r > 0 && out->len < OUT_MAX)
				sbuf_add(out, buf, (size_t)r);
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(ofd);
				ofd = -1;
			}
		}
	}
	if (ifd >= 0)
		close(ifd);
	if (ofd >= 0)
		close(ofd);
	signal(SIGPIPE, old);
	return wait_status(pid);
}

/* ---- whether a daemon runs ---- */

bool ui_daemon_running(struct ui *ui)
{
	const char *state = config_get(ui->cfg, "state_dir");
	char *dir = state && *state ? xstrdup(state) : path_join(ui->root, ".loft");
	char *lock = path_join(dir, "daemon.lock");
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	bool running = false;

	/* `loft daemon` holds an exclusive flock on it while it runs. */
	if (fd >= 0) {
		running = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	free(lock);
	free(dir);
	return running;
}

/* ---- the queue's contents ---- */

/* "-- N requests." or "Mail queue is empty" at the end of `queue list`. */
static long parse_count(const char *text)
{
	const char *p = strstr(text, "\n-- ");

	if (strncmp(text, "-- ", 3) == 0)
		p = text - 1;
	if (p)
		return strtol(p + 4, NULL, 10);
	return strstr(text, "Mail queue is empty") ? 0 : -1;
}

void ui_queue_count(struct ui *ui)
{
	static const char *const args[] = { "queue", "list", NULL };
	struct sbuf out = SBUF_INIT;
	long n = -1;

	if (ui_run_loft(ui, args, NULL, 0, &out) == 0)
		n = parse_count(out.buf);
	if (n >= 0)
		ui->queued = (size_t)n;
	sbuf_release(&out);
}

void ui_queue_count_start(struct ui *ui)
{
	static const char *const args[] = { "queue", "list", NULL };

	if (ui->queue_pid > 0)
		return;
	ui->queue_pid = spawn_loft(ui, args, NULL, &ui->queue_fd);
	if (ui->queue_pid < 0) {
		ui->queue_pid = 0;
		ui->queue_fd = -1;
		return;
	}
	ui->queue_listing = true;
}

/* Decodes one field of a queue envelope line ("-" is empty, %XX escapes). */
static char *env_field(const char **p)
{
	struct sbuf sb = SBUF_INIT;
	const char *s = *p, *e = strchr(s, ' ');

	if (e == NULL)
		e = s + strlen(s);
	*p = *e ? e + 1 : e;
	if (e - s == 1 && *s == '-')
		return sbuf_detach(&sb, NULL);
	for (; s < e; s++) {
		unsigned v;

		if (*s == '%' && e - s >= 3 && sscanf(s + 1, "%2x", &v) == 1) {
			sbuf_addch(&sb, (int)v);
			s += 2;
		} else {
			sbuf_addch(&sb, *s);
		}
	}
	return sbuf_detach(&sb, NULL);
}

int ui_queue_describe(const char *show, struct sbuf *out)
{
	struct sbuf who = SBUF_INIT;
	char *why = NULL;
	int pending = 0;

	for (const char *l = show; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n');
		char *line = end ? xstrndup(l, (size_t)(end - l)) : xstrdup(l);
		const char *p = line + 5;

		if (strncmp(line, "rcpt pending ", 13) == 0) {
			char *f[6];

			for (int k = 0; k < 6; k++)	/* state attempts next status addr answer */
				f[k] = env_field(&p);
			sbuf_addf(&who, "%s%s", pending++ ? ", " : "", f[4]);
			if (why == NULL && *f[5]) {
				why = f[5];
				f[5] = NULL;
			}
			for (int k = 0; k < 6; k++)
				free(f[k]);
		}
		free(line);
	}
	if (pending) {
		sbuf_addf(out, "Queued for %s: ", who.buf);
		if (why == NULL)
			sbuf_addstr(out, "not tried yet");
		else if (strncmp(why, "no relay configured", 19) == 0)
			sbuf_addstr(out, "no smarthost set (see `loft init`)");
		else
			sbuf_addf(out, "%s (it will be retried)", why);
	}
	free(why);
	sbuf_release(&who);
	return pending;
}

/* After a run: the message line says what became of the messages this
 * session queued (ids[]), the count is refreshed. */
static void report(struct ui *ui, const char *run_out, bool after_send)
{
	struct sbuf msg = SBUF_INIT;
	size_t keep = 0;
	bool failed = strstr(run_out, " 0 failed") == NULL && strstr(run_out, " failed") != NULL;

	for (size_t i = 0; i < ui->nsent; i++) {
		const char *args[] = { "queue", "show", ui->sent_ids[i], NULL };
		struct sbuf show = SBUF_INIT, one = SBUF_INIT;
		int st = ui_run_loft(ui, args, NULL, 0, &show);

		if (st == 0 && ui_queue_describe(show.buf, &one) > 0) {
			if (msg.len == 0)
				sbuf_add(&msg, one.buf, one.len);
			ui->sent_ids[keep++] = ui->sent_ids[i];
		} else {
			free(ui->sent_ids[i]);
		}
		sbuf_release(&show);
		sbuf_release(&one);
	}
	ui->nsent = keep;
	ui_queue_count(ui);
	if (msg.len)
		ui_message(ui, !after_send, "%s", msg.buf);
	else if (after_send && failed)
		ui_message(ui, true, "Mail sent, but a recipient failed: see the bounce in your INBOX");
	else if (after_send)
		ui_message(ui, false, "Mail sent.");
	sbuf_release(&msg);
}

void ui_queue_sent(struct ui *ui, const char *id)
{
	static const char *const args[] = { "queue", "run", NULL };
	struct sbuf out = SBUF_INIT;

	ui->sent_ids = xreallocarray(ui->sent_ids, ui->nsent + 1, sizeof(*ui->sent_ids));
	ui->sent_ids[ui->nsent++] = xstrdup(id);
	ui_queue_stop(ui);	/* a background run would only wait on our entry's lock */
	ui_run_loft(ui, args, NULL, 0, &out);
	report(ui, out.buf, true);
	ui->queue_next = time(NULL) + config_int(ui->cfg, "queue_interval");
	sbuf_release(&out);
}

/* ---- runs from the event loop ---- */

int ui_queue_fd(const struct ui *ui)
{
	return ui->queue_fd;
}

int ui_queue_wait_ms(const struct ui *ui)
{
	time_t now = time(NULL);

	if (ui->queue_pid > 0 || ui->queued == 0)
		return -1;
	return ui->queue_next <= now ? 0 : (int)(ui->queue_next - now) * 1000;
}

void ui_queue_tick(struct ui *ui)
{
	static const char *const args[] = { "queue", "run", NULL };

	if (ui->queue_pid > 0 || ui->queued == 0 || time(NULL) < ui->queue_next)
		return;
	ui->queue_next = time(NULL) + config_int(ui->cfg, "queue_interval");
	if (ui_daemon_running(ui))
		return;	/* the daemon's runner does it */
	ui->queue_pid = spawn_loft(ui, args, NULL, &ui->queue_fd);
	if (ui->queue_pid < 0) {
		ui->queue_pid = 0;
		ui->queue_fd = -1;
	}
}

bool ui_queue_read(struct ui *ui)
{
	char buf[4096];
	ssize_t r = read(ui->queue_fd, buf, sizeof(buf));

	if (r > 0) {
		if (ui->queue_out.len < OUT_MAX)
			sbuf_add(&ui->queue_out, buf, (size_t)r);
		return false;
	}
	if (r < 0 && errno == EINTR)
		return false;
	close(ui->queue_fd);
	ui->queue_fd = -1;
	wait_status(ui->queue_pid);
	ui->queue_pid = 0;
	if (ui->queue_listing) {
		long n = parse_count(ui->queue_out.buf);

		if (n >= 0)
			ui->queued = (size_t)n;
		ui->queue_listing = false;
	} else {
		report(ui, ui->queue_out.buf, false);
	}
	sbuf_reset(&ui->queue_out);
	return true;
}

void ui_queue_stop(struct ui *ui)
{
	if (ui->queue_pid <= 0)
		return;
	/* Leave it to finish its pass (it holds entry locks); only stop
	 * listening to it. */
	close(ui->queue_fd);
	ui->queue_fd = -1;
	wait_status(ui->queue_pid);
	ui->queue_pid = 0;
	ui->queue_listing = false;
	sbuf_reset(&ui->queue_out);
}

void ui_queue_free(struct ui *ui)
{
	ui_queue_stop(ui);
	for (size_t i = 0; i < ui->nsent; i++)
		free(ui->sent_ids[i]);
	free(ui->sent_ids);
	ui->sent_ids = NULL;
	ui->nsent = 0;
	sbuf_release(&ui->queue_out);
}
