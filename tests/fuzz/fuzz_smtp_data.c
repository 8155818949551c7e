/* Fuzz target for the DATA filter.  The first two bytes give a chunk size
 * and a size limit; the rest is fed in those chunks and all at once, and
 * the two runs must agree on where the message ends, the flags and the
 * text.  Invariants: the end is always right after CRLF "." CRLF, the text
 * never exceeds the limit, and a message without bare CR/LF or NUL holds
 * none. */
#include "localmta/smtp_data.h"
#include "lib/sbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int ended;
	size_t used;
	unsigned flags;
	struct sbuf text;
};

static void run(const uint8_t *p, size_t len, size_t chunk, uint64_t max, struct outcome *o)
{
	struct smtp_data d;
	size_t off = 0;

	sbuf_init(&o->text, 0);
	smtp_data_init(&d, &o->text, max);
	o->ended = 0;
	while (off < len && !o->ended) {
		size_t n = chunk && len - off > chunk ? chunk : len - off, used;

		o->ended = smtp_data_feed(&d, p + off, n, &used);
		if (used > n || (!o->ended && used != n))
			abort();
		off += used;
	}
	o->used = off;
	o->flags = d.flags;
	if (o->ended)
		(void)smtp_data_error(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome a, b;
	uint64_t max;

	if (size < 2)
		return 0;
	max = data[1] < 128 ? 0 : (uint64_t)(data[1] - 127) * 16;
	run(data + 2, size - 2, 0, max, &a);
	run(data + 2, size - 2, 1 + data[0] % 31, max, &b);
	if (a.ended != b.ended || a.used != b.used || a.flags != b.flags || a.text.len != b.text.len ||
	    memcmp(a.text.buf, b.text.buf, a.text.len) != 0)
		abort();
	if (a.ended) {
		const uint8_t *end = data + 2 + a.used;

		/* ".\r\n" alone, or "\r\n.\r\n" */
		if (a.used < 3 || memcmp(end - 3, ".\r\n", 3) != 0 ||
		    (a.used > 3 && (a.used < 5 || memcmp(end - 5, "\r\n", 2) != 0)))
			abort();
	}
	if (max != 0 && a.text.len > max)
		abort();
	if (!(a.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF)) && !(a.flags & SMTP_DATA_TOO_BIG)) {
		/* every LF in the text is preceded by CR */
		for (size_t i = 0; i < a.text.len; i++)
			if (a.text.buf[i] == '\n' && (i == 0 || a.text.buf[i - 1] != '\r'))
				abort();
	}
	sbuf_release(&a.text);
	sbuf_release(&b.text);
	return 0;
}
