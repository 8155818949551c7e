/* sbuf: a growable byte string with git strbuf's invariants.
 *
 *  - sb->buf is never NULL and is always NUL-terminated (also when empty),
 *    so it can be handed to string functions at any moment;
 *  - it may hold NUL bytes: sb->len, not strlen(), is its length;
 *  - an optional hard maximum (sb->max, 0 = none) bounds protocol lines:
 *    an append that would pass it changes nothing and returns -1.
 *
 * Memory: the sbuf owns sb->buf until sbuf_detach() hands it to the caller.
 * Out of memory aborts; nothing here blocks. */
#ifndef LOFT_LIB_SBUF_H
#define LOFT_LIB_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
	char *buf;
	size_t len;
	size_t alloc;	/* 0 while buf points at the shared empty string */
	size_t max;	/* hard maximum of len, 0 for none */
};

extern char sbuf_empty[];
#define SBUF_INIT { sbuf_empty, 0, 0, 0 }

/* max: hard maximum length in bytes, 0 for unbounded. */
void sbuf_init(struct sbuf *sb, size_t max);
/* Frees the buffer and leaves sb as after sbuf_init (max kept). */
void sbuf_release(struct sbuf *sb);
/* Returns the buffer (caller frees it; never NULL) and resets sb. */
char *sbuf_detach(struct sbuf *sb, size_t *len_r);
/* Empties sb, keeping its allocation. */
void sbuf_reset(struct sbuf *sb);
/* Shortens sb to len bytes (len <= sb->len). */
void sbuf_setlen(struct sbuf *sb, size_t len);

/* Makes room for extra more bytes without changing the contents, so that
 * many small appends do not reallocate.  0, or -1 when sb->max would be
 * passed. */
int sbuf_reserve(struct sbuf *sb, size_t extra);
/* Appends; 0 on success, -1 (and sb unchanged) when sb->max would be passed. */
int sbuf_add(struct sbuf *sb, const void *data, size_t len);
int sbuf_addstr(struct sbuf *sb, const char *s);
int sbuf_addch(struct sbuf *sb, int c);
int sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap);

/* Appends the contents of the file at path (blocks on disk I/O).  0, or -1
 * with errno set (EFBIG when the file passes max bytes, 0 = no limit);
 * on failure sb keeps what it had before. */
int sbuf_read_file(struct sbuf *sb, const char *path, size_t max);
/* The same from an open descriptor, until end of file. */
int sbuf_read_fd(struct sbuf *sb, int fd, size_t max);

/* Removes trailing ASCII white space. */
void sbuf_rtrim(struct sbuf *sb);

#endif
