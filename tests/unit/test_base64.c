/* base64: RFC 4648's vectors both ways, strict decoding fed the inputs the
 * old hand-written decoder in smtp_auth.c refused, and long inputs. */
#include "lib/base64.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define S(lit) lit, sizeof(lit) - 1

static const struct {
	const char *plain;
	size_t len;
	const char *coded;
} vectors[] = {
	{ S(""), "" },
	{ S("f"), "Zg==" },
	{ S("fo"), "Zm8=" },
	{ S("foo"), "Zm9v" },
	{ S("foob"), "Zm9vYg==" },
	{ S("fooba"), "Zm9vYmE=" },
	{ S("foobar"), "Zm9vYmFy" },
	{ S("\0user\0secret"), "AHVzZXIAc2VjcmV0" },		/* AUTH PLAIN */
	{ S("\xff\xfe\xfd"), "//79" },
	{ S("\xfb\xff"), "+/8=" },
	{ S("J\xc3\xbcrgen"), "SsO8cmdlbg==" },
};

static void test_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(*vectors); i++) {
		struct sbuf out = SBUF_INIT;
		size_t clen = strlen(vectors[i].coded);
		char *buf = malloc(BASE64_DECODED_MAX(clen));

		assert_int_equal(base64_encode(vectors[i].plain, vectors[i].len, &out), 0);
		if (strcmp(out.buf, vectors[i].coded) != 0)
			fail_msg("case %zu: encoded \"%s\", want \"%s\"", i, out.buf, vectors[i].coded);
		if (base64_decode(vectors[i].coded, clen, buf) != (long)vectors[i].len)
			fail_msg("case %zu: decoded length", i);
		assert_memory_equal(buf, vectors[i].plain, vectors[i].len);
		assert_int_equal(buf[vectors[i].len], '\0');
		free(buf);
		sbuf_release(&out);
	}
}

static void test_decode_refuses(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} bad[] = {
		{ S("Zg") },		/* no padding */
		{ S("Zg=") },
		{ S("Z") },
		{ S("Z===") },		/* three pad bytes */
		{ S("====") },
		{ S("Zg=a") },		/* pad inside */
		{ S("Z=g=") },
		{ S("Zg==Zg==") },	/* pad, then more */
		{ S("Zm9v\n") },	/* white space anywhere */
		{ S(" Zm9v") },
		{ S("Zm9v    ") },
		{ S("Zm 9") },
		{ S("Zm9\0") },		/* a NUL */
		{ S("Zm9-") },		/* the URL alphabet */
		{ S("Zm9_") },
		{ S("Zm9\xc3") },
		{ S("*") },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (base64_decode(bad[i].in, bad[i].len, out) != -1)
			fail_msg("case %zu accepted", i);
}

/* Longer than one encoding chunk, every length around its edges. */
static void test_long_round_trip(void **state)
{
	unsigned char plain[3000];

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 760; len < 2400; len += 1 + len % 5) {
		struct sbuf out = SBUF_INIT;
		char *back;

		assert_int_equal(base64_encode(plain, len, &out), 0);
		assert_int_equal(out.len, (len + 2) / 3 * 4);
		assert_null(memchr(out.buf, '\n', out.len));
		back = malloc(BASE64_DECODED_MAX(out.len));
		assert_int_equal(base64_decode(out.buf, out.len, back), (long)len);
		assert_memory_equal(back, plain, len);
		free(back);
		sbuf_release(&out);
	}
}

static void test_encode_max(void **state)
{
	struct sbuf out;

	sbuf_init(&out, 6);
	sbuf_addstr(&out, "ab");
	assert_int_equal(base64_encode("foo", 3, &out), 0);
	assert_string_equal(out.buf, "abZm9v");
	assert_int_equal(base64_encode("f", 1, &out), -1);
	assert_string_equal(out.buf, "abZm9v");
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_long_round_trip),
		cmocka_unit_test(test_encode_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
