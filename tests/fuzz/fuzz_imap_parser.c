/* Fuzz target for the IMAP command parser: the input is fed whole and in
 * chunks whose size comes from the first byte; both feedings must give the
 * same events.  Literals over 4 KiB are refused (as a session would), the
 * others accepted; every command's atoms that look like sequence sets or
 * FETCH sections go through those parsers too; arena use stays bounded. */
#include "imapd/imap_parser.h"
#include "lib/arena.h"
#include "lib/sbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hash_add(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 1099511628211ULL;
}

static void walk(const struct imap_arg *a, unsigned n, struct arena *arena, uint64_t *h,
		 unsigned depth)
{
	if (depth > 40)
		abort();	/* the depth limit was not kept */
	for (unsigned i = 0; i < n; i++) {
		hash_add(h, &a[i].type, sizeof(a[i].type));
		hash_add(h, a[i].str, a[i].len);
		if (a[i].str[a[i].len] != '\0')
			abort();
		if (a[i].type != IMAP_ARG_LIST)
			(void)imap_date_parse(a[i].str, true);
		if (a[i].type == IMAP_ARG_LIST) {
			walk(a[i].list, a[i].count, arena, h, depth + 1);
		} else if (a[i].type == IMAP_ARG_ATOM) {
			struct imap_seqset set;
			struct imap_section sec;
			const char *err;

			if (imap_seqset_parse(a[i].str, arena, &set, &err) == 0) {
				if (set.count > IMAP_SEQSET_MAX_RANGES)
					abort();
				imap_seqset_resolve(&set, 100);
				(void)imap_seqset_contains(&set, 50);
			}
			if (strchr(a[i].str, '[') != NULL)
				(void)imap_section_parse(a[i].str, arena, &sec, &err);
			(void)imap_date_parse(a[i].str, false);
			struct sbuf u = SBUF_INIT;
			if (imap_utf7_decode(a[i].str, &u) == 0) {
				struct sbuf back = SBUF_INIT;
				/* canonical: decoding then encoding gives it back */
				if (imap_utf7_encode(u.buf, &back) < 0 || strcmp(back.buf, a[i].str) != 0)
					abort();
				sbuf_release(&back);
			}
			sbuf_release(&u);
		}
	}
}

static uint64_t run(const uint8_t *data, size_t size, size_t chunk)
{
	struct imap_parser_limits lim = { .max_line = 1024, .max_command = 16384 };
	struct imap_parser *p = imap_parser_new(&lim);
	struct arena *arena = arena_new(0);
	uint64_t h = 1469598103934665603ULL;
	size_t off = 0;

	while (off < size) {
		size_t n = chunk && size - off > chunk ? chunk : size - off, used;
		int r = imap_parser_feed(p, data + off, n, &used);

		if (used > n)
			abort();
		off += used;
		if (r != IMAP_PARSE_MORE)
			hash_add(&h, &r, sizeof(r));
		if (r == IMAP_PARSE_LITERAL) {
			if (imap_parser_literal_size(p) > 4096)
				imap_parser_literal_reject(p);
			else
				imap_parser_literal_accept(p);
		} else if (r == IMAP_PARSE_COMMAND) {
			struct imap_command cmd;
			const char *err;

			if (imap_parser_command(p, arena, &cmd, &err) == 0) {
				hash_add(&h, cmd.tag, strlen(cmd.tag));
				walk(cmd.args, cmd.count, arena, &h, 0);
			}
			/* the tree is bounded by the command size */
			if (arena_used(arena) > 64 * 16384 + 65536)
				abort();
			arena_clear(arena);
		} else if (r == IMAP_PARSE_ERROR) {
			const char *e = imap_parser_error(p);
			hash_add(&h, e, strlen(e));
		}
	}
	imap_parser_free(&p);
	arena_free(&arena);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = 1 + data[0] % 7;
	if (run(data + 1, size - 1, 0) != run(data + 1, size - 1, chunk))
		abort();
	return 0;
}
