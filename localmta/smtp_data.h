/* smtp_data: the DATA phase of RFC 5321 as a byte-fed filter.
 *
 * The message ends ONLY at CRLF "." CRLF.  A bare LF or a bare CR anywhere
 * (the SMTP smuggling variants LF.LF, CRLF.LF, LF.CRLF, CR.CR, CRLF.CR...)
 * neither ends the message nor starts a line: it is noted, reading goes on
 * to the real end, and then the message is refused -- so the session stays
 * in step and nothing hidden behind a fake end is ever taken as commands.
 * Dot-stuffing is undone (RFC 5321 4.5.2).  NUL bytes, lines over 998
 * octets and messages over the size limit are likewise noted and refused at
 * the end; past the size limit nothing more is stored.
 *
 * Memory: the unstuffed message (lines ending in CRLF, the final "." line
 * not included) is appended to the caller's sbuf.  Nothing blocks or
 * prints. */
#ifndef LOFT_LOCALMTA_SMTP_DATA_H
#define LOFT_LOCALMTA_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

struct sbuf;

/* RFC 5321 4.5.3.1.6: 1000 octets with CRLF. */
#define SMTP_DATA_LINE_MAX 998

enum smtp_data_flags {
	SMTP_DATA_BARE_LF = 1 << 0,
	SMTP_DATA_BARE_CR = 1 << 1,
	SMTP_DATA_NUL = 1 << 2,
	SMTP_DATA_LONG_LINE = 1 << 3,
	SMTP_DATA_TOO_BIG = 1 << 4,
};

struct smtp_data {
	int state;		/* private */
	unsigned flags;		/* enum smtp_data_flags seen so far */
	size_t line_len;	/* octets in the current line, before CRLF */
	uint64_t size;		/* unstuffed octets seen (also past the limit) */
	uint64_t max_size;	/* 0: no limit */
	struct sbuf *out;
};

/* Starts a message, right after the 354 reply; out receives the text. */
void smtp_data_init(struct smtp_data *d, struct sbuf *out, uint64_t max_size);
/* Feeds len bytes.  Returns 1 when CRLF.CRLF was reached (*used_r bytes
 * taken, up to and including that final LF: the bytes after it are the
 * next commands), 0 when all len bytes were taken and more are needed. */
int smtp_data_feed(struct smtp_data *d, const void *data, size_t len, size_t *used_r);
/* At the end: NULL when the message may be accepted, else the complete
 * SMTP reply refusing it (a static string). */
const char *smtp_data_error(const struct smtp_data *d);

#endif
