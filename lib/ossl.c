/* The OpenSSL table (ossl.h), filled on the first call. */
#include "lib/ossl.h"
#include "lib/log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sysexits.h>

#define LIB_OSSL_STR_(v) #v
#define LIB_OSSL_STR(v) LIB_OSSL_STR_(v)
/* libssl brings libcrypto with it, and dlsym on its handle finds both. */
#define LIB_OSSL_SONAME "libssl.so." LIB_OSSL_STR(OPENSSL_SHLIB_VERSION)

static struct lib_ossl lib_ossl_table;
static atomic_bool lib_ossl_loaded;

#define LIB_OSSL_SYM(name) DYNLIB_SYM(lib_ossl_table, name)
static const struct dynlib_sym lib_ossl_syms[] = { LIB_OSSL_FUNCS(LIB_OSSL_SYM) };
static struct dynlib lib_ossl_lib = DYNLIB_INIT(LIB_OSSL_SONAME, lib_ossl_syms);

const struct lib_ossl *lib_ossl(void)
{
	const char *err;

	/* Every OpenSSL call comes through here: one load of a flag once
	 * the table is filled. */
	if (atomic_load_explicit(&lib_ossl_loaded, memory_order_acquire))
		return &lib_ossl_table;
	if (dynlib_load(&lib_ossl_lib, &err) < 0) {
		log_error("%s", err);
		exit(EX_UNAVAILABLE);
	}
	atomic_store_explicit(&lib_ossl_loaded, true, memory_order_release);
	return &lib_ossl_table;
}
