/* thread_text: the text side of threading — message ids in header values,
 * subject normalisation, and the tree drawing (see client/thread.h). */
#include "client/thread.h"

#include "lib/sbuf.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t thread_parse_ids(const char *value,
			void (*fn)(const char *id, size_t len, void *ctx), void *ctx)
{
	size_t count = 0;
	const char *p = value ? strchr(value, '<') : NULL;

	if (value == NULL)
		return 0;
	if (p == NULL) {
		p = value;
		/* No brackets at all (seen from broken gateways): words with '@'. */
		while (*p) {
			while (is_space(*p) || *p == ',')
				p++;
			const char *w = p;

			while (*p && !is_space(*p) && *p != ',')
				p++;
			if (p > w && memchr(w, '@', (size_t)(p - w)) != NULL) {
				fn(w, (size_t)(p - w), ctx);
				count++;
			}
		}
		return count;
	}
	for (; p != NULL; p = strchr(p, '<')) {
		const char *s = p + 1, *e = s;

		/* A '<' before the '>' restarts: "<<id>" or "<junk <id>". */
		while (*e && *e != '>' && *e != '<')
			e++;
		if (*e != '>') {
			if (*e == '\0')
				break;
			p = e;
			continue;
		}
		const char *a = s, *b = e;

		while (a < b && is_space(*a))
			a++;
		while (b > a && is_space(b[-1]))
			b--;
		if (b > a) {
			fn(a, (size_t)(b - a), ctx);
			count++;
		}
		p = e + 1;
	}
	return count;
}

size_t thread_subject_prefix_len(const char *p, bool *reply_r)
{
	static const struct {
		const char *word;
		bool reply;
	} words[] = {
		{ "antw", true }, { "fwd", false }, { "re", true }, { "aw", true },
		{ "sv", true }, { "fw", false },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i].word);
		const char *q = p + wl;

		if (strncasecmp(p, words[i].word, wl) != 0)
			continue;
		/* Counters: Re[2]: Re(2): Re^2: */
		if (*q == '[' || *q == '(') {
			char close = *q == '[' ? ']' : ')';
			const char *d = q + 1;

			while (isdigit((unsigned char)*d))
				d++;
			if (d > q + 1 && *d == close)
				q = d + 1;
		} else if (*q == '^') {
			const char *d = q + 1;

			while (isdigit((unsigned char)*d))
				d++;
			if (d > q + 1)
				q = d;
		}
		if (*q == ' ' && q[1] == ':')
			q++;	/* French "Re :" */
		if (*q != ':')
			continue;
		*reply_r = words[i].reply;
		return (size_t)(q + 1 - p);
	}
	return 0;
}

size_t thread_subject_normalize(const char *subject, bool strip_tags,
				const char **start_r, bool *reply_r)
{
	const char *p = subject ? subject : "";
	bool reply = false;

	for (;;) {
		bool r = false;
		size_t l;

		while (is_space(*p))
			p++;
		if (strip_tags && *p == '[') {
			const char *e = strchr(p, ']');

			/* A tag is short and single-line; "[PATCH v2 3/7]" counts. */
			if (e != NULL && e - p <= 64 && memchr(p, '\n', (size_t)(e - p)) == NULL &&
			    e[1] != '\0') {
				p = e + 1;
				continue;
			}
		}
		l = thread_subject_prefix_len(p, &r);
		if (l == 0)
			break;
		reply |= r;
		p += l;
	}
	size_t len = strlen(p);

	while (len > 0 && is_space(p[len - 1]))
		len--;
	*start_r = p;
	if (reply_r != NULL)
		*reply_r = reply;
	return len;
}

size_t thread_draw_prefix(const struct thread *t, uint32_t msg, unsigned max_levels,
			  struct sbuf *out)
{
	const struct thread_node *nodes = t->nodes;
	unsigned levels = nodes[msg].depth < max_levels ? nodes[msg].depth : max_levels;
	unsigned char last[256];	/* is-last bits of the drawn ancestors */
	int32_t x;
	size_t cells = 0;

	if (levels == 0)
		return 0;
	if (levels > sizeof(last))
		levels = sizeof(last);
	/* last[0] is msg itself, last[k] its k-th ancestor. */
	x = (int32_t)msg;
	for (unsigned k = 0; k < levels; k++) {
		last[k] = (nodes[x].flags & THREAD_LAST) != 0;
		x = nodes[x].parent;
	}
	/* The outermost level (last[levels-1]) is the top's child line; the
	 * top itself draws no column. */
	for (unsigned k = levels - 1; k > 0; k--) {
		sbuf_addstr(out, last[k] ? "  " : "\xe2\x94\x82 ");	/* "│ " */
		cells += 2;
	}
	sbuf_addstr(out, last[0] ? "\xe2\x94\x94\xe2\x94\x80>" : "\xe2\x94\x9c\xe2\x94\x80>");
	return cells + 3;
}

void thread_count(const struct thread *t, uint32_t msg, const uint8_t *unread,
		  size_t *total_r, size_t *unread_r)
{
	const struct thread_node *nd = &t->nodes[msg];
	size_t u = 0;

	if (unread != NULL) {
		for (uint32_t r = nd->row; r < nd->row + nd->size; r++)
			u += unread[t->order[r]] != 0;
	}
	if (total_r != NULL)
		*total_r = nd->size;
	if (unread_r != NULL)
		*unread_r = u;
}
