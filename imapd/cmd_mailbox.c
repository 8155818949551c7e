/* Mailbox commands: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, LIST (LIST-EXTENDED, SPECIAL-USE, LIST-STATUS, CHILDREN),
 * LSUB, STATUS (STATUS=SIZE), NAMESPACE.
 *
 * Subscriptions: the store keeps none, so every folder counts as
 * subscribed; SUBSCRIBE and UNSUBSCRIBE succeed and change nothing. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const special_use[][2] = {
	{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" },
	{ "Junk", "\\Junk" }, { "Archive", "\\Archive" },
};

static const char *special_of(const char *name)
{
	for (size_t i = 0; i < sizeof(special_use) / sizeof(special_use[0]); i++)
		if (strcmp(name, special_use[i][0]) == 0)
			return special_use[i][1];
	return NULL;
}

/* A one-argument mailbox name, converted; NULL after a reply. */
static const char *name_arg(struct imapd_session *s, const struct imap_arg *args, unsigned n,
			    unsigned want)
{
	const char *raw = n >= 1 ? imap_arg_astring(&args[0]) : NULL, *err, *name;

	if (raw == NULL || n < want) {
		sess_reply(s, "BAD", "Missing mailbox name.");
		return NULL;
	}
	name = imapd_mbox_name_in(s, raw, &err);
	if (name == NULL)
		sess_reply(s, "NO", "[CANNOT] %s", err);
	return name;
}

static void do_select(struct imapd_session *s, const struct imap_arg *args, unsigned n,
		      bool readonly)
{
	const char *name, *err;
	struct imapd_select_params params = { 0 };

	if (n == 2 && args[1].type == IMAP_ARG_LIST) {
		if (imapd_select_params(s, &args[1], &params, &err) < 0) {
			sess_reply(s, "BAD", "%s", err);
			return;
		}
		n = 1;
	}
	if ((name = name_arg(s, args, n, 1)) == NULL)
		return;
	if (n != 1) {
		sess_reply(s, "BAD", "Too many arguments.");
		return;
	}
	if (params.condstore)
		s->condstore = true;
	if (s->mbox != NULL)
		sess_printf(s, "* OK [CLOSED] Previous mailbox closed.\r\n");
	if (imapd_mbox_select(s, name, readonly, &err) < 0) {
		sess_reply(s, "NO", "[NONEXISTENT] No such mailbox.");
		return;
	}
	struct mbox_view *v = s->mbox;
	uint32_t unseen = 0;
	for (size_t i = 0; i < v->count && unseen == 0; i++) {
		const struct store_msg *m = store_folder_find(v->f, v->uids[i]);
		if (m && !(m->flags & STORE_SEEN))
			unseen = (uint32_t)i + 1;
	}
	sess_printf(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
		       "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
		       "$Forwarded \\*)] Flags permitted.\r\n"
		       "* %zu EXISTS\r\n* %zu RECENT\r\n", v->count, v->nrecent);
	if (unseen)
		sess_printf(s, "* OK [UNSEEN %u] First unseen.\r\n", unseen);
	sess_printf(s, "* OK [UIDVALIDITY %u] UIDs valid.\r\n* OK [UIDNEXT %u] Predicted next UID.\r\n",
		    store_folder_uidvalidity(v->f), store_folder_uidnext(v->f));
	sess_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest.\r\n",
		    (unsigned long long)store_folder_highestmodseq(v->f));
	imapd_qresync_select(s, &params);
	sess_reply(s, "OK", "[READ-%s] %s completed.", readonly ? "ONLY" : "WRITE",
		   readonly ? "EXAMINE" : "SELECT");
}

static void cmd_select(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	do_select(s, args, n, false);
}

static void cmd_examine(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	do_select(s, args, n, true);
}

static void cmd_create(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *raw = n >= 1 ? imap_arg_astring(&args[0]) : NULL, *name, *err;

	if (raw == NULL) {
		sess_reply(s, "BAD", "Missing mailbox name.");
		return;
	}
	/* "foo/" asks for foo as a parent: a folder all the same. */
	char *trimmed = arena_strdup(s->arena, raw);
	size_t len = strlen(trimmed);
	if (len > 1 && trimmed[len - 1] == '/')
		trimmed[len - 1] = '\0';
	if ((name = imapd_mbox_name_in(s, trimmed, &err)) == NULL) {
		sess_reply(s, "NO", "[CANNOT] %s", err);
		return;
	}
	if (strcmp(name, "INBOX") == 0) {
		sess_reply(s, "NO", "[ALREADYEXISTS] INBOX always exists.");
		return;
	}
	if (store_folder_create(s->store, name, &err) < 0)
		sess_reply(s, "NO", "%s", strstr(err, "exists") ? "[ALREADYEXISTS] Mailbox exists."
								: "[CANNOT] Cannot create it.");
}

static void cmd_delete(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *name = name_arg(s, args, n, 1), *err;

	if (name == NULL)
		return;
	if (strcmp(name, "INBOX") == 0) {
		sess_reply(s, "NO", "[CANNOT] INBOX cannot be deleted.");
		return;
	}
	if (s->mbox != NULL && strcmp(s->mbox->name, name) == 0) {
		sess_reply(s, "NO", "[INUSE] Mailbox is selected.");
		return;
	}
	if (store_folder_delete(s->store, name, &err) < 0)
		sess_reply(s, "NO", "[NONEXISTENT] Cannot delete it.");
}

/* RENAME INBOX: its messages move to the new folder, INBOX stays. */
static int rename_inbox(struct imapd_session *s, const char *to, const char **err)
{
	struct store_folder *src = NULL, *dst = NULL;
	int ret = -1;

	if (store_folder_create(s->store, to, err) < 0 ||
	    store_folder_open(s->store, "INBOX", &src, err) < 0 ||
	    store_folder_open(s->store, to, &dst, err) < 0)
		goto out;
	size_t count = store_folder_count(src);
	uint32_t *uids = arena_calloc(s->arena, count ? count : 1, sizeof(*uids));
	for (size_t i = 0; i < count; i++)
		uids[i] = store_folder_msg(src, i)->uid;
	for (size_t i = 0; i < count; i++) {
		uint32_t nu;
		if (store_move(src, uids[i], dst, &nu, err) < 0)
			goto out;
	}
	ret = 0;
out:
	store_folder_close(&src);
	store_folder_close(&dst);
	return ret;
}

static void cmd_rename(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *from = name_arg(s, args, n, 2), *to, *err, *raw;

	if (from == NULL)
		return;
	if (n != 2 || (raw = imap_arg_astring(&args[1])) == NULL) {
		sess_reply(s, "BAD", "RENAME takes two names.");
		return;
	}
	if ((to = imapd_mbox_name_in(s, raw, &err)) == NULL) {
		sess_reply(s, "NO", "[CANNOT] %s", err);
		return;
	}
	if (strcmp(to, "INBOX") == 0) {
		sess_reply(s, "NO", "[ALREADYEXISTS] INBOX exists.");
		return;
	}
	bool selected = s->mbox != NULL && strcmp(s->mbox->name, from) == 0;
	if (selected) {
		sess_reply(s, "NO", "[INUSE] Mailbox is selected.");
		return;
	}
	int r = strcmp(from, "INBOX") == 0 ? rename_inbox(s, to, &err)
					   : store_folder_rename(s->store, from, to, &err);
	if (r < 0)
		sess_reply(s, "NO", "%s", strstr(err, "exists") ? "[ALREADYEXISTS] Target exists."
								: "[NONEXISTENT] Cannot rename it.");
}

static void cmd_subscribe(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	name_arg(s, args, n, 1);
}

/* ---- LIST ---- */

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

static bool has_children(const struct store_folder_info *list, size_t count, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < count; i++)
		if (strncmp(list[i].name, name, len) == 0 && list[i].name[len] == '/')
			return true;
	return false;
}

enum list_opts {
	LIST_SUBSCRIBED = 1 << 0, LIST_SPECIAL = 1 << 1, LIST_STATUS = 1 << 2,
};

static void status_items(struct imapd_session *s, const char *name, const struct imap_arg *items,
			 unsigned n, struct sbuf *out);

static void do_list(struct imapd_session *s, const struct imap_arg *args, unsigned n, bool lsub)
{
	unsigned opts = 0, i = 0;
	const struct imap_arg *status = NULL;
	const char *err;

	if (!lsub && n > 0 && args[0].type == IMAP_ARG_LIST) {
		for (unsigned j = 0; j < args[0].count; j++) {
			if (imap_arg_is_atom(&args[0].list[j], "SPECIAL-USE"))
				opts |= LIST_SPECIAL;
			else if (imap_arg_is_atom(&args[0].list[j], "SUBSCRIBED"))
				opts |= LIST_SUBSCRIBED;
		}
		i = 1;
	}
	if (n < i + 2) {
		sess_reply(s, "BAD", "LIST takes a reference and a pattern.");
		return;
	}
	const char *ref = imap_arg_astring(&args[i]);
	const struct imap_arg *pats = &args[i + 1];
	unsigned npats = 1;
	if (pats->type == IMAP_ARG_LIST) {
		npats = pats->count;
		pats = pats->list;
	}
	for (unsigned j = i + 2; j < n; j++) {
		if (imap_arg_is_atom(&args[j], "RETURN") && j + 1 < n &&
		    args[j + 1].type == IMAP_ARG_LIST) {
			const struct imap_arg *r = &args[j + 1];
			for (unsigned k = 0; k < r->count; k++)
				if (imap_arg_is_atom(&r->list[k], "STATUS") && k + 1 < r->count &&
				    r->list[k + 1].type == IMAP_ARG_LIST)
					status = &r->list[++k];
			j++;
		} else {
			sess_reply(s, "BAD", "Unknown LIST argument.");
			return;
		}
	}
	if (ref == NULL) {
		sess_reply(s, "BAD", "Bad reference.");
		return;
	}
	if (npats == 1 && imap_arg_astring(&pats[0]) && *imap_arg_astring(&pats[0]) == '\0') {
		sess_printf(s, "* %s (\\Noselect) \"/\" \"\"\r\n", lsub ? "LSUB" : "LIST");
		return;
	}
	struct store_folder_info *list;
	size_t count;
	if (store_folder_list(s->store, &list, &count, &err) < 0) {
		sess_reply(s, "NO", "[SERVERBUG] Cannot list the folders.");
		return;
	}
	/* Parents that are no folder themselves ("Lists" of "Lists/foo")
	 * are listed \Noselect so hierarchy walks with '%' find them. */
	size_t real = count;
	for (size_t f = 0; f < real; f++) {
		for (char *slash = strchr(list[f].name, '/'); slash; slash = strchr(slash + 1, '/')) {
			char *parent = arena_strndup(s->arena, list[f].name, (size_t)(slash - list[f].name));
			bool known = false;
			for (size_t g = 0; g < count && !known; g++)
				known = strcmp(list[g].name, parent) == 0;
			if (known)
				continue;
			list = xreallocarray(list, count + 1, sizeof(*list));
			memset(&list[count], 0, sizeof(list[count]));
			list[count++].name = xstrdup(parent);
		}
	}
	for (size_t f = 0; f < count; f++) {
		struct sbuf ext = SBUF_INIT, line = SBUF_INIT;
		bool hit = false;

		imapd_mbox_name_out(s, list[f].name, &ext);
		/* patterns match the client's spelling of the name */
		const char *shown = ext.buf[0] == '"' ? NULL : ext.buf;
		struct sbuf plain = SBUF_INIT;
		if (shown == NULL) {
			if (s->utf8 || imap_utf7_encode(list[f].name, &plain) < 0)
				sbuf_addstr(&plain, list[f].name);
			shown = plain.buf;
		}
		for (unsigned p = 0; p < npats && !hit; p++) {
			const char *pat = imap_arg_astring(&pats[p]);
			if (pat == NULL)
				continue;
			char *full = arena_printf(s->arena, "%s%s", ref, pat);
			if (strncasecmp(full, "INBOX", 5) == 0 && (full[5] == '\0' || full[5] == '/'))
				memcpy(full, "INBOX", 5);
			hit = match(full, shown);
		}
		const char *su = special_of(list[f].name);
		if (hit && (opts & LIST_SPECIAL) && su == NULL)
			hit = false;
		if (hit) {
			bool kids = has_children(list, count, list[f].name);
			sbuf_addf(&line, "* %s (%s%s%s%s%s) \"/\" ", lsub ? "LSUB" : "LIST",
				  f >= real ? "\\Noselect " : "",
				  kids ? "\\HasChildren" : "\\HasNoChildren",
				  (opts & LIST_SUBSCRIBED) ? " \\Subscribed" : "", su ? " " : "",
				  su ? su : "");
			sbuf_add(&line, ext.buf, ext.len);
			sbuf_addstr(&line, "\r\n");
			if (status != NULL && f < real) {
				sbuf_addstr(&line, "* STATUS ");
				sbuf_add(&line, ext.buf, ext.len);
				sbuf_addstr(&line, " (");
				status_items(s, list[f].name, status->list, status->count, &line);
				sbuf_addstr(&line, ")\r\n");
			}
			sess_printf(s, "%s", line.buf);
		}
		sbuf_release(&plain);
		sbuf_release(&ext);
		sbuf_release(&line);
	}
	store_folder_list_free(list, count);
}

static void cmd_list(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	do_list(s, args, n, false);
}

static void cmd_lsub(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	do_list(s, args, n, true);
}

/* ---- STATUS ---- */

/* Appends "MESSAGES 3 UNSEEN 1 ..." for name; items already checked. */
static void status_items(struct imapd_session *s, const char *name, const struct imap_arg *items,
			 unsigned n, struct sbuf *out)
{
	struct store_folder *f = NULL;
	const char *err;
	size_t unseen = 0, recent = 0;
	uint64_t size = 0;

	/* The selected folder is read from this session's view. */
	if (store_folder_open(s->store, name, &f, &err) < 0)
		return;
	size_t count = store_folder_count(f);
	for (size_t i = 0; i < count; i++) {
		const struct store_msg *m = store_folder_msg(f, i);
		unseen += !(m->flags & STORE_SEEN);
		recent += (m->flags & STORE_RECENT) != 0;
		size += m->size;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *it = items[i].str;
		const char *sep = i ? " " : "";

		if (strcasecmp(it, "MESSAGES") == 0)
			sbuf_addf(out, "%sMESSAGES %zu", sep, count);
		else if (strcasecmp(it, "RECENT") == 0)
			sbuf_addf(out, "%sRECENT %zu", sep, recent);
		else if (strcasecmp(it, "UIDNEXT") == 0)
			sbuf_addf(out, "%sUIDNEXT %u", sep, store_folder_uidnext(f));
		else if (strcasecmp(it, "UIDVALIDITY") == 0)
			sbuf_addf(out, "%sUIDVALIDITY %u", sep, store_folder_uidvalidity(f));
		else if (strcasecmp(it, "UNSEEN") == 0)
			sbuf_addf(out, "%sUNSEEN %zu", sep, unseen);
		else if (strcasecmp(it, "SIZE") == 0)
			sbuf_addf(out, "%sSIZE %llu", sep, (unsigned long long)size);
		else if (strcasecmp(it, "HIGHESTMODSEQ") == 0)
			sbuf_addf(out, "%sHIGHESTMODSEQ %llu", sep,
				  (unsigned long long)store_folder_highestmodseq(f));
	}
	store_folder_close(&f);
}

static bool status_item_ok(const struct imap_arg *a)
{
	static const char *const ok[] = { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
					  "UNSEEN", "SIZE", "HIGHESTMODSEQ" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (imap_arg_is_atom(a, ok[i]))
			return true;
	return false;
}

static void cmd_status(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *name = name_arg(s, args, n, 2);

	if (name == NULL)
		return;
	if (n != 2 || args[1].type != IMAP_ARG_LIST || args[1].count == 0) {
		sess_reply(s, "BAD", "STATUS takes a mailbox and a list of items.");
		return;
	}
	for (unsigned i = 0; i < args[1].count; i++)
		if (!status_item_ok(&args[1].list[i])) {
			sess_reply(s, "BAD", "Unknown STATUS item.");
			return;
		}
	struct store_folder *f;
	const char *err;
	if (store_folder_open(s->store, name, &f, &err) < 0) {
		sess_reply(s, "NO", "[NONEXISTENT] No such mailbox.");
		return;
	}
	store_folder_close(&f);
	struct sbuf out = SBUF_INIT;
	sbuf_addstr(&out, "* STATUS ");
	imapd_mbox_name_out(s, name, &out);
	sbuf_addstr(&out, " (");
	status_items(s, name, args[1].list, args[1].count, &out);
	sbuf_addstr(&out, ")\r\n");
	sess_printf(s, "%s", out.buf);
	sbuf_release(&out);
}

static void cmd_namespace(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	sess_printf(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
}

#define AUTHED (SESS_AUTH | SESS_SELECTED)
const struct sess_command cmd_mailbox_table[] = {
	{ "SELECT", cmd_select, AUTHED, false },
	{ "EXAMINE", cmd_examine, AUTHED, false },
	{ "CREATE", cmd_create, AUTHED, false },
	{ "DELETE", cmd_delete, AUTHED, false },
	{ "RENAME", cmd_rename, AUTHED, false },
	{ "SUBSCRIBE", cmd_subscribe, AUTHED, false },
	{ "UNSUBSCRIBE", cmd_subscribe, AUTHED, false },
	{ "LIST", cmd_list, AUTHED, false },
	{ "LSUB", cmd_lsub, AUTHED, false },
	{ "STATUS", cmd_status, AUTHED, false },
	{ "NAMESPACE", cmd_namespace, AUTHED, false },
	{ NULL, NULL, 0, false },
};
