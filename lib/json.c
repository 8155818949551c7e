/* json.c: see json.h.  Validation of UTF-8 follows RFC 3629 (no overlongs,
 * no surrogates, nothing above U+10FFFF); each byte of a bad sequence gives
 * one U+FFFD, like the WHATWG decoder's simpler cousin. */
#include "lib/json.h"
#include "lib/sanitize.h"
#include "lib/utf8.h"
#include "lib/sbuf.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

void json_init(struct json *j, struct sbuf *out, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
	j->first[0] = 1;
}

static void indent(struct json *j)
{
	int i;

	if (!j->pretty)
		return;
	sbuf_addch(j->out, '\n');
	for (i = 0; i < j->depth; i++)
		sbuf_addch(j->out, ' ');
}

/* Separator before a value (or a key). */
static void before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	assert(j->depth == 0 || !j->is_object[j->depth]);
	if (!j->first[j->depth])
		sbuf_addch(j->out, ',');
	j->first[j->depth] = 0;
	if (j->depth > 0)
		indent(j);
}

static void open_container(struct json *j, char c, int is_object)
{
	before_value(j);
	assert(j->depth + 1 < JSON_MAX_DEPTH);
	sbuf_addch(j->out, c);
	j->depth++;
	j->first[j->depth] = 1;
	j->is_object[j->depth] = (unsigned char)is_object;
}

static void close_(struct json *j, char c, int is_object)
{
	int empty;

	assert(j->depth > 0 && j->is_object[j->depth] == is_object && !j->after_key);
	empty = j->first[j->depth];
	j->depth--;
	if (!empty)
		indent(j);
	sbuf_addch(j->out, c);
}

void json_object_begin(struct json *j) { open_container(j, '{', 1); }
void json_object_end(struct json *j) { close_(j, '}', 1); }
void json_array_begin(struct json *j) { open_container(j, '[', 0); }
void json_array_end(struct json *j) { close_(j, ']', 0); }

void json_key(struct json *j, const char *key)
{
	assert(j->depth > 0 && j->is_object[j->depth] && !j->after_key);
	if (!j->first[j->depth])
		sbuf_addch(j->out, ',');
	j->first[j->depth] = 0;
	indent(j);
	json_escape(j->out, key, strlen(key));
	sbuf_addstr(j->out, j->pretty ? ": " : ":");
	j->after_key = 1;
}

void json_escape(struct sbuf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	sbuf_addch(out, '"');
	while (i < len) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			uint32_t cp;

			k = utf8_decode(str + i, len - i, &cp);
			if (cp == 0xfffd && k == 1)
				sbuf_add(out, "\xEF\xBF\xBD", 3);
			else if (sanitize_is_control(cp))	/* C1, bidi: not raw to a terminal */
				sbuf_addf(out, "\\u%04x", (unsigned)cp);
			else
				sbuf_add(out, s + i, k);
			i += k;
			continue;
		}
		switch (c) {
		case '"': sbuf_addstr(out, "\\\""); break;
		case '\\': sbuf_addstr(out, "\\\\"); break;
		case '\n': sbuf_addstr(out, "\\n"); break;
		case '\r': sbuf_addstr(out, "\\r"); break;
		case '\t': sbuf_addstr(out, "\\t"); break;
		case '\b': sbuf_addstr(out, "\\b"); break;
		case '\f': sbuf_addstr(out, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7F)
				sbuf_addf(out, "\\u%04x", c);
			else
				sbuf_addch(out, c);
		}
		i++;
	}
	sbuf_addch(out, '"');
}

void json_string(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_string_len(j, s, strlen(s));
}

void json_string_len(struct json *j, const char *s, size_t len)
{
	before_value(j);
	json_escape(j->out, s, len);
}

void json_int(struct json *j, long long v)
{
	before_value(j);
	sbuf_addf(j->out, "%lld", v);
}

void json_null(struct json *j)
{
	before_value(j);
	sbuf_addstr(j->out, "null");
}

void json_bool(struct json *j, int v)
{
	before_value(j);
	sbuf_addstr(j->out, v ? "true" : "false");
}
