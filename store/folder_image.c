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
 * The image goes in parts of IMAGE_PART messages, each a cache entry
 * written in a transaction of its own, then a head naming them: LMDB
 * builds a value in pages of its own malloc until the commit, so one
 * 100,000-message image (~35 MB) written at close added that much to the
 * client's peak (a second open of the bench folder peaked at 75 MB); a
 * part adds a few MB.  Every part carries the head's nonce: parts of two
 * images (a close that died between parts, two closes at once) never
 * load as one, the walk is done instead.
 *
 * An image older than the state (changes since, by anyone) is still
 * worth loading when the changes are few: store_snapshot_from_state()
 * then replays them onto it as a sync would (the records with a greater
 * MODSEQ, the expunge log), which leaves exactly the walk's snapshot.
 * That is how an IMAP server's SELECT after one new message costs the
 * copy and the change, not a walk of 100,000 records; the server keeps an
 * image of its own ("snapshot-nt": no thread keys, STORE_OPEN_NO_THREADKEYS)
 * when its session closes, so the client's image stays the client's.
 *
 * Layout (native byte order: the state never leaves the machine):
 *   "snapshot" (or "snapshot-nt"): struct image_head.
 *   "snapshot.N" (N from 0): struct part_head, then the strings of its
 *   messages (each NUL-terminated; a thread key is its five fields; the
 *   block ends with at least five NULs and is a multiple of 8 bytes),
 *   then one struct image_ent per message in UID order.  Every offset and
 *   every UID is checked on load: a garbled image is ignored, never
 *   followed. */
#include "store/store-private.h"

#include "store/state.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IMAGE_NAME "snapshot"
#define IMAGE_NAME_NT "snapshot-nt"	/* STORE_OPEN_NO_THREADKEYS snapshots */
#define IMAGE_MAGIC 0x736e6170u		/* "snap" */
#define IMAGE_VERSION 2u
#define IMAGE_NULL UINT32_MAX		/* a NULL string */
/* ~5.5 MB of the bench folder's messages a part. */
#define IMAGE_PART 16384

struct image_head {
	uint32_t magic, version;
	struct store_image_key key;
	uint64_t nonce;			/* in every part of this image */
	uint64_t strings;		/* bytes of all the parts' string blocks */
	uint32_t parts, pad;
};

struct part_head {
	uint32_t magic, part;
	uint64_t nonce;
	uint64_t strings;		/* bytes of this part's string block */
	uint32_t first, count;		/* its messages, by snapshot index */
};

struct image_ent {
	uint32_t uid, flags;
	uint64_t modseq, size, vsize;
	int64_t internal_date;
	uint32_t keywords, location, threadkey;	/* offsets into the part's strings */
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
	bool older;			/* an older image is welcome too */
	struct image_head h;
	char *strings;			/* the snapshot's, h.strings bytes */
	size_t used;			/* of them, filled by the parts read */
	uint32_t part;			/* the part expected next */
	size_t next;			/* its first message */
	uint32_t last_uid;
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

/* A snapshot without thread keys must never become a client's image. */
static const char *image_name(const struct store_folder *f)
{
	return f->store->flags & STORE_OPEN_NO_THREADKEYS ? IMAGE_NAME_NT : IMAGE_NAME;
}

/* Whether an image read at have may stand for the state at want, the
 * changes between them replayed (see above): the same UIDVALIDITY,
 * nothing newer than want, and fewer changes than a tenth of the folder. */
static bool key_older(const struct store_image_key *have, const struct store_image_key *want)
{
	return have->uidvalidity == want->uidvalidity && have->uidnext <= want->uidnext &&
	       have->highestmodseq <= want->highestmodseq &&
	       want->highestmodseq - have->highestmodseq <= 1000 + want->count / 10;
}

static size_t part_size(const struct store_folder *f)
{
	return f->store->image_part ? f->store->image_part : IMAGE_PART;
}

static int head_cb(const void *data, size_t len, void *ctx)
{
	struct load *l = ctx;
	const struct image_head *h = &l->h;
	size_t per = part_size(l->f);

	if (len != sizeof(*h))
		return 0;
	memcpy(&l->h, data, sizeof(*h));
	if (h->magic != IMAGE_MAGIC || h->version != IMAGE_VERSION ||
	    !(key_equal(&h->key, l->want) || (l->older && key_older(&h->key, l->want))) ||
	    h->key.count > SIZE_MAX / sizeof(struct store_msg) ||
	    h->parts != (h->key.count + per - 1) / per || h->strings > SIZE_MAX / 2)
		return 0;
	return 1;
}

static int part_cb(const void *data, size_t len, void *ctx)
{
	struct load *l = ctx;
	struct store_folder *f = l->f;
	struct part_head ph;
	const struct image_ent *ents;
	const char *src;
	char *strings;
	uint32_t last = l->last_uid;

	if (len < sizeof(ph))
		return 0;
	memcpy(&ph, data, sizeof(ph));
	len -= sizeof(ph);
	if (ph.magic != IMAGE_MAGIC || ph.part != l->part || ph.nonce != l->h.nonce ||
	    ph.first != l->next || ph.count == 0 || ph.count > l->h.key.count - l->next ||
	    ph.strings < 5 || ph.strings >= IMAGE_NULL || ph.strings > l->h.strings - l->used ||
	    len < ph.strings || (len - ph.strings) / sizeof(*ents) != ph.count ||
	    (len - ph.strings) % sizeof(*ents) != 0)
		return 0;
	src = (const char *)data + sizeof(ph);
	/* Five NULs at the end: any offset inside starts terminated strings. */
	if (memcmp(src + ph.strings - 5, "\0\0\0\0\0", 5) != 0)
		return 0;
	/* Entries are read with memcpy: they may sit unaligned in the page. */
	ents = (const void *)(src + ph.strings);
	for (size_t i = 0; i < ph.count; i++) {
		struct image_ent e;

		memcpy(&e, &ents[i], sizeof(e));
		if (e.uid == 0 || e.uid <= last || e.uid >= l->h.key.uidnext ||
		    e.keywords >= ph.strings ||
		    (e.threadkey != IMAGE_NULL && e.threadkey >= ph.strings) ||
		    (e.location != IMAGE_NULL && e.location >= ph.strings))
			return 0;
		last = e.uid;
	}
	strings = l->strings + l->used;
	copy_dropping(strings, src, ph.strings);
	for (size_t i = 0; i < ph.count; i++) {
		struct image_ent e;

		memcpy(&e, &ents[i], sizeof(e));
		f->msgs[ph.first + i] = (struct store_msg){
			.uid = e.uid, .flags = e.flags, .modseq = e.modseq, .size = e.size,
			.vsize = e.vsize, .internal_date = e.internal_date,
			.keywords = strings + e.keywords,
			.threadkey = string_at(strings, e.threadkey),
			.location = string_at(strings, e.location),
		};
	}
	l->used += ph.strings;
	l->next += ph.count;
	l->last_uid = last;
	l->part++;
	return 1;
}

int store_image_load(struct store_folder *f, const struct store_image_key *key, bool older,
		     struct store_image_key *got_r)
{
	struct load l = { .f = f, .want = key, .older = older };
	char name[32];
	const char *err = NULL;
	int r = state_cache_read(f->state, image_name(f), head_cb, &l, &err);

	/* The snapshot is overwritten part by part: a refused part leaves
	 * it empty, and the caller walks the records instead. */
	if (r > 0) {
		l.strings = xmalloc(l.h.strings ? l.h.strings : 1);
		f->count = 0;
		store_snapshot_reserve(f, (size_t)l.h.key.count);
	}
	while (r > 0 && l.part < l.h.parts) {
		snprintf(name, sizeof(name), "%s.%u", image_name(f), l.part);
		r = state_cache_read(f->state, name, part_cb, &l, &err);
	}
	if (r < 0)
		log_warning("%s", err);
	if (r <= 0 || l.next != l.h.key.count || l.used != l.h.strings) {
		free(l.strings);
		return 0;
	}
	free(f->image);
	f->image = l.strings;
	f->count = l.next;
	*got_r = l.h.key;
	return key_equal(&l.h.key, key) ? 1 : 2;
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
	struct part_head ph;
};

/* Copies len bytes of s to *p (advanced); the offset it went to. */
static uint32_t put_string(char **p, const char *base, const char *s, size_t len)
{
	uint32_t off = (uint32_t)(*p - base);

	memcpy(*p, s, len);
	*p += len;
	return off;
}

/* Writes one part into dst (the state's page: no copy of ours). */
static void part_fill(void *dst, size_t len, void *ctx)
{
	struct keep *k = ctx;
	struct store_folder *f = k->f;
	char *base = (char *)dst + sizeof(k->ph), *p = base;
	struct image_ent *ents = (void *)(base + k->ph.strings);

	memcpy(dst, &k->ph, sizeof(k->ph));
	for (size_t i = 0; i < k->ph.count; i++) {
		const struct store_msg *m = &f->msgs[k->ph.first + i];
		struct image_ent e = {
			.uid = m->uid, .flags = m->flags, .modseq = m->modseq, .size = m->size,
			.vsize = m->vsize, .internal_date = m->internal_date,
			.keywords = put_string(&p, base, m->keywords, strlen(m->keywords) + 1),
			.threadkey = m->threadkey ?
				put_string(&p, base, m->threadkey, threadkey_len(m->threadkey)) :
				IMAGE_NULL,
			.location = m->location ?
				put_string(&p, base, m->location, strlen(m->location) + 1) :
				IMAGE_NULL,
		};

		memcpy(&ents[i], &e, sizeof(e));
	}
	memset(p, 0, (size_t)(base + k->ph.strings - p));	/* the NULs that end it */
	(void)len;
}

static int has_bytes(const void *data, size_t len, void *ctx)
{
	(void)data;
	(void)ctx;
	return len > 0;
}

int store_folder_keep_snapshot(struct store_folder *f, const char **error_r)
{
	struct timespec ts;
	struct image_head h = { IMAGE_MAGIC, IMAGE_VERSION, f->image_key, 0, 0, 0, 0 };
	struct keep k = { f, { IMAGE_MAGIC, 0, 0, 0, 0, 0 } };
	size_t per = part_size(f);
	char name[32];
	const char *err;

	/* A client's image has every thread key (its threads need them);
	 * a server's has none, and headers not read yet are as in a walk. */
	if (!f->image_keep ||
	    (!(f->store->flags & STORE_OPEN_NO_THREADKEYS) && !store_folder_filled(f)))
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.nonce = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
		  (uint64_t)getpid() << 40;
	k.ph.nonce = h.nonce;
	for (size_t first = 0; first < f->count; first += per, k.ph.part++) {
		k.ph.first = (uint32_t)first;
		k.ph.count = (uint32_t)(f->count - first < per ? f->count - first : per);
		k.ph.strings = 5;
		for (size_t i = first; i < first + k.ph.count; i++) {
			const struct store_msg *m = &f->msgs[i];

			k.ph.strings += strlen(m->keywords) + 1 +
				(m->threadkey ? threadkey_len(m->threadkey) : 0) +
				(m->location ? strlen(m->location) + 1 : 0);
		}
		/* The entries after the strings start 8-aligned in the part. */
		k.ph.strings = (k.ph.strings + 7) & ~(uint64_t)7;
		if (k.ph.strings >= IMAGE_NULL)
			return 0;
		snprintf(name, sizeof(name), "%s.%u", image_name(f), k.ph.part);
		if (state_cache_put_with(f->state, name, sizeof(k.ph) + k.ph.strings +
					 k.ph.count * sizeof(struct image_ent),
					 part_fill, &k, &err) < 0)
			return store_fail(f->store, error_r, "%s", err);
		h.strings += k.ph.strings;
	}
	h.parts = k.ph.part;
	if (state_cache_put(f->state, image_name(f), &h, sizeof(h), &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	/* The parts beyond these, of an older image of more messages. */
	for (uint32_t n = h.parts;; n++) {
		snprintf(name, sizeof(name), "%s.%u", image_name(f), n);
		if (state_cache_read(f->state, name, has_bytes, NULL, &err) <= 0 ||
		    state_cache_put(f->state, name, "", 0, &err) < 0)
			break;
	}
	f->image_keep = false;	/* once is enough */
	return 0;
}
