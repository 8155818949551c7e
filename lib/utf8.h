/* UTF-8 validation shared by everything that must not pass invalid bytes on
 * (JSON output, header decoding, the screen).  Pure functions. */
#ifndef LOFT_LIB_UTF8_H
#define LOFT_LIB_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (n > 0 bytes available):
 * 1 for ASCII, 2-4 for a valid multi-byte sequence, 0 when the bytes are not
 * valid UTF-8 (overlong forms, surrogates and values past U+10FFFF
 * included). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
