/* compose_mime: the final RFC 5322 message of a draft, built with GMime 3
 * (see client/compose.h).
 *
 * The text body is put in place as bytes with an explicit charset rather
 * than through g_mime_text_part_set_text(), which would pick the "best"
 * charset and so send ISO-8859-1 for Latin text: loft sends us-ascii or
 * utf-8 only.  Header encoding (RFC 2047 for names and the subject, RFC
 * 2231 for file names) is left to GMime's writer. */
#include "client/compose.h"

#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "store/message.h"

#include "store/gmime_lazy.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef LOFT_VERSION
#define LOFT_VERSION "0"
#endif

/* What the bytes are: pure ASCII, valid UTF-8 text, or binary; and the
 * longest line. */
struct scan {
	bool ascii, utf8, binary;
	size_t longest;
};

static struct scan scan_bytes(const char *p, size_t len)
{
	struct scan s = { true, true, false, 0 };
	size_t line = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			line = 0;
			i++;
			continue;
		}
		if (++line > s.longest)
			s.longest = line;
		if (c >= 0x80) {
			size_t l = utf8_seq_len((const unsigned char *)p + i, len - i);

			s.ascii = false;
			if (l == 0) {
				s.utf8 = false;
				s.binary = true;
				i++;
			} else {
				i += l;
			}
			continue;
		}
		if (c == 0 || (c < 0x20 && c != '\t' && c != '\r' && c != '\f') || c == 0x7f)
			s.binary = true;
		i++;
	}
	return s;
}

static GMimeContentEncoding text_encoding(const struct scan *s)
{
	return s->ascii && s->longest <= 998 ? GMIME_CONTENT_ENCODING_7BIT
					     : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

static void set_content(GMimePart *part, const char *data, size_t len,
			GMimeContentEncoding enc)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, w);
	g_mime_part_set_content_encoding(part, enc);
	g_object_unref(w);
	g_object_unref(st);
}

/* GMime picks the "best" charset for RFC 2231/2047 words, ISO-8859-1 when
 * it fits; loft writes UTF-8 only, which every reader decodes. */
static void utf8_param(GMimeParamList *list, const char *name)
{
	GMimeParam *p = list ? g_mime_param_list_get_parameter(list, name) : NULL;

	if (p != NULL)
		g_mime_param_set_charset(p, "UTF-8");
}

static void utf8_addresses(InternetAddressList *l)
{
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		internet_address_set_charset(ia, "UTF-8");
		if (INTERNET_ADDRESS_IS_GROUP(ia))
			utf8_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
	}
}

static const struct {
	const char *ext, *type;
} types[] = {
	{ "txt", "text/plain" }, { "text", "text/plain" }, { "html", "text/html" },
	{ "htm", "text/html" }, { "csv", "text/csv" }, { "ics", "text/calendar" },
	{ "patch", "text/x-diff" }, { "diff", "text/x-diff" }, { "eml", "message/rfc822" },
	{ "pdf", "application/pdf" }, { "json", "application/json" },
	{ "zip", "application/zip" }, { "gz", "application/gzip" },
	{ "tar", "application/x-tar" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
	{ "svg", "image/svg+xml" }, { "mp3", "audio/mpeg" }, { "mp4", "video/mp4" },
	{ "doc", "application/msword" }, { "odt", "application/vnd.oasis.opendocument.text" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
};

static const char *guess_type(const char *filename, const struct scan *s)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return s->binary || !s->utf8 ? "application/octet-stream" : "text/plain";
}

static GMimeObject *attachment_part(const struct compose_attachment *a, const char **error_r)
{
	struct scan s = scan_bytes(a->data, a->len);
	const char *type = a->content_type ? a->content_type : guess_type(a->filename, &s);
	GMimeContentType *ct = g_mime_content_type_parse(NULL, type);
	GMimeObject *obj;

	if (ct == NULL) {
		*error_r = "attachment content type does not parse";
		return NULL;
	}
	const char *major = g_mime_content_type_get_media_type(ct);
	const char *minor = g_mime_content_type_get_media_subtype(ct);

	if (strcasecmp(major, "message") == 0 && strcasecmp(minor, "rfc822") == 0) {
		/* Forward as attachment: kept a message, so readers show it as one. */
		GMimeStream *st = g_mime_stream_mem_new_with_buffer(a->data, a->len);
		GMimeParser *parser = g_mime_parser_new_with_stream(st);
		GMimeMessage *inner = g_mime_parser_construct_message(parser, NULL);

		g_object_unref(parser);
		g_object_unref(st);
		if (inner == NULL) {
			g_object_unref(ct);
			*error_r = "forwarded message does not parse";
			return NULL;
		}
		obj = (GMimeObject *)g_mime_message_part_new_with_message("rfc822", inner);
		g_object_unref(inner);
		g_mime_object_set_disposition(obj, GMIME_DISPOSITION_INLINE);
	} else {
		GMimePart *part = g_mime_part_new_with_type(major, minor);
		bool text = strcasecmp(major, "text") == 0 && !s.binary && s.utf8;

		if (text)
			g_mime_object_set_content_type_parameter((GMimeObject *)part, "charset",
								 s.ascii ? "us-ascii" : "utf-8");
		set_content(part, a->data, a->len,
			    text ? text_encoding(&s) : GMIME_CONTENT_ENCODING_BASE64);
		obj = (GMimeObject *)part;
		g_mime_object_set_disposition(obj, GMIME_DISPOSITION_ATTACHMENT);
		if (a->filename != NULL && a->filename[0]) {
			g_mime_part_set_filename(part, a->filename);
			utf8_param(g_mime_content_disposition_get_parameters(
					   g_mime_object_get_content_disposition(obj)), "filename");
			utf8_param(g_mime_content_type_get_parameters(
					   g_mime_object_get_content_type(obj)), "name");
		}
	}
	/* Parameters copied from the type the caller gave (e.g. a charset). */
	GMimeParamList *pl = g_mime_content_type_get_parameters(ct);

	for (int i = 0; pl && i < g_mime_param_list_length(pl); i++) {
		GMimeParam *p = g_mime_param_list_get_parameter_at(pl, i);

		g_mime_object_set_content_type_parameter(obj, g_mime_param_get_name(p),
							 g_mime_param_get_value(p));
	}
	if (a->description != NULL)
		g_mime_object_set_header(obj, "Content-Description", a->description, "utf-8");
	g_object_unref(ct);
	return obj;
}

/* Appends the addresses of value to list; false when it does not parse. */
static bool add_addresses(InternetAddressList *list, const char *value)
{
	InternetAddressList *l;

	if (value == NULL || value[strspn(value, " \t,")] == '\0')
		return true;
	l = internet_address_list_parse(NULL, value);
	if (l == NULL)
		return false;
	utf8_addresses(l);
	internet_address_list_append(list, l);
	g_object_unref(l);
	return true;
}

static const char *first_addr(InternetAddressList *l)
{
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	}
	return NULL;
}

int compose_build_mime(const struct compose_draft *d, const struct compose_attachment *att,
		       size_t natt, const struct compose_build *bo, struct sbuf *out,
		       const char **error_r)
{
	static const struct compose_build defaults = { 0 };
	GMimeMessage *m;
	GMimeObject *body = NULL;
	int ret = -1;

	if (bo == NULL)
		bo = &defaults;
	message_init();
	m = g_mime_message_new(TRUE);
	if (!add_addresses(g_mime_message_get_from(m), d->from) ||
	    !add_addresses(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO), d->to) ||
	    !add_addresses(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), d->cc) ||
	    !add_addresses(g_mime_message_get_reply_to(m), d->reply_to) ||
	    (bo->keep_bcc &&
	     !add_addresses(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_BCC), d->bcc))) {
		*error_r = "an address list does not parse";
		goto fail;
	}
	const char *from = first_addr(g_mime_message_get_from(m));

	if (from == NULL) {
		*error_r = "no From address";
		goto fail;
	}
	char **rcpt = compose_recipients(d);
	bool none = rcpt[0] == NULL;

	compose_strv_free(rcpt);
	if (none) {
		*error_r = "no recipient";
		goto fail;
	}
	g_mime_message_set_subject(m, d->subject, "utf-8");
	GDateTime *dt = bo->date ? g_date_time_new_from_unix_local(bo->date)
				 : g_date_time_new_now_local();

	g_mime_message_set_date(m, dt);
	g_date_time_unref(dt);
	if (bo->message_id != NULL) {
		g_mime_message_set_message_id(m, bo->message_id);
	} else {
		const char *at = strrchr(from, '@');
		char *id = g_mime_utils_generate_message_id(
			bo->domain && bo->domain[0] ? bo->domain : at ? at + 1 : "localhost");

		g_mime_message_set_message_id(m, id);
		g_free(id);
	}
	if (d->in_reply_to[0])
		g_mime_object_set_header((GMimeObject *)m, "In-Reply-To", d->in_reply_to, NULL);
	if (d->references[0])
		g_mime_object_set_header((GMimeObject *)m, "References", d->references, NULL);
	g_mime_object_set_header((GMimeObject *)m, "User-Agent",
				 bo->user_agent ? bo->user_agent : "loft/" LOFT_VERSION, NULL);
	for (size_t i = 0; i < d->nextra; i++)
		g_mime_object_append_header((GMimeObject *)m, d->extra[i].name, d->extra[i].value,
					    "utf-8");

	size_t blen = strlen(d->body);
	struct scan s = scan_bytes(d->body, blen);
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");

	g_mime_object_set_content_type_parameter((GMimeObject *)tp, "charset",
						 s.ascii ? "us-ascii" : "utf-8");
	set_content((GMimePart *)tp, d->body, blen, text_encoding(&s));
	body = (GMimeObject *)tp;
	if (natt > 0) {
		GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");

		g_mime_multipart_add(mp, body);
		g_object_unref(body);
		body = (GMimeObject *)mp;
		for (size_t i = 0; i < natt; i++) {
			GMimeObject *part = attachment_part(&att[i], error_r);

			if (part == NULL)
				goto fail;
			g_mime_multipart_add(mp, part);
			g_object_unref(part);
		}
	}
	g_mime_message_set_mime_part(m, body);

	GMimeStream *st = g_mime_stream_mem_new();

	g_mime_object_write_to_stream((GMimeObject *)m, NULL, st);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));

	sbuf_add(out, ba->data, ba->len);
	g_object_unref(st);
	ret = 0;
fail:
	if (body != NULL)
		g_object_unref(body);
	g_object_unref(m);
	return ret;
}

static void collect(InternetAddressList *l, char ***v, size_t *n)
{
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), v, n);
			continue;
		}
		const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

		if (a == NULL || a[0] == '\0')
			continue;
		for (size_t k = 0; k < *n; k++)
			if (strcasecmp((*v)[k], a) == 0)
				goto next;
		*v = xreallocarray(*v, *n + 2, sizeof(**v));
		(*v)[(*n)++] = xstrdup(a);
		(*v)[*n] = NULL;
next:;
	}
}

char **compose_recipients(const struct compose_draft *d)
{
	const char *fields[] = { d->to, d->cc, d->bcc };
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	message_init();
	for (size_t i = 0; i < 3; i++) {
		InternetAddressList *l = internet_address_list_new();

		if (add_addresses(l, fields[i]))
			collect(l, &v, &n);
		g_object_unref(l);
	}
	return v;
}

void compose_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
