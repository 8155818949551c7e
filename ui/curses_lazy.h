/* ncursesw loaded on first use (lib/dynlib.h says why): only the client
 * draws, and every other command (one `loft deliver` per message above
 * all) paid for mapping and relocating ncursesw and libtinfo at start-up.
 * A ui/ file includes this header instead of <curses.h>; its calls, the
 * curses macros that expand to them (attron(), getmaxyx()...) and the
 * globals (stdscr, LINES, COLS, COLORS, COLOR_PAIRS, curscr, acs_map for
 * the ACS_ characters) go through ui_curses(), which loads the library on
 * the first use from any thread.  A function missing from the table is an
 * undefined reference at link time, not a crash.  When the library cannot
 * be loaded, ui_curses() logs why and exits 69 (EX_UNAVAILABLE), as
 * lib/ossl.c does: the client cannot run without it. */
#ifndef LOFT_UI_CURSES_LAZY_H
#define LOFT_UI_CURSES_LAZY_H

#include <curses.h>

#include "lib/dynlib.h"

#define UI_CURSES_FUNCS(X) \
	X(cbreak) \
	X(clearok) \
	X(curs_set) \
	X(def_prog_mode) \
	X(endwin) \
	X(halfdelay) \
	X(has_colors) \
	X(init_pair) \
	X(initscr) \
	X(isendwin) \
	X(keypad) \
	X(nocbreak) \
	X(nodelay) \
	X(noecho) \
	X(nonl) \
	X(reset_prog_mode) \
	X(set_escdelay) \
	X(start_color) \
	X(ungetch) \
	X(use_default_colors) \
	X(waddch) \
	X(waddnstr) \
	X(wattr_off) \
	X(wattr_on) \
	X(wclear) \
	X(wclrtoeol) \
	X(werase) \
	X(wget_wch) \
	X(wgetch) \
	X(whline) \
	X(wmove) \
	X(wrefresh)

/* The globals, by address (what dlsym gives for a variable). */
#define UI_CURSES_VARS(X) \
	X(WINDOW *, stdscr) \
	X(WINDOW *, curscr) \
	X(int, COLORS) \
	X(int, COLOR_PAIRS) \
	X(int, COLS) \
	X(int, LINES)

#define UI_CURSES_VAR_SLOT(type, name) type *name##_p;
struct ui_curses {
	UI_CURSES_FUNCS(DYNLIB_SLOT)
	UI_CURSES_VARS(UI_CURSES_VAR_SLOT)
	chtype *acs_map_p;		/* the array itself */
};

/* The filled table (loaded on the first call; never NULL). */
const struct ui_curses *ui_curses(void);

#define cbreak(...) (*ui_curses()->cbreak)(__VA_ARGS__)
#define clearok(...) (*ui_curses()->clearok)(__VA_ARGS__)
#define curs_set(...) (*ui_curses()->curs_set)(__VA_ARGS__)
#define def_prog_mode(...) (*ui_curses()->def_prog_mode)(__VA_ARGS__)
#define endwin(...) (*ui_curses()->endwin)(__VA_ARGS__)
#define halfdelay(...) (*ui_curses()->halfdelay)(__VA_ARGS__)
#define has_colors(...) (*ui_curses()->has_colors)(__VA_ARGS__)
#define init_pair(...) (*ui_curses()->init_pair)(__VA_ARGS__)
#define initscr(...) (*ui_curses()->initscr)(__VA_ARGS__)
#define isendwin(...) (*ui_curses()->isendwin)(__VA_ARGS__)
#define keypad(...) (*ui_curses()->keypad)(__VA_ARGS__)
#define nocbreak(...) (*ui_curses()->nocbreak)(__VA_ARGS__)
#define nodelay(...) (*ui_curses()->nodelay)(__VA_ARGS__)
#define noecho(...) (*ui_curses()->noecho)(__VA_ARGS__)
#define nonl(...) (*ui_curses()->nonl)(__VA_ARGS__)
#define reset_prog_mode(...) (*ui_curses()->reset_prog_mode)(__VA_ARGS__)
#define set_escdelay(...) (*ui_curses()->set_escdelay)(__VA_ARGS__)
#define start_color(...) (*ui_curses()->start_color)(__VA_ARGS__)
#define ungetch(...) (*ui_curses()->ungetch)(__VA_ARGS__)
#define use_default_colors(...) (*ui_curses()->use_default_colors)(__VA_ARGS__)
#define waddch(...) (*ui_curses()->waddch)(__VA_ARGS__)
#define waddnstr(...) (*ui_curses()->waddnstr)(__VA_ARGS__)
#define wattr_off(...) (*ui_curses()->wattr_off)(__VA_ARGS__)
#define wattr_on(...) (*ui_curses()->wattr_on)(__VA_ARGS__)
#define wclear(...) (*ui_curses()->wclear)(__VA_ARGS__)
#define wclrtoeol(...) (*ui_curses()->wclrtoeol)(__VA_ARGS__)
#define werase(...) (*ui_curses()->werase)(__VA_ARGS__)
#define wget_wch(...) (*ui_curses()->wget_wch)(__VA_ARGS__)
#define wgetch(...) (*ui_curses()->wgetch)(__VA_ARGS__)
#define whline(...) (*ui_curses()->whline)(__VA_ARGS__)
#define wmove(...) (*ui_curses()->wmove)(__VA_ARGS__)
#define wrefresh(...) (*ui_curses()->wrefresh)(__VA_ARGS__)
#undef stdscr
#define stdscr (*ui_curses()->stdscr_p)
#undef curscr
#define curscr (*ui_curses()->curscr_p)
#undef COLORS
#define COLORS (*ui_curses()->COLORS_p)
#undef COLOR_PAIRS
#define COLOR_PAIRS (*ui_curses()->COLOR_PAIRS_p)
#undef COLS
#define COLS (*ui_curses()->COLS_p)
#undef LINES
#define LINES (*ui_curses()->LINES_p)
#undef acs_map
#define acs_map (ui_curses()->acs_map_p)

#endif
