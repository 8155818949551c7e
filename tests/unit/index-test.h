/* Helpers shared by the index unit tests (test_index.c, test_index_rename.c):
 * a throwaway maildir root with INBOX per program and the notmuch writer
 * over it as the group's state.  Included by exactly those programs. */
#ifndef LOFT_TESTS_INDEX_TEST_H
#define LOFT_TESTS_INDEX_TEST_H

#include "store/index.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static char root[200];

static inline unsigned count(struct index *ix, const char *query)
{
	const char *error = NULL;
	unsigned n = 0;

	if (index_count(ix, query, &n, &error) < 0)
		fail_msg("count %s: %s", query, error);
	return n;
}

/* The group setup: ROOT (in $TMPDIR or /tmp) with INBOX, the writer open. */
static inline int setup(void **state)
{
	char cmd[1024];
	struct index *ix;
	const char *error;

	snprintf(root, sizeof(root), "%s/loft-index-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/INBOX/cur' '%s/INBOX/new' '%s/INBOX/tmp'", root,
		 root, root);
	if (system(cmd) != 0)
		return -1;
	if (index_open(root, NULL, true, &ix, &error) < 0) {
		fprintf(stderr, "index_open: %s\n", error);
		return -1;
	}
	*state = ix;
	return 0;
}

static inline int teardown(void **state)
{
	struct index *ix = *state;
	char cmd[1024];

	index_close(&ix);
	assert_null(ix);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
