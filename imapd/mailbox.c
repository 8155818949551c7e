/* The selected mailbox: the session's view of a store folder, kept current
 * from store_folder_sync()'s change lists (a NOOP or IDLE wake costs what
 * changed, not a pass over the folder), and the store calls the message
 * commands make on UID sets, each one store transaction.  Mailbox names,
 * flags and store errors are converted here too. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/batch.h"
#include "store/maildir.h"
#include "store/store.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- names ---- */

const char *imapd_mbox_name_in(struct imapd_session *s, const char *name, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	const char *out;

	if (strcasecmp(name, "INBOX") == 0)
		return "INBOX";
	if (s->utf8) {
		if (!imap_utf8_name_ok(name)) {
			*error_r = "Invalid UTF-8 in the mailbox name.";
			return NULL;
		}
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
	sess_add_string(out, sb.buf, sb.len, s->utf8);
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
 * store's recent mark, so the next session does not see them so.  The
 * snapshot's mark may be stale (another session claiming at the same
 * instant): only what the store's check-and-clear gives this session
 * counts.  Messages first..count-1 of the snapshot, one transaction. */
static void claim_recent(struct imapd_session *s, size_t first)
{
	struct mbox_view *v = s->mbox;
	size_t n = store_folder_count(v->f), ncand = 0, nclaimed = 0, pos;
	uint32_t *cand = NULL, *claimed = NULL;
	bool claim_failed = false;
	const char *err;

	for (size_t i = first; i < n && !v->readonly; i++) {
		const struct store_msg *m = store_folder_msg(v->f, i);

		if (!(m->flags & STORE_RECENT))
			continue;
		if (cand == NULL)
			cand = xreallocarray(NULL, n - i, sizeof(*cand));
		cand[ncand++] = m->uid;
	}
	if (ncand > 0) {
		crash_point("imapd:claim-recent");
		/* A store that cannot be written: as read-only. */
		claim_failed = store_claim_recent(v->f, cand, ncand, &claimed, &nclaimed,
						  &err) < 0;
	}
	/* (The claim cleared the snapshot's marks: the lists say.) */
	for (size_t i = first; i < n; i++) {
		const struct store_msg *m = store_folder_msg(v->f, i);

		if (m->uid == v->appended || (v->readonly && (m->flags & STORE_RECENT)) ||
		    bsearch_u32(claim_failed ? cand : claimed, claim_failed ? ncand : nclaimed,
				m->uid, &pos))
			recent_add(v, m->uid);
	}
	free(cand);
	free(claimed);
}

static void view_free(struct mbox_view **vp)
{
	struct mbox_view *v = *vp;

	if (v == NULL)
		return;
	/* A snapshot this session had to build by walking every record is
	 * kept as an image, so the next SELECT copies it and replays what
	 * changed since (store/folder_image.c).  Nothing when the session
	 * changed the folder or the image is recent; a failure costs only
	 * that. */
	const char *err;

	if (store_folder_keep_snapshot(v->f, &err) < 0)
		log_warning("%s", err);
	store_folder_close(&v->f);
	free(v->name);
	free(v->uids);
	free(v->modseqs);
	free(v->recent);
	free(v->gone);
	free(v->saved);
	imapd_kw_free(v);
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
	/* Watched from now on; a change committed while the open read the
	 * folder woke no one: read again before the view is made of it (not
	 * reported after the SELECT: a plain VANISHED there beside VANISHED
	 * (EARLIER) loses one of them in some clients). */
	store_folder_notify_fd(v->f);
	if (store_folder_sync(v->f, NULL, error_r) < 0) {
		store_folder_close(&v->f);
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
	}
	imapd_kw_init(v);
	claim_recent(s, 0);
	s->state = SESS_SELECTED;
	return 0;
}

const struct store_msg *imapd_mbox_msg(struct imapd_session *s, uint32_t seq)
{
	if (seq == 0 || seq > s->mbox->count)
		return NULL;
	/* Without ghosts, the view and the snapshot line up: no search. */
	const struct store_msg *m = store_folder_msg(s->mbox->f, seq - 1);
	if (m != NULL && m->uid == s->mbox->uids[seq - 1])
		return m;
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

/* Adds the UIDs the store reports expunged to the ghosts (both sorted). */
static void gone_add(struct mbox_view *v, const uint32_t *uids, size_t n)
{
	uint32_t *m = xreallocarray(NULL, v->ngone + n ? v->ngone + n : 1, sizeof(*m));
	size_t i = 0, k = 0, w = 0;

	while (i < v->ngone || k < n) {
		if (k == n || (i < v->ngone && v->gone[i] < uids[k]))
			m[w++] = v->gone[i++];
		else if (i == v->ngone || uids[k] < v->gone[i])
			m[w++] = uids[k++];
		else {
			m[w++] = v->gone[i++];
			k++;
		}
	}
	free(v->gone);
	v->gone = m;
	v->ngone = w;
}

/* Drops the ghosts from the view, sending EXPUNGE (or one VANISHED). */
static void report_expunges(struct imapd_session *s)
{
	struct mbox_view *v = s->mbox;
	struct sbuf vanished = SBUF_INIT;
	size_t w = 0, k = 0;

	for (size_t i = 0; i < v->count; i++) {
		while (k < v->ngone && v->gone[k] < v->uids[i])
			k++;
		if (k == v->ngone || v->gone[k] != v->uids[i]) {
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
	v->ngone = 0;
	if (vanished.len)
		sess_printf(s, "* VANISHED %s\r\n", vanished.buf);
	sbuf_release(&vanished);
}

void imapd_mbox_sync(struct imapd_session *s, bool allow_expunge, bool force)
{
	struct mbox_view *v = s->mbox;
	struct store_changes ch = { 0 };
	const char *err;

	if (v == NULL)
		return;
	if (force || v->dirty || notify_ready(v)) {
		if (store_folder_sync(v->f, &ch, &err) < 0) {
			sess_printf(s, "* NO [SERVERBUG] %s\r\n", "Cannot read the mailbox.");
			return;
		}
		v->dirty = false;
	}
	if (ch.n_expunged > 0)
		gone_add(v, ch.expunged, ch.n_expunged);
	/* Expunged messages: reported (and dropped) only when allowed. */
	size_t nrecent = v->nrecent;
	if (allow_expunge && v->ngone > 0)
		report_expunges(s);
	size_t old = v->count;
	/* Flag changes by others, then new messages (UIDs above every one
	 * in the view: the tail of the snapshot). */
	for (size_t i = 0; i < ch.n_changed; i++) {
		const struct store_msg *m = store_folder_find(v->f, ch.changed[i]);
		uint32_t seq = imapd_mbox_seq_of(v, ch.changed[i]);

		if (m != NULL && seq > 0 && v->modseqs[seq - 1] != m->modseq) {
			v->modseqs[seq - 1] = m->modseq;
			fetch_flags_reply(s, seq, m);
		}
	}
	store_changes_free(&ch);
	size_t n = store_folder_count(v->f), first = n;
	uint32_t last = v->count ? v->uids[v->count - 1] : 0;
	while (first > 0 && store_folder_msg(v->f, first - 1)->uid > last)
		first--;
	bool new_kw = false;
	for (size_t i = first; i < n; i++) {
		const struct store_msg *m = store_folder_msg(v->f, i);

		view_add(v, m->uid, m->modseq);
		new_kw |= imapd_kw_learn(v, m->keywords);
	}
	/* New messages' keywords are announced with them, before EXISTS, as
	 * Dovecot does: a client sees them in FLAGS before any FETCH. */
	if (new_kw)
		imapd_kw_send_flags(s);
	claim_recent(s, first);
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

uint32_t imapd_mbox_set_next(const struct mbox_view *v, const struct imap_seqset *set, bool uids,
			     struct imapd_set_iter *it)
{
	/* The ranges are sorted and disjoint (imap_seqset_resolve), and so
	 * are the view's UIDs: each range is a run of sequence numbers,
	 * found by one binary search for its first UID. */
	while (it->range < set->count) {
		const struct imap_range *r = &set->ranges[it->range];
		uint32_t seq = it->seq + 1;
		size_t pos;

		if (it->seq == 0) {
			if (uids)
				bsearch_u32(v->uids, v->count, r->lo, &pos);
			seq = uids ? (uint32_t)pos + 1 : r->lo;
		}
		if (seq <= v->count && (uids ? v->uids[seq - 1] : seq) <= r->hi) {
			it->seq = seq;
			return seq;
		}
		it->range++;
		it->seq = 0;
	}
	return 0;
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
		/* The spelling FLAGS announced: "foo" after FLAGS (Foo). */
		const char *canon = s->mbox ? imapd_kw_canon(s->mbox, f) : NULL;
		sbuf_addf(&kw, "%s%s", kw.len ? " " : "", canon ? canon : f);
	}
	*keywords_r = arena_strdup(s->arena, kw.buf);
	sbuf_release(&kw);
	return 0;
bad:
	sbuf_release(&kw);
	*error_r = "Invalid flag.";
	return -1;
}

/* ---- message text, read as a stream ---- */

/* Appends the part of the CRLF-form bytes p[0..n), which sit at position
 * *pos, that falls in [start, stop) to out (NULL: none); *pos moves past
 * them, or to stop. */
static void crlf_emit(struct sbuf *out, const char *p, size_t n, uint64_t *pos, uint64_t start,
		      uint64_t stop)
{
	uint64_t from = *pos, to = *pos + n < stop ? *pos + n : stop;

	if (out != NULL && to > start) {
		uint64_t a = from > start ? from : start;

		sbuf_add(out, p + (a - from), (size_t)(to - a));
	}
	*pos = to;
}

int imapd_mbox_read_crlf(struct imapd_session *s, uint32_t uid, bool header_only, uint64_t start,
			 uint64_t len, struct sbuf *out, uint64_t *end_r)
{
	uint64_t stop = len > UINT64_MAX - start ? UINT64_MAX : start + len, pos = 0, off = 0, size;
	char buf[65536], prev = 0, tail[3] = { 0 };	/* the last CRLF-form bytes */
	const char *err;
	bool done = false;
	int fd;

	if (store_msg_open(s->mbox->f, uid, &fd, &size, &err) < 0)
		return -1;
	/* The CRLF form's position pos only grows: reading stops at the
	 * first byte past what is asked (BODY[]<0.4096> reads 4 KB). */
	while (!done && pos < stop && off < size) {
		size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		ssize_t r = pread(fd, buf, want, (off_t)off);

		if (r <= 0)
			break;
		off += (uint64_t)r;
		/* A whole message (what mbsync fetches, 2 GB for 100,000
		 * messages) goes by lines: a run without LF is copied at
		 * once, a CR added before an LF that has none. */
		for (ssize_t i = 0; !header_only && i < r && pos < stop;) {
			const char *nl = memchr(buf + i, '\n', (size_t)(r - i));
			ssize_t e = nl ? nl - buf : r;

			if (e > i) {
				crlf_emit(out, buf + i, (size_t)(e - i), &pos, start, stop);
				prev = buf[e - 1];
			}
			i = e;
			if (nl != NULL && pos < stop) {
				crlf_emit(out, prev == '\r' ? "\n" : "\r\n", prev == '\r' ? 1 : 2,
					  &pos, start, stop);
				prev = '\n';
				i++;
			}
		}
		for (ssize_t i = 0; header_only && i < r && !done && pos < stop; i++) {
			char c[2];
			int nc = 0;

			if (buf[i] == '\n' && prev != '\r')
				c[nc++] = '\r';
			c[nc++] = buf[i];
			prev = buf[i];
			for (int k = 0; k < nc && pos < stop; k++, pos++) {
				if (out != NULL && pos >= start)
					sbuf_addch(out, c[k]);
				/* a header ends at its first empty line */
				if (c[k] == '\n' && tail[0] == '\r' && tail[1] == '\n' &&
				    tail[2] == '\r') {
					done = true;
					pos++;
					break;
				}
				tail[0] = tail[1];
				tail[1] = tail[2];
				tail[2] = c[k];
			}
		}
	}
	close(fd);
	if (end_r != NULL)
		*end_r = pos;
	return 0;
}

int imapd_mbox_crlf_size(struct imapd_session *s, const struct store_msg *m, uint64_t *size_r)
{
	struct maildir_name mn;
	const char *base = m->location ? strrchr(m->location, '/') : NULL;

	/* The state keeps it (counted when the message was first seen); a
	 * record from an older loft has none, but a maildir name's ",W=" is
	 * that size too (Dovecot and mkcorpus write it). */
	if (m->vsize > 0) {
		*size_r = m->vsize;
		return 0;
	}
	if (base != NULL && maildir_parse_name(base + 1, &mn) == 0 && mn.vsize >= 0) {
		*size_r = (uint64_t)mn.vsize;
		return 0;
	}
	return imapd_mbox_read_crlf(s, m->uid, false, 0, UINT64_MAX, NULL, size_r);
}

/* ---- STATUS ---- */

int imapd_mbox_status(struct imapd_session *s, const char *name, bool full,
		      struct imapd_status *st_r)
{
	struct store_folder *f;
	const char *err;

	memset(st_r, 0, sizeof(*st_r));
	if (!full) {
		/* The state's counters and header: no scan, no record read. */
		if (store_folder_status(s->store, name, &st_r->messages, &st_r->unseen, &err) < 0 ||
		    store_folder_open_append(s->store, name, &f, &err) < 0)
			return -1;
	} else {
		if (store_folder_open(s->store, name, &f, &err) < 0)
			return -1;
		st_r->messages = store_folder_count(f);
		for (size_t i = 0; i < st_r->messages; i++) {
			const struct store_msg *m = store_folder_msg(f, i);

			st_r->unseen += !(m->flags & STORE_SEEN);
			st_r->recent += (m->flags & STORE_RECENT) != 0;
			st_r->size += m->size;
		}
	}
	st_r->uidnext = store_folder_uidnext(f);
	st_r->uidvalidity = store_folder_uidvalidity(f);
	st_r->highestmodseq = store_folder_highestmodseq(f);
	store_folder_close(&f);
	return 0;
}

/* ---- changes on UID sets: one store call each ---- */

const char *imapd_mbox_error(struct imapd_session *s, bool target, const char *text)
{
	const char *code = store_error_imap(store_error_code(s->store), target);

	return code ? arena_printf(s->arena, "[%s] %s", code, text) : text;
}

uint32_t *imapd_mbox_set_uids(struct imapd_session *s, const struct imap_seqset *set, bool uids,
			      size_t *n_r, bool *gone_r)
{
	struct mbox_view *v = s->mbox;
	struct imapd_set_iter it = { 0 };
	uint64_t cap = 0;
	size_t n = 0;

	/* Sized by the set, not the mailbox: one UID of 100,000 is 4 bytes. */
	for (unsigned i = 0; i < set->count && cap < v->count; i++)
		cap += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
	cap = cap < v->count ? cap : v->count;
	uint32_t *out = arena_alloc(s->arena, (cap ? cap : 1) * sizeof(*out));

	*gone_r = false;
	for (uint32_t seq; (seq = imapd_mbox_set_next(v, set, uids, &it)) != 0;) {
		if (store_folder_find(v->f, v->uids[seq - 1]) == NULL)
			*gone_r = true;
		else
			out[n++] = v->uids[seq - 1];
	}
	*n_r = n;
	return out;
}

int imapd_mbox_store(struct imapd_session *s, const uint32_t *uids, size_t n,
		     const struct store_flag_change *ch, uint32_t **modified_r, size_t *n_modified_r)
{
	const char *err;

	*modified_r = NULL;
	*n_modified_r = 0;
	if (n == 0)
		return 0;
	return store_set_flags_uids(s->mbox->f, uids, n, ch, modified_r, n_modified_r, &err);
}

int imapd_mbox_copy(struct imapd_session *s, const uint32_t *uids, size_t n, const char *name,
		    bool move, uint32_t *new_uids, uint32_t *uidvalidity_r)
{
	struct store_folder *dst;
	const char *err;
	int r;

	if (store_folder_open_append(s->store, name, &dst, &err) < 0)
		return -1;
	*uidvalidity_r = store_folder_uidvalidity(dst);
	r = n == 0 ? 0 : (move ? store_move_uids : store_copy_uids)(s->mbox->f, uids, n, dst,
								   new_uids, &err);
	if (r < 0)
		log_warning("%s to %s: %s", move ? "MOVE" : "COPY", name, err);
	store_folder_close(&dst);
	s->mbox->dirty = true;
	return r;
}

/* MULTIAPPEND into an mbox, where each append is durable at once: the
 * messages appended before a failure are expunged again (a crash in
 * between may leave them). */
static int append_each(struct imapd_session *s, struct store_folder *f, const char *name,
		       const struct imapd_append *msgs, size_t n, uint32_t *uids)
{
	const char *err;
	size_t done = 0;
	int r = 0;

	for (; done < n && r == 0; done++)
		r = store_append(f, msgs[done].data, msgs[done].len, msgs[done].flags,
				 msgs[done].keywords, msgs[done].date, &uids[done], &err);
	if (r == 0)
		return 0;
	struct store_folder *all;

	if (done > 1 && store_folder_open(s->store, name, &all, &err) == 0) {
		store_expunge(all, uids, done - 1, &err);
		store_folder_close(&all);
	}
	return -1;
}

/* A maildir takes the whole command as one batch (store/batch.h): every
 * file written and fsynced together, one state transaction giving all
 * the UIDs, one fsync of each directory, one wake-up of the other
 * sessions; a message that cannot be written leaves none behind. */
static int append_batch(struct store_folder *f, const struct imapd_append *msgs, size_t n,
			uint32_t *uids)
{
	/* The literals stay in the command's arena until the reply. */
	struct store_batch *b = store_batch_new_opts(f, STORE_BATCH_BORROW |
						     STORE_BATCH_BODYSTRUCTURE);
	const char *err;

	for (size_t i = 0; i < n; i++)
		if (store_batch_add(b, msgs[i].data, msgs[i].len, msgs[i].flags, msgs[i].keywords,
				    msgs[i].date, &err) < 0) {
			store_batch_abort(&b);
			return -1;
		}
	return store_batch_commit(&b, uids, &err);
}

int imapd_mbox_append(struct imapd_session *s, const char *name, const struct imapd_append *msgs,
		      size_t n, uint32_t *uidvalidity_r, uint32_t *uids, const char **error_r)
{
	struct store_folder *f;
	const char *err;
	int r;

	if (store_folder_open_append(s->store, name, &f, &err) < 0) {
		*error_r = imapd_mbox_error(s, true, "Cannot open the mailbox.");
		return -1;
	}
	*uidvalidity_r = store_folder_uidvalidity(f);
	if (store_folder_kind(f) == STORE_MBOX)
		r = append_each(s, f, name, msgs, n, uids);
	else
		r = append_batch(f, msgs, n, uids);
	store_folder_close(&f);
	if (r < 0)
		*error_r = imapd_mbox_error(s, true, "Cannot store the message.");
	return r;
}

int imapd_mbox_expunge(struct imapd_session *s, const uint32_t *uids, size_t n)
{
	const char *err;

	s->mbox->dirty = true;
	return n == 0 ? 0 : store_expunge(s->mbox->f, uids, n, &err);
}
