/* Fuzz target for the mailrc parser and the config built from it.
 *
 * Each input is loaded twice -- whole, and one byte at a time -- and the two
 * must agree on the result, the error and the dump.  When it loads, its dump
 * must load again and dump the same (without the "# source" comments).  Any
 * disagreement aborts, so libFuzzer reports it like a crash. */
#include "lib/config.h"
#include "lib/config-private.h"
#include "lib/sbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dump without the "\t# FILE:LINE" comments, which name the input. */
static void strip_sources(struct sbuf *sb)
{
	size_t out = 0;

	for (size_t in = 0; in < sb->len; ) {
		if (sb->buf[in] == '\t' && in + 1 < sb->len && sb->buf[in + 1] == '#') {
			while (in < sb->len && sb->buf[in] != '\n')
				in++;
			continue;
		}
		sb->buf[out++] = sb->buf[in++];
	}
	sbuf_setlen(sb, out);
}

static int load(const char *data, size_t size, size_t chunk, struct sbuf *dump, struct sbuf *err)
{
	struct config *cfg = config_new();
	const char *error;
	int ret = config_load_chunked(cfg, "fuzz", data, size, chunk, &error);

	sbuf_addstr(err, error);
	config_dump(cfg, dump);
	config_free(&cfg);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf d1 = SBUF_INIT, d2 = SBUF_INIT, d3 = SBUF_INIT;
	struct sbuf e1 = SBUF_INIT, e2 = SBUF_INIT, e3 = SBUF_INIT;
	int r1, r2;

	if (size > 256 * 1024)
		return 0;
	r1 = load((const char *)data, size, 0, &d1, &e1);
	r2 = load((const char *)data, size, 1, &d2, &e2);
	if (r1 != r2 || strcmp(e1.buf, e2.buf) != 0 || d1.len != d2.len ||
	    memcmp(d1.buf, d2.buf, d1.len) != 0)
		abort();
	if (r1 == 0) {
		if (load(d1.buf, d1.len, 0, &d3, &e3) != 0)
			abort();
		strip_sources(&d1);
		strip_sources(&d3);
		if (d1.len != d3.len || memcmp(d1.buf, d3.buf, d1.len) != 0)
			abort();
	}
	sbuf_release(&d1);
	sbuf_release(&d2);
	sbuf_release(&d3);
	sbuf_release(&e1);
	sbuf_release(&e2);
	sbuf_release(&e3);
	return 0;
}
