/* The IMAP client's pure parts: how rows follow what the server says
 * (imap_rows_merge: a QRESYNC/CHANGEDSINCE delta with VANISHED ranges and
 * keywords, a
 * whole-folder FLAGS scan, a UID SEARCH ALL), a UIDVALIDITY reset racing
 * the UI's sync of the cached rows, and the IMAP SEARCH keys of
 * the patterns that read the message (ui_pattern_imap_term) with the
 * evaluator asking the server instead of reading. */
#include "client/mailbox_imap-private.h"
#include "ui/ui-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Rows with these UIDs, each with an envelope "eUID" and flags 0. */
static struct imap_rows rows(const uint32_t *uids, size_t n)
{
	struct imap_rows r = { xcalloc(n + 1, sizeof(*r.v)), n };

	for (size_t k = 0; k < n; k++) {
		r.v[k].uid = uids[k];
		char *e = xasprintf("e%u", uids[k]);

		r.v[k].envelope = imap_str_of(e);
		free(e);
	}
	return r;
}

static void check_uids(const struct imap_rows *r, const uint32_t *want, size_t n)
{
	assert_int_equal(r->n, n);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(r->v[k].uid, want[k]);
}

static void test_merge_delta(void **state)
{
	static const uint32_t had[] = { 1, 2, 3, 5, 8 };
	struct imap_rows mine = rows(had, 5), next;
	/* 2 flagged, 9 new (twice: an unsolicited FETCH too), 3 and 5..6 gone. */
	struct remote_msg msgs[] = { { .uid = 2, .flags = STORE_FLAGGED, .keywords = (char *)"work" },
				     { .uid = 9, .flags = STORE_SEEN },
				     { .uid = 9, .flags = STORE_SEEN } };
	struct remote_range van[] = { { 5, 6 }, { 3, 3 } };
	uint32_t *missing;
	size_t n_missing;

	(void)state;
	next = imap_rows_merge(&mine, msgs, 3, IMAP_MERGE_DELTA, van, 2, &missing, &n_missing);
	check_uids(&next, (const uint32_t[]){ 1, 2, 8, 9 }, 4);
	assert_int_equal(next.v[1].flags, STORE_FLAGGED);
	assert_string_equal(next.v[1].keywords, "work");	/* keywords follow */
	assert_null(next.v[0].keywords);
	assert_string_equal(next.v[1].envelope, "e2");	/* kept */
	assert_string_equal(next.v[2].envelope, "e8");
	assert_null(next.v[3].envelope);		/* to fetch */
	assert_int_equal(n_missing, 1);
	assert_int_equal(missing[0], 9);
	free(missing);
	imap_rows_free(&mine);		/* what moved is not freed twice */
	imap_rows_free(&next);
}

static void test_merge_unchanged(void **state)
{
	static const uint32_t had[] = { 4, 7 };
	struct imap_rows mine = rows(had, 2), next;
	uint32_t *missing;
	size_t n_missing;

	(void)state;
	next = imap_rows_merge(&mine, NULL, 0, IMAP_MERGE_DELTA, NULL, 0, &missing, &n_missing);
	check_uids(&next, had, 2);
	assert_int_equal(n_missing, 0);
	free(missing);
	imap_rows_free(&mine);
	imap_rows_free(&next);
}

static void test_merge_whole(void **state)
{
	static const uint32_t had[] = { 1, 2, 3 };
	struct imap_rows mine = rows(had, 3), next;
	struct remote_msg all[] = { { .uid = 2, .flags = STORE_SEEN }, { .uid = 4 } };
	uint32_t *missing;
	size_t n_missing;

	(void)state;
	mine.v[1].flags = STORE_ANSWERED;
	/* A FLAGS scan: 1 and 3 are gone, 2's flags are the server's. */
	next = imap_rows_merge(&mine, all, 2, IMAP_MERGE_ALL_FLAGS, NULL, 0, &missing, &n_missing);
	check_uids(&next, (const uint32_t[]){ 2, 4 }, 2);
	assert_int_equal(next.v[0].flags, STORE_SEEN);
	assert_int_equal(n_missing, 1);
	assert_int_equal(missing[0], 4);
	free(missing);
	imap_rows_free(&mine);
	/* A UID SEARCH ALL keeps the flags it does not know. */
	mine = next;
	all[0].flags = 0;
	next = imap_rows_merge(&mine, all, 1, IMAP_MERGE_ALL_UIDS, NULL, 0, &missing, &n_missing);
	check_uids(&next, (const uint32_t[]){ 2 }, 1);
	assert_int_equal(next.v[0].flags, STORE_SEEN);
	assert_int_equal(n_missing, 0);
	free(missing);
	imap_rows_free(&mine);
	imap_rows_free(&next);
}

/* A UIDVALIDITY change while the UI has not taken the cached rows yet
 * (the header cache's, published at once): the reset goes with the rows
 * published after it, never with those old ones, so the folder's new
 * rows all come as new even where their UIDs are the old ones.  (The
 * reset was a flag alone: the UI took the old rows with it, then the
 * new ones as the same messages.) */
static void test_reset_after_cached_rows(void **state)
{
	static const uint32_t uids[] = { 1, 2, 3 };
	struct imap_mailbox *im = xcalloc(1, sizeof(*im));
	struct imap_rows old = rows(uids, 3), now = rows(uids, 3);
	struct store_changes ch;
	const char *err = NULL;

	(void)state;
	im->mb.drv = &mailbox_imap_driver;
	pthread_mutex_init(&im->lock, NULL);
	assert_int_equal(pipe(im->notify), 0);
	/* Sync once (empty) as the UI's first refresh does. */
	assert_int_equal(mailbox_imap_driver.sync(&im->mb, NULL, &err), 0);
	imap_publish(im, &old);		/* the cache's rows */
	imap_publish_reset(im);		/* the SELECT: another UIDVALIDITY */
	assert_int_equal(mailbox_imap_driver.sync(&im->mb, &ch, &err), 0);
	assert_int_equal(im->view.n, 0);	/* the old rows are not shown */
	store_changes_free(&ch);
	imap_publish(im, &now);		/* the new rows, UIDs 1-3 again */
	assert_int_equal(mailbox_imap_driver.sync(&im->mb, &ch, &err), 0);
	assert_int_equal(im->view.n, 3);
	assert_int_equal(ch.n_new, 3);
	assert_int_equal(ch.n_changed, 0);
	assert_int_equal(ch.n_expunged, 0);
	store_changes_free(&ch);
	imap_rows_free(&old);
	imap_rows_free(&now);
	imap_rows_free(&im->view);
	imap_rows_free(&im->pub);
	close(im->notify[0]);
	close(im->notify[1]);
	pthread_mutex_destroy(&im->lock);
	free(im);
}

static void check_key(char op, const char *word, const char *want)
{
	struct sbuf out = SBUF_INIT;
	int r = ui_pattern_imap_term(op, word, strlen(word), &out);

	if (want == NULL) {
		assert_int_equal(r, -1);
		assert_int_equal(out.len, 0);
	} else {
		assert_int_equal(r, 0);
		assert_string_equal(out.buf, want);
	}
	sbuf_release(&out);
}

static void test_imap_terms(void **state)
{
	(void)state;
	check_key('b', "zebracorn", "BODY \"zebracorn\"");
	check_key('B', "two words", "TEXT \"two words\"");
	check_key('b', "say \"hi\" \\o", "BODY \"say \\\"hi\\\" \\\\o\"");
	check_key('b', "caf\xc3\xa9", "BODY \"caf\xc3\xa9\"");
	check_key('h', "X-Mailer: mutt", "HEADER X-Mailer \"mutt\"");
	check_key('h', "List-Id:", "HEADER List-Id \"\"");
	check_key('h', "mutt", NULL);		/* which header? */
	check_key('h', "not a: name", NULL);
	check_key('b', "line\nbreak", NULL);
	check_key('f', "alice", NULL);		/* matched on the envelope */
	check_key('d', "1/6/2025", NULL);
}

static int server_calls;
static const char *server_key;

static int fake_server(const struct ui_pattern_msg *msg, const char *key)
{
	(void)msg;
	server_calls++;
	return server_key != NULL && strcmp(key, server_key) == 0;
}

static const char *no_text(const struct ui_pattern_msg *msg, enum ui_pattern_text kind,
			   size_t *len_r)
{
	(void)msg;
	(void)kind;
	(void)len_r;
	fail_msg("the message was read");
	return NULL;
}

static void test_pattern_asks_server(void **state)
{
	struct ui_pattern_msg m = { .from = "Alice", .subject = "memo", .to = "me@x.org",
				    .text = no_text, .server = fake_server };

	(void)state;
	server_key = "BODY \"zebracorn\"";
	assert_true(ui_pattern_match("~b zebracorn", &m));
	assert_false(ui_pattern_match("~b unicorn", &m));
	assert_true(ui_pattern_match("~f alice ~b zebracorn", &m));
	/* Envelope terms are decided here first: no search for a miss. */
	server_calls = 0;
	assert_false(ui_pattern_match("~f bob ~b zebracorn", &m));
	assert_int_equal(server_calls, 0);
	assert_true(ui_pattern_match("!~B zebracorn", &m));
	server_key = "HEADER X-Mailer \"mutt\"";
	assert_true(ui_pattern_match("~h 'X-Mailer: mutt'", &m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_delta),
		cmocka_unit_test(test_merge_unchanged),
		cmocka_unit_test(test_merge_whole),
		cmocka_unit_test(test_reset_after_cached_rows),
		cmocka_unit_test(test_imap_terms),
		cmocka_unit_test(test_pattern_asks_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
