/* smtp_parse: the SMTP command side of RFC 5321, as pure functions.
 *
 *  - smtp_line_*: a byte-fed machine that cuts the input into command lines
 *    with a hard cap (SMTP_LINE_MAX octets including CRLF), noting NUL bytes,
 *    bare CRs and over-long lines instead of storing them, so a client can
 *    neither grow memory nor get out of step with the server;
 *  - smtp_parse_verb: the verb and its argument text;
 *  - smtp_parse_mail / smtp_parse_rcpt: MAIL FROM:<path> / RCPT TO:<path>
 *    with their parameters and strict path syntax, classifying the tricks
 *    used to make a server relay (percent hack, bang paths, source routes,
 *    quoted local parts hiding @ or %, unqualified addresses).  Whether a
 *    trick is refused is the server's decision (smtp_server.c).
 *
 * Errors come back as a complete SMTP reply in *error_r ("501 5.1.7 ..."),
 * a static string.  Nothing allocates, blocks or prints. */
#ifndef LOFT_LOCALMTA_SMTP_PARSE_H
#define LOFT_LOCALMTA_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1.4/6: 512 is the minimum a server must take; loft takes
 * up to 1000 octets, CRLF included. */
#define SMTP_LINE_MAX 1000
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, brackets included. */
#define SMTP_PATH_MAX 256

/* ---- lines ---- */

enum smtp_line_flags {
	SMTP_LINE_TOO_LONG = 1 << 0,	/* content dropped, read to its LF */
	SMTP_LINE_NUL = 1 << 1,		/* a NUL byte somewhere */
	SMTP_LINE_BARE_CR = 1 << 2,	/* a CR not followed by LF */
	SMTP_LINE_BARE_LF = 1 << 3,	/* ended by LF alone (accepted for commands) */
};

struct smtp_line {
	char buf[SMTP_LINE_MAX + 1];	/* the line without CRLF, NUL-terminated */
	size_t len;
	unsigned flags;			/* enum smtp_line_flags */
	size_t raw;			/* octets seen in this line, CRLF included */
	bool cr;			/* the previous byte was a CR */
	bool done;			/* a line was returned: the next feed resets */
};

void smtp_line_reset(struct smtp_line *l);
/* Feeds len bytes.  Returns 1 when a line is complete (*used_r bytes were
 * taken, its LF included; l->buf/len/flags hold it until the next feed or
 * reset, and the next feed starts a new line), 0 when every byte was taken
 * and more are needed. */
int smtp_line_feed(struct smtp_line *l, const void *data, size_t len, size_t *used_r);
/* The 500 reply for a line with a flag that makes it unusable as a
 * command (too long, NUL, bare CR), or NULL when it is fine. */
const char *smtp_line_error(const struct smtp_line *l);

/* ---- verbs ---- */

enum smtp_verb {
	SMTP_VERB_UNKNOWN, SMTP_VERB_HELO, SMTP_VERB_EHLO, SMTP_VERB_MAIL,
	SMTP_VERB_RCPT, SMTP_VERB_DATA, SMTP_VERB_BDAT, SMTP_VERB_RSET,
	SMTP_VERB_NOOP, SMTP_VERB_VRFY, SMTP_VERB_EXPN, SMTP_VERB_HELP,
	SMTP_VERB_QUIT, SMTP_VERB_STARTTLS, SMTP_VERB_AUTH,
};

/* Splits line (NUL-terminated, no CRLF) into its verb, matched without
 * regard to case, and *args_r: the text after the verb and one space
 * (trailing blanks removed in place; "" when none).  "MAIL FROM:" and
 * "RCPT TO:" are plain verbs here; their arguments start at "FROM:". */
enum smtp_verb smtp_parse_verb(char *line, const char **args_r);
const char *smtp_verb_name(enum smtp_verb verb);

/* ---- paths ---- */

enum smtp_path_flags {
	SMTP_PATH_NULL = 1 << 0,	/* <> */
	SMTP_PATH_ROUTE = 1 << 1,	/* <@a,@b:user@c>, route dropped from addr */
	SMTP_PATH_PERCENT = 1 << 2,	/* % in the local part */
	SMTP_PATH_BANG = 1 << 3,	/* ! in the local part */
	SMTP_PATH_QUOTED_AT = 1 << 4,	/* quoted local part holding @ or % or ! */
	SMTP_PATH_UNQUALIFIED = 1 << 5,	/* no @domain */
	SMTP_PATH_ADDR_LITERAL = 1 << 6, /* domain is [1.2.3.4] or [IPv6:...] */
	SMTP_PATH_UTF8 = 1 << 7,	/* non-ASCII (needs SMTPUTF8) */
	SMTP_PATH_QUOTED = 1 << 8,	/* local part is a quoted-string */
};
/* What loft refuses from unauthenticated clients. */
#define SMTP_PATH_RELAY_TRICKS \
	(SMTP_PATH_ROUTE | SMTP_PATH_PERCENT | SMTP_PATH_BANG | SMTP_PATH_QUOTED_AT | \
	 SMTP_PATH_UNQUALIFIED)

struct smtp_path {
	char addr[SMTP_PATH_MAX + 1];	/* "local@domain" as written, route dropped; "" for <> */
	size_t local_len;		/* addr[0..local_len) is the local part */
	const char *domain;		/* into addr, after '@'; "" when unqualified */
	unsigned flags;			/* enum smtp_path_flags */
};

enum smtp_body { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

struct smtp_mail_args {
	struct smtp_path path;
	uint64_t size;			/* SIZE=, 0 when absent */
	enum smtp_body body;
	bool smtputf8;
};

struct smtp_rcpt_args {
	struct smtp_path path;
};

/* args: what follows "MAIL " ("FROM:<a@b> SIZE=10").  utf8_ok: may the
 * path hold UTF-8 (RCPT: the transaction's MAIL had SMTPUTF8).  0 on
 * success; -1 with *error_r the reply (501 syntax, 555 unknown parameter). */
int smtp_parse_mail(const char *args, struct smtp_mail_args *m_r, const char **error_r);
int smtp_parse_rcpt(const char *args, bool utf8_ok, struct smtp_rcpt_args *r_r,
		    const char **error_r);
/* A path alone ("<a@b>", also used by tests and the fuzzer).  null_ok: is
 * "<>" allowed.  0 or -1 with *error_r a short reason. */
int smtp_parse_path(const char *s, size_t len, bool null_ok, bool utf8_ok,
		    struct smtp_path *p_r, const char **error_r);

#endif
