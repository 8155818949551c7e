/* envelope: a small parser of the IMAP ENVELOPE strings the store caches
 * (RFC 3501 7.4.2), so the index can show a line without opening the
 * message file, plus the two decoders that needs: RFC 2047 encoded words
 * and RFC 5322 dates.
 *
 * The cached ENVELOPE keeps header values raw (as IMAP requires): the
 * subject and display names may hold encoded words or 8-bit bytes; they
 * come back decoded to UTF-8 here.  Message-ID and In-Reply-To are kept
 * raw (with their angle brackets), as thread_build() wants them.
 *
 * Ownership: a struct envelope owns its strings (one block); free with
 * envelope_free().  Pure, never blocks; out of memory aborts. */
#ifndef LOFT_CLIENT_ENVELOPE_H
#define LOFT_CLIENT_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

struct sbuf;

struct envelope {
	int64_t date;			/* Date header, 0 when absent or unparsable */
	const char *date_raw;		/* "" when absent */
	const char *subject;		/* decoded; "" when absent */
	const char *from_name;		/* first From: display name decoded, "" if none */
	const char *from_addr;		/* first From: "mailbox@host", "" if none */
	const char *to_name, *to_addr;	/* first To, as above */
	const char *in_reply_to;	/* raw, "" when absent */
	const char *message_id;		/* raw, "" when absent */
	size_t n_to, n_cc;		/* addresses in To and Cc */
};

/* Parses len bytes of an ENVELOPE ("(date subject (from) ... msgid)"),
 * quoted strings, literals ({n}\r\n...) and NIL all accepted.  Returns a
 * new envelope (caller frees with envelope_free()), or NULL with *error_r
 * a static string when the text is not an ENVELOPE. */
struct envelope *envelope_parse(const char *s, size_t len, const char **error_r);
/* Appends the thread key (client/mailbox.h's: date, Message-ID,
 * In-Reply-To, References, subject, each raw and NUL-terminated;
 * References always empty) of the len bytes of an ENVELOPE to out,
 * cheaper than envelope_parse: nothing decoded.  0, or -1 (out
 * untouched) when the text is not an ENVELOPE. */
int envelope_thread_key(const char *s, size_t len, struct sbuf *out);
/* NULL-safe; sets *envp to NULL. */
void envelope_free(struct envelope **envp);

/* Appends the UTF-8 form of a raw header value: RFC 2047 encoded words
 * (B and Q, any charset store/message.h converts) decoded, white space
 * between adjacent encoded words dropped, folding removed, other 8-bit
 * bytes taken as UTF-8 or else windows-1252.  Malformed words are copied
 * as they are. */
void envelope_decode_words(const char *raw, size_t len, struct sbuf *out);

/* Parses an RFC 5322 date ("Tue, 1 Jul 2003 10:52:37 +0200", obsolete
 * zone names and a missing day name or seconds accepted).  Returns the
 * time in seconds since the epoch, or 0 when it does not parse. */
int64_t envelope_parse_date(const char *s);

#endif
