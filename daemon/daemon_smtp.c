/* The SMTP listeners of `loft daemon`: submission (STARTTLS), submission
 * with implicit TLS, and inbound.  Each connection runs in a child forked
 * by lib/server; a message the session accepts goes into the durable queue
 * (queue_add fsyncs before it returns, so the client's 250 comes after the
 * fsync) and the parent is poked so the queue runner starts at once. */
#include "localmta/auth.h"
#include "daemon/daemon-private.h"
#include "localmta/queue.h"
#include "localmta/sendmail-private.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/server.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The child's view: which listener it serves. */
struct smtp_child {
	struct daemon *d;
	struct daemon_smtp_listener *l;
};

static struct smtp_child children[DAEMON_SMTP_LISTENERS];

static int check_login(void *ctx, const char *user, const char *password)
{
	const struct daemon *d = ctx;

	return auth_check(d->passwd_path, user, password);
}

/* The store and the queue keep LF line ends (sendmail_prepare does the
 * same); the relay turns them back into CRLF on the wire. */
static char *crlf_to_lf(const char *data, size_t len, size_t *len_r)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		out[n++] = data[i];
	}
	out[n] = '\0';
	*len_r = n;
	return out;
}

static int queue_message(void *ctx, const char *sender, const char *const *rcpts, size_t nrcpts,
			 const char *data, size_t len, const char *auth,
			 char queue_id[SMTP_QUEUE_ID_MAX], char **err_r)
{
	struct smtp_child *ch = ctx;
	struct daemon *d = ch->d;
	char id[QUEUE_ID_LEN + 1];
	const char *error;
	int64_t now = clock_now();
	size_t n;
	char *msg = crlf_to_lf(data, len, &n);
	int r;

	queue_new_id(now, id);
	/* Submitted mail gets the Date and Message-ID it lacks, as from
	 * `loft sendmail` (RFC 6409 section 8); mail arriving at the MX is
	 * someone else's and is stored as it came. */
	if (ch->l->mode == SMTP_MODE_SUBMISSION) {
		struct sbuf done = SBUF_INIT;
		char *domain = config_mail_domain(d->cfg);

		sendmail_header_complete(&done, msg, n, now, id, domain, NULL);
		free(domain);
		free(msg);
		msg = sbuf_detach(&done, &n);
	}
	r = queue_add(d->queue, id, sender, rcpts, nrcpts, msg, n, now, &error);
	free(msg);
	if (r < 0) {
		int e = errno;

		log_error("queue: %s", error);
		*err_r = xasprintf("cannot queue the message: %s", error);
		return e == ENOSPC || e == EDQUOT ? 452 : 451;
	}
	snprintf(queue_id, SMTP_QUEUE_ID_MAX, "%s", id);
	server_poke(d->srv);
	return 0;
}

/* The session's news for lib/server's caps: a logged-in client is never
 * closed to make room, a closing one no longer takes a slot. */
static void session_event(void *ctx, enum smtp_event ev)
{
	struct daemon *d = ctx;

	server_child_report(d->srv, ev == SMTP_EV_AUTHENTICATED ? SERVER_CHILD_AUTHENTICATED
								 : SERVER_CHILD_CLOSING);
}

/* A connection child.  Privileges are already dropped (lib/server). */
static int smtp_child_run(void *ctx, int fd, const struct sockaddr *peer, const char *id)
{
	struct smtp_child *ch = ctx;
	struct conn *c = conn_new(fd, 0);
	int r = smtp_server_run(c, &ch->l->scfg, peer, NULL);

	conn_free(&c);
	return r < 0 ? 1 : 0;
}

void daemon_smtp_deinit(struct daemon *d)
{
	for (size_t i = 0; i < DAEMON_SMTP_LISTENERS; i++) {
		if (d->smtp[i].scfg_set)
			smtp_server_config_deinit(&d->smtp[i].scfg);
		d->smtp[i].scfg_set = false;
	}
}

int daemon_smtp_setup(struct daemon *d)
{
	int ret = 0;

	daemon_smtp_deinit(d);
	for (size_t i = 0; i < DAEMON_SMTP_LISTENERS; i++) {
		struct daemon_smtp_listener *l = &d->smtp[i];
		struct smtp_server_config *s = &l->scfg;
		const char *addr = config_get(d->cfg, l->setting), *error;
		char busy[300];

		smtp_server_config_init(s, d->cfg, l->mode);
		l->scfg_set = true;
		s->tls = d->tls;
		s->implicit_tls = l->implicit_tls;
		s->auth = check_login;
		s->auth_ctx = d;
		s->accept = queue_message;
		s->accept_ctx = &children[i];
		s->event = session_event;
		s->event_ctx = d;
		children[i] = (struct smtp_child){ d, l };
		snprintf(busy, sizeof(busy),
			 "421 4.3.2 %s Too many connections, try again later\r\n", s->hostname);
		/* Implicit TLS: a plaintext 421 would be garbage to the client,
		 * so it just sees the connection close. */
		if (server_listen(d->srv, l->name, addr, smtp_child_run, &children[i],
				  l->implicit_tls ? NULL : busy, &error) < 0) {
			log_error("%s", error);
			ret = -1;
		}
	}
	return ret;
}
