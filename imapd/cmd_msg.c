/* Message commands: APPEND (APPENDUID, MULTIAPPEND, UTF8), CHECK, CLOSE, UNSELECT, EXPUNGE,
 * UID EXPUNGE, COPY and MOVE (COPYUID), STORE (.SILENT, UNCHANGEDSINCE),
 * and UID, which runs the others on UIDs. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One message of an APPEND: its flags, date and text. */
struct append_msg {
	uint32_t flags;
	const char *kw;
	int64_t date;
	const struct imap_arg *text;
};

/* Parses the [flags] [date] literal groups after the mailbox name
 * (MULTIAPPEND, RFC 3502: one or more); the count, or -1 after a reply. */
static int append_args(struct imapd_session *s, const struct imap_arg *args, unsigned n,
		       struct append_msg **msgs_r)
{
	struct append_msg *msgs = arena_calloc(s->arena, n, sizeof(*msgs));
	const char *err;
	int count = 0;

	for (unsigned i = 1; i < n; count++) {
		struct append_msg *m = &msgs[count];

		if (args[i].type == IMAP_ARG_LIST) {
			if (imapd_mbox_flags_in(s, &args[i], &m->flags, &m->kw, &err) < 0) {
				sess_reply(s, "BAD", "%s", err);
				return -1;
			}
			i++;
		}
		if (i < n && args[i].type == IMAP_ARG_STRING) {
			if ((m->date = imap_date_parse(args[i].str, true)) < 0) {
				sess_reply(s, "BAD", "Invalid date-time.");
				return -1;
			}
			i++;
		}
		/* RFC 6855 4: UTF8 (~{n}...) after ENABLE UTF8=ACCEPT. */
		if (i + 1 < n && imap_arg_is_atom(&args[i], "UTF8") && args[i + 1].type == IMAP_ARG_LIST) {
			const struct imap_arg *l = &args[i + 1];

			if (!s->utf8) {
				sess_reply(s, "BAD", "APPEND UTF8 needs ENABLE UTF8=ACCEPT.");
				return -1;
			}
			if (l->count != 1 || l->list[0].type != IMAP_ARG_LITERAL) {
				sess_reply(s, "BAD", "APPEND UTF8 takes (literal8).");
				return -1;
			}
			m->text = &l->list[0];
			i += 2;
		} else if (i < n && args[i].type == IMAP_ARG_LITERAL) {
			m->text = &args[i++];
		} else {
			sess_reply(s, "BAD", "APPEND takes [flags] [date] and a message literal, repeated.");
			return -1;
		}
		if (m->text->len == 0) {
			sess_reply(s, "NO", "Empty message.");
			return -1;
		}
	}
	*msgs_r = msgs;
	return count;
}

/* Pipelined APPENDs taken as one store batch: at most this many
 * commands; no more read ahead once the arena holds this many bytes (the
 * messages stay there until the replies, and groups that follow one
 * another, each ending on an APPEND to another mailbox, share it). */
#define GROUP_MAX 1000
#define GROUP_BYTES (32 * 1024 * 1024)

/* One command of a group: refused alone (its own reply), or its messages
 * all[first..first+count) of the batch. */
struct append_cmd {
	const char *tag;
	const char *reply;
	size_t first, count;
};

static const char *append_mailbox(const struct imap_command *cmd)
{
	return cmd->count >= 2 ? imap_arg_astring(&cmd->args[0]) : NULL;
}

/* Checks one APPEND's arguments and adds its messages to *all; its own
 * reply (arena) when it is refused, else NULL. */
static const char *append_take(struct imapd_session *s, const struct imap_command *cmd,
			       struct imapd_append **all, size_t *nall, size_t *cap)
{
	struct append_msg *msgs;
	int count;

	s->reply = NULL;
	if (append_mailbox(cmd) == NULL)
		return "BAD APPEND takes a mailbox and a message.";
	if ((count = append_args(s, cmd->args, cmd->count, &msgs)) < 0)
		return s->reply;
	if (*nall + (size_t)count > *cap) {
		*cap = (*nall + (size_t)count) * 2;
		*all = xreallocarray(*all, *cap, sizeof(**all));
	}
	for (int k = 0; k < count; k++)
		(*all)[(*nall)++] = (struct imapd_append){
			msgs[k].text->str, msgs[k].text->len, msgs[k].flags,
			msgs[k].kw && *msgs[k].kw ? msgs[k].kw : NULL, msgs[k].date };
	return NULL;
}

/* The messages of every command not refused are one store batch (one
 * state transaction, one fsync of each directory, one wake-up of the
 * other sessions), stored before any is answered; a failure to store
 * fails them all, as for one MULTIAPPEND.  A command that is not an
 * APPEND to the same mailbox ends the group, so effects keep the order
 * of the commands. */
int imapd_append_pipelined(struct imapd_session *s, struct imap_command *cmd)
{
	struct append_cmd *cmds = NULL;
	struct imapd_append *all = NULL;
	size_t ncmds = 0, nall = 0, cap = 0;
	const char *raw = append_mailbox(cmd), *name = NULL, *err = NULL;
	struct imap_command next = *cmd;
	int pr = IMAP_PARSE_MORE;

	cmds = xreallocarray(NULL, GROUP_MAX, sizeof(*cmds));
	for (;;) {
		struct append_cmd *c = &cmds[ncmds++];

		c->tag = next.tag;
		c->first = nall;
		c->reply = pr == IMAP_PARSE_ERROR ? arena_printf(s->arena, "BAD %s", next.name)
						  : append_take(s, &next, &all, &nall, &cap);
		c->count = nall - c->first;
		if (pr == IMAP_PARSE_ERROR || raw == NULL || ncmds == GROUP_MAX ||
		    arena_used(s->arena) >= GROUP_BYTES) {
			pr = IMAP_PARSE_MORE;
			break;
		}
		pr = sess_next_buffered(s, &next);
		if (pr == IMAP_PARSE_COMMAND && strcasecmp(next.name, "APPEND") == 0 &&
		    sess_command_ok(s, &next) && append_mailbox(&next) != NULL &&
		    strcmp(append_mailbox(&next), raw) == 0)
			continue;
		if (pr != IMAP_PARSE_ERROR)
			break;
	}
	uint32_t validity = 0, *uids = arena_calloc(s->arena, nall ? nall : 1, sizeof(*uids));
	int r = 0;
	if (nall > 0 && (name = imapd_mbox_name_in(s, raw, &err)) == NULL) {
		err = arena_printf(s->arena, "[CANNOT] %s", err);
		r = -1;
	} else if (nall > 0) {
		r = imapd_mbox_append(s, name, all, nall, &validity, uids, &err);
	}
	if (r == 0 && nall > 0 && s->mbox != NULL && strcmp(s->mbox->name, name) == 0) {
		s->mbox->dirty = true;
		/* RFC 3501 6.3.11: an appended message is \Recent whatever
		 * its flags.  One with flags skips new/, so no session would
		 * claim it: this one does, being the first to see it (the
		 * last such one of a group). */
		for (size_t k = 0; k < nall; k++)
			if (all[k].flags != 0)
				s->mbox->appended = uids[k];
	}
	for (size_t i = 0; i < ncmds && !s->fatal; i++) {
		struct sbuf code = SBUF_INIT;

		sess_begin(s, cmds[i].tag);
		if (cmds[i].reply != NULL) {
			s->reply = cmds[i].reply;
		} else if (r < 0) {
			sess_reply(s, "NO", "%s", err);
		} else {
			sess_add_set(&code, uids + cmds[i].first, cmds[i].count);
			sess_reply(s, "OK", "[APPENDUID %u %s] APPEND completed.", validity, code.buf);
		}
		sbuf_release(&code);
		sess_finish(s);
	}
	free(cmds);
	free(all);
	if (pr == IMAP_PARSE_COMMAND)
		*cmd = next;
	return pr;
}

static void cmd_check(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	imapd_mbox_sync(s, true, true);
}

/* CLOSE expunges silently (read-write); UNSELECT does not. */
static void close_mailbox(struct imapd_session *s, bool expunge)
{
	const char *err;

	if (expunge && !s->mbox->readonly)
		store_expunge(s->mbox->f, NULL, 0, &err);
	imapd_mbox_close(s);
}

static void cmd_close(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	close_mailbox(s, true);
}

static void cmd_unselect(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	close_mailbox(s, false);
}

static void cmd_expunge(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	struct mbox_view *v = s->mbox;
	struct imap_seqset set;
	const char *err;

	if (v->readonly) {
		sess_reply(s, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (s->uid_cmd && (n != 1 || imapd_mbox_set(s, args[0].str, true, &set, &err) < 0)) {
		sess_reply(s, "BAD", "UID EXPUNGE takes a UID set.");
		return;
	}
	uint32_t *uids = arena_calloc(s->arena, v->count ? v->count : 1, sizeof(*uids));
	size_t nu = 0;
	for (uint32_t seq = 1; seq <= v->count; seq++) {
		const struct store_msg *m = imapd_mbox_msg(s, seq);

		if (m && (m->flags & STORE_DELETED) && (!s->uid_cmd || imapd_mbox_in_set(v, &set, true, seq)))
			uids[nu++] = m->uid;
	}
	if (imapd_mbox_expunge(s, uids, nu) < 0) {
		sess_reply(s, "NO", "%s", imapd_mbox_error(s, false, "Cannot expunge."));
		return;
	}
	imapd_mbox_sync(s, true, true);
}

static void copy_or_move(struct imapd_session *s, const struct imap_arg *args, unsigned n,
			 bool move)
{
	struct mbox_view *v = s->mbox;
	struct imap_seqset set;
	const char *err, *raw, *name;

	if (n != 2 || args[0].type != IMAP_ARG_ATOM || (raw = imap_arg_astring(&args[1])) == NULL) {
		sess_reply(s, "BAD", "Takes a set and a mailbox.");
		return;
	}
	if (imapd_mbox_set(s, args[0].str, s->uid_cmd, &set, &err) < 0) {
		sess_reply(s, "BAD", "%s", err);
		return;
	}
	if (move && v->readonly) {
		sess_reply(s, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if ((name = imapd_mbox_name_in(s, raw, &err)) == NULL) {
		sess_reply(s, "NO", "[CANNOT] %s", err);
		return;
	}
	size_t done;
	bool gone;
	uint32_t *src = imapd_mbox_set_uids(s, &set, s->uid_cmd, &done, &gone);
	uint32_t *dstu = arena_calloc(s->arena, done ? done : 1, sizeof(*dstu));
	uint32_t validity = 0;
	if (imapd_mbox_copy(s, src, done, name, move, dstu, &validity) < 0) {
		sess_reply(s, "NO", "%s", imapd_mbox_error(s, true, move ? "Cannot move." : "Cannot copy."));
		return;
	}
	/* Messages expunged meanwhile (new UID 0) are left out of COPYUID. */
	size_t w = 0;
	for (size_t i = 0; i < done; i++)
		if (dstu[i] != 0) {
			src[w] = src[i];
			dstu[w++] = dstu[i];
		}
	gone |= w != done;
	done = w;
	struct sbuf code = SBUF_INIT;
	if (done > 0) {
		sbuf_addf(&code, "[COPYUID %u ", validity);
		sess_add_set(&code, src, done);
		sbuf_addch(&code, ' ');
		sess_add_set(&code, dstu, done);
		sbuf_addch(&code, ']');
	}
	/* RFC 6851 4.3: the COPYUID goes in an untagged OK before the
	 * EXPUNGEs the sync sends. */
	if (move && done > 0)
		sess_printf(s, "* OK %s Moved.\r\n", code.buf);
	if (strcmp(v->name, name) == 0 || move)
		imapd_mbox_sync(s, move, true);
	if (gone)
		sess_reply(s, "NO", "[EXPUNGEISSUED] Some of the messages were expunged.");
	else if (done > 0 && move)
		sess_reply(s, "OK", "MOVE completed.");
	else if (done > 0)
		sess_reply(s, "OK", "%s COPY completed.", code.buf);
	sbuf_release(&code);
}

static void cmd_copy(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	copy_or_move(s, args, n, false);
}

static void cmd_move(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	copy_or_move(s, args, n, true);
}

static void cmd_store(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	struct mbox_view *v = s->mbox;
	struct imap_seqset set;
	const char *err, *kw;
	uint64_t unchangedsince = UINT64_MAX;
	unsigned i = 1;
	uint32_t flags;

	if (n < 3 || args[0].type != IMAP_ARG_ATOM) {
		sess_reply(s, "BAD", "STORE takes a set, an item and flags.");
		return;
	}
	if (imapd_mbox_set(s, args[0].str, s->uid_cmd, &set, &err) < 0) {
		sess_reply(s, "BAD", "%s", err);
		return;
	}
	if (args[1].type == IMAP_ARG_LIST) {	/* (UNCHANGEDSINCE n) */
		const struct imap_arg *m = args[1].list;
		if (args[1].count != 2 || !imap_arg_is_atom(&m[0], "UNCHANGEDSINCE") ||
		    imapd_parse_modseq(&m[1], &unchangedsince) < 0) {
			sess_reply(s, "BAD", "Unknown STORE modifier.");
			return;
		}
		s->condstore = true;
		i = 2;
	}
	if (n != i + 2 || args[i].type != IMAP_ARG_ATOM) {
		sess_reply(s, "BAD", "STORE takes a set, an item and flags.");
		return;
	}
	const char *item = args[i].str;
	enum store_flag_op op = STORE_FLAGS_SET;
	if (*item == '+' || *item == '-') {
		op = *item == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
		item++;
	}
	bool silent = strcasecmp(item, "FLAGS.SILENT") == 0;
	if (!silent && strcasecmp(item, "FLAGS") != 0) {
		sess_reply(s, "BAD", "Unknown STORE item.");
		return;
	}
	if (imapd_mbox_flags_in(s, &args[i + 1], &flags, &kw, &err) < 0) {
		sess_reply(s, "BAD", "%s", err);
		return;
	}
	if (v->readonly) {
		sess_reply(s, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	size_t nu, n_mod = 0;
	bool gone;
	uint32_t *uids = imapd_mbox_set_uids(s, &set, s->uid_cmd, &nu, &gone), *mod = NULL;
	/* SET replaces keywords too: "" clears them. */
	struct store_flag_change ch = {
		.op = op, .flags = flags, .keywords = op == STORE_FLAGS_SET ? kw : (*kw ? kw : NULL),
		.unchangedsince = unchangedsince == UINT64_MAX ? 0 : unchangedsince,
	};
	/* UNCHANGEDSINCE 0 fails for every message (MODSEQs start at 1). */
	if (unchangedsince == 0) {
		mod = uids;
		n_mod = nu;
	} else if (imapd_mbox_store(s, uids, nu, &ch, &mod, &n_mod) < 0) {
		sess_reply(s, "NO", "%s", imapd_mbox_error(s, false, "Cannot change the flags."));
		return;
	}
	struct sbuf modified = SBUF_INIT;
	for (size_t j = 0, k = 0; j < nu; j++) {
		uint32_t seq = imapd_mbox_seq_of(v, uids[j]);
		const struct store_msg *m = store_folder_find(v->f, uids[j]);

		if (k < n_mod && mod[k] == uids[j]) {
			k++;
			sbuf_addf(&modified, "%s%u", modified.len ? "," : "", s->uid_cmd ? uids[j] : seq);
			continue;
		}
		if (m == NULL)
			continue;
		imapd_mbox_note_reported(v, m->uid, m->modseq);
		/* A new keyword is announced even when .SILENT hides the FETCH. */
		imapd_kw_announce(s, m);
		/* RFC 7162 3.1.3: .SILENT still reports the new MODSEQ. */
		if (!silent)
			fetch_flags_reply(s, seq, m);
		else if (s->condstore)
			sess_printf(s, "* %u FETCH (%sMODSEQ (%llu))\r\n", seq,
				    s->uid_cmd || s->qresync ? arena_printf(s->arena, "UID %u ", m->uid) : "",
				    (unsigned long long)m->modseq);
	}
	if (mod != uids)
		free(mod);
	if (modified.len)
		sess_reply(s, "OK", "[MODIFIED %s] Conditional STORE failed for some.", modified.buf);
	else if (gone)
		sess_reply(s, "NO", "Some of the messages were expunged.");
	sbuf_release(&modified);
}

static void cmd_uid(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	static const char *const subs[] = { "FETCH", "STORE", "COPY", "MOVE", "SEARCH", "EXPUNGE" };
	const struct sess_command *c = NULL;

	for (size_t i = 0; n > 0 && c == NULL && i < sizeof(subs) / sizeof(subs[0]); i++)
		if (imap_arg_is_atom(&args[0], subs[i]))
			c = sess_find_command(subs[i]);
	if (c == NULL) {
		sess_reply(s, "BAD", "Unknown UID command.");
		return;
	}
	s->uid_cmd = true;
	c->fn(s, args + 1, n - 1);
	if (s->reply == NULL)
		sess_reply(s, "OK", "UID %s completed.", c->name);
}

#define SELECTED SESS_SELECTED
const struct sess_command cmd_msg_table[] = {
	/* No function: the dispatcher runs imapd_append_pipelined(). */
	{ "APPEND", NULL, SESS_AUTH | SESS_SELECTED, false },
	{ "CHECK", cmd_check, SELECTED, false },
	{ "CLOSE", cmd_close, SELECTED, false },
	{ "UNSELECT", cmd_unselect, SELECTED, false },
	{ "EXPUNGE", cmd_expunge, SELECTED, false },
	{ "COPY", cmd_copy, SELECTED, true },
	{ "MOVE", cmd_move, SELECTED, false },
	{ "STORE", cmd_store, SELECTED, true },
	{ "UID", cmd_uid, SELECTED, false },
	{ NULL, NULL, 0, false },
};
