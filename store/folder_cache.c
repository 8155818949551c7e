/* folder_cache: a client's derived data per folder (store.h,
 * store_folder_cache_get/put) on the state's cache (state-cache.c).
 *
 * Each entry starts with the UIDVALIDITY it was written under, so bytes
 * derived from an older numbering of the folder's messages are never
 * handed out, whatever the caller's own key says. */
#include "store/store-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

int store_folder_cache_get(struct store_folder *f, const char *name, struct sbuf *out,
			   const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	const char *err;
	uint32_t v;
	int r = state_cache_get(f->state, name, &sb, &err);

	if (r < 0) {
		sbuf_release(&sb);
		return store_fail(f->store, error_r, "%s", err);
	}
	if (r > 0 && sb.len >= sizeof(v)) {
		memcpy(&v, sb.buf, sizeof(v));
		if (v == f->uidvalidity) {
			sbuf_add(out, sb.buf + sizeof(v), sb.len - sizeof(v));
			sbuf_release(&sb);
			return 1;
		}
	}
	sbuf_release(&sb);
	return 0;
}

int store_folder_cache_put(struct store_folder *f, const char *name, const void *data,
			   size_t len, const char **error_r)
{
	char *buf = xmalloc(len + sizeof(f->uidvalidity));
	const char *err;
	int r;

	memcpy(buf, &f->uidvalidity, sizeof(f->uidvalidity));
	memcpy(buf + sizeof(f->uidvalidity), data, len);
	r = state_cache_put(f->state, name, buf, len + sizeof(f->uidvalidity), &err);
	free(buf);
	return r < 0 ? store_fail(f->store, error_r, "%s", err) : 0;
}
