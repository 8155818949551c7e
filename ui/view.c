/* view: a document of wrapped lines on screen — the engine under the
 * message pager (ui/pager.c) and the plain text viewer (help, command
 * output): layout by cells at the window width, quoted levels, headers,
 * attachments and signatures coloured, URLs and search matches
 * highlighted, scrolling and `/` search. */
#include "ui/ui-private.h"

#include "client/format.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include "ui/curses_lazy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ui_doc_add_line(struct ui_doc *d, int kind, const char *s, size_t len)
{
	sbuf_add(&d->text, s, len);
	sbuf_addch(&d->text, '\n');
	sbuf_addch(&d->kinds, kind);
}

void ui_doc_add_text(struct ui_doc *d, const char *s, size_t len)
{
	bool sig = false;

	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t l = nl ? (size_t)(nl - s) : len;
		size_t ll = l && s[l - 1] == '\r' ? l - 1 : l;

		if (ll == 3 && memcmp(s, "-- ", 3) == 0)
			sig = true;
		ui_doc_add_line(d, sig ? UI_DOC_SIG : UI_DOC_TEXT, s, ll);
		if (nl == NULL)
			break;
		s += l + 1;
		len -= l + 1;
	}
}

static void layout(struct ui_doc *d, size_t width)
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
		d->line_kind[i] = src < d->kinds.len ? (uint8_t)d->kinds.buf[src] : UI_DOC_TEXT;
	}
}

void ui_doc_free(struct ui_doc *d)
{
	sbuf_release(&d->text);
	sbuf_release(&d->kinds);
	free(d->lines);
	free(d->line_kind);
}

static int line_attr(const struct ui_doc *d, size_t i)
{
	switch (d->line_kind[i]) {
	case UI_DOC_HEADER: return ui_color_attr(C_HEADER);
	case UI_DOC_ATTACH: return ui_color_attr(C_ATTACHMENT);
	case UI_DOC_SIG: return ui_color_attr(C_SIGNATURE);
	default: break;
	}
	unsigned q = d->lines[i].quote;
	if (q == 0)
		return 0;
	return ui_color_attr(q == 1 ? C_QUOTED : q == 2 ? C_QUOTED1 : C_QUOTED2);
}

/* Draws one wrapped line, with URLs and search matches highlighted. */
static void draw_line(const struct ui_doc *d, size_t i, int y, const char *search)
{
	const char *s = d->text.buf + d->lines[i].off;
	size_t len = d->lines[i].len, pos = 0;
	int base = line_attr(d, i);

	move(y, 0);
	while (pos < len) {
		size_t uo = len, ul = 0, so = len, sl = 0;
		struct sbuf sb = SBUF_INIT;

		if (d->line_kind[i] == UI_DOC_TEXT || d->line_kind[i] == UI_DOC_SIG)
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

/* Rows of text on screen. */
static size_t view_rows(const struct ui_view *pg)
{
	return LINES > 2 + pg->y0 ? (size_t)(LINES - 2 - pg->y0) : 1;
}

void ui_view_draw(struct ui *ui, struct ui_view *pg)
{
	char right[64];

	pg->y0 = pg->helpline ? ui_top_rows(ui) : 0;
	int rows = (int)view_rows(pg);

	if (pg->doc.width != (size_t)COLS)
		layout(&pg->doc, (size_t)COLS);
	if (pg->top >= pg->doc.nlines)
		pg->top = pg->doc.nlines ? pg->doc.nlines - 1 : 0;
	erase();
	if (pg->helpline)
		ui_draw_helpline(ui, MENU_PAGER);
	for (int y = 0; y < rows; y++) {
		size_t i = pg->top + (size_t)y;
		if (i >= pg->doc.nlines) {
			attron(ui_color_attr(C_TILDE));
			mvaddstr(pg->y0 + y, 0, "~");
			attroff(ui_color_attr(C_TILDE));
			continue;
		}
		draw_line(&pg->doc, i, pg->y0 + y, pg->search);
	}
	snprintf(right, sizeof(right), " %zu%% ",
		 pg->doc.nlines == 0 || pg->top + (size_t)rows >= pg->doc.nlines ? (size_t)100
		 : (pg->top + (size_t)rows) * 100 / pg->doc.nlines);
	ui_draw_bar(LINES - 2, pg->title, right);
	ui_draw_message(ui);
	refresh();
}

void ui_view_search(struct ui *ui, struct ui_view *pg, bool again)
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
bool ui_view_scroll(struct ui_view *pg, enum ui_action a)
{
	size_t rows = view_rows(pg);

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

void ui_pager_text(struct ui *ui, const char *title, const char *text, size_t len)
{
	struct ui_view pg = { 0 };

	ui_doc_add_text(&pg.doc, text, len);
	pg.title = title;
	for (;;) {
		ui_view_draw(ui, &pg);
		struct ui_event ev = ui_getkey(ui);
		const struct ui_binding *b = ui_keymap_lookup(MENU_PAGER, ev.key);
		enum ui_action a = b ? b->action : A_NONE;
		size_t rows = view_rows(&pg);

		if (ev.kind != UI_EV_KEY || ui_view_scroll(&pg, a))
			continue;
		if (a == A_NEXT_PAGE && pg.top + rows < pg.doc.nlines) {
			pg.top += rows - 1;
			continue;
		}
		if (a == A_SEARCH || a == A_SEARCH_NEXT) {
			ui_view_search(ui, &pg, a == A_SEARCH_NEXT);
			continue;
		}
		break;
	}
	ui_doc_free(&pg.doc);
	free(pg.search);
}
