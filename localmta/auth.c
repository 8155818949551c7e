/* Device logins with yescrypt hashes; see auth.h. */
#include "localmta/auth.h"
#include "lib/atomic.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file is small (a line per device); anything bigger is not ours. */
#define PASSWD_FILE_MAX (1024 * 1024)

char *auth_passwd_path(const struct config *cfg)
{
	const char *state = config_get(cfg, "state_dir");

	if (state != NULL)
		return xasprintf("%s/passwd", state);
	return xasprintf("%s/.loft/passwd", config_get(cfg, "folder"));
}

bool auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > AUTH_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._@+-", c)))
			return false;
	}
	return true;
}

char *auth_generate_password(void)
{
	/* No 0/O, 1/l/I: read aloud or typed on a phone without doubt. */
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof(alphabet) - 1;
	char *pw = xmalloc(AUTH_PASSWORD_LEN + 1);
	size_t got = 0;

	while (got < AUTH_PASSWORD_LEN) {
		unsigned char r[64];

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			abort();	/* no randomness: never make a weak password */
		for (size_t i = 0; i < sizeof(r) && got < AUTH_PASSWORD_LEN; i++)
			if (r[i] < 256 - 256 % n)	/* rejection: no modulo bias */
				pw[got++] = alphabet[r[i] % n];
	}
	pw[got] = '\0';
	return pw;
}

/* Reads the file; a missing one is empty.  0, or -1 with errno. */
static int read_file(const char *path, struct sbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[8192];
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (out->len + (size_t)n > PASSWD_FILE_MAX) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		sbuf_add(out, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

/* The line of name in text: its hash start and length, or NULL. */
static const char *find_hash(const char *text, const char *name, size_t *len_r, const char **line_r,
			     const char **next_r)
{
	size_t nlen = strlen(name);

	for (const char *line = text; *line != '\0'; ) {
		const char *eol = strchr(line, '\n');
		const char *next = eol ? eol + 1 : line + strlen(line);

		if (strncmp(line, name, nlen) == 0 && line[nlen] == ':') {
			*len_r = (size_t)((eol ? eol : next) - (line + nlen + 1));
			if (line_r != NULL) {
				*line_r = line;
				*next_r = next;
			}
			return line + nlen + 1;
		}
		line = next;
	}
	return NULL;
}

static int make_dir(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		for (char *s = dir + 1; *s != '\0'; s++) {
			if (*s != '/')
				continue;
			*s = '\0';
			mkdir(dir, 0700);
			*s = '/';
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			r = -1;
	}
	free(dir);
	return r;
}

/* Takes the lock, reads the file.  Returns the lock fd, or -1. */
static int lock_and_read(const char *path, struct sbuf *text, char **error_r)
{
	char *lock = xasprintf("%s.lock", path);
	int fd;

	if (make_dir(path) < 0 ||
	    (fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) < 0) {
		*error_r = xasprintf("%s: %s", lock, strerror(errno));
		free(lock);
		return -1;
	}
	free(lock);
	if (read_file(path, text) < 0) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_back(const char *path, const struct sbuf *text, char **error_r)
{
	const char *step;

	if (atomic_write_file(path, text->buf, text->len, 0600, &step) < 0) {
		*error_r = xasprintf("%s: %s: %s", path, step, strerror(errno));
		return -1;
	}
	return 0;
}

int auth_passwd_set(const char *path, const char *name, const char *password, char **error_r)
{
	struct sbuf text = SBUF_INIT, out = SBUF_INIT;
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *hash, *old, *line = NULL, *next = NULL;
	size_t oldlen;
	int lock = -1, r = -1;

	if (!auth_name_valid(name)) {
		*error_r = xasprintf("'%s' is not a valid device name", name);
		goto done;
	}
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) == NULL ||
	    (hash = crypt_r(password, setting, cd)) == NULL || hash[0] != '$') {
		*error_r = xasprintf("yescrypt hashing failed: %s", strerror(errno));
		goto done;
	}
	if ((lock = lock_and_read(path, &text, error_r)) < 0)
		goto done;
	old = find_hash(text.buf, name, &oldlen, &line, &next);
	if (old != NULL) {
		sbuf_add(&out, text.buf, (size_t)(line - text.buf));
		sbuf_addf(&out, "%s:%s\n", name, hash);
		sbuf_addstr(&out, next);
	} else {
		sbuf_add(&out, text.buf, text.len);
		if (out.len > 0 && out.buf[out.len - 1] != '\n')
			sbuf_addch(&out, '\n');
		sbuf_addf(&out, "%s:%s\n", name, hash);
	}
	r = write_back(path, &out, error_r);
done:
	if (lock >= 0)
		close(lock);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	sbuf_release(&text);
	sbuf_release(&out);
	return r;
}

int auth_passwd_remove(const char *path, const char *name, char **error_r)
{
	struct sbuf text = SBUF_INIT, out = SBUF_INIT;
	const char *line, *next;
	size_t len;
	int lock, r = 0;

	if ((lock = lock_and_read(path, &text, error_r)) < 0)
		return -1;
	if (find_hash(text.buf, name, &len, &line, &next) != NULL) {
		sbuf_add(&out, text.buf, (size_t)(line - text.buf));
		sbuf_addstr(&out, next);
		r = write_back(path, &out, error_r) < 0 ? -1 : 1;
	}
	close(lock);
	sbuf_release(&text);
	sbuf_release(&out);
	return r;
}

int auth_passwd_list(const char *path, char ***names_r, size_t *n_r, char **error_r)
{
	struct sbuf text = SBUF_INIT;
	char **names = NULL;
	size_t n = 0;

	if (read_file(path, &text) < 0) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		sbuf_release(&text);
		return -1;
	}
	for (const char *line = text.buf; *line != '\0'; ) {
		const char *eol = strchr(line, '\n'), *colon = strchr(line, ':');

		if (colon != NULL && (eol == NULL || colon < eol) && colon > line) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrndup(line, (size_t)(colon - line));
		}
		line = eol ? eol + 1 : line + strlen(line);
	}
	sbuf_release(&text);
	*names_r = names;
	*n_r = n;
	return 0;
}

int auth_stored_hash(const char *path, const char *name, char **hash_r)
{
	struct sbuf text = SBUF_INIT;
	const char *stored;
	size_t len;
	int r = 0;

	*hash_r = NULL;
	if (read_file(path, &text) < 0) {
		sbuf_release(&text);
		return -1;
	}
	stored = auth_name_valid(name) ? find_hash(text.buf, name, &len, NULL, NULL) : NULL;
	if (stored != NULL) {
		*hash_r = xstrndup(stored, len);
		r = 1;
	}
	explicit_bzero(text.buf, text.len);
	sbuf_release(&text);
	return r;
}

int auth_check(const char *path, const char *name, const char *password)
{
	/* Hashed against when the name is unknown, so that costs the same. */
	static char dummy[CRYPT_GENSALT_OUTPUT_SIZE];
	struct sbuf text = SBUF_INIT;
	struct crypt_data *cd;
	const char *stored;
	char *want;
	size_t len;
	int r = 0;

	if (read_file(path, &text) < 0) {
		sbuf_release(&text);
		return -1;
	}
	if (dummy[0] == '\0' && crypt_gensalt_rn("$y$", 0, NULL, 0, dummy, sizeof(dummy)) == NULL)
		strcpy(dummy, "$y$j9T$");
	stored = auth_name_valid(name) ? find_hash(text.buf, name, &len, NULL, NULL) : NULL;
	want = stored ? xstrndup(stored, len) : xstrdup(dummy);
	cd = xcalloc(1, sizeof(*cd));
	const char *got = crypt_r(password, want, cd);

	if (stored != NULL && got != NULL && got[0] == '$' && strlen(got) == strlen(want))
		r = CRYPTO_memcmp(got, want, strlen(want)) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	free(want);
	sbuf_release(&text);
	return r;
}
