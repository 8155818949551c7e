/* folder_image: a finished snapshot kept in the folder's state as one
 * block of bytes, so the next warm open of an unchanged folder copies it
 * back instead of walking every record (100,000 records: ~100 ms of
 * cache misses over ~50 MB of LMDB pages; the image: one sequential copy).
 *
 * An image is written only from a snapshot built from the state alone
 * (store_snapshot_from_state) and not changed since in this process, with
 * every thread key read, and only when a caller asks
 * (store_folder_keep_snapshot: the client, at close).  It records what it
 * was read at: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, the number of records
 * and the stamps of the files.  It is used only while the state still has
 * all five and the files agree with the stamps; any change by any process
 * moves at least one of them (every flag or keyword change takes a MODSEQ,
 * an arrival a UID, an expunge a MODSEQ, a rename by loft new stamps, one
 * by another program new mtimes), so a stale image is never used.
 *
 * Layout (native byte order: the state never leaves the machine):
 *   struct image_head, then the strings (each NUL-terminated; a thread
 *   key is its five fields; the block ends with at least five NULs and
 *   is a multiple of 8 bytes), then one struct image_ent per message in
 *   UID order.  Every offset and every
 *   UID is checked on load: a garbled image is ignored, never followed. */
#include "store/store-private.h"

#include "store/state.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define IMAGE_NAME "snapshot"
#define IMAGE_MAGIC 0x736e6170u		/* "snap" */
#define IMAGE_VERSION 1u
#define IMAGE_NULL UINT32_MAX		/* a NULL string */

struct image_head {
	uint32_t magic, version;
	struct store_image_key key;
	uint64_t strings;		/* bytes of the string block */
};

struct image_ent {
	uint32_t uid, flags;
	uint64_t modseq, size, vsize;
	int64_t internal_date;
	uint32_t keywords, location, threadkey;	/* offsets into the strings */
	uint32_t pad;
};

static bool key_equal(const struct store_image_key *a, const struct store_image_key *b)
{
	return a->uidvalidity == b->uidvalidity && a->uidnext == b->uidnext &&
	       a->highestmodseq == b->highestmodseq && a->count == b->count &&
	       a->stamps[0] == b->stamps[0] && a->stamps[1] == b->stamps[1];
}

void store_image_key_of(struct store_image_key *key, const struct state_header *hdr,
			const uint64_t stamps[STATE_STAMPS])
{
	memset(key, 0, sizeof(*key));
	key->uidvalidity = hdr->uidvalidity;
	key->uidnext = hdr->uidnext;
	key->highestmodseq = hdr->highestmodseq;
	key->count = hdr->count;
	key->stamps[0] = stamps[0];
	key->stamps[1] = stamps[1];
}

/* ---- load ---- */

struct load {
	struct store_folder *f;
	const struct store_image_key *want;
};

static const char *string_at(const char *strings, uint32_t off)
{
	return off == IMAGE_NULL ? NULL : strings + off;
}

/* memcpy from the map, dropping its pages behind (the peak RSS of a warm
 * open holds the copy, not the copy and the map). */
static void copy_dropping(char *dst, const char *src, size_t len)
{
	const size_t step = (size_t)1 << 20;

	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		memcpy(dst + off, src + off, n);
		state_map_drop(src + off, n);
	}
}

static int load_cb(const void *data, size_t len, void *ctx)
{
	struct load *l = ctx;
	struct store_folder *f = l->f;
	struct image_head h;
	const struct image_ent *ents;
	const char *src;
	char *strings;
	uint32_t last = 0;
	size_t n;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	n = (size_t)h.key.count;
	if (h.magic != IMAGE_MAGIC || h.version != IMAGE_VERSION || !key_equal(&h.key, l->want) ||
	    h.strings < 5 || h.strings >= IMAGE_NULL || (len - sizeof(h)) < h.strings ||
	    (len - sizeof(h) - h.strings) / sizeof(*ents) != n ||
	    (len - sizeof(h) - h.strings) % sizeof(*ents) != 0)
		return 0;
	src = (const char *)data + sizeof(h);
	/* Five NULs at the end: any offset inside starts terminated strings. */
	if (memcmp(src + h.strings - 5, "\0\0\0\0\0", 5) != 0)
		return 0;
	/* Entries are read with memcpy: a small value may sit unaligned in
	 * its LMDB page. */
	ents = (const void *)(src + h.strings);
	for (size_t i = 0; i < n; i++) {
		struct image_ent e;

		memcpy(&e, &ents[i], sizeof(e));
		if (e.uid == 0 || e.uid <= last || e.uid >= h.key.uidnext ||
		    e.keywords >= h.strings || e.threadkey >= h.strings ||
		    (e.location != IMAGE_NULL && e.location >= h.strings))
			return 0;
		last = e.uid;
	}
	strings = xmalloc(h.strings);
	copy_dropping(strings, src, h.strings);
	free(f->image);
	f->image = strings;
	f->count = 0;
	store_snapshot_reserve(f, n);
	for (size_t i = 0; i < n; i++) {
		struct image_ent e;

		memcpy(&e, &ents[i], sizeof(e));
		f->msgs[i] = (struct store_msg){
			.uid = e.uid, .flags = e.flags, .modseq = e.modseq, .size = e.size,
			.vsize = e.vsize, .internal_date = e.internal_date,
			.keywords = strings + e.keywords,
			.threadkey = strings + e.threadkey,
			.location = string_at(strings, e.location),
		};
		if (i % 16384 == 16383)
			state_map_drop(&ents[i - 16383], 16384 * sizeof(*ents));
	}
	f->count = n;
	return 1;
}

int store_image_load(struct store_folder *f, const struct store_image_key *key)
{
	struct load l = { f, key };
	const char *err;
	int r = state_cache_read(f->state, IMAGE_NAME, load_cb, &l, &err);

	if (r < 0)
		log_warning("%s", err);
	return r > 0;
}

/* ---- keep ---- */

static size_t threadkey_len(const char *tk)
{
	const char *p = tk;

	for (int k = 0; k < 5; k++)
		p += strlen(p) + 1;
	return (size_t)(p - tk);
}

struct keep {
	struct store_folder *f;
	size_t strings;			/* bytes of the string block */
};

/* Copies len bytes of s to *p (advanced); the offset it went to. */
static uint32_t put_string(char **p, const char *base, const char *s, size_t len)
{
	uint32_t off = (uint32_t)(*p - base);

	memcpy(*p, s, len);
	*p += len;
	return off;
}

/* Writes the image into dst (the state's page: no copy of ours). */
static void keep_fill(void *dst, size_t len, void *ctx)
{
	struct keep *k = ctx;
	struct store_folder *f = k->f;
	struct image_head h = { IMAGE_MAGIC, IMAGE_VERSION, f->image_key, k->strings };
	char *base = (char *)dst + sizeof(h), *p = base;
	struct image_ent *ents = (void *)(base + k->strings);

	memcpy(dst, &h, sizeof(h));
	for (size_t i = 0; i < f->count; i++) {
		const struct store_msg *m = &f->msgs[i];
		struct image_ent e = {
			.uid = m->uid, .flags = m->flags, .modseq = m->modseq, .size = m->size,
			.vsize = m->vsize, .internal_date = m->internal_date,
			.keywords = put_string(&p, base, m->keywords, strlen(m->keywords) + 1),
			.threadkey = put_string(&p, base, m->threadkey, threadkey_len(m->threadkey)),
			.location = m->location ?
				put_string(&p, base, m->location, strlen(m->location) + 1) :
				IMAGE_NULL,
		};

		memcpy(&ents[i], &e, sizeof(e));
	}
	memset(p, 0, (size_t)(base + k->strings - p));	/* the NULs that end it */
	(void)len;
}

int store_folder_keep_snapshot(struct store_folder *f, const char **error_r)
{
	struct keep k = { f, 5 };
	const char *err;

	if (!f->image_keep || !store_folder_filled(f))
		return 0;
	for (size_t i = 0; i < f->count; i++) {
		const struct store_msg *m = &f->msgs[i];

		k.strings += strlen(m->keywords) + 1 + threadkey_len(m->threadkey) +
			(m->location ? strlen(m->location) + 1 : 0);
	}
	/* The entries after the strings start 8-aligned in the image. */
	k.strings = (k.strings + 7) & ~(size_t)7;
	if (k.strings >= IMAGE_NULL)
		return 0;
	if (state_cache_put_with(f->state, IMAGE_NAME,
				 sizeof(struct image_head) + k.strings +
				 f->count * sizeof(struct image_ent),
				 keep_fill, &k, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	f->image_keep = false;	/* once is enough */
	return 0;
}
