/* Mailbox commands: SELECT, EXAMINE (CONDSTORE, QRESYNC), CREATE
 * (CREATE-SPECIAL-USE), DELETE, RENAME, STATUS (STATUS=SIZE,
 * HIGHESTMODSEQ), NAMESPACE.  LIST and subscriptions: cmd_list.c. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/folder_meta.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	imapd_kw_send_flags(s);
	sess_printf(s, "* %zu EXISTS\r\n* %zu RECENT\r\n", v->count, v->nrecent);
	if (unseen)
		sess_printf(s, "* OK [UNSEEN %u] First unseen.\r\n", unseen);
	sess_printf(s, "* OK [UIDVALIDITY %u] UIDs valid.\r\n* OK [UIDNEXT %u] Predicted next UID.\r\n",
		    store_folder_uidvalidity(v->f), store_folder_uidnext(v->f));
	sess_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest.\r\n",
		    (unsigned long long)store_folder_highestmodseq(v->f));
	imapd_qresync_select(s, &params);
	/* An expunge made since the view was built is told after the
	 * SELECT, not by a VANISHED beside VANISHED (EARLIER) in its answer
	 * (libetpan keeps the first of them only). */
	s->no_expunge = true;
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

	const char *use = NULL;

	if (raw == NULL) {
		sess_reply(s, "BAD", "Missing mailbox name.");
		return;
	}
	/* CREATE name (USE (\Archive)): RFC 6154 section 3 */
	if (n == 2 && args[1].type == IMAP_ARG_LIST && args[1].count == 2 &&
	    imap_arg_is_atom(&args[1].list[0], "USE") && args[1].list[1].type == IMAP_ARG_LIST) {
		const struct imap_arg *uses = &args[1].list[1];
		if (uses->count > 1 || (uses->count == 1 && (uses->list[0].type != IMAP_ARG_ATOM ||
							     !imapd_special_use_canon(uses->list[0].str)))) {
			sess_reply(s, "NO", "[USEATTR] loft keeps one of \\Sent \\Drafts \\Trash "
					    "\\Junk \\Archive per mailbox.");
			return;
		}
		if (uses->count == 1)
			use = imapd_special_use_canon(uses->list[0].str);
	} else if (n != 1) {
		sess_reply(s, "BAD", "CREATE takes a name and (USE (...)).");
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
	if (store_folder_create(s->store, name, &err) < 0) {
		sess_reply(s, "NO", "%s", strstr(err, "exists") ? "[ALREADYEXISTS] Mailbox exists."
								: "[CANNOT] Cannot create it.");
		return;
	}
	if (use == NULL)
		return;
	if (store_meta_set(s->store, STORE_META_SPECIAL_USE, name, use, &err) < 0) {
		/* RFC 6154: no mailbox unless it has the use asked for. */
		store_folder_delete(s->store, name, &err);
		sess_reply(s, "NO", "[SERVERBUG] Cannot record the special use.");
	}
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
	if (store_folder_delete(s->store, name, &err) < 0) {
		sess_reply(s, "NO", "[NONEXISTENT] Cannot delete it.");
		return;
	}
	/* Its use goes with it; its subscription stays (RFC 3501 6.3.6). */
	store_meta_set(s->store, STORE_META_SPECIAL_USE, name, NULL, &err);
}

/* RENAME INBOX: its messages move to the new folder, INBOX stays.  One
 * set move: one transaction in each folder, not one per message. */
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
	uint32_t *new_uids = arena_calloc(s->arena, count ? count : 1, sizeof(*new_uids));
	for (size_t i = 0; i < count; i++)
		uids[i] = store_folder_msg(src, i)->uid;
	if (count > 0 && store_move_uids(src, uids, count, dst, new_uids, err) < 0)
		goto out;
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
	bool inbox = strcmp(from, "INBOX") == 0;
	int r = inbox ? rename_inbox(s, to, &err) : store_folder_rename(s->store, from, to, &err);
	if (r < 0) {
		sess_reply(s, "NO", "%s", strstr(err, "exists") ? "[ALREADYEXISTS] Target exists."
								: "[NONEXISTENT] Cannot rename it.");
		return;
	}
	/* Subscriptions and uses follow the folder and its subfolders, as
	 * Dovecot does; INBOX stays (only its messages moved). */
	if (!inbox) {
		store_meta_rename(s->store, STORE_META_SUBSCRIPTIONS, from, to, &err);
		store_meta_rename(s->store, STORE_META_SPECIAL_USE, from, to, &err);
	}
}

/* ---- STATUS ---- */

void imapd_status_items(struct imapd_session *s, const char *name, const struct imap_arg *items,
			 unsigned n, struct sbuf *out)
{
	struct imapd_status st;
	bool full = false;

	for (unsigned i = 0; i < n; i++)
		full |= imap_arg_is_atom(&items[i], "RECENT") || imap_arg_is_atom(&items[i], "SIZE");
	if (imapd_mbox_status(s, name, full, &st) < 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		const char *it = items[i].str;
		const char *sep = i ? " " : "";

		if (strcasecmp(it, "MESSAGES") == 0)
			sbuf_addf(out, "%sMESSAGES %zu", sep, st.messages);
		else if (strcasecmp(it, "RECENT") == 0)
			sbuf_addf(out, "%sRECENT %zu", sep, st.recent);
		else if (strcasecmp(it, "UIDNEXT") == 0)
			sbuf_addf(out, "%sUIDNEXT %u", sep, st.uidnext);
		else if (strcasecmp(it, "UIDVALIDITY") == 0)
			sbuf_addf(out, "%sUIDVALIDITY %u", sep, st.uidvalidity);
		else if (strcasecmp(it, "UNSEEN") == 0)
			sbuf_addf(out, "%sUNSEEN %zu", sep, st.unseen);
		else if (strcasecmp(it, "SIZE") == 0)
			sbuf_addf(out, "%sSIZE %llu", sep, (unsigned long long)st.size);
		else if (strcasecmp(it, "HIGHESTMODSEQ") == 0)
			sbuf_addf(out, "%sHIGHESTMODSEQ %llu", sep,
				  (unsigned long long)st.highestmodseq);
	}
}

bool imapd_status_items_ok(const struct imap_arg *list)
{
	static const char *const ok[] = { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
					  "UNSEEN", "SIZE", "HIGHESTMODSEQ" };
	for (unsigned j = 0; j < list->count; j++) {
		bool known = false;

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]) && !known; i++)
			known = imap_arg_is_atom(&list->list[j], ok[i]);
		if (!known)
			return false;
	}
	return list->count > 0;
}

static void cmd_status(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *name = name_arg(s, args, n, 2);

	if (name == NULL)
		return;
	if (n != 2 || args[1].type != IMAP_ARG_LIST || !imapd_status_items_ok(&args[1])) {
		sess_reply(s, "BAD", "STATUS takes a mailbox and a list of known items.");
		return;
	}
	struct imapd_status st;
	if (imapd_mbox_status(s, name, false, &st) < 0) {
		sess_reply(s, "NO", "%s", imapd_mbox_error(s, false, "No such mailbox."));
		return;
	}
	struct sbuf out = SBUF_INIT;
	sbuf_addstr(&out, "* STATUS ");
	imapd_mbox_name_out(s, name, &out);
	sbuf_addstr(&out, " (");
	imapd_status_items(s, name, args[1].list, args[1].count, &out);
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
	{ "STATUS", cmd_status, AUTHED, false },
	{ "NAMESPACE", cmd_namespace, AUTHED, false },
	{ NULL, NULL, 0, false },
};
