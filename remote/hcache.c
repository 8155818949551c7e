/* The header cache; see hcache.h.
 *
 * One unnamed LMDB database per account holds three kinds of keys:
 *   "N"                    the next folder id (uint32)
 *   "F" FOLDER             id, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ
 *   "M" ID(be32) UID(be32) one message (see encode_msg)
 *   "R" ID(be32) UID(be32) the same message's numbers and keywords (see
 *                          encode_hot), written with its "M" record
 *   "B" ID(be32) NAME      UIDVALIDITY (uint32), then a client's bytes
 * A short numeric id keeps message keys at 9 bytes whatever the folder's
 * name, and big-endian numbers make a cursor walk UIDs in order.  The
 * cache is a copy of what the server says, so a record that does not
 * decode is an error for the caller to answer by dropping the cache.
 *
 * The "R" records are the hot half of the cache: a client opening a
 * folder needs every message's flags, size and dates but the headers of a
 * screenful only, and ~40 bytes a message are read in a few ms where the
 * full records (~1.2 KB each with the ENVELOPE) took ~80-200 ms for
 * 100,000.  A walk that wants no header string reads them when the
 * folder's record says they are complete (its hot field); the records
 * of a cache written before them (a folder record of the old, shorter
 * size) are read in full until hcache_folder_open makes them.  An older
 * loft meeting a folder record of the new size refuses it as garbled
 * (and drops the cache for its session), so it never writes "M" records
 * that the "R" ones would then misstate. */
#include "remote/hcache-private.h"
#include "lib/mapdrop.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MSG_VERSION 3	/* 2: the ENVELOPE string added; 3: the thread key */
#define MSG_VERSION_V2 2	/* still read: no thread key */
/* A long walk lets go of the map's pages this often (see walk). */
#define WALK_RELEASE_EVERY 4096
#define MSG_KEY_SIZE 9
/* The layout of the "R" records; a folder whose hot field says another
 * has them made again. */
#define HOT_VERSION 1
/* Bits of an "R" record's own flags byte. */
#define HOT_HAS_THREADKEY 0x01	/* its "M" record has a thread key */


int hcache_mdb_fail(char **error_r, const struct hcache *hc, const char *what, int rc)
{
	*error_r = xasprintf("header cache %s: %s: %s", hc->dir, what, mdb_strerror(rc));
	return -1;
}

int hcache_garbled(char **error_r, const struct hcache *hc, const char *what)
{
	*error_r = xasprintf("header cache %s: %s: a record that does not decode", hc->dir, what);
	return -1;
}

/* ---- encoding ---- */

void hcache_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* kind: 'M' the full record, 'R' the hot one. */
static void rec_key(unsigned char key[MSG_KEY_SIZE], char kind, uint32_t id, uint32_t uid)
{
	key[0] = (unsigned char)kind;
	hcache_put_be32(key + 1, id);
	hcache_put_be32(key + 5, uid);
}

static void msg_key(unsigned char key[MSG_KEY_SIZE], uint32_t id, uint32_t uid)
{
	rec_key(key, 'M', id, uid);
}

static void add_str(struct sbuf *b, const char *s)
{
	uint32_t len = s != NULL ? (uint32_t)strlen(s) + 1 : 0;	/* 0: NULL */

	sbuf_add(b, &len, sizeof(len));
	if (len > 0)
		sbuf_add(b, s, len - 1);
}

/* Version, flags, size, modseq, internaldate, date, then the strings each
 * as a length (0 for NULL, else strlen + 1) and the bytes, the thread key
 * last (its length + 1: it holds NULs).  Native byte order: the cache
 * never leaves the machine. */
/* The numbers both records carry, in this order. */
static void add_numbers(struct sbuf *b, const struct hcache_msg *m)
{
	sbuf_add(b, &m->flags, sizeof(m->flags));
	sbuf_add(b, &m->size, sizeof(m->size));
	sbuf_add(b, &m->modseq, sizeof(m->modseq));
	sbuf_add(b, &m->internaldate, sizeof(m->internaldate));
	sbuf_add(b, &m->date, sizeof(m->date));
}

static void encode_msg(struct sbuf *b, const struct hcache_msg *m)
{
	unsigned char v = MSG_VERSION;
	uint32_t len;

	sbuf_add(b, &v, 1);
	add_numbers(b, m);
	add_str(b, m->keywords);
	add_str(b, m->subject);
	add_str(b, m->from);
	add_str(b, m->to);
	add_str(b, m->cc);
	add_str(b, m->message_id);
	add_str(b, m->in_reply_to);
	add_str(b, m->references);
	add_str(b, m->envelope);
	len = m->threadkey != NULL ? (uint32_t)m->threadkey_len + 1 : 0;
	sbuf_add(b, &len, sizeof(len));
	if (len > 0)
		sbuf_add(b, m->threadkey, len - 1);
}

/* The hot record of m: version, its own flags (HOT_*), flags, size,
 * modseq, internaldate, date, the keywords (as add_str). */
static void encode_hot(struct sbuf *b, const struct hcache_msg *m)
{
	unsigned char v = HOT_VERSION, own = m->threadkey != NULL ? HOT_HAS_THREADKEY : 0;

	sbuf_add(b, &v, 1);
	sbuf_add(b, &own, 1);
	add_numbers(b, m);
	add_str(b, m->keywords);
}

struct reader {
	const unsigned char *p, *end;
	bool bad;
};

static void take(struct reader *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

/* add_numbers' numbers into m. */
static void take_numbers(struct reader *r, struct hcache_msg *m)
{
	take(r, &m->flags, sizeof(m->flags));
	take(r, &m->size, sizeof(m->size));
	take(r, &m->modseq, sizeof(m->modseq));
	take(r, &m->internaldate, sizeof(m->internaldate));
	take(r, &m->date, sizeof(m->date));
}

/* s[0..len) and a NUL, malloc'd (a thread key holds NULs). */
static char *copy_bytes(const char *s, size_t len)
{
	char *c = xmalloc(len + 1);

	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* The next string (NULL when absent), malloc'd with a NUL after its
 * bytes when keep, else only skipped; its length in *len_r (may be
 * NULL). */
static char *take_str(struct reader *r, bool keep, size_t *len_r)
{
	uint32_t len;
	char *s = NULL;

	take(r, &len, sizeof(len));
	if (len_r != NULL)
		*len_r = 0;
	if (r->bad || len == 0)
		return NULL;
	if ((size_t)(r->end - r->p) < len - 1) {
		r->bad = true;
		return NULL;
	}
	if (keep)
		s = copy_bytes((const char *)r->p, len - 1);
	if (len_r != NULL)
		*len_r = len - 1;
	r->p += len - 1;
	return s;
}

/* Decodes the record v into m, keeping the strings want asks for
 * (HCACHE_WANT_*): -1 when it does not decode. */
static int decode_msg(const MDB_val *v, uint32_t uid, unsigned want, struct hcache_msg *m)
{
	struct reader r = { v->mv_data, (const unsigned char *)v->mv_data + v->mv_size, false };
	bool fields = want & HCACHE_WANT_FIELDS;
	unsigned char version;
	size_t env_at;

	memset(m, 0, sizeof(*m));
	m->uid = uid;
	take(&r, &version, 1);
	if (version != MSG_VERSION && version != MSG_VERSION_V2)
		return -1;
	take_numbers(&r, m);
	m->keywords = take_str(&r, want & HCACHE_WANT_KEYWORDS, NULL);
	m->subject = take_str(&r, fields, NULL);
	m->from = take_str(&r, fields, NULL);
	m->to = take_str(&r, fields, NULL);
	m->cc = take_str(&r, fields, NULL);
	m->message_id = take_str(&r, fields, NULL);
	m->in_reply_to = take_str(&r, fields, NULL);
	m->references = take_str(&r, fields, NULL);
	env_at = (size_t)(r.p - (const unsigned char *)v->mv_data);
	m->envelope = take_str(&r, want & HCACHE_WANT_ENVELOPE, NULL);
	if (version == MSG_VERSION)
		m->threadkey = take_str(&r, want & HCACHE_WANT_THREADKEY, &m->threadkey_len);
	/* The envelope, after all, of a record without a thread key. */
	if (!r.bad && m->threadkey_len == 0 && m->envelope == NULL &&
	    (want & HCACHE_WANT_ENVELOPE_IF_NO_KEY)) {
		struct reader again = { (const unsigned char *)v->mv_data + env_at, r.end, false };

		m->envelope = take_str(&again, true, NULL);
	}
	if (r.bad || r.p != r.end) {
		hcache_msg_clear(m);
		return -1;
	}
	return 0;
}

/* Decodes the hot record v into m (the keywords when want asks) and
 * *own_r (HOT_*): -1 when it does not decode. */
static int decode_hot(const MDB_val *v, uint32_t uid, unsigned want, struct hcache_msg *m,
		      unsigned char *own_r)
{
	struct reader r = { v->mv_data, (const unsigned char *)v->mv_data + v->mv_size, false };
	unsigned char version;

	memset(m, 0, sizeof(*m));
	m->uid = uid;
	take(&r, &version, 1);
	if (version != HOT_VERSION)
		return -1;
	take(&r, own_r, 1);
	take_numbers(&r, m);
	m->keywords = take_str(&r, want & HCACHE_WANT_KEYWORDS, NULL);
	if (r.bad || r.p != r.end) {
		hcache_msg_clear(m);
		return -1;
	}
	return 0;
}

void hcache_msg_clear(struct hcache_msg *m)
{
	if (m == NULL)
		return;
	free(m->keywords);
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->references);
	free(m->envelope);
	free(m->threadkey);
	memset(m, 0, sizeof(*m));
}

/* ---- folders ---- */

static int folder_key(struct hcache *hc, const char *folder, struct sbuf *key, char **error_r)
{
	sbuf_addch(key, 'F');
	sbuf_addstr(key, folder);
	if (key->len > (size_t)mdb_env_get_maxkeysize(hc->env)) {
		*error_r = xasprintf("header cache: folder name too long: %.40s...", folder);
		return -1;
	}
	return 0;
}

/* 1 with *rec, 0 when absent, -1. */
int hcache_folder_read(struct hcache *hc, MDB_txn *txn, const char *folder,
		       struct folder_rec *rec, char **error_r)
{
	struct sbuf key = SBUF_INIT;
	MDB_val k, v;
	int rc;

	if (folder_key(hc, folder, &key, error_r) < 0) {
		sbuf_release(&key);
		return -1;
	}
	k.mv_size = key.len;
	k.mv_data = key.buf;
	rc = mdb_get(txn, hc->dbi, &k, &v);
	sbuf_release(&key);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return hcache_mdb_fail(error_r, hc, "reading a folder", rc);
	memset(rec, 0, sizeof(*rec));
	if (v.mv_size != sizeof(*rec) && v.mv_size != FOLDER_REC_V1)
		return hcache_garbled(error_r, hc, folder);
	memcpy(rec, v.mv_data, v.mv_size);
	return 1;
}

static int folder_write(struct hcache *hc, MDB_txn *txn, const char *folder,
			const struct folder_rec *rec, char **error_r)
{
	struct sbuf key = SBUF_INIT;
	MDB_val k, v = { sizeof(*rec), (void *)rec };
	int rc;

	if (folder_key(hc, folder, &key, error_r) < 0) {
		sbuf_release(&key);
		return -1;
	}
	k.mv_size = key.len;
	k.mv_data = key.buf;
	rc = mdb_put(txn, hc->dbi, &k, &v, 0);
	sbuf_release(&key);
	return rc != 0 ? hcache_mdb_fail(error_r, hc, "writing a folder", rc) : 0;
}

static int next_id(struct hcache *hc, MDB_txn *txn, uint32_t *id_r, char **error_r)
{
	MDB_val k = { 1, "N" }, v;
	uint32_t id = 1;
	int rc = mdb_get(txn, hc->dbi, &k, &v);

	if (rc == 0 && v.mv_size == sizeof(id))
		memcpy(&id, v.mv_data, sizeof(id));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return hcache_mdb_fail(error_r, hc, "reading the next id", rc);
	*id_r = id;
	id++;
	v.mv_size = sizeof(id);
	v.mv_data = &id;
	rc = mdb_put(txn, hc->dbi, &k, &v, 0);
	return rc != 0 ? hcache_mdb_fail(error_r, hc, "writing the next id", rc) : 0;
}

/* Calls fn(value, uid) for each record of kind ('M' or 'R') of folder id
 * in UID order from UID first on, in txn; fn returning non-zero stops the
 * walk with that value.  WALK_DELETE deletes each record after fn.  A
 * WALK_READ, in a read transaction only (in a write one a page may be a
 * changed copy on the heap), lets go of the map's pages every
 * WALK_RELEASE_EVERY records and at its end.  0, fn's value, or -1. */
enum walk_mode { WALK_READ, WALK_DELETE };
static int walk(struct hcache *hc, MDB_txn *txn, char kind, uint32_t id, uint32_t first,
		enum walk_mode mode,
		int (*fn)(const MDB_val *v, uint32_t uid, void *ctx, char **error_r), void *ctx,
		char **error_r)
{
	bool del = mode == WALK_DELETE;

	unsigned char start[MSG_KEY_SIZE];
	MDB_cursor *cur;
	MDB_val k, v;
	struct map_span sp = { 0, 0 };
	size_t seen = 0;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(txn, hc->dbi, &cur)) != 0)
		return hcache_mdb_fail(error_r, hc, "cursor", rc);
	rec_key(start, kind, id, first);
	k.mv_size = sizeof(start);
	k.mv_data = start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MSG_KEY_SIZE || memcmp(k.mv_data, start, 5) != 0)
			break;
		/* A read walk lets go of the map's pages as it goes
		 * (lib/mapdrop.h): a client keeps none of them. */
		if (mode == WALK_READ) {
			map_span_add(&sp, v.mv_data, v.mv_size);
			if (++seen % WALK_RELEASE_EVERY == 0)
				map_span_drop(&sp);
		}
		r = fn(&v, get_be32((const unsigned char *)k.mv_data + 5), ctx, error_r);
		/* After a delete the cursor stands on the next record, and
		 * MDB_NEXT knows it (LMDB's C_DEL). */
		if (r == 0 && del && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (seen > 0)
		map_span_drop(&sp);
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		return hcache_mdb_fail(error_r, hc, "walking messages", rc);
	return r;
}

static int count_one(const MDB_val *v, uint32_t uid, void *ctx, char **error_r)
{
	(*(size_t *)ctx)++;
	return 0;
}

int hcache_begin(struct hcache *hc, unsigned flags, MDB_txn **txn, char **error_r)
{
	int rc = mdb_txn_begin(hc->env, NULL, flags, txn);

	return rc != 0 ? hcache_mdb_fail(error_r, hc, "transaction", rc) : 0;
}

int hcache_commit(struct hcache *hc, MDB_txn *txn, char **error_r)
{
	int rc = mdb_txn_commit(txn);

	return rc != 0 ? hcache_mdb_fail(error_r, hc, "commit", rc) : 0;
}

/* The hot records made from the full ones (collected first: the walk's
 * cursor is not written under). */
struct hot_made {
	struct sbuf recs;	/* per record: uid, length, bytes */
	struct sbuf tmp;
	unsigned want;
};

static int make_hot_one(const MDB_val *v, uint32_t uid, void *ctx, char **error_r)
{
	struct hot_made *h = ctx;
	struct hcache_msg m;
	uint32_t len;

	/* The keywords, and whether there is a thread key (its length comes
	 * with every decode). */
	if (decode_msg(v, uid, HCACHE_WANT_KEYWORDS, &m) < 0)
		return 1;
	if (m.threadkey_len > 0)
		m.threadkey = "";	/* only its presence is encoded */
	sbuf_reset(&h->tmp);
	encode_hot(&h->tmp, &m);
	m.threadkey = NULL;
	hcache_msg_clear(&m);
	len = (uint32_t)h->tmp.len;
	sbuf_add(&h->recs, &uid, sizeof(uid));
	sbuf_add(&h->recs, &len, sizeof(len));
	sbuf_add(&h->recs, h->tmp.buf, h->tmp.len);
	return 0;
}

/* Makes the hot records of folder (a cache written before them) from its
 * full ones.  The full records are read in a read transaction, which lets
 * go of the map's pages (all 120 MB of 100,000 would count in the
 * resident size), and written in a write transaction that follows it with
 * no commit between (else nothing is done: the next open tries again).
 * 0, or -1. */
static int make_hot(struct hcache *hc, const char *folder, char **error_r)
{
	struct hot_made h = { SBUF_INIT, SBUF_INIT, 0 };
	struct folder_rec rec;
	size_t stale = 0, seen;
	bool writing = false;
	MDB_txn *txn;
	int r;

	if (hcache_begin(hc, MDB_RDONLY, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r > 0) {
		/* make_hot_one stops the walk (1) at a record that does not
		 * decode. */
		r = walk(hc, txn, 'M', rec.id, 0, WALK_READ, make_hot_one, &h, error_r);
		r = r == 0 ? 1 : r > 0 ? hcache_garbled(error_r, hc, "a message") : -1;
	}
	seen = mdb_txn_id(txn);
	mdb_txn_abort(txn);
	if (r > 0) {
		if (hcache_begin(hc, 0, &txn, error_r) < 0)
			r = -1;
		else if (mdb_txn_id(txn) != seen + 1)
			mdb_txn_abort(txn), r = 0;	/* another write came between */
		else
			writing = true;
	}
	/* Any left (written beside an older loft's) go first. */
	if (writing)
		r = walk(hc, txn, 'R', rec.id, 0, WALK_DELETE, count_one, &stale, error_r);
	for (size_t at = 0; writing && r == 0 && at < h.recs.len;) {
		unsigned char key[MSG_KEY_SIZE];
		uint32_t uid, len;
		MDB_val k = { sizeof(key), key }, v;
		int rc;

		memcpy(&uid, h.recs.buf + at, sizeof(uid));
		memcpy(&len, h.recs.buf + at + sizeof(uid), sizeof(len));
		at += sizeof(uid) + sizeof(len);
		rec_key(key, 'R', rec.id, uid);
		v.mv_size = len;
		v.mv_data = h.recs.buf + at;
		at += len;
		if ((rc = mdb_put(txn, hc->dbi, &k, &v, 0)) != 0)
			r = hcache_mdb_fail(error_r, hc, "writing a message", rc);
	}
	if (writing) {
		rec.hot = HOT_VERSION;
		if (r == 0 && folder_write(hc, txn, folder, &rec, error_r) == 0)
			r = hcache_commit(hc, txn, error_r);
		else
			mdb_txn_abort(txn), r = -1;
	}
	sbuf_release(&h.recs);
	sbuf_release(&h.tmp);
	return r < 0 ? -1 : 0;
}

int hcache_folder_open(struct hcache *hc, const char *folder, uint32_t uidvalidity,
		       size_t *dropped_r, char **error_r)
{
	struct folder_rec rec;
	size_t dropped = 0, hot = 0;
	MDB_txn *txn;
	int r;

	if (hcache_begin(hc, 0, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r < 0)
		goto fail;
	if (dropped_r != NULL)
		*dropped_r = 0;
	if (r > 0 && rec.uidvalidity == uidvalidity && rec.hot == HOT_VERSION) {
		mdb_txn_abort(txn);
		return 0;
	}
	if (r > 0 && rec.uidvalidity == uidvalidity) {
		/* Once, on a cache written before the hot records. */
		mdb_txn_abort(txn);
		return make_hot(hc, folder, error_r);
	}
	if (r > 0) {
		if (walk(hc, txn, 'M', rec.id, 0, WALK_DELETE, count_one, &dropped, error_r) < 0 ||
		    walk(hc, txn, 'R', rec.id, 0, WALK_DELETE, count_one, &hot, error_r) < 0)
			goto fail;
	} else {
		memset(&rec, 0, sizeof(rec));
		if (next_id(hc, txn, &rec.id, error_r) < 0)
			goto fail;
	}
	rec.uidvalidity = uidvalidity;
	rec.uidnext = 0;
	rec.highestmodseq = 0;
	rec.hot = HOT_VERSION;	/* none, all of them */
	if (folder_write(hc, txn, folder, &rec, error_r) < 0)
		goto fail;
	if (dropped_r != NULL)
		*dropped_r = dropped;
	return hcache_commit(hc, txn, error_r);
fail:
	mdb_txn_abort(txn);
	return -1;
}

int hcache_folder_get(struct hcache *hc, const char *folder, struct hcache_folder *f_r,
		      char **error_r)
{
	struct folder_rec rec;
	MDB_txn *txn;
	int r;

	if (hcache_begin(hc, MDB_RDONLY, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	mdb_txn_abort(txn);
	if (r > 0) {
		f_r->uidvalidity = rec.uidvalidity;
		f_r->uidnext = rec.uidnext;
		f_r->highestmodseq = rec.highestmodseq;
	}
	return r;
}

/* One write transaction on an opened folder: fn does the work in txn on
 * folder record rec (which it may change: it is written back).  0, or
 * -1 with nothing changed. */
static int write_folder(struct hcache *hc, const char *folder,
			int (*fn)(struct hcache *hc, MDB_txn *txn, struct folder_rec *rec,
				  const void *ctx, char **error_r),
			const void *ctx, char **error_r)
{
	struct folder_rec rec;
	MDB_txn *txn;
	int r;

	if (hcache_begin(hc, 0, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r == 0)
		*error_r = xasprintf("header cache: folder %s was not opened", folder);
	if (r <= 0 || fn(hc, txn, &rec, ctx, error_r) < 0 ||
	    folder_write(hc, txn, folder, &rec, error_r) < 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return hcache_commit(hc, txn, error_r);
}

struct folder_numbers {
	uint32_t uidnext;
	uint64_t highestmodseq;
};

static int set_numbers(struct hcache *hc, MDB_txn *txn, struct folder_rec *rec, const void *ctx,
		       char **error_r)
{
	const struct folder_numbers *n = ctx;

	rec->uidnext = n->uidnext;
	rec->highestmodseq = n->highestmodseq;
	return 0;
}

int hcache_folder_set(struct hcache *hc, const char *folder, uint32_t uidnext,
		      uint64_t highestmodseq, char **error_r)
{
	struct folder_numbers n = { uidnext, highestmodseq };

	return write_folder(hc, folder, set_numbers, &n, error_r);
}

/* ---- messages ---- */

struct batch {
	const struct hcache_msg *msgs;
	const uint32_t *uids;
	size_t n;
};

static int put_msg(struct hcache *hc, MDB_txn *txn, uint32_t id, const struct hcache_msg *m,
		   char **error_r)
{
	unsigned char key[MSG_KEY_SIZE];
	struct sbuf b = SBUF_INIT;
	MDB_val k = { sizeof(key), key }, v;
	int rc;

	msg_key(key, id, m->uid);
	encode_msg(&b, m);
	v.mv_size = b.len;
	v.mv_data = b.buf;
	rc = mdb_put(txn, hc->dbi, &k, &v, 0);
	if (rc == 0) {
		/* Its hot half, in the same transaction. */
		rec_key(key, 'R', id, m->uid);
		sbuf_reset(&b);
		encode_hot(&b, m);
		v.mv_size = b.len;
		v.mv_data = b.buf;
		rc = mdb_put(txn, hc->dbi, &k, &v, 0);
	}
	sbuf_release(&b);
	return rc != 0 ? hcache_mdb_fail(error_r, hc, "writing a message", rc) : 0;
}

/* 1 with *m (the strings want asks for), 0 when absent, -1. */
static int get_msg_want(struct hcache *hc, MDB_txn *txn, uint32_t id, uint32_t uid,
			unsigned want, struct hcache_msg *m, char **error_r)
{
	unsigned char key[MSG_KEY_SIZE];
	MDB_val k = { sizeof(key), key }, v;
	int rc;

	msg_key(key, id, uid);
	rc = mdb_get(txn, hc->dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return hcache_mdb_fail(error_r, hc, "reading a message", rc);
	return decode_msg(&v, uid, want, m) < 0 ? hcache_garbled(error_r, hc, "a message") : 1;
}

static int get_msg(struct hcache *hc, MDB_txn *txn, uint32_t id, uint32_t uid,
		   struct hcache_msg *m, char **error_r)
{
	return get_msg_want(hc, txn, id, uid, HCACHE_WANT_ALL, m, error_r);
}

static int put_all(struct hcache *hc, MDB_txn *txn, struct folder_rec *rec, const void *ctx,
		   char **error_r)
{
	const struct batch *b = ctx;

	for (size_t i = 0; i < b->n; i++)
		if (put_msg(hc, txn, rec->id, &b->msgs[i], error_r) < 0)
			return -1;
	return 0;
}

int hcache_put(struct hcache *hc, const char *folder, const struct hcache_msg *msgs, size_t n,
	       char **error_r)
{
	struct batch b = { msgs, NULL, n };

	return write_folder(hc, folder, put_all, &b, error_r);
}

static int flags_all(struct hcache *hc, MDB_txn *txn, struct folder_rec *rec, const void *ctx,
		     char **error_r)
{
	const struct batch *b = ctx;

	for (size_t i = 0; i < b->n; i++) {
		const struct hcache_msg *in = &b->msgs[i];
		struct hcache_msg m;
		int r = get_msg(hc, txn, rec->id, in->uid, &m, error_r);

		if (r <= 0) {
			if (r < 0)
				return -1;
			continue;
		}
		free(m.keywords);
		m.keywords = in->keywords != NULL ? xstrdup(in->keywords) : NULL;
		m.flags = in->flags;
		m.modseq = in->modseq;
		r = put_msg(hc, txn, rec->id, &m, error_r);
		hcache_msg_clear(&m);
		if (r < 0)
			return -1;
	}
	return 0;
}

int hcache_set_flags(struct hcache *hc, const char *folder, const struct hcache_msg *msgs,
		     size_t n, char **error_r)
{
	struct batch b = { msgs, NULL, n };

	return write_folder(hc, folder, flags_all, &b, error_r);
}

static int remove_all(struct hcache *hc, MDB_txn *txn, struct folder_rec *rec, const void *ctx,
		      char **error_r)
{
	const struct batch *b = ctx;

	for (size_t i = 0; i < b->n; i++) {
		unsigned char key[MSG_KEY_SIZE];
		MDB_val k = { sizeof(key), key };
		int rc;

		msg_key(key, rec->id, b->uids[i]);
		rc = mdb_del(txn, hc->dbi, &k, NULL);
		if (rc == 0 || rc == MDB_NOTFOUND) {
			rec_key(key, 'R', rec->id, b->uids[i]);
			rc = mdb_del(txn, hc->dbi, &k, NULL);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return hcache_mdb_fail(error_r, hc, "removing a message", rc);
	}
	return 0;
}

int hcache_remove(struct hcache *hc, const char *folder, const uint32_t *uids, size_t n,
		  char **error_r)
{
	struct batch b = { NULL, uids, n };

	return write_folder(hc, folder, remove_all, &b, error_r);
}

int hcache_get(struct hcache *hc, const char *folder, uint32_t uid, struct hcache_msg *m_r,
	       char **error_r)
{
	struct folder_rec rec;
	MDB_txn *txn;
	int r;

	if (hcache_begin(hc, MDB_RDONLY, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r > 0)
		r = get_msg(hc, txn, rec.id, uid, m_r, error_r);
	mdb_txn_abort(txn);
	return r;
}

struct foreach_ctx {
	int (*fn)(const struct hcache_msg *m, void *ctx);
	void *ctx;
	struct hcache *hc;
	unsigned want;
	MDB_txn *txn;
	uint32_t id;
};

/* A walk over folder from UID first on in a read transaction, of the hot
 * records with hot_fn when hot and the folder has them all (fc, when not
 * NULL, told the transaction and the folder's id), else of the full ones
 * with fn; a folder not cached has no messages. */
static int read_walk(struct hcache *hc, const char *folder, uint32_t first, bool hot,
		     int (*fn)(const MDB_val *v, uint32_t uid, void *ctx, char **error_r),
		     int (*hot_fn)(const MDB_val *v, uint32_t uid, void *ctx, char **error_r),
		     struct foreach_ctx *fc, void *ctx, char **error_r)
{
	struct folder_rec rec;
	MDB_txn *txn;
	int r;

	if (hcache_begin(hc, MDB_RDONLY, &txn, error_r) < 0)
		return -1;
	r = hcache_folder_read(hc, txn, folder, &rec, error_r);
	if (r > 0 && hot && rec.hot == HOT_VERSION) {
		if (fc != NULL) {
			fc->txn = txn;
			fc->id = rec.id;
		}
		r = walk(hc, txn, 'R', rec.id, first, WALK_READ, hot_fn, ctx, error_r);
	} else if (r > 0) {
		r = walk(hc, txn, 'M', rec.id, first, WALK_READ, fn, ctx, error_r);
	}
	mdb_txn_abort(txn);
	return r;
}

static int foreach_one(const MDB_val *v, uint32_t uid, void *ctx, char **error_r)
{
	struct foreach_ctx *fc = ctx;
	struct hcache_msg m;
	int r;

	if (decode_msg(v, uid, fc->want, &m) < 0)
		return hcache_garbled(error_r, fc->hc, "a message");
	r = fc->fn(&m, fc->ctx);
	hcache_msg_clear(&m);
	return r;
}

/* A hot record to fn; a record whose full one has no thread key has that
 * one read when the walk wants its envelope then. */
static int foreach_hot(const MDB_val *v, uint32_t uid, void *ctx, char **error_r)
{
	struct foreach_ctx *fc = ctx;
	struct hcache_msg m;
	unsigned char own;
	int r;

	if (decode_hot(v, uid, fc->want, &m, &own) < 0)
		return hcache_garbled(error_r, fc->hc, "a message");
	if ((fc->want & HCACHE_WANT_ENVELOPE_IF_NO_KEY) && !(own & HOT_HAS_THREADKEY)) {
		hcache_msg_clear(&m);
		r = get_msg_want(fc->hc, fc->txn, fc->id, uid, fc->want, &m, error_r);
		if (r <= 0)
			return r < 0 ? -1 : hcache_garbled(error_r, fc->hc, "a message");
	}
	r = fc->fn(&m, fc->ctx);
	hcache_msg_clear(&m);
	return r;
}

int hcache_foreach(struct hcache *hc, const char *folder,
		   int (*fn)(const struct hcache_msg *m, void *ctx), void *ctx, char **error_r)
{
	return hcache_walk(hc, folder, HCACHE_WANT_ALL, fn, ctx, error_r);
}

int hcache_walk(struct hcache *hc, const char *folder, unsigned want,
		int (*fn)(const struct hcache_msg *m, void *ctx), void *ctx, char **error_r)
{
	return hcache_walk_from(hc, folder, 0, want, fn, ctx, error_r);
}

int hcache_walk_from(struct hcache *hc, const char *folder, uint32_t first_uid, unsigned want,
		     int (*fn)(const struct hcache_msg *m, void *ctx), void *ctx, char **error_r)
{
	struct foreach_ctx fc = { fn, ctx, hc, want, NULL, 0 };
	/* No header string asked for: the hot records do. */
	bool hot = (want & ~(unsigned)(HCACHE_WANT_KEYWORDS | HCACHE_WANT_ENVELOPE_IF_NO_KEY)) == 0;

	return read_walk(hc, folder, first_uid, hot, foreach_one, foreach_hot, &fc, &fc, error_r);
}

long hcache_count(struct hcache *hc, const char *folder, char **error_r)
{
	size_t n = 0;

	return read_walk(hc, folder, 0, true, count_one, count_one, NULL, &n, error_r) < 0
		       ? -1 : (long)n;
}
