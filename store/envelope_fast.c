/* envelope_fast: the ENVELOPE of a plain header block without a GMime
 * parse.
 *
 * GMime needs ~50 us per message to parse even a trimmed header block
 * (GObject and GLib slice overhead), which alone would make the first
 * open of a 100,000-message folder take seconds.  Most real headers are
 * simple: ASCII, "Name <addr>" or bare addresses, encoded words only in
 * display names, no groups, comments or quoting tricks.  For those this
 * builds exactly the string message_imap_envelope() would; anything else
 * returns NULL and the caller uses GMime (the unit test compares both on a
 * table of headers, `storetool envcheck DIR` on a whole corpus: no
 * difference on the 100,000 messages of the bench corpus, 98.9% of them
 * taken here). */
#include "store/store-private.h"

#include "store/message.h"
#include "store/gmime_lazy.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { F_DATE, F_SUBJECT, F_FROM, F_SENDER, F_REPLY_TO, F_TO, F_CC, F_BCC, F_IRT, F_MSGID,
       F_COUNT };

static const char *const field_names[F_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id",
};
static const size_t field_lens[F_COUNT] = { 4, 7, 4, 6, 8, 2, 2, 3, 11, 10 };

/* The longest value taken: longer ones may need a literal. */
#define FAST_VALUE_MAX 1000

static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* local@domain of atext and dots, one '@', nothing empty. */
static bool simple_addr(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);

	if (at == NULL || at == s || at == s + n - 1 || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '@' && s[i] != '.' && !atext((unsigned char)s[i]))
			return false;
	return s[0] != '.' && s[n - 1] != '.';
}

/* message_imap_nstring() for the values this file accepts (ASCII, no CR
 * or LF, at most FAST_VALUE_MAX bytes, not NUL-terminated), copying runs
 * instead of bytes. */
static void nstring(struct sbuf *out, const char *s, size_t n)
{
	const char *end = s + n;

	if (s == NULL) {
		sbuf_addstr(out, "NIL");
		return;
	}
	sbuf_addch(out, '"');
	while (s < end) {
		const char *q = s;

		while (q < end && *q != '"' && *q != '\\')
			q++;
		sbuf_add(out, s, (size_t)(q - s));
		if (q == end)
			break;
		sbuf_addch(out, '\\');
		sbuf_addch(out, *q);
		s = q + 1;
	}
	sbuf_addch(out, '"');
}

static void add_addr(struct sbuf *out, const char *name, size_t nlen, const char *a, size_t alen)
{
	const char *at = memchr(a, '@', alen);

	sbuf_addch(out, '(');
	nstring(out, nlen ? name : NULL, nlen);
	sbuf_addstr(out, " NIL \"");
	sbuf_add(out, a, (size_t)(at - a));
	sbuf_addstr(out, "\" \"");
	sbuf_add(out, at + 1, alen - (size_t)(at - a) - 1);
	sbuf_addstr(out, "\")");
}

/* An RFC 2047 encoded word as mail clients write it in a display name:
 * =?CHARSET?B|Q?TEXT?= with printable ASCII, no '?' or blank in TEXT and
 * no RFC 2231 language in CHARSET. */
static bool encoded_word(const char *s, size_t n)
{
	const char *end = s + n, *q;

	if (n < 8 || s[0] != '=' || s[1] != '?' || end[-2] != '?' || end[-1] != '=')
		return false;
	for (q = s + 2; q < end - 2 && *q != '?'; q++)
		if (!atext((unsigned char)*q) || *q == '*')
			return false;
	if (q == s + 2 || q + 3 >= end - 2 || q[2] != '?' || strchr("bBqQ", q[1]) == NULL)
		return false;
	for (q += 3; q < end - 2; q++)
		if (*q <= ' ' || *q >= 0x7f || *q == '?')
			return false;
	return true;
}

/* A display name of atoms and encoded words separated by single spaces,
 * at least one encoded word: decoded and, when not ASCII, encoded again
 * as message_imap.c does (GMime's phrase codec, which its address parser
 * uses too), then added like any name.  false: not that simple. */
static bool add_encoded_addr(struct sbuf *out, const char *name, size_t nlen, const char *a,
			     size_t alen)
{
	const char *p = name, *end = name + nlen;
	char *raw, *dec, *enc = NULL;
	bool ascii = true, ok = false;

	while (p < end) {
		const char *w = memchr(p, ' ', (size_t)(end - p));

		if (w == NULL)
			w = end;
		if (w == p)
			return false;
		if (!encoded_word(p, (size_t)(w - p))) {
			if (memmem(p, (size_t)(w - p), "=?", 2))
				return false;
			for (const char *q = p; q < w; q++)
				if (!atext((unsigned char)*q))
					return false;
		}
		p = w < end ? w + 1 : end;
	}
	if (name[nlen - 1] == ' ')
		return false;
	raw = xstrndup(name, nlen);
	message_init();	/* GMime is loaded on first use */
	dec = g_mime_utils_header_decode_phrase(NULL, raw);
	free(raw);
	if (dec == NULL || !g_utf8_validate(dec, -1, NULL))
		goto out;
	for (const unsigned char *q = (const unsigned char *)dec; *q; q++) {
		if (*q < 0x20 || *q == 0x7f)
			goto out;
		ascii = ascii && *q < 0x80;
	}
	if (!ascii) {
		enc = g_mime_utils_header_encode_phrase(NULL, dec, "utf-8");
		for (const unsigned char *q = (const unsigned char *)enc; enc && *q; q++)
			if (*q < 0x20 || *q >= 0x7f)
				goto out;
	}
	const char *shown = ascii ? dec : enc;

	if (shown == NULL || strlen(shown) > FAST_VALUE_MAX)
		goto out;
	add_addr(out, shown, strlen(shown), a, alen);
	ok = true;
out:
	g_free(dec);
	g_free(enc);
	return ok;
}

/* One address item, trimmed.  false: not simple. */
static bool add_item(struct sbuf *out, const char *s, size_t n)
{
	const char *lt, *name = s;
	size_t nlen;

	/* Encoded words are decoded in display names only (below). */
	if (n > 0 && s[n - 1] != '>')
		return simple_addr(s, n) && !memmem(s, n, "=?", 2) &&
			(add_addr(out, NULL, 0, s, n), true);
	lt = memchr(s, '<', n);
	if (lt == NULL || memchr(lt + 1, '<', n - (size_t)(lt - s) - 1) ||
	    !simple_addr(lt + 1, n - (size_t)(lt - s) - 2) ||
	    memmem(lt + 1, n - (size_t)(lt - s) - 1, "=?", 2))
		return false;
	if (lt == s) {
		nlen = 0;
	} else {
		if (lt - s < 2 || lt[-1] != ' ')
			return false;
		nlen = (size_t)(lt - s) - 1;
		if (name[0] == '"') {
			if (nlen < 3 || name[nlen - 1] != '"')
				return false;
			name++;
			nlen -= 2;
			for (size_t i = 0; i < nlen; i++)
				if (name[i] == '"' || name[i] == '\\' || name[i] < 0x20)
					return false;
			if (memmem(name, nlen, "=?", 2))
				return false;
			if (name[0] == ' ' || name[nlen - 1] == ' ' || memmem(name, nlen, "  ", 2))
				return false;
		} else if (memmem(name, nlen, "=?", 2)) {
			return add_encoded_addr(out, name, nlen, lt + 1,
						n - (size_t)(lt - s) - 2);
		} else {
			/* Atoms separated by single spaces. */
			for (size_t i = 0; i < nlen; i++) {
				unsigned char c = (unsigned char)name[i];

				if (c == ' ' ? i == 0 || name[i - 1] == ' ' : !atext(c))
					return false;
			}
			if (name[nlen - 1] == ' ')
				return false;
		}
	}
	add_addr(out, name, nlen, lt + 1, n - (size_t)(lt - s) - 2);
	return true;
}

static bool add_list(struct sbuf *out, const char *v, size_t len)
{
	const char *p = v, *end = v + len;

	sbuf_addch(out, '(');
	while (p < end) {
		/* The next comma outside a quoted string. */
		const char *c = p;
		bool quoted = false;

		for (; c < end && (quoted || *c != ','); c++)
			if (*c == '"')
				quoted = !quoted;
		if (quoted)
			return false;
		if (c == end)
			c = NULL;
		const char *e = c ? c : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		const char *t = e;

		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t == p || !add_item(out, p, (size_t)(t - p)))
			return false;
		p = c ? c + 1 : end;
	}
	sbuf_addch(out, ')');
	return true;
}

struct value {
	const char *s;			/* unfolded, not NUL-terminated; NULL: absent */
	size_t len;
	char *own;			/* a folded value's unfolded copy (s), malloc'd */
};

static bool add_field(struct sbuf *out, const struct value *v, const struct value *fallback)
{
	if (v->s == NULL)
		v = fallback;
	if (v == NULL || v->s == NULL) {
		sbuf_addstr(out, "NIL");
		return true;
	}
	return add_list(out, v->s, v->len);
}

char *store_envelope_fast(const char *data, size_t len)
{
	struct value v[F_COUNT] = { { 0 } };
	const char *p = data, *end = data + len;
	struct sbuf out = SBUF_INIT;
	int cur = -1;
	bool ok = false;

	if (len >= 3 && (unsigned char)data[0] == 0xef)
		return NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end, *le = nl ? nl : end;

		if (p == le)
			break;		/* the empty line */
		for (const char *q = p; q < le; q++)
			if ((unsigned char)*q >= 0x80 || *q == '\r' || *q == '\0')
				goto out;
		if (*p == ' ' || *p == '\t') {
			if (cur >= 0) {
				/* Folded (rare): the value is copied once unfolded;
				 * single lines are used in place. */
				struct value *x = &v[cur];

				if (x->own == NULL) {
					x->own = xmalloc(x->len + (size_t)(le - p) + 1);
					memcpy(x->own, x->s, x->len);
				} else {
					x->own = xreallocarray(x->own, x->len + (size_t)(le - p) + 1, 1);
				}
				memcpy(x->own + x->len, p, (size_t)(le - p));
				x->len += (size_t)(le - p);
				x->s = x->own;
			}
		} else {
			const char *colon = memchr(p, ':', (size_t)(le - p));

			if (colon == NULL || colon == p || colon[-1] == ' ' || colon[-1] == '\t')
				goto out;
			cur = -1;
			for (int i = 0; i < F_COUNT; i++) {
				if (field_lens[i] == (size_t)(colon - p) &&
				    strncasecmp(p, field_names[i], (size_t)(colon - p)) == 0) {
					if (v[i].s)
						goto out;	/* duplicates: GMime decides */
					cur = i;
				}
			}
			if (cur >= 0) {
				const char *s = colon + 1;

				while (s < le && (*s == ' ' || *s == '\t'))
					s++;
				v[cur].len = (size_t)(le - s);
				v[cur].s = s;
			}
		}
		p = next;
	}
	for (int i = 0; i < F_COUNT; i++) {
		struct value *x = &v[i];

		if (x->s == NULL)
			continue;
		/* Empty or trailing-blank values, and long ones: GMime's call. */
		if (x->len == 0 || x->len > FAST_VALUE_MAX || x->s[x->len - 1] == ' ' ||
		    x->s[x->len - 1] == '\t' || x->s[0] == ' ' || x->s[0] == '\t')
			goto out;
	}
	sbuf_reserve(&out, 512);
	sbuf_addch(&out, '(');
	nstring(&out, v[F_DATE].s, v[F_DATE].len);
	sbuf_addch(&out, ' ');
	nstring(&out, v[F_SUBJECT].s, v[F_SUBJECT].len);
	sbuf_addch(&out, ' ');
	if (!add_field(&out, &v[F_FROM], NULL))
		goto out;
	sbuf_addch(&out, ' ');
	if (!add_field(&out, &v[F_SENDER], &v[F_FROM]))
		goto out;
	sbuf_addch(&out, ' ');
	if (!add_field(&out, &v[F_REPLY_TO], &v[F_FROM]))
		goto out;
	for (int i = F_TO; i <= F_BCC; i++) {
		sbuf_addch(&out, ' ');
		if (!add_field(&out, &v[i], NULL))
			goto out;
	}
	sbuf_addch(&out, ' ');
	nstring(&out, v[F_IRT].s, v[F_IRT].len);
	sbuf_addch(&out, ' ');
	nstring(&out, v[F_MSGID].s, v[F_MSGID].len);
	sbuf_addch(&out, ')');
	ok = true;
out:
	for (int i = 0; i < F_COUNT; i++)
		free(v[i].own);
	if (!ok) {
		sbuf_release(&out);
		return NULL;
	}
	return sbuf_detach(&out, NULL);
}
