/* LIST with LIST-EXTENDED (RFC 5258: selection SUBSCRIBED, REMOTE,
 * RECURSIVEMATCH, SPECIAL-USE; return SUBSCRIBED, CHILDREN, SPECIAL-USE),
 * LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154), LSUB, SUBSCRIBE and
 * UNSUBSCRIBE.
 *
 * Subscriptions and the uses set by CREATE (USE (...)) are kept by the
 * store (store/folder_meta.h).  One listing is built per command: the
 * folders, the parents that are no folder themselves (\Noselect, so a
 * walk with '%' finds "Lists" of "Lists/foo"), and, when subscriptions
 * are asked for, the subscribed names that are no folder (\NonExistent). */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/folder_meta.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const special_use[][2] = {
	{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" },
	{ "Junk", "\\Junk" }, { "Archive", "\\Archive" },
};

const char *imapd_special_use_canon(const char *use)
{
	for (size_t i = 0; i < sizeof(special_use) / sizeof(special_use[0]); i++)
		if (strcasecmp(use, special_use[i][1]) == 0)
			return special_use[i][1];
	return NULL;
}

const char *imapd_special_use_of(const char *name, const struct store_meta_entry *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(set[i].name, name) == 0)
			return set[i].value;
	for (size_t i = 0; i < sizeof(special_use) / sizeof(special_use[0]); i++)
		if (strcmp(name, special_use[i][0]) == 0)
			return special_use[i][1];
	return NULL;
}

/* ---- SUBSCRIBE, UNSUBSCRIBE ---- */

static void subscribe(struct imapd_session *s, const struct imap_arg *args, unsigned n, bool on)
{
	const char *raw = n == 1 ? imap_arg_astring(&args[0]) : NULL, *name, *err;

	if (raw == NULL) {
		sess_reply(s, "BAD", "Takes one mailbox name.");
		return;
	}
	if ((name = imapd_mbox_name_in(s, raw, &err)) == NULL) {
		sess_reply(s, "NO", "[CANNOT] %s", err);
		return;
	}
	/* RFC 9051 6.3.7: a name may be subscribed before it exists. */
	if (store_meta_set(s->store, STORE_META_SUBSCRIPTIONS, name, on ? "" : NULL, &err) < 0)
		sess_reply(s, "NO", "[SERVERBUG] Cannot save the subscriptions.");
}

static void cmd_subscribe(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	subscribe(s, args, n, true);
}

static void cmd_unsubscribe(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	subscribe(s, args, n, false);
}

/* ---- the listing ---- */

/* IMAP LIST pattern match: '*' anything, '%' anything but '/'. */
static bool match(const char *pat, const char *name)
{
	for (; *pat; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (const char *t = name;; t++) {
				if (match(pat + 1, t))
					return true;
				if (*t == '\0' || (*pat == '%' && *t == '/'))
					return false;
			}
		}
		if (*pat != *name)
			return false;
	}
	return *name == '\0';
}

enum {
	SEL_SUBSCRIBED = 1 << 0, SEL_SPECIAL = 1 << 1, SEL_RECURSIVE = 1 << 2,
	RET_SUBSCRIBED = 1 << 3, RET_SPECIAL = 1 << 4,
};

struct entry {
	char *name;		/* arena */
	bool exists;		/* a folder */
	bool noselect;		/* a parent that is no folder */
	bool subscribed;
	const char *use;	/* special use or NULL */
	bool selected;		/* meets the selection options */
	bool matched;		/* the patterns match its client-side name */
	char *shown;		/* the client's form, as an astring */
};

struct listing {
	struct entry *e;
	size_t n;
};

static struct entry *find(struct listing *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

static struct entry *add(struct imapd_session *s, struct listing *l, const char *name)
{
	struct entry *e = find(l, name);

	if (e != NULL)
		return e;
	l->e = xreallocarray(l->e, l->n + 1, sizeof(*l->e));
	l->e[l->n] = (struct entry){ .name = arena_strdup(s->arena, name) };
	return &l->e[l->n++];
}

static bool child_of(const char *name, const char *parent)
{
	size_t len = strlen(parent);

	return strncmp(name, parent, len) == 0 && name[len] == '/';
}

/* Fills l with every name LIST may show; 0 or -1 (after a reply). */
static int build(struct imapd_session *s, struct listing *l, bool with_subscriptions)
{
	struct store_folder_info *folders;
	struct store_meta_entry *subs = NULL, *uses = NULL;
	size_t nf, ns = 0, nu = 0;
	const char *err;
	int ret = -1;

	if (store_folder_list(s->store, &folders, &nf, &err) < 0) {
		sess_reply(s, "NO", "[SERVERBUG] Cannot list the folders.");
		return -1;
	}
	if (store_meta_read(s->store, STORE_META_SPECIAL_USE, &uses, &nu, &err) < 0 ||
	    store_meta_read(s->store, STORE_META_SUBSCRIPTIONS, &subs, &ns, &err) < 0) {
		sess_reply(s, "NO", "[SERVERBUG] Cannot read the subscriptions.");
		goto out;
	}
	for (size_t i = 0; i < nf; i++)
		add(s, l, folders[i].name)->exists = true;
	for (size_t i = 0; i < ns && with_subscriptions; i++)
		add(s, l, subs[i].name);
	for (size_t i = 0; i < ns; i++) {
		struct entry *e = find(l, subs[i].name);
		if (e != NULL)
			e->subscribed = true;
	}
	/* parents of folders that are no folder themselves */
	for (size_t i = 0, count = l->n; i < count; i++) {
		if (!l->e[i].exists)
			continue;
		for (char *slash = strchr(l->e[i].name, '/'); slash; slash = strchr(slash + 1, '/')) {
			char *parent = arena_strndup(s->arena, l->e[i].name, (size_t)(slash - l->e[i].name));
			struct entry *p = add(s, l, parent);
			if (!p->exists)
				p->noselect = true;
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		struct entry *e = &l->e[i];
		struct sbuf sb = SBUF_INIT;

		const char *use = e->exists ? imapd_special_use_of(e->name, uses, nu) : NULL;
		e->use = use ? arena_strdup(s->arena, use) : NULL;	/* uses is freed below */
		imapd_mbox_name_out(s, e->name, &sb);
		e->shown = arena_strdup(s->arena, sb.buf);
		sbuf_release(&sb);
	}
	ret = 0;
out:
	store_folder_list_free(folders, nf);
	store_meta_free(subs, ns);
	store_meta_free(uses, nu);
	return ret;
}

/* Whether the client's form of e's name matches one of the patterns. */
static bool matches(struct imapd_session *s, const struct entry *e, const char *ref,
		    const struct imap_arg *pats, unsigned npats)
{
	struct sbuf plain = SBUF_INIT;
	bool hit = false;

	if (s->utf8 || imap_utf7_encode(e->name, &plain) < 0) {
		sbuf_reset(&plain);
		sbuf_addstr(&plain, e->name);
	}
	for (unsigned p = 0; p < npats && !hit; p++) {
		const char *pat = imap_arg_astring(&pats[p]);
		if (pat == NULL || *pat == '\0')
			continue;
		char *full = arena_printf(s->arena, "%s%s", ref, pat);
		if (strncasecmp(full, "INBOX", 5) == 0 && (full[5] == '\0' || full[5] == '/'))
			memcpy(full, "INBOX", 5);
		hit = match(full, plain.buf);
	}
	sbuf_release(&plain);
	return hit;
}

/* ---- LIST and LSUB ---- */

/* Parses "(opt ...)" selection options into *opts; -1 after a reply. */
static int selection(struct imapd_session *s, const struct imap_arg *list, unsigned *opts)
{
	for (unsigned j = 0; j < list->count; j++) {
		const struct imap_arg *a = &list->list[j];

		if (imap_arg_is_atom(a, "SUBSCRIBED"))
			*opts |= SEL_SUBSCRIBED | RET_SUBSCRIBED;
		else if (imap_arg_is_atom(a, "SPECIAL-USE"))
			*opts |= SEL_SPECIAL | RET_SPECIAL;
		else if (imap_arg_is_atom(a, "RECURSIVEMATCH"))
			*opts |= SEL_RECURSIVE;
		else if (!imap_arg_is_atom(a, "REMOTE")) {	/* no remote mailboxes */
			sess_reply(s, "BAD", "Unknown LIST selection option.");
			return -1;
		}
	}
	/* RFC 5258 3.1: RECURSIVEMATCH needs another selection option. */
	if ((*opts & SEL_RECURSIVE) && !(*opts & (SEL_SUBSCRIBED | SEL_SPECIAL))) {
		sess_reply(s, "BAD", "RECURSIVEMATCH alone.");
		return -1;
	}
	return 0;
}

/* Parses RETURN's "(opt ...)"; *status_r gets STATUS's item list. */
static int returns(struct imapd_session *s, const struct imap_arg *list, unsigned *opts,
		   const struct imap_arg **status_r)
{
	for (unsigned k = 0; k < list->count; k++) {
		const struct imap_arg *a = &list->list[k];

		if (imap_arg_is_atom(a, "SUBSCRIBED"))
			*opts |= RET_SUBSCRIBED;
		else if (imap_arg_is_atom(a, "SPECIAL-USE"))
			*opts |= RET_SPECIAL;
		else if (imap_arg_is_atom(a, "CHILDREN"))
			;	/* always sent (RFC 3348) */
		else if (imap_arg_is_atom(a, "STATUS") && k + 1 < list->count &&
			 list->list[k + 1].type == IMAP_ARG_LIST &&
			 imapd_status_items_ok(&list->list[k + 1]))
			*status_r = &list->list[++k];
		else {
			sess_reply(s, "BAD", "Unknown LIST return option.");
			return -1;
		}
	}
	return 0;
}

/* Sends one LIST/LSUB line (and its STATUS with LIST-STATUS). */
static void list_line(struct imapd_session *s, struct listing *l, const struct entry *e,
		      unsigned opts, bool lsub, bool childinfo, const struct imap_arg *status)
{
	struct sbuf line = SBUF_INIT, attrs = SBUF_INIT;
	bool kids = false;

	for (size_t i = 0; i < l->n && !kids; i++)
		kids = l->e[i].exists && child_of(l->e[i].name, e->name);
	if (!lsub && !e->exists && !e->noselect)
		sbuf_addstr(&attrs, " \\NonExistent");
	if (!e->exists)
		sbuf_addstr(&attrs, " \\Noselect");
	if (!lsub && (e->exists || e->noselect))
		sbuf_addstr(&attrs, kids ? " \\HasChildren" : " \\HasNoChildren");
	if (!lsub && e->subscribed && (opts & RET_SUBSCRIBED))
		sbuf_addstr(&attrs, " \\Subscribed");
	if (!lsub && e->use != NULL)
		sbuf_addf(&attrs, " %s", e->use);
	sbuf_addf(&line, "* %s (%s) \"/\" %s", lsub ? "LSUB" : "LIST", attrs.len ? attrs.buf + 1 : "",
		  e->shown);
	if (childinfo)
		sbuf_addstr(&line, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	sbuf_addstr(&line, "\r\n");
	if (status != NULL && e->exists) {
		sbuf_addf(&line, "* STATUS %s (", e->shown);
		imapd_status_items(s, e->name, status->list, status->count, &line);
		sbuf_addstr(&line, ")\r\n");
	}
	sess_printf(s, "%s", line.buf);
	sbuf_release(&attrs);
	sbuf_release(&line);
}

static void do_list(struct imapd_session *s, const struct imap_arg *args, unsigned n, bool lsub)
{
	unsigned opts = 0, i = 0;
	const struct imap_arg *status = NULL;
	struct listing l = { 0 };

	if (!lsub && n > 0 && args[0].type == IMAP_ARG_LIST) {
		if (selection(s, &args[0], &opts) < 0)
			return;
		i = 1;
	}
	if (n < i + 2) {
		sess_reply(s, "BAD", "LIST takes a reference and a pattern.");
		return;
	}
	const char *ref = imap_arg_astring(&args[i]);
	const struct imap_arg *pats = &args[i + 1];
	unsigned npats = 1;
	if (pats->type == IMAP_ARG_LIST && !lsub) {
		npats = pats->count;
		pats = pats->list;
	}
	for (unsigned j = i + 2; j < n; j++) {
		if (!lsub && imap_arg_is_atom(&args[j], "RETURN") && j + 1 < n &&
		    args[j + 1].type == IMAP_ARG_LIST) {
			if (returns(s, &args[++j], &opts, &status) < 0)
				return;
		} else {
			sess_reply(s, "BAD", "Unknown LIST argument.");
			return;
		}
	}
	if (ref == NULL || npats == 0) {
		sess_reply(s, "BAD", "Bad reference or pattern.");
		return;
	}
	/* LIST "" "": the hierarchy delimiter (RFC 3501 6.3.8) */
	if (npats == 1 && imap_arg_astring(&pats[0]) && *imap_arg_astring(&pats[0]) == '\0') {
		sess_printf(s, "* %s (\\Noselect) \"/\" \"\"\r\n", lsub ? "LSUB" : "LIST");
		return;
	}
	if (lsub)
		opts |= SEL_SUBSCRIBED;
	if (build(s, &l, (opts & SEL_SUBSCRIBED) != 0) < 0)
		goto out;
	for (size_t f = 0; f < l.n; f++) {
		struct entry *e = &l.e[f];

		e->matched = matches(s, e, ref, pats, npats);
		e->selected = (!(opts & SEL_SUBSCRIBED) || e->subscribed) &&
			      (!(opts & SEL_SPECIAL) || e->use != NULL);
	}
	for (size_t f = 0; f < l.n; f++) {
		struct entry *e = &l.e[f];
		bool childinfo = false, hidden_child = false;

		if (!e->matched)
			continue;
		/* A selected descendant the patterns do not show: RFC 5258
		 * CHILDINFO with RECURSIVEMATCH; for LSUB with '%', the
		 * parent itself as \Noselect (RFC 3501 6.3.9). */
		for (size_t c = 0; c < l.n && !hidden_child; c++)
			hidden_child = l.e[c].selected && !l.e[c].matched && child_of(l.e[c].name, e->name);
		if ((opts & SEL_RECURSIVE) && (opts & SEL_SUBSCRIBED))
			childinfo = hidden_child;
		if (e->selected || childinfo) {
			list_line(s, &l, e, opts, lsub, childinfo, status);
		} else if (lsub && hidden_child) {
			struct entry parent = *e;
			parent.exists = false;
			parent.noselect = true;
			list_line(s, &l, &parent, opts, true, false, NULL);
		}
	}
out:
	free(l.e);
}

static void cmd_list(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	do_list(s, args, n, false);
}

static void cmd_lsub(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	do_list(s, args, n, true);
}

#define AUTHED (SESS_AUTH | SESS_SELECTED)
const struct sess_command cmd_list_table[] = {
	{ "SUBSCRIBE", cmd_subscribe, AUTHED, false },
	{ "UNSUBSCRIBE", cmd_unsubscribe, AUTHED, false },
	{ "LIST", cmd_list, AUTHED, false },
	{ "LSUB", cmd_lsub, AUTHED, false },
	{ NULL, NULL, 0, false },
};
