/* hcache: messages round-trip with every field (NULLs kept), UID order,
 * flag updates, removal, folders kept apart, UIDNEXT/HIGHESTMODSEQ, a
 * UIDVALIDITY change dropping exactly that folder, a reopen of the
 * environment keeping everything, 100,000 messages in one batch, two opens
 * of one directory sharing one environment, kept bytes (a thread order)
 * answered for their UIDVALIDITY only, the cache's directory name, and the
 * thread key of record version 3 (NULs kept, a walk copying only the
 * strings asked for) beside version 2 records, still read; the hot
 * records (numbers and keywords) answering a walk without header strings
 * exactly as the full records do, and a cache written before them read
 * in full (stale hot records never used) until the folder's open makes
 * them. */
#include "remote/hcache.h"
#include "lib/config.h"
#include "lib/sbuf.h"
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
#include "hcache-test.h"

static char *dir;

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	dir = xasprintf("%s/loft-hcache-test.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int r = system(cmd);

	free(cmd);
	free(dir);
	return r;
}

static struct hcache *open_cache(void)
{
	char *err = NULL, *path = xasprintf("%s/acct", dir);
	struct hcache *hc = hcache_open(path, &err);

	if (hc == NULL)
		fail_msg("%s", err);
	free(path);
	return hc;
}

static struct hcache_msg msg(uint32_t uid, const char *subject)
{
	struct hcache_msg m = {
		.uid = uid, .flags = HCACHE_SEEN, .modseq = 100 + uid, .size = 1000 + uid,
		.internaldate = 1700000000 + uid, .date = 1699999999,
		.subject = (char *)subject, .from = "Ann <ann@example.org>",
		.message_id = "<id@example.org>",
	};
	return m;
}

static int collect(const struct hcache_msg *m, void *ctx)
{
	char *s = ctx, buf[32];

	snprintf(buf, sizeof(buf), "%s%u", *s ? "," : "", m->uid);
	strcat(s, buf);
	return 0;
}

static void test_roundtrip(void **state)
{
	struct hcache *hc = open_cache();
	struct hcache_msg in[3] = { msg(7, "seven"), msg(3, "three"), msg(300, NULL) }, out;
	struct hcache_folder f;
	char *err = NULL, order[64] = "";
	size_t dropped = 99;

	in[0].keywords = "$Forwarded work";
	in[0].references = "<a@x> <b@x>";
	in[0].cc = "";
	assert_int_equal(hcache_folder_get(hc, "INBOX", &f, &err), 0);
	assert_int_equal(hcache_put(hc, "INBOX", in, 3, &err), -1);	/* not opened */
	assert_non_null(strstr(err, "not opened"));
	free(err);
	assert_int_equal(hcache_folder_open(hc, "INBOX", 42, &dropped, &err), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(hcache_put(hc, "INBOX", in, 3, &err), 0);
	assert_int_equal(hcache_get(hc, "INBOX", 7, &out, &err), 1);
	assert_int_equal(out.uid, 7);
	assert_int_equal(out.flags, HCACHE_SEEN);
	assert_int_equal(out.modseq, 107);
	assert_int_equal(out.size, 1007);
	assert_int_equal(out.internaldate, 1700000007);
	assert_int_equal(out.date, 1699999999);
	assert_string_equal(out.subject, "seven");
	assert_string_equal(out.from, "Ann <ann@example.org>");
	assert_string_equal(out.keywords, "$Forwarded work");
	assert_string_equal(out.references, "<a@x> <b@x>");
	assert_string_equal(out.cc, "");	/* empty is not absent */
	assert_null(out.to);
	assert_null(out.in_reply_to);
	hcache_msg_clear(&out);
	assert_int_equal(hcache_get(hc, "INBOX", 300, &out, &err), 1);
	assert_null(out.subject);
	hcache_msg_clear(&out);
	assert_int_equal(hcache_get(hc, "INBOX", 8, &out, &err), 0);

	/* UID order whatever the insertion order (big-endian keys: 300 > 7). */
	assert_int_equal(hcache_foreach(hc, "INBOX", collect, order, &err), 0);
	assert_string_equal(order, "3,7,300");

	/* Flags and MODSEQ change, the envelope stays; unknown UIDs are skipped. */
	struct hcache_msg both[2] = {
		{ .uid = 3, .flags = HCACHE_FLAGGED | HCACHE_ANSWERED, .modseq = 900 },
		{ .uid = 55, .flags = HCACHE_SEEN },
	};

	assert_int_equal(hcache_set_flags(hc, "INBOX", both, 2, &err), 0);
	assert_int_equal(hcache_get(hc, "INBOX", 3, &out, &err), 1);
	assert_int_equal(out.flags, HCACHE_FLAGGED | HCACHE_ANSWERED);
	assert_int_equal(out.modseq, 900);
	assert_null(out.keywords);
	assert_string_equal(out.subject, "three");
	hcache_msg_clear(&out);
	assert_int_equal(hcache_get(hc, "INBOX", 55, &out, &err), 0);

	/* Folder numbers. */
	assert_int_equal(hcache_folder_set(hc, "INBOX", 301, 999, &err), 0);
	assert_int_equal(hcache_folder_get(hc, "INBOX", &f, &err), 1);
	assert_int_equal(f.uidvalidity, 42);
	assert_int_equal(f.uidnext, 301);
	assert_int_equal(f.highestmodseq, 999);

	/* Removal. */
	uint32_t gone[] = { 7, 12345 };

	assert_int_equal(hcache_remove(hc, "INBOX", gone, 2, &err), 0);
	assert_int_equal(hcache_count(hc, "INBOX", &err), 2);
	hcache_close(&hc);
	assert_null(hc);

	/* Everything survives a reopen. */
	hc = open_cache();
	assert_int_equal(hcache_count(hc, "INBOX", &err), 2);
	assert_int_equal(hcache_folder_open(hc, "INBOX", 42, &dropped, &err), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(hcache_count(hc, "INBOX", &err), 2);
	assert_int_equal(hcache_folder_get(hc, "INBOX", &f, &err), 1);
	assert_int_equal(f.highestmodseq, 999);
	hcache_close(&hc);
}

static void test_uidvalidity_change(void **state)
{
	struct hcache *hc = open_cache();
	struct hcache_msg a[2] = { msg(1, "a1"), msg(2, "a2") }, b[1] = { msg(1, "b1") }, out;
	struct hcache_folder f;
	char *err = NULL;
	size_t dropped;

	/* "Lists/a" and "Lists/ab": one must not be taken as a prefix of the other. */
	assert_int_equal(hcache_folder_open(hc, "Lists/a", 1, &dropped, &err), 0);
	assert_int_equal(hcache_folder_open(hc, "Lists/ab", 1, &dropped, &err), 0);
	assert_int_equal(hcache_put(hc, "Lists/a", a, 2, &err), 0);
	assert_int_equal(hcache_put(hc, "Lists/ab", b, 1, &err), 0);
	assert_int_equal(hcache_folder_set(hc, "Lists/a", 3, 77, &err), 0);

	assert_int_equal(hcache_folder_open(hc, "Lists/a", 2, &dropped, &err), 0);
	assert_int_equal(dropped, 2);
	assert_int_equal(hcache_count(hc, "Lists/a", &err), 0);
	assert_int_equal(hcache_folder_get(hc, "Lists/a", &f, &err), 1);
	assert_int_equal(f.uidvalidity, 2);
	assert_int_equal(f.uidnext, 0);
	assert_int_equal(f.highestmodseq, 0);
	/* The other folder is untouched. */
	assert_int_equal(hcache_count(hc, "Lists/ab", &err), 1);
	assert_int_equal(hcache_get(hc, "Lists/ab", 1, &out, &err), 1);
	assert_string_equal(out.subject, "b1");
	hcache_msg_clear(&out);
	/* The new UIDVALIDITY's messages go in as usual. */
	assert_int_equal(hcache_put(hc, "Lists/a", b, 1, &err), 0);
	assert_int_equal(hcache_count(hc, "Lists/a", &err), 1);
	hcache_close(&hc);
}

/* The process's file-backed resident memory (kB), from /proc. */
static long rss_file_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssFile: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void test_big_batch(void **state)
{
	enum { N = 100000 };
	struct hcache *hc = open_cache();
	struct hcache_msg *v = xcalloc(N, sizeof(*v));
	char *err = NULL;
	size_t dropped;

	for (uint32_t i = 0; i < N; i++)
		v[i] = msg(i + 1, "a subject of an ordinary length for a mailing list");
	assert_int_equal(hcache_folder_open(hc, "Big", 9, &dropped, &err), 0);
	assert_int_equal(hcache_put(hc, "Big", v, N, &err), 0);
	/* A walk leaves the file's pages out of the resident size (the
	 * ~32 MB file was counted whole). */
	long before = rss_file_kb();

	assert_int_equal(hcache_count(hc, "Big", &err), N);
	assert_true(rss_file_kb() - before < 8192);
	assert_int_equal(hcache_folder_open(hc, "Big", 10, &dropped, &err), 0);
	assert_int_equal(dropped, N);
	assert_int_equal(hcache_count(hc, "Big", &err), 0);
	free(v);
	hcache_close(&hc);
}

/* Two opens of one directory in a process share one environment (two
 * would break LMDB's locks): the second close, not the first, ends it. */
static void test_shared(void **state)
{
	struct hcache *a = open_cache(), *b = open_cache();
	struct hcache_msg m = msg(1, "kept");
	char *err = NULL;
	size_t dropped;

	assert_ptr_equal(a, b);
	assert_int_equal(hcache_folder_open(a, "INBOX", 5, &dropped, &err), 0);
	hcache_close(&a);
	assert_null(a);
	assert_int_equal(hcache_put(b, "INBOX", &m, 1, &err), 0);
	assert_int_equal(hcache_count(b, "INBOX", &err), 1);
	hcache_close(&b);
	/* Closed for good: a new open reads what was written. */
	a = open_cache();
	assert_int_equal(hcache_count(a, "INBOX", &err), 1);
	hcache_close(&a);
}

static void fill_bytes(void *dst, size_t len, void *ctx)
{
	memcpy(dst, ctx, len);
}

/* Kept bytes come back as put, for the UIDVALIDITY they were put under
 * only; their messages and another folder's bytes are apart. */
static void blob_copy(const void *data, size_t len, void *ctx)
{
	sbuf_add(ctx, data, len);
}

/* hcache_blob_view's bytes appended to out. */
static int blob_get(struct hcache *hc, const char *folder, const char *name, uint32_t validity,
		    struct sbuf *out, char **error_r)
{
	return hcache_blob_view(hc, folder, name, validity, blob_copy, out, error_r);
}

struct nested {
	struct hcache *hc;
	struct sbuf inner;
	int r;
};

/* A view taken while another is open (mailbox_threads reads two). */
static void view_inner(const void *data, size_t len, void *ctx)
{
	struct nested *x = ctx;
	char *err = NULL;

	(void)data;
	(void)len;
	x->r = blob_get(x->hc, "Other", "threads", 5, &x->inner, &err);
	free(err);
}

static void test_blob(void **state)
{
	struct hcache *hc = open_cache();
	struct hcache_msg m = msg(1, "kept");
	struct sbuf sb = SBUF_INIT;
	char *err = NULL, big[70000];
	size_t dropped;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	/* Not cached yet: nothing, and nowhere to put. */
	assert_int_equal(blob_get(hc, "INBOX", "threads", 5, &sb, &err), 0);
	assert_int_equal(hcache_blob_put(hc, "INBOX", "threads", 5, 3, fill_bytes, "abc", &err),
			 -1);
	free(err);
	err = NULL;
	assert_int_equal(hcache_folder_open(hc, "INBOX", 5, &dropped, &err), 0);
	assert_int_equal(hcache_folder_open(hc, "Other", 5, &dropped, &err), 0);
	assert_int_equal(hcache_put(hc, "INBOX", &m, 1, &err), 0);
	assert_int_equal(hcache_blob_put(hc, "INBOX", "threads", 5, sizeof(big), fill_bytes, big,
					 &err), 0);
	assert_int_equal(hcache_blob_put(hc, "Other", "threads", 5, 3, fill_bytes, "xyz", &err),
			 0);
	/* A message walk does not see them. */
	assert_int_equal(hcache_count(hc, "INBOX", &err), 1);
	assert_int_equal(blob_get(hc, "INBOX", "threads", 5, &sb, &err), 1);
	assert_int_equal(sb.len, sizeof(big));
	assert_memory_equal(sb.buf, big, sizeof(big));
	sbuf_reset(&sb);
	assert_int_equal(blob_get(hc, "Other", "threads", 5, &sb, &err), 1);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.buf, "xyz", 3);
	sbuf_reset(&sb);
	struct nested x = { hc, SBUF_INIT, -1 };

	assert_int_equal(hcache_blob_view(hc, "INBOX", "threads", 5, view_inner, &x, &err), 1);
	assert_int_equal(x.r, 1);
	assert_int_equal(x.inner.len, 3);
	assert_memory_equal(x.inner.buf, "xyz", 3);
	sbuf_release(&x.inner);
	assert_int_equal(blob_get(hc, "INBOX", "other name", 5, &sb, &err), 0);
	/* Asked under another UIDVALIDITY, or after the folder changed
	 * UIDVALIDITY: none. */
	assert_int_equal(blob_get(hc, "INBOX", "threads", 6, &sb, &err), 0);
	assert_int_equal(hcache_folder_open(hc, "INBOX", 6, &dropped, &err), 0);
	assert_int_equal(blob_get(hc, "INBOX", "threads", 6, &sb, &err), 0);
	assert_int_equal(blob_get(hc, "INBOX", "threads", 5, &sb, &err), 0);
	assert_int_equal(sb.len, 0);
	/* Replaced under the new one. */
	assert_int_equal(hcache_blob_put(hc, "INBOX", "threads", 6, 2, fill_bytes, "hi", &err), 0);
	assert_int_equal(blob_get(hc, "INBOX", "threads", 6, &sb, &err), 1);
	assert_int_equal(sb.len, 2);
	sbuf_release(&sb);
	hcache_close(&hc);
}

struct walked {
	char got[256];
};

/* "UID:K|E|-" for each message: K a thread key, E an envelope, - neither. */
static int note_strings(const struct hcache_msg *m, void *ctx)
{
	struct walked *w = ctx;
	char buf[32];

	assert_null(m->subject);	/* not asked for */
	assert_null(m->keywords);
	snprintf(buf, sizeof(buf), "%s%u:%s%s", *w->got ? "," : "", m->uid,
		 m->threadkey ? "K" : "", m->envelope ? "E" : m->threadkey ? "" : "-");
	strcat(w->got, buf);
	return 0;
}

static void test_threadkey(void **state)
{
	static const char key[] = "Mon, 1 Jan 2024\0<b@x>\0<a@x>\0<a@x>\0Re: hi";
	struct hcache *hc = open_cache();
	struct hcache_msg in[2] = { msg(1, "one"), msg(2, "two") }, out;
	struct hcache_msg fl = { .uid = 1, .flags = HCACHE_FLAGGED };
	struct walked w = { "" };
	char *err = NULL;

	in[0].envelope = "(\"env one\")";
	in[0].threadkey = (char *)key;
	in[0].threadkey_len = sizeof(key);	/* the last NUL too */
	in[1].envelope = "(\"env two\")";	/* no key */
	assert_int_equal(hcache_folder_open(hc, "INBOX", 5, NULL, &err), 0);
	assert_int_equal(hcache_put(hc, "INBOX", in, 2, &err), 0);
	assert_int_equal(hcache_set_flags(hc, "INBOX", &fl, 1, &err), 0);	/* keeps it */
	assert_int_equal(hcache_get(hc, "INBOX", 1, &out, &err), 1);
	assert_int_equal(out.threadkey_len, sizeof(key));
	assert_memory_equal(out.threadkey, key, sizeof(key));
	assert_string_equal(out.envelope, "(\"env one\")");
	assert_int_equal(out.flags, HCACHE_FLAGGED);
	hcache_msg_clear(&out);
	assert_int_equal(hcache_walk(hc, "INBOX", HCACHE_WANT_THREADKEY, note_strings, &w, &err), 0);
	assert_string_equal(w.got, "1:K,2:-");
	*w.got = '\0';
	assert_int_equal(hcache_walk(hc, "INBOX", HCACHE_WANT_THREADKEY |
				     HCACHE_WANT_ENVELOPE_IF_NO_KEY, note_strings, &w, &err), 0);
	assert_string_equal(w.got, "1:K,2:E");
	hcache_close(&hc);

	/* Version 2 records: read, no thread key, the envelope kept. */
	{
		char *path = xasprintf("%s/acct", dir);

		assert_int_equal(hcache_test_make_v2(path), 2);
		free(path);
	}
	hc = open_cache();
	assert_int_equal(hcache_get(hc, "INBOX", 1, &out, &err), 1);
	assert_null(out.threadkey);
	assert_int_equal(out.threadkey_len, 0);
	assert_string_equal(out.envelope, "(\"env one\")");
	assert_string_equal(out.subject, "one");
	assert_int_equal(out.flags, HCACHE_FLAGGED);
	hcache_msg_clear(&out);
	*w.got = '\0';
	assert_int_equal(hcache_walk(hc, "INBOX", HCACHE_WANT_THREADKEY |
				     HCACHE_WANT_ENVELOPE_IF_NO_KEY, note_strings, &w, &err), 0);
	assert_string_equal(w.got, "1:E,2:E");
	/* Rewritten (a flag change) it becomes version 3, still keyless. */
	assert_int_equal(hcache_set_flags(hc, "INBOX", &fl, 1, &err), 0);
	assert_int_equal(hcache_get(hc, "INBOX", 1, &out, &err), 1);
	assert_null(out.threadkey);
	assert_string_equal(out.envelope, "(\"env one\")");
	hcache_msg_clear(&out);
	hcache_close(&hc);
}

/* What a walk gave, numbers and keywords (and whether an envelope came). */
static int note_numbers(const struct hcache_msg *m, void *ctx)
{
	struct sbuf *b = ctx;

	sbuf_addf(b, "%u f%u s%u m%llu i%lld d%lld k[%s]%s;", m->uid, m->flags, m->size,
		  (unsigned long long)m->modseq, (long long)m->internaldate, (long long)m->date,
		  m->keywords ? m->keywords : "-", m->envelope ? " E" : "");
	return 0;
}

/* walk's numbers and keywords (want), and those of the full records. */
static void walks(struct hcache *hc, unsigned want, struct sbuf *hot, struct sbuf *full)
{
	char *err = NULL;

	sbuf_reset(hot);
	sbuf_reset(full);
	assert_int_equal(hcache_walk(hc, "INBOX", want, note_numbers, hot, &err), 0);
	/* Any header string wanted: the full records are read. */
	assert_int_equal(hcache_walk(hc, "INBOX", want | HCACHE_WANT_FIELDS, note_numbers, full,
				     &err), 0);
}

static void test_hot(void **state)
{
	static const char key[] = "d\0<i@x>\0\0\0s";
	struct hcache *hc = open_cache();
	struct hcache_msg in[4] = { msg(1, "one"), msg(2, "two"), msg(5, "five"), msg(9, "nine") };
	struct hcache_msg fl = { .uid = 5, .flags = HCACHE_FLAGGED, .modseq = 900,
				 .keywords = "$Forwarded work" };
	struct sbuf hot = SBUF_INIT, full = SBUF_INIT;
	uint32_t gone = 2;
	char *err = NULL, *path = xasprintf("%s/acct", dir);

	in[0].keywords = "$Junk";
	in[1].date = 0;
	for (int i = 0; i < 4; i++) {
		in[i].envelope = "(\"env\")";
		in[i].threadkey = i == 3 ? NULL : (char *)key;	/* 9 has none */
		in[i].threadkey_len = i == 3 ? 0 : sizeof(key);
	}
	assert_int_equal(hcache_folder_open(hc, "INBOX", 5, NULL, &err), 0);
	assert_int_equal(hcache_put(hc, "INBOX", in, 4, &err), 0);
	assert_int_equal(hcache_set_flags(hc, "INBOX", &fl, 1, &err), 0);
	assert_int_equal(hcache_remove(hc, "INBOX", &gone, 1, &err), 0);
	walks(hc, HCACHE_WANT_KEYWORDS, &hot, &full);
	assert_string_equal(hot.buf, full.buf);
	assert_string_equal(hot.buf, "1 f1 s1001 m101 i1700000001 d1699999999 k[$Junk];"
			    "5 f4 s1005 m900 i1700000005 d1699999999 k[$Forwarded work];"
			    "9 f1 s1009 m109 i1700000009 d1699999999 k[-];");
	/* The envelope of a record without a thread key only. */
	walks(hc, HCACHE_WANT_KEYWORDS | HCACHE_WANT_ENVELOPE_IF_NO_KEY, &hot, &full);
	assert_string_equal(hot.buf, full.buf);
	assert_non_null(strstr(hot.buf, "k[-] E;"));
	assert_null(strstr(hot.buf, "work] E"));
	assert_int_equal(hcache_count(hc, "INBOX", &err), 3);
	hcache_close(&hc);

	/* A walk without header strings reads the hot records: changed
	 * behind the cache's back (flags 0x40), they show; the full walk
	 * does not see them. */
	hcache_test_make_unhot(path, true, false);
	hc = open_cache();
	walks(hc, HCACHE_WANT_KEYWORDS, &hot, &full);
	assert_string_equal(hot.buf, "1 f64 s1001 m101 i1700000001 d1699999999 k[$Junk];"
			    "5 f64 s1005 m900 i1700000005 d1699999999 k[$Forwarded work];"
			    "9 f64 s1009 m109 i1700000009 d1699999999 k[-];");
	assert_null(strstr(full.buf, "f64"));
	hcache_close(&hc);
	sbuf_release(&hot);
	sbuf_release(&full);
	free(path);
}

/* A cache written before the hot records (folder records of 24 bytes),
 * with hot records an older loft would have let go stale: every walk
 * reads the full records, until the folder's open makes the hot ones
 * (then they say what the full ones say); a UIDVALIDITY change drops
 * both. */
static void test_hot_old_cache(void **state)
{
	struct hcache *hc = open_cache();
	struct hcache_msg in[3] = { msg(1, "one"), msg(2, "two"), msg(3, "three") };
	struct hcache_folder f;
	struct sbuf hot = SBUF_INIT, full = SBUF_INIT;
	char *err = NULL, *path = xasprintf("%s/acct", dir);
	size_t dropped;

	in[1].keywords = "later";
	assert_int_equal(hcache_folder_open(hc, "INBOX", 5, NULL, &err), 0);
	assert_int_equal(hcache_put(hc, "INBOX", in, 3, &err), 0);
	assert_int_equal(hcache_folder_set(hc, "INBOX", 4, 77, &err), 0);
	hcache_close(&hc);
	assert_int_equal(hcache_test_make_unhot(path, true, true), 1);

	hc = open_cache();
	assert_int_equal(hcache_folder_get(hc, "INBOX", &f, &err), 1);
	assert_int_equal(f.uidvalidity, 5);
	assert_int_equal(f.uidnext, 4);
	assert_int_equal(f.highestmodseq, 77);
	walks(hc, HCACHE_WANT_KEYWORDS, &hot, &full);
	assert_string_equal(hot.buf, full.buf);		/* not the stale 0x40 */
	assert_null(strstr(hot.buf, "f64"));
	assert_int_equal(hcache_count(hc, "INBOX", &err), 3);
	/* The open under the same UIDVALIDITY makes them, keeping the rest. */
	assert_int_equal(hcache_folder_open(hc, "INBOX", 5, &dropped, &err), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(hcache_folder_get(hc, "INBOX", &f, &err), 1);
	assert_int_equal(f.uidnext, 4);
	assert_int_equal(f.highestmodseq, 77);
	walks(hc, HCACHE_WANT_KEYWORDS, &hot, &full);
	assert_string_equal(hot.buf, full.buf);
	assert_string_equal(hot.buf, "1 f1 s1001 m101 i1700000001 d1699999999 k[-];"
			    "2 f1 s1002 m102 i1700000002 d1699999999 k[later];"
			    "3 f1 s1003 m103 i1700000003 d1699999999 k[-];");
	hcache_close(&hc);

	/* Made hot, then a UIDVALIDITY change: nothing of either is left. */
	assert_int_equal(hcache_test_make_unhot(path, true, true), 1);
	hc = open_cache();
	assert_int_equal(hcache_folder_open(hc, "INBOX", 6, &dropped, &err), 0);
	assert_int_equal(dropped, 3);
	assert_int_equal(hcache_count(hc, "INBOX", &err), 0);
	walks(hc, HCACHE_WANT_KEYWORDS, &hot, &full);
	assert_string_equal(hot.buf, "");
	assert_string_equal(full.buf, "");
	hcache_close(&hc);
	sbuf_release(&hot);
	sbuf_release(&full);
	free(path);
}

static void test_dir(void **state)
{
	struct config *cfg = config_new();
	const char *err;
	char *d;
	static const char rc[] = "set folder=/m state_dir=/s\n";

	assert_int_equal(config_load_buffer(cfg, "t", rc, sizeof(rc) - 1, &err), 0);
	d = hcache_dir(cfg, "me@example.org/../x%y");
	assert_string_equal(d, "/s/hcache/me@example.org%2F..%2Fx%25y");
	free(d);
	d = hcache_dir(cfg, "..");
	assert_string_equal(d, "/s/hcache/%2E.");
	free(d);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threadkey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot_old_cache, setup, teardown),
		cmocka_unit_test(test_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
