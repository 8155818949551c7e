/* The DATA filter; see smtp_data.h.
 *
 * Five states.  Only CR LF moves to "beginning of line", and only from
 * there can "." CR LF end the message; every other CR or LF is "bare", is
 * recorded, and leaves the machine in the middle of a line.  That single
 * rule is what makes every smuggling variant harmless here. */
#include "localmta/smtp_data.h"
#include "lib/sbuf.h"

#include <string.h>

enum {
	S_BOL,		/* at the start of a line (after CRLF) */
	S_DOT,		/* a "." at the start of a line */
	S_DOT_CR,	/* "." CR at the start of a line */
	S_TEXT,		/* inside a line */
	S_CR,		/* a CR inside a line (or at its start) */
};

void smtp_data_init(struct smtp_data *d, struct sbuf *out, uint64_t max_size)
{
	memset(d, 0, sizeof(*d));
	d->state = S_BOL;
	d->max_size = max_size;
	d->out = out;
}

/* Stores n octets of message text unless the limit is passed. */
static void emit(struct smtp_data *d, const void *p, size_t n)
{
	uint64_t before = d->size;

	d->size += n;
	if (d->max_size != 0 && d->size > d->max_size) {
		/* Keep exactly the first max_size octets, however the input
		 * was split; then nothing more. */
		if (before < d->max_size)
			sbuf_add(d->out, p, (size_t)(d->max_size - before));
		d->flags |= SMTP_DATA_TOO_BIG;
		return;
	}
	sbuf_add(d->out, p, n);
}

static void text_bytes(struct smtp_data *d, size_t n)
{
	d->line_len += n;
	if (d->line_len > SMTP_DATA_LINE_MAX)
		d->flags |= SMTP_DATA_LONG_LINE;
}

int smtp_data_feed(struct smtp_data *d, const void *data, size_t len, size_t *used_r)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len) {
		unsigned char b = p[i];

		switch (d->state) {
		case S_BOL:
			if (b == '.') {
				text_bytes(d, 1);
				d->state = S_DOT;
				i++;
			} else {
				d->state = S_TEXT;
			}
			continue;
		case S_DOT:
			if (b == '\r') {
				d->state = S_DOT_CR;
				i++;
			} else if (b == '.') {
				/* A stuffed dot: keep one. */
				emit(d, ".", 1);
				text_bytes(d, 1);
				d->state = S_TEXT;
				i++;
			} else {
				/* ".text": the leading dot is dropped (4.5.2). */
				d->state = S_TEXT;
			}
			continue;
		case S_DOT_CR:
			if (b == '\n') {
				*used_r = i + 1;
				d->state = S_BOL;
				return 1;
			}
			d->flags |= SMTP_DATA_BARE_CR;
			emit(d, "\r", 1);
			d->state = S_TEXT;
			continue;
		case S_CR:
			if (b == '\n') {
				emit(d, "\r\n", 2);
				d->line_len = 0;
				d->state = S_BOL;
				i++;
				continue;
			}
			d->flags |= SMTP_DATA_BARE_CR;
			emit(d, "\r", 1);
			text_bytes(d, 1);
			d->state = S_TEXT;
			continue;
		case S_TEXT:
			break;
		}
		/* S_TEXT: take the run of ordinary octets in one go. */
		if (b == '\r') {
			d->state = S_CR;
			i++;
			continue;
		}
		if (b == '\n') {
			d->flags |= SMTP_DATA_BARE_LF;
			emit(d, "\n", 1);
			text_bytes(d, 1);
			i++;
			continue;
		}
		size_t run = i;

		while (run < len && p[run] != '\r' && p[run] != '\n' && p[run] != '\0')
			run++;
		if (run == i) {	/* a NUL */
			d->flags |= SMTP_DATA_NUL;
			run++;
		}
		emit(d, p + i, run - i);
		text_bytes(d, run - i);
		i = run;
	}
	*used_r = len;
	return 0;
}

const char *smtp_data_error(const struct smtp_data *d)
{
	if (d->flags & SMTP_DATA_TOO_BIG)
		return "552 5.3.4 Message size exceeds fixed maximum message size";
	if (d->flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR))
		return "550 5.6.0 Message refused: bare LF or CR in data (lines must end with CRLF)";
	if (d->flags & SMTP_DATA_NUL)
		return "550 5.6.0 Message refused: NUL byte in data";
	if (d->flags & SMTP_DATA_LONG_LINE)
		return "550 5.6.0 Message refused: line longer than 998 octets";
	return NULL;
}
