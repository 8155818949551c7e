/* message_mime.c: the part tree, parameters, disposition, filename, decoded
 * content and its size and digest.
 *
 * The tree is built by an explicit stack, never by recursion: a message
 * nested 20,000 levels deep must not exhaust the C stack, and the depth and
 * part-count limits are checked before a part's children are looked at. */
#include "store/message-private.h"
#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct work {
	GMimeObject *obj;
	struct message *msg;		/* message whose header view the part belongs to */
	struct message_part *parent;
	size_t slot;			/* index in parent->children */
	unsigned depth;
	const char *section;
};

static char *lower_dup(struct arena *a, const char *s)
{
	char *r = arena_strdup(a, s), *p;

	for (p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static const char *utf8_param(struct arena *a, const char *v)
{
	struct sbuf sb = SBUF_INIT;
	const char *r;

	if (g_utf8_validate(v, -1, NULL))
		return arena_strdup(a, v);
	message_utf8_or_latin1(v, strlen(v), &sb);
	r = arena_strdup(a, sb.buf);
	sbuf_release(&sb);
	return r;
}

/* Parameter values may still hold RFC 2047 words inside quotes (Netscape,
 * Outlook): GMime's loose mode decodes most; decode what is left. */
static const char *param_value(struct arena *a, const char *v)
{
	const char *r;
	char *dec;

	if (!strstr(v, "=?"))
		return utf8_param(a, v);
	dec = g_mime_utils_header_decode_text(NULL, v);
	r = utf8_param(a, dec ? dec : v);
	g_free(dec);
	return r;
}

static void read_params(struct arena *a, GMimeParamList *list, struct message_param **params_r,
			size_t *count_r)
{
	int i, n = list ? g_mime_param_list_length(list) : 0;
	struct message_param *p = arena_calloc(a, n ? n : 1, sizeof(*p));
	size_t k = 0;

	for (i = 0; i < n; i++) {
		GMimeParam *gp = g_mime_param_list_get_parameter_at(list, i);
		const char *name = g_mime_param_get_name(gp), *value = g_mime_param_get_value(gp);

		if (!name)
			continue;
		p[k].name = lower_dup(a, name);
		p[k].value = param_value(a, value ? value : "");
		k++;
	}
	*params_r = p;
	*count_r = k;
}

static const char *find_param(const struct message_param *p, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

static void fill_part(struct message *top, struct message_part *p, GMimeObject *obj)
{
	struct arena *a = top->arena;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *st = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	const char *cte, *fn = NULL;

	message_read_headers(top, g_mime_object_get_header_list(obj), &p->headers, &p->nheaders);
	p->type = lower_dup(a, arena_printf(a, "%s/%s", t ? t : "text", st ? st : "plain"));
	p->declared = message_headers_find(p->headers, p->nheaders, "Content-Type", 1);
	/* "Content-Type: text" (no subtype) is invalid; RFC 2045 5.2 says
	 * take text/plain, GMime takes application/octet-stream. */
	if (p->declared && !strchr(p->declared, '/') && strcmp(p->type, "application/octet-stream") == 0)
		p->type = "text/plain";
	read_params(a, ct ? g_mime_content_type_get_parameters(ct) : NULL, &p->params, &p->nparams);
	p->charset = find_param(p->params, p->nparams, "charset");
	if (cd && message_headers_find(p->headers, p->nheaders, "Content-Disposition", 1)) {
		struct message_param *dp;
		size_t ndp;

		if (g_mime_content_disposition_get_disposition(cd))
			p->disposition = lower_dup(a, g_mime_content_disposition_get_disposition(cd));
		read_params(a, g_mime_content_disposition_get_parameters(cd), &dp, &ndp);
		fn = find_param(dp, ndp, "filename");
	}
	if (!fn)
		fn = find_param(p->params, p->nparams, "name");
	p->filename = fn;
	cte = message_headers_find(p->headers, p->nheaders, "Content-Transfer-Encoding", 1);
	if (cte) {
		char *c = lower_dup(a, cte), *e = c + strlen(c);

		while (e > c && isspace((unsigned char)e[-1]))
			*--e = '\0';
		p->encoding = c;
	}
}

static void add_part(struct message *top, size_t *alloc, struct message_part *p)
{
	if (top->nparts == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		top->parts = xreallocarray(top->parts, *alloc, sizeof(*top->parts));
	}
	top->parts[top->nparts++] = p;
	p->id = (unsigned)top->nparts;
}

static const char *child_section(struct arena *a, const char *parent, size_t i)
{
	return *parent ? arena_printf(a, "%s.%zu", parent, i + 1) : arena_printf(a, "%zu", i + 1);
}

void message_build_tree(struct message *top)
{
	struct work *stack = NULL;
	size_t sp = 0, salloc = 0, palloc = 0;
	GMimeObject *rootobj = g_mime_message_get_mime_part(top->gm);
	struct arena *a = top->arena;

	if (!rootobj) {		/* headers only: an empty text/plain body */
		struct message_part *p = arena_calloc(a, 1, sizeof(*p));

		p->owner = top;
		p->msg = top;
		p->type = "text/plain";
		p->section = "1";
		p->content_done = 1;
		p->content = xstrdup("");
		top->root = p;
		add_part(top, &palloc, p);
		return;
	}
	stack = xreallocarray(NULL, salloc = 16, sizeof(*stack));
	stack[sp++] = (struct work){ rootobj, top, NULL, 0, 0,
				     GMIME_IS_MULTIPART(rootobj) ? "" : "1" };
	while (sp > 0) {
		struct work w = stack[--sp];
		struct message_part *p = arena_calloc(a, 1, sizeof(*p));
		size_t i, n = 0;

		p->owner = top;
		p->msg = w.msg;
		p->obj = w.obj;
		p->depth = w.depth;
		p->section = w.section;
		fill_part(top, p, w.obj);
		add_part(top, &palloc, p);
		if (w.parent) {
			w.parent->children[w.slot] = p;
			p->in_multipart = w.parent->is_multipart;
			/* Without a close delimiter the last line break at the
			 * end of the input is taken as the delimiter's own. */
			p->eof_trim = w.parent->is_multipart && w.slot + 1 == w.parent->nchildren &&
				      w.parent->boundary &&
				      !GMIME_MULTIPART(w.parent->obj)->write_end_boundary;
		} else {
			top->root = p;
		}

		if (GMIME_IS_MULTIPART(w.obj)) {
			GMimeMultipart *mp = GMIME_MULTIPART(w.obj);

			p->is_multipart = 1;
			if (g_mime_multipart_get_boundary(mp))
				p->boundary = arena_strdup(a, g_mime_multipart_get_boundary(mp));
			else
				message_add_defect(p->defects, &p->ndefects, "missing-boundary");
			n = (size_t)g_mime_multipart_get_count(mp);
			if (!p->boundary || n == 0)	/* one opaque block, no parts */
				p->is_multipart = 0, n = 0;
			if (n > 0 && !mp->write_end_boundary)
				message_add_defect(p->defects, &p->ndefects, "missing-close-boundary");
		} else if (GMIME_IS_MESSAGE_PART(w.obj)) {
			n = g_mime_message_part_get_message(GMIME_MESSAGE_PART(w.obj)) ? 1 : 0;
		}
		if (n == 0)
			continue;
		if (w.depth + 1 >= top->lim.max_depth || top->nparts + sp + n > top->lim.max_parts) {
			p->flattened = 1;
			p->is_multipart = 0;
			p->type = "application/octet-stream";
			message_add_defect(p->defects, &p->ndefects,
					   w.depth + 1 >= top->lim.max_depth ? "depth-limit" : "part-limit");
			continue;
		}
		if (sp + n > salloc) {
			salloc = (sp + n) * 2;
			stack = xreallocarray(stack, salloc, sizeof(*stack));
		}
		p->children = arena_calloc(a, n, sizeof(*p->children));
		p->nchildren = n;
		if (GMIME_IS_MESSAGE_PART(w.obj)) {
			GMimeMessage *em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(w.obj));
			GMimeObject *eroot = g_mime_message_get_mime_part(em);
			struct message *e = arena_calloc(a, 1, sizeof(*e));

			e->top = top;
			e->lim = top->lim;
			message_fill_envelope(e, em);
			p->embedded = e;
			if (!eroot) {
				p->nchildren = 0;
				continue;
			}
			stack[sp++] = (struct work){ eroot, e, p, 0, w.depth + 1,
				GMIME_IS_MULTIPART(eroot) ? w.section
							  : child_section(a, w.section, 0) };
			continue;
		}
		/* Children pushed last-first so they are numbered in order. */
		for (i = n; i-- > 0;)
			stack[sp++] = (struct work){
				g_mime_multipart_get_part(GMIME_MULTIPART(w.obj), (int)i), w.msg, p, i,
				w.depth + 1, child_section(a, w.section, i) };
	}
	free(stack);
	/* The embedded message's root is reached through its message part. */
	for (size_t k = 0; k < top->nparts; k++) {
		struct message_part *p = (struct message_part *)top->parts[k];

		if (p->embedded && p->nchildren)
			p->embedded->root = (struct message_part *)p->children[0];
	}
}

/* Cheap base64 checks on the encoded bytes: stray characters, a length that
 * is not a multiple of four, data after the padding. */
static void check_base64(struct message_part *p, const unsigned char *s, size_t n)
{
	size_t i, count = 0;
	int pad = 0, bad = 0, after_pad = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (isalnum(c) || c == '+' || c == '/') {
			if (pad)
				after_pad = 1;
			count++;
		} else if (c == '=') {
			pad = 1;
			count++;
		} else if (!isspace(c)) {
			bad = 1;
		}
	}
	if (bad)
		message_add_defect(p->defects, &p->ndefects, "invalid-base64-characters");
	if (count % 4 != 0 || after_pad)
		message_add_defect(p->defects, &p->ndefects, "invalid-base64-padding");
}

static void stream_to_sbuf(GMimeStream *s, struct sbuf *sb)
{
	char buf[16384];
	ssize_t n;

	g_mime_stream_reset(s);
	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		sbuf_add(sb, buf, (size_t)n);
}

/* Transfer decoding done here on the raw body rather than by GMime's
 * wrapper, so that the edges follow RFC 2046: the CR of the CRLF before a
 * boundary is not content, nor is the last line break of an unclosed
 * multipart; and base64 missing its padding decodes its last bytes. */
static void decode_leaf(struct message_part *p, struct sbuf *out)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(p->obj));
	GMimeContentEncoding enc;
	struct sbuf raw = SBUF_INIT;
	GMimeEncoding state;
	size_t n, count = 0, i;
	char *buf;

	if (!w)
		return;
	enc = g_mime_data_wrapper_get_encoding(w);
	stream_to_sbuf(g_mime_data_wrapper_get_stream(w), &raw);
	if (p->in_multipart && raw.len && raw.buf[raw.len - 1] == '\r')
		sbuf_setlen(&raw, raw.len - 1);
	if (p->eof_trim && raw.len && raw.buf[raw.len - 1] == '\n') {
		sbuf_setlen(&raw, raw.len - 1);
		if (raw.len && raw.buf[raw.len - 1] == '\r')
			sbuf_setlen(&raw, raw.len - 1);
	}
	if (enc == GMIME_CONTENT_ENCODING_BASE64) {
		check_base64(p, (const unsigned char *)raw.buf, raw.len);
		for (i = 0; i < raw.len; i++) {
			unsigned char c = (unsigned char)raw.buf[i];

			if (c == '=')
				break;
			if (isalnum(c) || c == '+' || c == '/')
				count++;
		}
		if (i == raw.len && count % 4 >= 2)	/* unpadded tail */
			sbuf_add(&raw, "==", 4 - count % 4);
	}
	if (enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
	    enc != GMIME_CONTENT_ENCODING_UUENCODE) {
		sbuf_add(out, raw.buf, raw.len);
		sbuf_release(&raw);
		return;
	}
	g_mime_encoding_init_decode(&state, enc);
	buf = xmalloc(g_mime_encoding_outlen(&state, raw.len) + 64);
	n = g_mime_encoding_flush(&state, raw.buf, raw.len, buf);
	sbuf_add(out, buf, n);
	free(buf);
	sbuf_release(&raw);
}

static void decode_content(struct message_part *p)
{
	struct sbuf sb = SBUF_INIT;

	p->content_done = 1;
	if (p->obj && GMIME_IS_MULTIPART(p->obj) && !p->flattened && !p->is_multipart) {
		/* No boundary (or no parts): the body is one opaque block. */
		const char *pro = g_mime_multipart_get_prologue(GMIME_MULTIPART(p->obj));
		const char *epi = g_mime_multipart_get_epilogue(GMIME_MULTIPART(p->obj));

		const char *raw = p->owner->raw, *body = NULL;
		size_t rlen = p->owner->raw_len;

		if (p == p->owner->root) {	/* the exact bytes, CRs kept */
			const char *a = memmem(raw, rlen, "\r\n\r\n", 4), *b = memmem(raw, rlen, "\n\n", 2);

			body = a && (!b || a < b) ? a + 4 : b ? b + 2 : NULL;
		}
		if (body) {
			sbuf_add(&sb, body, rlen - (size_t)(body - raw));
		} else {
			if (pro)
				sbuf_addstr(&sb, pro);
			if (epi)
				sbuf_addstr(&sb, epi);
		}
	} else if (p->obj && GMIME_IS_PART(p->obj)) {
		decode_leaf(p, &sb);
	} else if (p->obj && GMIME_IS_MESSAGE_PART(p->obj) && !p->flattened) {
		GMimeMessage *em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(p->obj));
		GMimeStream *mem = g_mime_stream_mem_new();
		GByteArray *ba;

		if (em)
			g_mime_object_write_to_stream(GMIME_OBJECT(em), NULL, mem);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		sbuf_add(&sb, ba->data, ba->len);
		g_object_unref(mem);
	}
	p->content_len = sb.len;
	p->content = sbuf_detach(&sb, NULL);
}

const char *message_part_content(const struct message_part *part, size_t *len_r)
{
	struct message_part *p = (struct message_part *)part;

	if (!p->content_done)
		decode_content(p);
	*len_r = p->content_len;
	return p->content;
}

size_t message_part_decoded_size(const struct message_part *part)
{
	size_t n;

	message_part_content(part, &n);
	return n;
}

const char *message_part_sha256(const struct message_part *part)
{
	struct message_part *p = (struct message_part *)part;
	unsigned char md[32];
	unsigned int mdlen = 0, i;
	size_t n;
	const char *c;

	if (p->sha256[0])
		return p->sha256;
	c = message_part_content(part, &n);
	EVP_Digest(c, n, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(p->sha256 + 2 * i, 3, "%02x", md[i]);
	return p->sha256;
}

char *message_part_text(const struct message_part *part, int reflow, size_t *len_r)
{
	struct sbuf sb = SBUF_INIT;
	size_t n;
	const char *c = message_part_content(part, &n);
	const char *fmt = message_part_param(part, "format");

	message_charset_to_utf8(part->charset, c, n, &sb);
	if (reflow && fmt && strcasecmp(fmt, "flowed") == 0) {
		struct sbuf out = SBUF_INIT;
		const char *delsp = message_part_param(part, "delsp");

		message_flowed_reflow(sb.buf, sb.len, delsp && strcasecmp(delsp, "yes") == 0, &out);
		sbuf_release(&sb);
		sb = out;
	}
	return sbuf_detach(&sb, len_r);
}

const struct message_part *message_root(const struct message *msg)
{
	return msg->root;
}

size_t message_parts(const struct message *msg, const struct message_part *const **parts_r)
{
	*parts_r = msg->top->parts;
	return msg->top->nparts;
}

const struct message_part *message_find_part(const struct message *msg, const char *section)
{
	size_t i;

	if (!*section || strcmp(section, "0") == 0)
		return msg->root;
	for (i = 0; i < msg->top->nparts; i++)
		if (strcmp(msg->top->parts[i]->section, section) == 0)
			return msg->top->parts[i];
	return NULL;
}

const char *const *message_part_defects(const struct message_part *part)
{
	size_t n;

	message_part_content(part, &n);	/* content checks add defects */
	return part->defects;
}

const char *message_part_type(const struct message_part *p) { return p->type; }
const char *message_part_declared_type(const struct message_part *p) { return p->declared; }
const char *message_part_section(const struct message_part *p) { return p->section; }
unsigned message_part_id(const struct message_part *p) { return p->id; }
unsigned message_part_depth(const struct message_part *p) { return p->depth; }
const char *message_part_charset(const struct message_part *p) { return p->charset; }
const char *message_part_disposition(const struct message_part *p) { return p->disposition; }
const char *message_part_filename(const struct message_part *p) { return p->filename; }
const char *message_part_encoding(const struct message_part *p) { return p->encoding; }
const char *message_part_boundary(const struct message_part *p) { return p->boundary; }
int message_part_is_multipart(const struct message_part *p) { return p->is_multipart; }
const struct message *message_part_embedded(const struct message_part *p) { return p->embedded; }

const char *message_part_param(const struct message_part *part, const char *name)
{
	size_t i;

	for (i = 0; i < part->nparams; i++)
		if (strcasecmp(part->params[i].name, name) == 0)
			return part->params[i].value;
	return NULL;
}

size_t message_part_params(const struct message_part *part, const struct message_param **params_r)
{
	*params_r = part->params;
	return part->nparams;
}

const char *message_part_header(const struct message_part *part, const char *name)
{
	return message_headers_find(part->headers, part->nheaders, name, 0);
}

int message_part_is_attachment(const struct message_part *p)
{
	if (p->disposition && strcmp(p->disposition, "attachment") == 0)
		return 1;
	return p->filename && strncmp(p->type, "text/", 5) != 0 && !p->is_multipart;
}

size_t message_part_children(const struct message_part *part,
			     const struct message_part *const **children_r)
{
	*children_r = part->children;
	return part->nchildren;
}
