/* attach: the attachment screen (v) — every leaf part with its type and
 * size; view it (text in the pager, else through mailcap), save it under
 * a safe file name, open it with its mailcap viewer (or xdg-open), or
 * pipe it to a command. */
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/message.h"

#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include "ui/curses_lazy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void draw(struct ui *ui, const struct message_part *const *v, size_t n, size_t cur)
{
	erase();
	for (size_t i = 0; i < n && (int)i < LINES - 2; i++) {
		struct sbuf line = SBUF_INIT, sb = SBUF_INIT;
		char size[8];
		const char *name = message_part_filename(v[i]);

		format_size(message_part_decoded_size(v[i]), size);
		sbuf_addf(&line, "%3zu %*s%-24s %-6s %s", i + 1, (int)message_part_depth(v[i]) * 2, "",
			  message_part_type(v[i]), size, name ? name : "");
		format_field(line.buf, line.len, (size_t)COLS, (size_t)COLS, false, &sb);
		if (i == cur)
			attron(ui_color_attr(C_INDICATOR));
		mvaddstr((int)i, 0, sb.buf);
		if (i == cur)
			attroff(ui_color_attr(C_INDICATOR));
		sbuf_release(&line);
		sbuf_release(&sb);
	}
	ui_draw_bar(LINES - 2, "-- loft: attachments  Enter:view  s:save  m:mailcap  |:pipe  q:back", "");
	ui_draw_message(ui);
	refresh();
}

/* Writes the part's content to a new temporary file; its name is returned
 * (caller unlinks and frees) or NULL. */
static char *to_temp(const struct message_part *p)
{
	char *tmpl = ui_tmpfile_template("loft-part");
	size_t len;
	const char *c = message_part_content(p, &len);
	int fd = mkstemp(tmpl);

	if (fd < 0 || write(fd, c, len) != (ssize_t)len) {
		if (fd >= 0) {
			close(fd);
			unlink(tmpl);
		}
		free(tmpl);
		return NULL;
	}
	close(fd);
	return tmpl;
}

static void save(struct ui *ui, const struct message_part *p)
{
	const char *name = message_part_filename(p);
	char *safe = path_safe_filename(name ? name : "attachment");
	char *path = ui_prompt(ui, "Save to file: ", safe, NULL);
	size_t len;
	const char *c = message_part_content(p, &len);

	free(safe);
	if (path == NULL || *path == '\0') {
		free(path);
		return;
	}
	/* Never overwrite: O_EXCL. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ui_message(ui, true, "%s: %s", path, strerror(errno));
	} else {
		if (write(fd, c, len) == (ssize_t)len && close(fd) == 0)
			ui_message(ui, false, "Saved %s", path);
		else
			ui_message(ui, true, "%s: %s", path, strerror(errno));
	}
	free(path);
}

static void run_viewer(struct ui *ui, const struct message_part *p)
{
	const struct ui_mailcap_entry *e = ui_mailcap_find(message_part_type(p), false);
	char *file = to_temp(p);
	struct sbuf cmd = SBUF_INIT;

	if (file == NULL)
		return;
	if (e) {
		bool had = false;
		for (const char *s = e->command; *s; s++) {
			if (s[0] == '%' && s[1] == 's') {
				sbuf_addf(&cmd, "'%s'", file);
				had = true;
				s++;
			} else {
				sbuf_addch(&cmd, *s);
			}
		}
		if (!had)
			sbuf_addf(&cmd, " < '%s'", file);
	} else {
		sbuf_addf(&cmd, "xdg-open '%s'", file);
	}
	ui_run_shell(ui, cmd.buf, e ? e->copiousoutput : true);
	unlink(file);
	free(file);
	sbuf_release(&cmd);
}

static void view(struct ui *ui, const struct message_part *p)
{
	const char *type = message_part_type(p);

	if (strncmp(type, "text/", 5) == 0 && strcmp(type, "text/html") != 0) {
		size_t len;
		char *t = message_part_text(p, 1, &len);
		ui_pager_text(ui, message_part_filename(p) ? message_part_filename(p) : type, t, len);
		free(t);
		return;
	}
	const struct ui_mailcap_entry *e = ui_mailcap_find(type, true);
	size_t len;
	const char *c = message_part_content(p, &len);
	struct sbuf out = SBUF_INIT;
	if (e && ui_mailcap_filter(e->command, c, len, 5000, &out) == 0) {
		ui_pager_text(ui, type, out.buf, out.len);
	} else if (strcmp(type, "text/html") == 0) {
		ui_html_strip(c, len, &out);
		ui_pager_text(ui, type, out.buf, out.len);
	} else {
		run_viewer(ui, p);
	}
	sbuf_release(&out);
}

static void pipe_part(struct ui *ui, const struct message_part *p)
{
	char *cmd = ui_prompt(ui, "Pipe to command: ", NULL, NULL);
	char *file;

	if (cmd == NULL || *cmd == '\0' || (file = to_temp(p)) == NULL) {
		free(cmd);
		return;
	}
	char *full = xasprintf("(%s) < '%s'", cmd, file);
	ui_run_shell(ui, full, true);
	unlink(file);
	free(file);
	free(full);
	free(cmd);
}

void ui_attach_run(struct ui *ui, struct message *msg)
{
	const struct message_part *const *all;
	size_t n = message_parts(msg, &all), k = 0, cur = 0;
	const struct message_part **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		if (!message_part_is_multipart(all[i]))
			v[k++] = all[i];
	ui->status[0] = '\0';
	for (;;) {
		draw(ui, v, k, cur);
		struct ui_event ev = ui_getkey(ui);
		int key = ev.key;

		if (ev.kind != UI_EV_KEY)
			continue;	/* drawn again */
		const struct ui_binding *b = ui_keymap_lookup(MENU_ATTACH, key);
		enum ui_action a = b ? b->action : A_NONE;

		ui->status[0] = '\0';
		if (a == A_QUIT)
			break;
		if (k == 0)
			continue;
		if (ui_menu_move(a, k, k, &cur))
			continue;
		switch (a) {
		case A_DISPLAY: view(ui, v[cur]); break;
		case A_SAVE_ATTACH: save(ui, v[cur]); break;
		case A_OPEN_ATTACH: run_viewer(ui, v[cur]); break;
		case A_PIPE: pipe_part(ui, v[cur]); break;
		case A_HELP: {
			struct sbuf sb = SBUF_INIT;
			ui_keymap_help(MENU_ATTACH, &sb);
			ui_pager_text(ui, "Help: attachments", sb.buf, sb.len);
			sbuf_release(&sb);
			break;
		}
		default: break;
		}
	}
	free(v);
}
