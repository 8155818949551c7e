/* folder_cache: a client's derived data per folder (store.h,
 * store_folder_cache_get/put) on the state's cache (state-cache.c).
 *
 * Each entry starts with the UIDVALIDITY it was written under, so bytes
 * derived from an older numbering of the folder's messages are never
 * handed out, whatever the caller's own key says. */
#include "store/store-private.h"

#include "lib/sbuf.h"

#include <stdlib.h>
#include <string.h>

struct get {
	uint32_t uidvalidity;
	struct sbuf *out;
};

static int get_cb(const void *data, size_t len, void *ctx)
{
	const struct get *g = ctx;
	uint32_t v;

	if (len < sizeof(v))
		return 0;
	memcpy(&v, data, sizeof(v));
	if (v != g->uidvalidity)
		return 0;
	sbuf_add(g->out, (const char *)data + sizeof(v), len - sizeof(v));
	return 1;
}

int store_folder_cache_get(struct store_folder *f, const char *name, struct sbuf *out,
			   const char **error_r)
{
	struct get g = { f->uidvalidity, out };
	const char *err;
	int r = state_cache_read(f->state, name, get_cb, &g, &err);

	return r < 0 ? store_fail(f->store, error_r, "%s", err) : r;
}

struct put {
	uint32_t uidvalidity;
	void (*fill)(void *dst, size_t len, void *ctx);
	void *ctx;
};

static void put_fill(void *dst, size_t len, void *ctx)
{
	const struct put *p = ctx;

	memcpy(dst, &p->uidvalidity, sizeof(p->uidvalidity));
	p->fill((char *)dst + sizeof(p->uidvalidity), len - sizeof(p->uidvalidity), p->ctx);
}

int store_folder_cache_put(struct store_folder *f, const char *name, size_t len,
			   void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			   const char **error_r)
{
	struct put p = { f->uidvalidity, fill, ctx };
	const char *err;

	if (state_cache_put_with(f->state, name, len + sizeof(p.uidvalidity), put_fill, &p,
				 &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	return 0;
}
