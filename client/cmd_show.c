/* cmd_show.c: `loft show [--format=text|json|raw] [--part N] FILE...`.
 *
 * Prints a message as the store's message model sees it.  The JSON shape is
 * notmuch show --format=json's message object where one exists, plus the
 * fields the golden tests compare (section, boundary, decoded-sha256,
 * envelope, bodystructure...).  Several FILEs may be given (used by the
 * corpus test to avoid a process per file); the hidden --timing flag prints
 * "# MS FILE" on stderr for each.  Recursion over the part tree here is
 * bounded by the model's depth limit. */
#include "client/commands.h"
#include "lib/json.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "store/message.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

enum show_format { SHOW_TEXT, SHOW_JSON, SHOW_RAW };

static void json_addresses(struct json *j, const struct message *m, const char *hdr)
{
	const struct message_address *a;
	size_t n = message_addresses(m, hdr, &a), i;

	json_array_begin(j);
	for (i = 0; i < n; i++) {
		json_object_begin(j);
		json_key(j, "name");
		json_string(j, a[i].name);
		json_key(j, "address");
		json_string(j, a[i].addr);
		if (a[i].group) {
			json_key(j, "group");
			json_string(j, a[i].group);
		}
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_defects(struct json *j, const char *const *d)
{
	json_array_begin(j);
	for (; d && *d; d++)
		json_string(j, *d);
	json_array_end(j);
}

static void format_time(char *buf, size_t size, time_t t, int off)
{
	time_t lt = t + off;
	struct tm tm;
	int a = off < 0 ? -off : off;

	gmtime_r(&lt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), size - strlen(buf), "%c%02d:%02d", off < 0 ? '-' : '+',
		 a / 3600, (a / 60) % 60);
}

static void json_message(struct json *j, const struct message *m, const char *filename, int top);

/* JSON levels a nested part needs below it before the writer's bound: an
 * embedded message's object, its body array, address arrays and a part's
 * defects.  Deeper parts are flattened, so any model depth limit fits. */
#define JSON_PART_ROOM 16

static void json_part_fields(struct json *j, const struct message_part *p)
{
	json_key(j, "id");
	json_int(j, message_part_id(p));
	json_key(j, "section");
	json_string(j, message_part_section(p));
	json_key(j, "content-type");
	json_string(j, message_part_type(p));
	json_key(j, "declared-content-type");
	json_string(j, message_part_declared_type(p));
	if (message_part_charset(p)) {
		json_key(j, "content-charset");
		json_string(j, message_part_charset(p));
	}
	if (message_part_disposition(p)) {
		json_key(j, "content-disposition");
		json_string(j, message_part_disposition(p));
	}
	if (message_part_filename(p)) {
		json_key(j, "filename");
		json_string(j, message_part_filename(p));
	}
	if (message_part_encoding(p)) {
		json_key(j, "content-transfer-encoding");
		json_string(j, message_part_encoding(p));
	}
	if (message_part_boundary(p)) {
		json_key(j, "boundary");
		json_string(j, message_part_boundary(p));
	}
	json_key(j, "defects");
	json_defects(j, message_part_defects(p));
}

static void json_leaf(struct json *j, const struct message_part *p)
{
	json_key(j, "content-length");
	json_int(j, (long long)message_part_decoded_size(p));
	json_key(j, "decoded-sha256");
	json_string(j, message_part_sha256(p));
	if (strncmp(message_part_type(p), "text/", 5) == 0 && !message_part_is_attachment(p)) {
		size_t len;
		char *t = message_part_text(p, 0, &len);

		json_key(j, "content");
		json_string_len(j, t, len);
		free(t);
	}
}

static bool is_container(const struct message_part *p, size_t nk)
{
	return (message_part_embedded(p) && nk == 1) || message_part_is_multipart(p);
}

/* The leaf parts under p, depth-first, one after the other in the current
 * array (as the text mode shows them).  Recursion is bounded by the model's
 * depth limit. */
static void json_flat(struct json *j, const struct message_part *p)
{
	const struct message_part *const *kids;
	size_t nk = message_part_children(p, &kids), i;

	for (i = 0; i < nk; i++) {
		const struct message_part *const *gk;

		if (is_container(kids[i], message_part_children(kids[i], &gk))) {
			json_flat(j, kids[i]);
			continue;
		}
		json_object_begin(j);
		json_part_fields(j, kids[i]);
		json_leaf(j, kids[i]);
		json_object_end(j);
	}
}

static void json_part(struct json *j, const struct message_part *p)
{
	const struct message_part *const *kids;
	size_t nk = message_part_children(p, &kids), i;

	json_object_begin(j);
	json_part_fields(j, p);
	if (is_container(p, nk) && j->depth + JSON_PART_ROOM >= JSON_MAX_DEPTH) {
		json_key(j, "flattened");
		json_bool(j, 1);
		json_key(j, "content");
		json_array_begin(j);
		json_flat(j, p);
		json_array_end(j);
	} else if (message_part_embedded(p) && nk == 1) {
		json_key(j, "content");
		json_array_begin(j);
		json_message(j, message_part_embedded(p), NULL, 0);
		json_array_end(j);
	} else if (message_part_is_multipart(p)) {
		json_key(j, "content");
		json_array_begin(j);
		for (i = 0; i < nk; i++)
			json_part(j, kids[i]);
		json_array_end(j);
	} else {
		json_leaf(j, p);
	}
	json_object_end(j);
}

static const struct message_part *first_text_plain(const struct message *m)
{
	const struct message_part *const *parts;
	size_t n = message_parts(m, &parts), i;

	for (i = 0; i < n; i++)
		if (strcmp(message_part_type(parts[i]), "text/plain") == 0 &&
		    !message_part_is_multipart(parts[i]) &&
		    !(message_part_disposition(parts[i]) &&
		      strcmp(message_part_disposition(parts[i]), "attachment") == 0))
			return parts[i];
	return NULL;
}

static void json_message(struct json *j, const struct message *m, const char *filename, int top)
{
	static const char *hdrs[] = { "Subject", "From", "To", "Cc", "Bcc", "Reply-To", "Date" };
	const char *const *refs;
	size_t nrefs = message_references(m, &refs), i;
	time_t t;
	int off;
	struct sbuf sb = SBUF_INIT;
	int has_date = message_date(m, &t, &off) == 0;

	json_object_begin(j);
	if (top) {
		json_key(j, "id");
		json_string(j, message_id(m));
		json_key(j, "filename");
		json_array_begin(j);
		json_string(j, filename);
		json_array_end(j);
	}
	json_key(j, "timestamp");
	if (has_date)
		json_int(j, (long long)t);
	else
		json_null(j);
	json_key(j, "headers");
	json_object_begin(j);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		if (message_header(m, hdrs[i])) {
			json_key(j, hdrs[i]);
			json_string(j, message_header(m, hdrs[i]));
		}
	json_object_end(j);
	json_key(j, "body");
	json_array_begin(j);
	json_part(j, message_root(m));
	json_array_end(j);

	json_key(j, "from");
	json_addresses(j, m, "From");
	json_key(j, "to");
	json_addresses(j, m, "To");
	json_key(j, "cc");
	json_addresses(j, m, "Cc");
	json_key(j, "date");
	if (message_header_raw(m, "Date")) {
		char buf[64];

		json_object_begin(j);
		json_key(j, "header");
		json_string(j, message_header_raw(m, "Date"));
		json_key(j, "timestamp");
		if (has_date) {
			json_int(j, (long long)t);
			json_key(j, "tz_offset");
			json_int(j, off);
			format_time(buf, sizeof(buf), t, off);
			json_key(j, "iso8601");
			json_string(j, buf);
			format_time(buf, sizeof(buf), t, 0);
			json_key(j, "utc");
			json_string(j, buf);
		} else {
			json_null(j);
		}
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "message-id");
	json_string(j, message_header_raw(m, "Message-ID"));
	json_key(j, "in-reply-to");
	json_string(j, message_header_raw(m, "In-Reply-To"));
	json_key(j, "references");
	json_array_begin(j);
	for (i = 0; i < nrefs; i++)
		json_string(j, refs[i]);
	json_array_end(j);
	json_key(j, "envelope");
	message_imap_envelope(m, &sb);
	json_string_len(j, sb.buf, sb.len);
	if (top) {
		const struct message_part *tp = first_text_plain(m);

		sbuf_reset(&sb);
		message_imap_bodystructure(m, 1, &sb);
		json_key(j, "bodystructure");
		json_string_len(j, sb.buf, sb.len);
		json_key(j, "first-text-plain");
		if (tp) {
			size_t len;
			char *txt = message_part_text(tp, 0, &len);

			json_string_len(j, txt, len);
			free(txt);
		} else {
			json_null(j);
		}
	}
	json_key(j, "defects");
	json_defects(j, message_defects(m));
	json_object_end(j);
	sbuf_release(&sb);
}

/* Crude HTML to text: tags dropped, a few entities, <br>/<p> as newlines. */
static void strip_html(const char *s, size_t n, struct sbuf *out)
{
	static const struct { const char *ent, *rep; } ents[] = {
		{ "&nbsp;", " " }, { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&#39;", "'" },
	};
	size_t i = 0, k;

	while (i < n) {
		if (s[i] == '<') {
			const char *e = memchr(s + i, '>', n - i);
			size_t tl = e ? (size_t)(e - (s + i)) : n - i;

			if ((tl >= 3 && strncasecmp(s + i, "<br", 3) == 0) ||
			    (tl >= 2 && strncasecmp(s + i, "<p", 2) == 0 && (tl == 2 || s[i + 2] == ' ')) ||
			    (tl >= 4 && strncasecmp(s + i, "<div", 4) == 0))
				sbuf_addch(out, '\n');
			i += tl + 1;
			continue;
		}
		if (s[i] == '&') {
			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
				if (strncasecmp(s + i, ents[k].ent, strlen(ents[k].ent)) == 0)
					break;
			if (k < sizeof(ents) / sizeof(ents[0])) {
				sbuf_addstr(out, ents[k].rep);
				i += strlen(ents[k].ent);
				continue;
			}
		}
		if (s[i] != '\r')
			sbuf_addch(out, s[i]);
		i++;
	}
}

static void text_body(const struct message_part *p, unsigned depth, struct sbuf *out)
{
	const struct message_part *const *kids;
	size_t nk = message_part_children(p, &kids), i;
	const char *type = message_part_type(p);

	if (depth > 200 || message_part_is_attachment(p))
		return;
	if (strcmp(type, "multipart/alternative") == 0 && nk > 0) {
		const struct message_part *pick = kids[nk - 1];

		for (i = 0; i < nk; i++)
			if (strcmp(message_part_type(kids[i]), "text/plain") == 0) {
				pick = kids[i];
				break;
			}
		text_body(pick, depth + 1, out);
		return;
	}
	if (message_part_is_multipart(p)) {
		for (i = 0; i < nk; i++)
			text_body(kids[i], depth + 1, out);
		return;
	}
	if (strncmp(type, "text/", 5) == 0) {
		size_t len;
		char *t = message_part_text(p, 1, &len);

		if (out->len && out->buf[out->len - 1] != '\n')
			sbuf_addch(out, '\n');
		if (strcmp(type, "text/html") == 0) {
			strip_html(t, len, out);
		} else {
			for (i = 0; i < len; i++)	/* CRLF to LF for the terminal */
				if (!(t[i] == '\r' && i + 1 < len && t[i + 1] == '\n'))
					sbuf_addch(out, t[i]);
		}
		free(t);
	}
}

/* Text from the message is sanitised (lib/sanitize.h): headers and file
 * names are one line each, the body keeps its newlines and tabs. */
static void show_text(const struct message *m, FILE *f)
{
	static const char *hdrs[] = { "Date", "From", "To", "Cc", "Subject" };
	const struct message_part *const *parts;
	size_t n = message_parts(m, &parts), i;
	struct sbuf body = SBUF_INIT, out = SBUF_INIT;

	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		if (message_header(m, hdrs[i])) {
			sbuf_addf(&out, "%s: ", hdrs[i]);
			sanitize_add(&out, message_header(m, hdrs[i]),
				     strlen(message_header(m, hdrs[i])), SANITIZE_LINE);
			sbuf_addch(&out, '\n');
		}
	sbuf_addch(&out, '\n');
	text_body(message_root(m), 0, &body);
	sanitize_add(&out, body.buf, body.len, 0);
	if (body.len && body.buf[body.len - 1] != '\n')
		sbuf_addch(&out, '\n');
	sbuf_release(&body);
	for (i = 0; i < n; i++) {
		const char *name = message_part_filename(parts[i]);

		if (!message_part_is_attachment(parts[i]))
			continue;
		sbuf_addf(&out, "[%s] ", message_part_section(parts[i]));
		sanitize_add(&out, message_part_type(parts[i]), strlen(message_part_type(parts[i])),
			     SANITIZE_LINE);
		sbuf_addch(&out, ' ');
		sanitize_add(&out, name, name ? strlen(name) : 0, SANITIZE_LINE);
		sbuf_addf(&out, " %zu bytes\n", message_part_decoded_size(parts[i]));
	}
	fwrite(out.buf, 1, out.len, f);
	sbuf_release(&out);
}

static int show_one(const char *file, enum show_format fmt, const char *section)
{
	const char *error;
	int err;
	struct message *m = message_parse_file(file, NULL, &err, &error);
	int status = 0;

	if (!m) {
		fprintf(stderr, "loft show: %s: %s\n", file, error);
		return err ? EX_NOINPUT : EX_DATAERR;
	}
	if (section) {
		const struct message_part *p = message_find_part(m, section);
		size_t len;
		const char *c;

		if (!p) {
			fprintf(stderr, "loft show: %s: no part %s\n", file, section);
			status = EX_USAGE;
		} else {
			c = message_part_content(p, &len);
			fwrite(c, 1, len, stdout);
		}
	} else if (fmt == SHOW_RAW) {
		size_t len;
		const char *raw = message_raw(m, &len);

		fwrite(raw, 1, len, stdout);
	} else if (fmt == SHOW_JSON) {
		struct sbuf sb = SBUF_INIT;
		struct json j;

		json_init(&j, &sb, 0);
		json_message(&j, m, file, 1);
		sbuf_addch(&sb, '\n');
		fwrite(sb.buf, 1, sb.len, stdout);
		sbuf_release(&sb);
	} else {
		show_text(m, stdout);
	}
	message_free(&m);
	return status;
}

static int usage(void)
{
	fprintf(stderr, "usage: loft show [--format=text|json|raw] [--part N] FILE...\n");
	return EX_USAGE;
}

int cmd_show(struct loft_ctx *ctx, int argc, char **argv)
{
	enum show_format fmt = SHOW_TEXT;
	const char *section = NULL, *f = NULL;
	int i, nfiles = 0, timing = 0, status = 0, first = 0;

	(void)ctx;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--format") == 0 && i + 1 < argc)
			f = argv[++i];
		else if (strncmp(a, "--format=", 9) == 0)
			f = a + 9;
		else if (strcmp(a, "--part") == 0 && i + 1 < argc)
			section = argv[++i];
		else if (strncmp(a, "--part=", 7) == 0)
			section = a + 7;
		else if (strcmp(a, "--timing") == 0)
			timing = 1;
		else if (a[0] == '-' && a[1] != '\0')
			return usage();
		else
			break;
		if (f) {
			if (strcmp(f, "text") == 0) fmt = SHOW_TEXT;
			else if (strcmp(f, "json") == 0) fmt = SHOW_JSON;
			else if (strcmp(f, "raw") == 0) fmt = SHOW_RAW;
			else return usage();
			f = NULL;
		}
	}
	first = i;
	nfiles = argc - first;
	if (nfiles < 1 || (section && (!*section || strspn(section, "0123456789.") != strlen(section))))
		return usage();
	for (i = first; i < argc; i++) {
		struct timespec t0, t1;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = show_one(argv[i], fmt, section);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		fflush(stdout);
		if (timing)
			fprintf(stderr, "# %.3f %s\n", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e6, argv[i]);
		if (r && !status)
			status = r;
	}
	message_deinit();
	return status;
}
