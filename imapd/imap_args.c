/* Arguments with an inner syntax: sequence sets, dates and FETCH section
 * specs (contracts in imap_parser.h). */
#include "imapd/imap_parser.h"

#include "lib/arena.h"
#include "lib/sbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- sequence sets ---- */

/* One number or "*" (0) at *sp. */
static int seq_number(const char **sp, uint32_t *n_r)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s == '*') {
		*n_r = 0;
		*sp = s + 1;
		return 0;
	}
	if (!isdigit((unsigned char)*s) || *s == '0')
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (uint64_t)(*s++ - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*n_r = (uint32_t)v;
	*sp = s;
	return 0;
}

int imap_seqset_parse(const char *s, struct arena *arena, struct imap_seqset *set,
		      const char **error_r)
{
	unsigned cap = 0;

	memset(set, 0, sizeof(*set));
	if (strcmp(s, "$") == 0) {
		set->saved = true;
		return 0;
	}
	/* The number of ranges is bounded by the commas: count first, so one
	 * allocation serves and the cap is checked before any is stored. */
	cap = 1;
	for (const char *c = s; *c; c++)
		if (*c == ',' && ++cap > IMAP_SEQSET_MAX_RANGES) {
			*error_r = "Too many ranges in the sequence set.";
			return -1;
		}
	set->ranges = arena_alloc(arena, cap * sizeof(*set->ranges));
	for (;;) {
		struct imap_range r;

		if (seq_number(&s, &r.lo) < 0)
			goto bad;
		r.hi = r.lo;
		if (*s == ':') {
			s++;
			if (seq_number(&s, &r.hi) < 0)
				goto bad;
		}
		if (r.lo == 0 || r.hi == 0)
			set->has_star = true;
		set->ranges[set->count++] = r;
		if (*s == '\0')
			return 0;
		if (*s != ',')
			goto bad;
		s++;
	}
bad:
	*error_r = "Invalid sequence set.";
	return -1;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t star)
{
	unsigned n = 0;

	for (unsigned i = 0; i < set->count; i++) {
		struct imap_range *r = &set->ranges[i];

		if (r->lo == 0)
			r->lo = star;
		if (r->hi == 0)
			r->hi = star;
		if (r->lo > r->hi) {
			uint32_t t = r->lo;
			r->lo = r->hi;
			r->hi = t;
		}
	}
	/* "*" of an empty mailbox resolves to 0: such ranges match nothing. */
	qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
	for (unsigned i = 0; i < set->count; i++) {
		struct imap_range r = set->ranges[i];

		if (r.hi == 0)
			continue;
		if (r.lo == 0)
			r.lo = 1;
		if (n > 0 && (uint64_t)r.lo <= (uint64_t)set->ranges[n - 1].hi + 1) {
			if (r.hi > set->ranges[n - 1].hi)
				set->ranges[n - 1].hi = r.hi;
		} else {
			set->ranges[n++] = r;
		}
	}
	set->count = n;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	unsigned lo = 0, hi = set->count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (n < set->ranges[mid].lo)
			hi = mid;
		else if (n > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* ---- dates ---- */

/* Exactly n digits at *sp into *v. */
static bool digits(const char **sp, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*sp)++) {
		if (!isdigit((unsigned char)**sp))
			return false;
		*v = *v * 10 + (**sp - '0');
	}
	return true;
}

static int month_days(int mon, int year)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[mon] + (mon == 1 && leap);
}

int64_t imap_date_parse(const char *s, bool with_time)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm = { 0 };
	int year, mon = 0, v;
	int64_t zone = 0;

	if (s[0] == ' ' && with_time)
		s++;	/* date-day-fixed: SP DIGIT */
	if (!digits(&s, 1, &tm.tm_mday))
		return -1;
	if (isdigit((unsigned char)*s))
		tm.tm_mday = tm.tm_mday * 10 + (*s++ - '0');
	if (*s++ != '-' || strlen(s) < 3)
		return -1;
	while (mon < 12 && strncasecmp(s, months + 3 * mon, 3) != 0)
		mon++;
	s += 3;
	if (mon == 12 || *s++ != '-' || !digits(&s, 4, &year))
		return -1;
	if (tm.tm_mday < 1 || tm.tm_mday > month_days(mon, year))
		return -1;
	tm.tm_mon = mon;
	tm.tm_year = year - 1900;
	if (with_time) {
		if (*s++ != ' ' || !digits(&s, 2, &tm.tm_hour) || *s++ != ':' ||
		    !digits(&s, 2, &tm.tm_min) || *s++ != ':' || !digits(&s, 2, &tm.tm_sec) ||
		    *s++ != ' ')
			return -1;
		if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || (*s != '+' && *s != '-'))
			return -1;
		int sign = *s++ == '-' ? -1 : 1;
		if (!digits(&s, 4, &v) || v % 100 > 59)
			return -1;
		zone = sign * ((v / 100) * 3600 + (v % 100) * 60);
	}
	if (*s != '\0')
		return -1;
	return (int64_t)timegm(&tm) - zone;
}

/* ---- FETCH sections ---- */

static char *upper(struct arena *arena, const char *s, size_t n)
{
	char *u = arena_strndup(arena, s, n);

	for (char *c = u; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return u;
}

/* Header field names of "(A B "C")": astrings without literals. */
static int section_fields(const char **sp, struct arena *arena, struct imap_section *sec,
			  struct sbuf *spec)
{
	const char *s = *sp;
	unsigned cap = 0;

	if (*s++ != ' ' || *s++ != '(')
		return -1;
	for (const char *c = s; *c && *c != ')'; c++)
		if (*c == ' ')
			cap++;
	cap++;
	sec->fields = arena_calloc(arena, cap, sizeof(*sec->fields));
	sbuf_addstr(spec, " (");
	while (*s != ')') {
		struct sbuf name = SBUF_INIT;

		if (sec->n_fields > 0) {
			if (*s++ != ' ')
				return -1;
			sbuf_addch(spec, ' ');
		}
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				sbuf_addch(&name, *s);
			}
			if (*s++ != '"') {
				sbuf_release(&name);
				return -1;
			}
		} else {
			while (*s > 0x20 && *s < 0x7f && *s != ')' && *s != '(' && *s != '"')
				sbuf_addch(&name, *s++);
		}
		bool bad = name.len == 0 || sec->n_fields >= cap;
		/* A field name is printable ASCII without ':' (RFC 5322). */
		for (size_t i = 0; i < name.len; i++)
			if ((unsigned char)name.buf[i] <= 0x20 || name.buf[i] == ':' ||
			    (unsigned char)name.buf[i] >= 0x7f)
				bad = true;
		if (bad) {
			sbuf_release(&name);
			return -1;
		}
		sbuf_add(spec, name.buf, name.len);
		sec->fields[sec->n_fields++] = arena_strndup(arena, name.buf, name.len);
		sbuf_release(&name);
	}
	sbuf_addch(spec, ')');
	*sp = s + 1;
	return sec->n_fields > 0 ? 0 : -1;
}

int imap_section_parse(const char *atom, struct arena *arena, struct imap_section *sec,
		       const char **error_r)
{
	const char *open = strchr(atom, '['), *s;
	struct sbuf spec = SBUF_INIT;

	memset(sec, 0, sizeof(*sec));
	if (open == NULL)
		goto bad;
	sec->item = upper(arena, atom, (size_t)(open - atom));
	s = open + 1;
	/* part: numbers separated by dots, each followed by '.' or ']' */
	const char *part = s;
	while (isdigit((unsigned char)*s) && *s != '0') {
		while (isdigit((unsigned char)*s))
			s++;
		if (*s == '.' && isdigit((unsigned char)s[1]))
			s++;
		else
			break;
	}
	sec->part = arena_strndup(arena, part, (size_t)(s - part));
	sbuf_addstr(&spec, sec->part);
	bool dot = *s == '.' && s > part;
	if (dot)
		s++;
	else if (*s != ']' && s > part)
		goto bad;
	const char *text = s;
	while (isalpha((unsigned char)*s) || *s == '.')
		s++;
	sec->text = upper(arena, text, (size_t)(s - text));
	if (dot && sec->text[0] == '\0')
		goto bad;
	if (sec->text[0] != '\0') {
		if (strcmp(sec->text, "HEADER") != 0 && strcmp(sec->text, "TEXT") != 0 &&
		    strcmp(sec->text, "MIME") != 0 && strcmp(sec->text, "HEADER.FIELDS") != 0 &&
		    strcmp(sec->text, "HEADER.FIELDS.NOT") != 0)
			goto bad;
		if (strcmp(sec->text, "MIME") == 0 && sec->part[0] == '\0')
			goto bad;
		if (spec.len > 0)
			sbuf_addch(&spec, '.');
		sbuf_addstr(&spec, sec->text);
		if (strncmp(sec->text, "HEADER.FIELDS", 13) == 0 &&
		    section_fields(&s, arena, sec, &spec) < 0)
			goto bad;
	}
	if (*s++ != ']')
		goto bad;
	sec->count = UINT64_MAX;
	if (*s == '<') {
		uint64_t v = 0;
		s++;
		if (!isdigit((unsigned char)*s))
			goto bad;
		for (; isdigit((unsigned char)*s); s++) {
			if (v > UINT32_MAX)
				goto bad;
			v = v * 10 + (uint64_t)(*s - '0');
		}
		sec->partial = true;
		sec->offset = v;
		if (*s == '.') {
			s++;
			v = 0;
			if (!isdigit((unsigned char)*s))
				goto bad;
			for (; isdigit((unsigned char)*s); s++) {
				if (v > UINT32_MAX)
					goto bad;
				v = v * 10 + (uint64_t)(*s - '0');
			}
			if (v == 0)
				goto bad;
			sec->count = v;
		}
		if (*s++ != '>')
			goto bad;
	}
	if (*s != '\0')
		goto bad;
	sec->spec = arena_strndup(arena, spec.buf, spec.len);
	sbuf_release(&spec);
	return 0;
bad:
	sbuf_release(&spec);
	*error_r = "Invalid section.";
	return -1;
}
