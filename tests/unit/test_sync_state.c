/* sync state: folder records round-trip (with the last error), pairs are
 * found both ways and survive a reopen, a UID is never paired twice,
 * tombstones on either side, intents listed by kind and removed, a
 * folder's drop touches no other folder, an aborted transaction leaves
 * nothing, a second open of the account is refused while the first holds
 * it, and Message-ID hashes ignore brackets and blanks and read ENVELOPEs
 * and headers. */
#include "remote/sync-private.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char *dir;

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	dir = xasprintf("%s/loft-syncstate-test.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int r = system(cmd);

	(void)state;
	free(cmd);
	free(dir);
	return r;
}

static struct sync_state *open_state(void)
{
	struct sync_state *st = NULL;
	char *err = NULL;

	assert_int_equal(sync_state_open(dir, "acct", &st, &err), 0);
	assert_int_equal(sync_state_begin(st, &err), 0);
	return st;
}

static void test_folder_record(void **state)
{
	struct sync_state *st = open_state();
	struct sync_folder_rec r = { .local_uidvalidity = 7, .remote_uidvalidity = 9,
				     .remote_modseq = 1234567890123ULL, .local_modseq = 55,
				     .remote_last_uid = 100, .local_last_uid = 40,
				     .last_success = 1700000000 };
	struct sync_folder_rec got;
	char *err = NULL, *text = NULL, **names;
	size_t n;

	(void)state;
	assert_int_equal(sync_folder_get(st, "INBOX", &got, &text, &err), 0);
	assert_int_equal(got.remote_uidvalidity, 0);
	assert_int_equal(sync_folder_put(st, "INBOX", &r, "timeout", &err), 0);
	assert_int_equal(sync_folder_put(st, "Lists/a", &r, NULL, &err), 0);
	assert_int_equal(sync_state_commit(st, false, &err), 0);
	sync_state_close(&st);

	st = open_state();
	assert_int_equal(sync_folder_get(st, "INBOX", &got, &text, &err), 1);
	assert_memory_equal(&got, &r, sizeof(r));
	assert_string_equal(text, "timeout");
	free(text);
	assert_int_equal(sync_folder_get(st, "Lists/a", &got, &text, &err), 1);
	assert_null(text);
	assert_int_equal(sync_folder_names(st, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "INBOX");
	assert_string_equal(names[1], "Lists/a");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	sync_state_close(&st);
}

static void test_pairs(void **state)
{
	struct sync_state *st = open_state();
	struct sync_pair p = { .luid = 3, .ruid = 30, .flags = 5, .size = 1000,
			       .idhash = 42, .keywords = (char *)"work $label1" };
	struct sync_pair *pairs;
	size_t n;
	uint32_t luid;
	char *err = NULL;

	(void)state;
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), 0);
	p.luid = 1;
	p.ruid = 10;
	p.keywords = NULL;
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), 0);
	/* The same pair again (a flag update) is fine. */
	p.flags = 1;
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), 0);
	/* Remote 30 with another local UID, local 1 with another remote UID: refused. */
	p.luid = 2;
	p.ruid = 30;
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), -1);
	assert_non_null(strstr(err, "paired twice"));
	free(err);
	err = NULL;
	p.luid = 1;
	p.ruid = 31;
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), -1);
	assert_non_null(strstr(err, "paired twice"));
	free(err);
	err = NULL;
	/* Tombstones: local 8 not uploaded, remote 80 not downloaded. */
	p = (struct sync_pair){ .luid = 8 };
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), 0);
	p = (struct sync_pair){ .ruid = 80 };
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), 0);
	/* Another folder with the same UIDs is apart. */
	p = (struct sync_pair){ .luid = 3, .ruid = 99 };
	assert_int_equal(sync_pair_put(st, "INBOX.x", &p, &err), 0);
	assert_int_equal(sync_state_commit(st, false, &err), 0);
	sync_state_close(&st);

	st = open_state();
	assert_int_equal(sync_pairs_load(st, "INBOX", &pairs, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(pairs[0].luid, 1);
	assert_int_equal(pairs[0].ruid, 10);
	assert_int_equal(pairs[0].flags, 1);
	assert_string_equal(pairs[0].keywords, "");
	assert_int_equal(pairs[1].luid, 3);
	assert_int_equal(pairs[1].ruid, 30);
	assert_int_equal(pairs[1].size, 1000);
	assert_int_equal(pairs[1].idhash, 42);
	assert_string_equal(pairs[1].keywords, "work $label1");
	assert_int_equal(pairs[2].luid, 8);
	assert_int_equal(pairs[2].ruid, 0);
	assert_int_equal(pairs[3].luid, 0);
	assert_int_equal(pairs[3].ruid, 80);
	sync_pairs_free(pairs, n);
	assert_int_equal(sync_pair_by_remote(st, "INBOX", 30, &luid, &err), 1);
	assert_int_equal(luid, 3);
	assert_int_equal(sync_pair_by_remote(st, "INBOX", 80, &luid, &err), 1);
	assert_int_equal(luid, 0);
	assert_int_equal(sync_pair_by_remote(st, "INBOX", 99, &luid, &err), 0);

	/* Deleting a pair frees both UIDs. */
	assert_int_equal(sync_pair_del(st, "INBOX", 3, 30, &err), 0);
	p = (struct sync_pair){ .luid = 4, .ruid = 30 };
	assert_int_equal(sync_pair_put(st, "INBOX", &p, &err), 0);
	/* An aborted transaction leaves nothing. */
	sync_state_abort(st);
	assert_int_equal(sync_state_begin(st, &err), 0);
	assert_int_equal(sync_pair_by_remote(st, "INBOX", 30, &luid, &err), 1);
	assert_int_equal(luid, 3);

	/* Dropping a folder leaves the other. */
	assert_int_equal(sync_folder_drop(st, "INBOX", &err), 0);
	assert_int_equal(sync_pairs_load(st, "INBOX", &pairs, &n, &err), 0);
	assert_int_equal(n, 0);
	free(pairs);
	assert_int_equal(sync_pairs_load(st, "INBOX.x", &pairs, &n, &err), 0);
	assert_int_equal(n, 1);
	sync_pairs_free(pairs, n);
	sync_state_close(&st);
}

static void test_intents(void **state)
{
	struct sync_state *st = open_state();
	uint32_t *uids;
	size_t n;
	char *err = NULL;

	(void)state;
	assert_int_equal(sync_intent_put(st, "INBOX", 'D', 70000, &err), 0);
	assert_int_equal(sync_intent_put(st, "INBOX", 'D', 5, &err), 0);
	assert_int_equal(sync_intent_put(st, "INBOX", 'U', 6, &err), 0);
	assert_int_equal(sync_intent_put(st, "Other", 'D', 1, &err), 0);
	assert_int_equal(sync_state_commit(st, true, &err), 0);
	assert_int_equal(sync_intents(st, "INBOX", 'D', &uids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], 5);
	assert_int_equal(uids[1], 70000);
	free(uids);
	assert_int_equal(sync_intent_del(st, "INBOX", 'D', 5, &err), 0);
	assert_int_equal(sync_intents(st, "INBOX", 'D', &uids, &n, &err), 0);
	assert_int_equal(n, 1);
	free(uids);
	assert_int_equal(sync_intents(st, "INBOX", 'U', &uids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(uids[0], 6);
	free(uids);
	sync_state_close(&st);
}

static void test_lock(void **state)
{
	struct sync_state *st = open_state(), *second = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(sync_state_open(dir, "acct", &second, &err), -1);
	assert_non_null(strstr(err, "another loft sync of acct is running"));
	free(err);
	sync_state_close(&st);
	err = NULL;
	assert_int_equal(sync_state_open(dir, "acct", &second, &err), 0);
	sync_state_close(&second);
}

/* The account's record beside the folders'; a reader beside the lock. */
static void test_account_and_reader(void **state)
{
	struct sync_state *st = open_state(), *reader = NULL;
	struct sync_folder_rec rec = { .last_attempt = 7 }, got;
	char *err = NULL, *text = NULL, **names = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(sync_account_get(st, &got, &text, &err), 0);
	assert_int_equal(sync_account_put(st, &rec, "cannot connect", &err), 0);
	assert_int_equal(sync_state_commit(st, true, &err), 0);
	assert_int_equal(sync_folder_names(st, &names, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(names[i], "");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* The lock is held: a reader opens all the same and sees the commit. */
	assert_int_equal(sync_state_open_read(dir, "acct", &reader, &err), 0);
	assert_int_equal(sync_state_begin(reader, &err), 0);
	assert_int_equal(sync_account_get(reader, &got, &text, &err), 1);
	assert_int_equal(got.last_attempt, 7);
	assert_string_equal(text, "cannot connect");
	free(text);
	assert_int_equal(sync_intent_put_token(st, "INBOX", 'U', 9, "abc", &err), 0);
	assert_int_equal(sync_intent_token(st, "INBOX", 'U', 9, &text, &err), 1);
	assert_string_equal(text, "abc");
	free(text);
	assert_int_equal(sync_intent_put(st, "INBOX", 'U', 10, &err), 0);
	assert_int_equal(sync_intent_token(st, "INBOX", 'U', 10, &text, &err), 0);
	assert_null(text);
	sync_state_close(&reader);
	sync_state_close(&st);
}

static void test_content_hash(void **state)
{
	static const char lf[] = "Subject: a\n\nbody\n", crlf[] = "Subject: a\r\n\r\nbody\r\n";

	(void)state;
	assert_int_equal(sync_content_hash(lf, strlen(lf)), sync_content_hash(crlf, strlen(crlf)));
	assert_int_not_equal(sync_content_hash(lf, strlen(lf)), sync_content_hash("Subject: b\n\nbody\n", 17));
}

static void test_id_hash(void **state)
{
	static const char msg[] = "From: a@b\r\nMessage-ID:\r\n <x.1@example.org>\r\n\r\nbody\r\n";
	static const char env[] =
		"(\"Mon, 1 Jan 2024\" \"hi\" NIL NIL NIL NIL NIL NIL NIL \"<x.1@example.org>\")";
	uint64_t h = sync_id_hash("<x.1@example.org>", 17);

	(void)state;
	assert_int_not_equal(h, 0);
	assert_int_equal(sync_id_hash(" <x.1@example.org> ", 19), h);
	assert_int_equal(sync_id_hash("x.1@example.org", 15), h);
	assert_int_not_equal(sync_id_hash("<x.2@example.org>", 17), h);
	assert_int_equal(sync_id_hash("  ", 2), 0);
	assert_int_equal(sync_message_idhash(msg, strlen(msg)), h);
	assert_int_equal(sync_message_idhash("From: a\n\nb", 10), 0);
	assert_int_equal(sync_envelope_idhash(env), h);
	assert_int_equal(sync_envelope_idhash("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"), 0);
	assert_int_equal(sync_envelope_idhash("(NIL \"a\\\"\" \"<x.1@example.org>\")"), h);
	assert_int_equal(sync_envelope_idhash(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_folder_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_account_and_reader, setup, teardown),
		cmocka_unit_test(test_content_hash),
		cmocka_unit_test(test_id_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
