/* threadkey: the few header fields threading needs, computed with the
 * envelope and cached beside it, so a client threads 100,000 messages
 * without parsing 100,000 ENVELOPE strings (and gets References, which an
 * ENVELOPE does not have).
 *
 * A plain scan of the header block, no GMime: the values are kept raw
 * (unfolded, tabs made spaces, trimmed); the client decodes the rare
 * encoded subject and parses the date.  The format is in store-private.h. */
#include "store/store-private.h"

#include "lib/header.h"
#include "lib/sbuf.h"

#include <stdbool.h>
#include <string.h>

enum { K_DATE, K_MSGID, K_IRT, K_REFS, K_SUBJECT, K_COUNT };

static const char *const key_names[K_COUNT] = {
	"date", "message-id", "in-reply-to", "references", "subject",
};

/* The most bytes kept of one value (References: of its tail). */
#define THREADKEY_VALUE_MAX 200
#define THREADKEY_REFS_MAX 4

struct kval {
	const char *start;	/* the field's first value byte */
	const char *end;	/* end of its last continuation line's text */
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends the value unfolded: CR and LF dropped, tabs as spaces, runs of
 * white space as one space, trimmed; at most max bytes (the word that
 * reaches max is cut there, after at most one more byte).  Copies words,
 * not bytes: this runs for every header of a first open. */
static void add_value(struct sbuf *out, const char *p, const char *end, size_t max)
{
	size_t start = out->len;

	for (;;) {
		while (p < end && blank(*p))
			p++;
		if (p == end || out->len - start >= max)
			return;
		const char *w = p;

		while (p < end && !blank(*p))
			p++;
		if (out->len > start)
			sbuf_addch(out, ' ');
		/* The first byte goes in whatever the room; then up to max. */
		size_t room = out->len + 1 - start < max ? max - (out->len + 1 - start) : 0;
		size_t take = (size_t)(p - w) - 1 < room ? (size_t)(p - w) - 1 : room;

		sbuf_add(out, w, take + 1);
		if (take < (size_t)(p - w) - 1)
			return;
	}
}

/* The last THREADKEY_REFS_MAX <ids> of a References value (or its raw
 * tail when it has no '<' at all). */
static void add_refs(struct sbuf *out, const char *p, const char *end)
{
	const char *ids[THREADKEY_REFS_MAX], *ide[THREADKEY_REFS_MAX];
	size_t n = 0;

	if (memchr(p, '<', (size_t)(end - p)) == NULL) {
		const char *tail = end - p > THREADKEY_VALUE_MAX ? end - THREADKEY_VALUE_MAX : p;

		add_value(out, tail, end, THREADKEY_VALUE_MAX);
		return;
	}
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt;

		if (lt == NULL)
			break;
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL)
			break;
		if (gt - lt <= THREADKEY_VALUE_MAX / 2) {
			ids[n % THREADKEY_REFS_MAX] = lt;
			ide[n % THREADKEY_REFS_MAX] = gt + 1;
			n++;
		}
		p = gt + 1;
	}
	size_t first = n > THREADKEY_REFS_MAX ? n - THREADKEY_REFS_MAX : 0;

	for (size_t i = first; i < n; i++) {
		if (i > first)
			sbuf_addch(out, ' ');
		add_value(out, ids[i % THREADKEY_REFS_MAX], ide[i % THREADKEY_REFS_MAX],
			  THREADKEY_VALUE_MAX);
	}
}

char *store_threadkey_of(const char *data, size_t len)
{
	struct kval v[K_COUNT] = { { NULL, NULL } };
	struct header_iter it;
	struct header_field f;
	struct sbuf out = SBUF_INIT;

	sbuf_reserve(&out, 256);
	/* An mbox From_ line is no field: the walk skips it. */
	header_iter_init(&it, data, len);
	while (header_iter_next(&it, &f))
		for (int k = 0; k < K_COUNT; k++)
			if (v[k].start == NULL && header_field_is(&f, key_names[k])) {
				v[k] = (struct kval){ f.value, f.value + f.value_len };
				break;
			}
	for (int k = 0; k < K_COUNT; k++) {
		if (k > 0)
			sbuf_addch(&out, '\t');
		if (v[k].start == NULL)
			continue;
		if (k == K_REFS)
			add_refs(&out, v[k].start, v[k].end);
		else
			add_value(&out, v[k].start, v[k].end, THREADKEY_VALUE_MAX);
	}
	/* A NUL inside the header would cut the string short: harmless. */
	return sbuf_detach(&out, NULL);
}
