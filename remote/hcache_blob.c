/* hcache_blob: bytes a client keeps with a folder (hcache_blob_get,
 * hcache_blob_put; see remote/hcache.h). */
#include "remote/hcache-private.h"
#include "lib/sbuf.h"
#include "lib/mapdrop.h"
#include "lib/xalloc.h"

#include <string.h>

/* 0 with key "B" ID NAME in *key, or -1 when it is too long. */
static int blob_key(struct hcache *hc, uint32_t id, const char *name, struct sbuf *key,
		    char **error_r)
{
	unsigned char be[4];

	hcache_put_be32(be, id);
	sbuf_addch(key, 'B');
	sbuf_add(key, be, sizeof(be));
	sbuf_addstr(key, name);
	if (key->len > (size_t)mdb_env_get_maxkeysize(hc->env)) {
		*error_r = xasprintf("header cache: name too long: %.40s...", name);
		return -1;
	}
	return 0;
}

int hcache_blob_view(struct hcache *hc, const char *folder, const char *name,
		     uint32_t uidvalidity, void (*fn)(const void *data, size_t len, void *ctx),
		     void *ctx, char **error_r)
{
	struct sbuf key = SBUF_INIT;
	struct folder_rec rec;
	MDB_txn *txn;
	MDB_val k, v;
	uint32_t validity;
	int r, rc;

	if (hcache_begin(hc, MDB_RDONLY, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r > 0 && rec.uidvalidity != uidvalidity)
		r = 0;
	if (r > 0 && blob_key(hc, rec.id, name, &key, error_r) < 0)
		r = -1;
	if (r > 0) {
		k.mv_size = key.len;
		k.mv_data = key.buf;
		rc = mdb_get(txn, hc->dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			r = 0;
		else if (rc != 0)
			r = hcache_mdb_fail(error_r, hc, "reading kept bytes", rc);
		else if (v.mv_size < sizeof(validity))
			r = hcache_garbled(error_r, hc, name);
	}
	if (r > 0) {
		memcpy(&validity, v.mv_data, sizeof(validity));
		if (validity != uidvalidity) {
			r = 0;
		} else {
			fn((const char *)v.mv_data + sizeof(validity), v.mv_size - sizeof(validity),
			   ctx);
			/* Megabytes (a thread order): not kept mapped. */
			map_drop(v.mv_data, v.mv_size);
		}
	}
	mdb_txn_abort(txn);
	sbuf_release(&key);
	return r;
}

int hcache_blob_put(struct hcache *hc, const char *folder, const char *name,
		    uint32_t uidvalidity, size_t len,
		    void (*fill)(void *dst, size_t len, void *ctx), void *ctx, char **error_r)
{
	struct sbuf key = SBUF_INIT;
	struct folder_rec rec;
	MDB_txn *txn;
	MDB_val k, v;
	int r, rc;

	if (hcache_begin(hc, 0, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r == 0 || (r > 0 && rec.uidvalidity != uidvalidity)) {
		*error_r = xasprintf("header cache: folder %s is not open under UIDVALIDITY %u",
				     folder, uidvalidity);
		r = -1;
	}
	if (r > 0 && blob_key(hc, rec.id, name, &key, error_r) < 0)
		r = -1;
	if (r > 0) {
		k.mv_size = key.len;
		k.mv_data = key.buf;
		v.mv_size = sizeof(uidvalidity) + len;
		rc = mdb_put(txn, hc->dbi, &k, &v, MDB_RESERVE);
		if (rc != 0) {
			r = hcache_mdb_fail(error_r, hc, "writing kept bytes", rc);
		} else {
			memcpy(v.mv_data, &uidvalidity, sizeof(uidvalidity));
			fill((char *)v.mv_data + sizeof(uidvalidity), len, ctx);
		}
	}
	sbuf_release(&key);
	if (r < 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return hcache_commit(hc, txn, error_r);
}
