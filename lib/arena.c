#include "lib/arena.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
	struct block *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct block *head;	/* current block, first in the list */
	size_t block_size;
	size_t used;
};

#define ALIGN alignof(max_align_t)

struct arena *arena_new(size_t block_size)
{
	struct arena *a = xcalloc(1, sizeof(*a));

	a->block_size = block_size ? block_size : 8192;
	return a;
}

static void free_blocks(struct block *b)
{
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
}

void arena_free(struct arena **ap)
{
	if (*ap == NULL)
		return;
	free_blocks((*ap)->head);
	free(*ap);
	*ap = NULL;
}

void arena_clear(struct arena *a)
{
	/* Keep the last block of the list: it has the standard size, while
	 * the head may be an oversized one-off. */
	struct block *keep = NULL, **pp = &a->head;

	while (*pp) {
		if ((*pp)->next == NULL) {
			keep = *pp;
			*pp = NULL;
			break;
		}
		pp = &(*pp)->next;
	}
	free_blocks(a->head);
	a->head = keep;
	if (keep)
		keep->used = 0;
	a->used = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size_t need = (size + ALIGN - 1) & ~(ALIGN - 1);
	struct block *b = a->head;

	if (need < size)
		abort();
	if (b == NULL || b->size - b->used < need) {
		size_t bs = need > a->block_size ? need : a->block_size;

		b = xmalloc(sizeof(*b) + bs);
		b->size = bs;
		b->used = 0;
		if (need > a->block_size && a->head) {
			/* A big one-off: put it behind the current block so the
			 * free space there is not wasted. */
			b->next = a->head->next;
			a->head->next = b;
			b->used = need;
			a->used += size;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->used += size;
	return p;
}

void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		abort();
	void *p = arena_alloc(a, nmemb * size);
	memset(p, 0, nmemb * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, SIZE_MAX);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
