/* config-ui: the mailrc's `bind`, `macro` and `color` lines.
 *
 * lib/ stores and checks them (menus, colour objects and colour names are
 * a closed set, so a typo is a FILE:LINE:COL error at load time like any
 * other); what a key or an action means is the UI's business (ui/keymap.c,
 * ui/color.c), which reads them back through the iterators in config.h. */
#include "lib/config.h"
#include "lib/config-private.h"
#include "lib/mailrc.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct config_ui_checks *ui_checks;

void config_set_ui_checks(const struct config_ui_checks *checks)
{
	ui_checks = checks;
}

/* The closest of list[] to w within 2 edits, or NULL. */
static const char *closest(const char *const *list, const char *w)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; list[i]; i++) {
		unsigned d = mailrc_distance(w, list[i]);

		if (d < best_d) {
			best_d = d;
			best = list[i];
		}
	}
	return best;
}

static int check_key(struct mailrc_parser *p, const char *cmd, const struct mailrc_word *w)
{
	if (ui_checks == NULL || ui_checks->key_valid == NULL || ui_checks->key_valid(w->text))
		return 0;
	return mailrc_error(p, w->line, w->col, "%s: unknown key '%s' (a character, ^X, \\ev, "
			    "<Esc>v, <Enter>, <Down>, <F1>...)", cmd, w->text);
}

static int check_action(struct mailrc_parser *p, const struct mailrc_word *w)
{
	const char *best;

	if (ui_checks == NULL || ui_checks->actions == NULL)
		return 0;
	for (size_t i = 0; ui_checks->actions[i]; i++)
		if (strcmp(ui_checks->actions[i], w->text) == 0)
			return 0;
	best = closest(ui_checks->actions, w->text);
	if (best != NULL)
		return mailrc_error(p, w->line, w->col,
				    "bind: unknown action '%s' (did you mean '%s'?)", w->text, best);
	return mailrc_error(p, w->line, w->col,
			    "bind: unknown action '%s' (`loft` lists them with ? on each screen)",
			    w->text);
}

static int check_pattern(struct mailrc_parser *p, const struct mailrc_word *w)
{
	const char *why;

	if (ui_checks == NULL || ui_checks->pattern_check == NULL ||
	    ui_checks->pattern_check(w->text, &why) == 0)
		return 0;
	return mailrc_error(p, w->line, w->col, "color: bad pattern '%s': %s", w->text, why);
}

static const char *const menus[] = { "generic", "index", "pager", "attach", "compose",
				     "browser", "editor", NULL };

/* The colour objects the client draws: the one list, ui/color.c maps each
 * index to its attribute (an object listed here but not drawn would be
 * accepted and then ignored, as quoted3 was). */
const char *const config_color_objects[CONFIG_COLOR_OBJECTS + 1] = {
	"normal", "indicator", "status", "tree", "quoted", "quoted1", "quoted2", "url",
	"header", "hdrdefault", "signature", "attachment", "error", "new", "flagged",
	"deleted", "tagged", "search", "tilde", "index", NULL,
};

int config_color_object(const char *name)
{
	for (int i = 0; i < CONFIG_COLOR_OBJECTS; i++)
		if (strcasecmp(config_color_objects[i], name) == 0)
			return i;
	return -1;
}

static const char *const colors[] = { "default", "black", "red", "green", "yellow",
				      "blue", "magenta", "cyan", "white", NULL };

static bool in_list(const char *const *list, const char *w, size_t len)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == len && strncasecmp(list[i], w, len) == 0)
			return true;
	return false;
}

bool config_color_valid(const char *name)
{
	if (strncasecmp(name, "bright", 6) == 0)
		name += 6;
	if (strncasecmp(name, "color", 5) == 0 && name[5] != '\0') {
		char *end;
		long n = strtol(name + 5, &end, 10);
		return *end == '\0' && n >= 0 && n <= 255;
	}
	return in_list(colors, name, strlen(name));
}

static int check_menus(struct mailrc_parser *p, const struct mailrc_word *w)
{
	const char *s = w->text;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (!in_list(menus, s, len))
			return mailrc_error(p, w->line, w->col + (unsigned long)(s - w->text),
					    "unknown menu '%.*s' (one of generic, index, pager, attach, "
					    "compose, browser, editor)", (int)len, s);
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

static void add_line(struct config *cfg, char kind, const struct mailrc_word *w, size_t n)
{
	struct config_uiline *l;

	cfg->uilines = xreallocarray(cfg->uilines, cfg->n_uilines + 1, sizeof(*cfg->uilines));
	l = &cfg->uilines[cfg->n_uilines++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->a = xstrdup(w[0].text);
	l->b = xstrdup(w[1].text);
	l->c = xstrdup(w[2].text);
	l->d = n > 3 ? xstrdup(w[3].text) : NULL;
}

int config_cmd_ui(struct mailrc_parser *p, struct config *cfg, const struct mailrc_cmd *cmd)
{
	const struct mailrc_word *w = cmd->argv;

	if (strcmp(w[0].text, "color") == 0) {
		if (cmd->argc < 4 || cmd->argc > 5)
			return mailrc_error(p, w[0].line, w[0].col,
					    "color: expected 'color OBJECT FOREGROUND BACKGROUND [PATTERN]'");
		if (config_color_object(w[1].text) < 0) {
			const char *best = closest(config_color_objects, w[1].text);

			if (best != NULL)
				return mailrc_error(p, w[1].line, w[1].col,
						    "color: unknown object '%s' (did you mean '%s'?)",
						    w[1].text, best);
			return mailrc_error(p, w[1].line, w[1].col, "color: unknown object '%s'", w[1].text);
		}
		for (size_t i = 2; i < 4; i++)
			if (!config_color_valid(w[i].text))
				return mailrc_error(p, w[i].line, w[i].col,
						    "color: unknown colour '%s' (default, black, red, green, "
						    "yellow, blue, magenta, cyan, white, brightNAME, colorN)",
						    w[i].text);
		if (cmd->argc == 5 && check_pattern(p, &w[4]) < 0)
			return -1;
		add_line(cfg, 'c', w + 1, cmd->argc - 1);
		return 0;
	}
	bool macro = strcmp(w[0].text, "macro") == 0;
	if (cmd->argc != 4 && !(macro && cmd->argc == 5))
		return mailrc_error(p, w[0].line, w[0].col, macro
				    ? "macro: expected 'macro MENU KEY SEQUENCE [DESCRIPTION]'"
				    : "bind: expected 'bind MENU KEY ACTION'");
	if (check_menus(p, &w[1]) < 0)
		return -1;
	if (w[2].len == 0 || w[3].len == 0)
		return mailrc_error(p, w[2].line, w[2].col, "%s: empty key or action", w[0].text);
	if (check_key(p, w[0].text, &w[2]) < 0 || (!macro && check_action(p, &w[3]) < 0))
		return -1;
	add_line(cfg, macro ? 'm' : 'b', w + 1, 3);
	return 0;
}

void config_uilines_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_uilines; i++) {
		free(cfg->uilines[i].a);
		free(cfg->uilines[i].b);
		free(cfg->uilines[i].c);
		free(cfg->uilines[i].d);
	}
	free(cfg->uilines);
	cfg->uilines = NULL;
	cfg->n_uilines = 0;
}

static size_t count_kind(const struct config *cfg, bool colors_wanted)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_uilines; i++)
		n += (cfg->uilines[i].kind == 'c') == colors_wanted;
	return n;
}

static const struct config_uiline *nth(const struct config *cfg, bool colors_wanted, size_t i)
{
	for (size_t k = 0; k < cfg->n_uilines; k++)
		if ((cfg->uilines[k].kind == 'c') == colors_wanted && i-- == 0)
			return &cfg->uilines[k];
	abort();
}

size_t config_bind_count(const struct config *cfg)
{
	return count_kind(cfg, false);
}

void config_bind_get(const struct config *cfg, size_t i, const char **menus_r, const char **key_r,
		     const char **what_r, bool *is_macro_r)
{
	const struct config_uiline *l = nth(cfg, false, i);

	*menus_r = l->a;
	*key_r = l->b;
	*what_r = l->c;
	*is_macro_r = l->kind == 'm';
}

size_t config_color_count(const struct config *cfg)
{
	return count_kind(cfg, true);
}

void config_color_get(const struct config *cfg, size_t i, const char **object_r, const char **fg_r,
		      const char **bg_r, const char **pattern_r)
{
	const struct config_uiline *l = nth(cfg, true, i);

	*object_r = l->a;
	*fg_r = l->b;
	*bg_r = l->c;
	*pattern_r = l->d;
}
