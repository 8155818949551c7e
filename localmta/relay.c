/* The relay client: one SMTP session to the smarthost per runner pass,
 * written on lib/net's struct conn (README: "Dependencies, and why").
 *
 * Per message: MAIL, every RCPT and DATA go out in one write when the
 * server offers PIPELINING (RFC 2920), and the replies are matched in
 * order; each RCPT reply is that recipient's result.  The body is sent with
 * CRLF line ends and dot-stuffing.  Any trouble with the connection makes
 * every recipient of the message TEMPFAIL and drops the cached session, so
 * a smarthost dying mid-DATA leaves the message queued for a later pass. */
#include "localmta/relay-private.h"
#include "lib/base64.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/secret_cmd.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REPLY_LINE_MAX 4096
/* A real EHLO reply has a dozen lines; one that does not end is an attack
 * (a man in the middle needs no certificate before STARTTLS). */
#define REPLY_LINES_MAX 100
#define PASSWORD_TIMEOUT 30
#define FLUSH_EVERY (64 * 1024)

struct relay {
	char *error;			/* set: every send fails with it */
	enum relay_tls tls_mode;
	char *host, *hostport, *helo, *user, *password_cmd, *password;
	char *ca, *fingerprint;
	int timeout_ms;			/* each step, in all */
	unsigned min_rate;		/* bytes/s owed for the message */
	const char *reply_err;		/* why the last reply was refused, or NULL */
	struct conn *c;			/* the cached session, or NULL */
	bool pipelining, eightbit, smtputf8;
	unsigned messages;		/* sent over the cached session */
};

struct reply {
	int code;
	struct sbuf text;		/* all lines joined by a space */
};

static char *dup_setting(const struct config *cfg, const char *account, const char *name)
{
	/* An account that does not set it (or none: "") has the global one. */
	const char *v = config_account_get(cfg, account ? account : "", name);

	return v ? xstrdup(v) : NULL;
}

struct relay *relay_new(const struct config *cfg, const char *account)
{
	const char *url = config_account_get(cfg, account ? account : "", "smarthost"), *error;
	struct relay *r;

	if (url == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	if (relay_parse_url(url, &r->tls_mode, &r->host, &r->hostport, &error) < 0)
		r->error = xasprintf("smarthost=%s: %s", url, error);
	r->helo = dup_setting(cfg, account, "helo_name");
	if (r->helo == NULL)
		r->helo = dup_setting(cfg, account, "hostname");
	if (r->helo == NULL) {
		char buf[256] = "localhost";

		gethostname(buf, sizeof(buf) - 1);
		r->helo = xstrdup(buf);
	}
	r->user = dup_setting(cfg, account, "smarthost_user");
	r->password_cmd = dup_setting(cfg, account, "smarthost_password_command");
	r->ca = dup_setting(cfg, account, "smarthost_ca");
	r->fingerprint = dup_setting(cfg, account, "smarthost_fingerprint");
	r->timeout_ms = (int)config_int(cfg, "relay_timeout") * 1000;
	r->min_rate = (unsigned)config_int(cfg, "smtp_min_data_rate");
	return r;
}

/* Why the connection is unusable, for the queue status. */
static const char *io_error(const struct relay *r)
{
	return r->reply_err ? r->reply_err : conn_timed_out(r->c) ? "timeout (relay_timeout)"
								  : conn_error(r->c);
}

/* One reply, which must come whole within relay_timeout (a server
 * trickling a byte every few seconds is cut off) and in at most
 * REPLY_LINES_MAX lines.  0, or -1 when the connection is unusable. */
static int read_reply(struct relay *r, struct reply *rep)
{
	struct sbuf line = SBUF_INIT;
	bool too_long;
	int ret = -1;

	rep->code = 0;
	sbuf_reset(&rep->text);
	conn_set_deadline_in(r->c, r->timeout_ms);
	for (unsigned n = 0;; n++) {
		if (n == REPLY_LINES_MAX) {
			r->reply_err = "reply of more than 100 lines";
			break;
		}
		if (conn_read_line(r->c, &line, REPLY_LINE_MAX, &too_long) <= 0)
			break;
		const char *l = line.buf;

		if (line.len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' ||
		    l[2] < '0' || l[2] > '9' || (line.len > 3 && l[3] != ' ' && l[3] != '-')) {
			r->reply_err = "not an SMTP reply";
			break;	/* treat as a broken connection */
		}
		/* "250-first line" then " next line" without its code. */
		if (rep->text.len == 0)
			sbuf_add(&rep->text, l, line.len);
		else if (line.len > 4 && rep->text.len < 8192)
			sbuf_addf(&rep->text, " %s", l + 4);
		rep->code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (line.len == 3 || l[3] == ' ') {
			ret = 0;
			break;
		}
	}
	sbuf_release(&line);
	return ret;
}

/* A command and its reply.  -1 when the connection broke. */
static int command(struct relay *r, struct reply *rep, const char *fmt, const char *arg)
{
	conn_printf(r->c, fmt, arg);
	conn_write(r->c, "\r\n", 2);
	conn_set_deadline_in(r->c, r->timeout_ms);
	return conn_flush(r->c) < 0 ? -1 : read_reply(r, rep);
}

static void drop_session(struct relay *r)
{
	r->reply_err = NULL;
	conn_free(&r->c);
	r->messages = 0;
}

static int ehlo(struct relay *r, struct reply *rep)
{
	if (command(r, rep, "EHLO %s", r->helo) < 0)
		return -1;
	if (rep->code != 250)
		return 0;
	/* The lines were joined with spaces: look for the keywords as words. */
	const char *t = rep->text.buf;

	r->pipelining = strcasestr(t, " PIPELINING") != NULL;
	r->eightbit = strcasestr(t, " 8BITMIME") != NULL;
	r->smtputf8 = strcasestr(t, " SMTPUTF8") != NULL;
	return 0;
}

/* AUTH PLAIN (or LOGIN when PLAIN is not offered).  Returns NULL when
 * logged in, else the answer (malloc'd). */
static char *authenticate(struct relay *r, const char *features, struct reply *rep)
{
	struct sbuf b = SBUF_INIT;
	char *err = NULL;
	const char *mechs = strcasestr(features, " AUTH");
	bool plain = mechs && strcasestr(mechs, "PLAIN") != NULL;
	bool login = mechs && strcasestr(mechs, "LOGIN") != NULL;

	if (r->password == NULL) {
		if (r->password_cmd == NULL)
			return xasprintf("smarthost_user is set but smarthost_password_command is not");
		if (secret_cmd_run("smarthost_password_command", r->password_cmd, PASSWORD_TIMEOUT,
				   &r->password, &err) < 0)
			return err;
	}
	if (!plain && !login)
		return xasprintf("%s offers no AUTH PLAIN or LOGIN", r->host);
	if (plain) {
		struct sbuf raw = SBUF_INIT;

		sbuf_addch(&raw, '\0');
		sbuf_addstr(&raw, r->user);
		sbuf_addch(&raw, '\0');
		sbuf_addstr(&raw, r->password);
		sbuf_addstr(&b, "AUTH PLAIN ");
		base64_encode(raw.buf, raw.len, &b);
		explicit_bzero(raw.buf, raw.len);
		sbuf_release(&raw);
		if (command(r, rep, "%s", b.buf) < 0)
			goto broken;
	} else {
		if (command(r, rep, "AUTH LOGIN", NULL) < 0)
			goto broken;
		for (int step = 0; step < 2 && rep->code == 334; step++) {
			sbuf_reset(&b);
			base64_encode(step ? r->password : r->user, strlen(step ? r->password : r->user), &b);
			if (command(r, rep, "%s", b.buf) < 0)
				goto broken;
		}
	}
	explicit_bzero(b.buf, b.len);
	sbuf_release(&b);
	if (rep->code == 235)
		return NULL;
	return xasprintf("authentication at %s failed: %s", r->host, rep->text.buf);
broken:
	explicit_bzero(b.buf, b.len);
	sbuf_release(&b);
	return xasprintf("%s: connection lost during AUTH: %s", r->host, io_error(r));
}

/* Opens, greets, secures and authenticates.  NULL on success, else why
 * (malloc'd); the session is then dropped. */
static char *open_session(struct relay *r)
{
	struct reply rep = { 0, SBUF_INIT };
	SSL_CTX *ctx = NULL;
	char *why = NULL, *err = NULL;
	const char *cerr;
	int fd = net_connect(r->hostport, r->timeout_ms, &cerr);

	if (fd < 0)
		return xasprintf("cannot connect to %s: %s", r->hostport, cerr);
	r->c = conn_new(fd, r->timeout_ms);
	conn_set_deadline_in(r->c, r->timeout_ms);	/* the TLS handshake */
	if (r->tls_mode != RELAY_PLAIN &&
	    (ctx = tls_client_ctx_new(r->ca, r->fingerprint, &err)) == NULL) {
		why = xasprintf("TLS setup for %s: %s", r->host, err);
		goto out;
	}
	if (r->tls_mode == RELAY_IMPLICIT_TLS && conn_starttls_client(r->c, ctx, r->host) < 0) {
		why = xasprintf("%s", io_error(r));
		goto out;
	}
	if (read_reply(r, &rep) < 0 || rep.code != 220) {
		why = rep.code ? xasprintf("%s greeted with: %s", r->host, rep.text.buf)
			       : xasprintf("%s: no greeting: %s", r->host, io_error(r));
		goto out;
	}
	if (ehlo(r, &rep) < 0) {
		why = xasprintf("%s: EHLO failed: %s", r->host, io_error(r));
		goto out;
	}
	if (rep.code != 250) {
		why = xasprintf("%s refused EHLO: %s", r->host, rep.text.buf);
		goto out;
	}
	if (r->tls_mode == RELAY_STARTTLS) {
		/* smtp:// means TLS or nothing: no STARTTLS is a failure. */
		if (strcasestr(rep.text.buf, " STARTTLS") == NULL) {
			why = xasprintf("%s does not offer STARTTLS (smtp:// requires it)", r->host);
			goto out;
		}
		if (command(r, &rep, "STARTTLS", NULL) < 0 || rep.code != 220) {
			why = xasprintf("%s refused STARTTLS: %s", r->host,
					rep.code ? rep.text.buf : io_error(r));
			goto out;
		}
		conn_set_deadline_in(r->c, r->timeout_ms);
		if (conn_starttls_client(r->c, ctx, r->host) < 0) {
			why = xasprintf("%s", io_error(r));
			goto out;
		}
		if (ehlo(r, &rep) < 0 || rep.code != 250) {
			why = xasprintf("%s refused EHLO under TLS: %s", r->host,
					rep.code == 250 || rep.code == 0 ? io_error(r) : rep.text.buf);
			goto out;
		}
	}
	if (r->user != NULL)
		why = authenticate(r, rep.text.buf, &rep);
out:
	if (why != NULL) {
		log_warning("relay: %s", why);
		drop_session(r);
	} else {
		log_info("relay: connected to %s%s", r->hostport,
			 conn_tls_active(r->c) ? " (TLS verified)" : " (plaintext)");
	}
	SSL_CTX_free(ctx);
	free(err);
	sbuf_release(&rep.text);
	return why;
}

/* The message with CRLF line ends, dot-stuffed, then ".".  The queue holds
 * LF lines (a CR already before an LF is kept as part of the CRLF). */
static int send_body(struct relay *r, const char *data, size_t len)
{
	size_t since_flush = 0;
	bool bol = true;

	/* A server reading slowly gets relay_timeout plus the message's
	 * size at smtp_min_data_rate, in all. */
	conn_set_deadline(r->c, clock_monotonic_ms() + r->timeout_ms +
				(r->min_rate ? (int64_t)len * 1000 / r->min_rate : 0));

	for (size_t i = 0; i < len; i++) {
		char ch = data[i];

		if (bol && ch == '.')
			conn_write(r->c, ".", 1);
		if (ch == '\n') {
			if (i == 0 || data[i - 1] != '\r')
				conn_write(r->c, "\r", 1);
			bol = true;
		} else {
			bol = false;
		}
		conn_write(r->c, &ch, 1);
		if (++since_flush >= FLUSH_EVERY && bol) {
			if (conn_flush(r->c) < 0)
				return -1;
			since_flush = 0;
		}
	}
	if (!bol)
		conn_write(r->c, "\r\n", 2);
	conn_write(r->c, ".\r\n", 3);
	return conn_flush(r->c);
}

static bool needs_utf8(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static bool is_8bit(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] >= 0x80)
			return true;
	return false;
}

static void set_all(enum queue_result *results, char **answers, size_t n, enum queue_result res,
		    const char *answer)
{
	for (size_t i = 0; i < n; i++) {
		if (answers[i] != NULL)
			continue;	/* decided by its own RCPT reply */
		results[i] = res;
		answers[i] = xstrdup(answer);
	}
}

/* Reads and forgets n replies (pipelined commands after a failure). */
static int skip_replies(struct relay *r, struct reply *rep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (read_reply(r, rep) < 0)
			return -1;
	return 0;
}

static enum queue_result result_of(int code)
{
	return code / 100 == 2 ? QUEUE_OK : code / 100 == 5 ? QUEUE_PERMFAIL : QUEUE_TEMPFAIL;
}

/* MAIL, RCPTs, DATA, body.  Returns -1 when the connection broke (the
 * undecided recipients are then left for the caller). */
static int transaction(struct relay *r, const struct queue_delivery *d, const char *const *rcpts,
		       size_t n, enum queue_result *results, char **answers, struct reply *rep)
{
	bool pipe = r->pipelining, utf8 = needs_utf8(d->sender);
	bool eight = r->eightbit && is_8bit(d->data, d->len);
	size_t accepted = 0;
	char *answer;

	for (size_t i = 0; i < n; i++)
		utf8 |= needs_utf8(rcpts[i]);
	if (utf8 && !r->smtputf8) {
		answer = xasprintf("553 5.6.7 %s does not support SMTPUTF8, which these addresses need",
				   r->host);
		set_all(results, answers, n, QUEUE_PERMFAIL, answer);
		free(answer);
		return 0;
	}
	conn_printf(r->c, "MAIL FROM:<%s>%s%s\r\n", d->sender, eight ? " BODY=8BITMIME" : "",
		    utf8 ? " SMTPUTF8" : "");
	if (pipe) {
		for (size_t i = 0; i < n; i++)
			conn_printf(r->c, "RCPT TO:<%s>\r\n", rcpts[i]);
		conn_write(r->c, "DATA\r\n", 6);
	}
	if (conn_flush(r->c) < 0 || read_reply(r, rep) < 0)
		return -1;
	if (rep->code / 100 != 2) {
		answer = xasprintf("%s (smarthost %s, in reply to MAIL FROM)", rep->text.buf, r->host);
		set_all(results, answers, n, result_of(rep->code), answer);
		free(answer);
		if (pipe && (skip_replies(r, rep, n + 1) < 0 || rep->code == 354))
			return -1;	/* out of step: start afresh next time */
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!pipe && (conn_printf(r->c, "RCPT TO:<%s>\r\n", rcpts[i]), conn_flush(r->c) < 0))
			return -1;
		if (read_reply(r, rep) < 0)
			return -1;
		if (rep->code / 100 == 2) {
			accepted++;
			continue;
		}
		results[i] = result_of(rep->code);
		answers[i] = xasprintf("%s (smarthost %s, in reply to RCPT TO)", rep->text.buf, r->host);
	}
	if (!pipe) {
		if (accepted == 0)
			return 0;
		conn_write(r->c, "DATA\r\n", 6);
		if (conn_flush(r->c) < 0)
			return -1;
	}
	if (read_reply(r, rep) < 0)
		return -1;
	if (rep->code == 354 && accepted == 0) {
		/* A server that says 354 with no recipient: end the empty message. */
		conn_write(r->c, ".\r\n", 3);
		return conn_flush(r->c) < 0 || read_reply(r, rep) < 0 ? -1 : 0;
	}
	if (rep->code != 354) {
		answer = xasprintf("%s (smarthost %s, in reply to DATA)", rep->text.buf, r->host);
		set_all(results, answers, n, result_of(rep->code), answer);
		free(answer);
		return 0;
	}
	if (send_body(r, d->data, d->len) < 0 || read_reply(r, rep) < 0)
		return -1;
	answer = xasprintf("%s (smarthost %s%s)", rep->text.buf, r->host,
			   rep->code / 100 == 2 ? "" : ", in reply to end of DATA");
	set_all(results, answers, n, result_of(rep->code), answer);
	free(answer);
	return 0;
}

void relay_send(struct relay *r, const struct queue_delivery *d, const char *const *rcpts,
		size_t n, enum queue_result *results, char **answers)
{
	struct reply rep = { 0, SBUF_INIT };
	char *why;

	for (size_t i = 0; i < n; i++)
		results[i] = QUEUE_TEMPFAIL;
	if (r->error != NULL) {
		set_all(results, answers, n, QUEUE_TEMPFAIL, r->error);
		return;
	}
	if (d->maybe_delivered)
		log_warning("relay: %s may have reached %s before (interrupted); sending it again",
			    d->token, r->host);
	if (r->c != NULL && (command(r, &rep, "RSET", NULL) < 0 || rep.code != 250))
		drop_session(r);
	if (r->c == NULL && (why = open_session(r)) != NULL) {
		set_all(results, answers, n, QUEUE_TEMPFAIL, why);
		free(why);
		goto out;
	}
	if (transaction(r, d, rcpts, n, results, answers, &rep) < 0) {
		why = xasprintf("connection to %s lost: %s", r->host, io_error(r));
		log_warning("relay: %s: %s", d->token, why);
		set_all(results, answers, n, QUEUE_TEMPFAIL, why);
		free(why);
		drop_session(r);
		goto out;
	}
	r->messages++;
	for (size_t i = 0; i < n; i++)
		log_info("relay: %s: <%s>: %s: %s", d->token, rcpts[i],
			 results[i] == QUEUE_OK ? "sent" : results[i] == QUEUE_PERMFAIL ? "refused"
										 : "deferred",
			 answers[i] ? answers[i] : "");
	if (rep.code == 421)
		drop_session(r);
out:
	sbuf_release(&rep.text);
}

void relay_free(struct relay **rp)
{
	struct relay *r = *rp;

	if (r == NULL)
		return;
	if (r->c != NULL) {
		struct reply rep = { 0, SBUF_INIT };

		/* The pass is over: QUIT is a courtesy, worth 5 s at most. */
		if (r->timeout_ms > 5000)
			r->timeout_ms = 5000;
		conn_set_timeout(r->c, r->timeout_ms);
		command(r, &rep, "QUIT", NULL);
		sbuf_release(&rep.text);
		drop_session(r);
	}
	if (r->password != NULL)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->error);
	free(r->host);
	free(r->hostport);
	free(r->helo);
	free(r->user);
	free(r->password_cmd);
	free(r->ca);
	free(r->fingerprint);
	free(r);
	*rp = NULL;
}
