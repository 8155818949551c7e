/* The SMTP session: an explicit state machine driven by a verb table
 * (OpenSMTPD style); see smtp_server.h.
 *
 * Replies are queued in the conn and go out when the server would wait for
 * the client (conn_fill flushes), which is what PIPELINING asks for.  Input
 * goes through the byte-fed line machine (commands) or the DATA filter
 * (messages), both fed from the conn's buffer and taking only what they
 * need, so pipelined commands after a DATA end stay in the buffer -- and
 * at STARTTLS whatever is still buffered is thrown away, never run. */
#include "localmta/smtp_server-private.h"
#include "localmta/smtp_data.h"
#include "lib/arena.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

/* How long the last replies may take to go out once the session is over. */
#define CLOSE_FLUSH_MS 2000

/* ---- replies and input ---- */

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conn_printf(s->c, "%s\r\n", buf);
}

void smtp_reply_error(struct smtp_session *s, const char *text)
{
	smtp_reply(s, "%s", text);
	if (++s->st.errors >= s->cfg->max_errors) {
		log_warning("smtp: %s: too many errors", s->peer_ip);
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing connection", s->cfg->hostname);
		s->fatal = true;
	}
}

/* Reads more bytes; at the end of the connection or on an error the
 * session is over, and a timeout is said with a 421 first. */
static int fill(struct smtp_session *s)
{
	int r = conn_fill(s->c);

	if (r <= 0) {
		s->fatal = true;
		if (r < 0 && conn_timed_out(s->c)) {
			s->st.timed_out = true;
			smtp_reply(s, "421 4.4.2 %s Timeout, closing connection", s->cfg->hostname);
		}
	}
	return r;
}

/* Feeds the conn's bytes to the line machine until a line is complete.
 * The command timeout bounds the whole line, not each read: a client
 * trickling a byte every few seconds is still cut off. */
int smtp_read_line(struct smtp_session *s)
{
	conn_set_timeout(s->c, s->cfg->command_timeout_ms);
	conn_set_deadline_in(s->c, s->cfg->command_timeout_ms);
	for (;;) {
		size_t n, used;
		const uint8_t *p;
		int r = fill(s);

		if (r <= 0)
			return r;
		p = conn_peek(s->c, &n);
		r = smtp_line_feed(&s->line, p, n, &used);
		conn_consume(s->c, used);
		if (r == 1)
			return 1;
	}
}

/* ---- the transaction ---- */

static void tx_reset(struct smtp_session *s)
{
	arena_clear(s->tx);
	s->sender = NULL;
	s->smtputf8 = false;
	s->rcpts = NULL;
	s->nrcpts = s->rcpts_alloc = 0;
	if (s->state > SMTP_ST_READY)
		s->state = SMTP_ST_READY;
}

/* May this client send anywhere?  Never on the inbound listener. */
static bool trusted(const struct smtp_session *s)
{
	if (s->cfg->mode == SMTP_MODE_INBOUND)
		return false;
	if (s->cfg->mode == SMTP_MODE_LOCAL)
		return true;
	return s->auth_user != NULL || (s->cfg->trust_loopback && s->loopback);
}

static bool in_list(char **list, const char *s)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcasecmp(list[i], s) == 0)
			return true;
	return false;
}

/* ---- commands ---- */

static void cmd_helo_ehlo(struct smtp_session *s, const char *args, bool esmtp)
{
	const struct smtp_server_config *cfg = s->cfg;
	const char *ext[10];
	char sizebuf[40];
	size_t n = 0;

	if (*args == '\0' || strchr(args, ' ') != NULL || strlen(args) >= sizeof(s->helo)) {
		smtp_reply_error(s, esmtp ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	/* Kept for Received:, so only harmless octets survive. */
	for (size_t i = 0; args[i] != '\0'; i++) {
		char c = args[i];

		s->helo[i] = (c > ' ' && c < 127 && c != '(' && c != ')' && c != '\\') ? c : '_';
		s->helo[i + 1] = '\0';
	}
	tx_reset(s);
	s->state = SMTP_ST_READY;
	s->esmtp = esmtp;
	if (!esmtp) {
		smtp_reply(s, "250 %s", cfg->hostname);
		return;
	}
	ext[n++] = "PIPELINING";
	snprintf(sizebuf, sizeof(sizebuf), "SIZE %llu", (unsigned long long)cfg->max_size);
	ext[n++] = cfg->max_size ? sizebuf : "SIZE";
	ext[n++] = "8BITMIME";
	ext[n++] = "SMTPUTF8";
	ext[n++] = "ENHANCEDSTATUSCODES";
	if (cfg->tls != NULL && !conn_tls_active(s->c))
		ext[n++] = "STARTTLS";
	if (smtp_auth_offered(s))
		ext[n++] = "AUTH PLAIN LOGIN";
	smtp_reply(s, "250-%s", cfg->hostname);
	for (size_t i = 0; i < n; i++)
		smtp_reply(s, "250%c%s", i + 1 < n ? '-' : ' ', ext[i]);
}

static void cmd_helo(struct smtp_session *s, const char *args) { cmd_helo_ehlo(s, args, false); }
static void cmd_ehlo(struct smtp_session *s, const char *args) { cmd_helo_ehlo(s, args, true); }

static void cmd_mail(struct smtp_session *s, const char *args)
{
	struct smtp_mail_args m;
	const char *err;

	if (s->state == SMTP_ST_INIT) {
		smtp_reply_error(s, "503 5.5.1 Send HELO/EHLO first");
		return;
	}
	if (s->state != SMTP_ST_READY) {
		smtp_reply_error(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (s->cfg->mode == SMTP_MODE_SUBMISSION && !trusted(s)) {
		smtp_reply_error(s, "530 5.7.0 Authentication required");
		return;
	}
	if (smtp_parse_mail(args, &m, &err) < 0) {
		smtp_reply_error(s, err);
		return;
	}
	if ((m.path.flags & SMTP_PATH_UNQUALIFIED) && s->cfg->mode != SMTP_MODE_LOCAL) {
		smtp_reply_error(s, "553 5.1.7 Sender address must be fully qualified");
		return;
	}
	if (s->cfg->max_size != 0 && m.size > s->cfg->max_size) {
		smtp_reply_error(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	s->sender = arena_strdup(s->tx, m.path.addr);
	s->smtputf8 = m.smtputf8;
	s->state = SMTP_ST_MAIL;
	smtp_reply(s, "250 2.1.0 Ok");
}

/* Which trick, in words, for the 553 reply. */
static const char *trick_reply(unsigned flags)
{
	if (flags & SMTP_PATH_ROUTE)
		return "553 5.7.1 Source routes are not accepted";
	if (flags & SMTP_PATH_QUOTED_AT)
		return "553 5.7.1 Quoted local parts with @, % or ! are not accepted";
	if (flags & SMTP_PATH_PERCENT)
		return "553 5.7.1 The percent hack is not accepted";
	if (flags & SMTP_PATH_BANG)
		return "553 5.7.1 Bang paths are not accepted";
	return "553 5.1.3 Recipient address must be fully qualified";
}

static void cmd_rcpt(struct smtp_session *s, const char *args)
{
	const struct smtp_server_config *cfg = s->cfg;
	struct smtp_rcpt_args r;
	const char *err, *addr;

	if (s->state < SMTP_ST_MAIL) {
		smtp_reply_error(s, "503 5.5.1 Need MAIL command");
		return;
	}
	if (s->nrcpts >= cfg->max_rcpts) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (smtp_parse_rcpt(args, s->smtputf8, &r, &err) < 0) {
		smtp_reply_error(s, err);
		return;
	}
	addr = r.path.addr;
	if (r.path.flags & SMTP_PATH_RELAY_TRICKS) {
		/* RFC 5321 4.5.1: an MX takes <postmaster> without a domain. */
		bool postmaster = (r.path.flags & SMTP_PATH_RELAY_TRICKS) == SMTP_PATH_UNQUALIFIED &&
				  strcasecmp(addr, "postmaster") == 0;

		if (postmaster && cfg->mode == SMTP_MODE_INBOUND) {
			addr = arena_printf(s->tx, "postmaster@%s", cfg->local_domains && cfg->local_domains[0]
					    ? cfg->local_domains[0] : cfg->hostname);
		} else if (!trusted(s) ||
			   ((r.path.flags & SMTP_PATH_UNQUALIFIED) && cfg->mode != SMTP_MODE_LOCAL)) {
			log_info("smtp: %s: refused recipient <%s>", s->peer_ip, addr);
			smtp_reply_error(s, trick_reply(r.path.flags));
			return;
		}
	} else if (cfg->mode == SMTP_MODE_INBOUND && !in_list(cfg->local_domains, r.path.domain) &&
		   !in_list(cfg->local_addresses, addr)) {
		log_info("smtp: %s: relay denied for <%s>", s->peer_ip, addr);
		smtp_reply_error(s, "550 5.7.1 Relaying denied");
		return;
	}
	if (s->nrcpts == s->rcpts_alloc) {
		size_t na = s->rcpts_alloc ? 2 * s->rcpts_alloc : 8;
		char **nr = arena_calloc(s->tx, na, sizeof(*nr));

		if (s->nrcpts)
			memcpy(nr, s->rcpts, s->nrcpts * sizeof(*nr));
		s->rcpts = nr;
		s->rcpts_alloc = na;
	}
	s->rcpts[s->nrcpts++] = arena_strdup(s->tx, addr);
	s->state = SMTP_ST_RCPT;
	smtp_reply(s, "250 2.1.5 Ok");
}

static void make_id(char *id, size_t size)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ getpid());
	for (size_t i = 0; i < sizeof(r) && 2 * i + 2 < size; i++)
		snprintf(id + 2 * i, 3, "%02X", r[i]);
}

/* RFC 5321 4.4 trace header; "with" per RFC 3848. */
static void add_received(struct smtp_session *s, struct sbuf *msg, const char *id)
{
	char date[64];
	bool v6 = strchr(s->peer_ip, ':') != NULL;

	clock_rfc5322(clock_now(), date, sizeof(date));
	sbuf_addf(msg, "Received: from %s ([%s%s])\r\n\tby %s (loft) with %s%s%s id %s",
		  s->helo, v6 ? "IPv6:" : "", s->peer_ip, s->cfg->hostname,
		  s->esmtp ? "ESMTP" : "SMTP", conn_tls_active(s->c) && s->esmtp ? "S" : "",
		  s->auth_user && s->esmtp ? "A" : "", id);
	/* Naming the recipient only when there is one leaks nothing. */
	if (s->nrcpts == 1)
		sbuf_addf(msg, "\r\n\tfor <%s>", s->rcpts[0]);
	sbuf_addf(msg, ";\r\n\t%s\r\n", date);
}

/* Hands the message to cfg->accept (the queue: nothing is delivered here)
 * and answers the DATA.  id: the one in Received:, which the queue may
 * replace. */
static void accept_message(struct smtp_session *s, struct sbuf *msg, char id[SMTP_QUEUE_ID_MAX])
{
	char *err = NULL;
	int code;

	code = s->cfg->accept
		? s->cfg->accept(s->cfg->accept_ctx, s->sender, (const char *const *)s->rcpts, s->nrcpts,
				 msg->buf, msg->len, s->auth_user, id, &err)
		: 451;
	if (code == 0) {
		id[SMTP_QUEUE_ID_MAX - 1] = '\0';
		s->st.messages++;
		s->junk = 0;
		log_info("smtp: %s: queued %s from <%s>, %zu recipient(s), %zu octets", s->peer_ip, id,
			 s->sender, s->nrcpts, msg->len);
		smtp_reply(s, "250 2.0.0 Ok: queued as %s", id);
		return;
	}
	if (err != NULL)
		for (char *p = err; *p; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' ';
	if (code < 400 || code > 599)
		code = 451;
	smtp_reply(s, "%d %s %s", code,
		   code == 452 ? "4.3.1" : code == 552 ? "5.3.4" : code >= 500 ? "5.3.0" : "4.3.0",
		   err ? err : code >= 500 ? "Message refused" : "Local error, try again later");
	log_warning("smtp: %s: not queued: %d %s", s->peer_ip, code, err ? err : "");
	free(err);
}

static void cmd_data(struct smtp_session *s, const char *args)
{
	struct sbuf msg = SBUF_INIT;
	struct smtp_data d;
	const char *err;
	char id[SMTP_QUEUE_ID_MAX];

	if (*args != '\0') {
		smtp_reply_error(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->state < SMTP_ST_MAIL) {
		smtp_reply_error(s, "503 5.5.1 Need MAIL command");
		return;
	}
	if (s->state < SMTP_ST_RCPT) {
		smtp_reply_error(s, "554 5.5.1 No valid recipients");
		return;
	}
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	make_id(id, sizeof(id));
	if (s->cfg->mode != SMTP_MODE_LOCAL)
		add_received(s, &msg, id);
	smtp_data_init(&d, &msg, s->cfg->max_size ? s->cfg->max_size + msg.len : 0);
	conn_set_timeout(s->c, s->cfg->data_timeout_ms);
	/* Postfix's per-request deadline: data_timeout in all, plus the time
	 * the bytes already received are owed at min_data_rate. */
	int64_t start = clock_monotonic_ms();
	uint64_t got = 0;

	for (;;) {
		if (s->cfg->min_data_rate > 0)
			conn_set_deadline(s->c, start + s->cfg->data_timeout_ms +
					  (int64_t)(got * 1000 / s->cfg->min_data_rate));
		else
			conn_set_deadline_in(s->c, 0);
		size_t n, used;
		const uint8_t *p;
		int r = fill(s);

		if (r <= 0) {
			log_warning("smtp: %s: connection lost in DATA: %s", s->peer_ip,
				    r ? conn_error(s->c) : "end of stream");
			goto done;
		}
		p = conn_peek(s->c, &n);
		r = smtp_data_feed(&d, p, n, &used);
		conn_consume(s->c, used);
		got += used;
		if (r == 1)
			break;
	}
	err = smtp_data_error(&d);
	if (err != NULL) {
		log_warning("smtp: %s: message refused: %s", s->peer_ip, err);
		smtp_reply(s, "%s", err);
	} else {
		/* The queue may take its time (fsync): the client waits up to
		 * 10 minutes here (RFC 5321 4.5.3.2.6), nothing to enforce. */
		accept_message(s, &msg, id);
	}
done:
	sbuf_release(&msg);
	tx_reset(s);
}

static void cmd_rset(struct smtp_session *s, const char *args)
{
	if (*args != '\0') {
		smtp_reply_error(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	tx_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, const char *args) { smtp_reply(s, "250 2.0.0 Ok"); }

static void cmd_vrfy(struct smtp_session *s, const char *args)
{
	if (*args == '\0') {
		smtp_reply_error(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	smtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_help(struct smtp_session *s, const char *args)
{
	smtp_reply(s, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT%s",
		   s->cfg->mode == SMTP_MODE_SUBMISSION ? " STARTTLS AUTH" : " STARTTLS");
	smtp_reply(s, "214 2.0.0 See RFC 5321");
}

static void cmd_quit(struct smtp_session *s, const char *args)
{
	smtp_reply(s, "221 2.0.0 %s Bye", s->cfg->hostname);
	s->quit = true;
}

static void cmd_not_impl(struct smtp_session *s, const char *args)
{
	smtp_reply_error(s, "502 5.5.1 Command not implemented");
}

static void cmd_starttls(struct smtp_session *s, const char *args)
{
	if (s->cfg->tls == NULL) {
		smtp_reply_error(s, "502 5.5.1 STARTTLS not available");
		return;
	}
	if (conn_tls_active(s->c)) {
		smtp_reply_error(s, "554 5.5.1 TLS already active");
		return;
	}
	if (*args != '\0') {
		smtp_reply_error(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	conn_set_timeout(s->c, s->cfg->command_timeout_ms);
	conn_set_deadline_in(s->c, s->cfg->command_timeout_ms);
	if (conn_starttls_server(s->c, s->cfg->tls) < 0) {
		log_warning("smtp: %s: STARTTLS failed: %s", s->peer_ip, conn_error(s->c));
		s->fatal = true;
		return;
	}
	s->st.starttls_discarded = conn_discarded(s->c);
	if (s->st.starttls_discarded > 0)
		log_warning("smtp: %s: discarded %zu octets pipelined after STARTTLS", s->peer_ip,
			    s->st.starttls_discarded);
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	tx_reset(s);
	s->state = SMTP_ST_INIT;
	s->helo[0] = '\0';
	free(s->auth_user);
	s->auth_user = NULL;
}

/* Commands that move no mail forward (Postfix's junk commands).  A client
 * that sends more than max_junk of them without a message accepted in
 * between (a NOOP every few seconds, never timed out) is disconnected.
 * Returns true when the session ends here. */
static bool junk_command(struct smtp_session *s, enum smtp_verb verb)
{
	if (verb != SMTP_VERB_NOOP && verb != SMTP_VERB_RSET && verb != SMTP_VERB_VRFY &&
	    verb != SMTP_VERB_HELP && verb != SMTP_VERB_HELO && verb != SMTP_VERB_EHLO)
		return false;
	if (s->cfg->max_junk == 0 || ++s->junk <= s->cfg->max_junk)
		return false;
	log_warning("smtp: %s: too many commands without mail (%u)", s->peer_ip, s->junk);
	smtp_reply(s, "421 4.7.0 %s Too many commands without mail, closing connection",
		   s->cfg->hostname);
	s->fatal = true;
	return true;
}

typedef void smtp_cmd_fn(struct smtp_session *s, const char *args);

static smtp_cmd_fn *const verb_table[] = {
	[SMTP_VERB_UNKNOWN] = NULL,
	[SMTP_VERB_HELO] = cmd_helo, [SMTP_VERB_EHLO] = cmd_ehlo,
	[SMTP_VERB_MAIL] = cmd_mail, [SMTP_VERB_RCPT] = cmd_rcpt,
	[SMTP_VERB_DATA] = cmd_data, [SMTP_VERB_BDAT] = cmd_not_impl,
	[SMTP_VERB_RSET] = cmd_rset, [SMTP_VERB_NOOP] = cmd_noop,
	[SMTP_VERB_VRFY] = cmd_vrfy, [SMTP_VERB_EXPN] = cmd_not_impl,
	[SMTP_VERB_HELP] = cmd_help, [SMTP_VERB_QUIT] = cmd_quit,
	[SMTP_VERB_STARTTLS] = cmd_starttls, [SMTP_VERB_AUTH] = smtp_cmd_auth,
};

int smtp_server_run(struct conn *c, const struct smtp_server_config *cfg,
		    const struct sockaddr *peer, struct smtp_server_stats *stats_r)
{
	struct smtp_session s = { .c = c, .cfg = cfg };
	int ret;

	s.tx = arena_new(0);
	smtp_line_reset(&s.line);
	if (peer != NULL) {
		net_addr_str(peer, s.peer_ip, sizeof(s.peer_ip));
		s.loopback = net_is_loopback(peer);
	} else {
		strcpy(s.peer_ip, "unknown");
	}
	log_info("smtp: connection from %s", s.peer_ip);
	conn_set_timeout(c, cfg->command_timeout_ms);
	conn_set_deadline_in(c, cfg->command_timeout_ms);
	if (cfg->implicit_tls && conn_starttls_server(c, cfg->tls) < 0) {
		log_warning("smtp: %s: TLS handshake failed: %s", s.peer_ip, conn_error(c));
		s.fatal = true;
	} else {
		smtp_reply(&s, "220 %s ESMTP loft", cfg->hostname);
	}
	while (!s.quit && !s.fatal) {
		const char *args, *err;
		enum smtp_verb verb;

		if (smtp_read_line(&s) <= 0)
			break;
		err = smtp_line_error(&s.line);
		if (err != NULL) {
			smtp_reply_error(&s, err);
			continue;
		}
		verb = smtp_parse_verb(s.line.buf, &args);
		if (verb_table[verb] == NULL) {
			smtp_reply_error(&s, "500 5.5.1 Command unrecognized");
			continue;
		}
		if (junk_command(&s, verb))
			break;
		verb_table[verb](&s, args);
	}
	/* Before the last reply goes out: a client that reconnects as soon as
	 * it reads it must not find this session still counted. */
	if (cfg->event != NULL)
		cfg->event(cfg->event_ctx, SMTP_EV_CLOSING);
	conn_set_deadline_in(c, CLOSE_FLUSH_MS);
	conn_flush(c);
	ret = s.quit ? 0 : -1;
	log_info("smtp: %s: %s, %u message(s)", s.peer_ip, s.quit ? "quit" : "disconnected",
		 s.st.messages);
	if (stats_r != NULL)
		*stats_r = s.st;
	free(s.auth_user);
	arena_free(&s.tx);
	return ret;
}

/* ---- configuration ---- */

static char **split_list(const char *v)
{
	char **list = xcalloc(1, sizeof(*list));
	size_t n = 0;

	while (v != NULL && *v != '\0') {
		size_t len;

		v += strspn(v, " ,\t");
		len = strcspn(v, " ,\t");
		if (len == 0)
			break;
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = xstrndup(v, len);
		list[n] = NULL;
		v += len;
	}
	return list;
}

static void free_list(char ***listp)
{
	for (size_t i = 0; *listp != NULL && (*listp)[i] != NULL; i++)
		free((*listp)[i]);
	free(*listp);
	*listp = NULL;
}

void smtp_server_config_init(struct smtp_server_config *cfg, const struct config *conf,
			     enum smtp_mode mode)
{
	const char *host = config_get(conf, "hostname");
	char buf[256];

	memset(cfg, 0, sizeof(*cfg));
	if (host == NULL) {
		if (gethostname(buf, sizeof(buf)) < 0 || buf[0] == '\0')
			strcpy(buf, "localhost");
		buf[sizeof(buf) - 1] = '\0';
		host = buf;
	}
	cfg->hostname = xstrdup(host);
	cfg->mode = mode;
	cfg->trust_loopback = config_bool(conf, "smtp_trust_loopback");
	cfg->max_size = (uint64_t)config_int(conf, "max_message_size");
	cfg->max_rcpts = (unsigned)config_int(conf, "smtp_max_recipients");
	cfg->max_errors = (unsigned)config_int(conf, "smtp_max_errors");
	cfg->max_auth_failures = (unsigned)config_int(conf, "smtp_max_auth_failures");
	cfg->auth_delay_ms = (int)config_int(conf, "smtp_auth_failure_delay") * 1000;
	cfg->command_timeout_ms = (int)config_int(conf, "smtp_command_timeout") * 1000;
	cfg->data_timeout_ms = (int)config_int(conf, "smtp_data_timeout") * 1000;
	cfg->min_data_rate = (unsigned)config_int(conf, "smtp_min_data_rate");
	cfg->max_junk = (unsigned)config_int(conf, "smtp_max_junk_commands");
	cfg->local_domains = split_list(config_get(conf, "local_domains"));
	cfg->local_addresses = split_list(config_get(conf, "local_addresses"));
}

void smtp_server_config_deinit(struct smtp_server_config *cfg)
{
	free((char *)cfg->hostname);
	cfg->hostname = NULL;
	free_list(&cfg->local_domains);
	free_list(&cfg->local_addresses);
}
