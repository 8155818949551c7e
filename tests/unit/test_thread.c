/* thread: JWZ threading cases, robustness (garbage, loops, duplicates, a
 * thread 10,000 deep) and the time for 100,000 messages. */
#include "client/sort.h"
#include "client/thread.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define M(id, irt, refs, subj, date) { id, irt, refs, subj, date }

static const char *names;	/* one letter per message, or NULL: the subject */

/* The display as "name" for tops and ".name" per level, space-separated;
 * the name is the subject. */
static char *render(const struct thread_input *in, size_t n, const struct thread_options *opt)
{
	struct thread *t = thread_build(in, n, opt);
	struct sbuf sb = SBUF_INIT;

	for (size_t r = 0; r < n; r++) {
		uint32_t i = t->order[r];

		assert_int_equal(t->nodes[i].row, r);
		if (r)
			sbuf_addch(&sb, ' ');
		for (uint32_t d = 0; d < t->nodes[i].depth; d++)
			sbuf_addch(&sb, '.');
		if (names != NULL)
			sbuf_addch(&sb, names[i]);
		else
			sbuf_addstr(&sb, in[i].subject);
	}
	thread_free(&t);
	assert_null(t);
	return sbuf_detach(&sb, NULL);
}

static void check(const struct thread_input *in, size_t n, const char *want)
{
	char *got = render(in, n, NULL);

	assert_string_equal(got, want);
	free(got);
}

static void test_simple_chain(void **state)
{
	const struct thread_input in[] = {
		M("<c@x>", "<b@x>", "<a@x> <b@x>", "c", 3),
		M("<a@x>", NULL, NULL, "a", 1),
		M("<b@x>", "<a@x>", "<a@x>", "b", 2),
		M("<d@x>", "<a@x>", "<a@x>", "d", 4),
		M("<z@x>", NULL, NULL, "z", 0),
	};
	check(in, 5, "z a .b ..c .d");
}

static void test_missing_parent(void **state)
{
	/* b and c answer a, which is not in the folder: the earlier leads. */
	const struct thread_input in[] = {
		M("<c@x>", NULL, "<a@x>", "c", 3),
		M("<b@x>", NULL, "<a@x>", "b", 2),
		M("<e@x>", NULL, "<a@x> <d@x>", "e", 5),
	};
	struct thread *t = thread_build(in, 3, NULL);

	assert_int_equal(t->nroots, 1);
	assert_int_equal(t->first_root, 1);
	assert_true(t->nodes[1].flags & THREAD_MISSING_PARENT);
	assert_true(t->nodes[2].flags & THREAD_MISSING_PARENT);
	thread_free(&t);
	check(in, 3, "b .c .e");
}

static void test_grandparent_present(void **state)
{
	/* The middle message is missing: c still hangs under a. */
	const struct thread_input in[] = {
		M("<a@x>", NULL, NULL, "a", 1),
		M("<c@x>", "<b@x>", "<a@x> <b@x>", "c", 3),
	};
	check(in, 2, "a .c");
}

static void test_broken_references(void **state)
{
	const struct thread_input in[] = {
		M("<a@x>", NULL, NULL, "a", 1),
		M("<b@x>", NULL, "junk <a@x> (comment) <<b@x", "b", 2),
		M("  <c@x>  ", NULL, "a@x\tb@x", "c", 3),	/* no brackets at all */
		M("d@x", "<c@x> (message from C)", "<a@x> garbage <>", "d", 4),
		M("<e@x>", NULL, "<   >", "e", 5),
	};
	check(in, 5, "a .b ..c ...d e");
}

static void test_loops_and_self(void **state)
{
	const struct thread_input in[] = {
		M("<a@x>", NULL, "<b@x>", "a", 1),
		M("<b@x>", NULL, "<a@x>", "b", 2),
		M("<s@x>", "<s@x>", "<s@x>", "s", 3),
		/* A longer loop through dummies. */
		M("<p@x>", NULL, "<q@x> <r@x>", "p", 4),
		M("<r@x>", NULL, "<p@x> <q@x>", "r", 5),
	};
	struct thread *t = thread_build(in, 5, NULL);
	size_t seen = 0;

	/* Every message is reached exactly once from the tops. */
	for (size_t r = 0; r < 5; r++) {
		uint32_t i = t->order[r];
		int32_t x = (int32_t)i;
		size_t steps = 0;

		while (x >= 0 && steps++ < 10)
			x = t->nodes[x].parent;
		assert_true(steps <= 5);
		seen |= 1u << i;
	}
	assert_int_equal(seen, 0x1f);
	assert_int_equal(t->nodes[2].parent, -1);
	assert_int_equal(t->nodes[2].first_child, -1);
	thread_free(&t);
}

static void test_duplicates_and_no_ids(void **state)
{
	const struct thread_input in[] = {
		M("<a@x>", NULL, NULL, "a", 1),
		M("<b@x>", NULL, "<a@x>", "b", 2),
		M("<b@x>", NULL, "<a@x>", "b2", 3),	/* second copy */
		M(NULL, "<b@x>", NULL, "n", 4),		/* no id, answers b */
		M(NULL, NULL, NULL, "lone", 0),
	};
	struct thread *t = thread_build(in, 5, NULL);

	assert_true(t->nodes[2].flags & THREAD_DUPLICATE);
	assert_int_equal(t->nodes[2].parent, 0);
	assert_int_equal(t->nodes[3].parent, 1);
	thread_free(&t);
	check(in, 5, "lone a .b ..n .b2");
}

static void test_subject_fallback(void **state)
{
	const struct thread_input in[] = {
		M("<a@x>", NULL, NULL, "[list] Lunch plans", 1),
		M("<b@x>", NULL, NULL, "Re: Re: [list] Lunch plans", 3),
		M("<c@x>", NULL, NULL, "AW: Re[2]: Lunch plans ", 4),
		M("<d@x>", NULL, NULL, "Lunch plans", 5),	/* not a reply: own thread */
		M("<e@x>", NULL, NULL, "Fwd: other", 2),
	};
	names = "abcde";
	check(in, 5, "e a .b .c d");

	struct thread_options opt = THREAD_OPTIONS_DEFAULT;
	char *s;

	opt.subject_fallback = false;
	s = render(in, 5, &opt);
	assert_string_equal(s, "a e b c d");
	free(s);
	opt = (struct thread_options)THREAD_OPTIONS_DEFAULT;
	opt.strip_list_tags = false;
	s = render(in, 5, &opt);
	assert_string_equal(s, "e a .b c d");	/* c no longer matches a */
	free(s);
	opt = (struct thread_options)THREAD_OPTIONS_DEFAULT;
	opt.subject_needs_reply = false;
	s = render(in, 5, &opt);
	assert_string_equal(s, "e a .b .c .d");
	free(s);
	names = NULL;
}

static void test_normalize(void **state)
{
	static const struct {
		const char *in, *out;
		bool reply;
	} cases[] = {
		{ "Re: Re: Fwd: [list] subject", "subject", true },
		{ "RE: AW: SV: Antw: x", "x", true },
		{ "Fw: FWD: x", "x", false },
		{ "Re[2]: x", "x", true },
		{ "Re^3: x", "x", true },
		{ "Re : x", "x", true },
		{ "Reply: x", "Reply: x", false },
		{ "[PATCH v2 3/7] Re: fix", "fix", true },
		{ "[only]", "[only]", false },
		{ "  spaced  ", "spaced", false },
		{ "", "", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s;
		bool r;
		size_t len = thread_subject_normalize(cases[i].in, true, &s, &r);

		assert_int_equal(len, strlen(cases[i].out));
		assert_memory_equal(s, cases[i].out, len);
		assert_int_equal(r, cases[i].reply);
	}
	const char *s;

	assert_int_equal(thread_subject_normalize(NULL, true, &s, NULL), 0);
	assert_int_equal(thread_subject_normalize("[l] x", false, &s, NULL), 5);
}

static void test_empty(void **state)
{
	struct thread *t = thread_build(NULL, 0, NULL);

	assert_int_equal(t->n, 0);
	assert_int_equal(t->nroots, 0);
	assert_int_equal(t->first_root, -1);
	thread_free(&t);
	thread_free(&t);
}

static void test_newest_activity_and_counts(void **state)
{
	const struct thread_input in[] = {
		M("<a@x>", NULL, NULL, "a", 1),
		M("<b@x>", NULL, NULL, "b", 2),
		M("<a2@x>", NULL, "<a@x>", "a2", 9),	/* revives thread a */
		M("<c@x>", NULL, NULL, "c", 3),
	};
	check(in, 4, "b c a .a2");

	struct thread_options opt = THREAD_OPTIONS_DEFAULT;
	opt.newest_first = true;
	char *s = render(in, 4, &opt);

	assert_string_equal(s, "a .a2 c b");
	free(s);

	struct thread *t = thread_build(in, 4, NULL);
	const uint8_t unread[] = { 0, 1, 1, 0 };
	size_t total, nu;

	thread_count(t, 0, unread, &total, &nu);
	assert_int_equal(total, 2);
	assert_int_equal(nu, 1);
	assert_int_equal(t->nodes[2].activity, 9);
	assert_int_equal(t->nodes[0].activity, 9);
	thread_free(&t);
}

static void test_draw_prefix(void **state)
{
	const struct thread_input in[] = {
		M("<a@x>", NULL, NULL, "a", 1),
		M("<b@x>", NULL, "<a@x>", "b", 2),
		M("<c@x>", NULL, "<a@x> <b@x>", "c", 3),
		M("<d@x>", NULL, "<a@x>", "d", 4),
		M("<e@x>", NULL, "<a@x> <d@x>", "e", 5),
	};
	struct thread *t = thread_build(in, 5, NULL);
	struct sbuf sb = SBUF_INIT;

	assert_int_equal(thread_draw_prefix(t, 0, 10, &sb), 0);
	assert_int_equal(thread_draw_prefix(t, 1, 10, &sb), 3);
	assert_string_equal(sb.buf, "├─>");
	sbuf_reset(&sb);
	assert_int_equal(thread_draw_prefix(t, 2, 10, &sb), 5);
	assert_string_equal(sb.buf, "│ └─>");
	sbuf_reset(&sb);
	thread_draw_prefix(t, 4, 10, &sb);
	assert_string_equal(sb.buf, "  └─>");
	sbuf_reset(&sb);
	assert_int_equal(thread_draw_prefix(t, 4, 1, &sb), 3);
	assert_string_equal(sb.buf, "└─>");
	sbuf_release(&sb);
	thread_free(&t);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Synthetic messages: ids "<N@x>", References the full chain to the top. */
struct synth {
	struct thread_input *in;
	char **strs;
	size_t nstrs;
};

static void synth_free(struct synth *s, size_t n)
{
	for (size_t i = 0; i < s->nstrs; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s->in);
}

static void test_deep_thread(void **state)
{
	const size_t n = 10000;
	struct synth s = { xcalloc(n, sizeof(*s.in)), xcalloc(3 * n, sizeof(char *)), 0 };

	/* Each answers the previous, In-Reply-To only (References would be
	 * quadratic in size); given in reverse order to exercise dummies. */
	for (size_t k = 0; k < n; k++) {
		size_t i = n - 1 - k;

		s.in[i].message_id = s.strs[s.nstrs++] = xasprintf("<%zu@deep>", k);
		if (k > 0)
			s.in[i].in_reply_to = s.strs[s.nstrs++] = xasprintf("<%zu@deep>", k - 1);
		s.in[i].subject = "deep";
		s.in[i].date = (int64_t)k;
	}
	/* Close a loop at the top as well: message 0 answers the last one. */
	s.in[n - 1].in_reply_to = s.strs[s.nstrs++] = xasprintf("<%zu@deep>", n - 1);

	double t0 = now_ms();
	struct thread *t = thread_build(s.in, n, NULL);
	double t1 = now_ms();

	assert_int_equal(t->nroots, 1);
	for (size_t r = 0; r < n; r++)
		assert_int_equal(t->nodes[t->order[r]].depth, r);
	assert_int_equal(t->nodes[t->first_root].size, n);

	struct sbuf sb = SBUF_INIT;

	assert_int_equal(thread_draw_prefix(t, t->order[n - 1], 8, &sb), 7 * 2 + 3);
	sbuf_release(&sb);
	print_message("# 10,000 deep: %.1f ms\n", t1 - t0);
	thread_free(&t);
	synth_free(&s, n);
}

static void test_timing_100k(void **state)
{
	const size_t n = 100000;
	struct synth s = { xcalloc(n, sizeof(*s.in)), xcalloc(3 * n, sizeof(char *)), 0 };
	unsigned seed = 7;

	/* Threads of about 8, a reply chain with References of up to 10 ids,
	 * every 10th a subject-only reply, some duplicates. */
	for (size_t i = 0; i < n; i++) {
		size_t base = i - i % 8, pos = i % 8;
		struct sbuf refs = SBUF_INIT;

		seed = seed * 1103515245u + 12345u;
		s.in[i].message_id = s.strs[s.nstrs++] =
			xasprintf("<%zu.%u@synthetic.example.org>", i % 99991 == 5 ? i - 1 : i,
				  (unsigned)(i * 2654435761u));
		for (size_t k = base; k < i; k++)
			sbuf_addf(&refs, "%s<%zu.%u@synthetic.example.org>", k > base ? " " : "",
				  k, (unsigned)(k * 2654435761u));
		if (pos > 0 && i % 10 != 0)
			s.in[i].references = s.strs[s.nstrs++] = sbuf_detach(&refs, NULL);
		sbuf_release(&refs);
		s.in[i].subject = s.strs[s.nstrs++] =
			xasprintf("%sSubject number %zu", pos ? "Re: " : "", base);
		s.in[i].date = 1600000000 + (int64_t)(seed % 10000000);
	}
	double best = 1e9;
	struct thread *t = NULL;

	for (int run = 0; run < 3; run++) {
		thread_free(&t);
		double t0 = now_ms();

		t = thread_build(s.in, n, NULL);
		double t1 = now_ms();

		if (t1 - t0 < best)
			best = t1 - t0;
	}
	assert_int_equal(t->n, n);
	size_t total = 0;

	for (int32_t r = t->first_root; r >= 0; r = t->nodes[r].next_sibling)
		total += t->nodes[r].size;
	assert_int_equal(total, n);
	print_message("# 100,000 messages threaded in %.1f ms (best of 3; %zu threads)\n", best,
		      t->nroots);
	thread_free(&t);
	synth_free(&s, n);
}

/* A mixed corpus: threads of up to 12 by References (some trimmed to
 * In-Reply-To only), parents that are not in the folder (one missing top
 * shared by several threads), reference loops, duplicate and absent
 * Message-IDs, ids without <>, subject-only replies, equal dates. */
static void synth_mixed(struct synth *s, size_t n)
{
	unsigned seed = 11;

	s->in = xcalloc(n, sizeof(*s->in));
	s->strs = xcalloc(4 * n, sizeof(char *));
	s->nstrs = 0;
	for (size_t i = 0; i < n; i++) {
		size_t base = i - i % 12, pos = i % 12;
		struct sbuf refs = SBUF_INIT;
		unsigned r;

		seed = seed * 1103515245u + 12345u;
		r = seed >> 8;
		if (r % 97 != 3)
			s->in[i].message_id = s->strs[s->nstrs++] =
				xasprintf(r % 89 == 1 ? "%zu@mixed" : "<%zu@mixed>",
					  r % 211 == 7 && i > 0 ? i - 1 : i);
		/* The first of every 5th thread answers a message not here. */
		if (pos == 0 && base % 60 == 0)
			sbuf_addf(&refs, "<gone%zu@mixed> ", base % 600);
		for (size_t k = base; k < i; k++)
			if ((k + r) % 5 != 0)
				sbuf_addf(&refs, "<%zu@mixed> ", k);
		if (r % 53 == 5)
			sbuf_addf(&refs, "<%zu@mixed> ", i + 3);	/* a loop */
		if (refs.len > 0 && r % 7 != 0)
			s->in[i].references = s->strs[s->nstrs++] = sbuf_detach(&refs, NULL);
		else if (pos > 0 && r % 3 == 0)
			s->in[i].in_reply_to = s->strs[s->nstrs++] =
				xasprintf("<%zu@mixed>", base + (r % pos));
		sbuf_release(&refs);
		s->in[i].subject = s->strs[s->nstrs++] =
			xasprintf("%s[list] topic %zu", pos && r % 4 ? "Re: " : "", base % 700);
		s->in[i].date = 1600000000 + (int64_t)(r % 5000000) - (r % 13 == 0 ? 7 : 0);
	}
}

/* FNV-1a over every node and the display order. */
static uint64_t thread_digest(const struct thread *t)
{
	uint64_t h = 0xcbf29ce484222325u;
	const unsigned char *p = (const unsigned char *)t->nodes;

	for (size_t k = 0; k < t->n * sizeof(*t->nodes); k++)
		h = (h ^ p[k]) * 0x100000001b3u;
	p = (const unsigned char *)t->order;
	for (size_t k = 0; k < t->n * sizeof(*t->order); k++)
		h = (h ^ p[k]) * 0x100000001b3u;
	return h ^ (uint64_t)t->first_root ^ (uint64_t)t->nroots << 32;
}

/* The threads of a fixed 30,000-message corpus are the ones the builder
 * gave before it read its input through a callback (digest recorded
 * then), with either option set. */
static void test_mixed_golden(void **state)
{
	const size_t n = 30000;
	const struct thread_options newest = { true, false, true, true };
	struct synth s;
	struct thread *t;

	synth_mixed(&s, n);
	t = thread_build(s.in, n, NULL);
	assert_int_equal(t->nroots, 2390);
	assert_int_equal(thread_digest(t), 0xbd356cf6659d01adu);
	/* Every case is in the corpus. */
	uint32_t seen = 0;

	for (size_t i = 0; i < n; i++)
		seen |= t->nodes[i].flags;
	assert_int_equal(seen, THREAD_MISSING_PARENT | THREAD_BY_SUBJECT | THREAD_DUPLICATE |
			 THREAD_LOOP_CUT | THREAD_LAST);
	thread_free(&t);
	t = thread_build(s.in, n, &newest);
	assert_int_equal(t->nroots, 406);
	assert_int_equal(thread_digest(t), 0x2cb872d21c3f26d5u);
	thread_free(&t);
	synth_free(&s, n);
}

struct asks {
	const struct thread_input *in;
	uint8_t *count[3];	/* per field bit: calls asking for it */
	size_t calls;
	char *held[4];		/* the last call's copies */
};

/* A copy of s that lives until the next call: the previous one is
 * scribbled over and freed, so a builder keeping a pointer past the next
 * call would thread differently (or trip ASan). */
static const char *transient(struct asks *a, int k, const char *s)
{
	if (a->held[k] != NULL) {
		memset(a->held[k], '#', strlen(a->held[k]));
		free(a->held[k]);
		a->held[k] = NULL;
	}
	return s != NULL ? (a->held[k] = xstrdup(s)) : NULL;
}

/* Gives only the fields asked for, so a field read without asking
 * would thread differently, each in a copy that lasts one call. */
static void ask_input(void *ctx, size_t i, unsigned fields, struct thread_input *in_r)
{
	struct asks *a = ctx;

	assert_null(in_r->message_id);
	assert_null(in_r->references);
	assert_null(in_r->subject);
	a->calls++;
	for (int b = 0; b < 3; b++)
		if (fields & (1u << b))
			a->count[b][i]++;
	for (int k = 0; k < 4; k++)
		transient(a, k, NULL);
	if (fields & THREAD_FIELD_ID) {
		in_r->message_id = transient(a, 0, a->in[i].message_id);
		in_r->date = a->in[i].date;
	}
	if (fields & THREAD_FIELD_REFS) {
		in_r->in_reply_to = transient(a, 1, a->in[i].in_reply_to);
		in_r->references = transient(a, 2, a->in[i].references);
	}
	if (fields & THREAD_FIELD_SUBJECT)
		in_r->subject = transient(a, 3, a->in[i].subject);
}

/* thread_build_fn: the threads thread_build gives, from one call per
 * message for its id and one for its references, and the subject asked
 * of thread tops only (those a subject may join); the strings of a call
 * are gone at the next (a header cache read one record at a time). */
static void test_build_fn(void **state)
{
	const size_t n = 30000;
	struct synth s;
	struct asks a = { NULL, { xcalloc(n, 1), xcalloc(n, 1), xcalloc(n, 1) }, 0, { NULL } };
	struct thread *t, *u;
	size_t subjects = 0;

	synth_mixed(&s, n);
	a.in = s.in;
	t = thread_build(s.in, n, NULL);
	u = thread_build_fn(n, ask_input, &a, NULL);
	assert_int_equal(thread_digest(u), thread_digest(t));
	assert_int_equal(thread_digest(u), 0xbd356cf6659d01adu);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a.count[0][i], 1);
		assert_int_equal(a.count[1][i], 1);
		assert_true(a.count[2][i] <= 1);
		if (a.count[2][i] == 0)
			assert_false(u->nodes[i].parent < 0 || (u->nodes[i].flags & THREAD_BY_SUBJECT));
		subjects += a.count[2][i];
	}
	assert_true(subjects < n / 2);
	assert_int_equal(a.calls, 2 * n + subjects);
	thread_free(&u);
	thread_free(&t);
	u = thread_build_fn(0, ask_input, &a, NULL);
	assert_int_equal(u->n, 0);
	assert_int_equal(u->first_root, -1);
	thread_free(&u);
	for (int b = 0; b < 3; b++)
		free(a.count[b]);
	for (int k = 0; k < 4; k++)
		transient(&a, k, NULL);
	synth_free(&s, n);
}

/* thread_save / thread_load: the same thread back for the same key and
 * count; nothing for another key, count or layout; every flipped byte
 * either refused or a thread that draws, counts and reverses in bounds. */
static void test_save_load(void **state)
{
	const struct thread_input in[] = {
		M("<c@x>", "<b@x>", "<a@x> <b@x>", "c", 3),
		M("<a@x>", NULL, NULL, "a", 1),
		M("<b@x>", "<a@x>", "<a@x>", "b", 2),
		M("<d@x>", "<a@x>", "<a@x>", "d", 4),
		M("<e@x>", NULL, NULL, "e", 5),
	};
	const size_t n = sizeof(in) / sizeof(in[0]);
	struct thread *t = thread_build(in, n, NULL), *u;
	struct sbuf draw = SBUF_INIT;
	uint32_t order[5];

	size_t len = thread_save_size(t);
	char *buf = xcalloc(1, len);

	thread_save(t, 42, buf);
	u = thread_load(buf, len, n, 42);
	assert_non_null(u);
	assert_int_equal(u->n, n);
	assert_int_equal(u->first_root, t->first_root);
	assert_int_equal(u->nroots, t->nroots);
	assert_memory_equal(u->nodes, t->nodes, n * sizeof(*t->nodes));
	assert_memory_equal(u->order, t->order, n * sizeof(*t->order));
	thread_free(&u);
	assert_null(thread_load(buf, len, n, 43));
	assert_null(thread_load(buf, len, n - 1, 42));
	assert_null(thread_load(buf, len - 1, n, 42));
	assert_null(thread_load(buf, 3, n, 42));
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			u = thread_load(buf, len, n, 42);
			for (size_t k = 0; u && k < n; k++) {
				size_t total, unread;

				thread_draw_prefix(u, (uint32_t)k, 8, &draw);
				thread_count(u, (uint32_t)k, NULL, &total, &unread);
				assert_true(total >= 1 && total <= n);
			}
			if (u) {
				sort_messages(NULL, n, SORT_THREADS, SORT_REVERSE, u, order);
				thread_free(&u);
			}
			buf[i] ^= (char)(1 << bit);
		}
	}
	sbuf_release(&draw);
	free(buf);
	thread_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_chain),
		cmocka_unit_test(test_missing_parent),
		cmocka_unit_test(test_grandparent_present),
		cmocka_unit_test(test_broken_references),
		cmocka_unit_test(test_loops_and_self),
		cmocka_unit_test(test_duplicates_and_no_ids),
		cmocka_unit_test(test_subject_fallback),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_newest_activity_and_counts),
		cmocka_unit_test(test_draw_prefix),
		cmocka_unit_test(test_deep_thread),
		cmocka_unit_test(test_timing_100k),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_mixed_golden),
		cmocka_unit_test(test_build_fn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
