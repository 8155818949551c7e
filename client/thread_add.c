/* thread_add: new messages added to built threads; see thread_add.h.
 *
 * How thread_build() places a message, and what of the old messages that
 * takes (client/thread.c):
 *   - its parent is the nearest present message up its References (and
 *     In-Reply-To) chain: the last present one it names, when every id
 *     after that one is new (a dummy no old message refers to);
 *   - the chain also sets the parent of each named container that has
 *     none yet: harmless for a new id, a change to an old message whose
 *     parent came from nowhere (a "free" one: no references of its own,
 *     or a loop cut) or to an old dummy's children: refused;
 *   - a top without references may join, by subject, the earliest top
 *     with the same subject: that top and its date are kept per subject;
 *     a new message earlier than it would take its place: refused;
 *   - children by date (then index), threads by activity (then index).
 * A new message's index is the largest, so ties put it last.
 *
 * The bytes: a header, every message's date, the id entries sorted by
 * hash, the subject entries sorted by hash.  64-bit hashes stand for the
 * ids (two ids of one folder sharing one is a 2^-40 chance).  They are
 * read where they lie (a cache's map: aligned to 4 only), each entry
 * copied out as it is looked at: an add reads a few of them, not all. */
#include "client/thread_add.h"
#include "client/thread-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define IDS_MAGIC 0x6c746964u	/* "ltid" */
#define IDS_VERSION 1u
/* More new messages than this: thread them all again (the checks are
 * linear in the new ones). */
#define ADD_MAX 1024

struct ids_head {
	uint32_t magic, version;
	uint64_t n, n_ids, n_subj;
	uint32_t opts, pad;
};

struct id_ent {
	uint64_t h;
	int32_t idx;		/* the message owning the id; -1: only referenced */
	uint32_t free;		/* its parent may still be set by a chain */
};

struct subj_ent {
	uint64_t h;
	int64_t date;		/* the anchor's */
	int32_t anchor;		/* the earliest top with the subject */
	uint32_t pad;
};

static uint32_t opts_bits(const struct thread_options *opt)
{
	return (uint32_t)opt->subject_fallback | (uint32_t)opt->subject_needs_reply << 1 |
	       (uint32_t)opt->strip_list_tags << 2 | (uint32_t)opt->newest_first << 3;
}

/* FNV-1a over 64 bits, then mixed: ids are short. */
static uint64_t hash64(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	return h ^ h >> 33;
}

/* ---- an input's ids, as thread_build reads them ---- */

struct msg_ids {
	uint64_t own;		/* 0: none */
	uint64_t *refs;		/* add_ref's list: no self, no repeat in a row */
	size_t n, cap;
};

static void first_id(const char *id, size_t len, void *ctx)
{
	uint64_t *h = ctx;

	if (*h == 0)
		*h = hash64(id, len) | 1;	/* never 0 */
}

static void push_ref(struct msg_ids *m, uint64_t h)
{
	if (h == m->own || (m->n > 0 && m->refs[m->n - 1] == h))
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->refs = xreallocarray(m->refs, m->cap, sizeof(*m->refs));
	}
	m->refs[m->n++] = h;
}

static void ref_id(const char *id, size_t len, void *ctx)
{
	push_ref(ctx, hash64(id, len) | 1);
}

static void read_ids(const struct thread_input *in, struct msg_ids *m)
{
	uint64_t irt = 0;

	m->own = 0;
	m->n = 0;
	if (in->message_id != NULL)
		thread_parse_ids(in->message_id, first_id, &m->own);
	if (in->references != NULL)
		thread_parse_ids(in->references, ref_id, m);
	if (in->in_reply_to != NULL)
		thread_parse_ids(in->in_reply_to, first_id, &irt);
	if (irt != 0)
		push_ref(m, irt);
}

/* The normalised subject's hash (0: empty) and whether it was a reply. */
static uint64_t subject_hash(const struct thread_input *in, const struct thread_options *opt,
			     bool *reply_r)
{
	const char *s;
	size_t len = thread_subject_normalize(in->subject, opt->strip_list_tags, &s, reply_r);

	return len ? hash64(s, len) | 1 : 0;
}

/* ---- the bytes ---- */

static int cmp_id(const void *a, const void *b)
{
	const struct id_ent *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	/* A message's own entry before a reference's. */
	return (x->idx < 0) - (y->idx < 0);
}

static int cmp_subj(const void *a, const void *b)
{
	const struct subj_ent *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return (x->anchor > y->anchor) - (x->anchor < y->anchor);
}

/* Sorts v and keeps the first entry of each hash; the count kept. */
static size_t sort_unique(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	size_t m = 0;

	qsort(v, n, size, cmp);
	for (size_t i = 0; i < n; i++) {
		char *e = (char *)v + i * size;

		if (m > 0 && *(uint64_t *)e == *(uint64_t *)((char *)v + (m - 1) * size))
			continue;
		memmove((char *)v + m * size, e, size);
		m++;
	}
	return m;
}

/* The header and the dates; the n_ids id entries, then the n_subj
 * subject entries, follow (the caller's). */
static void put_head(struct sbuf *out, uint32_t opts, const int64_t *dates, size_t n,
		     size_t n_ids, size_t n_subj)
{
	struct ids_head h = { IDS_MAGIC, IDS_VERSION, n, n_ids, n_subj, opts, 0 };

	sbuf_add(out, &h, sizeof(h));
	sbuf_add(out, dates, n * sizeof(*dates));
}

void thread_ids_make(const struct thread *t, thread_input_fn *fn, void *ctx,
		     const struct thread_options *opt, struct sbuf *out)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	size_t n = t->n;
	struct msg_ids m = { 0 };
	int64_t *dates = xcalloc(n + 1, sizeof(*dates));
	struct id_ent *ids = NULL;
	struct subj_ent *subj = xcalloc(n + 1, sizeof(*subj));
	size_t n_ids = 0, cap = n * 2 + 16, n_subj = 0;

	if (opt == NULL)
		opt = &defaults;
	ids = xcalloc(cap, sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		uint32_t flags = t->nodes[i].flags;
		struct thread_input in = { 0 };
		bool reply;

		fn(ctx, i, THREAD_FIELD_ID | THREAD_FIELD_REFS | THREAD_FIELD_SUBJECT, &in);
		dates[i] = in.date;
		read_ids(&in, &m);
		if (n_ids + m.n + 1 > cap) {
			cap = (n_ids + m.n + 1) * 2;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		/* A duplicate's id belongs to its first copy's container. */
		if (m.own != 0 && !(flags & THREAD_DUPLICATE))
			ids[n_ids++] = (struct id_ent){ m.own, (int32_t)i,
							m.n == 0 || (flags & THREAD_LOOP_CUT) };
		for (size_t r = 0; r < m.n; r++)
			ids[n_ids++] = (struct id_ent){ m.refs[r], -1, 0 };
		/* The tops before the subject pass: the tops and those it
		 * joined. */
		if (opt->subject_fallback &&
		    (t->nodes[i].parent < 0 || (flags & THREAD_BY_SUBJECT))) {
			uint64_t h = subject_hash(&in, opt, &reply);

			if (h != 0)
				subj[n_subj++] = (struct subj_ent){ h, in.date, (int32_t)i, 0 };
		}
	}
	free(m.refs);
	n_ids = sort_unique(ids, n_ids, sizeof(*ids), cmp_id);
	n_subj = sort_unique(subj, n_subj, sizeof(*subj), cmp_subj);
	put_head(out, opts_bits(opt), dates, n, n_ids, n_subj);
	sbuf_add(out, ids, n_ids * sizeof(*ids));
	sbuf_add(out, subj, n_subj * sizeof(*subj));
	free(dates);
	free(ids);
	free(subj);
}

/* ---- adding ---- */

struct old {
	const char *dates;		/* n int64_t */
	const char *ids;		/* n_ids struct id_ent */
	const char *subj;		/* n_subj struct subj_ent */
	size_t n, n_ids, n_subj;
};

/* The hash an entry starts with. */
static uint64_t hash_at(const char *e)
{
	uint64_t h;

	memcpy(&h, e, sizeof(h));
	return h;
}

/* Whether hash h has an entry in v[0..n) (entries of size bytes, sorted
 * by the hash they start with); the entry copied to *e_r (may be NULL). */
static bool find_hash(const char *v, size_t n, size_t size, uint64_t h, void *e_r)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t eh = hash_at(v + mid * size);

		if (eh == h) {
			if (e_r != NULL)
				memcpy(e_r, v + mid * size, size);
			return true;
		}
		if (eh < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool find_id(const struct old *o, uint64_t h, struct id_ent *e_r)
{
	return find_hash(o->ids, o->n_ids, sizeof(*e_r), h, e_r);
}

static bool find_subj(const struct old *o, uint64_t h, struct subj_ent *s_r)
{
	return find_hash(o->subj, o->n_subj, sizeof(*s_r), h, s_r);
}

static bool in_list(const uint64_t *v, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == h)
			return true;
	return false;
}

/* The bytes read back: false when they are not ids of t's n messages
 * threaded with opt. */
static bool read_old(const void *data, size_t len, size_t n, uint32_t opts, struct old *o)
{
	struct ids_head h;
	const char *p = data;

	if (len < sizeof(h))
		return false;
	memcpy(&h, p, sizeof(h));
	if (h.magic != IDS_MAGIC || h.version != IDS_VERSION || h.n != n || h.opts != opts ||
	    h.n_ids > len || h.n_subj > len ||
	    len != sizeof(h) + h.n * sizeof(int64_t) + h.n_ids * sizeof(struct id_ent) +
			   h.n_subj * sizeof(struct subj_ent))
		return false;
	o->dates = p + sizeof(h);
	o->ids = o->dates + h.n * sizeof(int64_t);
	o->subj = o->ids + h.n_ids * sizeof(struct id_ent);
	o->n = n;
	o->n_ids = h.n_ids;
	o->n_subj = h.n_subj;
	return true;
}

/* What one new message is: its parent (-1: a top), flags, and the ids and
 * subject it adds.  false: an old message could move. */
struct placed {
	int32_t parent;
	uint32_t flags;
	uint64_t subj;		/* a new subject it anchors; 0: none */
};

struct batch {
	uint64_t *seen;		/* ids the new messages own or name */
	size_t n_seen, cap;
	uint64_t *subj;		/* subjects the new tops carry */
	size_t n_subj;
};

static void batch_add(struct batch *b, uint64_t h)
{
	if (b->n_seen == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->seen = xreallocarray(b->seen, b->cap, sizeof(*b->seen));
	}
	b->seen[b->n_seen++] = h;
}

static bool place(const struct old *o, struct batch *b, const struct thread_input *in,
		  const struct msg_ids *m, const struct thread_options *opt, struct placed *pl)
{
	struct id_ent e;

	*pl = (struct placed){ -1, 0, 0 };
	if (m->own != 0 && (find_id(o, m->own, NULL) || in_list(b->seen, b->n_seen, m->own)))
		return false;	/* a duplicate, or a parent someone named */
	for (size_t r = 0; r < m->n; r++) {
		if (in_list(m->refs, r, m->refs[r]) || in_list(b->seen, b->n_seen, m->refs[r]))
			return false;	/* a loop, or news naming news */
		/* An old dummy, a parent it would set, or bytes that name no
		 * old message. */
		if (find_id(o, m->refs[r], &e) &&
		    (e.idx < 0 || (e.free && r > 0) || (size_t)e.idx >= o->n))
			return false;
	}
	for (size_t r = m->n; r-- > 0;) {
		if (find_id(o, m->refs[r], &e)) {
			pl->parent = e.idx;
			break;
		}
	}
	if (m->n > 0 && !find_id(o, m->refs[m->n - 1], NULL))
		pl->flags |= THREAD_MISSING_PARENT;
	if (pl->parent < 0 && opt->subject_fallback) {
		bool reply;
		uint64_t h = subject_hash(in, opt, &reply);
		struct subj_ent s;
		bool known = h != 0 && find_subj(o, h, &s);

		if (h != 0 && in_list(b->subj, b->n_subj, h))
			return false;
		if (known && (in->date < s.date || s.anchor < 0 || (size_t)s.anchor >= o->n))
			return false;	/* it would lead the subject's thread */
		if (known && m->n == 0 && (!opt->subject_needs_reply || reply)) {
			pl->parent = s.anchor;
			pl->flags |= THREAD_BY_SUBJECT;
		} else if (!known && h != 0) {
			pl->subj = h;
		}
		if (h != 0)
			b->subj[b->n_subj++] = h;
	}
	if (m->own != 0)
		batch_add(b, m->own);
	for (size_t r = 0; r < m->n; r++)
		batch_add(b, m->refs[r]);
	return true;
}

struct root_key {
	int64_t key;
	int32_t idx;
};

static int cmp_root(const void *a, const void *b)
{
	const struct root_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* x into the children of p, by date then index (x's is the largest). */
static void link_child(struct thread_node *nodes, const int64_t *dates, int32_t p, int32_t x)
{
	int32_t *at = &nodes[p].first_child;

	while (*at >= 0 && dates[*at] <= dates[x])
		at = &nodes[*at].next_sibling;
	nodes[x].next_sibling = *at;
	*at = x;
}

/* The sorted a[0..na) and the sorted b[0..nb) (no hash in both), entries
 * of size bytes, merged onto the end of out. */
static void merge_onto(struct sbuf *out, const char *a, size_t na, const void *b, size_t nb,
		       size_t size)
{
	const char *x = a, *y = b, *xe = x + na * size, *ye = y + nb * size;

	sbuf_reserve(out, (na + nb) * size);
	while (x < xe || y < ye) {
		const char **from = y == ye || (x < xe && hash_at(x) < hash_at(y)) ? &x : &y;

		sbuf_add(out, *from, size);
		*from += size;
	}
}

/* The ids of the n + k: the old sorted entries merged with the new ones
 * (sorted apart: a few), so adding costs no sort of 200,000 entries. */
static void write_ids(struct sbuf *out, const struct old *o, uint32_t opts, const int64_t *dates,
		      size_t n, const struct msg_ids *ms, const struct placed *pl, size_t k)
{
	struct id_ent *ids = NULL;
	struct subj_ent *subj = xcalloc(k + 1, sizeof(*subj));
	size_t n_ids = 0, cap = 0, n_subj = 0;

	for (size_t j = 0; j < k; j++) {
		int32_t x = (int32_t)(o->n + j);

		if (n_ids + ms[j].n + 1 > cap) {
			cap = (n_ids + ms[j].n + 1) * 2;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		if (ms[j].own != 0)
			ids[n_ids++] = (struct id_ent){ ms[j].own, x, ms[j].n == 0 };
		for (size_t r = 0; r < ms[j].n; r++)
			if (!find_id(o, ms[j].refs[r], NULL))
				ids[n_ids++] = (struct id_ent){ ms[j].refs[r], -1, 0 };
		if (pl[j].subj != 0)
			subj[n_subj++] = (struct subj_ent){ pl[j].subj, dates[x], x, 0 };
	}
	/* New ids are in no old entry (place() made sure); a new dummy may
	 * repeat among the new. */
	n_ids = ids != NULL ? sort_unique(ids, n_ids, sizeof(*ids), cmp_id) : 0;
	n_subj = sort_unique(subj, n_subj, sizeof(*subj), cmp_subj);
	put_head(out, opts, dates, n, o->n_ids + n_ids, o->n_subj + n_subj);
	merge_onto(out, o->ids, o->n_ids, ids, n_ids, sizeof(*ids));
	merge_onto(out, o->subj, o->n_subj, subj, n_subj, sizeof(*subj));
	free(ids);
	free(subj);
}

/* The k new messages placed among the old (*ms_r, *pl_r: k entries each,
 * freed by placed_free, also on failure): false when one could move an
 * old message. */
static bool place_all(const struct old *o, const struct thread_input *in_new, size_t k,
		      const struct thread_options *opt, struct msg_ids **ms_r,
		      struct placed **pl_r)
{
	struct batch b = { 0 };
	bool ok = true;

	*ms_r = xcalloc(k, sizeof(**ms_r));
	*pl_r = xcalloc(k, sizeof(**pl_r));
	b.subj = xcalloc(k, sizeof(*b.subj));
	for (size_t j = 0; j < k && ok; j++) {
		read_ids(&in_new[j], &(*ms_r)[j]);
		ok = place(o, &b, &in_new[j], &(*ms_r)[j], opt, &(*pl_r)[j]);
	}
	free(b.seen);
	free(b.subj);
	return ok;
}

static void placed_free(struct msg_ids *ms, struct placed *pl, size_t k)
{
	for (size_t j = 0; j < k; j++)
		free(ms[j].refs);
	free(ms);
	free(pl);
}

int thread_add_ids(const void *ids, size_t ids_len, size_t n, const struct thread_input *in_new,
		   size_t k, const struct thread_options *opt, struct sbuf *out)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct old o;
	struct msg_ids *ms;
	struct placed *pl;
	int r = -1;

	if (opt == NULL)
		opt = &defaults;
	if (k == 0 || k > ADD_MAX || n + k >= (size_t)1 << 31 ||
	    !read_old(ids, ids_len, n, opts_bits(opt), &o))
		return -1;
	if (place_all(&o, in_new, k, opt, &ms, &pl)) {
		int64_t *dates = xcalloc(n + k, sizeof(*dates));

		memcpy(dates, o.dates, n * sizeof(*dates));
		for (size_t j = 0; j < k; j++)
			dates[n + j] = in_new[j].date;
		write_ids(out, &o, opts_bits(opt), dates, n + k, ms, pl, k);
		free(dates);
		r = 0;
	}
	placed_free(ms, pl, k);
	return r;
}

struct thread *thread_add(const struct thread *t, const void *ids, size_t ids_len,
			  const struct thread_input *in_new, size_t k,
			  const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct old o;
	struct msg_ids *ms;
	struct placed *pl;
	struct thread *nt = NULL;
	size_t n = t->n, total = t->n + k, nroots = 0;

	if (opt == NULL)
		opt = &defaults;
	if (k == 0 || k > ADD_MAX || total >= (size_t)1 << 31 ||
	    !read_old(ids, ids_len, n, opts_bits(opt), &o))
		return NULL;
	if (place_all(&o, in_new, k, opt, &ms, &pl)) {
		struct arena *arena = arena_new(0);
		struct thread_node *nodes = arena_alloc(arena, total * sizeof(*nodes));
		uint32_t *order = arena_alloc(arena, total * sizeof(*order));
		int64_t *dates = xcalloc(total, sizeof(*dates));
		struct root_key *roots = xcalloc(t->nroots + k + 1, sizeof(*roots));

		nt = arena_calloc(arena, 1, sizeof(*nt));
		*nt = (struct thread){ total, nodes, order, -1, 0, arena };
		memcpy(nodes, t->nodes, n * sizeof(*nodes));
		memcpy(dates, o.dates, n * sizeof(*dates));
		for (size_t j = 0; j < k; j++) {
			int32_t x = (int32_t)(n + j), p = pl[j].parent;

			dates[x] = in_new[j].date;
			nodes[x] = (struct thread_node){ p, -1, -1, x, 0, 0, 1, pl[j].flags, dates[x] };
			if (p >= 0) {
				link_child(nodes, dates, p, x);
				if (dates[x] > nodes[nodes[p].root].activity)
					nodes[nodes[p].root].activity = dates[x];
				nodes[x].root = nodes[p].root;
			}
		}
		/* The tops by activity again: the old ones keep their order but
		 * for those that got news, which move, as the new tops, into
		 * place (a merge of two sorted lists). */
		struct root_key *moved = xcalloc(2 * k + 1, sizeof(*moved));
		size_t n_moved = 0, n_kept = 0;

		for (int32_t r = t->first_root; r >= 0; r = t->nodes[r].next_sibling) {
			struct root_key rk = { nodes[r].activity, r };

			if (opt->newest_first)
				rk.key = -rk.key;
			if (nodes[r].activity != t->nodes[r].activity)
				moved[n_moved++] = rk;
			else
				roots[n_kept++] = rk;
		}
		for (size_t j = 0; j < k; j++)
			if (pl[j].parent < 0)
				moved[n_moved++] = (struct root_key){
					opt->newest_first ? -dates[n + j] : dates[n + j], (int32_t)(n + j)
				};
		qsort(moved, n_moved, sizeof(*moved), cmp_root);
		/* Merged from the back, in place. */
		nroots = n_kept + n_moved;
		for (size_t a = n_kept, m = n_moved, w = nroots; m > 0;) {
			if (a > 0 && cmp_root(&roots[a - 1], &moved[m - 1]) > 0)
				roots[--w] = roots[--a];
			else
				roots[--w] = moved[--m];
		}
		free(moved);
		int32_t *tops = xcalloc(nroots + 1, sizeof(*tops));

		for (size_t r = 0; r < nroots; r++)
			tops[r] = roots[r].idx;
		thread_lay_rows(nt, nodes, order, tops, nroots);
		free(tops);
		free(roots);
		free(dates);
	}
	placed_free(ms, pl, k);
	return nt;
}
