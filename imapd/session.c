/* The IMAP session: reads bytes from the conn into the parser, answers
 * literal requests after checking their size, dispatches complete commands
 * through the command tables and sends the untagged updates RFC 3501 7.4.1
 * allows before each tagged reply.  Pipelined commands are answered in
 * order: the parser takes one command at a time from what is buffered. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

/* Literals of commands other than APPEND carry names and passwords. */
#define SMALL_LITERAL_MAX (64 * 1024)
/* A client that gets this many BADs in a row is not speaking IMAP. */
#define MAX_BAD_IN_A_ROW 20

void sess_printf(struct imapd_session *s, const char *fmt, ...)
{
	va_list ap;
	struct sbuf sb = SBUF_INIT;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	conn_write(s->conn, sb.buf, sb.len);
	sbuf_release(&sb);
}

void sess_reply(struct imapd_session *s, const char *status, const char *fmt, ...)
{
	va_list ap;
	struct sbuf sb = SBUF_INIT;

	sbuf_addstr(&sb, status);
	sbuf_addch(&sb, ' ');
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	s->reply = arena_strdup(s->arena, sb.buf);
	sbuf_release(&sb);
}

void sess_add_string(struct sbuf *out, const char *str, size_t len, bool utf8)
{
	bool quotable = len < 1024, eight = false;

	for (size_t i = 0; quotable && i < len; i++) {
		if (str[i] == '\r' || str[i] == '\n' || str[i] == '\0')
			quotable = false;
		eight |= (unsigned char)str[i] >= 0x80;
	}
	if (eight && (!utf8 || !utf8_valid(str, len)))
		quotable = false;
	if (!quotable) {
		sbuf_addf(out, "{%zu}\r\n", len);
		sbuf_add(out, str, len);
		return;
	}
	sbuf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (str[i] == '"' || str[i] == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, str[i]);
	}
	sbuf_addch(out, '"');
}

void sess_add_set(struct sbuf *out, const uint32_t *nums, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && nums[j + 1] == nums[j] + 1)
			j++;
		sbuf_addf(out, "%s%u", i ? "," : "", nums[i]);
		if (j > i)
			sbuf_addf(out, ":%u", nums[j]);
		i = j + 1;
	}
}

void sess_capabilities(struct imapd_session *s, struct sbuf *out)
{
	/* Only what tests/imap.t and tests/imap_ext.t exercise. */
	sbuf_addstr(out, "IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "
			 "CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE "
			 "ESEARCH CONDSTORE QRESYNC SEARCHRES MULTIAPPEND UTF8=ACCEPT");
	/* Once logged in, and only where a login can follow it. */
	if (s->state != SESS_NOTAUTH && s->auth && s->auth->login)
		sbuf_addstr(out, " UNAUTHENTICATE");
	if (s->state == SESS_NOTAUTH) {
		if (s->auth && s->auth->login)
			sbuf_addstr(out, " SASL-IR");
		bool plain = s->auth && s->auth->login &&
			     (s->auth->plaintext_ok == NULL || s->auth->plaintext_ok(s->auth->ctx, s->conn));
		if (s->auth && s->auth->starttls && !conn_tls_active(s->conn))
			sbuf_addstr(out, " STARTTLS");
		sbuf_addstr(out, plain ? " AUTH=PLAIN AUTH=LOGIN" : " LOGINDISABLED");
	}
}

static const struct sess_command *const tables[] = {
	cmd_auth_table, cmd_mailbox_table, cmd_msg_table, cmd_fetch_table, cmd_search_table,
	cmd_list_table,
};

const struct sess_command *sess_find_command(const char *name)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct sess_command *c = tables[t]; c->name != NULL; c++)
			if (strcasecmp(c->name, name) == 0)
				return c;
	return NULL;
}

/* Whether every quoted string is UTF-8: under UTF8=ACCEPT quoted strings
 * may hold it, and nothing else (RFC 6855 3). */
static bool args_utf8(const struct imap_arg *args, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if ((args[i].type == IMAP_ARG_STRING && !utf8_valid(args[i].str, args[i].len)) ||
		    (args[i].type == IMAP_ARG_LIST && !args_utf8(args[i].list, args[i].count)))
			return false;
	return true;
}

bool sess_command_ok(const struct imapd_session *s, const struct imap_command *cmd)
{
	const struct sess_command *c = sess_find_command(cmd->name);

	return c != NULL && (c->states & s->state) && (!s->utf8 || args_utf8(cmd->args, cmd->count));
}

void sess_begin(struct imapd_session *s, const char *tag)
{
	s->tag = tag;
	s->reply = NULL;
	s->replied = false;
	s->uid_cmd = false;
}

void sess_finish(struct imapd_session *s)
{
	/* EXPUNGE responses wait while sequence numbers are being used
	 * (RFC 3501 7.4.1); UID commands may have them. */
	if (s->state == SESS_SELECTED && s->mbox != NULL && strncmp(s->reply, "BAD", 3) != 0)
		imapd_mbox_sync(s, !s->no_expunge || s->uid_cmd, false);
	s->bad_count = strncmp(s->reply, "BAD", 3) == 0 ? s->bad_count + 1 : 0;
	if (!s->replied)
		sess_printf(s, "%s %s\r\n", s->tag, s->reply);
	if (s->bad_count >= MAX_BAD_IN_A_ROW)
		s->bye = "Too many invalid commands.";
	if (s->bye != NULL) {
		sess_printf(s, "* BYE %s\r\n", s->bye);
		s->fatal = true;
	}
}

/* Runs one parsed command and sends its tagged reply.  IMAP_PARSE_MORE,
 * or what ended a group of pipelined APPENDs (imapd_append_pipelined). */
static int dispatch(struct imapd_session *s, struct imap_command *cmd)
{
	const struct sess_command *c = sess_find_command(cmd->name);

	sess_begin(s, cmd->tag);
	if (c == NULL) {
		sess_reply(s, "BAD", "Unknown command.");
	} else if (!(c->states & s->state)) {
		sess_reply(s, "BAD", "%s", s->state == SESS_NOTAUTH ? "Log in first." :
					   s->state == SESS_AUTH ? "No mailbox selected." :
					   "Not allowed now.");
	} else if (s->utf8 && !args_utf8(cmd->args, cmd->count)) {
		sess_reply(s, "BAD", "Invalid UTF-8 in a quoted string.");
	} else if (c->fn == NULL) {
		s->no_expunge = false;
		return imapd_append_pipelined(s, cmd);
	} else {
		s->no_expunge = c->seq_numbers;
		c->fn(s, cmd->args, cmd->count);
		if (s->reply == NULL)
			sess_reply(s, "OK", "%s completed.", c->name);
	}
	sess_finish(s);
	return IMAP_PARSE_MORE;
}

int sess_next_buffered(struct imapd_session *s, struct imap_command *cmd)
{
	for (;;) {
		size_t len, used;
		const uint8_t *data = conn_peek(s->conn, &len);
		const char *err;

		if (len == 0) {
			if (!conn_input_ready(s->conn) || conn_fill(s->conn) <= 0)
				return IMAP_PARSE_MORE;
			data = conn_peek(s->conn, &len);
		}
		int pr = imap_parser_feed(s->parser, data, len, &used);
		conn_consume(s->conn, used);
		if (pr == IMAP_PARSE_LITERAL && !imap_parser_literal_sync(s->parser) &&
		    strcasecmp(imap_parser_name(s->parser), "APPEND") == 0 &&
		    imap_parser_literal_size(s->parser) <= s->set.max_append) {
			imap_parser_literal_accept(s->parser);
			continue;
		}
		if (pr == IMAP_PARSE_MORE)
			continue;
		if (pr == IMAP_PARSE_LITERAL)
			return pr;
		err = imap_parser_error(s->parser);
		if (pr == IMAP_PARSE_COMMAND && imap_parser_command(s->parser, s->arena, cmd, &err) == 0)
			return IMAP_PARSE_COMMAND;
		const char *tag = imap_parser_tag(s->parser);
		cmd->tag = arena_strdup(s->arena, *tag ? tag : "*");
		cmd->name = arena_strdup(s->arena, err);
		cmd->args = NULL;
		cmd->count = 0;
		return IMAP_PARSE_ERROR;
	}
}

/* A literal was announced: check it against the limit before "+". */
static void on_literal(struct imapd_session *s)
{
	uint64_t size = imap_parser_literal_size(s->parser);
	bool sync = imap_parser_literal_sync(s->parser);
	bool append = strcasecmp(imap_parser_name(s->parser), "APPEND") == 0;
	const char *tag = imap_parser_tag(s->parser);
	uint64_t limit = append ? s->set.max_append : SMALL_LITERAL_MAX;

	if (!*tag || strcmp(tag, "*") == 0)
		tag = "*";
	if (size <= limit) {
		imap_parser_literal_accept(s->parser);
		if (sync)
			sess_printf(s, "+ OK\r\n");
		return;
	}
	imap_parser_literal_reject(s->parser);
	if (!sync) {
		/* RFC 7888 4: the data comes anyway; do not read it. */
		sess_printf(s, "* BYE Literal too large.\r\n");
		s->fatal = true;
	}
	if (append)
		sess_printf(s, "%s NO [TOOBIG] Message too large (at most %llu bytes).\r\n", tag,
			    (unsigned long long)limit);
	else
		sess_printf(s, "%s BAD Literal too large.\r\n", tag);
}

int imapd_session_run(struct conn *conn, struct store *store, const struct imapd_settings *set,
		      const struct imapd_auth *auth, const char *preauth_user)
{
	struct imapd_session sess = { .conn = conn, .store = store, .auth = auth };
	struct imapd_session *s = &sess;
	struct imap_parser_limits lim = { 0 };
	time_t started = 0;
	bool partial = false;
	int ret = 0;

	if (set != NULL)
		s->set = *set;
	if (s->set.max_append == 0)
		s->set.max_append = 64 * 1024 * 1024;
	if (s->set.idle_timeout == 0)
		s->set.idle_timeout = 30 * 60;
	if (s->set.login_timeout == 0)
		s->set.login_timeout = 60;
	if (s->set.command_timeout == 0)
		s->set.command_timeout = 10 * 60;
	lim.max_command = s->set.max_append + 2 * SMALL_LITERAL_MAX;
	s->parser = imap_parser_new(&lim);
	s->arena = arena_new(0);
	s->state = preauth_user ? SESS_AUTH : SESS_NOTAUTH;
	s->user = preauth_user ? xstrdup(preauth_user) : NULL;
	{
		struct sbuf caps = SBUF_INIT;

		sess_capabilities(s, &caps);
		sess_printf(s, "* %s [CAPABILITY %s] loft IMAP ready.\r\n",
			    preauth_user ? "PREAUTH" : "OK", caps.buf);
		sbuf_release(&caps);
	}
	while (s->state != SESS_LOGOUT && !s->fatal) {
		/* A command under way must finish within command_timeout;
		 * between commands the autologout time applies. */
		int wait = (int)(s->state == SESS_NOTAUTH ? s->set.login_timeout : s->set.idle_timeout);
		if (partial) {
			time_t left = started + (time_t)s->set.command_timeout - time(NULL);
			if (left <= 0) {
				sess_printf(s, "* BYE Command took too long.\r\n");
				break;
			}
			wait = (int)left;
		}
		conn_set_timeout(conn, wait * 1000);
		int r = conn_fill(conn);
		if (r <= 0) {
			if (r < 0 && conn_timed_out(conn))
				sess_printf(s, "* BYE Autologout.\r\n");
			else if (r < 0)
				ret = -1;
			break;
		}
		size_t len, used;
		const uint8_t *data = conn_peek(conn, &len);
		if (!partial)
			started = time(NULL);
		int pr = imap_parser_feed(s->parser, data, len, &used);
		conn_consume(conn, used);
		partial = pr == IMAP_PARSE_MORE || pr == IMAP_PARSE_LITERAL;
		/* Half a command came (a literal without its CRLF: imaplib
		 * writes them apart): ACK it now, or a client with Nagle on
		 * holds the rest until our ACK, which the kernel delays 40 ms.
		 * Not a socket (loft imapd): a harmless ENOTSOCK. */
		if (partial) {
			int one = 1;

			setsockopt(conn_fd(conn), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		}
		if (pr == IMAP_PARSE_LITERAL) {
			on_literal(s);
			partial = imap_parser_literal_size(s->parser) > 0;
		} else if (pr == IMAP_PARSE_ERROR) {
			const char *tag = imap_parser_tag(s->parser);
			sess_printf(s, "%s BAD %s\r\n", *tag ? tag : "*", imap_parser_error(s->parser));
			if (++s->bad_count >= MAX_BAD_IN_A_ROW) {
				sess_printf(s, "* BYE Too many invalid commands.\r\n");
				break;
			}
		} else if (pr == IMAP_PARSE_COMMAND) {
			struct imap_command cmd;
			const char *err;

			if (imap_parser_command(s->parser, s->arena, &cmd, &err) < 0) {
				const char *tag = imap_parser_tag(s->parser);
				sess_printf(s, "%s BAD %s\r\n", *tag ? tag : "*", err);
				s->bad_count++;
			} else {
				/* A group of pipelined APPENDs ends on the command
				 * after it (run next) or on a literal to decide. */
				while ((pr = dispatch(s, &cmd)) == IMAP_PARSE_COMMAND && !s->fatal &&
				       s->state != SESS_LOGOUT)
					;
			}
			arena_clear(s->arena);
			if (pr == IMAP_PARSE_LITERAL && !s->fatal && s->state != SESS_LOGOUT) {
				on_literal(s);
				partial = imap_parser_literal_size(s->parser) > 0;
			}
		}
	}
	/* The client sees the end now, not after the folder and the store
	 * are closed: mbsync, for one, waits for it after LOGOUT. */
	if (auth != NULL && auth->closing != NULL)
		auth->closing(auth->ctx);
	conn_finish(conn);
	crash_point("imapd:teardown");
	imapd_mbox_close(s);
	imap_parser_free(&s->parser);
	arena_free(&s->arena);
	free(s->user);
	return ret;
}

int sess_idle_wait(struct imapd_session *s)
{
	struct sbuf line = SBUF_INIT;
	time_t until = time(NULL) + (time_t)s->set.idle_timeout;
	int ret = -1;

	/* Changes not yet reported go after the continuation (as in RFC 2177's
	 * example and as Dovecot does): libetpan 1.9.4 waits for "+" as the
	 * first line and hangs on an untagged response before it. */
	sess_printf(s, "+ idling\r\n");
	if (s->mbox != NULL)
		imapd_mbox_sync(s, true, true);
	for (;;) {
		size_t avail;

		if (conn_flush(s->conn) < 0)
			break;
		conn_peek(s->conn, &avail);
		if (avail == 0) {
			struct pollfd p[2] = { { .fd = conn_fd(s->conn), .events = POLLIN },
					       { .fd = -1, .events = POLLIN } };
			if (s->mbox != NULL)
				p[1].fd = store_folder_notify_fd(s->mbox->f);
			time_t left = until - time(NULL);
			if (left <= 0) {
				sess_printf(s, "* BYE Autologout.\r\n");
				break;
			}
			int r = poll(p, 2, (int)(left > 60 ? 60000 : left * 1000));
			if (r < 0)
				continue;
			if (p[1].revents & POLLIN) {
				imapd_mbox_sync(s, true, true);
				continue;
			}
			if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		bool too_long;
		conn_set_timeout(s->conn, 60 * 1000);
		if (conn_read_line(s->conn, &line, 1024, &too_long) <= 0)
			break;
		if (strcasecmp(line.buf, "DONE") == 0) {
			ret = 0;
			break;
		}
		sess_printf(s, "* BAD Expected DONE.\r\n");
	}
	sbuf_release(&line);
	return ret;
}
