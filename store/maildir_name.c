/* maildir names: unique names, the ":2," info, flag letters. */
#include "store/maildir.h"
#include "store/maildir-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static _Thread_local char error_buf[4096 + 256];

int maildir_fail(const char **error_r, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
	va_end(ap);
	if (err != 0 && n >= 0 && (size_t)n < sizeof(error_buf))
		snprintf(error_buf + n, sizeof(error_buf) - (size_t)n, ": %s",
			 strerror(err));
	*error_r = error_buf;
	errno = err != 0 ? err : EINVAL;
	return -1;
}

/* The standard letters in ASCII order, which is also the order the spec
 * asks for in the info. */
static const struct {
	char letter;
	uint32_t flag;
} flag_letters[] = {
	{ 'D', STORE_DRAFT },
	{ 'F', STORE_FLAGGED },
	{ 'P', STORE_PASSED },
	{ 'R', STORE_ANSWERED },
	{ 'S', STORE_SEEN },
	{ 'T', STORE_DELETED },
};
#define N_LETTERS (sizeof(flag_letters) / sizeof(flag_letters[0]))

static uint32_t letter_flag(unsigned char c)
{
	switch (c) {
	case 'D': return STORE_DRAFT;
	case 'F': return STORE_FLAGGED;
	case 'P': return STORE_PASSED;
	case 'R': return STORE_ANSWERED;
	case 'S': return STORE_SEEN;
	case 'T': return STORE_DELETED;
	default: return 0;
	}
}

/* Bytes an info may carry: printable ASCII except those that would change
 * how the name parses or where it lives. */
static bool info_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '/' && c != ':' && c != ',';
}

void maildir_flags_to_letters(uint32_t flags, char buf[7])
{
	size_t n = 0;

	for (size_t i = 0; i < N_LETTERS; i++)
		if (flags & flag_letters[i].flag)
			buf[n++] = flag_letters[i].letter;
	buf[n] = '\0';
}

/* Host names are escaped as Dovecot and Courier do, so the name stays a
 * single path component and the ':' stays the info separator.  ',' is
 * escaped too: ",S=" fields follow the host. */
static size_t escape_host(const char *host, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = host; *p && n + 5 < size; p++) {
		switch (*p) {
		case '/': memcpy(out + n, "\\057", 4); n += 4; break;
		case ':': memcpy(out + n, "\\072", 4); n += 4; break;
		case ',': memcpy(out + n, "\\054", 4); n += 4; break;
		default: out[n++] = *p; break;
		}
	}
	out[n] = '\0';
	return n;
}

int maildir_unique_name(char *buf, size_t size)
{
	static unsigned long counter;
	static _Thread_local char host[MAILDIR_NAME_SIZE];
	struct timeval tv;
	unsigned long q = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	int n;

	if (host[0] == '\0') {
		char raw[MAILDIR_NAME_SIZE / 4];

		if (gethostname(raw, sizeof(raw)) < 0 || raw[0] == '\0')
			strcpy(raw, "localhost");
		raw[sizeof(raw) - 1] = '\0';
		escape_host(raw, host, sizeof(host));
	}
	gettimeofday(&tv, NULL);
	n = snprintf(buf, size, "%lld.M%06ldP%ldQ%lu.%s", (long long)tv.tv_sec,
		     (long)tv.tv_usec, (long)getpid(), q, host);
	if (n < 0 || (size_t)n >= size) {
		errno = ERANGE;
		return -1;
	}
	return n;
}

/* The number after ",X=" at p (p just past the '='), ending at a ',' or
 * the end of the key; -1 when it is not a number. */
static int64_t field_number(const char *p, const char *end)
{
	int64_t v = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return p == end || *p == ',' ? v : -1;
}

/* ",S=" and ",W=" fields of the key, the last one winning (fields follow
 * the host, which cannot contain an unescaped ','). */
static void key_fields(struct maildir_name *mn)
{
	const char *end = mn->key + mn->key_len;

	for (const char *p = mn->key; (p = memchr(p, ',', (size_t)(end - p))) != NULL; p++) {
		if (end - p < 4 || p[2] != '=')
			continue;
		if (p[1] == 'S')
			mn->size = field_number(p + 3, end);
		else if (p[1] == 'W')
			mn->vsize = field_number(p + 3, end);
	}
}

/* This runs once per file in a scan (100,000 times for a big folder):
 * one strchr for the separator, one memchr walk for the fields, and the
 * extra letters are collected in a bitmap only when there are any. */
int maildir_parse_name(const char *name, struct maildir_name *name_r)
{
	const char *info = NULL, *colon;
	uint64_t extra[2] = { 0, 0 };

	name_r->key = name;
	name_r->flags = 0;
	name_r->extra[0] = '\0';
	name_r->sep = 0;
	name_r->has_info = false;
	name_r->size = name_r->vsize = name_r->time = -1;
	if (name[0] == '\0' || name[0] == '.')
		return -1;

	/* The spec's separator is ':' and the key never contains one; mbsync
	 * and others write "!2," where ':' is not allowed in file names. */
	colon = strchr(name, ':');
	if (colon != NULL) {
		name_r->key_len = (size_t)(colon - name);
		if (colon[1] == '2' && colon[2] == ',')
			info = colon + 3;
	} else {
		const char *bang = NULL;

		for (const char *p = name; (p = strstr(p, "!2,")) != NULL; p++)
			bang = p;
		name_r->key_len = bang ? (size_t)(bang - name) : strlen(name);
		if (bang)
			info = bang + 3;
	}
	if (memchr(name, '/', name_r->key_len) != NULL ||
	    strchr(name + name_r->key_len, '/') != NULL)
		return -1;
	if (info != NULL) {
		name_r->has_info = true;
		name_r->sep = name[name_r->key_len];
		for (const unsigned char *p = (const unsigned char *)info; *p; p++) {
			uint32_t f = letter_flag(*p);

			if (f != 0)
				name_r->flags |= f;
			else if (info_byte_ok(*p))
				extra[*p >> 6] |= (uint64_t)1 << (*p & 63);
		}
		if ((extra[0] | extra[1]) != 0) {
			size_t n = 0;

			for (int c = 0x21; c < 0x7f; c++)
				if (extra[c >> 6] & ((uint64_t)1 << (c & 63)))
					name_r->extra[n++] = (char)c;
			name_r->extra[n] = '\0';
		}
	}
	key_fields(name_r);
	if (name[0] >= '0' && name[0] <= '9') {
		int64_t t = 0;
		size_t i;

		for (i = 0; i < name_r->key_len && i < 18 && name[i] >= '0' &&
		     name[i] <= '9'; i++)
			t = t * 10 + (name[i] - '0');
		if (i < name_r->key_len && name[i] == '.')
			name_r->time = t;
	}
	return 0;
}

int maildir_format_name(const char *key, uint32_t flags, const char *extra,
			char sep, char *buf, size_t size)
{
	bool set[128] = { false };
	size_t klen = strlen(key), n;

	if (extra != NULL) {
		for (const unsigned char *p = (const unsigned char *)extra; *p; p++) {
			if (!info_byte_ok(*p)) {
				errno = EINVAL;
				return -1;
			}
			set[*p] = true;
		}
	}
	for (size_t i = 0; i < N_LETTERS; i++)
		if (flags & flag_letters[i].flag)
			set[(unsigned char)flag_letters[i].letter] = true;
	if (klen + 3 >= size) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, key, klen);
	n = klen;
	buf[n++] = sep == '!' ? '!' : ':';
	buf[n++] = '2';
	buf[n++] = ',';
	for (int c = 0; c < 128; c++) {
		if (!set[c])
			continue;
		if (n + 1 >= size) {
			errno = ERANGE;
			return -1;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return (int)n;
}
