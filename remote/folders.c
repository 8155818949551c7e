/* The folder list with counts, and SELECT; see remote.h.
 *
 * LIST-STATUS (RFC 5819) gives every folder and its counts in one round
 * trip, but libetpan keeps only the last STATUS of a reply (rsp_status);
 * so with LIST-STATUS loft sends the command itself and reads the LIST and
 * STATUS lines here (names as quoted strings or atoms; a name sent as a
 * literal is skipped).  Without it: libetpan's LIST, then STATUS per
 * selectable folder. */
#include "remote/remote-private.h"
#include "lib/imap_utf7.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct list {
	struct remote_folder *v;
	size_t n, cap;
};

static struct remote_folder *add_folder(struct list *l, const char *wire, char delimiter)
{
	struct sbuf utf8 = SBUF_INIT;
	struct remote_folder *f;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	f = &l->v[l->n++];
	memset(f, 0, sizeof(*f));
	f->wire = xstrdup(wire);
	/* A name that is not canonical modified UTF-7 is shown as sent. */
	if (imap_utf7_decode(wire, &utf8) < 0) {
		sbuf_reset(&utf8);
		sbuf_addstr(&utf8, wire);
	}
	f->name = sbuf_detach(&utf8, NULL);
	f->delimiter = delimiter;
	return f;
}

static struct remote_folder *find_folder(struct list *l, const char *wire)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].wire, wire) == 0 ||
		    (strcasecmp(wire, "INBOX") == 0 && strcasecmp(l->v[i].wire, "INBOX") == 0))
			return &l->v[i];
	return NULL;
}

/* ---- reading LIST and STATUS lines ---- */

/* One string at *p: a quoted string (escapes undone) or an atom (NIL
 * gives NULL).  Moves *p past it.  0, or -1. */
static int take_string(const char **p, char **out)
{
	const char *s = *p;
	struct sbuf b = SBUF_INIT;

	while (*s == ' ')
		s++;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0') {
				sbuf_release(&b);
				return -1;
			}
			if (*s == '\\' && s[1] != '\0')
				s++;
			sbuf_addch(&b, *s);
		}
		s++;
	} else {
		size_t n = strcspn(s, " ()");

		/* "{N}": a literal, whose bytes the line reader dropped. */
		if (n == 0 || *s == '{')
			return -1;
		sbuf_add(&b, s, n);
		s += n;
		if (strcasecmp(b.buf, "NIL") == 0) {
			sbuf_release(&b);
			*out = NULL;
			*p = s;
			return 0;
		}
	}
	*out = sbuf_detach(&b, NULL);
	*p = s;
	return 0;
}

/* The special-use attributes among LIST's flags "(\\HasNoChildren \\Sent)". */
static unsigned special_of(const char *flags)
{
	static const struct {
		const char *flag;
		unsigned bit;
	} uses[] = { { "\\Sent", REMOTE_SPECIAL_SENT }, { "\\Drafts", REMOTE_SPECIAL_DRAFTS },
		     { "\\Trash", REMOTE_SPECIAL_TRASH } };
	unsigned bits = 0;

	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		size_t len = strlen(uses[i].flag);

		for (const char *p = flags; (p = strcasestr(p, uses[i].flag)) != NULL; p += len)
			if (p[len] == '\0' || p[len] == ' ' || p[len] == ')')
				bits |= uses[i].bit;
	}
	return bits;
}

/* "LIST (\Flags) "/" name" */
static void parse_list(const char *line, struct list *l)
{
	const char *p = line + 4, *close;
	char *delim = NULL, *name = NULL;
	bool noselect;

	while (*p == ' ')
		p++;
	if (*p != '(' || (close = strchr(p, ')')) == NULL)
		return;
	char *flags = xstrndup(p, (size_t)(close - p));

	noselect = strcasestr(flags, "\\Noselect") != NULL ||
		   strcasestr(flags, "\\NonExistent") != NULL;
	unsigned special = special_of(flags);

	free(flags);
	p = close + 1;
	if (take_string(&p, &delim) < 0 || take_string(&p, &name) < 0 || name == NULL)
		goto done;
	struct remote_folder *f = find_folder(l, name);

	if (f == NULL)
		f = add_folder(l, name, delim != NULL ? delim[0] : '\0');
	f->delimiter = delim != NULL ? delim[0] : '\0';
	f->noselect = noselect;
	f->special = special;
done:
	free(delim);
	free(name);
}

static void set_count(struct remote_folder *f, const char *att, unsigned long v)
{
	if (strcasecmp(att, "MESSAGES") == 0)
		f->messages = (uint32_t)v;
	else if (strcasecmp(att, "UNSEEN") == 0)
		f->unseen = (uint32_t)v;
	else if (strcasecmp(att, "UIDNEXT") == 0)
		f->uidnext = (uint32_t)v;
	else if (strcasecmp(att, "UIDVALIDITY") == 0)
		f->uidvalidity = (uint32_t)v;
	else if (strcasecmp(att, "HIGHESTMODSEQ") == 0)
		f->highestmodseq = v;
	else
		return;
	f->has_counts = true;
}

/* "STATUS name (MESSAGES 3 UNSEEN 1 ...)" */
static void parse_status(const char *line, struct list *l)
{
	const char *p = line + 6;
	char *name = NULL;
	struct remote_folder *f;

	if (take_string(&p, &name) < 0 || name == NULL)
		return;
	f = find_folder(l, name);
	if (f == NULL)	/* STATUS may come before its LIST line */
		f = add_folder(l, name, '\0');
	free(name);
	while (*p == ' ')
		p++;
	if (*p++ != '(')
		return;
	while (*p != ')' && *p != '\0') {
		char att[32], *end;
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " )");
		if (n == 0 || n >= sizeof(att))
			return;
		memcpy(att, p, n);
		att[n] = '\0';
		p += n;
		while (*p == ' ')
			p++;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			return;
		set_count(f, att, v);
		p = end;
	}
}

static void on_list_line(const char *line, void *ctx)
{
	if (strncasecmp(line, "LIST ", 5) == 0)
		parse_list(line, ctx);
	else if (strncasecmp(line, "STATUS ", 7) == 0)
		parse_status(line, ctx);
}

static int list_status(struct remote_conn *c, struct list *l, char **error_r)
{
	char *why = NULL, cmd[128];
	int r;

	/* With RETURN options a server sends special-use attributes only
	 * when asked for them (RFC 6154 section 2).  HIGHESTMODSEQ tells the
	 * daemon's poll of a flag change (RFC 7162 section 3.1.6). */
	snprintf(cmd, sizeof(cmd),
		 "LIST \"\" \"*\" RETURN (%sSTATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY%s))",
		 remote_has_cap(c, "SPECIAL-USE") ? "SPECIAL-USE " : "",
		 remote_has_cap(c, "CONDSTORE") ? " HIGHESTMODSEQ" : "");
	r = remote_raw_command(c, cmd, NULL, on_list_line, l, &why);
	if (r == 0)
		return 0;
	if (r > 0) {
		*error_r = xasprintf("LIST refused by %s: %s", c->host, why);
		free(why);
	} else {
		*error_r = why;
	}
	return -1;
}

/* ---- without LIST-STATUS: libetpan's LIST and STATUS ---- */

static int status_one(struct remote_conn *c, struct remote_folder *f, char **error_r)
{
	static const int atts[] = { MAILIMAP_STATUS_ATT_MESSAGES, MAILIMAP_STATUS_ATT_UNSEEN,
				    MAILIMAP_STATUS_ATT_UIDNEXT, MAILIMAP_STATUS_ATT_UIDVALIDITY };
	static const char *const names[] = { "MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY" };
	struct mailimap_status_att_list *want = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *st = NULL;
	int r;

	for (size_t i = 0; i < 4; i++)
		mailimap_status_att_list_add(want, atts[i]);
	r = mailimap_status(c->imap, f->wire, want, &st);
	mailimap_status_att_list_free(want);
	if (r == MAILIMAP_ERROR_STATUS)
		return 0;	/* a folder the server will not count: no counts */
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "STATUS", r);
		return -1;
	}
	for (clistiter *it = st->st_info_list ? clist_begin(st->st_info_list) : NULL; it != NULL;
	     it = clist_next(it)) {
		const struct mailimap_status_info *si = clist_content(it);

		for (size_t i = 0; i < 4; i++)
			if (si->st_att == atts[i])
				set_count(f, names[i], si->st_value);
	}
	mailimap_mailbox_data_status_free(st);
	return 0;
}

/* libetpan's LIST: names, delimiters and attributes, no counts. */
static int list_only(struct remote_conn *c, struct list *l, char **error_r)
{
	clist *result = NULL;
	int r = mailimap_list(c->imap, "", "*", &result);

	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "LIST", r);
		return -1;
	}
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		const struct mailimap_mailbox_list *mb = clist_content(it);
		const struct mailimap_mbx_list_flags *fl = mb->mb_flag;
		struct remote_folder *f = add_folder(l, mb->mb_name, mb->mb_delimiter);

		if (fl != NULL && fl->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
		    fl->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
			f->noselect = true;
		for (clistiter *o = fl ? clist_begin(fl->mbf_oflags) : NULL; o; o = clist_next(o)) {
			const struct mailimap_mbx_list_oflag *of = clist_content(o);

			if (of->of_flag_ext == NULL)
				continue;
			if (strcasecmp(of->of_flag_ext, "NonExistent") == 0)
				f->noselect = true;
			else if (strcasecmp(of->of_flag_ext, "Sent") == 0)
				f->special |= REMOTE_SPECIAL_SENT;
			else if (strcasecmp(of->of_flag_ext, "Drafts") == 0)
				f->special |= REMOTE_SPECIAL_DRAFTS;
			else if (strcasecmp(of->of_flag_ext, "Trash") == 0)
				f->special |= REMOTE_SPECIAL_TRASH;
		}
	}
	mailimap_list_result_free(result);
	return 0;
}

static int list_then_status(struct remote_conn *c, struct list *l, char **error_r)
{
	if (list_only(c, l, error_r) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (!l->v[i].noselect && status_one(c, &l->v[i], error_r) < 0)
			return -1;
	return 0;
}

static int list_folders(struct remote_conn *c, bool counts, struct remote_folder **folders_r,
			size_t *n_r, char **error_r)
{
	struct list l = { 0 };
	int r = !counts				      ? list_only(c, &l, error_r)
		: remote_has_cap(c, "LIST-STATUS") ? list_status(c, &l, error_r)
						   : list_then_status(c, &l, error_r);

	if (r < 0) {
		remote_folders_free(l.v, l.n);
		return -1;
	}
	*folders_r = l.v;
	*n_r = l.n;
	return 0;
}

int remote_list_folders(struct remote_conn *c, struct remote_folder **folders_r, size_t *n_r,
			char **error_r)
{
	return list_folders(c, true, folders_r, n_r, error_r);
}

int remote_list_names(struct remote_conn *c, struct remote_folder **folders_r, size_t *n_r,
		      char **error_r)
{
	return list_folders(c, false, folders_r, n_r, error_r);
}

void remote_folders_free(struct remote_folder *folders, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(folders[i].name);
		free(folders[i].wire);
	}
	free(folders);
}

int remote_select(struct remote_conn *c, const char *folder, uint32_t *exists_r,
		  uint32_t *uidvalidity_r, uint32_t *uidnext_r, char **error_r)
{
	struct sbuf wire = SBUF_INIT;
	int r;

	if (imap_utf7_encode(folder, &wire) < 0) {
		sbuf_release(&wire);
		*error_r = xasprintf("folder name '%s' is not UTF-8", folder);
		return -1;
	}
	r = mailimap_select(c->imap, wire.buf);
	sbuf_release(&wire);
	if (r != MAILIMAP_NO_ERROR) {
		*error_r = r == MAILIMAP_ERROR_SELECT
				   ? xasprintf("%s refused to open %s: %s", c->host, folder,
					       c->imap->imap_response ? c->imap->imap_response : "NO")
				   : remote_io_error(c, "SELECT", r);
		return -1;
	}
	const struct mailimap_selection_info *sel = c->imap->imap_selection_info;

	if (exists_r != NULL)
		*exists_r = sel->sel_exists;
	if (uidvalidity_r != NULL)
		*uidvalidity_r = sel->sel_uidvalidity;
	if (uidnext_r != NULL)
		*uidnext_r = sel->sel_uidnext;
	return 0;
}
