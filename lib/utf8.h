/* UTF-8 validation shared by everything that must not pass invalid bytes on
 * (JSON output, header decoding, the screen).  Pure functions. */
#ifndef LOFT_LIB_UTF8_H
#define LOFT_LIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (n > 0 bytes available):
 * 1 for ASCII, 2-4 for a valid multi-byte sequence, 0 when the bytes are not
 * valid UTF-8 (overlong forms, surrogates and values past U+10FFFF
 * included). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Decodes the code point at s (n > 0 bytes): returns the bytes used (>= 1)
 * and *cp_r.  A byte that does not start a valid sequence gives U+FFFD and
 * uses 1 byte (tell it from a real U+FFFD by the length: 3). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp_r);

/* Whether s[0..n) is well-formed UTF-8 throughout (NUL bytes are ASCII). */
bool utf8_valid(const char *s, size_t n);

struct sbuf;
/* Appends cp encoded as UTF-8 to out; NUL, surrogates and values past
 * U+10FFFF are written as U+FFFD. */
void utf8_put(struct sbuf *out, uint32_t cp);

#endif
