/* The sendmail command line: options, reading standard input, exit codes. */
#include "localmta/localmta.h"
#include "localmta/sendmail-private.h"
#include "localmta/transport.h"
#include "localmta/smtp_server.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/net.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* Flags taking a value, attached (-Xfile) or as the next argument. */
static const char valued_ignored[] = "LBNRVXChAO";

int sendmail_parse_args(int argc, char **argv, struct sendmail_opts *o, const char **error_r)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val;
		char c;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strncmp(a, "--account=", 10) == 0 && a[10] != '\0') {
			o->account = a + 10;
			continue;
		}
		c = a[1];
		if (c == 'f' || c == 'r' || c == 'F' || strchr(valued_ignored, c) != NULL) {
			val = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
			if (val == NULL) {
				*error_r = "option requires an argument";
				return -1;
			}
			if (c == 'f' || c == 'r')
				o->sender = val;
			else if (c == 'F')
				o->fullname = val;
			continue;
		}
		switch (c) {
		case 't':
		case 'i':
		case 'v':
		case 'm':
		case 'n':
		case 'U':
		case 'G':
			/* Single letters may be grouped: -ti. */
			for (const char *p = a + 1; *p; p++) {
				if (*p == 't')
					o->extract = true;
				else if (*p == 'i')
					o->ignore_dots = true;
				else if (*p == 'v')
					o->verbose = true;
				else if (!strchr("mnUG", *p)) {
					*error_r = "unknown option";
					return -1;
				}
			}
			break;
		case 'o':	/* -oi, -odq; every other -oX is accepted */
			if (strcmp(a, "-oi") == 0)
				o->ignore_dots = true;
			else if (strcmp(a, "-odq") == 0)
				o->queue_only = true;
			else if (a[2] == '\0') {
				*error_r = "option -o needs a letter";
				return -1;
			}
			break;
		case 'e':	/* -em, -ee...: error reporting mode */
		case 'd':	/* -d debug flags */
			break;
		case 'b':
			if (strcmp(a, "-bs") == 0)
				o->smtp = true;
			else if (strcmp(a, "-bp") == 0)
				o->list = true;
			else if (strcmp(a, "-bi") == 0)
				o->noop = true;
			else if (strcmp(a, "-bm") != 0) {
				*error_r = "unsupported mode (loft knows -bm, -bs, -bp, -bi)";
				return -1;
			}
			break;
		case 'q':	/* -q, -q1h, -qf: run the queue now */
			o->flush = true;
			break;
		default:
			*error_r = "unknown option";
			return -1;
		}
	}
	o->rcpts = argv + i;
	o->n_rcpts = argc - i;
	return 0;
}

int sendmail_read_input(int fd, bool ignore_dots, size_t max, struct sbuf *out)
{
	char buf[65536];
	size_t line_start = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		if (out->len + (size_t)r > max) {
			errno = EFBIG;
			return -1;
		}
		sbuf_add(out, buf, (size_t)r);
		if (ignore_dots)
			continue;
		/* Look for a line of just "." among the complete lines. */
		for (;;) {
			char *nl = memchr(out->buf + line_start, '\n', out->len - line_start);
			size_t l;

			if (nl == NULL)
				break;
			l = (size_t)(nl - out->buf) - line_start;
			if ((l == 1 || (l == 2 && out->buf[line_start + 1] == '\r')) &&
			    out->buf[line_start] == '.') {
				sbuf_setlen(out, line_start);
				return 0;
			}
			line_start += l + 1;
		}
	}
}

static int exit_with(int status, const char *what, const char *error)
{
	fprintf(stderr, "loft sendmail: %s%s%s\n", what, *what ? ": " : "", error);
	return status;
}

/* -bs: each message the session accepts goes the way of `loft sendmail`
 * input (sendmail_prepare: aliases, Bcc, From/Date/Message-ID, Received,
 * then the fsynced queue_add), so the 250 comes after the fsync. */
struct bs_session {
	const struct config *cfg;
	struct queue *q;
	unsigned queued;
};

static int bs_accept(void *ctx, const char *sender, const char *const *rcpts, size_t nrcpts,
		     const char *data, size_t len, const char *auth, char queue_id[SMTP_QUEUE_ID_MAX],
		     char **err_r)
{
	struct bs_session *b = ctx;
	struct sendmail_msg m = { .cfg = b->cfg, .sender = sender, .now = clock_now() };
	int status;

	for (size_t i = 0; i < nrcpts; i++)
		addr_list_add(&m.rcpts, rcpts[i]);
	status = transport_submit(b->q, &m, data, len);
	if (status == EX_OK) {
		snprintf(queue_id, SMTP_QUEUE_ID_MAX, "%s", m.id);
		b->queued++;
	} else if (m.error != NULL) {
		*err_r = xstrdup(m.error);
	}
	sendmail_msg_release(&m);
	return status == EX_OK ? 0 : status == EX_TEMPFAIL ? 451 : 554;
}

/* The daemon's SMTP session (smtp_server.c) in local mode over stdin and
 * stdout.  Returns EX_OK after QUIT, EX_IOERR when the session ended
 * otherwise (end of input, a timeout, too many errors); a message not
 * finished by then is not queued. */
static int sendmail_bs(const struct config *cfg, struct queue *q, unsigned *queued_r)
{
	struct bs_session b = { .cfg = cfg, .q = q };
	struct smtp_server_config scfg;
	struct conn *c;
	/* The conn makes its fds non-blocking and closes them: it gets
	 * duplicates, and the caller's descriptions get their flags back. */
	int in_flags = fcntl(STDIN_FILENO, F_GETFL), out_flags = fcntl(STDOUT_FILENO, F_GETFL);
	int in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3), out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	void (*old_pipe)(int);
	int r;

	*queued_r = 0;
	if (in_flags < 0 || out_flags < 0 || in < 0 || out < 0) {
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		return exit_with(EX_OSERR, "-bs", "standard input or output is not open");
	}
	smtp_server_config_init(&scfg, cfg, SMTP_MODE_LOCAL);
	scfg.accept = bs_accept;
	scfg.accept_ctx = &b;
	/* A caller that stops reading is an error for the session, not a kill. */
	old_pipe = signal(SIGPIPE, SIG_IGN);
	c = conn_new_pair(in, out, 0);
	r = smtp_server_run(c, &scfg, NULL, NULL);
	conn_free(&c);
	signal(SIGPIPE, old_pipe);
	fcntl(STDIN_FILENO, F_SETFL, in_flags);
	fcntl(STDOUT_FILENO, F_SETFL, out_flags);
	smtp_server_config_deinit(&scfg);
	*queued_r = b.queued;
	return r == 0 ? EX_OK : EX_IOERR;
}

int cmd_sendmail(struct loft_ctx *ctx, int argc, char **argv)
{
	struct sendmail_opts o;
	struct sendmail_msg m = { .cfg = ctx->cfg };
	struct sbuf raw = SBUF_INIT;
	struct queue *q = NULL;
	const char *error;
	int status;

	if (strcmp(ctx->progname, "mailq") == 0)
		return transport_print_list(ctx->cfg, stdout);
	if (sendmail_parse_args(argc, argv, &o, &error) < 0) {
		fprintf(stderr, "loft sendmail: %s\nusage: loft sendmail [-t] [-i] [-f sender] "
				"[-F name] [--account=NAME] [-bs|-bp|-q] [-odq] [recipient...]\n",
			error);
		return EX_USAGE;
	}
	if (o.noop)
		return EX_OK;
	if (o.list)
		return transport_print_list(ctx->cfg, stdout);
	if (o.flush)
		return transport_run(ctx->cfg, QUEUE_RUN_FORCE, NULL) < 0 ? EX_TEMPFAIL : EX_OK;
	if (o.account != NULL && !config_account_exists(ctx->cfg, o.account))
		return exit_with(EX_USAGE, o.account, "no such account in the mailrc");
	if (transport_queue_open(ctx->cfg, &q, &error) < 0)
		return exit_with(EX_TEMPFAIL, "cannot open the queue", error);
	if (o.smtp) {
		unsigned queued = 0;

		status = sendmail_bs(ctx->cfg, q, &queued);
		queue_free(&q);
		if (queued > 0 && !o.queue_only)
			transport_spawn_runner(ctx->cfg);
		return status;
	}

	/* The sender: -f "<>" or -f "" is the null sender. */
	if (o.sender != NULL && strcmp(o.sender, "<>") != 0 && *o.sender != '\0') {
		struct addr_list l = { 0 };

		if (addr_list_parse(o.sender, &l, &error) < 0 || l.n != 1) {
			addr_list_free(&l);
			queue_free(&q);
			return exit_with(EX_NOUSER, o.sender, "unparseable sender address");
		}
		m.sender = xstrdup(l.addrs[0]);
		addr_list_free(&l);
	} else if (o.sender != NULL) {
		m.sender = xstrdup("");
	}
	for (int i = 0; i < o.n_rcpts; i++)
		if (addr_list_parse(o.rcpts[i], &m.rcpts, &error) < 0) {
			status = exit_with(EX_NOUSER, o.rcpts[i], error);
			goto out;
		}
	if (sendmail_read_input(STDIN_FILENO, o.ignore_dots,
				(size_t)config_int(ctx->cfg, "max_message_size"), &raw) < 0) {
		status = errno == EFBIG ? exit_with(EX_DATAERR, "", "message larger than max_message_size")
					: exit_with(EX_IOERR, "reading the message", strerror(errno));
		goto out;
	}
	m.fullname = o.fullname;
	m.account = o.account;
	m.extract = o.extract;
	m.now = clock_now();
	status = transport_submit(q, &m, raw.buf, raw.len);
	if (status != EX_OK) {
		exit_with(status, "", m.error);
		goto out;
	}
	if (o.verbose)
		fprintf(stderr, "loft sendmail: queued as %s for %zu recipient%s\n", m.id, m.rcpts.n,
			m.rcpts.n == 1 ? "" : "s");
	if (!o.queue_only)
		transport_spawn_runner(ctx->cfg);
out:
	free((char *)m.sender);
	sendmail_msg_release(&m);
	sbuf_release(&raw);
	queue_free(&q);
	return status;
}
