/* Pieces of the sendmail front end shared by sendmail.c, sendmail_cmd.c,
 * cmd_queue.c and the unit tests: address lists, message preparation, and
 * the glue between the config and the queue. */
#ifndef LOFT_LOCALMTA_SENDMAIL_PRIVATE_H
#define LOFT_LOCALMTA_SENDMAIL_PRIVATE_H

#include "localmta/queue.h"
#include "lib/sbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;

/* ---- address lists (addr.c) ---- */

struct addr_list {
	char **addrs;		/* addr-specs, no brackets/comments/names; malloc'd */
	size_t n;
};

/* Parses an RFC 5322 address list (display names, <angle-addr>, comments,
 * groups "name: a, b;"; a bare local part without domain is accepted, as
 * sendmail does) and appends each addr-spec to list (duplicates skipped).
 * Returns 0, or -1 with *error_r (static) on anything unparseable: unbalanced
 * brackets or quotes, a control byte, an empty or malformed addr-spec. */
int addr_list_parse(const char *s, struct addr_list *list, const char **error_r);
/* Appends one addr-spec (no parsing; duplicates skipped). */
void addr_list_add(struct addr_list *list, const char *addr);
void addr_list_free(struct addr_list *list);

/* ---- preparing a message (sendmail.c) ---- */

struct sendmail_msg {
	const struct config *cfg;
	const char *sender;	/* -f / MAIL FROM, NULL: from the config; "" = <> */
	const char *fullname;	/* -F, or NULL */
	const char *account;	/* --account: whose smarthost relays it, or NULL */
	bool extract;		/* -t: recipients from To/Cc/Bcc */
	int64_t now;
	struct addr_list rcpts;	/* in: command-line recipients; out: all of them */
	/* out: */
	char id[QUEUE_ID_LEN + 1];
	char *env_sender;	/* envelope sender used, malloc'd */
	struct sbuf out;	/* the message as queued */
	const char *error;	/* static or config-owned description */
};

/* Checks raw (LF or CRLF lines, as read) and builds msg->out: line ends
 * normalised to LF, Bcc removed, Date/Message-ID/From added when missing,
 * a Received line on top; fills msg->rcpts (aliases expanded) and
 * msg->env_sender.  Returns 0 (EX_OK) or a sysexits code with msg->error:
 * EX_DATAERR (empty, NUL byte, line over 998 bytes, malformed header block,
 * no recipient), EX_NOUSER (an unparseable address). */
int sendmail_prepare(struct sendmail_msg *msg, const char *raw, size_t len);
void sendmail_msg_release(struct sendmail_msg *msg);

/* The header block at the start of a message (LF or CRLF lines). */
struct sendmail_header_info {
	size_t end;	/* where it ends: its blank line, the first line that
			 * is neither a field nor a continuation, or the end */
	bool blank;	/* a blank line ends it (at end) */
	bool has_date, has_mid, has_from;
	const char *eol;	/* "\r\n" when the first line ends so, else "\n" */
};
void sendmail_header_scan(const char *data, size_t len, struct sendmail_header_info *info_r);
/* Appends data to out with its header completed as sendmail_prepare does
 * (RFC 6409 section 8): Date: (now) and Message-ID: <id@domain> added at
 * the end of the header when missing, From: from too when from is not NULL;
 * a blank line put before a body that starts without one.  Line ends
 * follow the data's. */
void sendmail_header_complete(struct sbuf *out, const char *data, size_t len, int64_t now,
			      const char *id, const char *domain, const char *from);


/* ---- command line (sendmail_cmd.c) ---- */

struct sendmail_opts {
	bool extract;		/* -t */
	bool ignore_dots;	/* -i, -oi: a lone "." does not end the input */
	bool smtp;		/* -bs */
	bool list;		/* -bp (also when called as mailq) */
	bool flush;		/* -q */
	bool verbose;		/* -v */
	bool queue_only;	/* -odq: no background runner */
	bool noop;		/* -bi (newaliases): nothing to do */
	const char *sender;	/* -f / -r, NULL when not given */
	const char *fullname;	/* -F */
	const char *account;	/* --account=NAME (msmtp's spelling) */
	char **rcpts;		/* the operands (in argv) */
	int n_rcpts;
};

/* Parses sendmail's options (argv[0] is skipped).  Common flags loft has no
 * use for (-oem -oee -odb -odi -L -O -B -N -R -V -X -C -h -U -G -m -n -e -A,
 * and any other -oX) are accepted and ignored.  Returns 0, or -1 with
 * *error_r (static) for an unknown flag or a missing argument. */
int sendmail_parse_args(int argc, char **argv, struct sendmail_opts *o, const char **error_r);

/* Reads standard-input-like fd into out until EOF or, unless ignore_dots,
 * a line holding only "." (CRLF or LF).  At most max bytes: -1 with
 * errno EFBIG beyond; -1 with errno on a read error; else 0. */
int sendmail_read_input(int fd, bool ignore_dots, size_t max, struct sbuf *out);

/* ---- submitting through the queue (transport.c; the rest in transport.h) ---- */

/* prepare + queue_add.  Returns EX_OK once queued (msg->id set), else a
 * sysexits code with msg->error (EX_TEMPFAIL for any write failure). */
int transport_submit(struct queue *q, struct sendmail_msg *msg, const char *raw, size_t len);

#endif
