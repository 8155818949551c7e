/* store/tag_sync: which tags are keywords, the n-way merge (tables), and
 * the pass on a real store and notmuch database: tags to keywords and
 * back, removal both ways, only what changed since the last pass looked
 * at (notmuch lastmod, folder MODSEQ), no loop, a new copy that cannot
 * remove, two changes at once merged. */
#include "store/index.h"
#include "store/tag_sync.h"
#include "tests/unit/store-test.h"

#include <string.h>

/* ---- the mapping ---- */

static void test_is_keyword(void **unused)
{
	static const struct {
		const char *tag;
		bool keyword;
	} t[] = {
		{ "work", true },		{ "Work", true },
		{ "$Junk", true },		{ "$NotJunk", true },
		{ "$MDNSent", true },		{ "$label1", true },
		{ "to-do.2024", true },		{ "a[b", true },
		{ "unread", false },		{ "Flagged", false },
		{ "replied", false },		{ "draft", false },
		{ "passed", false },		{ "deleted", false },
		{ "inbox", false },		{ "INBOX", false },
		{ "new", false },		{ "attachment", false },
		{ "signed", false },		{ "encrypted", false },
		{ "$Forwarded", false },	{ "$forwarded", false },
		{ "two words", false },		{ "(paren", false },
		{ "a)", false },		{ "brace{", false },
		{ "per%cent", false },		{ "star*", false },
		{ "quo\"te", false },		{ "back\\slash", false },
		{ "a]b", false },		{ "caf\xc3\xa9", false },
		{ "tab\there", false },		{ "", false },
		{ "\\Seen", false },
		{ "12345678901234567890123456789012345678901234567890", true },
		{ "123456789012345678901234567890123456789012345678901", false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (tag_sync_is_keyword(t[i].tag, strlen(t[i].tag)) != t[i].keyword)
			fail_msg("'%s': want %d", t[i].tag, t[i].keyword);
}

static void test_merge(void **unused)
{
	static const struct {
		const char *base, *a, *b;
		bool known_b;
		const char *want;
	} t[] = {
		/* No agreed set: the union, first spelling kept. */
		{ NULL, "work", "later", true, "work later" },
		{ NULL, "Work", "work $Junk", true, "Work $Junk" },
		/* A change on one side wins. */
		{ "", "work", "", true, "work" },
		{ "work", "", "work", true, "" },
		{ "work", "work", "", true, "" },
		{ "a b", "a b c", "b", true, "b c" },
		/* Case is not a change. */
		{ "work", "WORK", "work", true, "WORK" },
		/* Nothing changed. */
		{ "a b", "b a", "a b", true, "b a" },
		/* A side unknown to the agreed set adds but cannot remove. */
		{ "work", "work", "", false, "work" },
		{ "work", "work", "x", false, "work x" },
		{ "work", "", "", false, "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *sides[2] = { t[i].a, t[i].b };
		bool known[2] = { true, t[i].known_b };
		char *got = tag_sync_merge(t[i].base, sides, known, 2);

		if (strcmp(got, t[i].want) != 0)
			fail_msg("%zu: base '%s' + '%s' + '%s': got '%s', want '%s'", i,
				 t[i].base ? t[i].base : "(none)", t[i].a, t[i].b, got, t[i].want);
		free(got);
	}
}

/* ---- the pass ---- */

struct fx {
	struct store *store;
	struct index *ix;
	struct tag_sync_result r;
};

static const char msg_a[] = "From: a@example.org\nSubject: a\nMessage-ID: <a@test>\n\nA\n";
static const char msg_b[] = "From: b@example.org\nSubject: b\nMessage-ID: <b@test>\n\nB\n";

static void pass(struct fx *x)
{
	const char *err = NULL;

	if (tag_sync_run(x->store, x->ix, &x->r, &err) < 0)
		fail_msg("tag_sync_run: %s", err);
}

static void scan(struct fx *x)
{
	struct index_scan_result res;
	const char *err = NULL;

	if (index_scan(x->ix, false, NULL, NULL, NULL, &res, &err) < 0)
		fail_msg("index_scan: %s", err);
}

static void tag(struct fx *x, const char *query, const char *add, const char *rm)
{
	const char *err = NULL;

	if (index_tag(x->ix, query, add ? &add : NULL, add ? 1 : 0, rm ? &rm : NULL, rm ? 1 : 0,
		      NULL, &err) < 0)
		fail_msg("index_tag: %s", err);
}

/* The keywords of the one message of folder name with subject letter. */
static char *keywords(struct fx *x, const char *name, uint32_t uid)
{
	struct store_folder *f = open_folder(x->store, name);
	const struct store_msg *m = store_folder_find(f, uid);
	char *kw;

	assert_non_null(m);
	kw = strdup(m->keywords);
	store_folder_close(&f);
	return kw;
}

static void set_kw(struct fx *x, const char *name, uint32_t uid, enum store_flag_op op,
		   const char *kw)
{
	struct store_folder *f = open_folder(x->store, name);
	const char *err = NULL;

	if (store_set_flags(f, uid, op, 0, kw, &err) < 0)
		fail_msg("store_set_flags: %s", err);
	store_folder_close(&f);
}

static uint32_t add_msg(struct fx *x, const char *name, const char *data, const char *kw)
{
	struct store_folder *f = open_folder(x->store, name);
	const char *err = NULL;
	uint32_t uid = 0;

	if (store_append(f, data, strlen(data), STORE_SEEN, kw, 0, &uid, &err) < 0)
		fail_msg("store_append: %s", err);
	store_folder_close(&f);
	return uid;
}

static unsigned count(struct fx *x, const char *query)
{
	const char *err = NULL;
	unsigned n = 0;

	if (index_count(x->ix, query, &n, &err) < 0)
		fail_msg("count %s: %s", query, err);
	return n;
}

static void fx_open(struct fx *x, const char *name)
{
	const char *err = NULL;

	memset(x, 0, sizeof(*x));
	x->store = open_store(name);
	if (index_open(root, NULL, true, &x->ix, &err) < 0)
		fail_msg("index_open: %s", err);
}

static void fx_close(struct fx *x)
{
	index_close(&x->ix);
	store_close(&x->store);
}

#define assert_kw(x, name, uid, want)                                      \
	do {                                                               \
		char *kw_ = keywords(x, name, uid);                        \
		assert_string_equal(kw_, want);                            \
		free(kw_);                                                 \
	} while (0)

static void test_both_ways(void **unused)
{
	struct fx x;
	uint32_t a, b;

	fx_open(&x, "both");
	a = add_msg(&x, "INBOX", msg_a, NULL);
	b = add_msg(&x, "INBOX", msg_b, "$label1 Inbox");
	scan(&x);
	pass(&x);
	assert_true(x.r.full);
	/* A keyword that is in the store before the first pass becomes a
	 * tag; one that is not carried ("Inbox") is left alone. */
	assert_int_equal(count(&x, "id:b@test and tag:$label1"), 1);
	assert_int_equal(count(&x, "id:b@test and tag:Inbox"), 0);
	assert_kw(&x, "INBOX", b, "$label1 Inbox");

	/* Nothing changed: the pass looks at nothing. */
	pass(&x);
	pass(&x);
	assert_false(x.r.full);
	assert_int_equal(x.r.messages, 0);

	/* A tag (as `loft tag` or `notmuch tag` sets it) -> keyword. */
	tag(&x, "id:a@test", "work", NULL);
	tag(&x, "id:a@test", "two words", NULL);
	pass(&x);
	assert_int_equal(x.r.messages, 1);
	assert_int_equal(x.r.keywords_changed, 1);
	assert_kw(&x, "INBOX", a, "work");
	/* What the pass wrote is agreed: the next one changes nothing, the
	 * one after looks at nothing. */
	pass(&x);
	assert_int_equal(x.r.keywords_changed + x.r.tags_changed, 0);
	pass(&x);
	assert_int_equal(x.r.messages, 0);

	/* A keyword (as loft's IMAP server or loft sync sets it) -> tag. */
	set_kw(&x, "INBOX", a, STORE_FLAGS_ADD, "$Junk");
	pass(&x);
	assert_int_equal(x.r.tags_changed, 1);
	assert_int_equal(count(&x, "id:a@test and tag:$Junk and tag:work"), 1);

	/* Removed on either side. */
	tag(&x, "id:a@test", NULL, "work");
	set_kw(&x, "INBOX", b, STORE_FLAGS_REMOVE, "$label1");
	pass(&x);
	assert_kw(&x, "INBOX", a, "$Junk");
	assert_int_equal(count(&x, "tag:$label1"), 0);
	assert_int_equal(count(&x, "tag:work"), 0);
	assert_int_equal(count(&x, "id:a@test and tag:\"two words\""), 1);

	/* A keyword set with a flag (the file renamed, the index not told
	 * yet: no scan before the pass), once all is settled. */
	pass(&x);
	pass(&x);
	assert_int_equal(x.r.messages, 0);
	{
		struct store_folder *f = open_folder(x.store, "INBOX");
		const char *err = NULL;

		if (store_set_flags(f, a, STORE_FLAGS_ADD, STORE_FLAGGED, "renamed", &err) < 0)
			fail_msg("store_set_flags: %s", err);
		store_folder_close(&f);
	}
	pass(&x);
	assert_int_equal(count(&x, "id:a@test and tag:renamed"), 1);

	/* Both sides at once, different words: both kept. */
	tag(&x, "id:b@test", "later", NULL);
	set_kw(&x, "INBOX", b, STORE_FLAGS_ADD, "urgent");
	pass(&x);
	assert_int_equal(count(&x, "id:b@test and tag:later and tag:urgent"), 1);
	assert_kw(&x, "INBOX", b, "Inbox urgent later");
	fx_close(&x);
}

/* A copy of a tagged message arriving in another folder (without the
 * keyword: copied by another program) gets it, and does not take the
 * tag away; a removal on one copy then removes it everywhere. */
static void test_copies(void **unused)
{
	struct fx x;
	uint32_t a, c;
	const char *err;

	fx_open(&x, "copies");
	a = add_msg(&x, "INBOX", msg_a, NULL);
	scan(&x);
	tag(&x, "id:a@test", "work", NULL);
	pass(&x);
	assert_kw(&x, "INBOX", a, "work");
	assert_int_equal(store_folder_create(x.store, "Archive", &err), 0);
	c = add_msg(&x, "Archive", msg_a, NULL);
	scan(&x);
	pass(&x);
	assert_int_equal(count(&x, "id:a@test and tag:work"), 1);
	assert_kw(&x, "Archive", c, "work");
	set_kw(&x, "Archive", c, STORE_FLAGS_REMOVE, "work");
	pass(&x);
	assert_int_equal(count(&x, "tag:work"), 0);
	assert_kw(&x, "INBOX", a, "");
	fx_close(&x);
}

/* A copy in a Maildir++ folder (ROOT/.Arch, the store's folder "Arch",
 * written there by another program) gets the keyword too. */
static void test_maildirpp(void **unused)
{
	struct fx x;
	char path[2048];
	FILE *fp;

	fx_open(&x, "pp");
	add_msg(&x, "INBOX", msg_a, NULL);
	snprintf(path, sizeof(path), "mkdir -p '%s/.Arch/cur' '%s/.Arch/new' '%s/.Arch/tmp'",
		 root, root, root);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/.Arch/cur/1.pp.host:2,S", root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(msg_a, fp);
	fclose(fp);
	scan(&x);
	pass(&x);
	pass(&x);
	/* Arch is unchanged now: the pass finds its copy through notmuch. */
	tag(&x, "id:a@test", "work", NULL);
	pass(&x);
	assert_kw(&x, "Arch", 1, "work");
	/* Removed on that copy (it is known to the marks: it may remove),
	 * once all is settled. */
	pass(&x);
	pass(&x);
	assert_int_equal(x.r.messages, 0);
	set_kw(&x, "Arch", 1, STORE_FLAGS_REMOVE, "work");
	pass(&x);
	assert_int_equal(count(&x, "tag:work"), 0);
	fx_close(&x);
}

/* Many long keywords on one message: the agreed set is more than a
 * Xapian term can hold (245 bytes) in one piece. */
static void test_many(void **unused)
{
	struct fx x;
	char kw[64];
	uint32_t a;

	fx_open(&x, "many");
	a = add_msg(&x, "INBOX", msg_a, NULL);
	scan(&x);
	pass(&x);
	for (int i = 0; i < 12; i++) {
		snprintf(kw, sizeof(kw), "a-rather-long-keyword-of-forty-bytes-%02d", i);
		tag(&x, "id:a@test", kw, NULL);
	}
	pass(&x);
	assert_int_equal(x.r.keywords_changed, 1);
	pass(&x);
	assert_int_equal(x.r.keywords_changed + x.r.tags_changed, 0);
	set_kw(&x, "INBOX", a, STORE_FLAGS_REMOVE, "a-rather-long-keyword-of-forty-bytes-03");
	pass(&x);
	assert_int_equal(count(&x, "tag:a-rather-long-keyword-of-forty-bytes-03"), 0);
	assert_int_equal(count(&x, "tag:a-rather-long-keyword-of-forty-bytes-04"), 1);
	fx_close(&x);
}

/* A pass over more messages than one write group (TS_WRITE_GROUP), in two
 * folders, with additions and removals: every record ends as merged. */
static void test_grouped(void **unused)
{
	struct fx x;
	char msg[128];
	const char *err = NULL;
	uint32_t uids[300], work[20];

	fx_open(&x, "grouped");
	for (int i = 0; i < 300; i++) {
		snprintf(msg, sizeof(msg), "From: g@example.org\nMessage-ID: <g%d@test>\n\n%d\n", i, i);
		uids[i] = add_msg(&x, "INBOX", msg, i % 3 == 0 ? "old keep" : "keep");
	}
	assert_int_equal(store_folder_create(x.store, "Work", &err), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(msg, sizeof(msg), "From: w@example.org\nMessage-ID: <w%d@test>\n\n%d\n", i, i);
		work[i] = add_msg(&x, "Work", msg, NULL);
	}
	scan(&x);
	pass(&x);
	tag(&x, "*", "bulk", "old");
	pass(&x);
	assert_int_equal(x.r.keywords_changed, 320);
	for (int i = 0; i < 300; i++)
		assert_kw(&x, "INBOX", uids[i], "keep bulk");
	for (int i = 0; i < 20; i++)
		assert_kw(&x, "Work", work[i], "bulk");
	pass(&x);
	assert_int_equal(x.r.keywords_changed + x.r.tags_changed, 0);
	fx_close(&x);
}

/* tag_sync_store(): with nothing changed on either side it does not open
 * notmuch; a change on either side makes it pass. */
static void test_quick(void **unused)
{
	struct fx x;
	const char *err = NULL;
	uint32_t a;

	fx_open(&x, "quick");
	a = add_msg(&x, "INBOX", msg_a, NULL);
	scan(&x);
	index_close(&x.ix);	/* one writer per process */
	for (int i = 0; i < 3; i++)
		assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	assert_true(x.r.quick);
	assert_int_equal(index_open(root, NULL, true, &x.ix, &err), 0);
	tag(&x, "id:a@test", "work", NULL);
	index_close(&x.ix);
	assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	assert_false(x.r.quick);
	assert_kw(&x, "INBOX", a, "work");
	for (int i = 0; i < 3; i++)
		assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	assert_true(x.r.quick);
	set_kw(&x, "INBOX", a, STORE_FLAGS_ADD, "$Junk");
	assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	assert_false(x.r.quick);
	assert_int_equal(index_open(root, NULL, true, &x.ix, &err), 0);
	assert_int_equal(count(&x, "id:a@test and tag:$Junk"), 1);
	fx_close(&x);
}

/* A message with no tag to carry and no keyword on any copy gets no agreed
 * set written: the pass that looks at new untagged mail leaves notmuch as
 * it was, so the next pass is quick (before, every such message's document
 * was rewritten, and the next pass had to look again). */
static void test_untagged(void **unused)
{
	struct fx x;
	const char *err = NULL;

	fx_open(&x, "untagged");
	add_msg(&x, "INBOX", msg_a, NULL);
	scan(&x);
	index_close(&x.ix);
	assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	add_msg(&x, "INBOX", msg_b, NULL);
	assert_int_equal(index_open(root, NULL, true, &x.ix, &err), 0);
	scan(&x);
	index_close(&x.ix);
	assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	assert_false(x.r.quick);
	assert_true(x.r.messages >= 1);
	assert_int_equal(x.r.tags_changed, 0);
	assert_int_equal(tag_sync_store(x.store, &x.r, &err), 0);
	assert_true(x.r.quick);
	assert_int_equal(index_open(root, NULL, true, &x.ix, &err), 0);
	fx_close(&x);
}

/* A new database (another UUID) makes a full pass; marks that say a
 * later revision than the database's too. */
static void test_marks(void **unused)
{
	struct fx x;
	char path[700];
	FILE *fp;

	fx_open(&x, "marks");
	add_msg(&x, "INBOX", msg_a, NULL);
	scan(&x);
	pass(&x);
	pass(&x);
	assert_false(x.r.full);
	snprintf(path, sizeof(path), "%s/.loft/tag-sync", root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("loft-tag-sync 1\nrev other-uuid 3\n", fp);
	fclose(fp);
	pass(&x);
	assert_true(x.r.full);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("garbage\n", fp);
	fclose(fp);
	pass(&x);
	assert_true(x.r.full);
	pass(&x);
	assert_false(x.r.full);
	fx_close(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_keyword),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_maildirpp),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_grouped),
		cmocka_unit_test(test_quick),
		cmocka_unit_test(test_untagged),
		cmocka_unit_test(test_marks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
