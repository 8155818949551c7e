/* color: the colour objects, their defaults and the mailrc's `color`
 * lines.  `color index FG BG PATTERN` lines colour the index rows that
 * match PATTERN (the limit language, ui/pattern.c), evaluated per drawn
 * row; as in mutt, the last matching line wins.  Defaults use the terminal's own background (use_default_colors)
 * and only foreground colours that read on dark and light themes; without
 * colour support everything falls back to bold/reverse/underline. */
#include "ui/ui-private.h"

#include "client/envelope.h"

#include "lib/config.h"
#include "lib/xalloc.h"

#include "ui/curses_lazy.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int attrs[C_COUNT];

/* The `color index` lines, in mailrc order. */
static struct index_color {
	char *pattern;
	int attr;
} *index_colors;
static size_t n_index_colors;

static void index_colors_free(void)
{
	for (size_t i = 0; i < n_index_colors; i++)
		free(index_colors[i].pattern);
	free(index_colors);
	index_colors = NULL;
	n_index_colors = 0;
}
#define AT(x) ((int)(x))

/* What each of lib's config_color_objects[] colours, in its order
 * ("index" rows are coloured by pattern, C_COUNT here). */
static const enum ui_color objects[CONFIG_COLOR_OBJECTS] = {
	C_NORMAL, C_INDICATOR, C_STATUS, C_TREE, C_QUOTED, C_QUOTED1, C_QUOTED2, C_URL,
	C_HEADER, C_HEADER, C_SIGNATURE, C_ATTACHMENT, C_ERROR, C_NEW, C_FLAGGED,
	C_DELETED, C_TAGGED, C_SEARCH, C_TILDE, C_COUNT,
};

static int color_number(const char *s, bool *bright_r)
{
	static const char *const basic[] = { "black", "red", "green", "yellow", "blue",
					     "magenta", "cyan", "white" };

	*bright_r = false;
	if (strncasecmp(s, "bright", 6) == 0) {
		*bright_r = true;
		s += 6;
	}
	if (strcasecmp(s, "default") == 0)
		return -1;
	if (strncasecmp(s, "color", 5) == 0)
		return atoi(s + 5);
	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, basic[i]) == 0)
			return i;
	return -1;
}

static short next_pair = 1;

static int make_attr(int fg, int bg, int extra)
{
	if (!has_colors() || next_pair >= COLOR_PAIRS)
		return extra;
	if (fg >= COLORS)
		fg = fg % 8;
	if (bg >= COLORS)
		bg = bg % 8;
	init_pair(next_pair, (short)fg, (short)bg);
	return COLOR_PAIR(next_pair++) | extra;
}

void ui_color_init(struct config *cfg)
{
	bool color = has_colors();

	if (color) {
		start_color();
		use_default_colors();
	}
	next_pair = 1;
	attrs[C_NORMAL] = A_NORMAL;
	attrs[C_INDICATOR] = A_REVERSE;
	attrs[C_STATUS] = A_REVERSE;
	attrs[C_TREE] = color ? make_attr(COLOR_MAGENTA, -1, 0) : AT(A_NORMAL);
	attrs[C_QUOTED] = color ? make_attr(COLOR_BLUE, -1, 0) : AT(A_DIM);
	attrs[C_QUOTED1] = color ? make_attr(COLOR_GREEN, -1, 0) : AT(A_DIM);
	attrs[C_QUOTED2] = color ? make_attr(COLOR_CYAN, -1, 0) : AT(A_DIM);
	attrs[C_URL] = (color ? make_attr(COLOR_BLUE, -1, 0) : 0) | AT(A_UNDERLINE);
	attrs[C_HEADER] = A_BOLD;
	attrs[C_SIGNATURE] = color ? make_attr(COLOR_CYAN, -1, 0) : AT(A_DIM);
	attrs[C_ATTACHMENT] = color ? make_attr(COLOR_MAGENTA, -1, A_BOLD) : AT(A_BOLD);
	attrs[C_ERROR] = color ? make_attr(COLOR_RED, -1, A_BOLD) : AT(A_BOLD);
	attrs[C_NEW] = A_BOLD;
	attrs[C_FLAGGED] = color ? make_attr(COLOR_RED, -1, A_BOLD) : AT(A_BOLD | A_UNDERLINE);
	attrs[C_DELETED] = color ? make_attr(COLOR_YELLOW, -1, 0) : AT(A_DIM);
	attrs[C_TAGGED] = color ? make_attr(COLOR_GREEN, -1, A_BOLD) : AT(A_BOLD);
	attrs[C_SEARCH] = A_REVERSE;
	attrs[C_TILDE] = color ? make_attr(COLOR_BLUE, -1, 0) : AT(A_NORMAL);
	index_colors_free();
	/* The mailrc's lines (checked at load; patterns for index only). */
	for (size_t i = 0; i < config_color_count(cfg); i++) {
		const char *obj, *fg, *bg, *pat, *err;
		bool bfg, bbg;

		config_color_get(cfg, i, &obj, &fg, &bg, &pat);
		if (strcasecmp(obj, "index") == 0) {
			int f = color_number(fg, &bfg), b = color_number(bg, &bbg);

			if (pat == NULL || *pat == '\0')
				pat = "~A";
			if (ui_pattern_check(pat, &err) < 0)
				continue;	/* a bad pattern colours nothing */
			if (f < 8 && bfg && f >= 0 && COLORS >= 16)
				f += 8;
			index_colors = xreallocarray(index_colors, n_index_colors + 1,
						     sizeof(*index_colors));
			index_colors[n_index_colors].pattern = xstrdup(pat);
			index_colors[n_index_colors++].attr =
				color ? make_attr(f, b, bfg && COLORS < 16 ? AT(A_BOLD) : 0) : AT(A_BOLD);
			continue;
		}
		int k = config_color_object(obj);

		if (k < 0 || objects[k] == C_COUNT)
			continue;
		int f = color_number(fg, &bfg), b = color_number(bg, &bbg);
		if (f < 8 && bfg && f >= 0 && COLORS >= 16)
			f += 8;
		attrs[objects[k]] = color ? make_attr(f, b, bfg && COLORS < 16 ? AT(A_BOLD) : 0)
					  : AT(A_REVERSE);
	}
}

int ui_color_attr(enum ui_color obj)
{
	return attrs[obj];
}

int ui_color_index(const struct ui_pattern_msg *pm)
{
	for (size_t k = n_index_colors; k-- > 0;)
		if (ui_pattern_match(index_colors[k].pattern, pm))
			return index_colors[k].attr;
	return -1;
}

void ui_color_free(void)
{
	index_colors_free();
}
