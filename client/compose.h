/* compose: new messages, replies and forwards, the draft the user edits,
 * and the final MIME message handed to the queue.
 *
 * Flow: compose_new/compose_reply/compose_forward make a struct
 * compose_draft; compose_draft_write() gives the text the editor shows
 * (headers on top, as mutt's edit_headers); compose_draft_parse() reads
 * it back; compose_build_mime() makes the RFC 5322 message (GMime 3).
 *
 * Draft strings are UTF-8, not encoded: addresses as the user types them
 * ("Ann Example <ann@example.org>, bob@example.org"), the subject as
 * shown.  Encoding (RFC 2047/2231, transfer encodings) happens only in
 * compose_build_mime().
 *
 * Ownership: a struct compose_draft owns its strings (malloc'd); free it
 * with compose_draft_free().  Functions returning char * return a string
 * the caller frees.  Errors: 0 / -1 with *error_r a static string.
 * Nothing here blocks or reads files: the signature is passed as text and
 * attachments as bytes.  Out of memory aborts. */
#ifndef LOFT_CLIENT_COMPOSE_H
#define LOFT_CLIENT_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct message;

/* Who the user is. */
struct compose_identity {
	const char *from;		/* the `from` address, "me@example.org" */
	const char *realname;		/* may be NULL or "" */
	/* Other addresses that are the user's: shell patterns compared
	 * case-insensitively ("*@example.org", "me+*@x.org"); NULL-ended,
	 * or NULL. */
	const char *const *alternates;
};

struct compose_options {
	const char *attribution;	/* NULL: "On %d, %n wrote:" (format.h escapes) */
	const char *date_format;	/* %d of the attribution; NULL: "%a, %b %d, %Y at %H:%M" */
	const char *indent;		/* NULL: "> " */
	const char *signature;		/* text of the signature file, or NULL */
};

struct compose_header {
	char *name, *value;
};

struct compose_draft {
	char *from, *to, *cc, *bcc, *reply_to;	/* address lists ("" when empty) */
	char *subject;
	char *in_reply_to;			/* "<id>" or "" */
	char *references;			/* "<id1> <id2>" or "" */
	struct compose_header *extra;		/* other headers the user wrote */
	size_t nextra;
	char *body;
};

enum compose_reply_kind {
	COMPOSE_REPLY_SENDER,	/* Reply-To, else From; own mail: the original To */
	COMPOSE_REPLY_ALL,	/* the sender, then To and Cc, minus the user */
	COMPOSE_REPLY_LIST,	/* List-Post mailto:, else Mail-Followup-To */
};

/* An empty draft: From set from id, body the signature (if any). */
struct compose_draft *compose_new(const struct compose_identity *id,
				  const struct compose_options *opt);
/* A reply to msg.  Returns 0 and *draft_r, or -1 with *error_r
 * ("no list address" for a list reply to mail without one). */
int compose_reply(const struct message *msg, enum compose_reply_kind kind,
		  const struct compose_identity *id, const struct compose_options *opt,
		  struct compose_draft **draft_r, const char **error_r);
/* A forward: inline puts the original's text in the body under a
 * "---------- Forwarded message ----------" block; otherwise the body is
 * empty (plus signature) and the caller attaches message_raw(msg) as
 * message/rfc822 (compose_attachment with content_type "message/rfc822"). */
struct compose_draft *compose_forward(const struct message *msg, bool inline_body,
				      const struct compose_identity *id,
				      const struct compose_options *opt);
/* NULL-safe; sets *dp to NULL. */
void compose_draft_free(struct compose_draft **dp);

/* ---- pieces, exposed for the UI and the tests ---- */

/* True when addr is the user's (from or an alternate), case-insensitive. */
bool compose_is_me(const struct compose_identity *id, const char *addr);
/* "Re: " + the subject without its reply prefixes (never "Re: Re:"). */
char *compose_reply_subject(const char *subject);
/* "Fwd: " + the subject (unless it already starts with one). */
char *compose_forward_subject(const char *subject);
/* References for a reply: the original's References (or In-Reply-To) plus
 * its Message-ID, each "<id>", space-separated; at most max ids (0: 20),
 * keeping the first and the last ones. */
char *compose_references(const struct message *msg, size_t max);
/* Appends text (len bytes, LF or CRLF lines) quoted: prefix before every
 * line ("> "; an empty line gets the prefix without trailing space). */
void compose_quote(const char *text, size_t len, const char *prefix, struct sbuf *out);
/* The text to quote or forward: the first text/plain part that is not an
 * attachment, else the first text/html made plain (tags dropped, block
 * elements as line breaks, common entities decoded).  Caller frees; ""
 * when the message has no text. */
char *compose_message_text(const struct message *msg);
/* Appends "Name <addr>" (name quoted when it needs it) to out. */
void compose_address_format(const char *name, const char *addr, struct sbuf *out);

/* ---- the draft file ---- */

/* Appends the draft as the editor shows it: From, To, Cc, Bcc, Subject,
 * Reply-To (always, even empty, so they can be filled in), the extra
 * headers, In-Reply-To and References only when threading is true, a
 * blank line, the body. */
void compose_draft_write(const struct compose_draft *d, bool threading, struct sbuf *out);
/* Reads an edited draft into d: every header present replaces d's value
 * (folded lines joined), headers absent from the text keep d's value
 * unless they are among the ones written without threading (From, To,
 * Cc, Bcc, Subject, Reply-To), which become empty; other headers go to
 * extra.  The body is everything after the first empty line.  Returns 0,
 * or -1 with *error_r for a line that is neither a header nor a
 * continuation (d unchanged then). */
int compose_draft_parse(const char *text, size_t len, struct compose_draft *d,
			const char **error_r);

/* ---- the MIME message (client/compose_mime.c) ---- */

struct compose_attachment {
	const char *filename;		/* name shown (UTF-8; RFC 2231 when non-ASCII) */
	const char *content_type;	/* NULL: guessed from the name and the bytes */
	const char *data;
	size_t len;
	const char *description;	/* Content-Description, or NULL */
};

struct compose_build {
	const char *domain;		/* Message-ID domain; NULL: the From address's */
	int64_t date;			/* 0: now */
	const char *message_id;		/* NULL: generated */
	bool keep_bcc;			/* true for a saved copy; false for sending */
	const char *user_agent;		/* NULL: "loft/VERSION" */
};

/* Builds the message: Date, From, To, Cc, (Bcc), Subject, Reply-To,
 * In-Reply-To, References, Message-ID, MIME-Version, User-Agent, the extra
 * headers; text/plain; charset=us-ascii or utf-8, 7bit or
 * quoted-printable; with attachments multipart/mixed (base64 for
 * non-text, message/rfc822 kept as a message).  Lines end in LF.
 * Returns 0 with the message appended to out, or -1 with *error_r (an
 * address list that does not parse, no recipient, no From). */
int compose_build_mime(const struct compose_draft *d, const struct compose_attachment *att,
		       size_t natt, const struct compose_build *bo, struct sbuf *out,
		       const char **error_r);
/* Every recipient address (To, Cc, Bcc) of d, for the envelope: a
 * NULL-ended array of strings; caller frees with compose_strv_free(). */
char **compose_recipients(const struct compose_draft *d);
void compose_strv_free(char **v);

#endif
