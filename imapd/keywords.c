/* The keywords a selected mailbox announces in FLAGS and PERMANENTFLAGS.
 *
 * RFC 3501 7.2.6 / RFC 9051 7.3.5: FLAGS lists the flags that apply in
 * the mailbox, and a client may only expect to see those in FETCH.  The
 * set is made once at SELECT from the snapshot's keywords and only
 * grows: with the EXISTS of new messages that bring new keywords (an
 * APPEND, COPY or delivery) and before any FETCH naming a keyword not yet
 * announced (a STORE by this session or another process) a new FLAGS and
 * PERMANENTFLAGS go out, as Dovecot does.  Keywords
 * compare without case, as the store applies them; the first spelling
 * seen is the one announced.  No limit on their number: the store keeps
 * them as words per message, with no table that could fill up, so
 * PERMANENTFLAGS always has \*. */
#include "imapd/session-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Position of word w[0..n) in the sorted set, or where it would go;
 * *found_r whether it is there. */
static size_t kw_find(const struct mbox_view *v, const char *w, size_t n, bool *found_r)
{
	size_t lo = 0, hi = v->nkw;

	*found_r = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncasecmp(v->kw[mid], w, n);

		if (c == 0 && v->kw[mid][n] != '\0')
			c = 1;
		if (c == 0) {
			*found_r = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool imapd_kw_learn(struct mbox_view *v, const char *list)
{
	bool grew = false;

	for (const char *p = list ? list : ""; *p;) {
		size_t n = strcspn(p, " ");
		bool found;
		size_t at = n ? kw_find(v, p, n, &found) : 0;

		/* $Forwarded is a store flag, always in FLAGS already. */
		if (n > 0 && !found && !(n == 10 && strncasecmp(p, "$Forwarded", n) == 0)) {
			if (v->nkw == v->kw_cap) {
				v->kw_cap = v->kw_cap ? v->kw_cap * 2 : 16;
				v->kw = xreallocarray(v->kw, v->kw_cap, sizeof(*v->kw));
			}
			memmove(v->kw + at + 1, v->kw + at, (v->nkw - at) * sizeof(*v->kw));
			v->kw[at] = xstrndup(p, n);
			v->nkw++;
			grew = true;
		}
		p += n;
		p += *p == ' ';
	}
	return grew;
}

void imapd_kw_init(struct mbox_view *v)
{
	size_t n = store_folder_count(v->f);
	const char *prev = "";

	/* Most messages have no keywords or the same few as the one before:
	 * a string compare each, a set lookup only when the list changes. */
	for (size_t i = 0; i < n; i++) {
		const char *k = store_folder_msg(v->f, i)->keywords;

		if (k == NULL || *k == '\0' || strcmp(k, prev) == 0)
			continue;
		imapd_kw_learn(v, k);
		prev = k;
	}
}

void imapd_kw_free(struct mbox_view *v)
{
	for (size_t i = 0; i < v->nkw; i++)
		free(v->kw[i]);
	free(v->kw);
	v->kw = NULL;
	v->nkw = v->kw_cap = 0;
}

const char *imapd_kw_canon(const struct mbox_view *v, const char *word)
{
	bool found;
	size_t at = kw_find(v, word, strlen(word), &found);

	return found ? v->kw[at] : NULL;
}

void imapd_kw_send_flags(struct imapd_session *s)
{
	static const char sys[] = "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded";
	struct sbuf kw = SBUF_INIT;

	for (size_t i = 0; i < s->mbox->nkw; i++)
		sbuf_addf(&kw, " %s", s->mbox->kw[i]);
	sess_printf(s, "* FLAGS (%s%s)\r\n", sys, kw.len ? kw.buf : "");
	/* A read-only mailbox changes no flag for good (RFC 3501 7.1). */
	if (s->mbox->readonly)
		sess_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
	else
		sess_printf(s, "* OK [PERMANENTFLAGS (%s%s \\*)] Flags permitted.\r\n", sys,
			    kw.len ? kw.buf : "");
	sbuf_release(&kw);
}

void imapd_kw_announce(struct imapd_session *s, const struct store_msg *m)
{
	if (m->keywords && *m->keywords && imapd_kw_learn(s->mbox, m->keywords))
		imapd_kw_send_flags(s);
}
