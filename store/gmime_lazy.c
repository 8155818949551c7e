/* The GMime table (gmime_lazy.h). */
#include "store/gmime_lazy.h"

/* The soname the linker records for -lgmime-3.0 (Debian 12: 3.2.13). */
#define STORE_GMIME_SONAME "libgmime-3.0.so.0"

struct store_gmime store_gmime;

#define STORE_GMIME_SYM(name) DYNLIB_SYM(store_gmime, name)
static const struct dynlib_sym store_gmime_syms[] = { STORE_GMIME_FUNCS(STORE_GMIME_SYM) };
static struct dynlib store_gmime_lib = DYNLIB_INIT(STORE_GMIME_SONAME, store_gmime_syms);

int store_gmime_load(const char **error_r)
{
	return dynlib_load(&store_gmime_lib, error_r);
}
