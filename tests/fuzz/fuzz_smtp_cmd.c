/* Fuzz target for the SMTP command side: the input is cut into lines by
 * the byte-fed line machine -- fed whole and in chunks whose sizes come
 * from the first byte, which must give the same lines -- and each line is
 * parsed as a verb and, for MAIL and RCPT, as its path and parameters.
 * A parsed path must respect the limits the header promises. */
#include "localmta/smtp_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A digest of the lines seen, to compare the two feedings. */
static uint64_t run(const uint8_t *data, size_t size, size_t chunk)
{
	struct smtp_line l;
	uint64_t h = 1469598103934665603ULL;
	size_t off = 0;

	smtp_line_reset(&l);
	while (off < size) {
		size_t n = chunk && size - off > chunk ? chunk : size - off, used;

		while (n > 0) {
			int r = smtp_line_feed(&l, data + off, n, &used);

			off += used;
			n -= used;
			if (r != 1)
				continue;
			if (l.len > SMTP_LINE_MAX || l.buf[l.len] != '\0')
				abort();
			h = (h ^ l.flags) * 1099511628211ULL;
			for (size_t i = 0; i < l.len; i++)
				h = (h ^ (uint8_t)l.buf[i]) * 1099511628211ULL;
			if (smtp_line_error(&l) != NULL || chunk != 0)
				continue;

			char line[SMTP_LINE_MAX + 1];
			const char *args, *err;
			struct smtp_mail_args m;
			struct smtp_rcpt_args rc;

			memcpy(line, l.buf, l.len + 1);
			switch (smtp_parse_verb(line, &args)) {
			case SMTP_VERB_MAIL:
				if (smtp_parse_mail(args, &m, &err) == 0 &&
				    (strlen(m.path.addr) > SMTP_PATH_MAX || m.path.local_len > 66))
					abort();
				break;
			case SMTP_VERB_RCPT:
				if (smtp_parse_rcpt(args, (data[0] & 1) != 0, &rc, &err) == 0 &&
				    ((rc.path.flags & SMTP_PATH_NULL) || rc.path.addr[0] == '\0'))
					abort();
				break;
			default:
				break;
			}
		}
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (run(data, size, 0) != run(data, size, 1 + data[0] % 13))
		abort();
	return 0;
}
