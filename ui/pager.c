/* pager: one message on screen — the chosen headers decoded, the body
 * from the message model (text/plain preferred, format=flowed reflowed,
 * HTML through a mailcap copiousoutput filter or the built-in stripper),
 * the attachment list; wrapped by cells at the window width, quoted
 * levels and signatures coloured, URLs underlined, `/` search. */
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/message.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Source-line kinds, one byte per line of the document. */
enum { K_TEXT, K_HEADER, K_ATTACH, K_SIG };

struct doc {
	struct sbuf text;
	struct sbuf kinds;	/* one K_* per source line */
	struct ui_line *lines;	/* wrapped */
	size_t nlines;
	uint8_t *line_kind;	/* per wrapped line */
	size_t width;
};

static void add_line(struct doc *d, int kind, const char *s, size_t len)
{
	sbuf_add(&d->text, s, len);
	sbuf_addch(&d->text, '\n');
	sbuf_addch(&d->kinds, kind);
}

static void add_text(struct doc *d, const char *s, size_t len)
{
	bool sig = false;

	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t l = nl ? (size_t)(nl - s) : len;
		size_t ll = l && s[l - 1] == '\r' ? l - 1 : l;

		if (ll == 3 && memcmp(s, "-- ", 3) == 0)
			sig = true;
		add_line(d, sig ? K_SIG : K_TEXT, s, ll);
		if (nl == NULL)
			break;
		s += l + 1;
		len -= l + 1;
	}
}

static void render_html(const struct message_part *p, struct doc *d)
{
	size_t len;
	char *html = message_part_text(p, 0, &len);
	const struct ui_mailcap_entry *e = ui_mailcap_find("text/html", true);
	struct sbuf out = SBUF_INIT;

	if (e == NULL || ui_mailcap_filter(e->command, html, len, 5000, &out) < 0) {
		sbuf_reset(&out);
		ui_html_strip(html, len, &out);
	}
	add_text(d, out.buf, out.len);
	sbuf_release(&out);
	free(html);
}

static void attach_line(struct doc *d, const struct message_part *p)
{
	struct sbuf sb = SBUF_INIT;
	char size[8];
	const char *name = message_part_filename(p);

	format_size(message_part_decoded_size(p), size);
	sbuf_addf(&sb, "[-- Attachment #%s: %s (%s, %s) --]", message_part_section(p),
		  name ? name : "(no name)", message_part_type(p), size);
	add_line(d, K_ATTACH, sb.buf, sb.len);
	sbuf_release(&sb);
}

static void render_part(const struct message_part *p, struct doc *d, bool top)
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
					add_line(d, K_HEADER, l, strlen(l));
					free(l);
				}
			}
			add_line(d, K_TEXT, "", 0);
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
		add_text(d, t, len);
		free(t);
	} else {
		attach_line(d, p);
	}
}

static void build_doc(struct ui *ui, const struct message *m, struct doc *d)
{
	const char *want = config_get(ui->cfg, "pager_headers");
	char *copy = xstrdup(want ? want : "Date From To Cc Subject"), *save = NULL;

	for (char *h = strtok_r(copy, " ,", &save); h; h = strtok_r(NULL, " ,", &save)) {
		const char *v = message_header(m, h);
		if (v) {
			char *l = xasprintf("%s: %s", h, v);
			add_line(d, K_HEADER, l, strlen(l));
			free(l);
		}
	}
	free(copy);
	add_line(d, K_TEXT, "", 0);
	render_part(message_root(m), d, true);
}

static void layout(struct doc *d, size_t width)
{
	free(d->lines);
	free(d->line_kind);
	d->width = width;
	d->nlines = ui_wrap(d->text.buf, d->text.len, width, &d->lines);
	d->line_kind = xcalloc(d->nlines + 1, 1);
	/* Map wrapped lines back to their source line's kind. */
	size_t src = 0;
	for (size_t i = 0; i < d->nlines; i++) {
		if (i > 0 && !d->lines[i].cont)
			src++;
		d->line_kind[i] = src < d->kinds.len ? (uint8_t)d->kinds.buf[src] : K_TEXT;
	}
}

static void doc_free(struct doc *d)
{
	sbuf_release(&d->text);
	sbuf_release(&d->kinds);
	free(d->lines);
	free(d->line_kind);
}

static int line_attr(const struct doc *d, size_t i)
{
	switch (d->line_kind[i]) {
	case K_HEADER: return ui_color_attr(C_HEADER);
	case K_ATTACH: return ui_color_attr(C_ATTACHMENT);
	case K_SIG: return ui_color_attr(C_SIGNATURE);
	default: break;
	}
	unsigned q = d->lines[i].quote;
	if (q == 0)
		return 0;
	return ui_color_attr(q == 1 ? C_QUOTED : q == 2 ? C_QUOTED1 : C_QUOTED2);
}

/* Draws one wrapped line, with URLs and search matches highlighted. */
static void draw_line(const struct doc *d, size_t i, int y, const char *search)
{
	const char *s = d->text.buf + d->lines[i].off;
	size_t len = d->lines[i].len, pos = 0;
	int base = line_attr(d, i);

	move(y, 0);
	while (pos < len) {
		size_t uo = len, ul = 0, so = len, sl = 0;
		struct sbuf sb = SBUF_INIT;

		if (d->line_kind[i] == K_TEXT || d->line_kind[i] == K_SIG)
			if (!ui_find_url(s + pos, len - pos, &uo, &ul))
				uo = len - pos;
		if (search && *search) {
			size_t sn = strlen(search);
			for (size_t k = pos; k + sn <= len; k++)
				if (strncasecmp(s + k, search, sn) == 0) {
					so = k - pos;
					sl = sn;
					break;
				}
		}
		size_t next = uo < so ? uo : so;
		if (next > len - pos)
			next = len - pos;
		/* Plain text up to the next highlight: tabs expanded by curses. */
		format_truncate(s + pos, next, d->width, false, &sb);
		attron(base);
		addstr(sb.buf);
		attroff(base);
		sbuf_reset(&sb);
		pos += next;
		if (pos >= len) {
			sbuf_release(&sb);
			break;
		}
		size_t hl = uo < so ? ul : sl;
		int at = uo < so ? ui_color_attr(C_URL) : ui_color_attr(C_SEARCH);
		format_truncate(s + pos, hl, d->width, false, &sb);
		attron(at);
		addstr(sb.buf);
		attroff(at);
		sbuf_release(&sb);
		pos += hl;
	}
}

struct pager {
	struct doc doc;
	size_t top;
	char *search;
	const char *title;
};

static void pager_draw(struct ui *ui, struct pager *pg)
{
	int rows = LINES > 2 ? LINES - 2 : 1;
	char right[64];

	if (pg->doc.width != (size_t)COLS)
		layout(&pg->doc, (size_t)COLS);
	if (pg->top >= pg->doc.nlines)
		pg->top = pg->doc.nlines ? pg->doc.nlines - 1 : 0;
	erase();
	for (int y = 0; y < rows; y++) {
		size_t i = pg->top + (size_t)y;
		if (i >= pg->doc.nlines) {
			attron(ui_color_attr(C_TILDE));
			mvaddstr(y, 0, "~");
			attroff(ui_color_attr(C_TILDE));
			continue;
		}
		draw_line(&pg->doc, i, y, pg->search);
	}
	snprintf(right, sizeof(right), " %zu%% ",
		 pg->doc.nlines == 0 || pg->top + (size_t)rows >= pg->doc.nlines ? (size_t)100
		 : (pg->top + (size_t)rows) * 100 / pg->doc.nlines);
	ui_draw_bar(LINES - 2, pg->title, right);
	ui_draw_message(ui);
	refresh();
}

static void pager_search(struct ui *ui, struct pager *pg, bool again)
{
	if (!again || pg->search == NULL) {
		char *s = ui_prompt(ui, "Search for: ", NULL, NULL);
		if (s == NULL || *s == '\0') {
			free(s);
			return;
		}
		free(pg->search);
		pg->search = s;
	}
	size_t sn = strlen(pg->search);
	for (size_t i = pg->top + 1; i < pg->doc.nlines; i++) {
		const char *s = pg->doc.text.buf + pg->doc.lines[i].off;
		size_t len = pg->doc.lines[i].len;
		for (size_t k = 0; k + sn <= len; k++)
			if (strncasecmp(s + k, pg->search, sn) == 0) {
				pg->top = i;
				return;
			}
	}
	ui_message(ui, true, "Not found.");
}

/* Common scrolling keys; returns true when handled. */
static bool pager_scroll(struct pager *pg, enum ui_action a)
{
	size_t rows = LINES > 2 ? (size_t)(LINES - 2) : 1;

	switch (a) {
	case A_LINE_DOWN:
		if (pg->top + 1 < pg->doc.nlines)
			pg->top++;
		return true;
	case A_LINE_UP:
		if (pg->top)
			pg->top--;
		return true;
	case A_PREV_PAGE:
		pg->top = pg->top > rows ? pg->top - rows + 1 : 0;
		return true;
	case A_PTOP: case A_FIRST:
		pg->top = 0;
		return true;
	case A_LAST:
		pg->top = pg->doc.nlines > rows ? pg->doc.nlines - rows : 0;
		return true;
	default:
		return false;
	}
}

enum ui_action ui_pager_run(struct ui *ui, size_t i)
{
	struct message *m = ui_msg_load(ui, i);
	struct pager pg = { 0 };
	enum ui_action result = A_QUIT;
	char title[256];
	size_t rows;

	if (m == NULL)
		return A_QUIT;
	if (!(ui_msg_flags(ui, i) & STORE_SEEN) && ui_mailbox_writable(ui) && !ui->read_only)
		ui_msg_set_flags(ui, i, STORE_FLAGS_ADD, STORE_SEEN);
	/* New mail may refresh the snapshot while the pager is open: the
	 * message is followed by its UID, not by its index. */
	uint32_t uid = ui_msg_uid(ui, i);
	build_doc(ui, m, &pg.doc);
	snprintf(title, sizeof(title), "-- loft: %s  (message %zu of %zu)", ui->mb.name,
		 ui->mb.cur + 1, ui->mb.norder);
	pg.title = title;
	ui->status[0] = '\0';
	for (;;) {
		pager_draw(ui, &pg);
		struct ui_event ev = ui_getkey(ui);
		int key = ev.key;
		const struct ui_binding *b = ui_keymap_lookup(MENU_PAGER, key);
		enum ui_action a = b ? b->action : A_NONE;

		ui->status[0] = '\0';
		rows = LINES > 2 ? (size_t)(LINES - 2) : 1;
		if (ev.kind != UI_EV_KEY) {
			/* The rows may have moved under the message: follow
			 * its UID. */
			long now = ui_msg_index_of(ui, uid);
			if (now < 0)
				goto out;	/* expunged by another program */
			i = (size_t)now;
			continue;
		}
		if (pager_scroll(&pg, a))
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
			pager_search(ui, &pg, a == A_SEARCH_NEXT);
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
	doc_free(&pg.doc);
	free(pg.search);
	message_free(&m);
	return result;
}

void ui_pager_text(struct ui *ui, const char *title, const char *text, size_t len)
{
	struct pager pg = { 0 };

	add_text(&pg.doc, text, len);
	pg.title = title;
	for (;;) {
		pager_draw(ui, &pg);
		struct ui_event ev = ui_getkey(ui);
		const struct ui_binding *b = ui_keymap_lookup(MENU_PAGER, ev.key);
		enum ui_action a = b ? b->action : A_NONE;
		size_t rows = LINES > 2 ? (size_t)(LINES - 2) : 1;

		if (ev.kind != UI_EV_KEY || pager_scroll(&pg, a))
			continue;
		if (a == A_NEXT_PAGE && pg.top + rows < pg.doc.nlines) {
			pg.top += rows - 1;
			continue;
		}
		if (a == A_SEARCH || a == A_SEARCH_NEXT) {
			pager_search(ui, &pg, a == A_SEARCH_NEXT);
			continue;
		}
		break;
	}
	doc_free(&pg.doc);
	free(pg.search);
}
