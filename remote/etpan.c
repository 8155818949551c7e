/* The libetpan table (etpan-private.h), filled on first use. */
#include "remote/etpan-private.h"

/* The Makefile passes the soname of the libetpan it links tests against. */
#ifndef REMOTE_ETPAN_SONAME
#define REMOTE_ETPAN_SONAME "libetpan.so.20"
#endif

struct remote_etpan remote_etpan;
const char remote_etpan_soname[] = REMOTE_ETPAN_SONAME;

#define REMOTE_ETPAN_SYM(name) DYNLIB_SYM(remote_etpan, name)
static const struct dynlib_sym remote_etpan_syms[] = { REMOTE_ETPAN_FUNCS(REMOTE_ETPAN_SYM) };
static struct dynlib remote_etpan_lib = DYNLIB_INIT(REMOTE_ETPAN_SONAME, remote_etpan_syms);

int remote_etpan_load(const char **error_r)
{
	return dynlib_load(&remote_etpan_lib, error_r);
}
