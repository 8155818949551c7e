/* keymap: action names, key names, mutt's default bindings, and the
 * mailrc's `bind` and `macro` lines on top (stored and checked by
 * lib/config; given their meaning here). */
#include "ui/ui-private.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include "ui/curses_lazy.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One more slot than actions: the NULL that ends the list for config_ui_checks. */
static const char *const action_names[A_COUNT + 1] = {
	[A_NONE] = "noop", [A_NEXT] = "next-entry", [A_PREV] = "previous-entry",
	[A_DISPLAY] = "display-message", [A_QUIT] = "quit", [A_EXIT] = "exit",
	[A_DELETE] = "delete-message", [A_UNDELETE] = "undelete-message",
	[A_FLAG] = "flag-message", [A_TOGGLE_NEW] = "toggle-new", [A_TAG] = "tag-entry",
	[A_TAG_PREFIX] = "tag-prefix", [A_SAVE] = "save-message", [A_COPY] = "copy-message",
	[A_MAIL] = "mail", [A_REPLY] = "reply", [A_GROUP_REPLY] = "group-reply",
	[A_LIST_REPLY] = "list-reply", [A_FORWARD] = "forward-message", [A_SEARCH] = "search",
	[A_SEARCH_NEXT] = "search-next", [A_LIMIT] = "limit", [A_SYNC] = "sync-mailbox",
	[A_HELP] = "help", [A_VIEW_ATTACH] = "view-attachments", [A_FIRST] = "first-entry",
	[A_LAST] = "last-entry", [A_NEXT_PAGE] = "next-page", [A_PREV_PAGE] = "previous-page",
	[A_HALF_DOWN] = "half-down", [A_NEXT_UNREAD] = "next-unread",
	[A_NEXT_THREAD] = "next-thread", [A_PIPE] = "pipe-message",
	[A_CHANGE_FOLDER] = "change-folder", [A_SORT] = "sort-mailbox",
	[A_COLLAPSE] = "collapse-thread", [A_COLLAPSE_ALL] = "collapse-all",
	[A_RECALL] = "recall-message", [A_VFOLDER] = "vfolder-from-query",
	[A_REDRAW] = "redraw-screen", [A_LINE_DOWN] = "next-line", [A_LINE_UP] = "previous-line",
	[A_PTOP] = "top", [A_PBOTTOM] = "bottom", [A_SAVE_ATTACH] = "save-entry",
	[A_OPEN_ATTACH] = "view-mailcap", [A_SEND] = "send-message", [A_ATTACH_FILE] = "attach-file",
	[A_DETACH] = "detach-file", [A_EDIT] = "edit-message", [A_POSTPONE] = "postpone-message",
	[A_TOGGLE_SIDEBAR] = "sidebar-toggle-visible", [A_MIDDLE] = "current-middle",
	[A_MODIFY_TAGS] = "modify-labels", [A_JUMP] = "jump", [A_ENTER_COMMAND] = "enter-command",
	[A_TAG_PATTERN] = "tag-pattern", [A_DELETE_PATTERN] = "delete-pattern",
	[A_UNDELETE_PATTERN] = "undelete-pattern", [A_SORT_REVERSE] = "sort-reverse",
	[A_BROWSER] = "browse-folders", [A_FULL_HEADERS] = "display-toggle-weed",
	[A_EDIT_TO] = "edit-to", [A_EDIT_CC] = "edit-cc", [A_EDIT_BCC] = "edit-bcc",
	[A_EDIT_SUBJECT] = "edit-subject", [A_BOUNCE] = "bounce-message",
	[A_RESEND] = "resend-message",
};

const char *ui_action_name(enum ui_action a)
{
	return a < A_COUNT ? action_names[a] : NULL;
}

enum ui_action ui_action_parse(const char *name)
{
	for (int a = 1; a < A_COUNT; a++)
		if (action_names[a] && strcmp(action_names[a], name) == 0)
			return (enum ui_action)a;
	return A_NONE;
}

static const struct {
	const char *name;
	int key;
} key_names[] = {
	{ "<up>", UK(KEY_UP) }, { "<down>", UK(KEY_DOWN) }, { "<left>", UK(KEY_LEFT) },
	{ "<right>", UK(KEY_RIGHT) }, { "<home>", UK(KEY_HOME) }, { "<end>", UK(KEY_END) },
	{ "<pageup>", UK(KEY_PPAGE) }, { "<pagedown>", UK(KEY_NPAGE) }, { "<enter>", '\r' },
	{ "<return>", '\r' }, { "<tab>", '\t' }, { "<space>", ' ' }, { "<esc>", 27 },
	{ "<backspace>", UK(KEY_BACKSPACE) }, { "<delete>", UK(KEY_DC) }, { "<insert>", UK(KEY_IC) },
	{ "<backtab>", UK(KEY_BTAB) },
};

int ui_key_parse(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return -1;
	if (strncasecmp(s, "<esc>", 5) == 0 && n > 5) {
		int k = ui_key_parse(s + 5);
		return k < 0 || (k & UI_META) ? -1 : UI_META | k;
	}
	if (s[0] == '\\' && s[1] == 'e' && n > 2) {
		int k = ui_key_parse(s + 2);
		return k < 0 || (k & UI_META) ? -1 : UI_META | k;
	}
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (strcasecmp(s, key_names[i].name) == 0)
			return key_names[i].key;
	if (strncasecmp(s, "<f", 2) == 0 && s[n - 1] == '>') {
		int f = atoi(s + 2);
		return f >= 1 && f <= 24 ? UK(KEY_F(f)) : -1;
	}
	if ((s[0] == '^' || (s[0] == '\\' && (s[1] == 'C' || s[1] == 'c'))) &&
	    n == (s[0] == '^' ? 2u : 3u)) {
		int c = tolower((unsigned char)s[n - 1]);
		return c >= 'a' && c <= 'z' ? c - 'a' + 1 : -1;
	}
	if (s[0] == '\\' && n == 2) {
		if (s[1] == 'n' || s[1] == 'r')
			return '\r';
		if (s[1] == 't')
			return '\t';
		return (unsigned char)s[1];
	}
	if (n == 1)
		return (unsigned char)s[0];
	/* One UTF-8 character. */
	wchar_t wc;
	mbstate_t st = { 0 };
	size_t l = mbrtowc(&wc, s, n, &st);
	return l == n ? (int)wc : -1;
}

void ui_key_name(int key, struct sbuf *out)
{
	if (key & UI_META) {
		sbuf_addstr(out, "Esc-");
		key &= ~UI_META;
	}
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (key_names[i].key == key) {
			sbuf_addstr(out, key_names[i].name);
			return;
		}
	if (key >= UK(KEY_F(1)) && key <= UK(KEY_F(24)))
		sbuf_addf(out, "<F%d>", key - UK(KEY_F(0)));
	else if (key & UI_FN)
		sbuf_addf(out, "<key%o>", key & ~UI_FN);
	else if (key > 0 && key < 32)
		sbuf_addf(out, "^%c", key + '@');
	else if (key < 128)
		sbuf_addch(out, key);
	else {
		char mb[8];
		mbstate_t st = { 0 };
		size_t l = wcrtomb(mb, (wchar_t)key, &st);
		if (l != (size_t)-1)
			sbuf_add(out, mb, l);
	}
}

static const char *const menu_names[MENU_COUNT] = { "index", "pager", "attach", "compose", "browser" };

int ui_menu_parse(const char *s)
{
	int set = 0;
	char *copy = xstrdup(s), *save = NULL;

	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int found = -1;

		if (strcmp(w, "generic") == 0) {
			set |= (1 << MENU_COUNT) - 1;
			continue;
		}
		for (int m = 0; m < MENU_COUNT; m++)
			if (strcmp(w, menu_names[m]) == 0)
				found = m;
		if (found < 0) {
			free(copy);
			return -1;
		}
		set |= 1 << found;
	}
	free(copy);
	return set ? set : -1;
}

struct keymap {
	struct ui_binding *b;
	size_t n, alloc;
};
static struct keymap maps[MENU_COUNT];

static void bind_key(enum ui_menu m, int key, enum ui_action a, const char *macro)
{
	struct keymap *km = &maps[m];

	for (size_t i = 0; i < km->n; i++)
		if (km->b[i].key == key) {
			free(km->b[i].macro);
			km->b[i].action = a;
			km->b[i].macro = macro ? xstrdup(macro) : NULL;
			return;
		}
	if (km->n == km->alloc) {
		km->alloc = km->alloc ? km->alloc * 2 : 64;
		km->b = xreallocarray(km->b, km->alloc, sizeof(*km->b));
	}
	km->b[km->n++] = (struct ui_binding){ key, a, macro ? xstrdup(macro) : NULL };
}

/* Mutt's defaults, per menu; "*" is every menu with a list (generic). */
static const struct {
	const char *menus;
	const char *key;
	enum ui_action a;
} defaults[] = {
	{ "index,attach,browser,compose", "j", A_NEXT }, { "index,attach,browser,compose", "<down>", A_NEXT },
	{ "index,attach,browser,compose", "k", A_PREV }, { "index,attach,browser,compose", "<up>", A_PREV },
	{ "index,attach,browser,compose,pager", "<home>", A_FIRST },
	{ "index,attach,browser,compose,pager", "<end>", A_LAST },
	{ "index,browser", "*", A_LAST }, { "index,browser", "=", A_FIRST },
	{ "index,attach,browser,compose", "<pagedown>", A_NEXT_PAGE },
	{ "index,attach,browser,compose", "<pageup>", A_PREV_PAGE },
	{ "index,attach,browser,compose", ">", A_NEXT_PAGE },
	{ "index,attach,browser,compose", "<", A_PREV_PAGE },
	{ "index,browser", "<space>", A_NEXT_PAGE }, { "index", "-", A_PREV_PAGE },
	{ "index,pager,attach,browser,compose", "?", A_HELP },
	{ "index,pager,attach,browser", "q", A_QUIT }, { "index", "x", A_EXIT },
	{ "index", "<enter>", A_DISPLAY }, { "index", "\\n", A_DISPLAY },
	{ "index", "<right>", A_DISPLAY }, { "browser", "<enter>", A_DISPLAY },
	{ "index,pager", "d", A_DELETE }, { "index,pager", "u", A_UNDELETE },
	{ "index,pager", "F", A_FLAG }, { "index,pager", "N", A_TOGGLE_NEW },
	{ "index", "t", A_TAG }, { "index", ";", A_TAG_PREFIX },
	{ "index,pager", "s", A_SAVE }, { "index,pager", "C", A_COPY },
	{ "index,pager", "m", A_MAIL }, { "index,pager", "r", A_REPLY },
	{ "index,pager", "g", A_GROUP_REPLY }, { "index,pager", "L", A_LIST_REPLY },
	{ "index,pager", "f", A_FORWARD }, { "index,pager,browser,attach", "/", A_SEARCH },
	{ "index,pager", "n", A_SEARCH_NEXT }, { "index", "l", A_LIMIT },
	{ "index", "$", A_SYNC }, { "index,pager", "v", A_VIEW_ATTACH },
	{ "index", "<tab>", A_NEXT_UNREAD }, { "index", "^N", A_NEXT_THREAD },
	{ "index,pager", "|", A_PIPE }, { "index,pager", "c", A_CHANGE_FOLDER },
	{ "index", "y", A_CHANGE_FOLDER }, { "index", "o", A_SORT },
	{ "index", "\\ev", A_COLLAPSE }, { "index", "\\eV", A_COLLAPSE_ALL },
	{ "index", "R", A_RECALL }, { "index", "\\\\", A_VFOLDER },
	{ "index,pager,attach,browser,compose", "^L", A_REDRAW },
	{ "pager", "<down>", A_LINE_DOWN }, { "pager", "<enter>", A_LINE_DOWN },
	{ "pager", "j", A_NEXT }, { "pager", "k", A_PREV }, { "pager", "<up>", A_LINE_UP },
	{ "pager", "<space>", A_NEXT_PAGE }, { "pager", "<pagedown>", A_NEXT_PAGE },
	{ "pager", "-", A_PREV_PAGE }, { "pager", "<pageup>", A_PREV_PAGE },
	{ "pager", "^", A_PTOP }, { "pager", "<backspace>", A_LINE_UP },
	{ "pager", "i", A_QUIT }, { "pager", "x", A_QUIT }, { "pager", "<left>", A_QUIT },
	{ "attach", "s", A_SAVE_ATTACH }, { "attach", "m", A_OPEN_ATTACH },
	{ "attach", "<enter>", A_DISPLAY }, { "attach", "|", A_PIPE },
	{ "compose", "y", A_SEND }, { "compose", "a", A_ATTACH_FILE },
	{ "compose", "D", A_DETACH }, { "compose", "e", A_EDIT }, { "compose", "P", A_POSTPONE },
	{ "compose", "q", A_QUIT }, { "index,pager", "\\eb", A_TOGGLE_SIDEBAR },
	{ "index,pager", "+", A_MODIFY_TAGS },
	{ "index", "1", A_JUMP }, { "index", "2", A_JUMP }, { "index", "3", A_JUMP },
	{ "index", "4", A_JUMP }, { "index", "5", A_JUMP }, { "index", "6", A_JUMP },
	{ "index", "7", A_JUMP }, { "index", "8", A_JUMP }, { "index", "9", A_JUMP },
	{ "index,pager", ":", A_ENTER_COMMAND }, { "index", "T", A_TAG_PATTERN },
	{ "index", "D", A_DELETE_PATTERN }, { "index", "U", A_UNDELETE_PATTERN },
	{ "index", "O", A_SORT_REVERSE }, { "pager", "h", A_FULL_HEADERS },
	{ "compose", "t", A_EDIT_TO }, { "compose", "c", A_EDIT_CC },
	{ "compose", "b", A_EDIT_BCC }, { "compose", "s", A_EDIT_SUBJECT },
	{ "index,pager", "b", A_BOUNCE }, { "index,pager", "e", A_RESEND },
	{ "index,pager", "\\ee", A_RESEND },
};

void ui_keymap_init(struct config *cfg)
{
	ui_keymap_free();
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		int set = ui_menu_parse(defaults[i].menus), key = ui_key_parse(defaults[i].key);

		for (int m = 0; m < MENU_COUNT; m++)
			if (set & (1 << m))
				bind_key((enum ui_menu)m, key, defaults[i].a, NULL);
	}
	/* The mailrc's lines, checked when it was loaded. */
	for (size_t i = 0; i < config_bind_count(cfg); i++) {
		const char *menus, *key, *what;
		bool is_macro;

		config_bind_get(cfg, i, &menus, &key, &what, &is_macro);
		int set = ui_menu_parse(menus), k = ui_key_parse(key);
		enum ui_action a = is_macro ? A_NONE : ui_action_parse(what);

		if (set < 0 || k < 0 || (!is_macro && a == A_NONE && strcmp(what, "noop") != 0))
			continue;
		for (int m = 0; m < MENU_COUNT; m++)
			if (set & (1 << m))
				bind_key((enum ui_menu)m, k, a, is_macro ? what : NULL);
	}
}

void ui_keymap_free(void)
{
	for (int m = 0; m < MENU_COUNT; m++) {
		for (size_t i = 0; i < maps[m].n; i++)
			free(maps[m].b[i].macro);
		free(maps[m].b);
		memset(&maps[m], 0, sizeof(maps[m]));
	}
}

const struct ui_binding *ui_keymap_lookup(enum ui_menu menu, int key)
{
	for (size_t i = 0; i < maps[menu].n; i++)
		if (maps[menu].b[i].key == key)
			return &maps[menu].b[i];
	return NULL;
}

bool ui_menu_move(enum ui_action a, size_t n, size_t page, size_t *cur)
{
	size_t last = n ? n - 1 : 0;

	switch (a) {
	case A_NEXT: if (*cur < last) (*cur)++; return true;
	case A_PREV: if (*cur > 0) (*cur)--; return true;
	case A_FIRST: *cur = 0; return true;
	case A_LAST: *cur = last; return true;
	case A_NEXT_PAGE: *cur = *cur + page < n ? *cur + page : last; return true;
	case A_PREV_PAGE: *cur = *cur > page ? *cur - page : 0; return true;
	default: return false;
	}
}

void ui_keymap_help(enum ui_menu menu, struct sbuf *out)
{
	sbuf_addf(out, "Keys of the %s screen (bind %s KEY ACTION in the mailrc):\n\n",
		  menu_names[menu], menu_names[menu]);
	for (size_t i = 0; i < maps[menu].n; i++) {
		const struct ui_binding *b = &maps[menu].b[i];
		struct sbuf k = SBUF_INIT;

		ui_key_name(b->key, &k);
		sbuf_addf(out, "%-12s %s%s%s\n", k.buf, b->macro ? "macro \"" : "",
			  b->macro ? b->macro : action_names[b->action], b->macro ? "\"" : "");
		sbuf_release(&k);
	}
}

/* The actions mutt's help line names, per screen. */
static const struct {
	enum ui_menu menu;
	enum ui_action a;
	const char *label;
} help_items[] = {
	{ MENU_INDEX, A_QUIT, "Quit" }, { MENU_INDEX, A_DELETE, "Del" },
	{ MENU_INDEX, A_UNDELETE, "Undel" }, { MENU_INDEX, A_SAVE, "Save" },
	{ MENU_INDEX, A_MAIL, "Mail" }, { MENU_INDEX, A_REPLY, "Reply" },
	{ MENU_INDEX, A_GROUP_REPLY, "Group" }, { MENU_INDEX, A_HELP, "Help" },
	{ MENU_PAGER, A_QUIT, "Exit" }, { MENU_PAGER, A_PREV_PAGE, "PrevPg" },
	{ MENU_PAGER, A_NEXT_PAGE, "NextPg" }, { MENU_PAGER, A_VIEW_ATTACH, "View Attachm." },
	{ MENU_PAGER, A_DELETE, "Del" }, { MENU_PAGER, A_REPLY, "Reply" },
	{ MENU_PAGER, A_NEXT, "Next" }, { MENU_PAGER, A_HELP, "Help" },
};

void ui_keymap_helpline(enum ui_menu menu, struct sbuf *out)
{
	for (size_t i = 0; i < sizeof(help_items) / sizeof(help_items[0]); i++) {
		const struct ui_binding *best = NULL;

		if (help_items[i].menu != menu)
			continue;
		/* The key bound now (a mailrc may have moved it), a plain
		 * character rather than a named key when there are both. */
		for (size_t k = 0; k < maps[menu].n; k++) {
			const struct ui_binding *b = &maps[menu].b[k];
			if (b->macro || b->action != help_items[i].a)
				continue;
			if (best == NULL || ((best->key & UI_FN) && !(b->key & UI_FN)))
				best = b;
		}
		if (best == NULL)
			continue;
		if (out->len)
			sbuf_addstr(out, "  ");
		ui_key_name(best->key, out);
		sbuf_addf(out, ":%s", help_items[i].label);
	}
}

/* Also called before setlocale() (loft check, the MTA commands), where
 * ui_key_parse's mbrtowc would refuse one non-ASCII character: that case
 * is decided as UTF-8 here. */
static bool key_valid(const char *key)
{
	size_t n = strlen(key);
	uint32_t cp;

	if (ui_key_parse(key) >= 0)
		return true;
	return n > 1 && utf8_decode(key, n, &cp) == n && cp != 0xfffd;
}

const struct config_ui_checks ui_config_checks = {
	.actions = action_names,
	.key_valid = key_valid,
	.pattern_check = ui_pattern_check,
};
