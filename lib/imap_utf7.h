/* imap_utf7: modified UTF-7 for IMAP mailbox names (RFC 3501 5.1.3), shared
 * by the server (imapd/) and the client side (remote/).  Pure functions,
 * nothing blocks; output goes to the caller's sbuf. */
#ifndef LOFT_LIB_IMAP_UTF7_H
#define LOFT_LIB_IMAP_UTF7_H

#include <stdbool.h>

struct sbuf;

/* Appends the modified UTF-7 form of UTF-8 name to out.  Returns 0, or -1
 * when name is not valid UTF-8 (out then holds a prefix). */
int imap_utf7_encode(const char *name, struct sbuf *out);
/* Appends the UTF-8 form of modified UTF-7 name to out.  Returns 0, or -1
 * for anything not in canonical modified UTF-7 (bad base64, "&" alone,
 * an encoded printable ASCII character, bad padding, unpaired surrogates). */
int imap_utf7_decode(const char *name, struct sbuf *out);
/* Whether name may be a mailbox name in UTF-8 (UTF8=ACCEPT, RFC 6855
 * section 3): well-formed UTF-8 without control characters (C0, DEL, C1)
 * and without U+2028 or U+2029. */
bool imap_utf8_name_ok(const char *name);

#endif
