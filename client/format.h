/* format: mutt-like index_format expansion, and the terminal cell widths
 * every line of the UI is measured with.
 *
 * Widths are terminal cells: CJK and emoji are 2, combining marks and
 * other zero-width characters 0, a character followed by U+FE0F (emoji
 * presentation) 2 — terminals draw it wide although wcwidth() says 1.
 * Control characters (C0, DEL, C1 and the bidi overrides: lib/sanitize.h)
 * are shown as '?' and invalid UTF-8 bytes as U+FFFD, each 1 cell:
 * whatever these functions append to an sbuf is valid UTF-8
 * without controls, so its width on screen is exactly the width returned.
 *
 * Everything here is pure and never blocks (format_expand calls
 * localtime_r/strftime, which may read the time zone database once).
 * Nothing allocates except the sbuf growing; out of memory aborts. */
#ifndef LOFT_CLIENT_FORMAT_H
#define LOFT_CLIENT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

/* ---- widths (client/width.c) ---- */

/* Cells needed to show the UTF-8 string s (NUL-terminated; NULL is 0). */
size_t format_width(const char *utf8);
/* The same for len bytes. */
size_t format_width_n(const char *s, size_t len);
/* Appends the longest prefix of s that fits in max_cells cells, sanitised
 * as above.  When s does not fit and ellipsis is true, the prefix is
 * followed by "…" (1 cell) within max_cells.  A wide character never
 * straddles the limit, so the result may be one cell short: returns the
 * cells appended (<= max_cells). */
size_t format_truncate(const char *s, size_t len, size_t max_cells, bool ellipsis,
		       struct sbuf *out);
/* Appends s sanitised, padded with spaces to at least min_cells and cut
 * (with "…") to at most max_cells (SIZE_MAX: no limit); left-aligned, or
 * right-aligned when right is true.  Returns the cells appended: exactly
 * min_cells when min_cells == max_cells. */
size_t format_field(const char *s, size_t len, size_t min_cells, size_t max_cells,
		    bool right, struct sbuf *out);

/* ---- index_format (client/format.c) ---- */

enum format_flag {
	FORMAT_F_UNREAD = 1 << 0,	/* not \Seen */
	FORMAT_F_OLD = 1 << 1,		/* unread but seen by a client before ("O") */
	FORMAT_F_DELETED = 1 << 2,
	FORMAT_F_FLAGGED = 1 << 3,
	FORMAT_F_REPLIED = 1 << 4,
	FORMAT_F_TAGGED = 1 << 5,	/* marked in the UI for a group action */
};

/* One index line's data; every string may be NULL (shown as empty).  The
 * caller keeps them alive during format_expand() only. */
struct format_msg {
	long number;			/* %C */
	unsigned flags;			/* enum format_flag bits, %Z */
	int64_t date;			/* %d %D %{...} %[...]: seconds since the epoch; 0 unknown */
	int64_t received;		/* %(...): internal date */
	const char *from_name, *from_addr;
	const char *to_name, *to_addr;	/* the first recipient, for mail the user sent */
	bool from_me;			/* the From address is one of the user's */
	const char *subject;		/* %s, decoded */
	const char *tree;		/* thread-tree prefix drawn before the subject */
	uint64_t size;			/* %c bytes */
	long lines;			/* %l; < 0 unknown */
	const char *tags;		/* %g %Y, space-separated */
};

struct format_options {
	const char *date_format;	/* strftime format of %d/%D; NULL: "%y-%m-%d %H:%M" */
};

/* Expands fmt onto out (appended).  Escapes, each optionally as
 * %[-][MIN][.MAX]X (MIN/MAX in cells, '-' left-aligns; numbers default to
 * right alignment as in printf):
 *   %C number   %Z flags (3 cells: D/N/O/r, !, *)   %c size (1.2K, 3M)
 *   %l lines    %d %D date_format   %{fmt} %[fmt] strftime, local time
 *   %(fmt) received date   %s tree + subject   %F %L from name, or "To NAME"
 *   when from_me   %n from name (address when no name)   %a from address
 *   %g %Y tags   %% a '%'   %?X?then&else? when X is non-empty/non-zero
 *   (the branches are expanded; "&else" is optional).
 * Anything else is copied literally (an unknown "%q" shows as "%q").  A
 * field cut by MAX ends in "…"; without '-' a field is right-aligned, as
 * in printf ("%4C").
 * opt may be NULL for the defaults.  Returns the cells appended. */
size_t format_expand(const char *fmt, const struct format_msg *m,
		     const struct format_options *opt, struct sbuf *out);

/* A size as mutt shows it: "512", "1.2K", "34K", "3.4M", "12M", "1.1G".
 * Writes at most 8 bytes with the NUL into buf; returns buf. */
char *format_size(uint64_t bytes, char buf[static 8]);

#endif
