/* sanitize.c: see sanitize.h.
 *
 * Invalid bytes are shown as "\xNN" rather than U+FFFD on the command line
 * so that a broken Latin-1 header still says which bytes it held; in
 * SANITIZE_CELL mode they become U+FFFD, one cell, as the width functions
 * count them. */
#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "lib/utf8.h"

#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

bool sanitize_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The visible form of one unsafe code point (or bad byte) on the command
 * line.  s: the input at that point, for the CR-before-newline test. */
static void escape(struct sbuf *out, uint32_t cp, bool bad_byte, const char *s, size_t n,
		   unsigned flags)
{
	bool line = flags & SANITIZE_LINE;

	if (bad_byte)
		sbuf_addf(out, "\\x%02x", (unsigned char)s[0]);
	else if (cp == '\t' || (cp == '\n' && !line) ||
		 (cp == '\r' && !line && n > 1 && s[1] == '\n'))
		sbuf_addch(out, (int)cp);
	else if (cp == '\n')
		sbuf_addstr(out, "\\n");
	else if (cp == '\r')
		sbuf_addstr(out, "\\r");
	else if (cp < 0x80)
		sbuf_addf(out, "\\x%02x", (unsigned)cp);
	else
		sbuf_addf(out, "\\u%04x", (unsigned)cp);
}

void sanitize_add(struct sbuf *out, const char *s, size_t len, unsigned flags)
{
	size_t off = 0;

	while (off < len) {
		size_t start = off;
		uint32_t cp = 0;
		size_t l = 0;

		/* Copy the run of safe text in one go. */
		while (off < len) {
			unsigned char c = (unsigned char)s[off];

			if (c >= 0x20 && c < 0x7f) {
				off++;
				continue;
			}
			l = utf8_decode(s + off, len - off, &cp);
			if (sanitize_is_control(cp) || (cp == 0xfffd && l == 1))
				break;
			off += l;
		}
		sbuf_add(out, s + start, off - start);
		if (off == len)
			break;
		if (flags & SANITIZE_CELL)
			sbuf_addstr(out, cp == 0xfffd && l == 1 ? REPLACEMENT : "?");
		else
			escape(out, cp, cp == 0xfffd && l == 1, s + off, len - off, flags);
		off += l;
	}
}

char *sanitize_dup(const char *s, unsigned flags)
{
	struct sbuf sb = SBUF_INIT;

	if (s != NULL)
		sanitize_add(&sb, s, strlen(s), flags);
	return sbuf_detach(&sb, NULL);
}
