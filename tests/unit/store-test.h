/* Helpers shared by the store unit tests (test_store.c: the store core;
 * test_store_sets.c: the IMAP-backend calls; test_tag_sync.c): a temporary directory per
 * program, a store per test below it, folders opened or the test fails.
 * Included by exactly those programs. */
#ifndef LOFT_TESTS_STORE_TEST_H
#define LOFT_TESTS_STORE_TEST_H

#include "store/message.h"
#include "store/store.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <cmocka.h>

/* Each test program has its own, made by setup(). */
static char tmpdir[] = "/tmp/loft-test-store-XXXXXX";
/* The root of the store open_store() opened last. */
static char root[512];

/* A fresh store per test: TMP/NAME, created with INBOX and the others. */
static inline struct store *open_store(const char *name)
{
	struct store_settings set = { 0 };
	struct store *store = NULL;
	const char *err = NULL;

	snprintf(root, sizeof(root), "%s/%s", tmpdir, name);
	set.root = root;
	if (store_open(&set, STORE_OPEN_CREATE, &store, &err) < 0)
		fail_msg("store_open: %s", err);
	return store;
}

static inline struct store_folder *open_folder(struct store *store, const char *name)
{
	struct store_folder *f = NULL;
	const char *err = NULL;

	if (store_folder_open(store, name, &f, &err) < 0)
		fail_msg("store_folder_open(%s): %s", name, err);
	return f;
}

static inline int rm_fn(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

static inline int setup(void **unused)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown(void **unused)
{
	message_deinit();
	return nftw(tmpdir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
