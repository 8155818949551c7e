#include "lib/path.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *path_join(const char *base, const char *rel)
{
	size_t bl = strlen(base);

	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	while (*rel == '/')
		rel++;
	if (bl == 1 && base[0] == '/')
		return xasprintf("/%s", rel);
	return xasprintf("%.*s/%s", (int)bl, base, rel);
}

/* Walks the components of rel; -1 on the first unsafe one. */
static int normalise(const char *rel, struct sbuf *out, const char **error_r)
{
	const char *p = rel;

	if (*rel == '\0') {
		*error_r = "empty path";
		return -1;
	}
	if (*rel == '/') {
		*error_r = "absolute path not allowed";
		return -1;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				*error_r = "control character in path";
				return -1;
			}
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*error_r = "'..' not allowed in path";
			return -1;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (out->len)
				sbuf_addch(out, '/');
			sbuf_add(out, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	if (out->len == 0) {
		*error_r = "empty path";
		return -1;
	}
	return 0;
}

bool path_is_safe_relative(const char *rel)
{
	struct sbuf sb = SBUF_INIT;
	const char *err;
	int ret = normalise(rel, &sb, &err);

	sbuf_release(&sb);
	return ret == 0;
}

char *path_join_safe(const char *base, const char *rel, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	char *ret;

	if (normalise(rel, &sb, error_r) < 0) {
		sbuf_release(&sb);
		return NULL;
	}
	ret = path_join(base, sb.buf);
	sbuf_release(&sb);
	return ret;
}

char *path_safe_filename(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *bslash = strrchr(name, '\\');	/* Windows paths in mail */
	struct sbuf sb = SBUF_INIT;

	if (bslash && (!slash || bslash > slash))
		slash = bslash;
	if (slash)
		name = slash + 1;
	while (*name == '.')
		name++;
	for (size_t i = 0, n = strlen(name), l; i < n; i += l) {
		uint32_t cp;

		/* UTF-8 is kept: people name files in their language.  Controls
		 * (C1 and the bidi overrides that make "exe.pdf" of "fdp.exe"
		 * included) and bytes that are not UTF-8 are not. */
		l = utf8_decode(name + i, n - i, &cp);
		if (sanitize_is_control(cp) || (cp == 0xfffd && l == 1) || cp == '/' || cp == '\\')
			sbuf_addch(&sb, '_');
		else
			sbuf_add(&sb, name + i, l);
	}
	if (sb.len == 0)
		sbuf_addstr(&sb, "attachment");
	return sbuf_detach(&sb, NULL);
}

int path_mkdirs(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir);
	int r = 0, saved = 0;

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			r = -1;
			saved = errno;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		r = -1;
		saved = errno;
	}
	free(p);
	if (r < 0)
		errno = saved;
	return r;
}
