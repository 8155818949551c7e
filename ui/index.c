/* index: the message list — one line per message in index_format, the
 * thread tree, the status bar, and the actions of the index screen.
 *
 * Only the rows on screen are formatted (their envelopes parsed on the
 * way), so drawing costs the same for 100 and for 100,000 messages. */
#include "ui/ui-private.h"

#include "client/envelope.h"
#include "client/format.h"
#include "client/mailbox.h"
#include "client/thread.h"
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
#include <unistd.h>

#define SIDEBAR_W 24

static int list_rows(struct ui *ui)
{
	return LINES > 3 ? LINES - 2 - ui_top_rows(ui) : 1;
}

static void format_row(struct ui *ui, size_t row, size_t width, struct sbuf *out)
{
	struct ui_mailbox *mb = &ui->mb;
	uint32_t i = mb->order[row];
	const struct envelope *e = ui_msg_env(ui, i);
	uint32_t fl = ui_msg_flags(ui, i);
	struct format_msg m = { 0 };
	struct sbuf tree = SBUF_INIT, line = SBUF_INIT;
	const char *fmt = config_get(ui->cfg, "index_format");

	m.number = (long)row + 1;
	m.flags = (!(fl & STORE_SEEN) ? FORMAT_F_UNREAD : 0) |
		  ((fl & STORE_DELETED) ? FORMAT_F_DELETED : 0) |
		  ((fl & STORE_FLAGGED) ? FORMAT_F_FLAGGED : 0) |
		  ((fl & STORE_ANSWERED) ? FORMAT_F_REPLIED : 0) |
		  (mb->tagged[i] ? FORMAT_F_TAGGED : 0) |
		  (!(fl & STORE_SEEN) && !(fl & STORE_RECENT) ? FORMAT_F_OLD : 0);
	m.date = e->date;
	m.received = ui_msg_received(ui, i);
	if (m.date == 0)
		m.date = m.received;
	m.from_name = e->from_name;
	m.from_addr = e->from_addr;
	m.to_name = e->to_name;
	m.to_addr = e->to_addr;
	m.subject = e->subject;
	m.size = ui_msg_size(ui, i);
	m.lines = -1;
	if (mb->thr) {
		const struct thread_node *nd = &mb->thr->nodes[i];

		thread_draw_prefix(mb->thr, i, 8, &tree);
		if (mb->collapsed[i] && nd->size > 1 && nd->parent < 0)
			sbuf_addf(&tree, "(%u) ", nd->size);
		/* A reply in the same thread with the same subject: mutt hides
		 * it, when the parent is shown above it (not hidden by a limit). */
		if (nd->parent >= 0 && ui_msg_visible(ui, (size_t)nd->parent)) {
			const struct envelope *pe = ui_msg_env(ui, (size_t)nd->parent);
			const char *a, *b;
			size_t la = thread_subject_normalize(e->subject, true, &a, NULL);
			size_t lb = thread_subject_normalize(pe->subject, true, &b, NULL);
			if (la == lb && strncmp(a, b, la) == 0)
				m.subject = "";
		}
	}
	m.tree = tree.buf;
	m.tags = ui_msg_tags(ui, i);
	format_expand(fmt, &m, NULL, &line);
	format_field(line.buf, line.len, width, width, false, out);
	sbuf_release(&tree);
	sbuf_release(&line);
}

/* The attribute of message i's row: attr (the flag colours) unless a
 * `color index` pattern matches it (bold of unread kept). */
static int color_row(struct ui *ui, size_t i, int attr)
{
	struct ui_pattern_msg pm;
	int a;

	ui_msg_pattern(ui, i, &pm);
	a = ui_color_index(&pm);
	return a < 0 ? attr : a | (attr & (int)A_BOLD);
}

void ui_index_draw(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	int rows = list_rows(ui), y0 = ui_top_rows(ui);
	int x0 = ui->sidebar && COLS >= 60 ? SIDEBAR_W : 0;
	size_t width = (size_t)(COLS - x0);
	size_t nw, fl, del;
	char left[512], right[128];

	if (mb->cur >= mb->norder)
		mb->cur = mb->norder ? mb->norder - 1 : 0;
	/* Scroll by pages, as mutt does, keeping the cursor visible. */
	if (mb->cur < mb->top || mb->cur >= mb->top + (size_t)rows)
		mb->top = mb->cur - mb->cur % (size_t)rows;
	erase();
	ui_draw_helpline(ui, MENU_INDEX);
	if (x0)
		ui_sidebar_draw(ui, y0, rows, SIDEBAR_W);
	for (int y = 0; y < rows; y++) {
		size_t row = mb->top + (size_t)y;
		struct sbuf sb = SBUF_INIT;
		int attr = 0;

		if (row >= mb->norder) {
			attron(ui_color_attr(C_TILDE));
			mvaddstr(y0 + y, x0, "~");
			attroff(ui_color_attr(C_TILDE));
			continue;
		}
		uint32_t i = mb->order[row];
		uint32_t f = ui_msg_flags(ui, i);

		format_row(ui, row, width, &sb);
		if (f & STORE_DELETED)
			attr = ui_color_attr(C_DELETED);
		else if (mb->tagged[i])
			attr = ui_color_attr(C_TAGGED);
		else if (f & STORE_FLAGGED)
			attr = ui_color_attr(C_FLAGGED);
		if (!(f & STORE_SEEN))
			attr |= ui_color_attr(C_NEW);
		attr = color_row(ui, i, attr);
		if (row == mb->cur)
			attr = ui_color_attr(C_INDICATOR) | (attr & A_BOLD);
		attron(attr);
		mvaddstr(y0 + y, x0, sb.buf);
		attroff(attr);
		sbuf_release(&sb);
	}
	ui_mailbox_counts(ui, &nw, &fl, &del);
	/* Queued: outgoing mail still waiting (ui/queue.c), the folder's or not. */
	char queued[32] = "";
	if (ui->queued)
		snprintf(queued, sizeof(queued), " Queued:%zu", ui->queued);
	snprintf(left, sizeof(left), "-%s%s %s [Msgs:%zu New:%zu Flag:%zu Del:%zu%s]%s%s%s",
		 ui->tag_prefix ? ";" : "-", ui->read_only ? "%" : "-", mb->name ? mb->name : "", mb->n,
		 nw, fl, del, queued, mb->limit ? " (limit: " : "",
		 mb->limit ? mb->limit : "", mb->limit ? ")" : "");
	if (mb->limit)
		snprintf(right, sizeof(right), " %zu/%zu shown ", mb->norder, mb->n);
	else
		snprintf(right, sizeof(right), " (%s%s) %zu%% ",
			 ui_mailbox_virtual(ui) && mb->arrival ? "newest first" :
			 ui->sort == SORT_THREADS ? "threads" : ui->sort == SORT_DATE ? "date" :
			 ui->sort == SORT_FROM ? "from" : ui->sort == SORT_SUBJECT ? "subject" : "size",
			 ui->reverse && !(ui_mailbox_virtual(ui) && mb->arrival) ? "/rev" : "",
			 mb->norder ? (mb->top + (size_t)rows >= mb->norder ? 100 :
				       (mb->top + (size_t)rows) * 100 / mb->norder) : 100);
	ui_draw_bar(LINES - 2, left, right);
	ui_draw_message(ui);
	refresh();
}

/* ---- actions ---- */

static size_t cur_msg(struct ui *ui)
{
	return ui->mb.order[ui->mb.cur];
}

/* The messages an action applies to: the tagged ones after tag-prefix,
 * else the current one.  Returns the count; *v_r caller frees. */
static size_t targets(struct ui *ui, uint32_t **v_r)
{
	struct ui_mailbox *mb = &ui->mb;
	uint32_t *v = xcalloc(mb->n + 1, sizeof(*v));
	size_t n = 0;

	if (ui->tag_prefix) {
		for (size_t r = 0; r < mb->norder; r++)
			if (mb->tagged[mb->order[r]])
				v[n++] = mb->order[r];
		ui->tag_prefix = false;
	} else if (mb->norder) {
		v[n++] = (uint32_t)cur_msg(ui);
	}
	*v_r = v;
	return n;
}

static void move_next(struct ui *ui)
{
	if (ui->mb.cur + 1 < ui->mb.norder)
		ui->mb.cur++;
}

/* A toggle (F, N) turns each message's flag the other way, so a tagged set
 * is at most two store calls: the rows to set and the rows to clear. */
static void flag_action(struct ui *ui, enum ui_action a)
{
	uint32_t *v, *clear;
	size_t n = targets(ui, &v), nset = 0, nclear = 0;
	uint32_t bit = a == A_FLAG ? STORE_FLAGGED : a == A_TOGGLE_NEW ? STORE_SEEN : STORE_DELETED;

	clear = xcalloc(n + 1, sizeof(*clear));
	for (size_t k = 0; k < n; k++) {
		bool on = a == A_DELETE ? false : a == A_UNDELETE ? true
			: (ui_msg_flags(ui, v[k]) & bit) != 0;

		if (on)
			clear[nclear++] = v[k];
		else
			v[nset++] = v[k];
	}
	ui_msgs_set_flags(ui, v, nset, STORE_FLAGS_ADD, bit);
	ui_msgs_set_flags(ui, clear, nclear, STORE_FLAGS_REMOVE, bit);
	if (n == 1 && (a == A_DELETE || a == A_UNDELETE))
		move_next(ui);
	free(clear);
	free(v);
}

static void save_action(struct ui *ui, bool copy)
{
	char *name = ui_prompt(ui, copy ? "Copy to folder: " : "Save to folder: ", "+",
			       ui_complete_folder);
	const char *err;
	uint32_t *v;
	size_t n;
	struct mailbox *dst;
	char *where;
	bool moves;

	if (name == NULL || !ui_mailbox_writable(ui)) {
		free(name);
		return;
	}
	/* "+F" on an IMAP folder is F on its account: copied by the server. */
	where = mailbox_resolve(ui->mb.box, name, false);
	dst = ui_box_open(ui, where, MAILBOX_OPEN_TARGET, &err);
	free(where);
	if (dst == NULL) {
		ui_message(ui, true, "%s", err);
		free(name);
		return;
	}
	n = targets(ui, &v);
	/* A server moves at once (MOVE); a store's s copies and marks, as
	 * mutt does. */
	moves = !copy && (mailbox_caps(ui->mb.box) & MAILBOX_CAP_MOVE);
	if (moves) {
		if (mailbox_move(ui->mb.box, v, n, dst, &err) < 0)
			ui_message(ui, true, "%s", err);
		else
			ui_message(ui, false, "%zu message%s moved to %s", n, n == 1 ? "" : "s",
				   name);
	} else if (mailbox_copy(ui->mb.box, v, n, dst, 0, &err) < 0) {
		/* One transaction for the whole set; on failure nothing was
		 * copied. */
		ui_message(ui, true, "%s", err);
	} else {
		/* mutt's save marks the originals deleted; expunged on leaving. */
		if (!copy && ui_msgs_set_flags(ui, v, n, STORE_FLAGS_ADD, STORE_DELETED) == 0)
			for (size_t k = 0; k < n; k++)
				ui->mb.deleted_here[v[k]] = UI_DEL_SAVED;
		ui_message(ui, false, "%zu message%s %s to %s", n, n == 1 ? "" : "s",
			   copy ? "copied" : "saved", name);
		if (!copy && n == 1)
			move_next(ui);
	}
	mailbox_close(&dst);
	free(v);
	free(name);
}

static bool row_matches(struct ui *ui, size_t row, const char *pat)
{
	struct ui_pattern_msg pm;

	ui_msg_pattern(ui, ui->mb.order[row], &pm);
	return ui_pattern_match(pat, &pm);
}

static void search_action(struct ui *ui, bool again)
{
	const char *err;

	if (!again || ui->last_search == NULL) {
		char *pat = ui_prompt(ui, "Search for: ", NULL, NULL);
		if (pat == NULL || *pat == '\0') {
			free(pat);
			return;
		}
		if (ui_pattern_check(pat, &err) < 0) {
			ui_message(ui, true, "%s", err);
			free(pat);
			return;
		}
		free(ui->last_search);
		ui->last_search = pat;
	}
	for (size_t k = 1; k <= ui->mb.norder; k++) {
		size_t row = (ui->mb.cur + k) % ui->mb.norder;

		if (row_matches(ui, row, ui->last_search)) {
			if (row <= ui->mb.cur)
				ui_message(ui, false, "Search wrapped to top.");
			ui->mb.cur = row;
			return;
		}
	}
	ui_message(ui, true, "Not found.");
}

static void limit_action(struct ui *ui)
{
	char *pat = ui_prompt(ui, "Limit to messages matching: ", ui->mb.limit, NULL);
	const char *err;

	if (pat == NULL)
		return;
	if (*pat && ui_pattern_check(pat, &err) < 0) {
		ui_message(ui, true, "%s", err);
		free(pat);
		return;
	}
	free(ui->mb.limit);
	ui->mb.limit = NULL;
	if (*pat && strcmp(pat, "all") != 0 && strcmp(pat, "~A") != 0)
		ui->mb.limit = pat;
	else
		free(pat);
	ui_mailbox_resort(ui);
	if (ui->mb.norder == 0)
		ui_message(ui, true, "No messages matched the limit.");
}

/* o, and O (mutt's sort-reverse: the order chosen, reversed). */
static void sort_action(struct ui *ui, bool rev)
{
	int c = ui_choice(ui, rev ? "Rev-Sort (d)ate/(f)rom/(s)ubject/si(z)e/(t)hreads: " :
			  "Sort (d)ate/(f)rom/(s)ubject/si(z)e/(t)hreads, (r)everse: ",
			  rev ? "dfszt" : "dfsztr");

	switch (c) {
	case 'd': ui->sort = SORT_DATE; break;
	case 'f': ui->sort = SORT_FROM; break;
	case 's': ui->sort = SORT_SUBJECT; break;
	case 'z': ui->sort = SORT_SIZE; break;
	case 't': ui->sort = SORT_THREADS; break;
	case 'r': ui->reverse = !ui->reverse; break;
	default: return;
	}
	if (rev)
		ui->reverse = true;
	ui->mb.arrival = false;	/* a search: sorted from now on (once all is in) */
	ui_mailbox_resort(ui);
}

static void pipe_action(struct ui *ui)
{
	char *cmd = ui_prompt(ui, "Pipe to command: ", NULL, NULL);
	struct message *m;

	if (cmd == NULL || *cmd == '\0' || ui->mb.norder == 0) {
		free(cmd);
		return;
	}
	m = ui_msg_load(ui, cur_msg(ui));
	if (m) {
		size_t len;
		const char *raw = message_raw(m, &len);
		char *tmpl = ui_tmpfile_template("loft-pipe");
		int fd = mkstemp(tmpl);

		if (fd >= 0) {
			if (write(fd, raw, len) == (ssize_t)len) {
				char *full = xasprintf("(%s) < '%s'", cmd, tmpl);
				ui_run_shell(ui, full, true);
				free(full);
			}
			close(fd);
			unlink(tmpl);
		}
		free(tmpl);
		message_free(&m);
	}
	free(cmd);
}

static bool leave_folder(struct ui *ui)
{
	ui_mailbox_purge(ui);
	return true;
}

static void change_folder(struct ui *ui, char *name)
{
	const char *err;

	if (name == NULL || *name == '\0') {
		free(name);
		return;
	}
	leave_folder(ui);
	if (ui_mailbox_open(ui, name, &err) < 0)
		ui_message(ui, true, "%s", err);
	free(name);
}

static void collapse(struct ui *ui, bool all)
{
	struct ui_mailbox *mb = &ui->mb;

	if (mb->thr == NULL || mb->norder == 0) {
		ui_message(ui, true, "Threading is not enabled (o t).");
		return;
	}
	if (all) {
		bool any = false;
		for (size_t i = 0; i < mb->n; i++)
			any |= mb->collapsed[i];
		for (size_t i = 0; i < mb->n; i++)
			mb->collapsed[i] = !any && mb->thr->nodes[i].parent < 0;
	} else {
		uint32_t root = (uint32_t)mb->thr->nodes[cur_msg(ui)].root;
		mb->collapsed[root] = !mb->collapsed[root];
		/* Keep the cursor on the thread's top. */
		for (size_t r = 0; r < mb->norder; r++)
			if (mb->order[r] == root)
				mb->cur = r;
	}
	ui_mailbox_resort(ui);
}

static void next_unread(struct ui *ui)
{
	for (size_t r = ui->mb.cur + 1; r < ui->mb.norder; r++)
		if (!(ui_msg_flags(ui, ui->mb.order[r]) & STORE_SEEN)) {
			ui->mb.cur = r;
			return;
		}
	ui_message(ui, true, "No unread messages.");
}

static void next_thread(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;

	if (mb->thr == NULL)
		return;
	for (size_t r = mb->cur + 1; r < mb->norder; r++)
		if (mb->thr->nodes[mb->order[r]].parent < 0) {
			mb->cur = r;
			return;
		}
}

/* Runs a key through the index's key map; returns false to leave. */
static bool index_key(struct ui *ui, int key)
{
	struct ui_mailbox *mb = &ui->mb;
	const struct ui_binding *b = ui_keymap_lookup(MENU_INDEX, key);
	size_t rows = (size_t)list_rows(ui);
	enum ui_action a = b ? b->action : A_NONE;

	if (b && b->macro) {
		for (const char *p = b->macro; *p; p++)
			ungetch(*p);
		return true;
	}
	ui->status[0] = '\0';
	bool empty = mb->norder == 0;
	switch (a) {
	case A_NEXT: move_next(ui); break;
	case A_PREV: if (mb->cur) mb->cur--; break;
	case A_FIRST: mb->cur = 0; break;
	case A_LAST: mb->cur = mb->norder ? mb->norder - 1 : 0; break;
	case A_NEXT_PAGE:
		if (mb->top + rows < mb->norder) {
			mb->top += rows;
			mb->cur = mb->top;
		} else if (mb->norder) {
			mb->cur = mb->norder - 1;
		}
		break;
	case A_PREV_PAGE:
		mb->top = mb->top > rows ? mb->top - rows : 0;
		mb->cur = mb->top;
		break;
	case A_QUIT:
		leave_folder(ui);
		return false;
	case A_EXIT:
		return false;
	case A_DISPLAY:
		if (empty)
			break;
		for (;;) {
			enum ui_action r = ui_pager_run(ui, cur_msg(ui));
			if (r == A_NEXT && mb->cur + 1 < mb->norder)
				mb->cur++;
			else if (r == A_PREV && mb->cur > 0)
				mb->cur--;
			else
				break;
		}
		break;
	case A_DELETE: case A_UNDELETE: case A_FLAG: case A_TOGGLE_NEW:
		if (!empty)
			flag_action(ui, a);
		break;
	case A_TAG:
		if (!empty) {
			mb->tagged[cur_msg(ui)] ^= 1;
			move_next(ui);
		}
		break;
	case A_TAG_PREFIX:
		ui->tag_prefix = !ui->tag_prefix;
		break;
	case A_SAVE: case A_COPY:
		if (!empty)
			save_action(ui, a == A_COPY);
		break;
	case A_SEARCH: case A_SEARCH_NEXT:
		if (!empty)
			search_action(ui, a == A_SEARCH_NEXT);
		break;
	case A_LIMIT: limit_action(ui); break;
	case A_SORT: case A_SORT_REVERSE: sort_action(ui, a == A_SORT_REVERSE); break;
	case A_SYNC: ui_mailbox_purge(ui); break;
	case A_HELP: {
		struct sbuf sb = SBUF_INIT;
		ui_keymap_help(MENU_INDEX, &sb);
		ui_pager_text(ui, "Help: index", sb.buf, sb.len);
		sbuf_release(&sb);
		break;
	}
	case A_PIPE: pipe_action(ui); break;
	case A_CHANGE_FOLDER: change_folder(ui, ui_folder_prompt(ui)); break;
	case A_BROWSER: change_folder(ui, ui_folders_run(ui)); break;
	case A_JUMP:
		/* Bound to a digit: the number starts with it. */
		if (key >= '1' && key <= '9')
			ui_jump(ui, key);
		break;
	case A_ENTER_COMMAND: ui_enter_command(ui); break;
	case A_TAG_PATTERN: case A_DELETE_PATTERN: case A_UNDELETE_PATTERN:
		ui_pattern_action(ui, a);
		break;
	case A_VFOLDER: {
		char *q = ui_prompt(ui, "Search all mail (notmuch query): ", NULL, NULL);
		if (q && *q)
			change_folder(ui, xasprintf("search:%s", q));
		free(q);
		break;
	}
	case A_COLLAPSE: case A_COLLAPSE_ALL: collapse(ui, a == A_COLLAPSE_ALL); break;
	case A_NEXT_UNREAD: next_unread(ui); break;
	case A_NEXT_THREAD: next_thread(ui); break;
	case A_MAIL: ui_compose(ui, UI_NEW, 0); break;
	case A_REPLY: case A_GROUP_REPLY: case A_LIST_REPLY: case A_FORWARD:
		if (!empty)
			ui_compose(ui, a == A_REPLY ? UI_REPLY : a == A_GROUP_REPLY ? UI_GROUP_REPLY :
				   a == A_LIST_REPLY ? UI_LIST_REPLY : UI_FORWARD, cur_msg(ui));
		break;
	case A_RECALL: ui_compose(ui, UI_RESUME, 0); break;
	case A_RESEND:
		if (!empty)
			ui_compose(ui, UI_RESEND, cur_msg(ui));
		break;
	case A_BOUNCE:
		if (!empty)
			ui_bounce(ui, cur_msg(ui));
		break;
	case A_VIEW_ATTACH:
		if (!empty) {
			struct message *m = ui_msg_load(ui, cur_msg(ui));
			if (m) {
				ui_attach_run(ui, m);
				message_free(&m);
			}
		}
		break;
	case A_TOGGLE_SIDEBAR: ui->sidebar = !ui->sidebar; break;
	case A_REDRAW: clearok(curscr, TRUE); break;
	case A_MODIFY_TAGS:
		if (!empty) {
			uint32_t *v;
			size_t n = targets(ui, &v);
			ui_tags_modify(ui, v, n);
			free(v);
		}
		break;
	default:
		ui_message(ui, true, "Key is not bound.  Press '?' for help.");
		break;
	}
	return true;
}

void ui_index_run(struct ui *ui)
{
	/* Prompts opened from here (and from the screens above it) have the
	 * index drawn under them. */
	ui->redraw = ui_index_draw;
	/* The queue is counted by a `loft queue list` run (~20 ms): in the
	 * background, so the first screen does not wait for it. */
	ui_queue_count_start(ui);
	for (;;) {
		ui_index_draw(ui);
		ui->in_index = true;
		struct ui_event ev = ui_getkey(ui);
		ui->in_index = false;
		/* Anything but a key: the next draw shows it. */
		if (ev.kind == UI_EV_KEY && !index_key(ui, ev.key))
			break;
	}
	ui->redraw = NULL;
}
