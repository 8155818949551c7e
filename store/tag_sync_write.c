/* tag_sync's keyword writes, grouped: see tag_sync-private.h. */
#include "store/tag_sync-private.h"
#include "store/store.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

void ts_writes_add(struct ts_writes *w, struct store_folder *f, uint32_t uid, char *add,
		   char *del)
{
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 64;
		w->v = xreallocarray(w->v, w->alloc, sizeof(*w->v));
	}
	w->v[w->n++] = (struct ts_write){ f, uid, add, del };
}

void ts_writes_clear(struct ts_writes *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].add);
		free(w->v[i].del);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* Folder, then the change, then UID (ascending within a group). */
static int cmp_write(const void *a, const void *b)
{
	const struct ts_write *x = a, *y = b;
	int c;

	if (x->f != y->f)
		return (uintptr_t)x->f < (uintptr_t)y->f ? -1 : 1;
	if ((c = strcmp(x->add, y->add)) != 0 || (c = strcmp(x->del, y->del)) != 0)
		return c;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int ts_writes_flush(struct ts_writes *w, const char **error_r)
{
	uint32_t *uids = xcalloc(w->n + 1, sizeof(*uids));
	int ret = 0;

	if (w->n > 1)
		qsort(w->v, w->n, sizeof(*w->v), cmp_write);
	for (size_t i = 0, j; i < w->n && ret == 0; i = j) {
		const struct ts_write *g = &w->v[i];
		struct store_flag_change ch = { STORE_FLAGS_ADD, 0, g->add, 0 };
		size_t n = 0;

		for (j = i; j < w->n && w->v[j].f == g->f && strcmp(w->v[j].add, g->add) == 0 &&
			    strcmp(w->v[j].del, g->del) == 0; j++)
			uids[n++] = w->v[j].uid;
		if (g->add[0] != '\0')
			ret = store_set_flags_uids(g->f, uids, n, &ch, NULL, NULL, error_r);
		ch.op = STORE_FLAGS_REMOVE;
		ch.keywords = g->del;
		if (ret == 0 && g->del[0] != '\0')
			ret = store_set_flags_uids(g->f, uids, n, &ch, NULL, NULL, error_r);
	}
	free(uids);
	ts_writes_clear(w);
	return ret;
}
