/* message_imap.c: the IMAP ENVELOPE and BODYSTRUCTURE strings (RFC 3501
 * section 7.4.2, unchanged in RFC 9051).
 *
 * Choices, each following Dovecot where it made one:
 *  - header strings are the unfolded raw values; address display names are
 *    GMime's decoded names, re-encoded as RFC 2047 when not ASCII, except
 *    in a field that is 8-bit (RFC 6532 UTF-8 headers): its names go as
 *    they are, as its subject does (what UTF8=ACCEPT clients expect);
 *  - absent Sender / Reply-To repeat From (RFC 3501);
 *  - a text part without charset gets ("charset" "us-ascii");
 *  - sizes and line counts are those of the CRLF form of the message (an
 *    IMAP client fetches CRLF text), so a bare LF counts two octets;
 *  - a parameter value that is not ASCII is given back RFC 2231-encoded
 *    (name*=utf-8''...), never as an 8-bit literal;
 *  - a multipart without children gets one empty text/plain child, since
 *    the grammar needs at least one body.
 * The nesting of the output follows the part tree with an explicit stack. */
#include "store/message-private.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void message_imap_nstring(struct sbuf *out, const char *s)
{
	const unsigned char *p;
	int literal = 0;

	if (!s) {
		sbuf_addstr(out, "NIL");
		return;
	}
	for (p = (const unsigned char *)s; *p; p++)
		if (*p == '\r' || *p == '\n' || *p >= 0x80)
			literal = 1;
	if (literal || strlen(s) > 4096) {
		sbuf_addf(out, "{%zu}\r\n", strlen(s));
		sbuf_addstr(out, s);
		return;
	}
	sbuf_addch(out, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, *p);
	}
	sbuf_addch(out, '"');
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* raw8: the header field is 8-bit (RFC 6532 UTF-8 headers): its names go
 * as they are, for UTF8=ACCEPT clients; an ASCII field's names go in RFC
 * 2047 form, as they came. */
static void add_name(struct sbuf *out, const char *name, int raw8)
{
	char *enc;

	if (!name || !*name) {
		sbuf_addstr(out, "NIL");
		return;
	}
	if (is_ascii(name) || raw8) {
		message_imap_nstring(out, name);
		return;
	}
	enc = g_mime_utils_header_encode_phrase(NULL, name, "utf-8");
	message_imap_nstring(out, enc ? enc : name);
	g_free(enc);
}

static void add_mailbox(struct sbuf *out, const struct message_address *a, int raw8)
{
	const char *at = strrchr(a->addr, '@');
	char *local = at ? xstrndup(a->addr, (size_t)(at - a->addr)) : xstrdup(a->addr);

	sbuf_addch(out, '(');
	add_name(out, a->name, raw8);
	sbuf_addstr(out, " NIL ");
	message_imap_nstring(out, local);
	sbuf_addch(out, ' ');
	message_imap_nstring(out, at ? at + 1 : "");
	sbuf_addch(out, ')');
	free(local);
}

/* Address list; group members are wrapped in the RFC 3501 group markers
 * (NIL NIL "name" NIL) ... (NIL NIL NIL NIL). */
static void add_addresses(struct sbuf *out, const struct message *msg, const char *hdr,
			  const char *fallback)
{
	const struct message_address *a;
	size_t n = message_addresses(msg, hdr, &a), i;
	const char *group = NULL, *raw;

	if (n == 0 && fallback) {
		n = message_addresses(msg, fallback, &a);
		hdr = fallback;
	}
	if (n == 0) {
		sbuf_addstr(out, "NIL");
		return;
	}
	raw = message_header_raw(msg, hdr);
	int raw8 = raw && !is_ascii(raw);

	sbuf_addch(out, '(');
	for (i = 0; i < n; i++) {
		if (group && (!a[i].group || strcmp(group, a[i].group) != 0)) {
			sbuf_addstr(out, "(NIL NIL NIL NIL)");
			group = NULL;
		}
		if (a[i].group && !group) {
			group = a[i].group;
			sbuf_addstr(out, "(NIL NIL ");
			message_imap_nstring(out, group);
			sbuf_addstr(out, " NIL)");
		}
		if (*a[i].addr || !a[i].group)
			add_mailbox(out, &a[i], raw8);
	}
	if (group)
		sbuf_addstr(out, "(NIL NIL NIL NIL)");
	sbuf_addch(out, ')');
}

void message_imap_envelope(const struct message *msg, struct sbuf *out)
{
	sbuf_addch(out, '(');
	message_imap_nstring(out, message_header_raw(msg, "Date"));
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_header_raw(msg, "Subject"));
	sbuf_addch(out, ' ');
	add_addresses(out, msg, "From", NULL);
	sbuf_addch(out, ' ');
	add_addresses(out, msg, "Sender", "From");
	sbuf_addch(out, ' ');
	add_addresses(out, msg, "Reply-To", "From");
	sbuf_addch(out, ' ');
	add_addresses(out, msg, "To", NULL);
	sbuf_addch(out, ' ');
	add_addresses(out, msg, "Cc", NULL);
	sbuf_addch(out, ' ');
	add_addresses(out, msg, "Bcc", NULL);
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_header_raw(msg, "In-Reply-To"));
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_header_raw(msg, "Message-ID"));
	sbuf_addch(out, ')');
}

/* Octets and lines of data in CRLF form. */
static void crlf_size(const char *s, size_t n, size_t *octets_r, size_t *lines_r)
{
	size_t i, oct = n, lines = 0;

	for (i = 0; i < n; i++)
		if (s[i] == '\n') {
			lines++;
			if (i == 0 || s[i - 1] != '\r')
				oct++;
		}
	*octets_r = oct;
	*lines_r = lines;
}

/* The part's body as it is in the message (still transfer-encoded). */
static void encoded_body(const struct message_part *p, struct sbuf *sb)
{
	size_t n;
	const char *c;

	if (p->obj && GMIME_IS_PART(p->obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(p->obj));
		GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
		char buf[16384];
		ssize_t r;

		if (!s)
			return;
		g_mime_stream_reset(s);
		while ((r = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
			sbuf_add(sb, buf, (size_t)r);
		/* the CR of the CRLF before a boundary is the boundary's */
		if (p->in_multipart && sb->len && sb->buf[sb->len - 1] == '\r')
			sbuf_setlen(sb, sb->len - 1);
		return;
	}
	if (p->obj && GMIME_IS_MULTIPART(p->obj)) {
		/* A multipart's body is its subparts with their boundaries,
		 * as GMime keeps them (RFC 3501 6.4.5: BODY[1] of a
		 * multipart/alternative inside a multipart/mixed). */
		GMimeStream *s = g_mime_stream_mem_new();
		GByteArray *a;

		g_mime_object_write_content_to_stream(p->obj, NULL, s);
		a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
		sbuf_add(sb, (const char *)a->data, a->len);
		g_object_unref(s);
		return;
	}
	c = message_part_content(p, &n);	/* message/rfc822, flattened parts */
	sbuf_add(sb, c, n);
}

static void add_params(struct sbuf *out, const struct message_part *p, int add_charset)
{
	size_t i;

	if (p->nparams == 0 && !add_charset) {
		sbuf_addstr(out, "NIL");
		return;
	}
	sbuf_addch(out, '(');
	if (add_charset)
		sbuf_addstr(out, "\"charset\" \"us-ascii\"");
	for (i = 0; i < p->nparams; i++) {
		const char *v = p->params[i].value;

		if (i || add_charset)
			sbuf_addch(out, ' ');
		if (is_ascii(v)) {
			message_imap_nstring(out, p->params[i].name);
			sbuf_addch(out, ' ');
			message_imap_nstring(out, v);
		} else {
			const unsigned char *c;

			sbuf_addf(out, "\"%s*\" \"utf-8''", p->params[i].name);
			for (c = (const unsigned char *)v; *c; c++)
				if (isalnum(*c) || strchr("-._~", *c))
					sbuf_addch(out, *c);
				else
					sbuf_addf(out, "%%%02X", *c);
			sbuf_addch(out, '"');
		}
	}
	sbuf_addch(out, ')');
}

static void add_ext(struct sbuf *out, const struct message_part *p)
{
	const char *lang = message_headers_find(p->headers, p->nheaders, "Content-Language", 1);

	sbuf_addch(out, ' ');
	if (p->disposition) {
		const char *fn = message_headers_find(p->headers, p->nheaders, "Content-Disposition", 1)
			? p->filename : NULL;

		sbuf_addch(out, '(');
		message_imap_nstring(out, p->disposition);
		sbuf_addch(out, ' ');
		if (fn) {
			sbuf_addstr(out, "(\"filename\" ");
			message_imap_nstring(out, fn);
			sbuf_addch(out, ')');
		} else {
			sbuf_addstr(out, "NIL");
		}
		sbuf_addch(out, ')');
	} else {
		sbuf_addstr(out, "NIL");
	}
	sbuf_addch(out, ' ');
	if (lang) {
		char *l = xstrdup(lang), *tok, *save = NULL;
		int first = 1;

		sbuf_addch(out, '(');
		for (tok = strtok_r(l, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
			if (!first)
				sbuf_addch(out, ' ');
			message_imap_nstring(out, tok);
			first = 0;
		}
		sbuf_addch(out, ')');
		free(l);
	} else {
		sbuf_addstr(out, "NIL");
	}
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_headers_find(p->headers, p->nheaders, "Content-Location", 1));
}

/* Opens a part's list; returns 1 when the part is complete (a leaf), 0
 * when children follow. */
/* Size in octets and lines of a part's body as sent (CRLF form). */
static void body_size(const struct message_part *p, size_t *octets_r, size_t *lines_r)
{
	struct sbuf body = SBUF_INIT;

	encoded_body(p, &body);
	crlf_size(body.buf, body.len, octets_r, lines_r);
	sbuf_release(&body);
}

/* The extension data of a non-multipart part: MD5, then disposition etc. */
static void add_leaf_ext(struct sbuf *out, const struct message_part *p)
{
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_headers_find(p->headers, p->nheaders, "Content-MD5", 1));
	add_ext(out, p);
}

static int start_part(struct sbuf *out, const struct message_part *p, int ext)
{
	const char *slash = strchr(p->type, '/');
	size_t octets, lines;
	int is_text = strncmp(p->type, "text/", 5) == 0;
	int is_msg = p->embedded && p->nchildren == 1 &&
		     (strcmp(p->type, "message/rfc822") == 0 || strcmp(p->type, "message/global") == 0);

	sbuf_addch(out, '(');
	if (p->is_multipart) {
		if (p->nchildren > 0)
			return 0;
		sbuf_addstr(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
		return 0;
	}
	{
		char *t = xstrndup(p->type, (size_t)(slash - p->type));

		message_imap_nstring(out, t);
		free(t);
	}
	sbuf_addch(out, ' ');
	message_imap_nstring(out, slash + 1);
	sbuf_addch(out, ' ');
	add_params(out, p, is_text && !p->charset);
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_headers_find(p->headers, p->nheaders, "Content-ID", 1));
	sbuf_addch(out, ' ');
	message_imap_nstring(out, message_headers_find(p->headers, p->nheaders, "Content-Description", 1));
	sbuf_addch(out, ' ');
	message_imap_nstring(out, p->encoding ? p->encoding : "7bit");
	body_size(p, &octets, &lines);
	sbuf_addf(out, " %zu", octets);
	if (is_msg) {
		sbuf_addch(out, ' ');
		message_imap_envelope(p->embedded, out);
		sbuf_addch(out, ' ');
		/* body follows; the line count is written by finish_part */
		return 0;
	}
	if (is_text)
		sbuf_addf(out, " %zu", lines);
	if (ext)
		add_leaf_ext(out, p);
	sbuf_addch(out, ')');
	return 1;
}

static void finish_part(struct sbuf *out, const struct message_part *p, int ext)
{
	if (p->is_multipart) {
		const char *slash = strchr(p->type, '/');

		sbuf_addch(out, ' ');
		message_imap_nstring(out, slash + 1);
		if (ext) {
			sbuf_addch(out, ' ');
			add_params(out, p, 0);
			add_ext(out, p);
		}
	} else {	/* message/rfc822 */
		size_t octets, lines;

		body_size(p, &octets, &lines);
		sbuf_addf(out, " %zu", lines);
		if (ext)
			add_leaf_ext(out, p);
	}
	sbuf_addch(out, ')');
}

struct frame {
	const struct message_part *part;
	size_t next;
};

void message_imap_bodystructure(const struct message *msg, int extensible, struct sbuf *out)
{
	struct frame *stack;
	size_t sp = 0, alloc = 16;

	if (start_part(out, msg->root, extensible))
		return;
	stack = xreallocarray(NULL, alloc, sizeof(*stack));
	stack[sp++] = (struct frame){ msg->root, 0 };
	while (sp > 0) {
		struct frame *f = &stack[sp - 1];

		if (f->next < f->part->nchildren) {
			const struct message_part *c = f->part->children[f->next++];

			if (start_part(out, c, extensible))
				continue;
			if (sp == alloc)
				stack = xreallocarray(stack, alloc *= 2, sizeof(*stack));
			stack[sp++] = (struct frame){ c, 0 };
		} else {
			finish_part(out, f->part, extensible);
			sp--;
		}
	}
	free(stack);
}

int message_imap_section(const struct message *msg, const char *part, int mime, struct sbuf *out)
{
	const struct message_part *p = message_find_part(msg, part);

	/* A single-part message's body is also its part 1 (RFC 3501 6.4.5). */
	if (p == NULL && strcmp(part, "1") == 0 && !msg->root->is_multipart)
		p = msg->root;
	if (p == NULL || (*part == '\0' && !mime))
		return -1;
	if (!mime) {
		encoded_body(p, out);
		return 0;
	}
	if (p->obj != NULL) {
		char *h = g_mime_header_list_to_string(g_mime_object_get_header_list(p->obj), NULL);

		sbuf_addstr(out, h ? h : "");
		g_free(h);
	}
	sbuf_addstr(out, "\n");
	return 0;
}

/* ---- BODY from a cached BODYSTRUCTURE ---- */

/* Past one value at p (atom, number, NIL, quoted string, literal or
 * list), or NULL when there is none or it is cut short. */
static const char *skip_value(const char *p, const char *end, unsigned depth)
{
	if (p >= end || depth > 200)
		return NULL;
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++)
			if (*p == '\\')
				p++;
		return p < end ? p + 1 : NULL;
	}
	if (*p == '{') {
		size_t n = 0;

		for (p++; p < end && isdigit((unsigned char)*p); p++)
			n = n * 10 + (size_t)(*p - '0');
		if (end - p < 3 || p[0] != '}' || p[1] != '\r' || p[2] != '\n' ||
		    (size_t)(end - p - 3) < n)
			return NULL;
		return p + 3 + n;
	}
	if (*p == '(') {
		for (p++; p < end && *p != ')';) {
			if (*p == ' ') {
				p++;
				continue;
			}
			if ((p = skip_value(p, end, depth + 1)) == NULL)
				return NULL;
		}
		return p < end ? p + 1 : NULL;
	}
	const char *start = p;

	while (p < end && *p != ' ' && *p != '(' && *p != ')' && *p != '"' && *p != '{')
		p++;
	return p > start ? p : NULL;
}

/* Copies one value and the space before it ("" for the first); NULL when
 * there is none. */
static const char *copy_value(const char *p, const char *end, int first, struct sbuf *out)
{
	const char *v = p, *e;

	if (!first) {
		if (p >= end || *p != ' ')
			return NULL;
		v = p + 1;
	}
	if ((e = skip_value(v, end, 0)) == NULL)
		return NULL;
	sbuf_add(out, p, (size_t)(e - p));
	return e;
}

/* Whether the quoted string at p..e is "word" in any case. */
static int quoted_is(const char *p, const char *e, const char *word)
{
	size_t n = strlen(word);

	return e - p == (ptrdiff_t)n + 2 && *p == '"' && strncasecmp(p + 1, word, n) == 0;
}

/* One body at p (a list): copies what BODY keeps, skips the rest. */
static const char *body_of(const char *p, const char *end, unsigned depth, struct sbuf *out)
{
	if (p >= end || *p != '(' || depth > 200)
		return NULL;
	sbuf_addch(out, '(');
	p++;
	if (p < end && *p == '(') {	/* multipart: bodies, then the subtype */
		while (p < end && *p == '(')
			if ((p = body_of(p, end, depth + 1, out)) == NULL)
				return NULL;
		if ((p = copy_value(p, end, 0, out)) == NULL)
			return NULL;
	} else {	/* type subtype params id description encoding size */
		const char *type = p, *type_end, *sub;

		if ((p = type_end = copy_value(p, end, 1, out)) == NULL)
			return NULL;
		sub = p + 1;
		for (int i = 0; i < 6 && p != NULL; i++)
			p = copy_value(p, end, 0, out);
		if (p == NULL)
			return NULL;
		const char *sub_end = skip_value(sub, end, 0);

		if (quoted_is(type, type_end, "text")) {
			if ((p = copy_value(p, end, 0, out)) == NULL)	/* lines */
				return NULL;
		} else if (quoted_is(type, type_end, "message") && p + 1 < end && p[1] == '(' &&
			   (quoted_is(sub, sub_end, "rfc822") || quoted_is(sub, sub_end, "global"))) {
			/* envelope, the embedded body, lines */
			if ((p = copy_value(p, end, 0, out)) == NULL || p >= end || *p != ' ')
				return NULL;
			sbuf_addch(out, ' ');
			if ((p = body_of(p + 1, end, depth + 1, out)) == NULL ||
			    (p = copy_value(p, end, 0, out)) == NULL)
				return NULL;
		}
	}
	/* The extension data. */
	while (p < end && *p == ' ')
		if ((p = skip_value(p + 1, end, depth + 1)) == NULL)
			return NULL;
	if (p >= end || *p != ')')
		return NULL;
	sbuf_addch(out, ')');
	return p + 1;
}

int message_imap_body_of(const char *bs, size_t len, struct sbuf *out)
{
	size_t mark = out->len;
	const char *e = body_of(bs, bs + len, 0, out);

	if (e == bs + len)
		return 0;
	sbuf_setlen(out, mark);
	return -1;
}
