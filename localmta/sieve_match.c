/* sieve_match.c: match types and comparators (RFC 5228 2.7), the address
 * parsing the address and envelope tests need, redirect address checks,
 * and the edit distance behind "did you mean".
 *
 * :matches is the classic wildcard matcher with a single backtrack point
 * (the last '*'): when a later literal fails, only the last star grows.
 * That is enough for glob patterns and bounds the work by
 * len(value) * len(pattern), where naive recursion is exponential in the
 * number of stars ("*a*a*a*a*b" on a long run of a's). */
#include "localmta/sieve-private.h"
#include "lib/arena.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static inline int fold(enum sieve_cmp cmp, unsigned char c)
{
	return cmp == SIEVE_CMP_CASEMAP && c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Bytes of the UTF-8 character at s (1 for a stray byte), at most n. */
static size_t char_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;
	size_t want = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	size_t i;

	for (i = 1; i < want && i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			return 1;
	return i < want ? 1 : want;
}

static int match_glob(enum sieve_cmp cmp, const char *s, size_t n, const char *pat,
		      struct sieve_capture *caps, unsigned *ncaps_r)
{
	size_t plen = strlen(pat), p = 0, i = 0;
	size_t star_p = SIZE_MAX, star_i = 0;
	unsigned w = 0, star_w = 0, maxw = SIEVE_MAX_MATCH_VARS - 1;

	while (i < n) {
		if (p < plen && pat[p] == '*') {
			star_p = ++p;
			star_i = i;
			star_w = w;
			if (caps && w < maxw)
				caps[w] = (struct sieve_capture){ i, 0 };
			w++;
			continue;
		}
		if (p < plen && pat[p] == '?') {
			size_t cl = cmp == SIEVE_CMP_OCTET ? 1 : char_len(s + i, n - i);

			if (caps && w < maxw)
				caps[w] = (struct sieve_capture){ i, cl };
			w++;
			p++;
			i += cl;
			continue;
		}
		if (p < plen) {
			size_t q = pat[p] == '\\' && p + 1 < plen ? p + 1 : p;

			if (fold(cmp, (unsigned char)pat[q]) == fold(cmp, (unsigned char)s[i])) {
				p = q + 1;
				i++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return 0;
		/* Grow the last star by one character and retry after it. */
		star_i += cmp == SIEVE_CMP_OCTET ? 1 : char_len(s + star_i, n - star_i);
		if (star_i > n)
			return 0;
		i = star_i;
		p = star_p;
		w = star_w + 1;
		if (caps && star_w < maxw)
			caps[star_w].len = star_i - caps[star_w].off;
	}
	while (p < plen && pat[p] == '*') {
		if (caps && w < maxw)
			caps[w] = (struct sieve_capture){ n, 0 };
		w++;
		p++;
	}
	if (p != plen)
		return 0;
	if (ncaps_r)
		*ncaps_r = w < maxw ? w : maxw;
	return 1;
}

static int match_contains(enum sieve_cmp cmp, const char *s, size_t n, const char *key)
{
	size_t k = strlen(key);

	if (k == 0)
		return 1;
	if (cmp == SIEVE_CMP_OCTET)
		return memmem(s, n, key, k) != NULL;
	for (size_t i = 0; i + k <= n; i++) {
		size_t j;

		for (j = 0; j < k && fold(cmp, (unsigned char)s[i + j]) ==
				     fold(cmp, (unsigned char)key[j]); j++)
			;
		if (j == k)
			return 1;
	}
	return 0;
}

int sieve_match(enum sieve_match mt, enum sieve_cmp cmp, const char *value,
		size_t len, const char *key, struct sieve_capture *caps,
		unsigned *ncaps_r)
{
	if (ncaps_r)
		*ncaps_r = 0;
	switch (mt) {
	case SIEVE_MATCH_IS:
		if (strlen(key) != len)
			return 0;
		if (cmp == SIEVE_CMP_OCTET)
			return memcmp(value, key, len) == 0;
		return strncasecmp(value, key, len) == 0 && memchr(value, 0, len) == NULL;
	case SIEVE_MATCH_CONTAINS:
		return match_contains(cmp, value, len, key);
	case SIEVE_MATCH_MATCHES:
		return match_glob(cmp, value, len, key, caps, ncaps_r);
	}
	return 0;
}

/* ---- addresses ---- */

/* Copies [s, e) without comments and with white space trimmed. */
static char *clean(struct arena *a, const char *s, const char *e)
{
	char *out = arena_alloc(a, (size_t)(e - s) + 1), *o = out;
	int depth = 0;
	bool quoted = false;

	for (; s < e; s++) {
		if (quoted) {
			*o++ = *s;
			if (*s == '\\' && s + 1 < e)
				*o++ = *++s;
			else if (*s == '"')
				quoted = false;
		} else if (depth > 0) {
			if (*s == '\\' && s + 1 < e)
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
		} else if (*s == '(') {
			depth++;
		} else {
			if (*s == '"')
				quoted = true;
			if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
				*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* Splits an addr-spec at its last '@' (outside quotes). */
static void split(struct arena *a, const char *spec, struct sieve_addr *out)
{
	const char *at = strrchr(spec, '@');

	out->all = spec;
	out->local = out->domain = NULL;
	if (at == NULL || at == spec || at[1] == '\0')
		return;
	out->local = arena_strndup(a, spec, (size_t)(at - spec));
	out->domain = at + 1;
}

/* One mailbox: "Name <addr>" or a bare addr-spec, comments allowed. */
static void one_mailbox(struct arena *a, const char *s, const char *e, struct sieve_addr *out)
{
	const char *lt = NULL, *gt = NULL;
	bool quoted = false;
	int depth = 0;

	for (const char *q = s; q < e; q++) {
		if (*q == '\\' && q + 1 < e && (quoted || depth)) {
			q++;
		} else if (depth) {
			depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
		} else if (*q == '"') {
			quoted = !quoted;
		} else if (!quoted && *q == '(') {
			depth++;
		} else if (!quoted && *q == '<' && lt == NULL) {
			lt = q;
		} else if (!quoted && *q == '>' && lt && gt == NULL) {
			gt = q;
		}
	}
	if (lt && gt) {
		char *spec = clean(a, lt + 1, gt);
		char *colon = spec[0] == '@' ? strchr(spec, ':') : NULL;

		/* an obsolete source route "@a,@b:" goes */
		split(a, colon ? colon + 1 : spec, out);
	} else {
		split(a, clean(a, s, e), out);
	}
}

size_t sieve_addr_parse_list(const char *value, struct arena *arena,
			     struct sieve_addr *out, size_t max)
{
	const char *s = value, *q;
	bool quoted = false, angle = false;
	int depth = 0;
	size_t n = 0;

	for (q = value;; q++) {
		char c = *q;

		if (c != '\0' && (quoted || depth) && c == '\\' && q[1]) {
			q++;
			continue;
		}
		if (c != '\0' && depth) {
			depth += c == '(' ? 1 : c == ')' ? -1 : 0;
			continue;
		}
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && c != '\0')
			continue;
		if (c == '(') {
			depth++;
			continue;
		}
		if (c == '<')
			angle = true;
		else if (c == '>')
			angle = false;
		if (c == ':' && !angle) {
			s = q + 1;	/* a group's name ends: members follow */
			continue;
		}
		if (c == ',' || c == ';' || c == '\0') {
			struct sieve_addr ad;

			one_mailbox(arena, s, q, &ad);
			if (ad.all[0] != '\0' && n < max)
				out[n++] = ad;
			s = q + 1;
			if (c == '\0')
				break;
		}
	}
	return n;
}

void sieve_addr_parse_one(const char *path, struct arena *arena, struct sieve_addr *out)
{
	one_mailbox(arena, path, path + strlen(path), out);
}

static bool atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

int sieve_addr_check_redirect(const char *addr, const char **why_r)
{
	const char *at = strrchr(addr, '@'), *s;

	if (at == NULL) {
		*why_r = "no '@domain'";
		return -1;
	}
	if (at == addr) {
		*why_r = "empty local part";
		return -1;
	}
	if (addr[0] == '"') {
		if (at - addr < 2 || at[-1] != '"') {
			*why_r = "bad quoted local part";
			return -1;
		}
	} else {
		for (s = addr; s < at; s++)
			if (!(atext((unsigned char)*s) || (*s == '.' && s != addr && s[1] != '.' &&
							    s + 1 != at))) {
				*why_r = "bad character in the local part";
				return -1;
			}
	}
	s = at + 1;
	if (*s == '\0') {
		*why_r = "empty domain";
		return -1;
	}
	if (*s == '[')
		return s[strlen(s) - 1] == ']' ? 0 : (*why_r = "bad address literal", -1);
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || (unsigned char)*s >= 0x80 ||
		      (*s == '.' && s != at + 1 && s[1] != '.' && s[1] != '\0'))) {
			*why_r = "bad character in the domain";
			return -1;
		}
	return 0;
}

unsigned sieve_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[32], prev;

	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cur = row[j];
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]);
			unsigned best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			prev = cur;
			row[j] = best;
		}
	}
	return row[lb];
}
