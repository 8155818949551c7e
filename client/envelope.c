/* envelope: IMAP ENVELOPE strings back into fields (see envelope.h).
 *
 * The parser is a plain recursive-descent reader over a complete string:
 * the cached envelopes are short, already in memory and were written by
 * loft itself (or by another IMAP server's format, which is the same), so
 * an incremental state machine would buy nothing.  Every read is bounded
 * by the length given, so a truncated or hostile string fails cleanly. */
#include "client/envelope.h"

#include "store/message.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct rd {
	const char *p, *end;
	bool bad;
};

/* A string read from the envelope: where it is in the scratch buffer. */
struct str {
	size_t off, len;
	bool nil;
};

static void skip_sp(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\r' || *r->p == '\n'))
		r->p++;
}

/* How many bytes from p (before end) are neither '"', '\\' nor NUL. */
static size_t strcspn_n(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != '"' && *q != '\\' && *q != '\0')
		q++;
	return (size_t)(q - p);
}

/* Reads NIL, a quoted string or a literal, unescaped into buf.  A NUL
 * byte, which IMAP allows in neither, makes the text bad: the fields are
 * kept as C strings (and the thread key as NUL-separated ones). */
static struct str read_nstring(struct rd *r, struct sbuf *buf)
{
	struct str s = { buf->len, 0, true };

	skip_sp(r);
	if (r->bad || r->p >= r->end)
		goto bad;
	if (*r->p == '"') {
		r->p++;
		while (r->p < r->end && *r->p != '"') {
			/* The run up to the next quote or backslash at once. */
			size_t run = strcspn_n(r->p, r->end);

			if (run > 0) {
				sbuf_add(buf, r->p, run);
				r->p += run;
				continue;
			}
			if (*r->p == '\\' && r->p + 1 < r->end)
				r->p++;
			if (*r->p == '\0')
				goto bad;
			sbuf_addch(buf, *r->p++);
		}
		if (r->p >= r->end)
			goto bad;
		r->p++;
		s.nil = false;
	} else if (*r->p == '{') {
		/* The digits are read within end: the text need not be a C
		 * string. */
		const char *e = r->p + 1;
		size_t n = 0;

		while (e < r->end && *e >= '0' && *e <= '9' && n <= SIZE_MAX / 10 - 1)
			n = n * 10 + (size_t)(*e++ - '0');
		if (e == r->p + 1 || e >= r->end || *e != '}')
			goto bad;
		r->p = e + 1;
		if (r->p < r->end && *r->p == '\r')
			r->p++;
		if (r->p < r->end && *r->p == '\n')
			r->p++;
		if (n > (size_t)(r->end - r->p) || memchr(r->p, '\0', n) != NULL)
			goto bad;
		sbuf_add(buf, r->p, n);
		r->p += n;
		s.nil = false;
	} else if (r->end - r->p >= 3 && strncasecmp(r->p, "NIL", 3) == 0) {
		r->p += 3;
	} else {
		goto bad;
	}
	s.len = buf->len - s.off;
	sbuf_addch(buf, '\0');
	return s;
bad:
	r->bad = true;
	return s;
}

static bool expect(struct rd *r, char c)
{
	skip_sp(r);
	if (r->bad || r->p >= r->end || *r->p != c)
		return !(r->bad = true);
	r->p++;
	return true;
}

/* An address list: NIL or ((name adl mailbox host)...).  Keeps the first
 * real address (group markers have a NIL host) and counts them. */
static size_t read_addrs(struct rd *r, struct sbuf *buf, struct str *name_r, struct str *addr_r)
{
	size_t count = 0;

	skip_sp(r);
	if (r->bad || r->p >= r->end)
		return !(r->bad = true);
	if (*r->p != '(') {
		read_nstring(r, buf);	/* NIL */
		return 0;
	}
	r->p++;
	for (;;) {
		skip_sp(r);
		if (r->bad || r->p >= r->end)
			return !(r->bad = true);
		if (*r->p == ')') {
			r->p++;
			return count;
		}
		if (!expect(r, '('))
			return 0;
		struct str nm = read_nstring(r, buf);
		read_nstring(r, buf);
		struct str mb = read_nstring(r, buf);
		size_t at = buf->len;
		struct str host = read_nstring(r, buf);
		if (!expect(r, ')'))
			return 0;
		if (host.nil)
			continue;
		if (count++ == 0) {
			/* "mailbox@host" written fresh after both (through a
			 * copy: appending buf to itself could move it). */
			struct sbuf a = SBUF_INIT;

			sbuf_add(&a, buf->buf + mb.off, mb.len);
			sbuf_addch(&a, '@');
			sbuf_add(&a, buf->buf + host.off, host.len);
			addr_r->off = buf->len;
			sbuf_add(buf, a.buf, a.len);
			sbuf_release(&a);
			addr_r->len = buf->len - addr_r->off;
			addr_r->nil = false;
			sbuf_addch(buf, '\0');
			*name_r = nm;
		}
		(void)at;
	}
}

struct envelope_mem {
	struct envelope env;
	char *strings;
};

struct envelope *envelope_parse(const char *s, size_t len, const char **error_r)
{
	struct rd r = { s, s + len, false };
	struct sbuf buf = SBUF_INIT;
	struct str date, subj, irt, mid;
	struct str from_n = { 0, 0, true }, from_a = { 0, 0, true };
	struct str to_n = { 0, 0, true }, to_a = { 0, 0, true }, dummy_n, dummy_a;
	struct sbuf dec = SBUF_INIT;
	size_t n_to, n_cc, dsubj, dfrom, dto;

	sbuf_addch(&buf, '\0');	/* offset 0 is "" */
	expect(&r, '(');
	date = read_nstring(&r, &buf);
	subj = read_nstring(&r, &buf);
	read_addrs(&r, &buf, &from_n, &from_a);
	read_addrs(&r, &buf, &dummy_n, &dummy_a);	/* sender */
	read_addrs(&r, &buf, &dummy_n, &dummy_a);	/* reply-to */
	n_to = read_addrs(&r, &buf, &to_n, &to_a);
	n_cc = read_addrs(&r, &buf, &dummy_n, &dummy_a);
	read_addrs(&r, &buf, &dummy_n, &dummy_a);	/* bcc */
	irt = read_nstring(&r, &buf);
	mid = read_nstring(&r, &buf);
	expect(&r, ')');
	if (r.bad) {
		sbuf_release(&buf);
		*error_r = "not an IMAP ENVELOPE";
		return NULL;
	}
	/* Decoded forms go after the raw strings in the same block. */
	dsubj = buf.len;
	if (!subj.nil) {
		envelope_decode_words(buf.buf + subj.off, subj.len, &dec);
		sbuf_add(&buf, dec.buf, dec.len);
	}
	sbuf_addch(&buf, '\0');
	dfrom = buf.len;
	if (!from_n.nil) {
		sbuf_reset(&dec);
		envelope_decode_words(buf.buf + from_n.off, from_n.len, &dec);
		sbuf_add(&buf, dec.buf, dec.len);
	}
	sbuf_addch(&buf, '\0');
	dto = buf.len;
	if (!to_n.nil) {
		sbuf_reset(&dec);
		envelope_decode_words(buf.buf + to_n.off, to_n.len, &dec);
		sbuf_add(&buf, dec.buf, dec.len);
	}
	sbuf_addch(&buf, '\0');
	sbuf_release(&dec);

	struct envelope_mem *m = xcalloc(1, sizeof(*m));
	m->strings = sbuf_detach(&buf, NULL);
#define STR(x) (m->strings + ((x).nil ? 0 : (x).off))
	m->env.date_raw = STR(date);
	m->env.date = date.nil ? 0 : envelope_parse_date(m->env.date_raw);
	m->env.subject = m->strings + dsubj;
	m->env.from_name = m->strings + dfrom;
	m->env.from_addr = STR(from_a);
	m->env.to_name = m->strings + dto;
	m->env.to_addr = STR(to_a);
	m->env.in_reply_to = STR(irt);
	m->env.message_id = STR(mid);
#undef STR
	m->env.n_to = n_to;
	m->env.n_cc = n_cc;
	return &m->env;
}

/* Skips an address list (NIL or ((name adl mailbox host)...)); what it
 * reads goes through the tail of buf, cut off again. */
static void skip_addrs(struct rd *r, struct sbuf *buf)
{
	size_t keep = buf->len;

	skip_sp(r);
	if (r->bad || r->p >= r->end) {
		r->bad = true;
		return;
	}
	if (*r->p != '(') {
		read_nstring(r, buf);	/* NIL */
	} else {
		r->p++;
		for (;;) {
			skip_sp(r);
			if (r->bad || r->p >= r->end) {
				r->bad = true;
				break;
			}
			if (*r->p == ')') {
				r->p++;
				break;
			}
			if (!expect(r, '('))
				break;
			for (int k = 0; k < 4; k++) {
				read_nstring(r, buf);
				sbuf_setlen(buf, keep);
			}
			if (!expect(r, ')'))
				break;
		}
	}
	sbuf_setlen(buf, keep);
}

int envelope_thread_key(const char *s, size_t len, struct sbuf *out)
{
	struct rd r = { s, s + len, false };
	struct sbuf buf = SBUF_INIT;
	struct str date, subj, irt, mid;

	expect(&r, '(');
	date = read_nstring(&r, &buf);
	subj = read_nstring(&r, &buf);
	/* from sender reply-to to cc bcc: only skipped (no decoding, no
	 * address made, unlike envelope_parse). */
	for (int k = 0; k < 6; k++)
		skip_addrs(&r, &buf);
	irt = read_nstring(&r, &buf);
	mid = read_nstring(&r, &buf);
	expect(&r, ')');
	if (!r.bad) {
		/* Each string read is followed by a NUL in buf, NIL too. */
		const struct str f[5] = { date, mid, irt, { 0, 0, true }, subj };

		for (int k = 0; k < 5; k++) {
			sbuf_add(out, buf.buf + f[k].off, f[k].nil ? 0 : f[k].len);
			sbuf_addch(out, '\0');
		}
	}
	sbuf_release(&buf);
	return r.bad ? -1 : 0;
}

void envelope_free(struct envelope **envp)
{
	if (*envp == NULL)
		return;
	struct envelope_mem *m = (struct envelope_mem *)*envp;
	free(m->strings);
	free(m);
	*envp = NULL;
}

/* ---- RFC 2047 ---- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One encoded word at p (=?cs?e?text?=): decodes it onto out and returns
 * its length, or 0 when p is not a well-formed one. */
static size_t decode_word(const char *p, const char *end, struct sbuf *out)
{
	const char *cs, *q1, *q2, *q3;
	char charset[64];
	struct sbuf raw = SBUF_INIT;

	if (end - p < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	cs = p + 2;
	q1 = memchr(cs, '?', (size_t)(end - cs));
	if (q1 == NULL || q1 == cs || (size_t)(q1 - cs) >= sizeof(charset) || end - q1 < 4 ||
	    q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	q3 = q2 + 1;
	while (q3 + 1 < end && !(q3[0] == '?' && q3[1] == '='))
		q3++;
	if (q3 + 1 >= end)
		return 0;
	memcpy(charset, cs, (size_t)(q1 - cs));
	charset[q1 - cs] = '\0';
	char *star = strchr(charset, '*');	/* RFC 2231 language */
	if (star)
		*star = '\0';
	if (q1[1] == 'B' || q1[1] == 'b') {
		unsigned acc = 0;
		int bits = 0;

		for (const char *s = q2 + 1; s < q3; s++) {
			int v = b64val((unsigned char)*s);

			if (v < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				sbuf_addch(&raw, (int)((acc >> bits) & 0xff));
			}
		}
	} else if (q1[1] == 'Q' || q1[1] == 'q') {
		for (const char *s = q2 + 1; s < q3; s++) {
			if (*s == '_')
				sbuf_addch(&raw, ' ');
			else if (*s == '=' && s + 2 < q3 + 1 && hexval((unsigned char)s[1]) >= 0 &&
				 hexval((unsigned char)s[2]) >= 0) {
				sbuf_addch(&raw, hexval((unsigned char)s[1]) * 16 + hexval((unsigned char)s[2]));
				s += 2;
			} else
				sbuf_addch(&raw, *s);
		}
	} else {
		return 0;
	}
	message_charset_to_utf8(charset, raw.buf, raw.len, out);
	sbuf_release(&raw);
	return (size_t)(q3 + 2 - p);
}

void envelope_decode_words(const char *raw, size_t len, struct sbuf *out)
{
	const char *p = raw, *end = raw + len, *plain = raw;
	bool last_was_word = false;
	size_t base = out->len;

	while (p < end) {
		if (*p == '=' && p + 1 < end && p[1] == '?') {
			size_t start = out->len;
			const char *ws_end = p;
			/* White space between two encoded words is dropped. */
			const char *ws = plain;
			bool only_ws = last_was_word;

			for (const char *s = ws; s < ws_end && only_ws; s++)
				if (!(*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
					only_ws = false;
			if (!only_ws)
				message_utf8_or_latin1(plain, (size_t)(p - plain), out);
			start = out->len;
			size_t n = decode_word(p, end, out);
			if (n > 0) {
				p += n;
				plain = p;
				last_was_word = true;
				continue;
			}
			sbuf_setlen(out, start);
			if (only_ws)	/* put the skipped blanks back */
				message_utf8_or_latin1(plain, (size_t)(p - plain), out);
			message_utf8_or_latin1(p, 2, out);
			p += 2;
			plain = p;
			last_was_word = false;
			continue;
		}
		if (!(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			last_was_word = false;
		p++;
	}
	message_utf8_or_latin1(plain, (size_t)(end - plain), out);
	/* Unfold: CR and LF disappear, so a line never breaks the screen.
	 * Only what this call appended: out may hold much more. */
	size_t w = base;
	for (size_t i = base; i < out->len; i++)
		if (out->buf[i] != '\r' && out->buf[i] != '\n')
			out->buf[w++] = out->buf[i];
	sbuf_setlen(out, w);
}

/* ---- dates ---- */

static const char *skip_cfws(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == ',')
			s++;
		if (*s != '(')
			return s;
		int depth = 0;
		do {
			if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			else if (*s == '\\' && s[1])
				s++;
			s++;
		} while (*s && depth > 0);
	}
}

int64_t envelope_parse_date(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	struct tm tm = { 0 };
	long zone = 0;
	char *e;

	s = skip_cfws(s);
	if (isalpha((unsigned char)*s)) {	/* day name */
		while (isalpha((unsigned char)*s))
			s++;
		s = skip_cfws(s);
	}
	long day = strtol(s, &e, 10);
	if (e == s || day < 1 || day > 31)
		return 0;
	s = skip_cfws(e);
	if (!isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
	    !isalpha((unsigned char)s[2]))
		return 0;
	char mon[4] = { (char)tolower((unsigned char)s[0]), (char)tolower((unsigned char)s[1]),
			(char)tolower((unsigned char)s[2]), 0 };
	const char *m = strstr(months, mon);
	if (m == NULL || (m - months) % 3 != 0)
		return 0;
	while (isalpha((unsigned char)*s))
		s++;
	s = skip_cfws(s);
	long year = strtol(s, &e, 10);
	if (e == s)
		return 0;
	if (e - s <= 2)
		year += year < 50 ? 2000 : 1900;
	else if (e - s == 3)
		year += 1900;
	s = skip_cfws(e);
	long hh = strtol(s, &e, 10), mm = 0, ss = 0;
	if (e == s || *e != ':')
		return 0;
	s = e + 1;
	mm = strtol(s, &e, 10);
	if (e == s)
		return 0;
	s = e;
	if (*s == ':') {
		ss = strtol(s + 1, &e, 10);
		s = e;
	}
	s = skip_cfws(s);
	if (*s == '+' || *s == '-') {
		long z = strtol(s + 1, &e, 10);

		/* +hhmm; anything else is an unknown zone (RFC 5322: -0000) */
		if (e - (s + 1) == 4 && isdigit((unsigned char)s[1]) && z % 100 < 60)
			zone = (*s == '-' ? -1 : 1) * ((z / 100) * 3600 + (z % 100) * 60);
	} else if (strncasecmp(s, "EDT", 3) == 0) {
		zone = -4 * 3600;
	} else if (strncasecmp(s, "EST", 3) == 0 || strncasecmp(s, "CDT", 3) == 0) {
		zone = -5 * 3600;
	} else if (strncasecmp(s, "CST", 3) == 0 || strncasecmp(s, "MDT", 3) == 0) {
		zone = -6 * 3600;
	} else if (strncasecmp(s, "MST", 3) == 0 || strncasecmp(s, "PDT", 3) == 0) {
		zone = -7 * 3600;
	} else if (strncasecmp(s, "PST", 3) == 0) {
		zone = -8 * 3600;
	}
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 || year < 1970 ||
	    year > 9999)
		return 0;
	tm.tm_year = (int)(year - 1900);
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_mday = (int)day;
	tm.tm_hour = (int)hh;
	tm.tm_min = (int)mm;
	tm.tm_sec = (int)ss;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return (int64_t)t - zone;
}
