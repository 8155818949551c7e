/* text: the pager's text helpers — wrapping by cells, quote depth, URLs,
 * and the built-in HTML-to-text fallback.  Pure functions, unit-tested in
 * tests/unit/test_ui_text.c. */
#include "ui/ui-private.h"

#include "client/format.h"

#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Cells of the character at p (n bytes available); *len_r its bytes. */
static size_t char_cells(const char *p, size_t n, size_t col, size_t *len_r)
{
	size_t l;

	if (*p == '\t') {
		*len_r = 1;
		return 8 - col % 8;
	}
	l = utf8_seq_len((const unsigned char *)p, n);
	if (l == 0)
		l = 1;
	/* U+FE0F right after: the pair is one wide glyph (format.h). */
	if (n >= l + 3 && (unsigned char)p[l] == 0xef && (unsigned char)p[l + 1] == 0xb8 &&
	    (unsigned char)p[l + 2] == 0x8f)
		l += 3;
	*len_r = l;
	return format_width_n(p, l);
}

size_t ui_wrap(const char *text, size_t len, size_t width, struct ui_line **lines_r)
{
	struct ui_line *v = NULL;
	size_t n = 0, alloc = 0, pos = 0;

	if (width < 2)
		width = 2;
	while (pos < len || n == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t eol = end;
		unsigned quote;
		bool cont = false;

		if (end > pos && text[end - 1] == '\r')
			eol = end - 1;
		quote = ui_quote_depth(text + pos, eol - pos);
		do {
			size_t col = 0, p = pos, brk = 0, l;

			while (p < eol) {
				size_t c = char_cells(text + p, eol - p, col, &l);

				if (col + c > width)
					break;
				col += c;
				p += l;
				if (text[p - l] == ' ')
					brk = p;
			}
			/* Break after the last blank of the line, as mutt's smart_wrap. */
			if (p < eol && brk > pos)
				p = brk;
			if (p == pos && p < eol)	/* a glyph wider than the line */
				p += utf8_seq_len((const unsigned char *)text + p, eol - p) ?: 1;
			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				v = xreallocarray(v, alloc, sizeof(*v));
			}
			v[n++] = (struct ui_line){ pos, p - pos, quote, cont };
			cont = true;
			pos = p;
		} while (pos < eol);
		pos = nl ? end + 1 : len;
		if (nl == NULL)
			break;
	}
	*lines_r = v;
	return n;
}

unsigned ui_quote_depth(const char *s, size_t len)
{
	unsigned depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '>')
			depth++;
		else if (s[i] != ' ' || depth == 0)
			break;
	}
	return depth;
}

bool ui_find_url(const char *s, size_t len, size_t *off_r, size_t *len_r)
{
	static const char *const schemes[] = { "https://", "http://", "mailto:", "www.", "ftp://" };

	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '/'))
			continue;
		for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
			size_t sl = strlen(schemes[k]), e;

			if (len - i <= sl || strncasecmp(s + i, schemes[k], sl) != 0)
				continue;
			for (e = i + sl; e < len; e++) {
				unsigned char c = (unsigned char)s[e];
				if (c <= ' ' || c >= 0x7f || strchr("<>\"'`", c))
					break;
			}
			/* Trailing punctuation belongs to the sentence. */
			while (e > i + sl && strchr(".,;:!?)]", s[e - 1]))
				e--;
			if (e == i + sl)
				continue;
			*off_r = i;
			*len_r = e - i;
			return true;
		}
	}
	return false;
}

static const struct {
	const char *name;
	const char *text;
} entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
	{ "nbsp", " " }, { "mdash", "—" }, { "ndash", "–" }, { "hellip", "…" },
	{ "copy", "©" }, { "laquo", "«" }, { "raquo", "»" }, { "rsquo", "’" }, { "lsquo", "‘" },
	{ "rdquo", "”" }, { "ldquo", "“" }, { "euro", "€" },
};

static bool block_tag(const char *t, size_t n)
{
	static const char *const blocks[] = { "p", "br", "div", "tr", "li", "h1", "h2", "h3",
					      "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
					      "pre", "hr", "title" };
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strlen(blocks[i]) == n && strncasecmp(t, blocks[i], n) == 0)
			return true;
	return false;
}

void ui_html_strip(const char *html, size_t len, struct sbuf *out)
{
	size_t i = 0;
	bool space = false, skip = false, pre = false;

	while (i < len) {
		char c = html[i];

		if (c == '<') {
			const char *gt = memchr(html + i, '>', len - i);
			size_t end = gt ? (size_t)(gt - html) : len;
			const char *t = html + i + 1;
			bool closing = *t == '/';

			if (closing)
				t++;
			size_t n = 0;
			while (t + n < html + end && isalnum((unsigned char)t[n]))
				n++;
			if ((n == 5 && strncasecmp(t, "style", 5) == 0) ||
			    (n == 6 && strncasecmp(t, "script", 6) == 0))
				skip = !closing;
			if (n == 3 && strncasecmp(t, "pre", 3) == 0)
				pre = !closing;
			if (block_tag(t, n)) {
				if (out->len && out->buf[out->len - 1] != '\n')
					sbuf_addch(out, '\n');
				if (n == 1 && tolower((unsigned char)*t) == 'p' && !closing)
					sbuf_addch(out, '\n');
				space = false;
			}
			if (n == 2 && strncasecmp(t, "li", 2) == 0 && !closing)
				sbuf_addstr(out, "* ");
			i = end + 1;
			continue;
		}
		if (skip) {
			i++;
			continue;
		}
		if (c == '&') {
			const char *semi = memchr(html + i, ';', len - i < 10 ? len - i : 10);
			if (semi) {
				const char *name = html + i + 1;
				size_t n = (size_t)(semi - name);
				bool done = false;

				if (n > 1 && name[0] == '#') {
					unsigned long cp = name[1] == 'x' || name[1] == 'X'
						? strtoul(name + 2, NULL, 16) : strtoul(name + 1, NULL, 10);
					char mb[8];
					size_t k = 0;

					if (cp > 0 && cp < 0x110000) {
						if (cp < 0x80) mb[k++] = (char)cp;
						else if (cp < 0x800) { mb[k++] = (char)(0xc0 | (cp >> 6)); mb[k++] = (char)(0x80 | (cp & 0x3f)); }
						else if (cp < 0x10000) { mb[k++] = (char)(0xe0 | (cp >> 12)); mb[k++] = (char)(0x80 | ((cp >> 6) & 0x3f)); mb[k++] = (char)(0x80 | (cp & 0x3f)); }
						else { mb[k++] = (char)(0xf0 | (cp >> 18)); mb[k++] = (char)(0x80 | ((cp >> 12) & 0x3f)); mb[k++] = (char)(0x80 | ((cp >> 6) & 0x3f)); mb[k++] = (char)(0x80 | (cp & 0x3f)); }
						sbuf_add(out, mb, k);
						done = true;
					}
				}
				for (size_t e = 0; !done && e < sizeof(entities) / sizeof(entities[0]); e++)
					if (strlen(entities[e].name) == n && strncmp(name, entities[e].name, n) == 0) {
						sbuf_addstr(out, entities[e].text);
						done = true;
					}
				if (done) {
					space = false;
					i = (size_t)(semi - html) + 1;
					continue;
				}
			}
		}
		if (!pre && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			if (!space && out->len && out->buf[out->len - 1] != '\n')
				sbuf_addch(out, ' ');
			space = true;
			i++;
			continue;
		}
		space = false;
		sbuf_addch(out, c);
		i++;
	}
	if (out->len && out->buf[out->len - 1] != '\n')
		sbuf_addch(out, '\n');
}
