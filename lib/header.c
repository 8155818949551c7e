/* header: one splitter of header blocks and fields (see header.h). */
#include "lib/header.h"

#include <string.h>
#include <strings.h>

/* True when the line at p (before end) is empty: "\n" or "\r\n". */
static bool empty_line(const char *p, const char *end)
{
	return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'));
}

/* The start of the line after the one at p, or end. */
static const char *next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

size_t header_block_len(const char *data, size_t len, size_t *body_r)
{
	const char *p = data, *end = data + len;

	while (p < end && !empty_line(p, end))
		p = next_line(p, end);
	if (body_r)
		*body_r = p < end ? (size_t)(next_line(p, end) - data) : len;
	return (size_t)(p - data);
}

void header_iter_init(struct header_iter *it, const char *data, size_t len)
{
	it->p = data;
	it->end = data + header_block_len(data, len, NULL);
}

/* The name of the field starting the line at p (before eol): its length
 * without blanks before the colon, 0 when the line is not a field. */
static size_t field_name(const char *p, const char *eol, const char **colon_r)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p));
	size_t n;

	if (colon == NULL)
		return 0;
	n = (size_t)(colon - p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 33 || (unsigned char)p[i] > 126)
			return 0;
	*colon_r = colon;
	return n;
}

bool header_iter_next(struct header_iter *it, struct header_field *f)
{
	while (it->p < it->end) {
		const char *start = it->p, *colon = NULL, *last;
		size_t n = field_name(start, next_line(start, it->end), &colon);

		/* The field runs on over lines that start with a blank. */
		do {
			last = it->p;
			it->p = next_line(it->p, it->end);
		} while (it->p < it->end && (*it->p == ' ' || *it->p == '\t'));
		if (n == 0)
			continue;	/* not a field (a blank first: its name fails) */
		const char *vend = it->p;

		if (vend > last && vend[-1] == '\n')
			vend--;
		if (vend > last && vend[-1] == '\r')
			vend--;
		*f = (struct header_field){ start, n, colon + 1, (size_t)(vend - colon - 1),
					    start, (size_t)(it->p - start) };
		return true;
	}
	return false;
}

bool header_field_is(const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

int header_unfold(const struct header_field *f, struct sbuf *out)
{
	const char *p = f->value, *end = f->value + f->value_len;
	size_t old = out->len;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (; p < end; p++)
		if (*p != '\r' && *p != '\n' && sbuf_addch(out, *p) < 0) {
			sbuf_setlen(out, old);
			return -1;
		}
	return 0;
}
