/* header: the header block of a message (RFC 5322 2.1) and its fields,
 * split once for every caller.
 *
 * The header block ends at the first empty line: "\n" or "\r\n" at the
 * start of a line, including the very first line (a message that starts
 * with one has an empty header).  Without an empty line all of the data is
 * header.  Lines end with LF or CR LF, the last one possibly with the end
 * of the data; a lone CR is an ordinary byte.
 *
 * Nothing here allocates (but header_unfold, into the caller's sbuf),
 * blocks or copies: results point into the caller's data. */
#ifndef LOFT_LIB_HEADER_H
#define LOFT_LIB_HEADER_H

#include "lib/sbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* The length of the header block of data[0..len): the bytes before the
 * empty line, so through the line end of the last field.  *body_r (NULL
 * allowed) gets where the body starts: just after the empty line, or len
 * when there is none.  The empty line was found iff *body_r > the result. */
size_t header_block_len(const char *data, size_t len, size_t *body_r);

/* One field with its continuation lines, pointing into the data. */
struct header_field {
	const char *name;	/* the field name, without blanks before the colon */
	size_t name_len;
	const char *value;	/* from after the colon to before the last line end, */
	size_t value_len;	/* folds (CR LF + blank) included */
	const char *raw;	/* the whole field, line ends included */
	size_t raw_len;
};

struct header_iter {
	const char *p, *end;
};

/* Walks the fields of data[0..len), stopping at the empty line (so a whole
 * message may be given). */
void header_iter_init(struct header_iter *it, const char *data, size_t len);
/* The next field into *f: true, or false at the end of the header block.
 * A line that is not a field (no colon, or a name with a byte outside
 * 33..126, such as an mbox "From " line or a BOM) is skipped with its
 * continuation lines, as are continuation lines before the first field. */
bool header_iter_next(struct header_iter *it, struct header_field *f);

/* True when f is named name (ASCII, case-insensitive). */
bool header_field_is(const struct header_field *f, const char *name);

/* Appends f's value unfolded (RFC 5322 2.2.3: every CR and LF removed, the
 * blanks kept) and without the blanks at either end.  Returns sbuf_add's
 * result: 0, or -1 when out->max would be passed. */
int header_unfold(const struct header_field *f, struct sbuf *out);

#endif
