/* pager: one message on screen — the chosen headers decoded, the body
 * from the message model (text/plain preferred, format=flowed reflowed,
 * HTML through a mailcap copiousoutput filter or the built-in stripper),
 * the attachment list, as a document that ui/view.c lays out and draws
 * (wrapped by cells, quoted levels and signatures coloured, URLs
 * underlined, `/` search). */
#include "ui/ui-private.h"

#include "client/envelope.h"
#include "client/format.h"
#include "store/message.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include "ui/curses_lazy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void render_html(const struct message_part *p, struct ui_doc *d)
{
	size_t len;
	char *html = message_part_text(p, 0, &len);
	const struct ui_mailcap_entry *e = ui_mailcap_find("text/html", true);
	struct sbuf out = SBUF_INIT;

	if (e == NULL || ui_mailcap_filter(e->command, html, len, 5000, &out) < 0) {
		sbuf_reset(&out);
		ui_html_strip(html, len, &out);
	}
	ui_doc_add_text(d, out.buf, out.len);
	sbuf_release(&out);
	free(html);
}

static void attach_line(struct ui_doc *d, const struct message_part *p)
{
	struct sbuf sb = SBUF_INIT;
	char size[8];
	const char *name = message_part_filename(p);

	format_size(message_part_decoded_size(p), size);
	sbuf_addf(&sb, "[-- Attachment #%s: %s (%s, %s) --]", message_part_section(p),
		  name ? name : "(no name)", message_part_type(p), size);
	ui_doc_add_line(d, UI_DOC_ATTACH, sb.buf, sb.len);
	sbuf_release(&sb);
}

static void render_part(const struct message_part *p, struct ui_doc *d, bool top)
{
	const char *type = message_part_type(p);
	const struct message_part *const *kids;
	size_t n = message_part_children(p, &kids);

	if (strcmp(type, "multipart/alternative") == 0 && n > 0) {
		const struct message_part *best = kids[n - 1];
		for (size_t i = 0; i < n; i++)
			if (strcmp(message_part_type(kids[i]), "text/plain") == 0)
				best = kids[i];
		render_part(best, d, false);
		return;
	}
	if (message_part_is_multipart(p)) {
		for (size_t i = 0; i < n; i++)
			render_part(kids[i], d, false);
		return;
	}
	if (strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/global") == 0) {
		const struct message *em = message_part_embedded(p);
		attach_line(d, p);
		if (em) {
			static const char *const hs[] = { "Date", "From", "To", "Subject" };
			for (size_t i = 0; i < 4; i++) {
				const char *v = message_header(em, hs[i]);
				if (v) {
					char *l = xasprintf("%s: %s", hs[i], v);
					ui_doc_add_line(d, UI_DOC_HEADER, l, strlen(l));
					free(l);
				}
			}
			ui_doc_add_line(d, UI_DOC_TEXT, "", 0);
		}
		for (size_t i = 0; i < n; i++)
			render_part(kids[i], d, false);
		return;
	}
	if (!top && message_part_is_attachment(p)) {
		attach_line(d, p);
		return;
	}
	if (strcmp(type, "text/html") == 0) {
		render_html(p, d);
	} else if (strncmp(type, "text/", 5) == 0) {
		size_t len;
		char *t = message_part_text(p, 1, &len);
		ui_doc_add_text(d, t, len);
		free(t);
	} else {
		attach_line(d, p);
	}
}

static void header_line(struct ui_doc *d, const char *name, const char *value)
{
	char *l = xasprintf("%s: %s", name, value);

	ui_doc_add_line(d, UI_DOC_HEADER, l, strlen(l));
	free(l);
}

/* full: every header field in the message's order (mutt's `h`), else the
 * pager_headers ones. */
static void build_doc(struct ui *ui, const struct message *m, struct ui_doc *d, bool full)
{
	const char *want = config_get(ui->cfg, "pager_headers");
	char *copy = xstrdup(want ? want : "Date From To Cc Subject"), *save = NULL;
	const char *name, *value;

	for (int k = 0; full && message_header_at(m, k, &name, &value) == 0; k++)
		header_line(d, name, value);
	for (char *h = strtok_r(copy, " ,", &save); h && !full; h = strtok_r(NULL, " ,", &save)) {
		const char *v = message_header(m, h);
		if (v)
			header_line(d, h, v);
	}
	free(copy);
	ui_doc_add_line(d, UI_DOC_TEXT, "", 0);
	render_part(message_root(m), d, true);
}

enum ui_action ui_pager_run(struct ui *ui, size_t i)
{
	struct message *m = ui_msg_load(ui, i);
	struct ui_view pg = { 0 };
	enum ui_action result = A_QUIT;
	char title[512];
	size_t rows;
	bool full = false;

	if (m == NULL)
		return A_QUIT;
	if (!(ui_msg_flags(ui, i) & STORE_SEEN) && ui_mailbox_writable(ui) && !ui->read_only)
		ui_msg_set_flags(ui, i, STORE_FLAGS_ADD, STORE_SEEN);
	/* New mail may refresh the snapshot while the pager is open: the
	 * message is followed by its UID, not by its index. */
	uint32_t uid = ui_msg_uid(ui, i);
	build_doc(ui, m, &pg.doc, full);
	/* mutt's pager status: the position, the sender, the subject. */
	const struct envelope *e = ui_msg_env(ui, i);
	snprintf(title, sizeof(title), "-- loft: %s  %zu/%zu: %-20.20s  %s", ui->mb.name,
		 ui->mb.cur + 1, ui->mb.norder, *e->from_name ? e->from_name : e->from_addr,
		 e->subject);
	pg.title = title;
	pg.helpline = true;
	ui->status[0] = '\0';
	for (;;) {
		ui_view_draw(ui, &pg);
		struct ui_event ev = ui_getkey(ui);
		int key = ev.key;
		const struct ui_binding *b = ui_keymap_lookup(MENU_PAGER, key);
		enum ui_action a = b ? b->action : A_NONE;

		ui->status[0] = '\0';
		rows = LINES > 2 + pg.y0 ? (size_t)(LINES - 2 - pg.y0) : 1;
		if (ev.kind != UI_EV_KEY) {
			/* The rows may have moved under the message: follow
			 * its UID. */
			long now = ui_msg_index_of(ui, uid);
			if (now < 0)
				goto out;	/* expunged by another program */
			i = (size_t)now;
			continue;
		}
		if (ui_view_scroll(&pg, a))
			continue;
		switch (a) {
		case A_NEXT_PAGE:
			if (pg.top + rows >= pg.doc.nlines) {
				result = A_NEXT;
				goto out;
			}
			pg.top += rows - 1;
			break;
		case A_QUIT:
			goto out;
		case A_NEXT: case A_PREV:
			result = a;
			goto out;
		case A_SEARCH: case A_SEARCH_NEXT:
			ui_view_search(ui, &pg, a == A_SEARCH_NEXT);
			break;
		case A_DELETE:
			ui_msg_set_flags(ui, i, STORE_FLAGS_ADD, STORE_DELETED);
			result = A_NEXT;
			goto out;
		case A_UNDELETE:
			ui_msg_set_flags(ui, i, STORE_FLAGS_REMOVE, STORE_DELETED);
			break;
		case A_FLAG:
			ui_msg_set_flags(ui, i, (ui_msg_flags(ui, i) & STORE_FLAGGED) ? STORE_FLAGS_REMOVE
				: STORE_FLAGS_ADD, STORE_FLAGGED);
			break;
		case A_TOGGLE_NEW:
			ui_msg_set_flags(ui, i, STORE_FLAGS_REMOVE, STORE_SEEN);
			goto out;
		case A_VIEW_ATTACH:
			ui_attach_run(ui, m);
			break;
		case A_REPLY: case A_GROUP_REPLY: case A_LIST_REPLY: case A_FORWARD:
			ui_compose(ui, a == A_REPLY ? UI_REPLY : a == A_GROUP_REPLY ? UI_GROUP_REPLY :
				   a == A_LIST_REPLY ? UI_LIST_REPLY : UI_FORWARD, i);
			break;
		case A_MAIL:
			ui_compose(ui, UI_NEW, 0);
			break;
		case A_RESEND:
			ui_compose(ui, UI_RESEND, i);
			break;
		case A_BOUNCE:
			ui_bounce(ui, i);
			break;
		case A_HELP: {
			struct sbuf sb = SBUF_INIT;
			ui_keymap_help(MENU_PAGER, &sb);
			ui_pager_text(ui, "Help: pager", sb.buf, sb.len);
			sbuf_release(&sb);
			break;
		}
		case A_REDRAW:
			clearok(curscr, TRUE);
			break;
		case A_FULL_HEADERS:
			full = !full;
			ui_doc_free(&pg.doc);
			memset(&pg.doc, 0, sizeof(pg.doc));
			build_doc(ui, m, &pg.doc, full);
			pg.top = 0;
			break;
		case A_ENTER_COMMAND:
			ui_enter_command(ui);
			break;
		case A_MODIFY_TAGS: {
			uint32_t one = (uint32_t)i;
			long now;

			ui_tags_modify(ui, &one, 1);
			/* The folder was refreshed: follow the message by UID. */
			if ((now = ui_msg_index_of(ui, uid)) < 0)
				goto out;
			i = (size_t)now;
			break;
		}
		default:
			ui_message(ui, true, "Key is not bound.  Press '?' for help.");
			break;
		}
	}
out:
	ui_doc_free(&pg.doc);
	free(pg.search);
	message_free(&m);
	return result;
}
