/* message.c: parsing with GMime, header lookup, addresses, dates, ids.
 *
 * GMime builds its own object tree; loft copies what it needs into arena
 * strings once, so lookups are plain array scans and nothing is decoded
 * twice.  The GMime tree is kept (one reference) because part contents are
 * decoded lazily from it. */
#include "store/message-private.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int initialised;

static void do_init(void)
{
	GMimeParserOptions *opts;
	static const char *user_charsets[] = { "UTF-8", "windows-1252", NULL };
	const char *err;

	/* Loaded here, not at start-up (gmime_lazy.h); the exit is the
	 * exception lib/ossl.c makes too. */
	if (store_gmime_load(&err) < 0) {
		log_error("%s", err);
		exit(EX_UNAVAILABLE);
	}
	g_mime_init();
	opts = g_mime_parser_options_get_default();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(opts, TRUE);
	/* Raw 8-bit header bytes: UTF-8 when valid, else windows-1252. */
	g_mime_parser_options_set_fallback_charsets(opts, user_charsets);
	initialised = 1;
}

void message_init(void)
{
	pthread_once(&init_once, do_init);
}

void message_deinit(void)
{
	if (initialised) {
		g_mime_shutdown();
		initialised = 0;
	}
}

void message_add_defect(const char **defects, unsigned *n, const char *defect)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (strcmp(defects[i], defect) == 0)
			return;
	if (*n < MESSAGE_MAX_DEFECTS) {
		defects[(*n)++] = defect;
		defects[*n] = NULL;
	}
}

/* Unfolds a raw header value: CR and LF dropped, leading and trailing
 * white space trimmed. */
static char *unfold(struct arena *a, const char *raw)
{
	size_t n = strlen(raw), i, j = 0;
	char *out = arena_alloc(a, n + 1);

	for (i = 0; i < n; i++)
		if (raw[i] != '\r' && raw[i] != '\n')
			out[j++] = raw[i];
	out[j] = '\0';	/* trailing blanks belong to an unstructured value */
	i = strspn(out, " \t");
	return out + i;
}

void message_read_headers(struct message *top, GMimeHeaderList *list,
			  struct message_header **headers_r, int *count_r)
{
	int n = list ? g_mime_header_list_get_count(list) : 0, i, k = 0;
	struct message_header *h = arena_calloc(top->arena, n ? n : 1, sizeof(*h));
	struct sbuf sb = SBUF_INIT;

	for (i = 0; i < n; i++) {
		GMimeHeader *gh = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(gh);
		const char *raw = g_mime_header_get_raw_value(gh);
		const char *val = g_mime_header_get_value(gh);

		if (!name || !raw)
			continue;
		h[k].name = arena_strdup(top->arena, name);
		h[k].raw = unfold(top->arena, raw);
		if (!val)
			val = h[k].raw;
		/* GMime decodes; anything still not UTF-8 gets the fallback. */
		if (!g_utf8_validate(val, -1, NULL)) {
			sbuf_reset(&sb);
			message_utf8_or_latin1(val, strlen(val), &sb);
			val = sb.buf;
		}
		h[k].value = unfold(top->arena, val);
		{	/* GMime trims trailing blanks; they are part of the value */
			const char *r = h[k].raw, *e = r + strlen(r), *t = e;

			while (t > r && (t[-1] == ' ' || t[-1] == '\t'))
				t--;
			if (t < e && *h[k].value && strchr(" \t", h[k].value[strlen(h[k].value) - 1]) == NULL)
				h[k].value = arena_printf(top->arena, "%s%s", h[k].value, t);
		}
		k++;
	}
	sbuf_release(&sb);
	*headers_r = h;
	*count_r = k;
}

const char *message_headers_find(const struct message_header *h, int n, const char *name, int raw)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return raw ? h[i].raw : h[i].value;
	return NULL;
}

static const struct {
	const char *name;
	GMimeAddressType type;
} addr_types[6] = {
	{ "From", GMIME_ADDRESS_TYPE_FROM }, { "Sender", GMIME_ADDRESS_TYPE_SENDER },
	{ "Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO }, { "To", GMIME_ADDRESS_TYPE_TO },
	{ "Cc", GMIME_ADDRESS_TYPE_CC }, { "Bcc", GMIME_ADDRESS_TYPE_BCC },
};

static const char *utf8_dup(struct arena *a, const char *s)
{
	struct sbuf sb = SBUF_INIT;
	const char *r;

	if (!s)
		return "";
	if (g_utf8_validate(s, -1, NULL))
		return arena_strdup(a, s);
	message_utf8_or_latin1(s, strlen(s), &sb);
	r = arena_strdup(a, sb.buf);
	sbuf_release(&sb);
	return r;
}

static void add_address(struct message *m, struct message_addr_list *l, size_t *alloc,
			InternetAddress *ia, const char *group)
{
	struct message_address *ad;

	if (l->count == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 4;
		struct message_address *n = arena_calloc(m->top->arena, na, sizeof(*n));

		if (l->count)
			memcpy(n, l->addrs, l->count * sizeof(*n));
		l->addrs = n;
		*alloc = na;
	}
	ad = &l->addrs[l->count++];
	ad->name = utf8_dup(m->top->arena, internet_address_get_name(ia));
	ad->addr = INTERNET_ADDRESS_IS_MAILBOX(ia)
		? utf8_dup(m->top->arena, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))
		: "";
	ad->group = group ? utf8_dup(m->top->arena, group) : NULL;
}

static void fill_addresses(struct message *m)
{
	size_t t;

	for (t = 0; t < 6; t++) {
		struct message_addr_list *l = &m->addr_lists[t];
		/* The first header only: a second From: (a mangled mbox line)
		 * must not be merged into the first. */
		const char *raw = message_headers_find(m->headers, m->nheaders, addr_types[t].name, 1);
		InternetAddressList *list = raw ? internet_address_list_parse(NULL, raw) : NULL;
		int i, n = list ? internet_address_list_length(list) : 0;
		size_t alloc = 0;

		l->name = addr_types[t].name;
		for (i = 0; i < n; i++) {
			InternetAddress *ia = internet_address_list_get_address(list, i);

			if (INTERNET_ADDRESS_IS_GROUP(ia)) {
				InternetAddressList *mem =
					internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
				int j, nm = mem ? internet_address_list_length(mem) : 0;
				const char *gname = internet_address_get_name(ia);

				if (nm == 0)	/* keep an empty group visible */
					add_address(m, l, &alloc, ia, gname ? gname : "");
				/* Groups cannot nest (RFC 5322): members that are
				 * groups are listed by name only, no recursion. */
				for (j = 0; j < nm; j++)
					add_address(m, l, &alloc, internet_address_list_get_address(mem, j),
						    gname ? gname : "");
			} else if (INTERNET_ADDRESS_IS_MAILBOX(ia) &&
				   internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)) &&
				   *internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))) {
				/* a phrase without an addr-spec is junk, dropped */
				add_address(m, l, &alloc, ia, NULL);
			}
		}
		if (list)
			g_object_unref(list);
	}
}

/* An id without <>, from "<a@b>" or a bare "a@b". */
static const char *clean_id(struct arena *a, const char *raw)
{
	const char *s, *e;
	char *id;

	if (!raw)
		return NULL;
	id = g_mime_utils_decode_message_id(raw);
	if (id && *id) {
		const char *r = arena_strdup(a, id);

		g_free(id);
		return r;
	}
	g_free(id);
	s = raw + strspn(raw, " \t<");
	e = s + strcspn(s, "> \t");
	return e > s ? arena_strndup(a, s, e - s) : NULL;
}

void message_fill_envelope(struct message *m, GMimeMessage *gm)
{
	struct arena *a = m->top->arena;
	GDateTime *dt;
	const char *raw;

	message_read_headers(m->top, g_mime_object_get_header_list(GMIME_OBJECT(gm)),
			     &m->headers, &m->nheaders);
	fill_addresses(m);
	/* The first Date header (GMime keeps the last one). */
	raw = message_headers_find(m->headers, m->nheaders, "Date", 1);
	dt = raw ? g_mime_utils_header_decode_date(raw) : NULL;
	if (dt) {
		m->has_date = 1;
		m->date = (time_t)g_date_time_to_unix(dt);
		m->tz_offset = (int)(g_date_time_get_utc_offset(dt) / G_TIME_SPAN_SECOND);
		g_date_time_unref(dt);
	}
	m->msgid = clean_id(a, message_headers_find(m->headers, m->nheaders, "Message-ID", 1));
	m->in_reply_to = clean_id(a, message_headers_find(m->headers, m->nheaders, "In-Reply-To", 1));
	raw = message_headers_find(m->headers, m->nheaders, "References", 1);
	if (raw) {
		GMimeReferences *refs = g_mime_references_parse(NULL, raw);
		int i, n = refs ? g_mime_references_length(refs) : 0;

		m->refs = arena_calloc(a, n + 1, sizeof(*m->refs));
		for (i = 0; i < n; i++)
			m->refs[m->nrefs++] = arena_strdup(a, g_mime_references_get_message_id(refs, i));
		if (refs)
			g_mime_references_free(refs);
	}
}

static void warning_cb(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	struct message *m = data;
	const char *d = NULL;

	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART: d = "malformed-multipart"; break;
	case GMIME_WARN_TRUNCATED_MESSAGE: d = "truncated-message"; break;
	case GMIME_WARN_MALFORMED_MESSAGE: d = "malformed-message"; break;
	case GMIME_CRIT_INVALID_HEADER_NAME: d = "invalid-header-name"; break;
	case GMIME_CRIT_CONFLICTING_HEADER: d = "conflicting-header"; break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: d = "missing-boundary"; break;
	case GMIME_CRIT_NESTING_OVERFLOW: d = "nesting-overflow"; break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: d = "part-without-headers-or-content"; break;
	case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: d = "invalid-rfc2047"; break;
	default: break;
	}
	(void)offset; (void)item;
	if (d)
		message_add_defect(m->defects, &m->ndefects, d);
}

/* data is the caller's (kept until message_free) when alloc is NULL, else
 * alloc is a malloc'd buffer holding it that the message now owns. */
static struct message *parse(const char *data, size_t len, char *alloc,
			     const struct message_limits *lim, const char **error_r)
{
	static const struct message_limits deflim = MESSAGE_LIMITS_DEFAULT;
	struct message *m;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeParserOptions *opts;

	message_init();
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (len >= 5 && memcmp(data, "From ", 5) == 0) {	/* mbox envelope line */
		const char *nl = memchr(data, '\n', len);

		if (nl) {
			len -= nl + 1 - data;
			data = nl + 1;
		}
	}
	if (len >= G_MAXUINT) {	/* GByteArray's bound; far over max_message_size */
		*error_r = "message too large";
		free(alloc);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->top = m;
	m->arena = arena_new(16384);
	m->lim = lim ? *lim : deflim;
	m->raw = data;
	m->raw_alloc = alloc;
	m->raw_len = len;

	/* GMime reads raw itself (lent, not copied) unless the caps cut it. */
	GByteArray *view = message_cap_view(m->raw, len, &m->lim, m->defects, &m->ndefects);
	if (view) {
		stream = g_mime_stream_mem_new_with_byte_array(view);
	} else {
		/* The stream does not own the array, and GMime only reads. */
		m->raw_array = g_byte_array_new_take((guint8 *)(uintptr_t)m->raw, len);
		stream = g_mime_stream_mem_new_with_byte_array(m->raw_array);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
		view = m->raw_array;
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	opts = g_mime_parser_options_clone(g_mime_parser_options_get_default());
	g_mime_parser_options_set_warning_callback(opts, warning_cb, m);
	m->gm = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	if (!m->gm) {
		/* No header block GMime accepts (text from the first byte):
		 * read it as a message with no headers, as Python does. */
		GByteArray *body = g_byte_array_sized_new(view->len + 1);

		g_byte_array_append(body, (const guint8 *)"\n", 1);
		g_byte_array_append(body, view->data, view->len);
		g_object_unref(stream);
		stream = g_mime_stream_mem_new_with_byte_array(body);
		parser = g_mime_parser_new_with_stream(stream);
		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		m->gm = g_mime_parser_construct_message(parser, opts);
		g_object_unref(parser);
		message_add_defect(m->defects, &m->ndefects, "missing-header-block");
	}
	g_object_unref(stream);
	if (!m->gm) {
		g_mime_parser_options_free(opts);
		*error_r = "not a message";
		message_free(&m);
		return NULL;
	}
	message_fill_envelope(m, m->gm);
	message_build_tree(m);
	g_mime_parser_options_free(opts);
	return m;
}

struct message *message_parse(const char *data, size_t len,
			      const struct message_limits *lim, const char **error_r)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	copy[len] = '\0';
	return parse(copy, len, copy, lim, error_r);
}

struct message *message_parse_borrowed(const char *data, size_t len,
				       const struct message_limits *lim, const char **error_r)
{
	return parse(data, len, NULL, lim, error_r);
}

struct message *message_parse_file(const char *path, const struct message_limits *lim,
				   int *errno_r, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");

	if (errno_r)
		*errno_r = 0;
	if (!f)
		goto fail;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sbuf_add(&sb, buf, n);
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	size_t len;
	char *data = sbuf_detach(&sb, &len);

	return parse(data, len, data, lim, error_r);
fail:
	if (errno_r)
		*errno_r = errno;
	*error_r = strerror(errno);
	sbuf_release(&sb);
	return NULL;
}

void message_free(struct message **msgp)
{
	struct message *m = *msgp;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nparts; i++)
		free(((struct message_part *)m->parts[i])->content);
	free(m->parts);
	if (m->gm)
		g_object_unref(m->gm);	/* and with it the streams reading raw */
	if (m->raw_array)
		g_byte_array_free(m->raw_array, FALSE);
	arena_free(&m->arena);
	free(m->raw_alloc);
	free(m);
	*msgp = NULL;
}

const char *message_raw(const struct message *msg, size_t *len_r)
{
	*len_r = msg->top->raw_len;
	return msg->top->raw;
}

const char *message_header(const struct message *msg, const char *name)
{
	return message_headers_find(msg->headers, msg->nheaders, name, 0);
}

const char *message_header_raw(const struct message *msg, const char *name)
{
	return message_headers_find(msg->headers, msg->nheaders, name, 1);
}

int message_header_count(const struct message *msg)
{
	return msg->nheaders;
}

int message_header_at(const struct message *msg, int i, const char **name_r,
		      const char **value_r)
{
	if (i < 0 || i >= msg->nheaders)
		return -1;
	*name_r = msg->headers[i].name;
	*value_r = msg->headers[i].value;
	return 0;
}

int message_header_raw_at(const struct message *msg, int i, const char **name_r,
			  const char **raw_r)
{
	if (i < 0 || i >= msg->nheaders)
		return -1;
	*name_r = msg->headers[i].name;
	*raw_r = msg->headers[i].raw;
	return 0;
}

size_t message_addresses(const struct message *msg, const char *name,
			 const struct message_address **addrs_r)
{
	size_t t;

	for (t = 0; t < 6; t++)
		if (msg->addr_lists[t].name && strcasecmp(msg->addr_lists[t].name, name) == 0) {
			*addrs_r = msg->addr_lists[t].addrs;
			return msg->addr_lists[t].count;
		}
	*addrs_r = NULL;
	return 0;
}

int message_date(const struct message *msg, time_t *t_r, int *tz_offset_r)
{
	if (!msg->has_date)
		return -1;
	*t_r = msg->date;
	*tz_offset_r = msg->tz_offset;
	return 0;
}

const char *message_id(const struct message *msg)
{
	return msg->msgid;
}

const char *message_in_reply_to(const struct message *msg)
{
	return msg->in_reply_to;
}

size_t message_references(const struct message *msg, const char *const **ids_r)
{
	*ids_r = (const char *const *)msg->refs;
	return msg->nrefs;
}

const char *const *message_defects(const struct message *msg)
{
	return msg->defects;
}
