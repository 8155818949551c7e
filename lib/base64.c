/* base64 over OpenSSL: EVP_EncodeBlock pads but takes an int length, and
 * EVP_DecodeBlock skips blanks at both ends, counts the pad bytes in its
 * result and accepts '=' inside, so the input is checked here first. */
#include "lib/base64.h"
#include "lib/ossl.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* Input bytes a chunk: a multiple of 3, so only the last chunk pads. */
#define CHUNK 768

int base64_encode(const void *in, size_t len, struct sbuf *out)
{
	const unsigned char *p = in;
	unsigned char buf[CHUNK / 3 * 4 + 1];
	size_t old = out->len;

	for (size_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		int k = EVP_EncodeBlock(buf, p + off, (int)n);

		if (sbuf_add(out, buf, (size_t)k) < 0) {
			sbuf_setlen(out, old);
			return -1;
		}
	}
	return 0;
}

static bool alphabet(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

long base64_decode(const char *in, size_t len, void *out)
{
	size_t pad = 0;
	int n;

	if (len % 4 != 0 || len > INT_MAX)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (!alphabet((unsigned char)in[i]))
			return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n != len / 4 * 3)
		return -1;
	((char *)out)[n - pad] = '\0';
	return (long)((size_t)n - pad);
}
