/* Fuzz target for lib/sanitize (and the JSON escaper that shares its idea
 * of a control character).
 *
 * The first input byte picks the flags, the rest is the text.  Whatever
 * the text, the output must be valid UTF-8 holding no C0 control but tab
 * (and newline and CR outside SANITIZE_LINE), no DEL, no C1 and no bidi
 * control; in SANITIZE_CELL mode no control at all.  Safe text must come
 * out unchanged, and sanitising the output again must change nothing.
 * JSON escaping must leave no control at all.  Any breach
 * aborts, so libFuzzer reports it like a crash. */
#include "lib/json.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "lib/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless out is valid UTF-8 that a terminal shows as text. */
static void check_inert(const struct sbuf *out, unsigned flags)
{
	for (size_t i = 0; i < out->len;) {
		uint32_t cp;
		size_t l = utf8_decode(out->buf + i, out->len - i, &cp);

		if (cp == 0xfffd && l == 1)
			abort();	/* not UTF-8 */
		if (sanitize_is_control(cp)) {
			bool nl = cp == '\n' || (cp == '\r' && i + 1 < out->len && out->buf[i + 1] == '\n');

			if ((flags & SANITIZE_CELL) || !(cp == '\t' || (nl && !(flags & SANITIZE_LINE))))
				abort();
		}
		i += l;
	}
}

static bool all_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l = utf8_decode(s + i, n - i, &cp);

		if ((cp == 0xfffd && l == 1) || sanitize_is_control(cp))
			return false;
		i += l;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf a = SBUF_INIT, b = SBUF_INIT, j = SBUF_INIT;
	unsigned flags;
	const char *s = (const char *)data + 1;
	size_t n;

	if (size < 1 || size > 64 * 1024)
		return 0;
	flags = data[0] & (SANITIZE_LINE | SANITIZE_CELL);
	n = size - 1;
	sanitize_add(&a, s, n, flags);
	check_inert(&a, flags);
	if (all_safe(s, n) && (a.len != n || memcmp(a.buf, s, n) != 0))
		abort();
	sanitize_add(&b, a.buf, a.len, flags);
	if (b.len != a.len || memcmp(a.buf, b.buf, a.len) != 0)
		abort();
	/* JSON escapes every control, whatever sanitize keeps. */
	json_escape(&j, s, n);
	check_inert(&j, SANITIZE_CELL);
	sbuf_release(&a);
	sbuf_release(&b);
	sbuf_release(&j);
	return 0;
}
