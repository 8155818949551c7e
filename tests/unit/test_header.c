/* header: where the header block ends and how its fields are walked, fed
 * the cases the four old splitters (deliver_check, bounce, envelope,
 * threadkey) each treated differently. */
#include "lib/header.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define S(lit) lit, sizeof(lit) - 1

static void test_block_len(void **state)
{
	static const struct {
		const char *data;
		size_t len, hdr, body;
	} cases[] = {
		{ S(""), 0, 0 },
		{ S("\n"), 0, 1 },			/* empty header, empty body */
		{ S("\r\n"), 0, 2 },
		{ S("\nBody\n"), 0, 1 },		/* deliver_check took all as header */
		{ S("\r\nBody\n"), 0, 2 },		/* bounce took all as header */
		{ S("A: b\n\nbody"), 5, 6 },
		{ S("A: b\r\n\r\nbody"), 6, 8 },
		{ S("A: b\n\r\nbody"), 5, 7 },		/* mixed line ends */
		{ S("A: b\n"), 5, 5 },			/* no empty line: all header */
		{ S("A: b"), 4, 4 },			/* no line end at all */
		{ S("A: b\n\n"), 5, 6 },		/* empty line at the very end: found */
		{ S("A: b\n\r"), 6, 6 },		/* a lone CR is not an empty line */
		{ S("A: b\r\rc\n\nB"), 8, 9 },		/* CRs inside a line */
		{ S("A: b\n \nB: c\n\nx"), 12, 13 },	/* a blank-only line is not empty */
		{ S("From x Mon Jan  1 00:00:00 2024\nA: b\n\nx"), 37, 38 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t body = 12345, hdr = header_block_len(cases[i].data, cases[i].len, &body);

		if (hdr != cases[i].hdr || body != cases[i].body)
			fail_msg("case %zu: header %zu body %zu, want %zu %zu", i, hdr, body,
				 cases[i].hdr, cases[i].body);
		assert_int_equal(header_block_len(cases[i].data, cases[i].len, NULL), hdr);
	}
}

/* The fields of data as "name=[unfolded value]|raw length;" each. */
static void walk(const char *data, size_t len, struct sbuf *out)
{
	struct header_iter it;
	struct header_field f;

	header_iter_init(&it, data, len);
	while (header_iter_next(&it, &f)) {
		sbuf_add(out, f.name, f.name_len);
		sbuf_addstr(out, "=[");
		assert_int_equal(header_unfold(&f, out), 0);
		sbuf_addf(out, "]|%zu;", f.raw_len);
		assert_ptr_equal(f.value, f.name + (strchr(f.name, ':') - f.name) + 1);
	}
}

static void test_fields(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *want;
	} cases[] = {
		{ S(""), "" },
		{ S("\nA: b\n"), "" },					/* empty header */
		{ S("A: b\nC:d\n\nE: f\n"), "A=[b]|5;C=[d]|4;" },	/* stops at the empty line */
		{ S("A: b\r\nC: d\r\n\r\nE: f"), "A=[b]|6;C=[d]|6;" },
		{ S("Subject: one\n two\n\tthree\nX: y"), "Subject=[one two\tthree]|25;X=[y]|4;" },
		{ S("Subject: one\r\n two\r\n\r\n"), "Subject=[one two]|20;" },
		{ S("Subject :  spaced  \n"), "Subject=[spaced]|20;" },
		{ S("A:\nB:\n x\n"), "A=[]|3;B=[x]|6;" },
		{ S(" lead\n\tcont\nA: b\n"), "A=[b]|5;" },		/* continuation first */
		{ S("no colon\n cont: x\nA: b\n"), "A=[b]|5;" },
		{ S("Bad Name: x\nA: b\n"), "A=[b]|5;" },
		{ S("From me Mon Jan  1 00:00:00 2024\nA: b\n"), "A=[b]|5;" },
		{ S("\xef\xbb\xbfSubject: x\nA: b\n"), "A=[b]|5;" },	/* a BOM */
		{ S(": x\nA: b"), "A=[b]|4;" },				/* empty name */
		{ S("A: b\rc\n"), "A=[bc]|7;" },			/* a lone CR */
		{ S("A: b\n \n"), "A=[b]|7;" },				/* blank-only fold */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct sbuf out = SBUF_INIT;

		walk(cases[i].data, cases[i].len, &out);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out.buf, cases[i].want);
		sbuf_release(&out);
	}
}

static void test_field_is_and_unfold_max(void **state)
{
	static const char data[] = "delivered-TO: <a@b>\n";
	struct header_iter it;
	struct header_field f;
	struct sbuf out;

	header_iter_init(&it, data, sizeof(data) - 1);
	assert_true(header_iter_next(&it, &f));
	assert_true(header_field_is(&f, "Delivered-To"));
	assert_false(header_field_is(&f, "Delivered"));
	assert_false(header_field_is(&f, "Delivered-To-X"));
	sbuf_init(&out, 4);
	sbuf_addstr(&out, "ab");
	assert_int_equal(header_unfold(&f, &out), -1);
	assert_string_equal(out.buf, "ab");	/* unchanged on failure */
	sbuf_release(&out);
	assert_false(header_iter_next(&it, &f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_len),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_field_is_and_unfold_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
