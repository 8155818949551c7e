/* sort: the index orders (see client/sort.h).
 *
 * String keys are folded once into one buffer, and the first eight folded
 * bytes are packed big-endian into an integer beside each entry, so most
 * comparisons are one integer compare without touching the strings (which
 * would be a cache miss each for 100,000 messages).  The integer keys are
 * ordered by an LSD radix sort, which is stable by construction and several
 * times faster than qsort's indirect calls; runs of equal string prefixes
 * are then finished with strcmp. */
#include "client/sort.h"
#include "client/thread.h"

#include "lib/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	uint64_t key;		/* the number, or the first 8 folded bytes */
	uint32_t idx;
	uint32_t off;		/* string keys: offset of the folded rest */
};

struct ctx {
	const char *text;	/* folded strings, NUL-separated */
	int dir;		/* 1, or -1 for reverse */
};

static int cmp_rest(const void *pa, const void *pb, void *pc)
{
	const struct entry *a = pa, *b = pb;
	const struct ctx *c = pc;
	int r = strcmp(c->text + a->off, c->text + b->off);

	if (r != 0)
		return r < 0 ? -c->dir : c->dir;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Stable LSD radix sort on key, one byte a pass; a pass where every
 * entry has the same byte is skipped (the high bytes of dates). */
static void radix_sort(struct entry *e, size_t n)
{
	struct entry *tmp = xmalloc((n ? n : 1) * sizeof(*tmp)), *src = e, *dst = tmp;

	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t count[256] = { 0 };

		for (size_t i = 0; i < n; i++)
			count[(src[i].key >> shift) & 0xff]++;
		if (n == 0 || count[(src[0].key >> shift) & 0xff] == n)
			continue;
		size_t pos = 0;

		for (unsigned d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
		struct entry *t = src;

		src = dst;
		dst = t;
	}
	if (src != e)
		memcpy(e, src, n * sizeof(*e));
	free(tmp);
}

/* Next 8 bytes of the folded string at off, advancing off past them. */
static uint64_t next_chunk(const char *text, uint32_t *off)
{
	uint64_t k = 0;
	const char *p = text + *off;
	unsigned i;

	for (i = 0; i < 8 && p[i] != '\0'; i++)
		k |= (uint64_t)(unsigned char)p[i] << (56 - 8 * i);
	*off += i;
	return k;
}

/* Orders the runs of equal prefixes: small runs by strcmp, large ones
 * (many subjects share their first 8 bytes) by radix on the next 8 bytes,
 * with an explicit work stack instead of recursion. */
static void finish_runs(struct entry *e, size_t n, const struct ctx *c)
{
	size_t cap = 64, sp = 0, *stack = xmalloc(cap * sizeof(*stack));

	stack[sp++] = 0;
	stack[sp++] = n;
	while (sp > 0) {
		size_t hi = stack[--sp], lo = stack[--sp];

		for (size_t i = lo; i < hi;) {
			size_t j = i + 1;

			while (j < hi && e[j].key == e[i].key)
				j++;
			if (j - i > 1 && c->text[e[i].off] != '\0' &&
			    j - i <= 16) {
				qsort_r(e + i, j - i, sizeof(*e), cmp_rest, (void *)c);
			} else if (j - i > 1) {
				/* A string that ends here gets a zero key and so
				 * sorts before the longer ones. */
				for (size_t k = i; k < j; k++) {
					e[k].key = next_chunk(c->text, &e[k].off);
					if (c->dir < 0)
						e[k].key = ~e[k].key;
				}
				radix_sort(e + i, j - i);
				bool more = false;

				for (size_t k = i; k < j && !more; k++)
					more = c->text[e[k].off] != '\0';
				if (more) {
					if (sp + 2 > cap) {
						cap *= 2;
						stack = xreallocarray(stack, cap, sizeof(*stack));
					}
					stack[sp++] = i;
					stack[sp++] = j;
				}
			}
			i = j;
		}
	}
	free(stack);
}

/* Appends s folded to the buffer; returns the 8-byte prefix.  The rest
 * (after the prefix) is what strcmp sees. */
static uint64_t fold(const char *s, size_t len, char **buf, size_t *used, size_t *cap,
		     uint32_t *off_r)
{
	uint64_t prefix = 0;
	size_t i;

	if (*used + len + 1 > *cap) {
		while (*used + len + 1 > *cap)
			*cap *= 2;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	for (i = 0; i < len && i < 8; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		prefix |= (uint64_t)ch << (56 - 8 * i);
	}
	*off_r = (uint32_t)*used;
	for (; i < len; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		(*buf)[(*used)++] = ch;
	}
	(*buf)[(*used)++] = '\0';
	return prefix;
}

static void sort_threads(const struct thread *t, size_t n, bool reverse, uint32_t *order)
{
	if (!reverse) {
		memcpy(order, t->order, n * sizeof(*order));
		return;
	}
	/* Threads are contiguous blocks of the display order: copy them
	 * back to front. */
	size_t out = 0, end = n;

	while (end > 0) {
		uint32_t top = t->nodes[t->order[end - 1]].root;
		uint32_t start = t->nodes[top].row;

		memcpy(order + out, t->order + start, (end - start) * sizeof(*order));
		out += end - start;
		end = start;
	}
}

void sort_messages(const struct sort_input *in, size_t n, enum sort_key key,
		   unsigned flags, const struct thread *t, uint32_t *order)
{
	struct ctx c = { NULL, flags & SORT_REVERSE ? -1 : 1 };
	struct entry *e;
	char *buf = NULL;
	size_t used = 0, cap = 4096;

	if (key == SORT_THREADS) {
		sort_threads(t, n, flags & SORT_REVERSE, order);
		return;
	}
	e = xmalloc((n ? n : 1) * sizeof(*e));
	if (key == SORT_FROM || key == SORT_SUBJECT)
		buf = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		const struct sort_input *m = &in[i];
		const char *s;
		size_t len;

		e[i].idx = (uint32_t)i;
		e[i].off = 0;
		switch (key) {
		case SORT_DATE:
			/* Offset so that negative dates order below positive ones. */
			e[i].key = (uint64_t)m->date ^ (1ULL << 63);
			break;
		case SORT_SIZE:
			e[i].key = m->size;
			break;
		case SORT_FROM:
			s = m->from_name && m->from_name[0] ? m->from_name
							    : m->from_addr ? m->from_addr : "";
			/* Quotes and spaces a display name may still start with. */
			while (*s == '"' || *s == '\'' || *s == ' ')
				s++;
			e[i].key = fold(s, strlen(s), &buf, &used, &cap, &e[i].off);
			break;
		case SORT_SUBJECT:
			len = thread_subject_normalize(m->subject, flags & SORT_STRIP_TAGS, &s,
						       NULL);
			e[i].key = fold(s, len, &buf, &used, &cap, &e[i].off);
			break;
		case SORT_THREADS:
			break;
		}
	}
	if (flags & SORT_REVERSE) {
		for (size_t i = 0; i < n; i++)
			e[i].key = ~e[i].key;
	}
	radix_sort(e, n);
	c.text = buf;
	if (buf != NULL)
		finish_runs(e, n, &c);
	for (size_t i = 0; i < n; i++)
		order[i] = e[i].idx;
	free(buf);
	free(e);
}

int sort_key_parse(const char *name, enum sort_key *key_r)
{
	static const struct {
		const char *name;
		enum sort_key key;
	} names[] = {
		{ "date", SORT_DATE }, { "from", SORT_FROM }, { "subject", SORT_SUBJECT },
		{ "size", SORT_SIZE }, { "threads", SORT_THREADS }, { "thread", SORT_THREADS },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (name != NULL && strcasecmp(name, names[i].name) == 0) {
			*key_r = names[i].key;
			return 0;
		}
	}
	return -1;
}
