/* arena: a region allocator for per-connection and per-command memory.
 *
 * Allocations are freed all at once by arena_clear() (keep the arena, drop
 * what it holds: the end of a command) or arena_free() (the end of a
 * connection).  Pointers returned are owned by the arena and valid until the
 * next clear or free.  Out of memory aborts; nothing here blocks. */
#ifndef LOFT_LIB_ARENA_H
#define LOFT_LIB_ARENA_H

#include <stddef.h>

struct arena;

/* block_size: size of each underlying block (0 picks 8 KiB). */
struct arena *arena_new(size_t block_size);
/* Frees everything and sets *ap to NULL; NULL is allowed. */
void arena_free(struct arena **ap);
/* Drops every allocation; keeps one block for reuse. */
void arena_clear(struct arena *a);

/* size bytes aligned for any type; never NULL. */
void *arena_alloc(struct arena *a, size_t size);
/* Zeroed nmemb * size bytes (overflow-checked). */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes handed out since the last clear (for limits and tests). */
size_t arena_used(const struct arena *a);

#endif
