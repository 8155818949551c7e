/* store/index: the notmuch database over a throwaway maildir root.
 * Messages are written by the test itself. */
#include "store/index.h"
#include "store/store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "index-test.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Writes a message INBOX/cur/NAME with Message-ID <ID@test> and returns
 * its absolute path (static buffer per slot). */
static const char *write_msg(const char *name, const char *id, const char *subject)
{
	static char paths[4][512];
	static int slot;
	char *path = paths[slot++ % 4];
	char text[1024];

	snprintf(path, 512, "%s/INBOX/cur/%s", root, name);
	snprintf(text, sizeof(text),
		 "From: Alice <alice@example.org>\nTo: bob@example.org\n"
		 "Subject: %s\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n"
		 "Message-ID: <%s@test>\nMIME-Version: 1.0\n"
		 "Content-Type: text/plain; charset=utf-8\n\nHello %s, body text.\n",
		 subject, id, id);
	write_file(path, text);
	return path;
}

static void test_database_location(void **state)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/.notmuch/xapian", root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

/* flags -> tags, and back through index_get_flags. */
static void test_flags_to_tags_table(void **state)
{
	static const struct {
		uint32_t flags;
		const char *has, *lacks;
	} cases[] = {
		{ 0, "tag:unread", "tag:replied" },
		{ STORE_SEEN, "tag:inbox", "tag:unread" },
		{ STORE_SEEN | STORE_ANSWERED, "tag:replied", "tag:unread" },
		{ STORE_FLAGGED, "tag:flagged AND tag:unread", "tag:draft" },
		{ STORE_SEEN | STORE_DRAFT, "tag:draft", "tag:passed" },
		{ STORE_SEEN | STORE_PASSED, "tag:passed", "tag:flagged" },
		{ STORE_SEEN | STORE_DELETED, "tag:deleted", "tag:unread" },
	};
	struct index *ix = *state;
	const char *error = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[32], name[64], q[256];
		uint32_t flags = 0;
		char *kw = NULL;

		snprintf(id, sizeof(id), "flags%zu", i);
		snprintf(name, sizeof(name), "f%zu:2,", i);
		const char *path = write_msg(name, id, "flags");
		assert_int_equal(index_add_file(ix, path, cases[i].flags, "$Work Todo", &error), 0);
		snprintf(q, sizeof(q), "id:%s@test AND %s", id, cases[i].has);
		assert_int_equal(count(ix, q), 1);
		snprintf(q, sizeof(q), "id:%s@test AND %s", id, cases[i].lacks);
		assert_int_equal(count(ix, q), 0);
		snprintf(q, sizeof(q), "id:%s@test AND tag:$Work AND tag:Todo", id);
		assert_int_equal(count(ix, q), 1);	/* keywords, case kept */

		assert_int_equal(index_get_flags(ix, path, &flags, &kw, &error), 0);
		assert_int_equal(flags, cases[i].flags);
		assert_non_null(strstr(kw, "$Work"));
		assert_non_null(strstr(kw, "Todo"));
		assert_non_null(strstr(kw, "inbox"));	/* new.tags */
		assert_null(strstr(kw, "unread"));
		free(kw);
	}
}

static void test_set_flags_keeps_other_tags(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;
	const char *path = write_msg("s1:2,", "set1", "set flags");
	uint32_t flags;
	char *kw;

	assert_int_equal(index_add_file(ix, path, 0, NULL, &error), 0);
	assert_int_equal(index_change_tags(ix, path, "project-x", NULL, &error), 0);
	assert_int_equal(index_set_flags(ix, path, STORE_SEEN | STORE_FLAGGED, "Later", &error), 0);
	assert_int_equal(count(ix, "id:set1@test AND tag:flagged AND NOT tag:unread"), 1);
	assert_int_equal(count(ix, "id:set1@test AND tag:project-x AND tag:Later"), 1);
	assert_int_equal(index_get_flags(ix, path, &flags, &kw, &error), 0);
	assert_int_equal(flags, STORE_SEEN | STORE_FLAGGED);
	free(kw);

	assert_int_equal(index_set_flags(ix, path, 0, NULL, &error), 0);
	assert_int_equal(count(ix, "id:set1@test AND tag:unread AND NOT tag:flagged"), 1);
	assert_int_equal(count(ix, "id:set1@test AND tag:Later"), 1);
	assert_int_equal(index_change_tags(ix, path, NULL, "Later", &error), 0);
	assert_int_equal(count(ix, "id:set1@test AND tag:Later"), 0);
	assert_int_equal(index_get_flags(ix, path, &flags, NULL, &error), 0);
	assert_int_equal(flags, 0);

	/* Unknown file: a clear error naming it. */
	assert_int_equal(index_get_flags(ix, "/nonexistent/x", &flags, NULL, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/x"));
}

/* index_tag_file: tags of one file's message, flag tags renaming the
 * file (as `loft tag`), a name renamed behind the index's back (the UI's
 * own flag changes) and a file never indexed. */
static void test_tag_file(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;
	const char *path = write_msg("t1:2,", "tag1", "tag me");
	const char *add[] = { "work" }, *rm[] = { "unread", "inbox" }, *later[] = { "later" };
	char *np = NULL, *tags = NULL, moved[512];
	struct stat st;

	assert_int_equal(index_add_file(ix, path, 0, NULL, &error), 0);
	assert_int_equal(index_tag_file(ix, path, 0, add, 1, rm, 2, &np, &error), 0);
	assert_int_equal(count(ix, "id:tag1@test AND tag:work AND NOT tag:unread AND NOT tag:inbox"), 1);
	assert_non_null(np);
	assert_non_null(strstr(np, "/INBOX/cur/t1:2,S"));
	assert_int_equal(stat(np, &st), 0);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(index_get_tags(ix, np, &tags, &error), 0);
	assert_string_equal(tags, "work");
	free(tags);

	/* Renamed by someone else (F added), the index not told. */
	snprintf(moved, sizeof(moved), "%s/INBOX/cur/t1:2,FS", root);
	assert_int_equal(rename(np, moved), 0);
	free(np);
	np = NULL;
	assert_int_equal(index_tag_file(ix, moved, STORE_SEEN | STORE_FLAGGED, later, 1, NULL, 0, &np,
					&error), 0);
	assert_string_equal(np, moved);
	assert_int_equal(count(ix, "id:tag1@test AND tag:later AND tag:work AND tag:flagged"), 1);
	assert_int_equal(index_get_tags(ix, moved, &tags, &error), 0);
	assert_string_equal(tags, "flagged later work");
	free(tags);
	free(np);
	np = NULL;

	/* Removing "flagged" renames the file back. */
	const char *fl[] = { "flagged" };
	assert_int_equal(index_tag_file(ix, moved, 0, NULL, 0, fl, 1, &np, &error), 0);
	/* The whole info is "S" now (the directory name is random: look only
	 * at the end of the path). */
	assert_non_null(strstr(np, "/INBOX/cur/t1:2,S"));
	assert_string_equal(strrchr(np, ','), ",S");
	assert_int_equal(stat(np, &st), 0);
	free(np);

	/* Never indexed: indexed with the given flags first. */
	const char *p2 = write_msg("t2:2,", "tag2", "fresh");
	assert_int_equal(index_tag_file(ix, p2, 0, later, 1, NULL, 0, NULL, &error), 0);
	assert_int_equal(count(ix, "id:tag2@test AND tag:later AND tag:unread"), 1);
	assert_int_equal(index_tag_file(ix, "/nonexistent/x", 0, later, 1, NULL, 0, NULL, &error), -1);
}

static void test_rename_keeps_tags(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;
	const char *old = write_msg("r1:2,", "ren1", "rename me");
	char newp[512];

	assert_int_equal(index_add_file(ix, old, 0, NULL, &error), 0);
	assert_int_equal(index_change_tags(ix, old, "keepme", NULL, &error), 0);
	snprintf(newp, sizeof(newp), "%s/INBOX/cur/r1:2,RS", root);
	assert_int_equal(rename(old, newp), 0);
	assert_int_equal(index_rename_file(ix, old, newp, &error), 0);
	assert_int_equal(count(ix, "id:ren1@test AND tag:keepme AND tag:replied AND NOT tag:unread"), 1);
	uint32_t flags;
	assert_int_equal(index_get_flags(ix, old, &flags, NULL, &error), -1);
	assert_int_equal(index_get_flags(ix, newp, &flags, NULL, &error), 0);
	assert_int_equal(flags, STORE_SEEN | STORE_ANSWERED);
}

static void test_remove_file(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;
	const char *a = write_msg("d1:2,S", "del1", "remove me");
	char copy[512];

	assert_int_equal(index_add_file(ix, a, STORE_SEEN, NULL, &error), 0);
	/* A second file of the same message (a copy in another folder). */
	snprintf(copy, sizeof(copy), "%s/INBOX/cur/d1-copy:2,S", root);
	assert_int_equal(link(a, copy), 0);
	assert_int_equal(index_add_file(ix, copy, STORE_SEEN, NULL, &error), 0);
	assert_int_equal(count(ix, "id:del1@test"), 1);

	unlink(a);
	assert_int_equal(index_remove_file(ix, a, &error), 0);
	assert_int_equal(count(ix, "id:del1@test"), 1);	/* one file left */
	unlink(copy);
	assert_int_equal(index_remove_file(ix, copy, &error), 0);
	assert_int_equal(count(ix, "id:del1@test"), 0);
}

static void test_reader_sees_commit_after_reopen(void **state)
{
	struct index *ix = *state, *ro = NULL;
	const char *error = NULL;

	assert_int_equal(index_commit(ix, &error), 0);
	assert_int_equal(index_open(root, NULL, false, &ro, &error), 0);
	assert_int_equal(count(ro, "id:late1@test"), 0);
	assert_int_equal(index_add_file(ix, write_msg("l1:2,", "late1", "late"), 0, NULL, &error), 0);
	assert_int_equal(index_reopen(ro, &error), 0);
	assert_int_equal(count(ro, "id:late1@test"), 0);	/* not committed yet */
	assert_int_equal(index_commit(ix, &error), 0);
	assert_int_equal(index_reopen(ro, &error), 0);
	assert_int_equal(count(ro, "id:late1@test"), 1);
	/* A reader cannot write. */
	assert_int_equal(index_add_file(ro, write_msg("l2:2,", "late2", "x"), 0, NULL, &error), -1);
	index_close(&ro);
}

static void test_cjk_search(void **state)
{
	struct index *ix = *state;
	const char *error = NULL;

	assert_int_equal(index_add_file(ix, write_msg("c1:2,S", "cjk1", "会議の資料について"), STORE_SEEN,
					NULL, &error), 0);
	assert_int_equal(index_add_file(ix, write_msg("c2:2,S", "cjk2", "我们明天开会讨论"), STORE_SEEN,
					NULL, &error), 0);
	assert_int_equal(count(ix, "会議"), 1);
	assert_int_equal(count(ix, "subject:資料"), 1);
	assert_int_equal(count(ix, "开会"), 1);
	assert_int_equal(count(ix, "会議 AND id:cjk2@test"), 0);
}

static int collect(void *ctx, const char *path)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_bad_query(void **state)
{
	struct index *ix = NULL;
	const char *error = NULL;
	unsigned n;
	int files = 0;

	(void)state;
	assert_int_equal(index_open(root, NULL, false, &ix, &error), 0);
	assert_int_equal(index_count(ix, "foo AND", &n, &error), -1);
	assert_true(index_error_is_query(ix));
	assert_non_null(strstr(error, "foo AND"));
	assert_int_equal(index_search_files(ix, "tag:inbox", 2, collect, &files, &error), 0);
	assert_int_equal(files, 2);
	index_close(&ix);
}

/* A different database directory: DIR/xapian, mail root kept in it. */
static void test_custom_db_dir(void **state)
{
	char dbdir[512];
	struct index *ix2 = NULL;
	const char *error = NULL;

	(void)state;
	snprintf(dbdir, sizeof(dbdir), "%s/.loft/nm", root);
	assert_int_equal(index_open(root, dbdir, true, &ix2, &error), 0);
	assert_int_equal(index_add_file(ix2, write_msg("x1:2,", "cust1", "custom"), 0, NULL, &error), 0);
	index_close(&ix2);
	assert_int_equal(index_open(root, dbdir, false, &ix2, &error), 0);
	assert_int_equal(count(ix2, "id:cust1@test"), 1);
	index_close(&ix2);
	assert_int_equal(index_open("/somewhere/else", dbdir, false, &ix2, &error), -1);
	assert_non_null(strstr(error, "/somewhere/else"));
}

/* The writer flushes its buffered changes every 100 documents (Xapian's
 * default, 10,000, makes each message indexed cost more the more is
 * buffered); a value the user set is kept. */
static void test_flush_threshold(void **state)
{
	struct index *ix2 = NULL;
	const char *error = NULL;

	(void)state;
	/* The fixture's writer is open: index_open() set it. */
	assert_non_null(getenv("XAPIAN_FLUSH_THRESHOLD"));
	assert_string_equal(getenv("XAPIAN_FLUSH_THRESHOLD"), "100");
	setenv("XAPIAN_FLUSH_THRESHOLD", "5000", 1);
	assert_int_equal(index_open(root, NULL, false, &ix2, &error), 0);
	index_close(&ix2);
	assert_string_equal(getenv("XAPIAN_FLUSH_THRESHOLD"), "5000");
	setenv("XAPIAN_FLUSH_THRESHOLD", "100", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_database_location),
		cmocka_unit_test(test_flags_to_tags_table),
		cmocka_unit_test(test_set_flags_keeps_other_tags),
		cmocka_unit_test(test_rename_keeps_tags),
		cmocka_unit_test(test_tag_file),
		cmocka_unit_test(test_remove_file),
		cmocka_unit_test(test_reader_sees_commit_after_reopen),
		cmocka_unit_test(test_cjk_search),
		cmocka_unit_test(test_bad_query),
		cmocka_unit_test(test_custom_db_dir),
		cmocka_unit_test(test_flush_threshold),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
