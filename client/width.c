/* width: terminal cell widths of UTF-8 text (see client/format.h).
 *
 * The tables come from Unicode data (client/width_table.py) rather than
 * wcwidth(): the result must not depend on the locale the program happens
 * to run in, and the UI measures every line with these functions, so one
 * definition keeps every column in place.  Text is walked in clusters (a
 * base character and the zero-width characters after it) so that
 * truncation never separates a base from its combining marks or from the
 * U+FE0F that makes it wide. */
#include "client/format.h"
#include "client/width-private.h"

#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "lib/utf8.h"

#include <stdint.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6"	/* U+2026 */

static bool in_table(const struct width_range *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	if (n == 0 || cp < t[0].first || cp > t[n - 1].last)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp > t[mid].last)
			lo = mid + 1;
		else if (cp < t[mid].first)
			hi = mid;
		else
			return true;
	}
	return false;
}

int width_codepoint(uint32_t cp)
{
	if (cp < 0x7f)
		return 1;	/* ASCII, controls included (shown as '?') */
	if (sanitize_is_control(cp))
		return 1;	/* C1 and bidi controls too, shown as '?' */
	if (in_table(width_zero, width_zero_count, cp))
		return 0;
	if (in_table(width_wide, width_wide_count, cp))
		return 2;
	return 1;
}

/* One cluster at s: *bytes_r bytes, returns its cells.  A zero-width
 * character with no base before it is a cluster of width 0. */
static size_t cluster(const char *s, size_t n, size_t *bytes_r)
{
	uint32_t cp;
	size_t used = utf8_decode(s, n, &cp);
	int w = width_codepoint(cp);

	if (w == 0) {
		*bytes_r = used;
		return 0;
	}
	while (used < n) {
		size_t l = utf8_decode(s + used, n - used, &cp);

		if (sanitize_is_control(cp) || width_codepoint(cp) != 0)
			break;
		if (cp == 0xfe0f && w == 1)
			w = 2;
		used += l;
	}
	*bytes_r = used;
	return (size_t)w;
}

size_t format_width_n(const char *s, size_t len)
{
	size_t cells = 0, off = 0;

	if (s == NULL)
		return 0;
	while (off < len) {
		size_t used;

		/* ASCII fast path: the common case for headers. */
		if ((unsigned char)s[off] < 0x80 &&
		    (off + 1 >= len || (unsigned char)s[off + 1] < 0x80)) {
			cells++;
			off++;
			continue;
		}
		cells += cluster(s + off, len - off, &used);
		off += used;
	}
	return cells;
}

size_t format_width(const char *utf8)
{
	return utf8 == NULL ? 0 : format_width_n(utf8, strlen(utf8));
}

size_t format_truncate(const char *s, size_t len, size_t max_cells, bool ellipsis,
		       struct sbuf *out)
{
	size_t cells = 0, off = 0, limit;

	if (s == NULL)
		return 0;
	if (format_width_n(s, len) <= max_cells)
		limit = max_cells;
	else if (ellipsis && max_cells > 0)
		limit = max_cells - 1;	/* room for the ellipsis */
	else
		limit = max_cells;
	while (off < len) {
		size_t used, w = cluster(s + off, len - off, &used);

		if (cells + w > limit) {
			if (ellipsis && max_cells > 0) {
				sbuf_addstr(out, ELLIPSIS);
				cells++;
			}
			return cells;
		}
		sanitize_add(out, s + off, used, SANITIZE_CELL);
		cells += w;
		off += used;
	}
	return cells;
}

size_t format_field(const char *s, size_t len, size_t min_cells, size_t max_cells,
		    bool right, struct sbuf *out)
{
	size_t w = format_width_n(s, len), cells;

	if (min_cells > max_cells)
		min_cells = max_cells;
	if (w > max_cells)
		w = max_cells;	/* what format_truncate will produce, at most */
	if (right && w < min_cells) {
		/* Measure first: the padding goes before the text. */
		struct sbuf tmp = SBUF_INIT;

		cells = format_truncate(s, len, max_cells, true, &tmp);
		for (size_t i = cells; i < min_cells; i++)
			sbuf_addch(out, ' ');
		sbuf_add(out, tmp.buf, tmp.len);
		sbuf_release(&tmp);
		return cells < min_cells ? min_cells : cells;
	}
	cells = format_truncate(s, len, max_cells, true, out);
	for (; cells < min_cells; cells++)
		sbuf_addch(out, ' ');
	return cells;
}
