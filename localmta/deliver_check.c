/* Loop detection, duplicate suppression and the token search of delivery. */
#include "localmta/deliver-private.h"
#include "store/store.h"

#include "lib/atomic.h"
#include "lib/header.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#define TOKEN_LOOKBACK 200	/* newest messages searched for a token */
#define DUP_MAX_BYTES (16 * 1024 * 1024)

/* rcpt is the address in value (angle brackets and blanks around it
 * ignored, ASCII case too). */
static bool same_address(const char *v, const char *rcpt)
{
	const char *end = v + strlen(v);
	size_t n;

	if (*v == '<')
		v++;
	if (end > v && end[-1] == '>')
		end--;
	n = (size_t)(end - v);
	return n == strlen(rcpt) && strncasecmp(v, rcpt, n) == 0;
}

int deliver_hops(const char *data, size_t len, const char *rcpt)
{
	struct header_iter it;
	struct header_field f;
	struct sbuf value = SBUF_INIT;
	int hops = 0;

	header_iter_init(&it, data, len);
	while (header_iter_next(&it, &f)) {
		if (header_field_is(&f, "Received")) {
			hops++;
		} else if (header_field_is(&f, "Delivered-To")) {
			hops++;
			sbuf_reset(&value);
			header_unfold(&f, &value);
			if (rcpt && *rcpt && same_address(value.buf, rcpt)) {
				hops = -1;
				break;
			}
		}
	}
	sbuf_release(&value);
	return hops;
}

/* ---- duplicates: a small text file "EPOCH SHA256(msgid)" a line ---- */

static void hash_id(const char *msgid, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(msgid, strlen(msgid), md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Holds an flock on FILE.lock: the log itself is replaced by rename. */
static int lock_log(const char *file, int op)
{
	char *lock = xasprintf("%s.lock", file);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(lock);
	if (fd >= 0 && flock(fd, op) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Walks the entries; fn returns true to stop. */
static bool scan_log(const struct sbuf *log, bool (*fn)(int64_t t, const char *h, void *ctx),
		     void *ctx)
{
	const char *p = log->buf, *end = log->buf + log->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char hash[65];
		long long t;

		if (nl == NULL)
			break;
		if ((size_t)(nl - p) < 80 && sscanf(p, "%lld %64[0-9a-f]", &t, hash) == 2 &&
		    fn((int64_t)t, hash, ctx))
			return true;
		p = nl + 1;
	}
	return false;
}

struct dup_find {
	const char *hash;
	int64_t since;
};

static bool find_fn(int64_t t, const char *h, void *ctx)
{
	const struct dup_find *d = ctx;

	return t >= d->since && strcmp(h, d->hash) == 0;
}

bool deliver_dup_seen(const char *file, const char *msgid, int64_t window, int64_t now)
{
	struct sbuf log = SBUF_INIT;
	char hash[65];
	struct dup_find d = { hash, now - window };
	int lock = lock_log(file, LOCK_SH);
	bool seen = false;

	hash_id(msgid, hash);
	if (sbuf_read_file(&log, file, DUP_MAX_BYTES) == 0)
		seen = scan_log(&log, find_fn, &d);
	if (lock >= 0)
		close(lock);
	sbuf_release(&log);
	return seen;
}

struct dup_keep {
	struct sbuf *out;
	int64_t since;
};

static bool keep_fn(int64_t t, const char *h, void *ctx)
{
	struct dup_keep *k = ctx;

	if (t >= k->since)
		sbuf_addf(k->out, "%" PRId64 " %s\n", t, h);
	return false;
}

void deliver_dup_record(const char *file, const char *msgid, int64_t window, int64_t now)
{
	struct sbuf log = SBUF_INIT, out = SBUF_INIT;
	struct dup_keep k = { &out, now - window };
	char hash[65];
	const char *err;
	int lock = lock_log(file, LOCK_EX);

	if (lock < 0) {
		log_warning("%s.lock: %s (duplicate not recorded)", file, strerror(errno));
		return;
	}
	hash_id(msgid, hash);
	if (sbuf_read_file(&log, file, DUP_MAX_BYTES) == 0)
		scan_log(&log, keep_fn, &k);
	sbuf_addf(&out, "%" PRId64 " %s\n", now, hash);
	if (atomic_write_file(file, out.buf, out.len, 0600, &err) < 0)
		log_warning("%s: %s: %s (duplicate not recorded)", file, err, strerror(errno));
	close(lock);
	sbuf_release(&log);
	sbuf_release(&out);
}

/* ---- the token of an interrupted delivery ---- */

/* True when the header block of msg has a field header whose value is
 * token. */
static bool has_token(const struct sbuf *msg, const char *header, const char *token,
		      struct sbuf *value)
{
	struct header_iter it;
	struct header_field f;

	header_iter_init(&it, msg->buf, msg->len);
	while (header_iter_next(&it, &f)) {
		if (!header_field_is(&f, header))
			continue;
		sbuf_reset(value);
		header_unfold(&f, value);
		if (strcmp(value->buf, token) == 0)
			return true;
	}
	return false;
}

bool deliver_token_present(struct store *store, const char *folder, const char *header,
			   const char *token)
{
	struct store_folder *f;
	struct sbuf msg = SBUF_INIT, value = SBUF_INIT;
	const char *err;
	bool found = false;

	if (store_folder_open(store, folder, &f, &err) < 0)
		return false;	/* no folder: nothing delivered there */
	size_t n = store_folder_count(f);
	for (size_t i = n; i > 0 && n - i < TOKEN_LOOKBACK && !found; i--) {
		const struct store_msg *m = store_folder_msg(f, i - 1);

		sbuf_reset(&msg);
		if (store_msg_read(f, m->uid, &msg, &err) < 0)
			continue;
		found = has_token(&msg, header, token, &value);
	}
	store_folder_close(&f);
	sbuf_release(&msg);
	sbuf_release(&value);
	return found;
}
