/* The ncursesw table (curses_lazy.h), filled on the first call. */
#include "ui/curses_lazy.h"
#include "lib/log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sysexits.h>

/* libncursesw brings libtinfo, and dlsym on its handle finds both. */
#define UI_CURSES_SONAME "libncursesw.so.6"

static struct ui_curses ui_curses_table;
static atomic_bool ui_curses_loaded;

#define UI_CURSES_SYM(name) DYNLIB_SYM(ui_curses_table, name)
#define UI_CURSES_VAR_SYM(type, name) { #name, (void **)&ui_curses_table.name##_p },
static const struct dynlib_sym ui_curses_syms[] = {
	UI_CURSES_FUNCS(UI_CURSES_SYM)
	UI_CURSES_VARS(UI_CURSES_VAR_SYM)
	{ "acs_map", (void **)&ui_curses_table.acs_map_p },
};
static struct dynlib ui_curses_lib = DYNLIB_INIT(UI_CURSES_SONAME, ui_curses_syms);

const struct ui_curses *ui_curses(void)
{
	const char *err;

	/* Every curses call comes through here: one load of a flag once the
	 * table is filled. */
	if (atomic_load_explicit(&ui_curses_loaded, memory_order_acquire))
		return &ui_curses_table;
	if (dynlib_load(&ui_curses_lib, &err) < 0) {
		log_error("%s", err);
		exit(EX_UNAVAILABLE);
	}
	atomic_store_explicit(&ui_curses_loaded, true, memory_order_release);
	return &ui_curses_table;
}
