/* A shared library loaded on first use instead of by the dynamic loader at
 * start-up.
 *
 * The dynamic loader maps and relocates every DT_NEEDED library before
 * main() runs, whichever command runs.  For a one-process-per-message
 * command (`loft deliver`) that cost, not the delivery, was most of the
 * time: libnotmuch alone brings Xapian and libstdc++ with thousands of
 * symbol relocations.  A module that uses such a library lists the
 * functions it calls in a table of typed pointers, and fills the table
 * with dynlib_load() at its entry point (index_open() for notmuch); the
 * binary is linked without the library, so nothing else pays for it.
 *
 * Usage, with the functions listed once in an X-macro:
 *
 *     #define FOO_FUNCS(X) X(foo_open) X(foo_close)
 *     struct foo_fns { FOO_FUNCS(DYNLIB_SLOT) };
 *     struct foo_fns foo_fns;
 *     #define FOO_SYM(name) DYNLIB_SYM(foo_fns, name)
 *     static const struct dynlib_sym foo_syms[] = { FOO_FUNCS(FOO_SYM) };
 *     static struct dynlib foo_lib = DYNLIB_INIT("libfoo.so.1", foo_syms);
 *     ...
 *     if (dynlib_load(&foo_lib, &error) < 0) ... error names the library
 *
 * and the module's code calls through
 * `#define foo_open(...) (*foo_fns.foo_open)(__VA_ARGS__)` so that it reads
 * as plain calls to the library (function-like, so a struct member of the
 * same name is left alone).  A function missing from the table is an
 * undefined reference at link time, not a crash. */
#ifndef LOFT_LIB_DYNLIB_H
#define LOFT_LIB_DYNLIB_H

#include <stddef.h>

struct dynlib_sym {
	const char *name;
	void **slot;		/* where the address goes */
};

struct dynlib {
	const char *soname;	/* "libnotmuch.so.5": the name the linker recorded */
	const struct dynlib_sym *syms;
	size_t n_syms;
	/* Private: 0 not tried yet, 1 loaded, -1 failed (error says why). */
	int state;
	char error[512];
};

/* A member of the table: a pointer of the function's own type. */
#define DYNLIB_SLOT(name) __typeof__(name) *name;
/* The entry of a dynlib_sym array for member NAME of the table TABLE. */
#define DYNLIB_SYM(table, name) { #name, (void **)&(table).name },
#define DYNLIB_INIT(soname, syms) { (soname), (syms), sizeof(syms) / sizeof((syms)[0]), 0, "" }

/* Loads lib->soname (once per process; later calls return the first
 * result at once, from any thread) and stores the address of every symbol
 * of lib->syms in its slot.  Returns 0, or -1 with *error_r set to a
 * static message naming the library and why ("cannot load
 * libnotmuch.so.5: libnotmuch.so.5: cannot open shared object file: No
 * such file or directory", or a missing symbol), valid for the life of
 * the process.  The library is never unloaded. */
int dynlib_load(struct dynlib *lib, const char **error_r);

#endif
