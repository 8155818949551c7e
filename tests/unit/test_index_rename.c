/* store/index-rename.c: index_flag_rename(), a flag change made by notmuch
 * in one load of the message's document, on a throwaway maildir root. */
#include "store/index.h"
#include "store/store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "index-test.h"

/* Writes INBOX/SUB/NAME: Message-ID <ID@test> and a body of some 400
 * distinct words (so that a document load, which reads every position
 * list, costs reads enough to count).  Returns its path (malloc'd). */
static char *write_msg(const char *sub, const char *name, const char *id)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/INBOX/%s/%s", root, sub, name) < 0)
		abort();
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "From: Alice <alice@example.org>\nTo: bob@example.org\n"
		   "Subject: words %s\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n"
		   "Message-ID: <%s@test>\n\n", id, id);
	for (int i = 0; i < 400; i++)
		fprintf(f, "w%dx%s%s", i * 7919 % 100003, i % 12 == 11 ? "\n" : " ",
			i % 40 == 39 ? "again and again the same words\n" : "");
	fclose(f);
	return path;
}

/* read(2)-family calls made by this process so far: a document load reads
 * its position lists through pread (Xapian keeps no block cache). */
static long reads_so_far(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "syscr:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

static void add(struct index *ix, const char *path, uint32_t flags)
{
	const char *error = NULL;

	if (index_add_file(ix, path, flags, NULL, &error) < 0)
		fail_msg("add %s: %s", path, error);
}

/* The file gets the store's name, the index follows it with the flag tags
 * set and the other tags kept, and it costs one load of the document: no
 * more reads than adding one tag (itself one load) and a half, where the
 * way a scan takes a rename (index_rename_file: the file indexed again
 * under its new name, the old name removed, the flags resynchronised)
 * costs more (1.8 loads here, where the pages are all cached; some three
 * on a big index). */
static void test_one_load(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;
	char *a = write_msg("cur", "1700000001.a.host:2,S", "a");
	char *b = write_msg("cur", "1700000002.b.host:2,S", "b");
	char *c = write_msg("cur", "1700000003.c.host:2,S", "c");
	char *renamed = NULL, *c_new, *want;
	long r0, one_tag, fast, slow;

	add(ix, a, STORE_SEEN);
	add(ix, b, STORE_SEEN);
	add(ix, c, STORE_SEEN);
	assert_int_equal(index_change_tags(ix, b, "mine", NULL, &error), 0);
	assert_int_equal(index_commit(ix, &error), 0);

	r0 = reads_so_far();
	assert_true(r0 >= 0);
	assert_int_equal(index_change_tags(ix, a, "one", NULL, &error), 0);
	one_tag = reads_so_far() - r0;
	assert_int_equal(index_commit(ix, &error), 0);

	r0 = reads_so_far();
	assert_int_equal(index_flag_rename(ix, b, STORE_SEEN | STORE_FLAGGED, &renamed, &error), 1);
	fast = reads_so_far() - r0;
	assert_int_equal(index_commit(ix, &error), 0);

	if (asprintf(&c_new, "%s/INBOX/cur/1700000003.c.host:2,FS", root) < 0)
		abort();
	assert_int_equal(rename(c, c_new), 0);
	r0 = reads_so_far();
	assert_int_equal(index_rename_file(ix, c, c_new, &error), 0);
	slow = reads_so_far() - r0;

	print_message("reads: one tag added %ld, index_flag_rename %ld, index_rename_file %ld\n",
		      one_tag, fast, slow);
	assert_true(one_tag > 100);	/* the measure sees a load */
	assert_true(fast <= one_tag + one_tag / 2);
	assert_true(slow >= one_tag + one_tag / 2);

	if (asprintf(&want, "%s/INBOX/cur/1700000002.b.host:2,FS", root) < 0)
		abort();
	assert_string_equal(renamed, want);
	assert_int_equal(access(want, F_OK), 0);
	assert_int_equal(access(b, F_OK), -1);
	assert_int_equal(count(ix, "id:b@test AND tag:flagged AND tag:mine AND NOT tag:unread"), 1);
	uint32_t flags = 0;
	assert_int_equal(index_get_flags(ix, want, &flags, NULL, &error), 0);
	assert_int_equal(flags, STORE_SEEN | STORE_FLAGGED);
	assert_int_equal(index_get_flags(ix, b, &flags, NULL, &error), -1);
	free(a);
	free(b);
	free(c);
	free(c_new);
	free(want);
	free(renamed);
}

/* Where notmuch's rename would not be the store's, or would touch another
 * file, nothing is done (0) and nothing changes. */
static void test_declines(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;
	char *two = write_msg("cur", "1700000010.t.host:2,S", "two");
	char *copy, *recent, *trashed, *unknown, *renamed = NULL;

	add(ix, two, STORE_SEEN);
	/* Two files of one message: notmuch would rename both. */
	if (asprintf(&copy, "%s/INBOX/cur/1700000011.t.host:2,S", root) < 0)
		abort();
	assert_int_equal(link(two, copy), 0);
	add(ix, copy, STORE_SEEN);
	assert_int_equal(index_flag_rename(ix, two, STORE_SEEN | STORE_FLAGGED, &renamed, &error), 0);
	assert_null(renamed);
	assert_int_equal(access(two, F_OK), 0);
	assert_int_equal(count(ix, "id:two@test AND tag:flagged"), 0);

	/* \Deleted: notmuch leaves T alone, the store writes it. */
	trashed = write_msg("cur", "1700000012.d.host:2,S", "trash");
	add(ix, trashed, STORE_SEEN);
	assert_int_equal(index_flag_rename(ix, trashed, STORE_SEEN | STORE_DELETED, &renamed, &error), 0);
	assert_int_equal(access(trashed, F_OK), 0);

	/* Still \Recent with no flag: the store keeps it in new/. */
	recent = write_msg("new", "1700000013.r.host", "recent");
	add(ix, recent, STORE_RECENT);
	assert_int_equal(index_flag_rename(ix, recent, STORE_RECENT, &renamed, &error), 0);
	assert_int_equal(access(recent, F_OK), 0);
	/* ...but \Seen moves it to cur/ on both sides. */
	assert_int_equal(index_flag_rename(ix, recent, STORE_RECENT | STORE_SEEN, &renamed, &error), 1);
	assert_non_null(strstr(renamed, "/INBOX/cur/1700000013.r.host:2,S"));
	free(renamed);
	renamed = NULL;

	/* Not indexed under that name. */
	unknown = write_msg("cur", "1700000014.u.host:2,", "unknown");
	assert_int_equal(index_flag_rename(ix, unknown, STORE_SEEN, &renamed, &error), 0);
	assert_int_equal(access(unknown, F_OK), 0);
	free(two);
	free(copy);
	free(trashed);
	free(recent);
	free(unknown);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_load),
		cmocka_unit_test(test_declines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
