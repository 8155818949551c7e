/* SEARCH and UID SEARCH with every RFC 3501 key, MODSEQ (CONDSTORE) and
 * ESEARCH's RETURN (MIN MAX COUNT ALL).  The key list is checked once,
 * then evaluated against each message; the message text is read only for
 * keys that need it (headers, body, text, sent dates). */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "store/message.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct eval {
	struct imapd_session *s;
	uint32_t seq;
	const struct store_msg *m;
	struct message *msg;	/* parsed on first need */
	bool msg_tried;
	bool syntax_only;	/* checking the program: read no message */
	bool bad;
	const char *error;
};

static struct message *need_msg(struct eval *e)
{
	if (!e->msg_tried && !e->syntax_only) {
		struct sbuf raw = SBUF_INIT;
		const char *err;

		e->msg_tried = true;
		if (store_msg_read(e->s->mbox->f, e->m->uid, &raw, &err) == 0)
			e->msg = message_parse(raw.buf, raw.len, NULL, &err);
		sbuf_release(&raw);
	}
	return e->msg;
}

static bool contains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

static bool header_has(struct eval *e, const char *name, const char *value)
{
	struct message *msg = need_msg(e);

	if (msg == NULL)
		return false;
	for (int i = 0; i < message_header_count(msg); i++) {
		const char *n, *v;
		if (message_header_at(msg, i, &n, &v) == 0 && strcasecmp(n, name) == 0 &&
		    (!*value || contains(v, value)))
			return true;
	}
	return false;
}

static bool body_has(struct eval *e, const char *value)
{
	struct message *msg = need_msg(e);
	const struct message_part *const *parts;

	if (msg == NULL)
		return false;
	size_t n = message_parts(msg, &parts);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(message_part_type(parts[i]), "text/", 5) != 0)
			continue;
		size_t len;
		char *t = message_part_text(parts[i], 0, &len);
		bool hit = contains(t, value);
		free(t);
		if (hit)
			return true;
	}
	return false;
}

static bool key(struct eval *e, const struct imap_arg *a, unsigned n, unsigned *i);

/* Takes the number argument of LARGER, SMALLER, MODSEQ; 0 and e->bad when
 * it is missing or not a number. */
static uint64_t num_arg(struct eval *e, const char *v)
{
	char *end;
	uint64_t x;

	if (e->bad)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno) {
		e->bad = true;
		e->error = "Invalid number.";
		return 0;
	}
	return x;
}

/* Takes the string argument of a key; NULL (and e->bad) when missing. */
static const char *str_arg(struct eval *e, const struct imap_arg *a, unsigned n, unsigned *i)
{
	const char *v = *i < n ? imap_arg_astring(&a[*i]) : NULL;

	if (v == NULL) {
		e->bad = true;
		e->error = "Missing search argument.";
		return "";
	}
	(*i)++;
	return v;
}

static int64_t date_arg(struct eval *e, const struct imap_arg *a, unsigned n, unsigned *i)
{
	int64_t d = imap_date_parse(str_arg(e, a, n, i), false);

	if (d < 0 && !e->bad) {
		e->bad = true;
		e->error = "Invalid date.";
	}
	return d;
}

static int64_t sent_date(struct eval *e)
{
	time_t t;
	int tz;
	struct message *msg = need_msg(e);

	if (msg == NULL || message_date(msg, &t, &tz) < 0)
		return e->m->internal_date;
	return (int64_t)t + tz;	/* the day as the sender wrote it */
}

static bool has_keyword(const struct store_msg *m, const char *kw)
{
	const char *k = m->keywords;
	size_t len = strlen(kw);

	while (k && *k) {
		size_t l = strcspn(k, " ");
		if (l == len && strncasecmp(k, kw, len) == 0)
			return true;
		k += l;
		k += *k == ' ';
	}
	return false;
}

static bool flag_key(const char *name, const struct store_msg *m, bool recent, bool *r)
{
	static const struct {
		const char *name;
		uint32_t flag;
		bool set;
	} keys[] = {
		{ "ANSWERED", STORE_ANSWERED, true }, { "DELETED", STORE_DELETED, true },
		{ "DRAFT", STORE_DRAFT, true }, { "FLAGGED", STORE_FLAGGED, true },
		{ "SEEN", STORE_SEEN, true }, { "UNANSWERED", STORE_ANSWERED, false },
		{ "UNDELETED", STORE_DELETED, false }, { "UNDRAFT", STORE_DRAFT, false },
		{ "UNFLAGGED", STORE_FLAGGED, false }, { "UNSEEN", STORE_SEEN, false },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcasecmp(name, keys[i].name) == 0) {
			*r = ((m->flags & keys[i].flag) != 0) == keys[i].set;
			return true;
		}
	if (strcasecmp(name, "ALL") == 0)
		*r = true;
	else if (strcasecmp(name, "RECENT") == 0)
		*r = recent;
	else if (strcasecmp(name, "NEW") == 0)
		*r = recent && !(m->flags & STORE_SEEN);
	else if (strcasecmp(name, "OLD") == 0)
		*r = !recent;
	else
		return false;
	return true;
}

static bool key(struct eval *e, const struct imap_arg *a, unsigned n, unsigned *i)
{
	const struct imap_arg *k = &a[(*i)++];
	const struct store_msg *m = e->m;
	bool r = false;

	if (k->type == IMAP_ARG_LIST) {
		unsigned j = 0;
		r = true;
		if (k->count == 0) {
			e->bad = true;
			e->error = "Empty search list.";
		}
		while (j < k->count && !e->bad)
			r &= key(e, k->list, k->count, &j);
		return r;
	}
	if (k->type != IMAP_ARG_ATOM) {
		e->bad = true;
		e->error = "Unknown search key.";
		return false;
	}
	const char *w = k->str;
	if (flag_key(w, m, imapd_mbox_is_recent(e->s->mbox, m->uid), &r))
		return r;
	if (strcasecmp(w, "NOT") == 0) {
		if (*i >= n) {
			e->bad = true;
			return false;
		}
		return !key(e, a, n, i);
	}
	if (strcasecmp(w, "OR") == 0) {
		if (*i + 1 >= n) {
			e->bad = true;
			return false;
		}
		bool x = key(e, a, n, i);
		bool y = key(e, a, n, i);
		return x || y;
	}
	static const char *const hdr_keys[] = { "FROM", "TO", "CC", "BCC", "SUBJECT" };
	for (size_t h = 0; h < sizeof(hdr_keys) / sizeof(hdr_keys[0]); h++)
		if (strcasecmp(w, hdr_keys[h]) == 0) {
			const char *v = str_arg(e, a, n, i);
			return !e->bad && header_has(e, hdr_keys[h], v);
		}
	if (strcasecmp(w, "HEADER") == 0) {
		const char *name = str_arg(e, a, n, i), *v = str_arg(e, a, n, i);
		return !e->bad && header_has(e, name, v);
	}
	if (strcasecmp(w, "BODY") == 0) {
		const char *v = str_arg(e, a, n, i);
		return !e->bad && body_has(e, v);
	}
	if (strcasecmp(w, "TEXT") == 0) {
		const char *v = str_arg(e, a, n, i);
		if (e->bad || body_has(e, v))
			return !e->bad;
		struct message *msg = need_msg(e);
		for (int h = 0; msg && h < message_header_count(msg); h++) {
			const char *hn, *hv;
			if (message_header_at(msg, h, &hn, &hv) == 0 && (contains(hn, v) || contains(hv, v)))
				return true;
		}
		return false;
	}
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		const char *v = str_arg(e, a, n, i);
		return has_keyword(m, v) == (w[0] == 'K' || w[0] == 'k');
	}
	if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		uint64_t v = num_arg(e, str_arg(e, a, n, i));
		return w[0] == 'L' || w[0] == 'l' ? m->size > v : m->size < v;
	}
	static const char *const date_keys[] = { "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON",
						 "SENTSINCE" };
	for (size_t d = 0; d < sizeof(date_keys) / sizeof(date_keys[0]); d++)
		if (strcasecmp(w, date_keys[d]) == 0) {
			int64_t day = date_arg(e, a, n, i);
			if (e->bad)
				return false;
			int64_t t = d >= 3 ? sent_date(e) : m->internal_date;
			int64_t mday = t - (t % 86400 + 86400) % 86400;
			switch (d % 3) {
			case 0: return mday < day;
			case 1: return mday == day;
			default: return mday >= day;
			}
		}
	if (strcasecmp(w, "UID") == 0) {
		struct imap_seqset set;
		const char *v = str_arg(e, a, n, i), *err;
		if (e->bad || imapd_mbox_set(e->s, v, true, &set, &err) < 0) {
			e->bad = true;
			e->error = "Invalid UID set.";
			return false;
		}
		return imap_seqset_contains(&set, m->uid);
	}
	if (strcasecmp(w, "MODSEQ") == 0) {
		/* MODSEQ [entry-name entry-type] n */
		if (*i + 2 < n && a[*i].type != IMAP_ARG_ATOM)
			*i += 2;
		uint64_t v = num_arg(e, str_arg(e, a, n, i));
		e->s->condstore = true;
		return m->modseq >= v;
	}
	/* A sequence set: numbers past the end match nothing (as in
	 * Dovecot), unlike FETCH where they are an error. */
	struct imap_seqset set;
	const char *err;
	if (imap_seqset_parse(w, e->s->arena, &set, &err) < 0 || set.saved) {
		e->bad = true;
		e->error = "Unknown search key.";
		return false;
	}
	imap_seqset_resolve(&set, (uint32_t)e->s->mbox->count);
	return imap_seqset_contains(&set, e->seq);
}

/* SEARCH; *save_r tells whether RETURN (SAVE) was asked for. */
static void do_search(struct imapd_session *s, const struct imap_arg *args, unsigned n, bool *save_r)
{
	struct mbox_view *v = s->mbox;
	unsigned i = 0, ret = 0;
	bool esearch = false;
	enum { R_MIN = 1, R_MAX = 2, R_COUNT = 4, R_ALL = 8, R_SAVE = 16 };

	if (n >= 2 && imap_arg_is_atom(&args[0], "RETURN") && args[1].type == IMAP_ARG_LIST) {
		esearch = true;
		for (unsigned j = 0; j < args[1].count; j++) {
			const struct imap_arg *r = &args[1].list[j];
			if (imap_arg_is_atom(r, "MIN")) ret |= R_MIN;
			else if (imap_arg_is_atom(r, "MAX")) ret |= R_MAX;
			else if (imap_arg_is_atom(r, "COUNT")) ret |= R_COUNT;
			else if (imap_arg_is_atom(r, "ALL")) ret |= R_ALL;
			else if (imap_arg_is_atom(r, "SAVE")) ret |= R_SAVE;
			else {
				sess_reply(s, "BAD", "Unknown RETURN option.");
				return;
			}
		}
		if (ret == 0)
			ret = R_ALL;
		*save_r = (ret & R_SAVE) != 0;
		i = 2;
	}
	if (i + 1 < n && imap_arg_is_atom(&args[i], "CHARSET")) {
		const char *cs = imap_arg_astring(&args[i + 1]);
		/* RFC 6855 3: the strings are UTF-8 already. */
		if (s->utf8) {
			sess_reply(s, "BAD", "No CHARSET after ENABLE UTF8=ACCEPT.");
			return;
		}
		if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0)) {
			sess_reply(s, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset.");
			return;
		}
		i += 2;
	}
	if (i >= n) {
		sess_reply(s, "BAD", "SEARCH needs a key.");
		return;
	}
	/* The program is checked once on its own, so a bad one gets BAD
	 * in an empty mailbox too. */
	struct store_msg none = { 0 };
	struct eval check = { .s = s, .m = &none, .syntax_only = true };
	for (unsigned j = i; j < n && !check.bad;)
		key(&check, args, n, &j);
	if (check.bad) {
		sess_reply(s, "BAD", "%s", check.error ? check.error : "Invalid search.");
		return;
	}
	uint32_t *hits = arena_calloc(s->arena, v->count ? v->count : 1, sizeof(*hits));
	uint32_t *uids = arena_calloc(s->arena, v->count ? v->count : 1, sizeof(*uids));
	size_t nh = 0;
	uint64_t maxmod = 0;
	bool modseq_key = false;
	for (unsigned j = i; j < n; j++)
		modseq_key |= imap_arg_is_atom(&args[j], "MODSEQ");
	for (uint32_t seq = 1; seq <= v->count; seq++) {
		struct eval e = { .s = s, .seq = seq, .m = imapd_mbox_msg(s, seq) };
		bool all = true;
		unsigned j = i;

		if (e.m == NULL)
			continue;
		while (j < n && !e.bad)
			all &= key(&e, args, n, &j);
		message_free(&e.msg);
		if (e.bad) {
			sess_reply(s, "BAD", "%s", e.error ? e.error : "Invalid search.");
			return;
		}
		if (all) {
			uids[nh] = e.m->uid;
			hits[nh++] = s->uid_cmd ? e.m->uid : seq;
			if (e.m->modseq > maxmod)
				maxmod = e.m->modseq;
		}
	}
	if (ret & R_SAVE) {
		/* RFC 5182 2.4: with MIN and/or MAX (and neither ALL nor
		 * COUNT) only those are saved. */
		if ((ret & (R_MIN | R_MAX)) && !(ret & (R_ALL | R_COUNT)) && nh > 1) {
			uint32_t mm[2] = { uids[0], uids[nh - 1] };
			bool both = (ret & R_MIN) && (ret & R_MAX);
			imapd_mbox_save_result(v, both ? mm : ret & R_MIN ? mm : mm + 1, both ? 2 : 1);
		} else {
			imapd_mbox_save_result(v, uids, nh);
		}
		/* SAVE alone: no ESEARCH response (RFC 5182 2.1). */
		if ((ret & ~R_SAVE) == 0 && !modseq_key)
			return;
	}
	struct sbuf out = SBUF_INIT;
	if (esearch) {
		sbuf_addf(&out, "* ESEARCH (TAG \"%s\")%s", s->tag, s->uid_cmd ? " UID" : "");
		if ((ret & R_MIN) && nh)
			sbuf_addf(&out, " MIN %u", hits[0]);
		if ((ret & R_MAX) && nh)
			sbuf_addf(&out, " MAX %u", hits[nh - 1]);
		if (ret & R_COUNT)
			sbuf_addf(&out, " COUNT %zu", nh);
		if ((ret & R_ALL) && nh) {
			sbuf_addstr(&out, " ALL ");
			sess_add_set(&out, hits, nh);
		}
		if (modseq_key && nh)
			sbuf_addf(&out, " MODSEQ %llu", (unsigned long long)maxmod);
	} else {
		sbuf_addstr(&out, "* SEARCH");
		for (size_t h = 0; h < nh; h++)
			sbuf_addf(&out, " %u", hits[h]);
		if (modseq_key && nh)
			sbuf_addf(&out, " (MODSEQ %llu)", (unsigned long long)maxmod);
	}
	sbuf_addstr(&out, "\r\n");
	sess_printf(s, "%s", out.buf);
	sbuf_release(&out);
}

static void cmd_search(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	bool save = false;

	do_search(s, args, n, &save);
	/* A failed SEARCH RETURN (SAVE) leaves "$" empty (RFC 5182 2.1). */
	if (save && s->reply != NULL && strncmp(s->reply, "OK", 2) != 0)
		imapd_mbox_save_result(s->mbox, NULL, 0);
}

const struct sess_command cmd_search_table[] = {
	{ "SEARCH", cmd_search, SESS_SELECTED, true },
	{ NULL, NULL, 0, false },
};
