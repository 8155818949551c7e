/* QRESYNC (RFC 7162 section 3.2): the SELECT/EXAMINE parameters, the
 * resynchronisation a SELECT (QRESYNC ...) sends, and VANISHED (EARLIER)
 * for SELECT and UID FETCH (CHANGEDSINCE n VANISHED).
 *
 * Expunged UIDs come from the store's expunge log (every expunge, loft's
 * or found at a rescan, is logged with its MODSEQ), so what a client missed
 * is told exactly, not guessed from the UIDs it still knows. */
#include "imapd/session-private.h"

#include "lib/sbuf.h"
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int imapd_parse_modseq(const struct imap_arg *a, uint64_t *modseq_r)
{
	char *end;

	if (a->type != IMAP_ARG_ATOM || a->str[0] < '0' || a->str[0] > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(a->str, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT64_MAX)
		return -1;
	*modseq_r = v;
	return 0;
}

int imapd_select_params(struct imapd_session *s, const struct imap_arg *list,
			struct imapd_select_params *p, const char **error_r)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < list->count; i++) {
		const struct imap_arg *a = &list->list[i];

		if (imap_arg_is_atom(a, "CONDSTORE")) {
			p->condstore = true;
			continue;
		}
		if (!imap_arg_is_atom(a, "QRESYNC") || i + 1 >= list->count ||
		    list->list[i + 1].type != IMAP_ARG_LIST) {
			*error_r = "Unknown SELECT parameter.";
			return -1;
		}
		if (!s->qresync) {
			*error_r = "QRESYNC is not enabled.";
			return -1;
		}
		/* (uidvalidity modseq [known-uids [(seq-set uid-set)]]) */
		const struct imap_arg *q = list->list[++i].list;
		unsigned n = list->list[i].count;
		struct imap_seqset set;
		char *end;
		if (n < 2 || n > 4 || q[0].type != IMAP_ARG_ATOM)
			goto bad;
		unsigned long v = strtoul(q[0].str, &end, 10);
		if (*end || v == 0 || v > UINT32_MAX || imapd_parse_modseq(&q[1], &p->modseq) < 0 || p->modseq == 0)
			goto bad;
		p->uidvalidity = (uint32_t)v;
		p->qresync = true;
		if (n >= 3) {
			if (q[2].type != IMAP_ARG_ATOM ||
			    imap_seqset_parse(q[2].str, s->arena, &set, error_r) < 0 || set.saved)
				goto bad;
			p->known_uids = q[2].str;
		}
		/* The sequence match data only saves a server work when
		 * it lacks an expunge log; loft has one. */
		if (n == 4 && (q[3].type != IMAP_ARG_LIST || q[3].count != 2))
			goto bad;
	}
	return 0;
bad:
	*error_r = "Invalid QRESYNC parameters.";
	return -1;
}

void imapd_vanished_earlier(struct imapd_session *s, uint64_t modseq, const char *uidset)
{
	struct imap_seqset set;
	uint32_t *uids;
	size_t n, w = 0;
	const char *err;

	if (uidset != NULL) {
		if (imap_seqset_parse(uidset, s->arena, &set, &err) < 0)
			return;
		/* "*" here is every UID, expunged ones above the last too. */
		imap_seqset_resolve(&set, UINT32_MAX);
	}
	if (store_expunged_since(s->mbox->f, modseq, &uids, &n, &err) < 0) {
		sess_printf(s, "* NO [SERVERBUG] Cannot read the expunge log.\r\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (uidset == NULL || imap_seqset_contains(&set, uids[i]))
			uids[w++] = uids[i];
	if (w > 0) {
		struct sbuf out = SBUF_INIT;

		sbuf_addstr(&out, "* VANISHED (EARLIER) ");
		sess_add_set(&out, uids, w);
		sbuf_addstr(&out, "\r\n");
		sess_printf(s, "%s", out.buf);
		sbuf_release(&out);
	}
	free(uids);
}

void imapd_qresync_select(struct imapd_session *s, const struct imapd_select_params *p)
{
	struct mbox_view *v = s->mbox;

	/* A changed UIDVALIDITY: the client must start over (3.2.5.1). */
	if (!p->qresync || p->uidvalidity != store_folder_uidvalidity(v->f))
		return;
	imapd_vanished_earlier(s, p->modseq, p->known_uids);
	for (uint32_t seq = 1; seq <= v->count; seq++) {
		const struct store_msg *m = imapd_mbox_msg(s, seq);

		if (m != NULL && m->modseq > p->modseq)
			fetch_flags_reply(s, seq, m);
	}
}
