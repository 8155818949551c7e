#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char sbuf_empty[1];

void sbuf_init(struct sbuf *sb, size_t max)
{
	sb->buf = sbuf_empty;
	sb->len = sb->alloc = 0;
	sb->max = max;
}

void sbuf_release(struct sbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	sbuf_init(sb, sb->max);
}

char *sbuf_detach(struct sbuf *sb, size_t *len_r)
{
	char *ret = sb->alloc ? sb->buf : xstrdup("");

	if (len_r)
		*len_r = sb->len;
	sbuf_init(sb, sb->max);
	return ret;
}

void sbuf_reset(struct sbuf *sb)
{
	sbuf_setlen(sb, 0);
}

void sbuf_setlen(struct sbuf *sb, size_t len)
{
	if (len > sb->len)
		abort();
	sb->len = len;
	if (sb->alloc)
		sb->buf[len] = '\0';
}

/* Makes room for extra more bytes plus the NUL; -1 past the maximum. */
static int grow(struct sbuf *sb, size_t extra)
{
	size_t want;

	if (extra > SIZE_MAX - sb->len - 1)
		abort();
	want = sb->len + extra;
	if (sb->max && want > sb->max)
		return -1;
	if (want + 1 <= sb->alloc)
		return 0;
	size_t n = sb->alloc ? sb->alloc : 16;
	while (n < want + 1)
		n = n < SIZE_MAX / 2 ? n * 2 : want + 1;
	if (!sb->alloc) {
		sb->buf = xmalloc(n);
		sb->buf[0] = '\0';
	} else {
		sb->buf = xreallocarray(sb->buf, n, 1);
	}
	sb->alloc = n;
	return 0;
}

int sbuf_reserve(struct sbuf *sb, size_t extra)
{
	return grow(sb, extra);
}

int sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (grow(sb, len) < 0)
		return -1;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int sbuf_addstr(struct sbuf *sb, const char *s)
{
	return sbuf_add(sb, s, strlen(s));
}

int sbuf_addch(struct sbuf *sb, int c)
{
	char ch = (char)c;

	return sbuf_add(sb, &ch, 1);
}

int sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (grow(sb, (size_t)n) < 0)
		return -1;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return ret;
}

void sbuf_rtrim(struct sbuf *sb)
{
	size_t n = sb->len;

	while (n > 0 && (sb->buf[n - 1] == ' ' || sb->buf[n - 1] == '\t' ||
			 sb->buf[n - 1] == '\r' || sb->buf[n - 1] == '\n'))
		n--;
	sbuf_setlen(sb, n);
}

int sbuf_read_fd(struct sbuf *sb, int fd, size_t max)
{
	size_t old = sb->len;
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			return 0;
		if (max && sb->len - old + (size_t)n > max) {
			errno = EFBIG;
			goto fail;
		}
		if (sbuf_add(sb, buf, (size_t)n) < 0) {
			errno = EFBIG;
			goto fail;
		}
	}
fail:;
	int saved = errno;

	sbuf_setlen(sb, old);
	errno = saved;
	return -1;
}

int sbuf_read_file(struct sbuf *sb, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret, saved;

	if (fd < 0)
		return -1;
	ret = sbuf_read_fd(sb, fd, max);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}
