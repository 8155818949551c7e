/* base64 (RFC 4648 section 4, the standard alphabet with '=' padding) over
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, for the SMTP AUTH exchanges
 * and RFC 2047 words.  GMime's codecs stay inside the message model.
 * Nothing here blocks. */
#ifndef LOFT_LIB_BASE64_H
#define LOFT_LIB_BASE64_H

#include "lib/sbuf.h"

#include <stddef.h>

/* Appends the base64 of in[0..len) to out, padded, on one line.  Returns
 * 0, or -1 when out->max would be passed (out unchanged). */
int base64_encode(const void *in, size_t len, struct sbuf *out);

/* The room base64_decode needs for len bytes of input. */
#define BASE64_DECODED_MAX(len) ((len) / 4 * 3 + 1)

/* Decodes in[0..len), strictly: a length that is a multiple of 4, only the
 * alphabet, '=' only as the last one or two bytes; no white space.  out
 * needs BASE64_DECODED_MAX(len) bytes and gets a NUL after the data.
 * Returns the decoded length, or -1 for anything else (out's contents are
 * then undefined; it may hold secrets, the caller clears it). */
long base64_decode(const char *in, size_t len, void *out);

#endif
