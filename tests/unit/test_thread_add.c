/* thread_add: new messages added to built threads give exactly what
 * thread_build gives for all of them (every node field, the order, the
 * roots), over random folders with replies, missing parents, duplicates,
 * loops, subjects and ties, with each option set; it refuses (NULL) what
 * it cannot tell, and the ids thread_add_ids writes serve the next
 * addition.  The bytes are read where they lie, at any alignment (a
 * cache's map gives 4), and bytes naming messages that are not there are
 * refused.  The usual cases (a reply to a present message, a new thread)
 * are taken. */
#include "client/thread_add.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Every field of two threads of n messages equal. */
static void same(const struct thread *a, const struct thread *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->first_root, b->first_root);
	assert_int_equal(a->nroots, b->nroots);
	for (size_t i = 0; i < a->n; i++) {
		const struct thread_node *x = &a->nodes[i], *y = &b->nodes[i];

		assert_int_equal(x->parent, y->parent);
		assert_int_equal(x->first_child, y->first_child);
		assert_int_equal(x->next_sibling, y->next_sibling);
		assert_int_equal(x->root, y->root);
		assert_int_equal(x->depth, y->depth);
		assert_int_equal(x->row, y->row);
		assert_int_equal(x->size, y->size);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->activity, y->activity);
		assert_int_equal(a->order[i], b->order[i]);
	}
}

/* thread_input_fn over an array. */
static void from_array(void *ctx, size_t i, unsigned fields, struct thread_input *in)
{
	(void)fields;
	*in = ((const struct thread_input *)ctx)[i];
}

/* The strings of one random message; the inputs point into them. */
struct rmsg {
	char id[32], irt[32], refs[128], subj[32];
};

static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

/* Message i of a folder: mostly replies to one of the earlier ones
 * (References alone, In-Reply-To alone, or both, sometimes naming a
 * message never present), some new threads, some duplicate ids, loops,
 * no id at all, a few subjects shared with or without "Re:", dates often
 * equal. */
static void random_msg(unsigned *seed, size_t i, struct rmsg *m, struct thread_input *in)
{
	unsigned kind = rnd(seed, 16), p = i ? rnd(seed, (unsigned)i) : 0;

	snprintf(m->id, sizeof(m->id), "<m%zu@x>", i);
	if (kind == 0 && i > 0)
		snprintf(m->id, sizeof(m->id), "<m%u@x>", p);		/* a duplicate */
	m->irt[0] = m->refs[0] = '\0';
	if (kind >= 6 && i > 0) {
		unsigned gp = p ? rnd(seed, p) : 0;

		if (kind & 1)
			snprintf(m->refs, sizeof(m->refs), "<m%u@x> <m%u@x>", gp, p);
		if (kind & 2)
			snprintf(m->irt, sizeof(m->irt), "<m%u@x>", p);
		if (kind == 8)
			snprintf(m->refs, sizeof(m->refs), "<gone%u@x> <m%u@x>", p, p);
		if (kind == 10)
			snprintf(m->refs, sizeof(m->refs), "<m%u@x> <gone%u@x>", p, rnd(seed, 4));
		if (kind == 12)
			snprintf(m->refs, sizeof(m->refs), "<m%zu@x> <m%u@x>", i + 1, p); /* a loop */
	} else if (kind == 1) {
		snprintf(m->refs, sizeof(m->refs), "<gone%u@x>", rnd(seed, 8));
	}
	snprintf(m->subj, sizeof(m->subj), "%s[l] topic %u", rnd(seed, 2) ? "Re: " : "",
		 rnd(seed, 12));
	*in = (struct thread_input){ kind == 2 ? NULL : m->id, m->irt[0] ? m->irt : NULL,
				     m->refs[0] ? m->refs : NULL, m->subj,
				     (int64_t)(1000 + rnd(seed, 400)) };
}

/* n old and k new messages with opt: thread_add agrees with thread_build
 * or refuses, and so does thread_add_ids; the bytes are read at offset
 * (0 or 4: a cache's alignment) from an 8-aligned start.  Returns whether
 * it added. */
static bool one(unsigned seed, size_t n, size_t k, const struct thread_options *opt,
		size_t offset)
{
	struct rmsg *m = xcalloc(n + k, sizeof(*m));
	struct thread_input *in = xcalloc(n + k, sizeof(*in));
	struct sbuf ids = SBUF_INIT, ids2 = SBUF_INIT;
	struct thread *old, *all, *added;
	char *at;
	bool took;

	for (size_t i = 0; i < n + k; i++)
		random_msg(&seed, i, &m[i], &in[i]);
	old = thread_build(in, n, opt);
	all = thread_build(in, n + k, opt);
	while (ids.len < offset)
		sbuf_addch(&ids, '\0');
	thread_ids_make(old, from_array, in, opt, &ids);
	at = ids.buf + offset;
	added = thread_add(old, at, ids.len - offset, in + n, k, opt);
	took = added != NULL;
	assert_int_equal(thread_add_ids(at, ids.len - offset, n, in + n, k, opt, &ids2),
			 took ? 0 : -1);
	if (took) {
		same(added, all);
		/* The ids written are those of the n + k. */
		struct sbuf want = SBUF_INIT;

		thread_ids_make(all, from_array, in, opt, &want);
		assert_int_equal(ids2.len, want.len);
		assert_memory_equal(ids2.buf, want.buf, want.len);
		sbuf_release(&want);
	} else {
		assert_int_equal(ids2.len, 0);
	}
	thread_free(&old);
	thread_free(&all);
	thread_free(&added);
	sbuf_release(&ids);
	sbuf_release(&ids2);
	free(m);
	free(in);
	return took;
}

static void test_random(void **state)
{
	static const struct thread_options opts[] = {
		THREAD_OPTIONS_DEFAULT,
		{ true, false, true, false },
		{ false, false, false, true },
		{ true, true, false, true },
	};
	size_t tried = 0, added = 0;

	(void)state;
	for (unsigned seed = 1; seed <= 3000; seed++) {
		const struct thread_options *opt = &opts[seed % 4];
		size_t n = 1 + seed % 97, k = 1 + seed % 3;

		tried++;
		added += one(seed, n, k, opt, seed % 2 ? 4 : 0);
	}
	print_message("added %zu of %zu\n", added, tried);
	assert_true(added * 4 > tried);	/* most single replies go in */
}

/* The common cases by hand: a reply to a present message lands under it
 * and its thread moves last; a new thread comes last; a reply naming a
 * parent that is gone hangs under the nearest present one. */
static void test_usual(void **state)
{
	const struct thread_input in[] = {
		{ "<a@x>", NULL, NULL, "a", 10 },
		{ "<b@x>", "<a@x>", "<a@x>", "Re: a", 20 },
		{ "<c@x>", NULL, NULL, "c", 30 },
		{ "<d@x>", NULL, "<a@x> <b@x>", "Re: a", 40 },	/* reply to b */
		{ "<e@x>", NULL, NULL, "e", 50 },		/* new thread */
		{ "<f@x>", NULL, "<c@x> <lost@x>", "Re: c", 45 },
	};
	struct thread *old = thread_build(in, 3, NULL), *all = thread_build(in, 6, NULL), *t;
	struct sbuf ids = SBUF_INIT, next = SBUF_INIT;

	(void)state;
	thread_ids_make(old, from_array, (void *)in, NULL, &ids);
	t = thread_add(old, ids.buf, ids.len, in + 3, 3, NULL);
	assert_non_null(t);
	same(t, all);
	assert_int_equal(t->nodes[3].parent, 1);
	assert_int_equal(t->nodes[5].parent, 2);
	assert_true(t->nodes[5].flags & THREAD_MISSING_PARENT);
	/* Bytes that do not fit: refused. */
	assert_null(thread_add(old, ids.buf, ids.len - 1, in + 3, 3, NULL));
	assert_null(thread_add(all, ids.buf, ids.len, in + 3, 3, NULL));
	assert_int_equal(thread_add_ids(ids.buf, ids.len - 1, 3, in + 3, 3, NULL, &next), -1);
	assert_int_equal(next.len, 0);
	thread_free(&t);
	/* A message whose id an old one names as its parent: refused. */
	const struct thread_input late[] = {
		{ "<y@x>", "<x@x>", NULL, "Re: x", 10 },
		{ "<x@x>", NULL, NULL, "x", 5 },
	};
	struct thread *one_old = thread_build(late, 1, NULL);

	sbuf_reset(&ids);
	thread_ids_make(one_old, from_array, (void *)late, NULL, &ids);
	assert_null(thread_add(one_old, ids.buf, ids.len, late + 1, 1, NULL));
	thread_free(&one_old);
	thread_free(&old);
	thread_free(&all);
	sbuf_release(&ids);
	sbuf_release(&next);
}

/* Bytes whose entries name a message past the old ones (garbled, or of
 * another folder with the same count) are refused, not followed. */
static void test_garbled(void **state)
{
	const struct thread_input in[] = {
		{ "<a@x>", NULL, NULL, "a", 10 },
		{ "<b@x>", NULL, NULL, "b", 20 },
		{ "<c@x>", NULL, "<a@x>", "Re: a", 30 },	/* the new one */
	};
	struct thread *old = thread_build(in, 2, NULL), *t;
	struct sbuf ids = SBUF_INIT, out = SBUF_INIT;
	/* The layout of thread_add.c's bytes: a 40-byte head, the dates,
	 * then 16-byte id entries {hash, idx, free}. */
	const size_t head = 40, entries = head + 2 * sizeof(int64_t);
	size_t n_ids;

	(void)state;
	thread_ids_make(old, from_array, (void *)in, NULL, &ids);
	n_ids = (ids.len - entries) / 16;
	t = thread_add(old, ids.buf, ids.len, in + 2, 1, NULL);
	assert_non_null(t);
	assert_int_equal(t->nodes[2].parent, 0);
	thread_free(&t);
	/* Every id entry now names message 7 of 2. */
	for (size_t e = 0; e < n_ids; e++) {
		int32_t idx = 7;

		memcpy(ids.buf + entries + e * 16 + 8, &idx, sizeof(idx));
	}
	assert_null(thread_add(old, ids.buf, ids.len, in + 2, 1, NULL));
	assert_int_equal(thread_add_ids(ids.buf, ids.len, 2, in + 2, 1, NULL, &out), -1);
	thread_free(&old);
	sbuf_release(&ids);
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_usual),
		cmocka_unit_test(test_garbled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
