/* smtp_data: CRLF.CRLF is the only end; every smuggling variant is read
 * through and refused; dot-unstuffing; the size limit; and feeding one
 * byte at a time or in random chunks changes nothing. */
#include "localmta/smtp_data.h"
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct result {
	int ended;		/* 1 when the end was found */
	size_t used;		/* bytes up to and including the end */
	unsigned flags;
	const char *error;
	char text[4096];
	size_t len;
};

/* chunk 0: all at once; SIZE_MAX: random chunk sizes (seeded). */
static void run(const char *in, size_t len, size_t chunk, uint64_t max, struct result *r)
{
	struct sbuf out = SBUF_INIT;
	struct smtp_data d;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	smtp_data_init(&d, &out, max);
	while (off < len && !r->ended) {
		size_t n = len - off, used;

		if (chunk == SIZE_MAX)
			n = 1 + (size_t)rand() % (n < 17 ? n : 17);
		else if (chunk != 0 && n > chunk)
			n = chunk;
		r->ended = smtp_data_feed(&d, in + off, n, &used);
		assert_true(used <= n);
		assert_true(r->ended || used == n);
		off += used;
	}
	r->used = off;
	r->flags = d.flags;
	r->error = r->ended ? smtp_data_error(&d) : NULL;
	r->len = out.len < sizeof(r->text) ? out.len : sizeof(r->text) - 1;
	memcpy(r->text, out.buf, r->len);
	sbuf_release(&out);
}

/* The same result in one piece, byte by byte, and in random chunks. */
static void run_all_ways(const char *in, size_t len, uint64_t max, struct result *r)
{
	struct result other;
	size_t chunks[] = { 1, 2, 3, 7, SIZE_MAX, SIZE_MAX, SIZE_MAX };

	run(in, len, 0, max, r);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run(in, len, chunks[i], max, &other);
		assert_int_equal(other.ended, r->ended);
		assert_int_equal(other.used, r->used);
		assert_int_equal(other.flags, r->flags);
		assert_int_equal(other.len, r->len);
		assert_memory_equal(other.text, r->text, r->len);
	}
}

static void test_plain_message(void **state)
{
	static const char in[] = "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n";
	struct result r;

	run_all_ways(in, sizeof(in) - 1, 0, &r);
	assert_int_equal(r.ended, 1);
	assert_int_equal(r.used, sizeof(in) - 1 - 6);	/* QUIT stays unread */
	assert_null(r.error);
	assert_int_equal(r.len, 21);
	assert_memory_equal(r.text, "Subject: hi\r\n\r\nbody\r\n", 21);
}

static void test_empty_message(void **state)
{
	struct result r;

	run_all_ways(".\r\n", 3, 0, &r);
	assert_int_equal(r.ended, 1);
	assert_int_equal(r.len, 0);
	assert_null(r.error);
}

static void test_dot_unstuffing(void **state)
{
	static const char in[] = "..leading\r\n...two\r\n.x\r\n..\r\na.b\r\n.\r\n";
	struct result r;

	run_all_ways(in, sizeof(in) - 1, 0, &r);
	assert_int_equal(r.ended, 1);
	assert_null(r.error);
	r.text[r.len] = '\0';
	assert_string_equal(r.text, ".leading\r\n..two\r\nx\r\n.\r\na.b\r\n");
}

/* Each variant: a fake end, a "smuggled" message, then the real end. */
static const struct {
	const char *name, *fake_end;
} smuggle[] = {
	{ "LF.LF", "\n.\n" },
	{ "CRLF.LF", "\r\n.\n" },
	{ "LF.CRLF", "\n.\r\n" },
	{ "CR.CR", "\r.\r" },
	{ "CRLF.CR", "\r\n.\r" },
	{ "CR.LF", "\r.\n" },
	{ "CR.CRLF", "\r.\r\n" },
	{ "LF.CR", "\n.\r" },
	{ "CRLF.CRCRLF", "\r\n.\r\r\n" },
	{ "CRLF.LFCRLF", "\r\n.\n\r\n" },
	{ "CRLF.NULCRLF", "\r\n.\0\r\n" },
};

static void test_smuggling_variants(void **state)
{
	for (size_t i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++) {
		char in[512];
		size_t n = 0, fl = strlen(smuggle[i].fake_end) + (strstr(smuggle[i].name, "NUL") ? 2 : 0);
		struct result r;

		n += (size_t)sprintf(in, "Subject: a\r\n\r\nfirst");
		memcpy(in + n, smuggle[i].fake_end, fl);
		n += fl;
		n += (size_t)sprintf(in + n, "MAIL FROM:<evil@x.org>\r\nRCPT TO:<victim@y.org>\r\n"
					     "DATA\r\nsmuggled\r\n.\r\nQUIT\r\n");
		run_all_ways(in, n, 0, &r);
		if (!r.ended || r.used != n - 6 || r.error == NULL)
			fail_msg("%s: ended %d used %zu of %zu error %s", smuggle[i].name, r.ended,
				 r.used, n, r.error ? r.error : "none");
		assert_true(strncmp(r.error, "550 5.6.0", 9) == 0);
	}
}

static void test_bare_lf_and_nul(void **state)
{
	struct result r;

	run_all_ways("a\nb\r\n.\r\n", 8, 0, &r);
	assert_true(r.flags & SMTP_DATA_BARE_LF);
	assert_string_equal(r.error, "550 5.6.0 Message refused: bare LF or CR in data (lines must end with CRLF)");
	run_all_ways("a\0b\r\n.\r\n", 8, 0, &r);
	assert_true(r.flags & SMTP_DATA_NUL);
	assert_string_equal(r.error, "550 5.6.0 Message refused: NUL byte in data");
}

static void test_long_line(void **state)
{
	static char in[2100];
	struct result r;

	memset(in, 'x', 998);
	memcpy(in + 998, "\r\n.\r\n", 5);
	run_all_ways(in, 1003, 0, &r);
	assert_null(r.error);
	memset(in, 'x', 999);
	memcpy(in + 999, "\r\n.\r\n", 5);
	run_all_ways(in, 1004, 0, &r);
	assert_true(r.flags & SMTP_DATA_LONG_LINE);
	assert_true(strncmp(r.error, "550 5.6.0", 9) == 0);
	/* A stuffed dot counts in the 998 octets of the line as sent. */
	in[0] = '.';
	memset(in + 1, 'x', 997);
	memcpy(in + 998, "\r\n.\r\n", 5);
	run_all_ways(in, 1003, 0, &r);
	assert_null(r.error);
}

static void test_size_limit(void **state)
{
	static char in[10000];
	struct result r;
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(in + n, "line %03d of a message that will be too big\r\n", i);
	memcpy(in + n, ".\r\nQUIT\r\n", 9);
	run_all_ways(in, n + 9, 1000, &r);
	assert_int_equal(r.ended, 1);
	assert_int_equal(r.used, n + 3);	/* read to the real end */
	assert_true(r.flags & SMTP_DATA_TOO_BIG);
	assert_true(r.len <= 1000);
	assert_string_equal(r.error, "552 5.3.4 Message size exceeds fixed maximum message size");
	run_all_ways(in, n + 9, n, &r);
	assert_null(r.error);	/* exactly at the limit */
}

static void test_unterminated(void **state)
{
	struct result r;

	run_all_ways("abc\r\n.", 6, 0, &r);
	assert_int_equal(r.ended, 0);
	run_all_ways("abc\r\n.\r", 7, 0, &r);
	assert_int_equal(r.ended, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_smuggling_variants),
		cmocka_unit_test(test_bare_lf_and_nul),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_unterminated),
	};
	srand(42);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
