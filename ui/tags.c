/* tags: notmuch tags in the client — the `+` action (modify-labels:
 * "+add -remove" on the current message or the tagged ones), the tags
 * shown by index_format's %g / %Y, and address completion from what
 * notmuch has seen.
 *
 * Two kinds of database handle, as store/index.h requires:
 *   - a read-only one, opened on first need (only when index_format asks
 *     for tags, or for completion) and reopened after the store tells of
 *     changes (ui_tags_forget, called whenever the rows are rebuilt);
 *     tags are fetched lazily for the rows drawn, and cached per row;
 *   - the writer, opened only for the length of one tag change and closed
 *     (committed) at once: the UI never holds it while waiting for a key.
 * The `+` action that changes tags is ui/tag_action.c. */
#include "ui/ui-private.h"

#include "client/compose.h"
#include "client/mailbox.h"
#include "store/index.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct {
	struct index *ro;	/* read-only handle, or NULL */
	bool stale;		/* index_reopen() before the next read */
	bool failed;		/* no database: not retried until stale */
} nm;

static struct index *reader(struct ui *ui)
{
	const char *err;

	if (nm.ro && nm.stale && index_reopen(nm.ro, &err) < 0)
		index_close(&nm.ro);
	if (nm.stale)
		nm.failed = false;
	nm.stale = false;
	if (nm.ro == NULL && !nm.failed &&
	    index_open(ui->root, config_get(ui->cfg, "notmuch_database"), false, &nm.ro, &err) < 0)
		nm.failed = true;
	return nm.ro;
}

void ui_tags_free(void)
{
	index_close(&nm.ro);
	memset(&nm, 0, sizeof(nm));
}

void ui_tags_forget(struct ui_mailbox *mb)
{
	if (mb->tags)
		for (size_t i = 0; i < mb->n; i++)
			free(mb->tags[i]);
	free(mb->tags);
	mb->tags = NULL;
	nm.stale = true;
}

/* Whether fmt has a %g or %Y escape (with any width, or as %?g?...?). */
bool ui_format_wants_tags(const char *fmt)
{
	for (const char *p = fmt ? strchr(fmt, '%') : NULL; p; p = strchr(p + 1, '%')) {
		const char *q = p + 1;

		if (*q == '%') {
			p = q;
			continue;
		}
		if (*q == '?')
			q++;
		while (*q == '-' || *q == '.' || isdigit((unsigned char)*q))
			q++;
		if (*q == 'g' || *q == 'Y')
			return true;
	}
	return false;
}

bool ui_tag_hidden(const char *tag, size_t len)
{
	static const char *const hidden[] = { "unread", "flagged", "replied", "passed",
					      "draft", "deleted", NULL };

	for (size_t k = 0; hidden[k]; k++)
		if (strlen(hidden[k]) == len && strncmp(hidden[k], tag, len) == 0)
			return true;
	return false;
}

/* The tags of text without the flag tags (shown by %Z already). */
static char *shown_tags(const char *all)
{
	struct sbuf sb = SBUF_INIT;

	for (const char *p = all; *p;) {
		size_t n = strcspn(p, " ");

		if (n && !ui_tag_hidden(p, n)) {
			if (sb.len)
				sbuf_addch(&sb, ' ');
			sbuf_add(&sb, p, n);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return sbuf_detach(&sb, NULL);
}

const char *ui_msg_tags(struct ui *ui, size_t i)
{
	struct ui_mailbox *mb = &ui->mb;
	struct index *ix;
	const char *err;
	char *path, *all = NULL;

	if (i >= mb->n || !ui_format_wants_tags(config_get(ui->cfg, "index_format")))
		return NULL;
	/* As many as the other per-row arrays: ui_rows_grow grows them all
	 * together. */
	if (mb->tags == NULL)
		mb->tags = xcalloc(mb->alloc, sizeof(*mb->tags));
	if (mb->tags[i])
		return mb->tags[i];
	/* An IMAP folder's keywords are its tags. */
	const char *own = mailbox_msg_tags(mb->box, i);

	if (own != NULL) {
		mb->tags[i] = shown_tags(own);
		return mb->tags[i];
	}
	ix = reader(ui);
	path = ix ? mailbox_path(mb->box, i) : NULL;
	if (path && index_get_tags(ix, path, &all, &err) == 0) {
		mb->tags[i] = shown_tags(all);
		free(all);
	} else {
		mb->tags[i] = xstrdup("");
	}
	free(path);
	return mb->tags[i];
}

/* ---- addresses notmuch has seen ---- */

struct seen_addr {
	char *addr, *name;
	size_t count;
	size_t first;		/* order of first sight: newest first */
};

struct addr_ctx {
	const char *prefix;
	struct seen_addr *v;
	size_t n, alloc;
};

/* Case-insensitive: does s (len bytes) or one of its words start with
 * prefix? */
static bool prefix_of(const char *prefix, const char *s, size_t len)
{
	size_t pl = strlen(prefix);

	for (size_t i = 0; i + pl <= len; i++) {
		if ((i == 0 || strchr(" .-_\"'(", s[i - 1])) && strncasecmp(s + i, prefix, pl) == 0)
			return true;
	}
	return false;
}

/* "Name <addr>" / "addr": splits one From value (first address only). */
static void split_from(const char *v, const char **name, size_t *nl, const char **addr,
		       size_t *al)
{
	const char *lt = strrchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt) {
		*addr = lt + 1;
		*al = (size_t)(gt - lt - 1);
		*name = v;
		*nl = (size_t)(lt - v);
	} else {
		*addr = v;
		*al = strlen(v);
		*name = v;
		*nl = 0;
	}
	while (*al && (**addr == ' ')) {
		(*addr)++;
		(*al)--;
	}
	while (*al && (*addr)[*al - 1] == ' ')
		(*al)--;
	while (*nl && (**name == ' ' || **name == '"')) {
		(*name)++;
		(*nl)--;
	}
	while (*nl && ((*name)[*nl - 1] == ' ' || (*name)[*nl - 1] == '"'))
		(*nl)--;
}

static int addr_cb(void *vctx, const char *value)
{
	struct addr_ctx *c = vctx;
	const char *name, *addr;
	size_t nl, al;

	split_from(value, &name, &nl, &addr, &al);
	if (al == 0 || memchr(addr, '@', al) == NULL)
		return 0;
	if (!prefix_of(c->prefix, addr, al) && !prefix_of(c->prefix, name, nl))
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->v[i].addr) == al && strncasecmp(c->v[i].addr, addr, al) == 0) {
			c->v[i].count++;
			if (*c->v[i].name == '\0' && nl) {
				free(c->v[i].name);
				c->v[i].name = xstrndup(name, nl);
			}
			return 0;
		}
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 16;
		c->v = xreallocarray(c->v, c->alloc, sizeof(*c->v));
	}
	c->v[c->n] = (struct seen_addr){ xstrndup(addr, al), xstrndup(name, nl), 1, c->n };
	c->n++;
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen_addr *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Messages looked at per completion: bounds the time on a big store. */
#define ADDR_SCAN_MAX 2000

size_t ui_notmuch_addresses(struct ui *ui, const char *prefix, size_t max, char ***v_r)
{
	struct addr_ctx c = { prefix, NULL, 0, 0 };
	struct index *ix;
	const char *err;
	char *query;
	size_t n = 0;

	*v_r = NULL;
	/* Only plain words go into the query (no quotes, no operators). */
	if (strlen(prefix) < 1 || strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789._-") != strlen(prefix))
		return 0;
	if ((ix = reader(ui)) == NULL)
		return 0;
	query = xasprintf("from:%s*", prefix);
	if (index_search_header(ix, query, "from", ADDR_SCAN_MAX, addr_cb, &c, &err) == 0 &&
	    c.n > 0) {
		qsort(c.v, c.n, sizeof(*c.v), cmp_seen);
		n = c.n < max ? c.n : max;
		*v_r = xcalloc(n + 1, sizeof(**v_r));
		for (size_t i = 0; i < n; i++) {
			struct sbuf sb = SBUF_INIT;

			compose_address_format(c.v[i].name, c.v[i].addr, &sb);
			(*v_r)[i] = sbuf_detach(&sb, NULL);
		}
	}
	for (size_t i = 0; i < c.n; i++) {
		free(c.v[i].addr);
		free(c.v[i].name);
	}
	free(c.v);
	free(query);
	return n;
}
