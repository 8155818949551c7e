/* thread: JWZ threading without recursion (see client/thread.h).
 *
 * Containers: one per message (index i < n), plus a "dummy" per id that is
 * referenced but not present.  Ids live in one open-addressing hash table
 * by their 64-bit hashes only: no string is kept, so the caller's input
 * needs to last one callback (a reader of a header cache hands out one
 * record at a time).  Two of 100,000 ids sharing a hash is a chance of
 * about one in two billion, and a crafted pair gains a sender nothing a
 * forged References header would not (client/thread_add.c keeps hashes
 * for ids too).  Parent links are set as JWZ says (a message's own last reference is authoritative,
 * links between earlier references only when the child has no parent yet)
 * and cycles are removed afterwards in one linear pass, instead of JWZ's
 * ancestor walk at every link, which is quadratic for deep threads.
 * Dummies are then dissolved: each message hangs under its nearest present
 * ancestor.  Everything after that works on message indices only. */
#include "client/thread.h"
#include "client/thread-private.h"

#include "lib/arena.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct ctr {
	uint64_t h;		/* its id's hash; 0: no id (or a duplicate) */
	int32_t parent;		/* container index, -1 none */
};

struct builder {
	thread_input_fn *fn;
	void *ctx;
	size_t n;
	int64_t *date;		/* each message's, asked once */
	struct ctr *c;
	size_t nc, cap;
	/* slot_of_hash(): the id hash's high half << 32 | (container index
	 * + 1); 0 empty. */
	uint64_t *slots;
	size_t mask;
	size_t used;
	/* References of the message being linked, as container indices. */
	int32_t *refs;
	size_t nrefs, refcap;
	int32_t self;
	uint32_t *flags;
};

/* Eight bytes a step (a byte-wise FNV-1a was a tenth of a 100,000-message
 * thread pass): multiply-rotate over the words, then mixed (murmur3's
 * finaliser) so that the table's low bits and the tag's high ones both
 * depend on every byte.  Never 0 (0 marks "no id"). */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = len * 0x9e3779b97f4a7c15ull, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = ((h << 5 | h >> 59) ^ w) * 0x517cc1b727220a95ull;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = ((h << 5 | h >> 59) ^ w) * 0x517cc1b727220a95ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h | 1;
}

/* A table slot: the hash's high half (the slot's place and a tag that
 * spares a look at the container on a mismatch), and the container. */
static uint64_t slot_of_hash(uint64_t h, size_t idx)
{
	return (h >> 32) << 32 | (uint32_t)(idx + 1);
}

static void table_grow(struct builder *b)
{
	size_t size = (b->mask + 1) * 2;
	uint64_t *slots = xcalloc(size, sizeof(*slots));

	for (size_t i = 0; i <= b->mask; i++) {
		uint64_t v = b->slots[i];

		if (v == 0)
			continue;
		size_t j = (size_t)(v >> 32) & (size - 1);

		while (slots[j] != 0)
			j = (j + 1) & (size - 1);
		slots[j] = v;
	}
	free(b->slots);
	b->slots = slots;
	b->mask = size - 1;
}

/* The slot of the id of hash h: where it is (*found_r its container),
 * else the empty slot where it would go (*found_r -1). */
static size_t probe(const struct builder *b, uint64_t h, int32_t *found_r)
{
	size_t j = (size_t)(h >> 32) & b->mask;

	for (;;) {
		uint64_t v = b->slots[j];

		if (v == 0)
			break;
		if (v >> 32 == h >> 32 && b->c[(uint32_t)v - 1].h == h) {
			*found_r = (int32_t)((uint32_t)v - 1);
			return j;
		}
		j = (j + 1) & b->mask;
	}
	*found_r = -1;
	return j;
}

/* Finds the container of id; with create, adds a dummy when absent.
 * Returns its index or -1. */
static int32_t lookup(struct builder *b, const char *id, size_t len, bool create)
{
	uint64_t h = hash_bytes(id, len);
	int32_t found;
	size_t j = probe(b, h, &found);

	if (found >= 0 || !create)
		return found;
	if (b->nc == b->cap) {
		b->cap *= 2;
		b->c = xreallocarray(b->c, b->cap, sizeof(*b->c));
	}
	b->c[b->nc] = (struct ctr){ h, -1 };
	b->slots[j] = slot_of_hash(h, b->nc++);
	if (++b->used * 2 > b->mask + 1)
		table_grow(b);
	return (int32_t)(b->nc - 1);
}

static void take_own_id(const char *id, size_t len, void *ctx)
{
	const char **first = ctx;

	if (first[0] == NULL) {
		first[0] = id;
		first[1] = id + len;
	}
}

static void add_ref(const char *id, size_t len, void *ctx)
{
	struct builder *b = ctx;
	int32_t c = lookup(b, id, len, true);

	/* Self-references and repeats of the previous id are dropped here. */
	if (c == b->self || (b->nrefs > 0 && b->refs[b->nrefs - 1] == c))
		return;
	if (b->nrefs == b->refcap) {
		b->refcap = b->refcap ? b->refcap * 2 : 64;
		b->refs = xreallocarray(b->refs, b->refcap, sizeof(*b->refs));
	}
	b->refs[b->nrefs++] = c;
}

/* The fields of message i (those asked, the others NULL). */
static void input(const struct builder *b, size_t i, unsigned fields, struct thread_input *in)
{
	*in = (struct thread_input){ NULL, NULL, NULL, NULL, 0 };
	b->fn(b->ctx, i, fields, in);
}

/* Pass 1: every message's own id (and date); the first copy of an id wins. */
static void insert_messages(struct builder *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const char *span[2] = { NULL, NULL };
		struct thread_input in;

		input(b, i, THREAD_FIELD_ID, &in);
		b->date[i] = in.date;
		b->c[i] = (struct ctr){ 0, -1 };
		if (in.message_id == NULL)
			continue;
		thread_parse_ids(in.message_id, take_own_id, span);
		if (span[0] == NULL)
			continue;
		uint64_t h = hash_bytes(span[0], (size_t)(span[1] - span[0]));
		int32_t old;
		/* Insert as container i (lookup(create) appends): one probe finds
		 * a copy or the place. */
		size_t j = probe(b, h, &old);

		if (old >= 0) {
			b->flags[i] |= THREAD_DUPLICATE;
			continue;
		}
		b->c[i] = (struct ctr){ h, -1 };
		b->slots[j] = slot_of_hash(h, i);
		if (++b->used * 2 > b->mask + 1)
			table_grow(b);
	}
}

/* Pass 2: references.  want[i] gets the parent message i's own headers
 * name; links between the earlier references are made when free. */
static void link_references(struct builder *b, int32_t *want, uint8_t *has_refs)
{
	for (size_t i = 0; i < b->n; i++) {
		struct thread_input in;

		input(b, i, THREAD_FIELD_REFS, &in);
		b->nrefs = 0;
		b->self = (int32_t)i;
		thread_parse_ids(in.references, add_ref, b);
		/* In-Reply-To is the better parent when References omit it
		 * (some clients trim or garble References). */
		if (in.in_reply_to != NULL) {
			const char *span[2] = { NULL, NULL };

			thread_parse_ids(in.in_reply_to, take_own_id, span);
			if (span[0] != NULL)
				add_ref(span[0], (size_t)(span[1] - span[0]), b);
		}
		want[i] = -1;
		has_refs[i] = b->nrefs > 0;
		if (b->nrefs == 0)
			continue;
		for (size_t k = 0; k + 1 < b->nrefs; k++) {
			struct ctr *child = &b->c[b->refs[k + 1]];

			if (child->parent < 0 && b->refs[k] != b->refs[k + 1])
				child->parent = b->refs[k];
		}
		want[i] = b->refs[b->nrefs - 1];
	}
	for (size_t i = 0; i < b->n; i++)
		if (want[i] >= 0)
			b->c[i].parent = want[i];
}

/* Cuts every cycle of parent links: each walk up marks its nodes with its
 * own stamp; meeting the stamp again means a loop, cut where it closes. */
static void break_cycles(struct builder *b)
{
	uint32_t *stamp = xcalloc(b->nc, sizeof(*stamp));

	for (size_t s = 0; s < b->nc; s++) {
		int32_t x = (int32_t)s;

		while (x >= 0 && stamp[x] == 0) {
			stamp[x] = (uint32_t)s + 1;
			int32_t p = b->c[x].parent;

			if (p >= 0 && stamp[p] == (uint32_t)s + 1) {
				b->c[x].parent = -1;
				if ((size_t)x < b->n)
					b->flags[x] |= THREAD_LOOP_CUT;
				break;
			}
			x = p;
		}
	}
	free(stamp);
}

/* For every container: nearest message ancestor (nma, -1 none) and top
 * container.  Iterative, memoised: linear overall. */
static void resolve_ancestors(struct builder *b, int32_t *nma, int32_t *top)
{
	int32_t *stack = xmalloc(b->nc * sizeof(*stack));

	for (size_t i = 0; i < b->nc; i++)
		top[i] = -2;	/* not computed */
	for (size_t s = 0; s < b->nc; s++) {
		size_t sp = 0;
		int32_t x = (int32_t)s;

		while (top[x] == -2) {
			int32_t p = b->c[x].parent;

			if (p < 0) {
				top[x] = x;
				nma[x] = -1;
				break;
			}
			stack[sp++] = x;
			x = p;
		}
		while (sp > 0) {
			int32_t y = stack[--sp], p = b->c[y].parent;

			top[y] = top[p];
			nma[y] = (size_t)p < b->n ? p : nma[p];
		}
	}
	free(stack);
}

struct subj_slot {
	uint64_t h;		/* the normalised subject's hash; 0: empty slot */
	int32_t anchor;		/* earliest top with this subject */
};

static bool earlier(const int64_t *date, int32_t a, int32_t b)
{
	return date[a] < date[b] || (date[a] == date[b] && a < b);
}

/* Tops without references join the earliest top with the same subject. */
static void subject_fallback(struct builder *b, int32_t *mp, const uint8_t *has_refs,
			     const struct thread_options *opt)
{
	size_t size = 16, tops = 0;

	/* Only tops go in: sized for them, not for every message. */
	for (size_t i = 0; i < b->n; i++)
		tops += mp[i] < 0;
	while (size < tops * 2)
		size *= 2;
	struct subj_slot *tab = xcalloc(size, sizeof(*tab));
	int32_t *slot_of = xmalloc((b->n ? b->n : 1) * sizeof(*slot_of));
	uint8_t *reply = xcalloc(b->n ? b->n : 1, 1);

	for (size_t i = 0; i < b->n; i++) {
		struct thread_input in;
		const char *s;
		bool r;
		size_t len;

		slot_of[i] = -1;
		if (mp[i] >= 0)
			continue;
		input(b, i, THREAD_FIELD_SUBJECT, &in);
		len = thread_subject_normalize(in.subject, opt->strip_list_tags, &s, &r);
		if (len == 0)
			continue;
		reply[i] = r;
		uint64_t h = hash_bytes(s, len);
		size_t j = h & (size - 1);

		while (tab[j].h != 0 && tab[j].h != h)
			j = (j + 1) & (size - 1);
		if (tab[j].h == 0)
			tab[j] = (struct subj_slot){ h, (int32_t)i };
		else if (earlier(b->date, (int32_t)i, tab[j].anchor))
			tab[j].anchor = (int32_t)i;
		slot_of[i] = (int32_t)j;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (slot_of[i] < 0 || has_refs[i] || (opt->subject_needs_reply && !reply[i]))
			continue;
		int32_t a = tab[slot_of[i]].anchor;

		/* The anchor is the earliest, so it never moves: no cycle. */
		if (a != (int32_t)i) {
			mp[i] = a;
			b->flags[i] |= THREAD_BY_SUBJECT;
		}
	}
	free(reply);
	free(slot_of);
	free(tab);
}

struct key {
	int64_t date;
	int32_t idx;
};

static int key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Children lists by date, thread activity, top order, display order. */
static void lay_out(struct thread *t, const int64_t *date, const int32_t *mp,
		    const uint32_t *flags, const struct thread_options *opt)
{
	size_t n = t->n;
	struct thread_node *nodes = arena_calloc(t->arena, n ? n : 1, sizeof(*nodes));
	uint32_t *order = arena_calloc(t->arena, n ? n : 1, sizeof(*order));
	struct key *keys = xmalloc((n ? n : 1) * sizeof(*keys));
	size_t nroots = 0;

	for (size_t i = 0; i < n; i++) {
		keys[i] = (struct key){ date[i], (int32_t)i };
		nodes[i] = (struct thread_node){ mp[i], -1, -1, -1, 0, 0, 1, flags[i], date[i] };
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	/* Pushing youngest first onto the list heads leaves them by date. */
	for (size_t k = n; k-- > 0;) {
		int32_t i = keys[k].idx, p = mp[i];

		if (p >= 0) {
			nodes[i].next_sibling = nodes[p].first_child;
			nodes[p].first_child = i;
		}
	}
	/* Roots and thread activity: a walk from each top. */
	for (size_t k = 0; k < n; k++) {
		int32_t top = keys[k].idx, x = top;
		int64_t newest = date[top];

		if (mp[top] >= 0)
			continue;
		keys[nroots++].idx = top;	/* reuses the consumed prefix */
		for (;;) {
			nodes[x].root = top;
			if (date[x] > newest)
				newest = date[x];
			if (nodes[x].first_child >= 0) {
				x = nodes[x].first_child;
				continue;
			}
			while (x != top && nodes[x].next_sibling < 0)
				x = nodes[x].parent;
			if (x == top)
				break;
			x = nodes[x].next_sibling;
		}
		nodes[top].activity = newest;
	}
	for (size_t k = 0; k < nroots; k++) {
		int32_t top = keys[k].idx;

		keys[k].date = opt->newest_first ? -nodes[top].activity : nodes[top].activity;
	}
	qsort(keys, nroots, sizeof(*keys), key_cmp);
	int32_t *roots = xmalloc((nroots ? nroots : 1) * sizeof(*roots));

	for (size_t k = 0; k < nroots; k++)
		roots[k] = keys[k].idx;
	free(keys);
	thread_lay_rows(t, nodes, order, roots, nroots);
	free(roots);
}

void thread_lay_rows(struct thread *t, struct thread_node *nodes, uint32_t *order,
		     const int32_t *roots, size_t nroots)
{
	size_t n = t->n, row = 0;

	t->first_root = nroots ? roots[0] : -1;
	for (size_t k = 0; k < nroots; k++)
		nodes[roots[k]].next_sibling = k + 1 < nroots ? roots[k + 1] : -1;
	for (size_t i = 0; i < n; i++) {
		nodes[i].flags &= ~(uint32_t)THREAD_LAST;
		nodes[i].size = 1;
	}
	/* Display order: depth-first, without a stack (parent links climb). */
	for (size_t k = 0; k < nroots; k++) {
		int32_t top = roots[k], x = top;

		for (;;) {
			struct thread_node *nd = &nodes[x];

			nd->row = (uint32_t)row;
			order[row++] = (uint32_t)x;
			nd->activity = nodes[top].activity;
			nd->root = top;
			if (x != top) {
				nd->depth = nodes[nd->parent].depth + 1;
				if (nd->next_sibling < 0)
					nd->flags |= THREAD_LAST;
			} else {
				nd->depth = 0;
			}
			if (nd->first_child >= 0) {
				x = nd->first_child;
				continue;
			}
			while (x != top && nodes[x].next_sibling < 0)
				x = nodes[x].parent;
			if (x == top)
				break;
			x = nodes[x].next_sibling;
		}
	}
	if (nroots > 0)
		nodes[roots[nroots - 1]].flags |= THREAD_LAST;
	/* Subtree sizes: children come after their parent in the order. */
	for (size_t r = n; r-- > 0;) {
		int32_t x = (int32_t)order[r];

		if (nodes[x].parent >= 0)
			nodes[nodes[x].parent].size += nodes[x].size;
	}
	t->nodes = nodes;
	t->order = order;
	t->nroots = nroots;
}

struct thread *thread_build_fn(size_t n, thread_input_fn *fn, void *ctx,
			       const struct thread_options *opt)
{
	static const struct thread_options defaults = THREAD_OPTIONS_DEFAULT;
	struct builder b = { .fn = fn, .ctx = ctx, .n = n };
	struct arena *arena = arena_new(0);
	struct thread *t = arena_calloc(arena, 1, sizeof(*t));
	size_t size = 16;

	if (opt == NULL)
		opt = &defaults;
	t->arena = arena;
	t->n = n;
	b.cap = n + n / 2 + 16;
	b.c = xmalloc(b.cap * sizeof(*b.c));
	b.nc = n;
	while (size < (n + 1) * 3)
		size *= 2;
	b.slots = xcalloc(size, sizeof(*b.slots));
	b.mask = size - 1;
	b.date = xmalloc((n ? n : 1) * sizeof(*b.date));
	b.flags = xcalloc(n ? n : 1, sizeof(*b.flags));
	int32_t *want = xmalloc((n ? n : 1) * sizeof(*want));
	uint8_t *has_refs = xcalloc(n ? n : 1, 1);

	insert_messages(&b);
	link_references(&b, want, has_refs);
	/* The id table is done with once the links are made: freed before
	 * the walks, the subject table and the layout allocate theirs. */
	free(b.refs);
	free(b.slots);
	break_cycles(&b);

	int32_t *nma = xmalloc((b.nc ? b.nc : 1) * sizeof(*nma));
	int32_t *top = xmalloc((b.nc ? b.nc : 1) * sizeof(*top));
	int32_t *mp = want;	/* reused: message parent */
	int32_t *lead = nma;

	resolve_ancestors(&b, nma, top);
	for (size_t i = 0; i < n; i++) {
		mp[i] = nma[i];
		if (b.c[i].parent >= 0 && (size_t)b.c[i].parent >= n)
			b.flags[i] |= THREAD_MISSING_PARENT;
	}
	free(b.c);
	/* Tops under the same missing top container: the earliest leads.
	 * nma is no longer needed for dummies, so it holds the leaders. */
	for (size_t c = n; c < b.nc; c++)
		lead[c] = -1;
	for (size_t i = 0; i < n; i++) {
		int32_t d = top[i];

		if (mp[i] >= 0 || (size_t)d < n)
			continue;
		if (lead[d] < 0 || earlier(b.date, (int32_t)i, lead[d]))
			lead[d] = (int32_t)i;
	}
	for (size_t i = 0; i < n; i++) {
		int32_t d = top[i];

		if (mp[i] < 0 && (size_t)d >= n && lead[d] != (int32_t)i)
			mp[i] = lead[d];
	}
	free(top);
	free(nma);
	if (opt->subject_fallback)
		subject_fallback(&b, mp, has_refs, opt);
	free(has_refs);
	lay_out(t, b.date, mp, b.flags, opt);
	free(want);
	free(b.flags);
	free(b.date);
	return t;
}

static void array_input(void *ctx, size_t i, unsigned fields, struct thread_input *in_r)
{
	(void)fields;
	*in_r = ((const struct thread_input *)ctx)[i];
}

struct thread *thread_build(const struct thread_input *in, size_t n,
			    const struct thread_options *opt)
{
	return thread_build_fn(n, array_input, (void *)in, opt);
}

void thread_free(struct thread **tp)
{
	struct thread *t = *tp;
	struct arena *a;

	if (t == NULL)
		return;
	a = t->arena;
	arena_free(&a);
	*tp = NULL;
}
