/* Allocation that never returns NULL: out of memory aborts (STYLE.md, habit 3).
 * Every pointer returned is owned by the caller and released with free(). */
#ifndef LOFT_LIB_XALLOC_H
#define LOFT_LIB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Grows or shrinks p; nmemb * size is checked for overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
