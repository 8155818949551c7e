/* compose: new mail, replies, forwards and resumed drafts — the editor on
 * a draft with the headers on top, then the compose screen (review,
 * attach, detach, edit again, postpone, send).
 *
 * Sending runs loft's own sendmail (`/proc/self/exe [-F MAILRC] sendmail
 * -t -i`) through a pipe: the UI never includes the MTA, and the message
 * goes through the durable queue like any other.  A copy (with Bcc) is
 * then appended to the `record` folder. */
#include "ui/ui-private.h"

#include "client/compose.h"
#include "client/envelope.h"
#include "client/mailbox.h"
#include "client/format.h"
#include "store/message.h"
#include "store/store.h"

#include "lib/command.h"
#include "lib/config.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include "ui/curses_lazy.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct attachment {
	char *name;
	char *data;
	size_t len;
	char *type;
};

struct session {
	struct compose_draft *d;
	struct attachment *att;
	size_t natt;
	uint32_t reply_uid;		/* the message answered, 0 when none */
	uint32_t draft_uid;		/* resumed from postponed, 0 when none */
};

static bool read_file(const char *path, struct sbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[8192];
	ssize_t r;

	if (fd < 0)
		return false;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		sbuf_add(out, buf, (size_t)r);
	close(fd);
	return r == 0;
}

/* Runs the editor on the draft; false when it failed. */
static bool edit_draft(struct ui *ui, struct compose_draft *d)
{
	char *tmpl = ui_tmpfile_template("loft-draft");
	int fd = mkstemp(tmpl);
	struct sbuf text = SBUF_INIT;
	const char *ed = config_get(ui->cfg, "editor"), *err;
	bool ok = false;

	if (fd < 0) {
		ui_message(ui, true, "cannot create a draft file %s: %s", tmpl, strerror(errno));
		free(tmpl);
		return false;
	}
	compose_draft_write(d, false, &text);
	if (write(fd, text.buf, text.len) != (ssize_t)text.len) {
		close(fd);
		goto out;
	}
	close(fd);
	if (ed == NULL || *ed == '\0')
		ed = getenv("VISUAL");
	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	char *cmd = xasprintf("%s '%s'", ed, tmpl);
	int st = ui_run_shell(ui, cmd, false);
	free(cmd);
	if (st != 0) {
		ui_message(ui, true, "the editor exited with status %d", st);
		goto out;
	}
	sbuf_reset(&text);
	if (!read_file(tmpl, &text)) {
		ui_message(ui, true, "cannot read the draft back");
		goto out;
	}
	if (compose_draft_parse(text.buf, text.len, d, &err) < 0) {
		ui_message(ui, true, "draft: %s", err);
		goto out;
	}
	ok = true;
out:
	unlink(tmpl);
	free(tmpl);
	sbuf_release(&text);
	return ok;
}

static void draw_compose(struct ui *ui, struct session *s, size_t cur)
{
	static const char *const labels[] = { "From", "To", "Cc", "Bcc", "Subject", "Reply-To" };
	const char *vals[] = { s->d->from, s->d->to, s->d->cc, s->d->bcc, s->d->subject, s->d->reply_to };
	int y = 0;

	erase();
	for (size_t i = 0; i < 6; i++) {
		struct sbuf line = SBUF_INIT, sb = SBUF_INIT;
		sbuf_addf(&line, "%9s: %s", labels[i], vals[i] ? vals[i] : "");
		format_truncate(line.buf, line.len, (size_t)COLS, true, &sb);
		mvaddstr(y++, 0, sb.buf);
		sbuf_release(&line);
		sbuf_release(&sb);
	}
	y++;
	mvaddstr(y++, 0, "-- Attachments");
	for (size_t i = 0; i < s->natt && y < LINES - 2; i++) {
		struct sbuf line = SBUF_INIT, sb = SBUF_INIT;
		char size[8];
		format_size(s->att[i].len, size);
		sbuf_addf(&line, "%s %2zu %-8s %s", i == cur ? "->" : "  ", i + 1, size, s->att[i].name);
		format_truncate(line.buf, line.len, (size_t)COLS, true, &sb);
		if (i == cur)
			attron(ui_color_attr(C_INDICATOR));
		mvaddstr(y++, 0, sb.buf);
		if (i == cur)
			attroff(ui_color_attr(C_INDICATOR));
		sbuf_release(&line);
		sbuf_release(&sb);
	}
	ui_draw_bar(LINES - 2, "-- loft: compose  y:send  q:abort  t c b s:To Cc Bcc Subject  e:edit  a:attach  D:detach  P:postpone  ?:help", "");
	ui_draw_message(ui);
	refresh();
}

static int build(struct ui *ui, struct session *s, bool keep_bcc, struct sbuf *out, const char **err)
{
	struct compose_attachment *ca = xcalloc(s->natt + 1, sizeof(*ca));
	struct compose_build bo = { 0 };
	int r;

	for (size_t i = 0; i < s->natt; i++) {
		ca[i].filename = s->att[i].name;
		ca[i].content_type = s->att[i].type;
		ca[i].data = s->att[i].data;
		ca[i].len = s->att[i].len;
	}
	bo.keep_bcc = keep_bcc;
	bo.domain = config_get(ui->cfg, "hostname");
	r = compose_build_mime(s->d, ca, s->natt, &bo, out, err);
	free(ca);
	return r;
}

/* The folder of role (record, postponed) for the open mailbox, opened
 * as mode says; NULL after a message, or with *none_r (may be NULL) set
 * when there is none (`unset record`). */
static struct mailbox *open_role(struct ui *ui, enum mailbox_role role, unsigned mode,
				 bool *none_r)
{
	char *name = mailbox_role(ui->mb.box, &ui->env, role);
	const char *err;
	struct mailbox *f;

	if (none_r != NULL)
		*none_r = name == NULL;
	if (name == NULL)
		return NULL;
	/* "+Sent" (or a path) as the store takes it; on an IMAP folder the
	 * account's Sent or Drafts. */
	f = ui_box_open(ui, name, mode, &err);
	if (f == NULL)
		ui_message(ui, true, "%s: %s", role == MAILBOX_ROLE_SENT ? "record" : "postponed",
			   err);
	else if (mailbox_settle(f, &err) < 0) {
		ui_message(ui, true, "%s: %s", name, err);
		mailbox_close(&f);
	}
	free(name);
	return f;
}

static int append_to(struct ui *ui, enum mailbox_role role, const struct sbuf *msg,
		     uint32_t flags)
{
	struct mailbox *f;
	const char *err;
	bool none;
	int r;

	f = open_role(ui, role, MAILBOX_OPEN_CREATE | MAILBOX_OPEN_TARGET, &none);
	if (f == NULL)
		return none ? 0 : -1;
	r = mailbox_append(f, msg->buf, msg->len, flags, NULL, &err);
	if (r < 0)
		ui_message(ui, true, "%s", err);
	mailbox_close(&f);
	return r;
}

/* Hands the message to loft's sendmail (queue only: the client runs the
 * queue itself right after, to say what happened).  Returns 0 and the
 * queue ID in *id_r (caller frees), or -1 with sendmail's own words on
 * the message line. */
static int queue_message(struct ui *ui, const struct sbuf *msg, char **id_r)
{
	/* Written on an account's IMAP folder: through its smarthost, from
	 * its address. */
	const char *account = mailbox_account(ui->mb.box);
	const char *afrom = account ? config_account_get(ui->cfg, account, "from") : NULL;
	char *opt = account ? xasprintf("--account=%s", account) : NULL;
	char *sender = afrom ? xasprintf("-f%s", afrom) : NULL;
	const char *args[] = { "sendmail", "-t", "-i", "-odq", "-v", opt, sender,
			       NULL };
	struct sbuf out = SBUF_INIT;
	int st = ui_run_loft(ui, args, msg->buf, msg->len, &out);
	const char *id = strstr(out.buf, "queued as ");

	free(opt);
	free(sender);
	sbuf_rtrim(&out);
	if (st != 0 || id == NULL) {
		const char *why = out.buf;

		if (strncmp(why, "loft sendmail: ", 15) == 0)
			why += 15;
		ui_message(ui, true, "not sent (postpone it with P): %s", *why ? why : "sendmail failed");
		sbuf_release(&out);
		return -1;
	}
	id += 10;
	*id_r = xstrndup(id, strcspn(id, " \n"));
	sbuf_release(&out);
	return 0;
}

/* The message is built once: the copy in record is the very message
 * queued, with the same Message-ID (so replies thread with it); sendmail
 * takes the Bcc recipients from it and removes the Bcc header from what
 * it sends. */
static bool do_send(struct ui *ui, struct session *s)
{
	struct sbuf msg = SBUF_INIT;
	const char *err;
	char *id = NULL;

	if (build(ui, s, true, &msg, &err) < 0) {
		ui_message(ui, true, "cannot send: %s", err);
		sbuf_release(&msg);
		return false;
	}
	ui_message(ui, false, "Sending message...");
	if (queue_message(ui, &msg, &id) < 0) {
		sbuf_release(&msg);
		return false;
	}
	append_to(ui, MAILBOX_ROLE_SENT, &msg, STORE_SEEN);
	sbuf_release(&msg);
	/* By UID: new mail may have moved the rows while composing. */
	long row = s->reply_uid ? ui_msg_index_of(ui, s->reply_uid) : -1;
	if (row >= 0) {
		uint32_t v = (uint32_t)row;
		mailbox_set_flags(ui->mb.box, &v, 1, STORE_FLAGS_ADD, STORE_ANSWERED, &err);
	}
	if (s->draft_uid) {
		struct mailbox *f = open_role(ui, MAILBOX_ROLE_DRAFTS, 0, NULL);
		long d = f ? mailbox_index_of(f, s->draft_uid) : -1;
		if (d >= 0) {
			uint32_t v = (uint32_t)d;
			mailbox_expunge(f, &v, 1, &err);
		}
		mailbox_close(&f);
	}
	ui_queue_sent(ui, id);
	free(id);
	return true;
}

static void attach_file(struct ui *ui, struct session *s)
{
	char *path = ui_prompt(ui, "Attach file: ", NULL, ui_complete_file);
	struct sbuf data = SBUF_INIT;

	if (path == NULL || *path == '\0') {
		free(path);
		return;
	}
	if (path[0] == '~' && getenv("HOME")) {
		char *full = xasprintf("%s%s", getenv("HOME"), path + 1);
		free(path);
		path = full;
	}
	if (!read_file(path, &data)) {
		ui_message(ui, true, "%s: %s", path, strerror(errno));
		free(path);
		sbuf_release(&data);
		return;
	}
	s->att = xreallocarray(s->att, s->natt + 1, sizeof(*s->att));
	const char *base = strrchr(path, '/');
	s->att[s->natt].name = xstrdup(base ? base + 1 : path);
	s->att[s->natt].len = data.len;
	s->att[s->natt].data = sbuf_detach(&data, NULL);
	s->att[s->natt].type = NULL;
	s->natt++;
	free(path);
}

/* t c b s: one header edited on the prompt line (mutt's edit-to...). */
static void edit_field(struct ui *ui, struct compose_draft *d, enum ui_action a)
{
	char **field = a == A_EDIT_TO ? &d->to : a == A_EDIT_CC ? &d->cc :
		       a == A_EDIT_BCC ? &d->bcc : &d->subject;
	char *v = ui_prompt(ui, a == A_EDIT_TO ? "To: " : a == A_EDIT_CC ? "Cc: " :
			    a == A_EDIT_BCC ? "Bcc: " : "Subject: ", *field,
			    a == A_EDIT_SUBJECT ? NULL : ui_complete_address);

	if (v) {
		free(*field);
		*field = v;
	}
}

static void compose_screen(struct ui *ui, struct session *s)
{
	size_t cur = 0;

	for (;;) {
		draw_compose(ui, s, cur);
		struct ui_event ev = ui_getkey(ui);
		int k = ev.key;

		if (ev.kind != UI_EV_KEY)
			continue;	/* drawn again */
		const struct ui_binding *b = ui_keymap_lookup(MENU_COMPOSE, k);
		enum ui_action a = b ? b->action : A_NONE;

		ui->status[0] = '\0';
		switch (a) {
		case A_SEND:
			if (do_send(ui, s))
				return;
			break;
		case A_QUIT:
			if (ui_yesno(ui, "Abort unmodified message?", false) ||
			    ui_yesno(ui, "Discard this message?", false)) {
				ui_message(ui, false, "Message not sent.");
				return;
			}
			break;
		case A_EDIT:
			edit_draft(ui, s->d);
			break;
		case A_EDIT_TO: case A_EDIT_CC: case A_EDIT_BCC: case A_EDIT_SUBJECT:
			edit_field(ui, s->d, a);
			break;
		case A_ATTACH_FILE:
			attach_file(ui, s);
			break;
		case A_DETACH:
			if (s->natt > 0 && cur < s->natt) {
				free(s->att[cur].name);
				free(s->att[cur].data);
				free(s->att[cur].type);
				memmove(&s->att[cur], &s->att[cur + 1], (s->natt - cur - 1) * sizeof(*s->att));
				s->natt--;
				if (cur && cur >= s->natt)
					cur--;
			}
			break;
		case A_NEXT:
			if (cur + 1 < s->natt)
				cur++;
			break;
		case A_PREV:
			if (cur)
				cur--;
			break;
		case A_POSTPONE: {
			struct sbuf msg = SBUF_INIT;
			const char *err;
			if (build(ui, s, true, &msg, &err) < 0) {
				/* A draft may lack recipients: keep it anyway. */
				ui_message(ui, true, "cannot postpone: %s", err);
			} else if (append_to(ui, MAILBOX_ROLE_DRAFTS, &msg, STORE_DRAFT | STORE_SEEN) == 0) {
				ui_message(ui, false, "Message postponed.");
				sbuf_release(&msg);
				return;
			}
			sbuf_release(&msg);
			break;
		}
		case A_HELP: {
			struct sbuf sb = SBUF_INIT;
			ui_keymap_help(MENU_COMPOSE, &sb);
			ui_pager_text(ui, "Help: compose", sb.buf, sb.len);
			sbuf_release(&sb);
			break;
		}
		default:
			break;
		}
	}
}

/* A postponed message back into a draft (and its attachments). */
static struct compose_draft *draft_of(struct ui *ui, const struct message *m,
				      const struct compose_identity *id, struct session *s)
{
	struct compose_draft *d = compose_new(id, NULL);
	struct { char **field; const char *name; } map[] = {
		{ &d->from, "From" }, { &d->to, "To" }, { &d->cc, "Cc" }, { &d->bcc, "Bcc" },
		{ &d->subject, "Subject" }, { &d->reply_to, "Reply-To" },
		{ &d->in_reply_to, "In-Reply-To" }, { &d->references, "References" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = message_header(m, map[i].name);
		if (v) {
			free(*map[i].field);
			*map[i].field = xstrdup(v);
		}
	}
	free(d->body);
	d->body = compose_message_text(m);
	const struct message_part *const *parts;
	size_t n = message_parts(m, &parts);
	for (size_t i = 0; i < n; i++) {
		if (!message_part_is_attachment(parts[i]))
			continue;
		size_t len;
		const char *c = message_part_content(parts[i], &len);
		const char *name = message_part_filename(parts[i]);
		s->att = xreallocarray(s->att, s->natt + 1, sizeof(*s->att));
		s->att[s->natt].name = xstrdup(name ? name : "attachment");
		s->att[s->natt].data = xmalloc(len + 1);
		memcpy(s->att[s->natt].data, c, len);
		s->att[s->natt].len = len;
		s->att[s->natt].type = xstrdup(message_part_type(parts[i]));
		s->natt++;
	}
	(void)ui;
	return d;
}

static struct message *load_postponed(struct ui *ui, uint32_t *uid_r)
{
	const char *err;
	struct mailbox *f = open_role(ui, MAILBOX_ROLE_DRAFTS, 0, NULL);
	struct message *m = NULL;
	struct sbuf sb = SBUF_INIT;

	if (f == NULL)
		return NULL;
	size_t n = mailbox_count(f);
	/* One draft is taken at once; of several the user picks (mutt). */
	long i = n > 1 ? ui_postponed_choose(ui, f) : (long)n - 1;

	if (n == 0) {
		ui_message(ui, true, "No postponed messages.");
	} else if (i >= 0) {
		struct mailbox_msg mm;

		mailbox_msg(f, (size_t)i, &mm);
		*uid_r = mm.uid;
		if (mailbox_read(f, (size_t)i, &sb, &err) == 0)
			m = message_parse(sb.buf, sb.len, NULL, &err);
	}
	sbuf_release(&sb);
	mailbox_close(&f);
	return m;
}

void ui_compose(struct ui *ui, enum ui_compose_kind kind, size_t msg_index)
{
	/* On an account's IMAP folder, as that account (its from and
	 * realname, the global ones where it sets none). */
	const char *account = mailbox_account(ui->mb.box) ? mailbox_account(ui->mb.box) : "";
	const char *afrom = config_account_get(ui->cfg, account, "from");
	char *from = afrom != NULL ? xstrdup(afrom) : config_sender(ui->cfg);
	const char *alt[] = { NULL };
	struct compose_identity id = { from, config_account_get(ui->cfg, account, "realname"),
				       alt };
	struct compose_options opt = { 0 };
	struct session s = { 0 };
	struct message *orig = NULL;
	struct sbuf sig = SBUF_INIT;
	const char *sigpath = config_get(ui->cfg, "signature"), *err;

	if (sigpath && *sigpath && read_file(sigpath, &sig))
		opt.signature = sig.buf;
	if (kind == UI_RESUME || kind == UI_RESEND) {
		orig = kind == UI_RESUME ? load_postponed(ui, &s.draft_uid) : ui_msg_load(ui, msg_index);
		if (orig == NULL)
			goto out;
		s.d = draft_of(ui, orig, &id, &s);
		if (kind == UI_RESEND) {
			/* A new message: the old one's thread is not its own,
			 * and it is sent as the user unless it was the user's. */
			if (!compose_is_me(&id, ui_msg_env(ui, msg_index)->from_addr)) {
				struct compose_draft *fresh = compose_new(&id, NULL);
				free(s.d->from);
				s.d->from = fresh->from;
				fresh->from = NULL;
				compose_draft_free(&fresh);
			}
			free(s.d->in_reply_to);
			free(s.d->references);
			s.d->in_reply_to = xstrdup("");
			s.d->references = xstrdup("");
		}
	} else if (kind == UI_NEW) {
		s.d = compose_new(&id, &opt);
		char *to = ui_prompt(ui, "To: ", NULL, ui_complete_address);
		if (to == NULL)
			goto out;
		free(s.d->to);
		s.d->to = to;
		char *subj = ui_prompt(ui, "Subject: ", NULL, NULL);
		if (subj == NULL)
			goto out;
		free(s.d->subject);
		s.d->subject = subj;
	} else {
		orig = ui_msg_load(ui, msg_index);
		if (orig == NULL)
			goto out;
		if (kind == UI_FORWARD) {
			bool mime = config_bool(ui->cfg, "mime_forward");
			s.d = compose_forward(orig, !mime, &id, &opt);
			if (mime) {
				size_t len;
				const char *raw = message_raw(orig, &len);
				s.att = xcalloc(1, sizeof(*s.att));
				s.att[0].name = xstrdup("forwarded message");
				s.att[0].data = xmalloc(len + 1);
				memcpy(s.att[0].data, raw, len);
				s.att[0].len = len;
				s.att[0].type = xstrdup("message/rfc822");
				s.natt = 1;
			}
			/* mutt asks for the recipient first. */
			char *to = ui_prompt(ui, "To: ", NULL, ui_complete_address);
			if (to == NULL)
				goto out;
			free(s.d->to);
			s.d->to = to;
		} else {
			enum compose_reply_kind rk = kind == UI_REPLY ? COMPOSE_REPLY_SENDER :
				kind == UI_GROUP_REPLY ? COMPOSE_REPLY_ALL : COMPOSE_REPLY_LIST;
			if (compose_reply(orig, rk, &id, &opt, &s.d, &err) < 0) {
				ui_message(ui, true, "%s", err);
				goto out;
			}
			s.reply_uid = ui_mailbox_writable(ui) ? ui_msg_uid(ui, msg_index) : 0;
		}
	}
	/* mutt's abort_unmodified: a new message, reply or forward the editor
	 * left as it was is not sent (a resumed or resent one may be). */
	struct sbuf before = SBUF_INIT, after = SBUF_INIT;
	compose_draft_write(s.d, true, &before);
	bool edited = edit_draft(ui, s.d);
	compose_draft_write(s.d, true, &after);
	bool same = before.len == after.len && memcmp(before.buf, after.buf, before.len) == 0;
	sbuf_release(&before);
	sbuf_release(&after);
	if (!edited)
		goto out;
	if (same && kind != UI_RESUME && kind != UI_RESEND &&
	    config_bool(ui->cfg, "abort_unmodified")) {
		ui_message(ui, false, "Aborted unmodified message.");
		goto out;
	}
	compose_screen(ui, &s);
out:
	for (size_t i = 0; i < s.natt; i++) {
		free(s.att[i].name);
		free(s.att[i].data);
		free(s.att[i].type);
	}
	free(s.att);
	compose_draft_free(&s.d);
	message_free(&orig);
	sbuf_release(&sig);
	free(from);
	ui_mailbox_refresh(ui);
}
