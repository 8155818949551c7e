/* threadkey: the few header fields threading needs, computed with the
 * envelope and cached beside it, so a client threads 100,000 messages
 * without parsing 100,000 ENVELOPE strings (and gets References, which an
 * ENVELOPE does not have).
 *
 * A plain scan of the header block, no GMime: the values are kept raw
 * (unfolded, tabs made spaces, trimmed); the client decodes the rare
 * encoded subject and parses the date.  The format is in store-private.h. */
#include "store/store-private.h"

#include "lib/sbuf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

enum { K_DATE, K_MSGID, K_IRT, K_REFS, K_SUBJECT, K_COUNT };

static const char *const key_names[K_COUNT] = {
	"date", "message-id", "in-reply-to", "references", "subject",
};

/* The most bytes kept of one value (References: of its tail). */
#define THREADKEY_VALUE_MAX 200
#define THREADKEY_REFS_MAX 4

struct kval {
	const char *start;	/* the field's first value byte */
	const char *end;	/* end of its last continuation line */
};

/* Appends the value unfolded: CR and LF dropped, tabs as spaces, runs of
 * white space as one space, trimmed; at most max bytes, cut at a space
 * when possible. */
static void add_value(struct sbuf *out, const char *p, const char *end, size_t max)
{
	size_t start = out->len;
	bool space = false;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			space = out->len > start;
			continue;
		}
		if (out->len - start >= max)
			break;
		if (space)
			sbuf_addch(out, ' ');
		space = false;
		sbuf_addch(out, (char)c);
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
	const char *p = data, *end = data + len;
	int cur = -1;
	struct sbuf out = SBUF_INIT;

	if (len >= 5 && memcmp(data, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', len);

		p = nl ? nl + 1 : end;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
			break;	/* the end of the header block */
		if (*p == ' ' || *p == '\t') {
			if (cur >= 0)
				v[cur].end = next;
			p = next;
			continue;
		}
		cur = -1;
		const char *colon = memchr(p, ':', (size_t)(next - p));

		if (colon != NULL) {
			size_t n = (size_t)(colon - p);

			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			for (int k = 0; k < K_COUNT; k++)
				if (v[k].start == NULL && strlen(key_names[k]) == n &&
				    strncasecmp(p, key_names[k], n) == 0) {
					v[k] = (struct kval){ colon + 1, next };
					cur = k;
					break;
				}
		}
		p = next;
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
