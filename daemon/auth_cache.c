/* The verified-login cache; the design is in auth_cache.h. */
#include "daemon/auth_cache.h"

#include "localmta/auth.h"
#include "lib/ossl.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

struct entry {
	char name[AUTH_NAME_MAX + 1];	/* "" when free */
	unsigned char tag[AUTH_CACHE_TAG];
	int64_t verified_ms;
};

struct auth_cache {
	unsigned char key[32];
	int64_t ttl_ms;
	struct entry e[AUTH_CACHE_SLOTS];
};

struct auth_cache *auth_cache_new(int64_t ttl_ms)
{
	struct auth_cache *c = xcalloc(1, sizeof(*c));

	if (getrandom(c->key, sizeof(c->key), 0) != (ssize_t)sizeof(c->key))
		abort();
	c->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
	return c;
}

void auth_cache_free(struct auth_cache **cp)
{
	if (*cp == NULL)
		return;
	explicit_bzero(*cp, sizeof(**cp));
	free(*cp);
	*cp = NULL;
}

void auth_cache_reset(struct auth_cache *c, int64_t ttl_ms)
{
	explicit_bzero(c->e, sizeof(c->e));
	c->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
}

bool auth_cache_enabled(const struct auth_cache *c)
{
	return c != NULL && c->ttl_ms > 0;
}

/* Appends a field with its length first, so no two inputs are alike. */
static void add_field(struct sbuf *sb, const void *data, size_t len)
{
	uint64_t n = len;

	sbuf_add(sb, &n, sizeof(n));
	sbuf_add(sb, data, len);
}

int auth_cache_tag(const struct auth_cache *c, const char *passwd_path, const char *name,
		   const char *password, unsigned char tag_r[AUTH_CACHE_TAG])
{
	struct sbuf in = SBUF_INIT;
	struct stat st;
	char *hash = NULL;
	unsigned int len = AUTH_CACHE_TAG;
	int r;

	if (!auth_cache_enabled(c))
		return 0;
	if (stat(passwd_path, &st) < 0)
		return -1;
	r = auth_stored_hash(passwd_path, name, &hash);
	if (r <= 0)
		return r;
	/* The file's identity: `loft passwd` renames a new file into place,
	 * so any change to any login makes every tag new. */
	uint64_t id[5] = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
			   (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };
	add_field(&in, id, sizeof(id));
	add_field(&in, name, strlen(name));
	add_field(&in, password, strlen(password));
	add_field(&in, hash, strlen(hash));
	bool ok = HMAC(EVP_sha256(), c->key, (int)sizeof(c->key), (const unsigned char *)in.buf,
		       in.len, tag_r, &len) != NULL && len == AUTH_CACHE_TAG;
	explicit_bzero(in.buf, in.len);
	sbuf_release(&in);
	free(hash);
	return ok ? 1 : -1;
}

static struct entry *find(const struct auth_cache *c, const char *name)
{
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
		if (c->e[i].name[0] != '\0' && strcmp(c->e[i].name, name) == 0)
			return (struct entry *)&c->e[i];
	return NULL;
}

bool auth_cache_hit(const struct auth_cache *c, const char *name,
		    const unsigned char tag[AUTH_CACHE_TAG], int64_t now_ms)
{
	const struct entry *e;

	if (!auth_cache_enabled(c) || (e = find(c, name)) == NULL)
		return false;
	/* Compared whatever the age, so a stale entry costs the same. */
	bool same = CRYPTO_memcmp(e->tag, tag, AUTH_CACHE_TAG) == 0;

	return same && now_ms >= e->verified_ms && now_ms - e->verified_ms < c->ttl_ms;
}

void auth_cache_put(struct auth_cache *c, const char *name, const unsigned char tag[AUTH_CACHE_TAG],
		    int64_t verified_ms)
{
	struct entry *e;

	if (!auth_cache_enabled(c) || strlen(name) > AUTH_NAME_MAX || name[0] == '\0')
		return;
	if ((e = find(c, name)) == NULL) {
		/* A free slot, else the oldest. */
		for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) {
			if (c->e[i].name[0] == '\0') {
				e = &c->e[i];
				break;
			}
			if (e == NULL || c->e[i].verified_ms < e->verified_ms)
				e = &c->e[i];
		}
		strcpy(e->name, name);
	}
	memcpy(e->tag, tag, AUTH_CACHE_TAG);
	e->verified_ms = verified_ms;
}

void auth_cache_drop(struct auth_cache *c, const char *name)
{
	struct entry *e = c != NULL ? find(c, name) : NULL;

	if (e != NULL)
		explicit_bzero(e, sizeof(*e));
}

/* ---- messages: 'k' NAME NUL TAG MS (8 bytes) or 'f' NAME NUL ---- */

size_t auth_cache_msg_ok(char *buf, const char *name, const unsigned char tag[AUTH_CACHE_TAG],
			 int64_t verified_ms)
{
	size_t n = strlen(name);

	if (n == 0 || n > AUTH_NAME_MAX)
		return 0;
	buf[0] = 'k';
	memcpy(buf + 1, name, n + 1);
	memcpy(buf + 2 + n, tag, AUTH_CACHE_TAG);
	memcpy(buf + 2 + n + AUTH_CACHE_TAG, &verified_ms, sizeof(verified_ms));
	return 2 + n + AUTH_CACHE_TAG + sizeof(verified_ms);
}

size_t auth_cache_msg_failed(char *buf, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > AUTH_NAME_MAX)
		return 0;
	buf[0] = 'f';
	memcpy(buf + 1, name, n + 1);
	return 2 + n;
}

bool auth_cache_receive(struct auth_cache *c, const void *msg, size_t len, int64_t now_ms)
{
	const char *m = msg, *nul = len > 1 ? memchr(m + 1, '\0', len - 1) : NULL;
	size_t n = nul != NULL ? (size_t)(nul - m - 1) : 0;
	int64_t ms;

	if (nul == NULL || n == 0 || n > AUTH_NAME_MAX)
		return false;
	if (m[0] == 'f' && len == 2 + n) {
		auth_cache_drop(c, m + 1);
		return true;
	}
	if (m[0] != 'k' || len != 2 + n + AUTH_CACHE_TAG + sizeof(ms))
		return false;
	memcpy(&ms, m + 2 + n + AUTH_CACHE_TAG, sizeof(ms));
	auth_cache_put(c, m + 1, (const unsigned char *)m + 2 + n, ms < now_ms ? ms : now_ms);
	return true;
}
