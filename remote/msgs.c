/* Messages of the selected folder: FETCH, STORE, EXPUNGE, COPY/MOVE,
 * APPEND through libetpan; see remote.h.
 *
 * libetpan holds a multi-message FETCH reply whole in memory, so callers
 * ask for headers in bounded batches (REMOTE_FETCH_BATCH UIDs). */
#include "remote/remote-private.h"
#include "store/message.h"
#include "store/store.h"
#include "lib/imap_utf7.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct mailimap_set *remote_uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set;

	if (n == 0)
		return mailimap_set_new_interval(1, 0);
	set = mailimap_set_new_empty();
	for (size_t k = 0; k < n;) {
		size_t e = k;

		while (e + 1 < n && uids[e + 1] == uids[e] + 1)
			e++;
		mailimap_set_add_interval(set, uids[k], uids[e]);
		k = e + 1;
	}
	return set;
}

static void add_addresses(struct sbuf *out, clist *list)
{
	if (list == NULL || clist_isempty(list)) {
		sbuf_addstr(out, "NIL");
		return;
	}
	sbuf_addch(out, '(');
	for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
		struct mailimap_address *a = clist_content(it);

		sbuf_addch(out, '(');
		message_imap_nstring(out, a->ad_personal_name);
		sbuf_addch(out, ' ');
		message_imap_nstring(out, a->ad_source_route);
		sbuf_addch(out, ' ');
		message_imap_nstring(out, a->ad_mailbox_name);
		sbuf_addch(out, ' ');
		message_imap_nstring(out, a->ad_host_name);
		sbuf_addch(out, ')');
	}
	sbuf_addch(out, ')');
}

/* libetpan's parsed ENVELOPE written back as the IMAP string the client's
 * envelope parser reads (the same form the store's cache keeps). */
static char *envelope_string(const struct mailimap_envelope *e)
{
	struct sbuf out = SBUF_INIT;

	sbuf_addch(&out, '(');
	message_imap_nstring(&out, e->env_date);
	sbuf_addch(&out, ' ');
	message_imap_nstring(&out, e->env_subject);
	sbuf_addch(&out, ' ');
	add_addresses(&out, e->env_from ? e->env_from->frm_list : NULL);
	sbuf_addch(&out, ' ');
	add_addresses(&out, e->env_sender ? e->env_sender->snd_list : NULL);
	sbuf_addch(&out, ' ');
	add_addresses(&out, e->env_reply_to ? e->env_reply_to->rt_list : NULL);
	sbuf_addch(&out, ' ');
	add_addresses(&out, e->env_to ? e->env_to->to_list : NULL);
	sbuf_addch(&out, ' ');
	add_addresses(&out, e->env_cc ? e->env_cc->cc_list : NULL);
	sbuf_addch(&out, ' ');
	add_addresses(&out, e->env_bcc ? e->env_bcc->bcc_list : NULL);
	sbuf_addch(&out, ' ');
	message_imap_nstring(&out, e->env_in_reply_to);
	sbuf_addch(&out, ' ');
	message_imap_nstring(&out, e->env_message_id);
	sbuf_addch(&out, ')');
	return sbuf_detach(&out, NULL);
}

/* The flags of d; its keywords (but $Forwarded, a flag here) appended to
 * kw, space separated. */
static uint32_t flags_of(const struct mailimap_msg_att_dynamic *d, struct sbuf *kw)
{
	uint32_t fl = 0;

	if (d == NULL || d->att_list == NULL)
		return 0;
	for (clistiter *it = clist_begin(d->att_list); it != NULL; it = clist_next(it)) {
		struct mailimap_flag_fetch *ff = clist_content(it);

		if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT) {
			fl |= STORE_RECENT;
			continue;
		}
		switch (ff->fl_flag->fl_type) {
		case MAILIMAP_FLAG_SEEN: fl |= STORE_SEEN; break;
		case MAILIMAP_FLAG_ANSWERED: fl |= STORE_ANSWERED; break;
		case MAILIMAP_FLAG_FLAGGED: fl |= STORE_FLAGGED; break;
		case MAILIMAP_FLAG_DELETED: fl |= STORE_DELETED; break;
		case MAILIMAP_FLAG_DRAFT: fl |= STORE_DRAFT; break;
		case MAILIMAP_FLAG_KEYWORD:
			if (strcasecmp(ff->fl_flag->fl_data.fl_keyword, "$Forwarded") == 0) {
				fl |= STORE_PASSED;
			} else {
				if (kw->len)
					sbuf_addch(kw, ' ');
				sbuf_addstr(kw, ff->fl_flag->fl_data.fl_keyword);
			}
			break;
		default: break;
		}
	}
	return fl;
}

static int64_t date_of(const struct mailimap_date_time *d)
{
	struct tm tm = { 0 };
	int zone;

	if (d == NULL)
		return 0;
	tm.tm_mday = d->dt_day;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_year = d->dt_year - 1900;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	/* dt_zone is +HHMM as a number. */
	zone = d->dt_zone;
	return (int64_t)timegm(&tm) - (zone / 100 * 3600 + zone % 100 * 60);
}

static void msg_of(struct mailimap_msg_att *att, struct remote_msg *m)
{
	memset(m, 0, sizeof(*m));
	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			struct sbuf kw = SBUF_INIT;

			m->flags = flags_of(item->att_data.att_dyn, &kw);
			free(m->keywords);
			m->keywords = kw.len ? sbuf_detach(&kw, NULL) : NULL;
			sbuf_release(&kw);
			continue;
		}
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_EXTENSION) {
			struct mailimap_extension_data *x = item->att_data.att_extension_data;

			if (x != NULL && x->ext_extension->ext_id == MAILIMAP_EXTENSION_CONDSTORE &&
			    x->ext_type == MAILIMAP_CONDSTORE_TYPE_FETCH_DATA && x->ext_data != NULL)
				m->modseq = ((struct mailimap_condstore_fetch_mod_resp *)x->ext_data)
						    ->cs_modseq_value;
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || item->att_data.att_static == NULL)
			continue;
		struct mailimap_msg_att_static *s = item->att_data.att_static;

		switch (s->att_type) {
		case MAILIMAP_MSG_ATT_UID: m->uid = s->att_data.att_uid; break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE: m->size = s->att_data.att_rfc822_size; break;
		case MAILIMAP_MSG_ATT_INTERNALDATE:
			m->internaldate = date_of(s->att_data.att_internal_date);
			break;
		case MAILIMAP_MSG_ATT_ENVELOPE:
			free(m->envelope);
			m->envelope = envelope_string(s->att_data.att_env);
			break;
		default: break;
		}
	}
}

static int cmp_msg(const void *a, const void *b)
{
	uint32_t x = ((const struct remote_msg *)a)->uid, y = ((const struct remote_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

struct remote_msg *remote_msgs_of(clist *result, size_t *n_r)
{
	struct remote_msg *msgs = xcalloc((size_t)(result ? clist_count(result) : 0) + 1,
					  sizeof(*msgs));
	size_t got = 0;

	for (clistiter *it = result ? clist_begin(result) : NULL; it != NULL;
	     it = clist_next(it)) {
		msg_of(clist_content(it), &msgs[got]);
		/* An unsolicited FETCH without UID (a flag change) is not ours. */
		if (msgs[got].uid != 0) {
			got++;
		} else {
			free(msgs[got].envelope);
			free(msgs[got].keywords);
		}
	}
	qsort(msgs, got, sizeof(*msgs), cmp_msg);
	*n_r = got;
	return msgs;
}

/* UID FETCH set (remote_fetch's attributes); set is freed here. */
static int fetch_set(struct remote_conn *c, struct mailimap_set *set, bool headers,
		     struct remote_msg **msgs_r, size_t *n_r, char **error_r)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *result = NULL;
	size_t got = 0;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	if (headers) {
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
	}
	r = mailimap_uid_fetch(c->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "FETCH", r);
		return -1;
	}
	*msgs_r = remote_msgs_of(result, &got);
	mailimap_fetch_list_free(result);
	*n_r = got;
	return 0;
}

int remote_fetch(struct remote_conn *c, const uint32_t *uids, size_t n, bool headers,
		 struct remote_msg **msgs_r, size_t *n_r, char **error_r)
{
	return fetch_set(c, remote_uid_set(uids, n), headers, msgs_r, n_r, error_r);
}

int remote_fetch_range(struct remote_conn *c, uint32_t first, uint32_t last,
		       struct remote_msg **msgs_r, size_t *n_r, char **error_r)
{
	return fetch_set(c, mailimap_set_new_interval(first, last), false, msgs_r, n_r, error_r);
}

void remote_msgs_free(struct remote_msg *msgs, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(msgs[k].envelope);
		free(msgs[k].keywords);
	}
	free(msgs);
}

int remote_fetch_bodies(struct remote_conn *c, const uint32_t *uids, size_t n,
			remote_body_fn *fn, void *ctx, char **error_r)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = remote_uid_set(uids, n);
	clist *result = NULL;
	int r, ret = 0;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	r = mailimap_uid_fetch(c->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "FETCH", r);
		return -1;
	}
	for (clistiter *it = clist_begin(result); it != NULL && ret == 0; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		struct mailimap_msg_att_body_section *bs = NULL;
		uint32_t uid = 0;

		for (clistiter *j = clist_begin(att->att_list); j != NULL; j = clist_next(j)) {
			struct mailimap_msg_att_item *item = clist_content(j);

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
				uid = item->att_data.att_static->att_data.att_uid;
			else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
				bs = item->att_data.att_static->att_data.att_body_section;
		}
		/* A FETCH without both is an unsolicited flag update. */
		if (uid != 0 && bs != NULL)
			ret = fn(uid, bs->sec_body_part ? bs->sec_body_part : "",
				 bs->sec_body_part ? bs->sec_length : 0, ctx, error_r);
	}
	mailimap_fetch_list_free(result);
	return ret;
}

struct one_body {
	uint32_t uid;
	struct sbuf *out;
	bool found;
};

static int one_body(uint32_t uid, const char *data, size_t len, void *ctx, char **error_r)
{
	struct one_body *ob = ctx;

	(void)error_r;
	if (uid == ob->uid && !ob->found) {
		sbuf_add(ob->out, data, len);
		ob->found = true;
	}
	return 0;
}

int remote_fetch_body(struct remote_conn *c, uint32_t uid, struct sbuf *out, char **error_r)
{
	struct one_body ob = { uid, out, false };

	if (remote_fetch_bodies(c, &uid, 1, one_body, &ob, error_r) < 0)
		return -1;
	if (!ob.found) {
		*error_r = xasprintf("%s has no message with UID %u any more", c->host, uid);
		return -1;
	}
	return 0;
}

static struct mailimap_flag_list *flag_list(uint32_t flags)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();

	if (flags & STORE_SEEN)
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (flags & STORE_ANSWERED)
		mailimap_flag_list_add(fl, mailimap_flag_new_answered());
	if (flags & STORE_FLAGGED)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	if (flags & STORE_DELETED)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	if (flags & STORE_DRAFT)
		mailimap_flag_list_add(fl, mailimap_flag_new_draft());
	if (flags & STORE_PASSED)
		mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(xstrdup("$Forwarded")));
	return fl;
}

int remote_store_flags(struct remote_conn *c, const uint32_t *uids, size_t n, int op,
		       uint32_t flags, char **error_r)
{
	struct mailimap_flag_list *fl = flag_list(flags);
	struct mailimap_store_att_flags *sa =
		op > 0 ? mailimap_store_att_flags_new_add_flags_silent(fl)
		: op < 0 ? mailimap_store_att_flags_new_remove_flags_silent(fl)
			 : mailimap_store_att_flags_new_set_flags_silent(fl);
	struct mailimap_set *set = remote_uid_set(uids, n);
	int r = mailimap_uid_store(c->imap, set, sa);

	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "STORE", r);
		return -1;
	}
	return 0;
}

/* Whether the selected folder keeps keywords it has not seen (\\* in
 * PERMANENTFLAGS). */
static bool keeps_keywords(struct remote_conn *c)
{
	const struct mailimap_selection_info *sel = c->imap->imap_selection_info;

	for (clistiter *it = sel && sel->sel_perm_flags ? clist_begin(sel->sel_perm_flags) : NULL;
	     it != NULL; it = clist_next(it)) {
		const struct mailimap_flag_perm *p = clist_content(it);

		if (p->fl_type == MAILIMAP_FLAG_PERM_ALL)
			return true;
	}
	return false;
}

int remote_store_keywords(struct remote_conn *c, const uint32_t *uids, size_t n, int op,
			  const char *const *kw, size_t n_kw, char **error_r)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sa;
	struct mailimap_set *set;
	int r;

	if (!keeps_keywords(c)) {
		*error_r = xasprintf("%s keeps no new keywords in this folder (no \\* in "
				     "PERMANENTFLAGS)", c->host);
		return -1;
	}
	fl = mailimap_flag_list_new_empty();
	for (size_t k = 0; k < n_kw; k++)
		mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(xstrdup(kw[k])));
	sa = op > 0 ? mailimap_store_att_flags_new_add_flags_silent(fl)
		    : mailimap_store_att_flags_new_remove_flags_silent(fl);
	set = remote_uid_set(uids, n);
	r = mailimap_uid_store(c->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "STORE", r);
		return -1;
	}
	return 0;
}

bool remote_uid_in(const uint32_t *v, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == uid)
			return true;
		if (v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Without UIDPLUS a plain EXPUNGE removes every message marked \Deleted:
 * it is sent only when those are uids[0..n) (distinct) alone, as RFC
 * 4315's reason for UID EXPUNGE is that other clients' marks are theirs
 * to act on.  0 when none other is marked (UID SEARCH DELETED), else -1
 * with *error_r saying how many, what ends it. */
static int others_marked(struct remote_conn *c, const uint32_t *uids, size_t n, const char *then,
			 char **error_r)
{
	uint32_t *marked;
	size_t n_marked, mine = 0, others;

	if (remote_search(c, "DELETED", &marked, &n_marked, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		mine += remote_uid_in(marked, n_marked, uids[i]);
	free(marked);
	others = n_marked - mine;
	if (others == 0)
		return 0;
	*error_r = xasprintf("%s has no UID EXPUNGE (UIDPLUS) and %zu other message%s marked "
			     "deleted there, which its EXPUNGE would remove too: %s", c->host,
			     others, others == 1 ? " is" : "s are", then);
	return -1;
}

static int expunge_all(struct remote_conn *c, const uint32_t *uids, size_t n, char **error_r)
{
	int r;

	if (others_marked(c, uids, n, "marked deleted, not removed", error_r) < 0)
		return -1;
	r = mailimap_expunge(c->imap);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "EXPUNGE", r);
		return -1;
	}
	return 0;
}

int remote_expunge(struct remote_conn *c, const uint32_t *uids, size_t n, char **error_r)
{
	struct mailimap_set *set;
	int r;

	if (remote_store_flags(c, uids, n, 1, STORE_DELETED, error_r) < 0)
		return -1;
	if (!remote_has_cap(c, "UIDPLUS"))
		return expunge_all(c, uids, n, error_r);
	set = remote_uid_set(uids, n);
	r = mailimap_uid_expunge(c->imap, set);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "EXPUNGE", r);
		return -1;
	}
	return 0;
}

static char *wire_name(const char *folder, char **error_r)
{
	struct sbuf wire = SBUF_INIT;

	if (imap_utf7_encode(folder, &wire) < 0) {
		sbuf_release(&wire);
		*error_r = xasprintf("folder name '%s' is not UTF-8", folder);
		return NULL;
	}
	return sbuf_detach(&wire, NULL);
}

int remote_copy(struct remote_conn *c, const uint32_t *uids, size_t n, const char *folder,
		bool move, char **error_r)
{
	char *wire = wire_name(folder, error_r);
	struct mailimap_set *set;
	int r;

	if (wire == NULL)
		return -1;
	/* Not copied when the originals could not go after. */
	if (move && !remote_has_cap(c, "MOVE") && !remote_has_cap(c, "UIDPLUS") &&
	    others_marked(c, uids, n, "nothing moved", error_r) < 0) {
		free(wire);
		return -1;
	}
	set = remote_uid_set(uids, n);
	if (move && remote_has_cap(c, "MOVE"))
		r = mailimap_uid_move(c->imap, set, wire);
	else
		r = mailimap_uid_copy(c->imap, set, wire);
	mailimap_set_free(set);
	free(wire);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, move ? "MOVE" : "COPY", r);
		return -1;
	}
	if (move && !remote_has_cap(c, "MOVE"))
		return remote_expunge(c, uids, n, error_r);
	return 0;
}

int remote_append(struct remote_conn *c, const char *folder, const char *data, size_t len,
		  uint32_t flags, char **error_r)
{
	char *wire = wire_name(folder, error_r);
	struct mailimap_flag_list *fl;
	int r;

	if (wire == NULL)
		return -1;
	fl = flag_list(flags & ~(uint32_t)STORE_RECENT);
	r = mailimap_append(c->imap, wire, fl, NULL, data, len);
	mailimap_flag_list_free(fl);
	free(wire);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "APPEND", r);
		return -1;
	}
	return 0;
}
