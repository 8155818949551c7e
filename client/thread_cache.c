/* thread_cache: a built struct thread as bytes and back, so a client can
 * keep the threads of a folder and skip thread_build() on the next open
 * of the same messages (~150 ms for 100,000 of them).
 *
 * The bytes are the node and order arrays as they are in memory (the
 * cache never leaves the machine that wrote it) after a header that says
 * which layout and which input they belong to.  Bytes from elsewhere (an
 * older loft, a garbled file) must never become an index out of range or
 * a parent loop: thread_load() checks every link before it hands out a
 * thread, and answers NULL when anything is off. */
#include "client/thread.h"

#include "lib/arena.h"

#include <string.h>

#define THREAD_CACHE_MAGIC 0x6c746872u	/* "lthr" */
#define THREAD_CACHE_VERSION 1u

struct cache_head {
	uint32_t magic, version;
	uint32_t node_size;		/* sizeof(struct thread_node) */
	int32_t first_root;
	uint64_t n, nroots, key;
};

size_t thread_save_size(const struct thread *t)
{
	return sizeof(struct cache_head) + t->n * (sizeof(*t->nodes) + sizeof(*t->order));
}

void thread_save(const struct thread *t, uint64_t key, void *dst)
{
	struct cache_head h = { THREAD_CACHE_MAGIC, THREAD_CACHE_VERSION,
				(uint32_t)sizeof(struct thread_node), t->first_root,
				t->n, t->nroots, key };
	char *p = dst;

	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), t->nodes, t->n * sizeof(*t->nodes));
	memcpy(p + sizeof(h) + t->n * sizeof(*t->nodes), t->order, t->n * sizeof(*t->order));
}

static bool link_ok(int32_t x, size_t n)
{
	return x >= -1 && (int64_t)x < (int64_t)n;
}

/* Whether the nodes and order make a forest thread.h's readers can walk:
 * every index in range, each row holding its node, each subtree's rows
 * inside the display order and inside its top's, each parent drawn above
 * its child one level up (so climbing parents ends). */
static bool shape_ok(const struct thread_node *nodes, const uint32_t *order, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct thread_node *nd = &nodes[i];

		if (!link_ok(nd->parent, n) || !link_ok(nd->first_child, n) ||
		    !link_ok(nd->next_sibling, n) || nd->root < 0 || (size_t)nd->root >= n ||
		    nd->row >= n || order[nd->row] != i || nd->size == 0 ||
		    nd->size > n - nd->row)
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct thread_node *nd = &nodes[i], *top = &nodes[nd->root];

		if (top->parent >= 0 || nd->row < top->row || nd->row - top->row >= top->size)
			return false;
		if (nd->parent < 0) {
			if (nd->depth != 0 || (size_t)nd->root != i)
				return false;
		} else if (nd->depth != nodes[nd->parent].depth + 1 ||
			   nodes[nd->parent].row >= nd->row) {
			return false;
		}
	}
	return true;
}

struct thread *thread_load(const void *data, size_t len, size_t n, uint64_t key)
{
	struct cache_head h;
	const char *p = data;
	struct arena *arena;
	struct thread *t;
	struct thread_node *nodes;
	uint32_t *order;

	if (len < sizeof(h))
		return NULL;
	memcpy(&h, p, sizeof(h));
	if (h.magic != THREAD_CACHE_MAGIC || h.version != THREAD_CACHE_VERSION ||
	    h.node_size != sizeof(struct thread_node) || h.n != n || h.key != key ||
	    n >= (size_t)1 << 31 ||
	    len != sizeof(h) + n * (sizeof(*nodes) + sizeof(*order)) || h.nroots > n ||
	    !link_ok(h.first_root, n) || (n > 0) != (h.first_root >= 0))
		return NULL;
	arena = arena_new(0);
	t = arena_calloc(arena, 1, sizeof(*t));
	nodes = arena_alloc(arena, (n ? n : 1) * sizeof(*nodes));
	order = arena_alloc(arena, (n ? n : 1) * sizeof(*order));
	memcpy(nodes, p + sizeof(h), n * sizeof(*nodes));
	memcpy(order, p + sizeof(h) + n * sizeof(*nodes), n * sizeof(*order));
	if (!shape_ok(nodes, order, n)) {
		arena_free(&arena);
		return NULL;
	}
	*t = (struct thread){ n, nodes, order, h.first_root, h.nroots, arena };
	return t;
}
