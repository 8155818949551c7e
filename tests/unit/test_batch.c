/* store/batch.c and localmta/deliver_batch.c: appends gathered and
 * published in one transaction per folder; nothing visible before the
 * commit, everything after it; Sieve filing per message in a batch. */
#include "localmta/deliver_batch.h"
#include "store/batch.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store-test.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

/* Files in DIR (tmp/, new/, cur/ of a maildir). */
static size_t files_in(const char *folder, const char *sub)
{
	char *p = xasprintf("%s/%s/%s", root, folder, sub);
	DIR *d = opendir(p);
	struct dirent *e;
	size_t n = 0;

	free(p);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static size_t count_of(struct store *store, const char *name)
{
	struct store_folder *f = open_folder(store, name);
	size_t n = store_folder_count(f);

	store_folder_close(&f);
	return n;
}

static void msg_text(char *buf, size_t size, unsigned i, const char *list)
{
	snprintf(buf, size, "From: a@example.org\nTo: me@example.org\nSubject: m%u\n"
		 "Message-ID: <m%u@example.org>\n%s%s\nbody %u\n", i, i,
		 list ? "List-Id: " : "", list ? list : "", i);
}

static void test_commit_publishes_all(void **unused)
{
	struct store *store = open_store("commit");
	struct store_folder *f;
	struct store_batch *b;
	uint32_t uids[3];
	const char *err = NULL;
	char text[256];

	assert_int_equal(store_folder_open_append(store, "INBOX", &f, &err), 0);
	b = store_batch_new(f);
	for (unsigned i = 0; i < 3; i++) {
		msg_text(text, sizeof(text), i, NULL);
		assert_int_equal(store_batch_add(b, text, strlen(text), i == 1 ? STORE_SEEN : 0,
						 i == 2 ? "work" : NULL, 0, &err), 0);
	}
	assert_int_equal(store_batch_count(b), 3);
	/* Written in tmp/, not in the folder yet. */
	assert_int_equal(files_in("INBOX", "tmp"), 3);
	assert_int_equal(count_of(store, "INBOX"), 0);
	assert_int_equal(store_batch_commit(&b, uids, &err), 0);
	assert_null(b);
	assert_true(uids[0] < uids[1] && uids[1] < uids[2]);
	assert_int_equal(files_in("INBOX", "tmp"), 0);
	assert_int_equal(files_in("INBOX", "new") + files_in("INBOX", "cur"), 3);
	store_folder_close(&f);

	f = open_folder(store, "INBOX");
	assert_int_equal(store_folder_count(f), 3);
	const struct store_msg *m1 = store_folder_find(f, uids[1]);
	const struct store_msg *m2 = store_folder_find(f, uids[2]);
	assert_non_null(m1);
	assert_true(m1->flags & STORE_SEEN);
	assert_string_equal(m2->keywords, "work");
	struct sbuf out = SBUF_INIT;
	assert_int_equal(store_msg_read(f, uids[0], &out, &err), 0);
	msg_text(text, sizeof(text), 0, NULL);
	assert_string_equal(out.buf, text);
	sbuf_reset(&out);
	/* The envelope came with the record, BODYSTRUCTURE on demand. */
	assert_int_equal(store_folder_envelope(f, uids[0], &out, &err), 1);
	assert_non_null(strstr(out.buf, "\"m0\""));
	sbuf_reset(&out);
	assert_int_equal(store_folder_bodystructure(f, uids[0], &out, &err), 1);
	assert_non_null(strstr(out.buf, "\"text\" \"plain\""));
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

static void test_abort_leaves_nothing(void **unused)
{
	struct store *store = open_store("abort");
	struct store_folder *f;
	struct store_batch *b;
	const char *err = NULL;
	char text[256];

	assert_int_equal(store_folder_open_append(store, "INBOX", &f, &err), 0);
	b = store_batch_new(f);
	msg_text(text, sizeof(text), 1, NULL);
	assert_int_equal(store_batch_add(b, text, strlen(text), 0, NULL, 0, &err), 0);
	store_batch_abort(&b);
	assert_null(b);
	store_batch_abort(&b);
	assert_int_equal(files_in("INBOX", "tmp"), 0);
	/* An empty batch commits to nothing. */
	b = store_batch_new(f);
	assert_int_equal(store_batch_commit(&b, NULL, &err), 0);
	store_folder_close(&f);
	assert_int_equal(count_of(store, "INBOX"), 0);
	store_close(&store);
}

/* More messages than the batch holds open (its files are fsynced in
 * groups), the caller's data borrowed, BODYSTRUCTURE kept with each
 * record: it is answered with the message file gone. */
static void test_big_borrowed(void **unused)
{
	enum { COUNT = 600 };
	static char texts[COUNT][256];
	static uint32_t uids[COUNT];
	struct store *store = open_store("big");
	struct store_folder *f;
	struct store_batch *b;
	const char *err = NULL;

	assert_int_equal(store_folder_open_append(store, "INBOX", &f, &err), 0);
	b = store_batch_new_opts(f, STORE_BATCH_BORROW | STORE_BATCH_BODYSTRUCTURE);
	for (unsigned i = 0; i < COUNT; i++) {
		msg_text(texts[i], sizeof(texts[i]), i, NULL);
		assert_int_equal(store_batch_add(b, texts[i], strlen(texts[i]), 0, NULL, 0, &err),
				 0);
	}
	assert_int_equal(store_batch_bytes(b), 0);
	assert_int_equal(files_in("INBOX", "tmp"), COUNT);
	assert_int_equal(count_of(store, "INBOX"), 0);
	assert_int_equal(store_batch_commit(&b, uids, &err), 0);
	for (unsigned i = 1; i < COUNT; i++)
		assert_int_equal(uids[i], uids[0] + i);
	assert_int_equal(files_in("INBOX", "tmp"), 0);
	store_folder_close(&f);

	f = open_folder(store, "INBOX");
	assert_int_equal(store_folder_count(f), COUNT);
	const struct store_msg *m = store_folder_find(f, uids[5]);
	assert_non_null(m);
	char *p = xasprintf("%s/INBOX/%s", root, m->location);
	assert_int_equal(unlink(p), 0);
	free(p);
	struct sbuf out = SBUF_INIT;
	assert_int_equal(store_folder_bodystructure(f, uids[5], &out, &err), 1);
	assert_non_null(strstr(out.buf, "\"text\" \"plain\""));
	sbuf_release(&out);
	store_folder_close(&f);
	store_close(&store);
}

static void test_deliver_batch_sieve(void **unused)
{
	struct config *cfg = config_new();
	struct deliver *agent;
	struct deliver_batch *b;
	const char *err;
	char *error = NULL, *answer = NULL, text[256];
	char *dir = xasprintf("%s/deliver", tmpdir);
	char *sieve = xasprintf("%s/deliver.sieve", tmpdir);
	char *rc = xasprintf("set folder=%s\nset sieve=%s\nset index_on_delivery=no\n"
			     "set duplicate_window=1h\n", dir, sieve);
	FILE *fp = fopen(sieve, "w");

	assert_non_null(fp);
	fputs("require [\"fileinto\", \"mailbox\"];\nif header :contains \"List-Id\" \"dev\" "
	      "{ fileinto :create \"Lists/dev\"; }\n", fp);
	fclose(fp);
	assert_int_equal(config_load_buffer(cfg, "test", rc, strlen(rc), &err), 0);
	assert_int_equal(deliver_open(cfg, NULL, false, &agent, &error), 0);
	b = deliver_batch_begin(agent);
	for (unsigned i = 0; i < 6; i++) {
		struct deliver_request req = { .data = text, .rcpt = "me@example.org" };

		msg_text(text, sizeof(text), i, i % 2 ? "<dev.example.org>" : NULL);
		req.len = strlen(text);
		assert_int_equal(deliver_batch_add(b, &req, &answer), DELIVER_OK);
		free(answer);
	}
	assert_int_equal(deliver_batch_count(b), 6);
	assert_true(deliver_batch_bytes(b) > 6 * 100);
	snprintf(root, sizeof(root), "%s", dir);
	assert_int_equal(files_in("INBOX", "new"), 0);
	assert_int_equal(deliver_batch_commit(&b, &error), 0);
	assert_int_equal(files_in("INBOX", "new"), 3);
	assert_int_equal(files_in("Lists/dev", "new"), 3);

	/* The duplicate log learnt them at the commit: a second batch of the
	 * same messages stores nothing. */
	b = deliver_batch_begin(agent);
	struct deliver_request req = { .data = text, .rcpt = "me@example.org" };
	msg_text(text, sizeof(text), 0, NULL);
	req.len = strlen(text);
	assert_int_equal(deliver_batch_add(b, &req, &answer), DELIVER_OK);
	assert_non_null(strstr(answer, "duplicate"));
	free(answer);
	assert_int_equal(deliver_batch_commit(&b, &error), 0);
	assert_int_equal(files_in("INBOX", "new"), 3);

	/* Aborted: nothing stored, nothing recorded as seen. */
	b = deliver_batch_begin(agent);
	msg_text(text, sizeof(text), 10, NULL);
	req.len = strlen(text);
	assert_int_equal(deliver_batch_add(b, &req, &answer), DELIVER_OK);
	free(answer);
	deliver_batch_abort(&b);
	assert_int_equal(files_in("INBOX", "new"), 3);
	assert_int_equal(files_in("INBOX", "tmp"), 0);
	b = deliver_batch_begin(agent);
	assert_int_equal(deliver_batch_add(b, &req, &answer), DELIVER_OK);
	assert_null(strstr(answer, "duplicate"));
	free(answer);
	assert_int_equal(deliver_batch_commit(&b, &error), 0);
	assert_int_equal(files_in("INBOX", "new"), 4);

	deliver_close(&agent);
	config_free(&cfg);
	free(rc);
	free(sieve);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_publishes_all),
		cmocka_unit_test(test_abort_leaves_nothing),
		cmocka_unit_test(test_big_borrowed),
		cmocka_unit_test(test_deliver_batch_sieve),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
