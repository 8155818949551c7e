/* width-private.h: the character width tables behind format_width(). */
#ifndef LOFT_CLIENT_WIDTH_PRIVATE_H
#define LOFT_CLIENT_WIDTH_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

struct width_range {
	uint32_t first, last;
};

/* Sorted, non-overlapping ranges (client/width_table.c, generated). */
extern const struct width_range width_zero[];
extern const size_t width_zero_count;
extern const struct width_range width_wide[];
extern const size_t width_wide_count;

/* Cells of one code point: 0, 1 or 2.  Controls count 1 (they are shown
 * as '?'; sanitize_is_control() says which). */
int width_codepoint(uint32_t cp);

#endif
