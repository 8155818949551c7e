/* compose_text: quoting, the text of a message to quote or forward, and
 * the draft file the editor shows (see client/compose.h). */
#include "client/compose.h"

#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "store/message.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void compose_quote(const char *text, size_t len, const char *prefix, struct sbuf *out)
{
	size_t plen = strlen(prefix), bare = plen;

	/* An empty line gets the prefix without its trailing blanks: trailing
	 * white space would turn it into a format=flowed soft break. */
	while (bare > 0 && (prefix[bare - 1] == ' ' || prefix[bare - 1] == '\t'))
		bare--;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len, l = end - off;

		if (l > 0 && text[off + l - 1] == '\r')
			l--;
		if (l == 0) {
			sbuf_add(out, prefix, bare);
		} else {
			/* Quoted lines too: "> > x", as mutt writes them. */
			sbuf_add(out, prefix, plen);
			sbuf_add(out, text + off, l);
		}
		sbuf_addch(out, '\n');
		off = nl ? end + 1 : len;
	}
}

/* Entities common in mail HTML; numeric ones are decoded generally. */
static const struct {
	const char *name;
	const char *text;
} entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
	{ "nbsp", " " }, { "mdash", "\xe2\x80\x94" }, { "ndash", "\xe2\x80\x93" },
	{ "hellip", "\xe2\x80\xa6" }, { "copy", "\xc2\xa9" }, { "rsquo", "\xe2\x80\x99" },
	{ "lsquo", "\xe2\x80\x98" }, { "rdquo", "\xe2\x80\x9d" }, { "ldquo", "\xe2\x80\x9c" },
};

/* A plain rendering good enough to quote: no layout, only line breaks at
 * block elements, no script or style content, entities decoded, runs of
 * blank lines collapsed. */
static char *html_to_text(const char *h, size_t len)
{
	struct sbuf out = SBUF_INIT;
	size_t i = 0;
	bool space = false;

	while (i < len) {
		char c = h[i];

		if (c == '<') {
			const char *e = memchr(h + i, '>', len - i);
			size_t tl = e ? (size_t)(e - (h + i)) : len - i;
			char name[16];
			size_t k = 0, j = i + 1;

			if (j < len && h[j] == '/')
				j++;
			while (j < len && k + 1 < sizeof(name) && isalnum((unsigned char)h[j]))
				name[k++] = (char)tolower((unsigned char)h[j++]);
			name[k] = '\0';
			i += tl + 1;
			if (h[i - tl] != '/' && (strcmp(name, "style") == 0 || strcmp(name, "script") == 0)) {
				/* Skip to the closing tag. */
				const char *close = strcasestr(h + i, strcmp(name, "style") == 0 ? "</style" : "</script");

				i = close && (size_t)(close - h) < len ? (size_t)(close - h) : len;
				continue;
			}
			if (!strcmp(name, "br") || !strcmp(name, "p") || !strcmp(name, "div") ||
			    !strcmp(name, "tr") || !strcmp(name, "li") || !strcmp(name, "blockquote") ||
			    (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2])) {
				/* Keep at most one empty line in a row. */
				if (out.len > 0 && !(out.len >= 2 && out.buf[out.len - 1] == '\n' &&
						     out.buf[out.len - 2] == '\n'))
					sbuf_addch(&out, '\n');
				space = false;
			}
			continue;
		}
		if (c == '&') {
			const char *semi = memchr(h + i, ';', len - i < 12 ? len - i : 12);
			bool done = false;

			if (semi != NULL && i + 1 < len && h[i + 1] == '#') {
				unsigned long cp = h[i + 2] == 'x' || h[i + 2] == 'X'
							   ? strtoul(h + i + 3, NULL, 16)
							   : strtoul(h + i + 2, NULL, 10);

				utf8_put(&out, (uint32_t)cp);
				done = true;
			}
			for (size_t k = 0; semi && !done && k < sizeof(entities) / sizeof(entities[0]); k++) {
				size_t nl = strlen(entities[k].name);

				if ((size_t)(semi - (h + i + 1)) == nl &&
				    strncmp(h + i + 1, entities[k].name, nl) == 0) {
					sbuf_addstr(&out, entities[k].text);
					done = true;
				}
			}
			if (done) {
				i = (size_t)(semi - h) + 1;
				space = false;
				continue;
			}
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			/* HTML white space collapses to one space. */
			if (!space && out.len > 0 && out.buf[out.len - 1] != '\n')
				sbuf_addch(&out, ' ');
			space = true;
			i++;
			continue;
		}
		space = false;
		sbuf_addch(&out, c);
		i++;
	}
	while (out.len > 0 && (out.buf[out.len - 1] == '\n' || out.buf[out.len - 1] == ' '))
		sbuf_setlen(&out, out.len - 1);
	sbuf_addch(&out, '\n');
	return sbuf_detach(&out, NULL);
}

char *compose_message_text(const struct message *msg)
{
	const struct message_part *const *parts;
	size_t n = message_parts(msg, &parts);
	const struct message_part *html = NULL;
	unsigned skip_below = ~0u;	/* depth of an embedded message being skipped */

	for (size_t i = 0; i < n; i++) {
		const char *type = message_part_type(parts[i]);
		unsigned depth = message_part_depth(parts[i]);

		if (depth > skip_below)
			continue;
		skip_below = ~0u;
		if (message_part_embedded(parts[i]) != NULL) {
			/* A forwarded message's text is not this one's. */
			skip_below = depth;
			continue;
		}
		if (message_part_is_attachment(parts[i]))
			continue;
		if (strcmp(type, "text/plain") == 0)
			return message_part_text(parts[i], 0, NULL);
		if (html == NULL && strcmp(type, "text/html") == 0)
			html = parts[i];
	}
	if (html != NULL) {
		size_t len;
		char *raw = message_part_text(html, 0, &len);
		char *text = html_to_text(raw, len);

		free(raw);
		return text;
	}
	return xstrdup("");
}

/* ---- the draft file ---- */

static const char *const shown[] = { "From", "To", "Cc", "Bcc", "Subject", "Reply-To" };

static char **field_of(struct compose_draft *d, const char *name)
{
	static const char *const names[] = { "From", "To", "Cc", "Bcc", "Subject",
					     "Reply-To", "In-Reply-To", "References" };
	char **fields[] = { &d->from, &d->to, &d->cc, &d->bcc, &d->subject,
			    &d->reply_to, &d->in_reply_to, &d->references };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(names[i], name) == 0)
			return fields[i];
	return NULL;
}

void compose_draft_write(const struct compose_draft *d, bool threading, struct sbuf *out)
{
	struct compose_draft *m = (struct compose_draft *)d;	/* field_of reads only */

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		sbuf_addf(out, "%s: %s\n", shown[i], *field_of(m, shown[i]));
	for (size_t i = 0; i < d->nextra; i++)
		sbuf_addf(out, "%s: %s\n", d->extra[i].name, d->extra[i].value);
	if (threading) {
		if (d->in_reply_to[0])
			sbuf_addf(out, "In-Reply-To: %s\n", d->in_reply_to);
		if (d->references[0])
			sbuf_addf(out, "References: %s\n", d->references);
	}
	sbuf_addch(out, '\n');
	sbuf_addstr(out, d->body);
}

struct parsed {
	char *name;
	struct sbuf value;
};

int compose_draft_parse(const char *text, size_t len, struct compose_draft *d,
			const char **error_r)
{
	struct parsed *h = NULL;
	size_t nh = 0, cap = 0, off = 0;
	int ret = -1;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len, l = end - off;
		const char *line = text + off;

		if (l > 0 && line[l - 1] == '\r')
			l--;
		off = nl ? end + 1 : len;
		if (l == 0)
			break;	/* the body starts */
		if ((line[0] == ' ' || line[0] == '\t')) {
			if (nh == 0) {
				*error_r = "continuation line before any header";
				goto fail;
			}
			/* Unfold: the line break goes, the white space stays. */
			sbuf_add(&h[nh - 1].value, line, l);
			continue;
		}
		const char *colon = memchr(line, ':', l);
		size_t nlen = colon ? (size_t)(colon - line) : 0;

		if (colon == NULL || nlen == 0 || memchr(line, ' ', nlen) != NULL) {
			*error_r = "a header line without \"Name:\" (is the blank line before the body missing?)";
			goto fail;
		}
		if (nh == cap) {
			cap = cap ? cap * 2 : 16;
			h = xreallocarray(h, cap, sizeof(*h));
		}
		h[nh].name = xstrndup(line, nlen);
		sbuf_init(&h[nh].value, 0);
		sbuf_add(&h[nh].value, colon + 1, l - nlen - 1);
		nh++;
	}
	/* Accepted: apply. */
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		char **f = field_of(d, shown[i]);

		free(*f);
		*f = xstrdup("");
	}
	for (size_t i = 0; i < d->nextra; i++) {
		free(d->extra[i].name);
		free(d->extra[i].value);
	}
	d->nextra = 0;
	for (size_t i = 0; i < nh; i++) {
		char *v = h[i].value.buf;
		size_t vl = h[i].value.len;

		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		char **f = field_of(d, h[i].name);

		if (f != NULL) {
			free(*f);
			*f = xstrndup(v, vl);
			continue;
		}
		d->extra = xreallocarray(d->extra, d->nextra + 1, sizeof(*d->extra));
		d->extra[d->nextra].name = xstrdup(h[i].name);
		d->extra[d->nextra].value = xstrndup(v, vl);
		d->nextra++;
	}
	free(d->body);
	d->body = xstrndup(text + off, len - off);
	ret = 0;
fail:
	for (size_t i = 0; i < nh; i++) {
		free(h[i].name);
		sbuf_release(&h[i].value);
	}
	free(h);
	return ret;
}
