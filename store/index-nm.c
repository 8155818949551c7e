/* The libnotmuch table (index-nm-private.h), filled on first use. */
#include "store/index-private.h"

#define INDEX_NM_STR_(v) #v
#define INDEX_NM_STR(v) INDEX_NM_STR_(v)
/* The soname the notmuch.h we build against belongs to. */
#define INDEX_NM_SONAME "libnotmuch.so." INDEX_NM_STR(LIBNOTMUCH_MAJOR_VERSION)

struct index_nm index_nm;

#define INDEX_NM_SYM(name) DYNLIB_SYM(index_nm, name)
static const struct dynlib_sym index_nm_syms[] = { INDEX_NM_FUNCS(INDEX_NM_SYM) };
static struct dynlib index_nm_lib = DYNLIB_INIT(INDEX_NM_SONAME, index_nm_syms);

int index_nm_load(const char **error_r)
{
	return dynlib_load(&index_nm_lib, error_r);
}
