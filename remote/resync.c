/* What changed in a folder since a known state; see remote.h.
 *
 * libetpan 1.9.4 parses FETCH ... MODSEQ, HIGHESTMODSEQ and VANISHED, and
 * its UID FETCH ... (CHANGEDSINCE m VANISHED) and SELECT ... (CONDSTORE)
 * are right, so loft uses them.  Two of its defects are worked around
 * here: mailimap_select_qresync sends "SELECT INBOX QRESYNC (...)"
 * without the parentheses RFC 7162 puts around select parameters (loft's
 * server answers BAD "Too many arguments"), and its callers get only the
 * first VANISHED response of a command (the rest are read here from the
 * response it leaves).  So loft writes that
 * SELECT itself and lets libetpan's parser read the answer
 * (mailimap_send_current_tag, mailimap_read_line and
 * mailimap_parse_response are public), and reads every VANISHED. */
#include "remote/remote-private.h"
#include "lib/imap_utf7.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The set's intervals as ranges (a '*' end, which VANISHED never has, is
 * taken as the largest UID). */
static struct remote_range *ranges_of(const struct mailimap_set *set, size_t *n_r)
{
	size_t n = set != NULL ? (size_t)clist_count(set->set_list) : 0, got = 0;
	struct remote_range *v = xcalloc(n + 1, sizeof(*v));

	for (clistiter *it = n ? clist_begin(set->set_list) : NULL; it != NULL;
	     it = clist_next(it)) {
		const struct mailimap_set_item *item = clist_content(it);
		uint32_t a = item->set_first, b = item->set_last;

		if (a == 0)
			a = UINT32_MAX;
		if (b == 0)
			b = UINT32_MAX;
		v[got].first = a < b ? a : b;
		v[got].last = a < b ? b : a;
		got++;
	}
	*n_r = got;
	return v;
}

static void take_vanished(struct mailimap_qresync_vanished *van, struct remote_range **v_r,
			  size_t *n_r)
{
	*v_r = ranges_of(van != NULL ? van->qr_known_uids : NULL, n_r);
	if (van != NULL)
		mailimap_qresync_vanished_free(van);
}

/* Every VANISHED of the last response, and its HIGHESTMODSEQ. */
static void response_extensions(mailimap *imap, struct remote_range **v_r, size_t *n_r,
				uint64_t *modseq_r)
{
	clist *ext = imap->imap_response_info ? imap->imap_response_info->rsp_extension_list
					      : NULL;
	size_t n = 0;

	*v_r = NULL;
	*n_r = 0;
	for (clistiter *it = ext ? clist_begin(ext) : NULL; it != NULL; it = clist_next(it)) {
		struct mailimap_extension_data *x = clist_content(it);

		if (x->ext_extension->ext_id == MAILIMAP_EXTENSION_CONDSTORE &&
		    x->ext_type == MAILIMAP_CONDSTORE_TYPE_RESP_TEXT_CODE && x->ext_data != NULL) {
			struct mailimap_condstore_resptextcode *t = x->ext_data;

			if (t->cs_type == MAILIMAP_CONDSTORE_RESPTEXTCODE_HIGHESTMODSEQ)
				*modseq_r = t->cs_data.cs_modseq_value;
		} else if (x->ext_extension->ext_id == MAILIMAP_EXTENSION_QRESYNC &&
			   x->ext_type == MAILIMAP_QRESYNC_TYPE_VANISHED && x->ext_data != NULL) {
			struct mailimap_qresync_vanished *van = x->ext_data;
			struct remote_range *more = ranges_of(van->qr_known_uids, &n);

			*v_r = xreallocarray(*v_r, *n_r + n + 1, sizeof(**v_r));
			memcpy(*v_r + *n_r, more, n * sizeof(*more));
			*n_r += n;
			free(more);
		}
	}
}

/* "A:B,C" for a set of UIDs (ascending), appended to out. */
static void add_uid_set(struct sbuf *out, const uint32_t *uids, size_t n)
{
	for (size_t k = 0; k < n;) {
		size_t e = k;

		while (e + 1 < n && uids[e + 1] == uids[e] + 1)
			e++;
		sbuf_addf(out, k ? ",%u" : "%u", uids[k]);
		if (e > k)
			sbuf_addf(out, ":%u", uids[e]);
		k = e + 1;
	}
}

/* SELECT wire (QRESYNC (uidvalidity modseq [known])), known a UID set
 * (empty: none), written by loft, read by libetpan.  MAILIMAP_NO_ERROR,
 * MAILIMAP_ERROR_SELECT (NO/BAD), or another libetpan error; *fetched_r
 * the FETCHes of the answer. */
static int select_qresync(struct remote_conn *c, const char *wire, uint32_t uidvalidity,
			  uint64_t modseq, const char *known, clist **fetched_r)
{
	mailimap *imap = c->imap;
	struct mailimap_response *resp = NULL;
	struct sbuf cmd = SBUF_INIT;
	int r, state;

	*fetched_r = NULL;
	if (imap->imap_state != MAILIMAP_STATE_AUTHENTICATED &&
	    imap->imap_state != MAILIMAP_STATE_SELECTED)
		return MAILIMAP_ERROR_BAD_STATE;
	r = mailimap_send_current_tag(imap);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	/* The wire name is modified UTF-7: ASCII, quoted here. */
	sbuf_addstr(&cmd, "SELECT \"");
	for (const char *p = wire; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addch(&cmd, '\\');
		sbuf_addch(&cmd, *p);
	}
	sbuf_addf(&cmd, "\" (QRESYNC (%u %llu%s%s))\r\n", uidvalidity, (unsigned long long)modseq,
		  *known ? " " : "", known);
	r = mailstream_write(imap->imap_stream, cmd.buf, cmd.len) == (ssize_t)cmd.len &&
			    mailstream_flush(imap->imap_stream) == 0
		    ? MAILIMAP_NO_ERROR
		    : MAILIMAP_ERROR_STREAM;
	sbuf_release(&cmd);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	if (mailimap_read_line(imap) == NULL)
		return MAILIMAP_ERROR_STREAM;
	if (imap->imap_selection_info != NULL)
		mailimap_selection_info_free(imap->imap_selection_info);
	imap->imap_selection_info = mailimap_selection_info_new();
	r = mailimap_parse_response(imap, &resp);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	*fetched_r = imap->imap_response_info->rsp_fetch_list;
	imap->imap_response_info->rsp_fetch_list = NULL;
	state = resp->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED
			? resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type
			: MAILIMAP_RESP_COND_STATE_BAD;
	mailimap_response_free(resp);
	if (state == MAILIMAP_RESP_COND_STATE_OK) {
		imap->imap_state = MAILIMAP_STATE_SELECTED;
		return MAILIMAP_NO_ERROR;
	}
	mailimap_selection_info_free(imap->imap_selection_info);
	imap->imap_selection_info = NULL;
	imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	return MAILIMAP_ERROR_SELECT;
}

static char *select_error(struct remote_conn *c, const char *folder, int r)
{
	if (r == MAILIMAP_ERROR_SELECT)
		return xasprintf("%s refused to open %s: %s", c->host, folder,
				 c->imap->imap_response ? c->imap->imap_response : "NO");
	return remote_io_error(c, "SELECT", r);
}

/* remote_select_since with the known UIDs as a set (empty: none). */
static int select_since(struct remote_conn *c, const char *folder, uint32_t uidvalidity,
			uint64_t modseq, const char *known, struct remote_selected *s_r,
			char **error_r)
{
	struct sbuf wire = SBUF_INIT;
	clist *fetched = NULL;
	int r;

	memset(s_r, 0, sizeof(*s_r));
	if (imap_utf7_encode(folder, &wire) < 0) {
		sbuf_release(&wire);
		*error_r = xasprintf("folder name '%s' is not UTF-8", folder);
		return -1;
	}
	if (c->qresync && uidvalidity != 0 && modseq != 0) {
		/* known-uids lets a server that forgot old expunges still
		 * say which of these are gone. */
		r = select_qresync(c, wire.buf, uidvalidity, modseq, known, &fetched);
		s_r->resynced = r == MAILIMAP_NO_ERROR;
		if (s_r->resynced)
			response_extensions(c->imap, &s_r->vanished, &s_r->n_vanished,
					    &s_r->highestmodseq);
	} else if (c->condstore) {
		r = mailimap_select_condstore(c->imap, wire.buf, &s_r->highestmodseq);
	} else {
		r = mailimap_select(c->imap, wire.buf);
	}
	sbuf_release(&wire);
	if (r != MAILIMAP_NO_ERROR) {
		/* A refused QRESYNC SELECT still hands over its (empty) list. */
		if (fetched != NULL)
			mailimap_fetch_list_free(fetched);
		*error_r = select_error(c, folder, r);
		return -1;
	}
	const struct mailimap_selection_info *sel = c->imap->imap_selection_info;

	s_r->exists = sel->sel_exists;
	s_r->uidvalidity = sel->sel_uidvalidity;
	s_r->uidnext = sel->sel_uidnext;
	if (s_r->resynced)
		s_r->changed = remote_msgs_of(fetched, &s_r->n_changed);
	if (fetched != NULL)
		mailimap_fetch_list_free(fetched);
	return 0;
}

int remote_select_since(struct remote_conn *c, const char *folder, uint32_t uidvalidity,
			uint64_t modseq, const uint32_t *known, size_t n_known,
			struct remote_selected *s_r, char **error_r)
{
	struct sbuf set = SBUF_INIT;
	int r;

	add_uid_set(&set, known, n_known);
	r = select_since(c, folder, uidvalidity, modseq, set.buf, s_r, error_r);
	sbuf_release(&set);
	return r;
}

int remote_select_upto(struct remote_conn *c, const char *folder, uint32_t uidvalidity,
		       uint64_t modseq, uint32_t last_uid, struct remote_selected *s_r,
		       char **error_r)
{
	char set[32] = "";

	if (last_uid > 0)
		snprintf(set, sizeof(set), last_uid > 1 ? "1:%u" : "%u", last_uid);
	return select_since(c, folder, uidvalidity, modseq, set, s_r, error_r);
}

void remote_selected_clear(struct remote_selected *s)
{
	remote_msgs_free(s->changed, s->n_changed);
	free(s->vanished);
	memset(s, 0, sizeof(*s));
}

int remote_fetch_changed(struct remote_conn *c, uint64_t modseq, struct remote_msg **msgs_r,
			 size_t *n_r, struct remote_range **vanished_r, size_t *n_vanished_r,
			 char **error_r)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = mailimap_set_new_interval(1, 0);
	struct mailimap_qresync_vanished *van = NULL;
	clist *result = NULL;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	if (c->qresync)
		r = mailimap_uid_fetch_qresync(c->imap, set, ft, modseq, &result, &van);
	else
		r = mailimap_uid_fetch_changedsince(c->imap, set, ft, modseq, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "FETCH CHANGEDSINCE", r);
		return -1;
	}
	*msgs_r = remote_msgs_of(result, n_r);
	if (result != NULL)
		mailimap_fetch_list_free(result);
	*vanished_r = NULL;
	*n_vanished_r = 0;
	if (c->qresync) {
		struct remote_range *more;
		size_t n_more;
		uint64_t unused = 0;

		take_vanished(van, vanished_r, n_vanished_r);
		/* libetpan handed over the first VANISHED; the others are
		 * still in the response. */
		response_extensions(c->imap, &more, &n_more, &unused);
		if (n_more > 0) {
			*vanished_r = xreallocarray(*vanished_r, *n_vanished_r + n_more + 1,
						    sizeof(**vanished_r));
			memcpy(*vanished_r + *n_vanished_r, more, n_more * sizeof(*more));
			*n_vanished_r += n_more;
		}
		free(more);
	}
	return 0;
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int remote_search_all(struct remote_conn *c, uint32_t **uids_r, size_t *n_r, char **error_r)
{
	struct mailimap_search_key *key = mailimap_search_key_new_all();
	clist *result = NULL;
	uint32_t *uids;
	size_t n = 0;
	int r = mailimap_uid_search(c->imap, NULL, key, &result);

	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "SEARCH", r);
		return -1;
	}
	uids = xcalloc((size_t)clist_count(result) + 1, sizeof(*uids));
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it))
		uids[n++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(result);
	qsort(uids, n, sizeof(*uids), cmp_uid);
	*uids_r = uids;
	*n_r = n;
	return 0;
}

struct found {
	uint32_t *v;
	size_t n, alloc;
};

static void on_search(const char *line, void *ctx)
{
	struct found *f = ctx;
	const char *p;
	char *end;

	if (strncasecmp(line, "SEARCH", 6) != 0 || (line[6] != ' ' && line[6] != '\0'))
		return;
	for (p = line + 6; *p == ' '; p++) {
		unsigned long u = strtoul(p + 1, &end, 10);

		if (end == p + 1 || u == 0 || u > UINT32_MAX)
			break;
		if (f->n == f->alloc) {
			f->alloc = f->alloc ? f->alloc * 2 : 64;
			f->v = xreallocarray(f->v, f->alloc, sizeof(*f->v));
		}
		f->v[f->n++] = (uint32_t)u;
		p = end - 1;
	}
}

int remote_search(struct remote_conn *c, const char *key, uint32_t **uids_r, size_t *n_r,
		  char **error_r)
{
	struct found f = { NULL, 0, 0 };
	bool eight = false;
	char *cmd;
	int r;

	for (const char *p = key; *p != '\0'; p++)
		eight = eight || (unsigned char)*p >= 0x80;
	cmd = xasprintf("UID SEARCH %s%s", eight ? "CHARSET UTF-8 " : "", key);
	r = remote_raw_command(c, cmd, NULL, on_search, &f, error_r);
	free(cmd);
	if (r != 0) {
		if (r > 0) {
			char *why = *error_r;

			*error_r = xasprintf("SEARCH: %s answered: %s", c->host, why);
			free(why);
		}
		free(f.v);
		return -1;
	}
	if (f.n > 0)	/* qsort(NULL, 0) is undefined (UBSan stops on it) */
		qsort(f.v, f.n, sizeof(*f.v), cmp_uid);
	*uids_r = f.v != NULL ? f.v : xcalloc(1, sizeof(uint32_t));
	*n_r = f.n;
	return 0;
}
