/* prompt: line editing on the bottom row (with Tab completion), yes/no
 * questions, one-key choices, and the completers for folder names and
 * addresses.  Ctrl-G or Esc cancels everywhere. */
#include "ui/ui-private.h"

#include "client/format.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include "ui/curses_lazy.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static void draw_prompt(const char *question, const struct sbuf *text)
{
	struct sbuf sb = SBUF_INIT;
	size_t qw = format_width(question), cols = (size_t)COLS;
	size_t tw = format_width(text->buf);
	const char *shown = text->buf;

	/* Keep the end of a long answer visible. */
	while (qw + tw + 1 > cols && *shown) {
		size_t l = 1;
		while ((shown[l] & 0xc0) == 0x80)
			l++;
		tw -= format_width_n(shown, l);
		shown += l;
	}
	sbuf_addstr(&sb, question);
	sbuf_addstr(&sb, shown);
	move(LINES - 1, 0);
	clrtoeol();
	struct sbuf cut = SBUF_INIT;
	format_truncate(sb.buf, sb.len, cols - 1, false, &cut);
	addstr(cut.buf);
	sbuf_release(&cut);
	sbuf_release(&sb);
	curs_set(1);
	refresh();
}

char *ui_prompt(struct ui *ui, const char *question, const char *initial,
		char *(*complete)(struct ui *ui, const char *text))
{
	return ui_prompt_list(ui, question, initial, complete, NULL);
}

char *ui_prompt_list(struct ui *ui, const char *question, const char *initial,
		     char *(*complete)(struct ui *ui, const char *text),
		     char *(*list)(struct ui *ui))
{
	struct sbuf text = SBUF_INIT;

	if (initial)
		sbuf_addstr(&text, initial);
	for (;;) {
		draw_prompt(question, &text);
		struct ui_event ev = ui_getkey(ui);
		int k = ui_event_key(ev);

		if (ev.kind != UI_EV_KEY) {
			/* The screen under the prompt shows the change. */
			ui_redraw(ui);
			continue;
		}
		if (k == 7 || k == 27) {	/* ^G, Esc */
			sbuf_release(&text);
			curs_set(0);
			move(LINES - 1, 0);
			clrtoeol();
			return NULL;
		}
		if (k == '\r' || k == '\n' || k == UK(KEY_ENTER))
			break;
		if (k == UK(KEY_BACKSPACE) || k == 127 || k == 8) {
			while (text.len > 0 && (text.buf[text.len - 1] & 0xc0) == 0x80)
				text.len--;
			if (text.len > 0)
				text.len--;
			sbuf_setlen(&text, text.len);
		} else if (k == 21) {	/* ^U */
			sbuf_reset(&text);
		} else if (k == '?' && list) {
			/* Leaving the list without a choice cancels, as mutt's
			 * browser does. */
			sbuf_release(&text);
			curs_set(0);
			return list(ui);
		} else if (k == '\t' && complete) {
			char *c = complete(ui, text.buf);
			if (c) {
				sbuf_reset(&text);
				sbuf_addstr(&text, c);
				free(c);
			}
		} else if (k >= ' ' && k < 0x110000) {
			char mb[8];
			mbstate_t st = { 0 };
			size_t l = wcrtomb(mb, (wchar_t)k, &st);
			if (l != (size_t)-1)
				sbuf_add(&text, mb, l);
		}
	}
	curs_set(0);
	move(LINES - 1, 0);
	clrtoeol();
	return sbuf_detach(&text, NULL);
}

bool ui_yesno(struct ui *ui, const char *question, bool def)
{
	struct sbuf q = SBUF_INIT;
	int k;

	sbuf_addf(&q, "%s ([%s]/%s): ", question, def ? "yes" : "no", def ? "no" : "yes");
	for (;;) {
		struct sbuf empty = SBUF_INIT;
		draw_prompt(q.buf, &empty);
		k = ui_event_key(ui_getkey(ui));
		if (k == 'y' || k == 'Y' || k == 'n' || k == 'N' || k == '\r' || k == 7 || k == 27)
			break;
	}
	sbuf_release(&q);
	curs_set(0);
	move(LINES - 1, 0);
	clrtoeol();
	if (k == '\r')
		return def;
	return k == 'y' || k == 'Y';
}

int ui_choice(struct ui *ui, const char *question, const char *choices)
{
	for (;;) {
		struct sbuf empty = SBUF_INIT;
		draw_prompt(question, &empty);
		int k = ui_event_key(ui_getkey(ui));

		curs_set(0);
		if (k == 7 || k == 27)
			return 0;
		if (k > 0 && k < 128 && strchr(choices, k))
			return k;
	}
}

/* Longest common prefix completion over candidates (file names compare
 * case-sensitively: exact). */
static char *complete_from(const char *text, const char *prefix_out, char **cands, size_t n,
			   bool exact)
{
	size_t tl = strlen(text), best_len = 0;
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if ((exact ? strncmp : strncasecmp)(cands[i], text, tl) != 0)
			continue;
		if (best == NULL) {
			best = cands[i];
			best_len = strlen(best);
		} else {
			size_t k = 0;
			while (k < best_len && best[k] == cands[i][k])
				k++;
			best_len = k;
		}
	}
	if (best == NULL)
		return NULL;
	return xasprintf("%s%.*s", prefix_out, (int)best_len, best);
}

char *ui_complete_folder(struct ui *ui, const char *text)
{
	struct mailbox_folder *list;
	size_t n;
	const char *err;
	char *res;
	bool plus = text[0] == '+' || text[0] == '=';

	/* The open mailbox's folders: on an IMAP folder, its account's. */
	if (mailbox_folders(ui->mb.box, &ui->env, MAILBOX_FOLDERS_CACHED, false, NULL, &list, &n,
			    &err) < 0)
		return NULL;
	char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = list[i].name;
	res = complete_from(text + plus, plus ? "+" : "", names, n, false);
	free(names);
	mailbox_folders_free(list, n);
	return res;
}

char *ui_complete_file(struct ui *ui, const char *text)
{
	const char *slash = strrchr(text, '/'), *home = getenv("HOME");
	char *dir, **names = NULL, *res;
	size_t n = 0, dl = slash ? (size_t)(slash - text) + 1 : 0;
	DIR *d;
	struct dirent *de;

	(void)ui;
	/* The directory part as typed ("~/" read as $HOME), "." when none. */
	if (dl == 0)
		dir = xstrdup(".");
	else if (text[0] == '~' && text[1] == '/' && home)
		dir = xasprintf("%s/%.*s", home, (int)(dl - 2), text + 2);
	else
		dir = xstrndup(text, dl);
	d = opendir(dir);
	if (d == NULL) {
		free(dir);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (de->d_name[0] == '.' && text[dl] != '.'))
			continue;
		if (strncmp(de->d_name, text + dl, strlen(text + dl)) != 0)
			continue;
		/* A directory ends with '/' so that Tab goes on into it. */
		struct stat st;
		char *full = xasprintf("%s/%s", dir, de->d_name);
		bool is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
		free(full);
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s%s", de->d_name, is_dir ? "/" : "");
	}
	closedir(d);
	free(dir);
	char *head = xstrndup(text, dl);
	res = complete_from(text + dl, head, names, n, true);
	free(head);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return res;
}

/* The last notmuch completion, so that Tab again cycles through it. */
static struct {
	char **v;
	size_t n, k;
	char *head;		/* the text before the completed word */
	char *shown;		/* what the last Tab produced */
} cyc;

static void cyc_free(void)
{
	for (size_t i = 0; i < cyc.n; i++)
		free(cyc.v[i]);
	free(cyc.v);
	free(cyc.head);
	free(cyc.shown);
	memset(&cyc, 0, sizeof(cyc));
}

char *ui_complete_address(struct ui *ui, const char *text)
{
	/* Complete the last address of a comma-separated list: an alias
	 * first, else the addresses notmuch has seen (Tab again: the next). */
	const char *last = strrchr(text, ',');
	const char *word = last ? last + 1 : text;
	while (*word == ' ')
		word++;
	if (*word == '\0')
		return NULL;
	const char *addr = config_alias(ui->cfg, word);
	if (addr)
		return xasprintf("%.*s%s", (int)(word - text), text, addr);
	if (cyc.shown && strcmp(cyc.shown, text) == 0 && cyc.n > 1) {
		cyc.k = (cyc.k + 1) % cyc.n;
	} else {
		cyc_free();
		cyc.n = ui_notmuch_addresses(ui, word, 20, &cyc.v);
		if (cyc.n == 0)
			return NULL;
		cyc.head = xstrndup(text, (size_t)(word - text));
	}
	free(cyc.shown);
	cyc.shown = xasprintf("%s%s", cyc.head, cyc.v[cyc.k]);
	return xstrdup(cyc.shown);
}

void ui_complete_free(void)
{
	cyc_free();
}
