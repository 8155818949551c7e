/* Modified UTF-7 for mailbox names (RFC 3501 5.1.3): printable ASCII stands
 * for itself ("&" is "&-"), everything else is UTF-16 in base64 with ','
 * for '/', between '&' and '-'.  Decoding accepts only the canonical form,
 * so one name has one spelling and names cannot be smuggled past checks.
 * Under UTF8=ACCEPT (RFC 6855) names are UTF-8 as they are, checked by
 * imap_utf8_name_ok(). */
#include "lib/imap_utf7.h"

#include "lib/sbuf.h"
#include "lib/utf8.h"

#include <stdbool.h>
#include <string.h>

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static void flush_utf16(struct sbuf *out, const uint16_t *u, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;

	sbuf_addch(out, '&');
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 16) | u[i];
		bits += 16;
		while (bits >= 6) {
			bits -= 6;
			sbuf_addch(out, b64[(acc >> bits) & 0x3f]);
		}
	}
	if (bits > 0)
		sbuf_addch(out, b64[(acc << (6 - bits)) & 0x3f]);
	sbuf_addch(out, '-');
}

int imap_utf7_encode(const char *name, struct sbuf *out)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name);
	uint16_t u[64];
	size_t nu = 0;

	for (size_t i = 0; i < len;) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			if (nu > 0)
				flush_utf16(out, u, nu);
			nu = 0;
			sbuf_addstr(out, s[i] == '&' ? "&-" : (char[]){ (char)s[i], 0 });
			i++;
			continue;
		}
		size_t n = utf8_seq_len(s + i, len - i);
		uint32_t cp;

		if (n == 0)
			return -1;
		utf8_decode(name + i, len - i, &cp);
		i += n;
		/* A run is flushed before the buffer could split a pair. */
		if (nu + 2 > sizeof(u) / sizeof(u[0])) {
			flush_utf16(out, u, nu);
			nu = 0;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[nu++] = (uint16_t)(0xd800 | (cp >> 10));
			u[nu++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			u[nu++] = (uint16_t)cp;
		}
	}
	if (nu > 0)
		flush_utf16(out, u, nu);
	return 0;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* One "&...-" run starting after '&'; *sp ends after the '-'. */
static int decode_run(const char **sp, struct sbuf *out)
{
	const char *s = *sp;
	uint32_t acc = 0, high = 0;
	int bits = 0;
	size_t units = 0;

	for (; *s != '-'; s++) {
		int v = b64_value(*s);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits < 16)
			continue;
		bits -= 16;
		uint32_t u = (acc >> bits) & 0xffff;
		units++;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u >= 0x20 && u < 0x7f) {
			return -1;	/* printable ASCII must be itself */
		} else {
			utf8_put(out, u);
		}
	}
	/* Leftover bits must be zero padding of less than one sextet... */
	if (high != 0 || units == 0 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*sp = s + 1;
	return 0;
}

int imap_utf7_decode(const char *name, struct sbuf *out)
{
	const char *s = name;
	bool after_run = false;

	while (*s) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			return -1;
		if (c != '&') {
			sbuf_addch(out, c);
			s++;
			after_run = false;
			continue;
		}
		s++;
		if (*s == '-') {
			sbuf_addch(out, '&');
			s++;
			after_run = false;
			continue;
		}
		/* Two runs back to back would be one run in canonical form. */
		if (after_run || decode_run(&s, out) < 0)
			return -1;
		after_run = true;
	}
	return 0;
}

bool imap_utf8_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!utf8_valid(name, len))
		return false;
	for (size_t i = 0; i < len;) {
		uint32_t cp;

		i += utf8_decode(name + i, len - i, &cp);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
			return false;
	}
	return true;
}
