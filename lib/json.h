/* json: a tiny streaming JSON writer onto an sbuf.
 *
 * Calls must follow the JSON grammar (begin/end paired, json_key only
 * directly inside an object); misuse asserts.  Commas are inserted for the
 * caller.  Strings are written as UTF-8 with control characters escaped
 * (\n, \t, \u001f..., and C1 and bidi controls as \u009b, \u202e: see
 * lib/sanitize.h); bytes that are not valid UTF-8 become U+FFFD, so the
 * output is always valid JSON.  The writer owns nothing: the sbuf is the
 * caller's.  Nesting is bounded by JSON_MAX_DEPTH.  Never blocks. */
#ifndef LOFT_LIB_JSON_H
#define LOFT_LIB_JSON_H

#include <stddef.h>

struct sbuf;

#define JSON_MAX_DEPTH 256

struct json {
	struct sbuf *out;
	int depth;
	int after_key;
	unsigned char first[JSON_MAX_DEPTH];	/* nothing written yet at this level */
	unsigned char is_object[JSON_MAX_DEPTH];
	int pretty;				/* newline + tab indent when set */
};

/* Starts writing to out (appended; out not reset). pretty: indent output. */
void json_init(struct json *j, struct sbuf *out, int pretty);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* A member name inside an object; the next call writes its value. */
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s);	/* NULL writes null */
void json_string_len(struct json *j, const char *s, size_t len);
void json_int(struct json *j, long long v);
void json_null(struct json *j);
void json_bool(struct json *j, int v);

/* Appends s (len bytes) as a JSON string literal with quotes to out. */
void json_escape(struct sbuf *out, const char *s, size_t len);

#endif
