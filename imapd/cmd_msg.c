/* Message commands: APPEND (APPENDUID, MULTIAPPEND, UTF8), CHECK, CLOSE, UNSELECT, EXPUNGE,
 * UID EXPUNGE, COPY and MOVE (COPYUID), STORE (.SILENT, UNCHANGEDSINCE),
 * and UID, which runs the others on UIDs. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
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

static void cmd_append(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *raw = n >= 2 ? imap_arg_astring(&args[0]) : NULL, *name, *err = NULL;
	struct append_msg *msgs;
	int count;

	if (raw == NULL) {
		sess_reply(s, "BAD", "APPEND takes a mailbox and a message.");
		return;
	}
	if ((count = append_args(s, args, n, &msgs)) < 0)
		return;
	if ((name = imapd_mbox_name_in(s, raw, &err)) == NULL) {
		sess_reply(s, "NO", "[CANNOT] %s", err);
		return;
	}
	struct imapd_append *ap = arena_calloc(s->arena, (size_t)count, sizeof(*ap));
	for (int k = 0; k < count; k++)
		ap[k] = (struct imapd_append){ msgs[k].text->str, msgs[k].text->len, msgs[k].flags,
					       msgs[k].kw && *msgs[k].kw ? msgs[k].kw : NULL,
					       msgs[k].date };
	uint32_t validity, *uids = arena_calloc(s->arena, (size_t)count, sizeof(*uids));
	if (imapd_mbox_append(s, name, ap, (size_t)count, &validity, uids, &err) < 0) {
		sess_reply(s, "NO", "%s", err);
		return;
	}
	if (s->mbox != NULL && strcmp(s->mbox->name, name) == 0) {
		s->mbox->dirty = true;
		/* RFC 3501 6.3.11: an appended message is \Recent whatever
		 * its flags.  One with flags skips new/, so no session would
		 * claim it: this one does, being the first to see it (the
		 * last such one of a MULTIAPPEND). */
		for (int k = 0; k < count; k++)
			if (msgs[k].flags != 0)
				s->mbox->appended = uids[k];
	}
	struct sbuf code = SBUF_INIT;
	sess_add_set(&code, uids, (size_t)count);
	sess_reply(s, "OK", "[APPENDUID %u %s] APPEND completed.", validity, code.buf);
	sbuf_release(&code);
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
	{ "APPEND", cmd_append, SESS_AUTH | SESS_SELECTED, false },
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
