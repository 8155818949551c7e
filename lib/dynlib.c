/* Libraries loaded on first use: see dynlib.h for why. */
#include "lib/dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* One lock for every library: loading happens once per library and process. */
static pthread_mutex_t dynlib_lock = PTHREAD_MUTEX_INITIALIZER;

static int load_locked(struct dynlib *lib)
{
	/* RTLD_GLOBAL is not needed: nothing else resolves against it. */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		const char *why = dlerror();

		snprintf(lib->error, sizeof(lib->error), "cannot load %s: %s", lib->soname,
			 why ? why : "unknown error");
		return -1;
	}
	for (size_t i = 0; i < lib->n_syms; i++) {
		void *addr = dlsym(h, lib->syms[i].name);

		if (addr == NULL) {
			snprintf(lib->error, sizeof(lib->error), "cannot load %s: no symbol %s",
				 lib->soname, lib->syms[i].name);
			/* Keep the handle: a half-filled table is never used,
			 * and unloading would break what the library started. */
			return -1;
		}
		*lib->syms[i].slot = addr;
	}
	return 0;
}

int dynlib_load(struct dynlib *lib, const char **error_r)
{
	pthread_mutex_lock(&dynlib_lock);
	if (lib->state == 0)
		lib->state = load_locked(lib) == 0 ? 1 : -1;
	int state = lib->state;
	pthread_mutex_unlock(&dynlib_lock);
	if (state < 0) {
		*error_r = lib->error;
		return -1;
	}
	return 0;
}
