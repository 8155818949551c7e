/* The selected mailbox: the session's view of a store folder and every
 * call into the store's folder API that keeps it current, in one place, so
 * the store's coming change-log API replaces store_folder_refresh() here
 * only.  Mailbox names and flags are converted here too. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ---- */

const char *imapd_mbox_name_in(struct imapd_session *s, const char *name, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	const char *out;

	if (strcasecmp(name, "INBOX") == 0)
		return "INBOX";
	if (s->utf8) {
		sbuf_addstr(&sb, name);
	} else if (imap_utf7_decode(name, &sb) < 0) {
		sbuf_release(&sb);
		*error_r = "Invalid modified UTF-7 in the mailbox name.";
		return NULL;
	}
	/* "INBOX/x" names the folder INBOX/x whatever the case of INBOX. */
	if (strncasecmp(sb.buf, "INBOX/", 6) == 0)
		memcpy(sb.buf, "INBOX", 5);
	if (store_folder_name_check(sb.buf, error_r) < 0) {
		sbuf_release(&sb);
		return NULL;
	}
	out = arena_strdup(s->arena, sb.buf);
	sbuf_release(&sb);
	return out;
}

void imapd_mbox_name_out(struct imapd_session *s, const char *name, struct sbuf *out)
{
	struct sbuf sb = SBUF_INIT;

	if (s->utf8 || imap_utf7_encode(name, &sb) < 0) {
		sbuf_reset(&sb);
		sbuf_addstr(&sb, name);
	}
	sess_add_string(out, sb.buf, sb.len);
	sbuf_release(&sb);
}

/* ---- the view ---- */

static void view_add(struct mbox_view *v, uint32_t uid, uint64_t modseq)
{
	if (v->count == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->uids = xreallocarray(v->uids, v->cap, sizeof(*v->uids));
		v->modseqs = xreallocarray(v->modseqs, v->cap, sizeof(*v->modseqs));
	}
	v->uids[v->count] = uid;
	v->modseqs[v->count++] = modseq;
}

static void recent_add(struct mbox_view *v, uint32_t uid)
{
	if (v->nrecent == v->recent_cap) {
		v->recent_cap = v->recent_cap ? v->recent_cap * 2 : 64;
		v->recent = xreallocarray(v->recent, v->recent_cap, sizeof(*v->recent));
	}
	v->recent[v->nrecent++] = uid;	/* UIDs only grow: stays sorted */
}

static bool bsearch_u32(const uint32_t *a, size_t n, uint32_t key, size_t *pos_r)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos_r = lo;
	return lo < n && a[lo] == key;
}

uint32_t imapd_mbox_seq_of(const struct mbox_view *v, uint32_t uid)
{
	size_t pos;

	return bsearch_u32(v->uids, v->count, uid, &pos) ? (uint32_t)pos + 1 : 0;
}

bool imapd_mbox_is_recent(const struct mbox_view *v, uint32_t uid)
{
	size_t pos;

	return bsearch_u32(v->recent, v->nrecent, uid, &pos);
}

/* An expunged message no longer counts in RECENT. */
static void recent_drop(struct mbox_view *v, uint32_t uid)
{
	size_t pos;

	if (bsearch_u32(v->recent, v->nrecent, uid, &pos)) {
		memmove(v->recent + pos, v->recent + pos + 1, (v->nrecent - pos - 1) * sizeof(*v->recent));
		v->nrecent--;
	}
}

/* New messages become \Recent in this session, and (read-write) lose the
 * store's recent mark, so the next session does not see them so. */
static void claim_recent(struct imapd_session *s, const struct store_msg *m)
{
	const char *err;

	if (!(m->flags & STORE_RECENT) && m->uid != s->mbox->appended)
		return;
	recent_add(s->mbox, m->uid);
	if (!s->mbox->readonly && (m->flags & STORE_RECENT))
		store_set_flags(s->mbox->f, m->uid, STORE_FLAGS_REMOVE, STORE_RECENT, NULL, &err);
}

static void view_free(struct mbox_view **vp)
{
	struct mbox_view *v = *vp;

	if (v == NULL)
		return;
	store_folder_close(&v->f);
	free(v->name);
	free(v->uids);
	free(v->modseqs);
	free(v->recent);
	free(v->saved);
	free(v);
	*vp = NULL;
}

void imapd_mbox_close(struct imapd_session *s)
{
	view_free(&s->mbox);
	if (s->state == SESS_SELECTED)
		s->state = SESS_AUTH;
}

int imapd_mbox_select(struct imapd_session *s, const char *name, bool readonly, const char **error_r)
{
	struct mbox_view *v = xcalloc(1, sizeof(*v));

	imapd_mbox_close(s);
	if (store_folder_open(s->store, name, &v->f, error_r) < 0) {
		free(v);
		return -1;
	}
	v->name = xstrdup(name);
	v->readonly = readonly;
	s->mbox = v;
	size_t n = store_folder_count(v->f);
	for (size_t i = 0; i < n; i++) {
		const struct store_msg *m = store_folder_msg(v->f, i);

		view_add(v, m->uid, m->modseq);
		claim_recent(s, m);
	}
	s->state = SESS_SELECTED;
	return 0;
}

const struct store_msg *imapd_mbox_msg(struct imapd_session *s, uint32_t seq)
{
	if (seq == 0 || seq > s->mbox->count)
		return NULL;
	return store_folder_find(s->mbox->f, s->mbox->uids[seq - 1]);
}

void imapd_mbox_note_reported(struct mbox_view *v, uint32_t uid, uint64_t modseq)
{
	uint32_t seq = imapd_mbox_seq_of(v, uid);

	if (seq > 0)
		v->modseqs[seq - 1] = modseq;
}

static bool notify_ready(struct mbox_view *v)
{
	struct pollfd p = { .fd = store_folder_notify_fd(v->f), .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

void imapd_mbox_sync(struct imapd_session *s, bool allow_expunge, bool force)
{
	struct mbox_view *v = s->mbox;
	const char *err;
	bool changed = false;

	if (v == NULL)
		return;
	if (force || v->dirty || notify_ready(v)) {
		if (store_folder_refresh(v->f, &changed, &err) < 0) {
			sess_printf(s, "* NO [SERVERBUG] %s\r\n", "Cannot read the mailbox.");
			return;
		}
		v->dirty = false;
	}
	/* Expunged messages: reported (and dropped) only when allowed. */
	size_t nrecent = v->nrecent;
	if (allow_expunge) {
		struct sbuf vanished = SBUF_INIT;
		size_t w = 0;

		for (size_t i = 0; i < v->count; i++) {
			if (store_folder_find(v->f, v->uids[i]) != NULL) {
				v->uids[w] = v->uids[i];
				v->modseqs[w++] = v->modseqs[i];
				continue;
			}
			recent_drop(v, v->uids[i]);
			if (s->qresync)
				sbuf_addf(&vanished, "%s%u", vanished.len ? "," : "", v->uids[i]);
			else
				sess_printf(s, "* %zu EXPUNGE\r\n", w + 1);
		}
		v->count = w;
		if (vanished.len)
			sess_printf(s, "* VANISHED %s\r\n", vanished.buf);
		sbuf_release(&vanished);
	}
	/* New messages (UIDs above every one in the view), flag changes. */
	size_t n = store_folder_count(v->f), old = v->count;
	uint32_t last = v->count ? v->uids[v->count - 1] : 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_msg *m = store_folder_msg(v->f, i);

		if (m->uid > last) {
			view_add(v, m->uid, m->modseq);
			claim_recent(s, m);
			continue;
		}
		uint32_t seq = imapd_mbox_seq_of(v, m->uid);
		if (seq > 0 && v->modseqs[seq - 1] != m->modseq) {
			v->modseqs[seq - 1] = m->modseq;
			fetch_flags_reply(s, seq, m);
		}
	}
	if (v->count != old)
		sess_printf(s, "* %zu EXISTS\r\n", v->count);
	/* RECENT also after expunges took \Recent messages away (as
	 * Dovecot does), so a client's count never exceeds EXISTS. */
	if (v->nrecent != nrecent)
		sess_printf(s, "* %zu RECENT\r\n", v->nrecent);
}

int imapd_mbox_set(struct imapd_session *s, const char *text, bool uids, struct imap_seqset *set,
	     const char **error_r)
{
	struct mbox_view *v = s->mbox;

	if (imap_seqset_parse(text, s->arena, set, error_r) < 0)
		return -1;
	if (set->saved) {
		/* "$": the UIDs saved, as sequence numbers for a sequence
		 * command (those expunged and reported are gone). */
		set->ranges = arena_calloc(s->arena, v->nsaved ? v->nsaved : 1, sizeof(*set->ranges));
		set->count = 0;
		for (size_t i = 0; i < v->nsaved; i++) {
			uint32_t n = uids ? v->saved[i] : imapd_mbox_seq_of(v, v->saved[i]);
			if (n > 0)
				set->ranges[set->count++] = (struct imap_range){ n, n };
		}
		imap_seqset_resolve(set, 0);
		return 0;
	}
	uint32_t star = v->count == 0 ? 0 : uids ? v->uids[v->count - 1] : (uint32_t)v->count;
	if (!uids) {
		/* A sequence number past the end is an error (RFC 3501 9). */
		for (unsigned i = 0; i < set->count; i++)
			if (set->ranges[i].lo > v->count || set->ranges[i].hi > v->count) {
				*error_r = "Invalid message sequence number.";
				return -1;
			}
	}
	imap_seqset_resolve(set, star);
	return 0;
}

void imapd_mbox_save_result(struct mbox_view *v, const uint32_t *uids, size_t n)
{
	v->saved = xreallocarray(v->saved, n ? n : 1, sizeof(*uids));
	if (n > 0)
		memcpy(v->saved, uids, n * sizeof(*uids));
	v->nsaved = n;
}

bool imapd_mbox_in_set(const struct mbox_view *v, const struct imap_seqset *set, bool uids, uint32_t seq)
{
	return imap_seqset_contains(set, uids ? v->uids[seq - 1] : seq);
}

/* ---- flags ---- */

static const struct {
	const char *name;
	uint32_t flag;
} flag_names[] = {
	{ "\\Seen", STORE_SEEN },	{ "\\Answered", STORE_ANSWERED },
	{ "\\Flagged", STORE_FLAGGED }, { "\\Deleted", STORE_DELETED },
	{ "\\Draft", STORE_DRAFT },	{ "$Forwarded", STORE_PASSED },
};

void imapd_mbox_flags_out(const struct mbox_view *v, const struct store_msg *m, struct sbuf *out)
{
	size_t start = out->len;

	sbuf_addch(out, '(');
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (m->flags & flag_names[i].flag)
			sbuf_addf(out, "%s%s", out->len > start + 1 ? " " : "", flag_names[i].name);
	if (imapd_mbox_is_recent(v, m->uid))
		sbuf_addf(out, "%s\\Recent", out->len > start + 1 ? " " : "");
	if (m->keywords && *m->keywords)
		sbuf_addf(out, "%s%s", out->len > start + 1 ? " " : "", m->keywords);
	sbuf_addch(out, ')');
}

/* A keyword is an atom (RFC 3501 flag-keyword): no specials, no '\'. */
static bool keyword_ok(const char *k)
{
	if (!*k || strlen(k) > 100)
		return false;
	for (const char *c = k; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || strchr("(){%*\"\\]", *c))
			return false;
	return true;
}

int imapd_mbox_flags_in(struct imapd_session *s, const struct imap_arg *arg, uint32_t *flags_r,
		  const char **keywords_r, const char **error_r)
{
	const struct imap_arg *list = arg;
	unsigned n = 1;
	struct sbuf kw = SBUF_INIT;

	if (arg->type == IMAP_ARG_LIST) {
		list = arg->list;
		n = arg->count;
	}
	*flags_r = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *f = list[i].str;
		bool known = false;

		if (list[i].type != IMAP_ARG_ATOM)
			goto bad;
		for (size_t j = 0; j < sizeof(flag_names) / sizeof(flag_names[0]); j++)
			if (strcasecmp(f, flag_names[j].name) == 0) {
				*flags_r |= flag_names[j].flag;
				known = true;
			}
		if (known || strcasecmp(f, "\\Recent") == 0)
			continue;
		if (f[0] == '\\' || !keyword_ok(f))
			goto bad;
		sbuf_addf(&kw, "%s%s", kw.len ? " " : "", f);
	}
	*keywords_r = arena_strdup(s->arena, kw.buf);
	sbuf_release(&kw);
	return 0;
bad:
	sbuf_release(&kw);
	*error_r = "Invalid flag.";
	return -1;
}
