/* Keywords of a pair merged the way flags are: per keyword, the side that
 * changed it since the keywords both last agreed on wins.  Keyword lists
 * are space-separated atoms compared case-insensitively (as the store and
 * IMAP do). */
#include "remote/sync-private.h"
#include "remote/remote.h"
#include "lib/crash.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_word(const char *list, const char *w, size_t n)
{
	for (const char *p = list != NULL ? list : ""; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len == n && strncasecmp(p, w, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* Whether every word of a is in b. */
static bool subset(const char *a, const char *b)
{
	for (const char *p = a != NULL ? a : ""; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len > 0 && !has_word(b, p, len))
			return false;
		p += len;
		p += strspn(p, " ");
	}
	return true;
}

char *sync_keywords_merge(const char *base, const char *here, const char *there)
{
	struct sbuf out = SBUF_INIT;
	const char *lists[2] = { here, there };

	sbuf_addstr(&out, "");
	/* A word of either side is kept unless the other side removed it:
	 * kept when it is on both, or on the side that added it (not in the
	 * base), or when it is in the base and the side without it did not
	 * change it -- i.e. dropped exactly when one side removed it. */
	for (int s = 0; s < 2; s++) {
		const char *mine = lists[s], *other = lists[!s];

		for (const char *p = mine != NULL ? mine : ""; *p != '\0';) {
			size_t len = strcspn(p, " ");
			bool b = has_word(base, p, len), o = has_word(other, p, len);

			if (len > 0 && (o || !b) && !has_word(out.buf, p, len)) {
				if (out.len > 0)
					sbuf_addch(&out, ' ');
				sbuf_add(&out, p, len);
			}
			p += len;
			p += strspn(p, " ");
		}
	}
	return sbuf_detach(&out, NULL);
}

bool sync_keywords_equal(const char *a, const char *b)
{
	return subset(a, b) && subset(b, a);
}

/* The words of list not in than, as an array of atoms (free each and it). */
static char **diff_words(const char *list, const char *than, size_t *n_r)
{
	char **v = NULL;
	size_t n = 0;

	for (const char *p = list != NULL ? list : ""; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len > 0 && !has_word(than, p, len)) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n++] = xstrndup(p, len);
		}
		p += len;
		p += strspn(p, " ");
	}
	*n_r = n;
	return v;
}

static void free_words(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int sync_keywords_apply(struct sync_run *run, const struct sync_pair *p, const char *here,
			const char *there, const char *merged, char **error_r)
{
	size_t n_add, n_del;
	char **add, **del;
	const char *err;
	int ret = 0;

	if (!sync_keywords_equal(here, merged)) {
		/* Marked before the change: a run killed after it leaves the
		 * mark, and the next sync or reader catches the index up. */
		sync_local_change(run->ctx);
		if (store_set_flags(run->f, p->luid, STORE_FLAGS_SET,
				    store_folder_find(run->f, p->luid)->flags, merged, &err) < 0) {
			*error_r = xasprintf("%s: changing keywords: %s", run->local, err);
			return -1;
		}
		crash_point("sync:keywords-here");
	}
	if (sync_keywords_equal(there, merged))
		return 0;
	add = diff_words(merged, there, &n_add);
	del = diff_words(there, merged, &n_del);
	/* A folder that keeps no new keywords (no \* in PERMANENTFLAGS)
	 * refuses: the store keeps them, the server cannot. */
	if ((n_add > 0 && remote_store_keywords(run->ctx->conn, &p->ruid, 1, 1,
						(const char *const *)add, n_add, error_r) < 0) ||
	    (n_del > 0 && remote_store_keywords(run->ctx->conn, &p->ruid, 1, -1,
						(const char *const *)del, n_del, error_r) < 0)) {
		free(*error_r);
		*error_r = NULL;
		ret = 1;
	}
	free_words(add, n_add);
	free_words(del, n_del);
	return ret;
}
