#include "lib/utf8.h"
#include "lib/sbuf.h"

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, k; i < n; i += k)
		if ((k = utf8_seq_len(p + i, n - i)) == 0)
			return false;
	return true;
}

size_t utf8_decode(const char *s, size_t n, uint32_t *cp_r)
{
	const unsigned char *p = (const unsigned char *)s;

	switch (utf8_seq_len(p, n)) {
	case 1:
		*cp_r = p[0];
		return 1;
	case 2:
		*cp_r = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	case 3:
		*cp_r = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
			(p[2] & 0x3f);
		return 3;
	case 4:
		*cp_r = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
			((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
		return 4;
	default:
		*cp_r = 0xfffd;
		return 1;
	}
}

void utf8_put(struct sbuf *out, uint32_t cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		cp = 0xfffd;
	if (cp < 0x80) {
		sbuf_addch(out, (int)cp);
	} else if (cp < 0x800) {
		sbuf_addch(out, (int)(0xc0 | (cp >> 6)));
		sbuf_addch(out, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sbuf_addch(out, (int)(0xe0 | (cp >> 12)));
		sbuf_addch(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
		sbuf_addch(out, (int)(0x80 | (cp & 0x3f)));
	} else {
		sbuf_addch(out, (int)(0xf0 | (cp >> 18)));
		sbuf_addch(out, (int)(0x80 | ((cp >> 12) & 0x3f)));
		sbuf_addch(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
		sbuf_addch(out, (int)(0x80 | (cp & 0x3f)));
	}
}
