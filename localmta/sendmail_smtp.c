/* `loft sendmail -bs`: SMTP on standard input and output, for programs that
 * submit that way.  A small, strict subset of RFC 5321: HELO/EHLO, MAIL,
 * RCPT, DATA, RSET, NOOP, VRFY (252), QUIT.  The peer is the local user, so
 * there is no AUTH and no TLS; lines are capped at 1000 bytes with the CRLF
 * (RFC 5321 4.5.3.1.6); DATA is dot-unstuffed here, then checked and queued
 * exactly as `loft sendmail` input is.  Each 250 after DATA comes after the
 * message is fsynced in the queue. */
#include "localmta/sendmail-private.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#define SMTP_LINE_MAX 1000

/* One line without its CRLF/LF into sb.  Returns 1, 0 at EOF, or 2 for a
 * line over the cap (the rest of it is read and dropped). */
static int read_line(FILE *in, struct sbuf *sb)
{
	int c;
	bool toolong = false;

	sbuf_reset(sb);
	while ((c = getc(in)) != EOF) {
		if (c == '\n') {
			if (sb->len > 0 && sb->buf[sb->len - 1] == '\r')
				sbuf_setlen(sb, sb->len - 1);
			return toolong ? 2 : 1;
		}
		if (sb->len + 2 >= SMTP_LINE_MAX)
			toolong = true;
		else
			sbuf_addch(sb, c);
	}
	return 0;
}

static void reply(FILE *out, const char *text)
{
	fputs(text, out);
	fputs("\r\n", out);
	fflush(out);
}

/* The address inside "FROM:<addr> params" / "TO:<addr>"; NULL if malformed.
 * Caller frees.  "" for <>. */
static char *path_arg(const char *arg, const char *key, const char **error_r)
{
	size_t klen = strlen(key);
	const char *p, *close;
	struct addr_list l = { 0 };
	char *inner, *ret = NULL;

	*error_r = "501 5.5.4 Syntax: expected <address>";
	if (strncasecmp(arg, key, klen) != 0)
		return NULL;
	p = arg + klen;
	while (*p == ' ')
		p++;
	if (*p != '<' || (close = strchr(p, '>')) == NULL)
		return NULL;
	inner = xstrndup(p + 1, (size_t)(close - p - 1));
	if (*inner == '\0')
		return inner;
	if (addr_list_parse(inner, &l, error_r) == 0 && l.n == 1)
		ret = xstrdup(l.addrs[0]);
	else
		*error_r = "553 5.1.3 Unparseable address";
	addr_list_free(&l);
	free(inner);
	return ret;
}

static const char *status_reply(int status)
{
	switch (status) {
	case EX_OK:
		return "250 2.0.0 OK";
	case EX_NOUSER:
		return "550 5.1.3 Unparseable recipient address";
	case EX_DATAERR:
		return "554 5.6.0 Message refused";
	default:
		return "451 4.3.0 Could not queue the message; try again later";
	}
}

int sendmail_smtp(const struct config *cfg, struct queue *q, FILE *in, FILE *out,
		  unsigned *queued_r)
{
	struct sbuf line = SBUF_INIT, data = SBUF_INIT, txt = SBUF_INIT;
	char *sender = NULL, *domain = config_mail_domain(cfg);
	struct addr_list rcpts = { 0 };
	size_t max = (size_t)config_int(cfg, "max_message_size");
	int r, status = EX_OK;

	*queued_r = 0;
	sbuf_addf(&txt, "220 %s loft ESMTP (sendmail -bs)", domain);
	reply(out, txt.buf);
	while ((r = read_line(in, &line)) != 0) {
		const char *cmd = line.buf, *error;

		if (r == 2) {
			reply(out, "500 5.5.2 Line too long");
		} else if (!strncasecmp(cmd, "EHLO", 4) && (cmd[4] == ' ' || !cmd[4])) {
			sbuf_reset(&txt);
			sbuf_addf(&txt, "250-%s\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE %zu",
				  domain, max);
			reply(out, txt.buf);
		} else if (!strncasecmp(cmd, "HELO", 4) && (cmd[4] == ' ' || !cmd[4])) {
			sbuf_reset(&txt);
			sbuf_addf(&txt, "250 %s", domain);
			reply(out, txt.buf);
		} else if (!strncasecmp(cmd, "MAIL ", 5)) {
			char *s;

			if (sender != NULL)
				reply(out, "503 5.5.1 Sender already given");
			else if ((s = path_arg(cmd + 5, "FROM:", &error)) == NULL)
				reply(out, error);
			else {
				sender = s;
				reply(out, "250 2.1.0 OK");
			}
		} else if (!strncasecmp(cmd, "RCPT ", 5)) {
			char *a;

			if (sender == NULL)
				reply(out, "503 5.5.1 MAIL first");
			else if ((a = path_arg(cmd + 5, "TO:", &error)) == NULL)
				reply(out, error);
			else if (*a == '\0') {
				reply(out, "553 5.1.3 Empty recipient");
				free(a);
			} else if (rcpts.n >= QUEUE_RCPTS_MAX) {
				reply(out, "452 4.5.3 Too many recipients");
				free(a);
			} else {
				addr_list_add(&rcpts, a);
				free(a);
				reply(out, "250 2.1.5 OK");
			}
		} else if (!strcasecmp(cmd, "DATA")) {
			bool toolong = false, big = false;
			struct sendmail_msg m = { .cfg = cfg, .sender = sender };

			if (rcpts.n == 0) {
				reply(out, sender ? "554 5.5.1 No valid recipients" : "503 5.5.1 MAIL first");
				continue;
			}
			reply(out, "354 End data with <CR><LF>.<CR><LF>");
			sbuf_reset(&data);
			while ((r = read_line(in, &line)) != 0) {
				if (strcmp(line.buf, ".") == 0)
					break;
				toolong |= r == 2;
				/* Dot-unstuffing (RFC 5321 4.5.2). */
				const char *l = line.buf[0] == '.' ? line.buf + 1 : line.buf;

				if (data.len + strlen(l) + 1 > max)
					big = true;
				else {
					sbuf_addstr(&data, l);
					sbuf_addch(&data, '\n');
				}
			}
			if (r == 0) {	/* EOF inside DATA: nothing accepted */
				status = EX_IOERR;
				break;
			}
			if (toolong || big) {
				reply(out, big ? "552 5.3.4 Message too big" : "554 5.6.0 Line too long");
			} else {
				m.rcpts = rcpts;
				rcpts = (struct addr_list){ 0 };
				m.now = clock_now();
				int st = transport_submit(q, &m, data.buf, data.len);

				sbuf_reset(&txt);
				sbuf_addf(&txt, "%s%s%s", status_reply(st), st == EX_OK ? " queued as " : ": ",
					  st == EX_OK ? m.id : m.error);
				reply(out, txt.buf);
				*queued_r += st == EX_OK;
				sendmail_msg_release(&m);
			}
			free(sender);
			sender = NULL;
			addr_list_free(&rcpts);
		} else if (!strcasecmp(cmd, "RSET")) {
			free(sender);
			sender = NULL;
			addr_list_free(&rcpts);
			reply(out, "250 2.0.0 OK");
		} else if (!strncasecmp(cmd, "NOOP", 4) && (cmd[4] == ' ' || !cmd[4])) {
			reply(out, "250 2.0.0 OK");
		} else if (!strncasecmp(cmd, "VRFY", 4)) {
			reply(out, "252 2.5.0 Cannot verify, but will try");
		} else if (!strcasecmp(cmd, "QUIT")) {
			reply(out, "221 2.0.0 Bye");
			break;
		} else {
			reply(out, "500 5.5.1 Unknown command");
		}
	}
	free(sender);
	free(domain);
	addr_list_free(&rcpts);
	sbuf_release(&line);
	sbuf_release(&data);
	sbuf_release(&txt);
	return status;
}
