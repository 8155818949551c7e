/* sanitize: text from outside (mail headers and bodies, file names, SMTP
 * peers, smarthost replies, Sieve results) made safe to print on a terminal
 * or to write as one log line.
 *
 * A terminal obeys what it is sent: ESC and the C1 controls start escape
 * sequences (OSC 52 writes the clipboard, OSC 0 retitles the window), CR
 * and BS overwrite what was shown, a newline in a one-line field forges a
 * line, and the bidi overrides U+202A-U+202E and U+2066-U+2069 reorder what
 * follows ("invoice\u202Efdp.exe" reads "invoiceexe.pdf").  Every path that
 * prints such text goes through sanitize_add(); the curses columns use the
 * same code in SANITIZE_CELL mode, JSON output escapes the same characters.
 *
 * By default the unsafe characters are made visible as escapes: "\n" and
 * "\r", "\xNN" for the other C0 controls, DEL and each byte that is not
 * valid UTF-8, "\uNNNN" for C1 and bidi controls.  Tab is kept; newline is
 * kept unless SANITIZE_LINE; CR is kept only right before a newline in that
 * mode.  Backslashes are not doubled: the result is for eyes, not for
 * parsing back.  The output is always valid UTF-8 with no control but tab
 * and newline.  Pure functions; nothing blocks; out of memory aborts. */
#ifndef LOFT_LIB_SANITIZE_H
#define LOFT_LIB_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

enum sanitize_flags {
	/* A one-line field (a header, a file name, a log line): newline and
	 * CR are escaped too. */
	SANITIZE_LINE = 1 << 0,
	/* For measured screen columns: each unsafe character (tab and newline
	 * included) becomes one cell, '?' for a control and U+FFFD for a byte
	 * that is not UTF-8. */
	SANITIZE_CELL = 1 << 1,
};

/* True for the code points never sent to a terminal raw: C0 (tab and
 * newline included: callers decide), DEL, C1 (U+0080-U+009F) and the bidi
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069). */
bool sanitize_is_control(uint32_t cp);

/* Appends s (len bytes, may hold NULs; NULL is empty) to out, sanitised as
 * flags (enum sanitize_flags bits) say. */
void sanitize_add(struct sbuf *out, const char *s, size_t len, unsigned flags);

/* s (NUL-terminated; NULL gives "") sanitised into a new string, which the
 * caller frees. */
char *sanitize_dup(const char *s, unsigned flags);

#endif
