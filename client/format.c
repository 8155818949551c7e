/* format: index_format expansion (see client/format.h).
 *
 * The format is interpreted on every call rather than compiled: a screen
 * is at most a few hundred lines, and an expansion is a few hundred
 * nanoseconds.  Every field goes through format_field(), so the cell
 * count returned is the width the terminal will draw. */
#include "client/format.h"

#include "lib/sbuf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_DATE_FORMAT "%y-%m-%d %H:%M"

char *format_size(uint64_t n, char buf[static 8])
{
	/* The thresholds of mutt's mutt_pretty_size(), so columns look the same. */
	if (n < 1000)
		snprintf(buf, 8, "%u", (unsigned)n);
	else if (n < 10189)
		snprintf(buf, 8, "%3.1fK", (double)n / 1024.0);
	else if (n < 1023949)
		snprintf(buf, 8, "%uK", (unsigned)((n + 51) / 1024));
	else if (n < 10433332)
		snprintf(buf, 8, "%3.1fM", (double)n / 1048576.0);
	else if (n < 1072693248ULL)
		snprintf(buf, 8, "%uM", (unsigned)((n + 52428) / 1048576));
	else if (n < 10683731149ULL)
		snprintf(buf, 8, "%3.1fG", (double)n / 1073741824.0);
	else {
		uint64_t g = (n + 53687091) / 1073741824ULL;

		snprintf(buf, 8, "%" PRIu64 "G", g > 99999 ? (uint64_t)99999 : g);
	}
	return buf;
}

static void put_time(struct sbuf *v, const char *fmt, size_t fmtlen, int64_t when)
{
	char f[256], buf[256];
	struct tm tm;
	time_t t = (time_t)when;

	if (when == 0 || fmtlen >= sizeof(f) || localtime_r(&t, &tm) == NULL)
		return;
	memcpy(f, fmt, fmtlen);
	f[fmtlen] = '\0';
	size_t n = strftime(buf, sizeof(buf), f, &tm);
	sbuf_add(v, buf, n);
}

static const char *nz(const char *s)
{
	return s == NULL ? "" : s;
}

/* The name shown for the author: "To NAME" for the user's own mail. */
static void put_author(struct sbuf *v, const struct format_msg *m, bool to_when_me)
{
	if (to_when_me && m->from_me && (nz(m->to_name)[0] || nz(m->to_addr)[0])) {
		sbuf_addstr(v, "To ");
		sbuf_addstr(v, nz(m->to_name)[0] ? m->to_name : m->to_addr);
	} else {
		sbuf_addstr(v, nz(m->from_name)[0] ? m->from_name : nz(m->from_addr));
	}
}

/* Closing bracket of %{..} %[..] %(..), or NULL when unterminated. */
static const char *close_of(const char *p)
{
	char c = *p == '{' ? '}' : *p == '[' ? ']' : ')';

	return strchr(p + 1, c);
}

/* The raw value of escape c (arg: the text inside brackets) into v.
 * Returns false for an unknown escape.  *truth_r tells %?X? whether the
 * value counts as present. */
static bool value_of(char c, const char *arg, size_t arglen, const struct format_msg *m,
		     const struct format_options *opt, struct sbuf *v, bool *truth_r)
{
	char size[8];

	*truth_r = false;
	switch (c) {
	case 'C':
		sbuf_addf(v, "%ld", m->number);
		*truth_r = m->number != 0;
		return true;
	case 'Z': {
		unsigned f = m->flags;
		char st = f & FORMAT_F_DELETED ? 'D'
			  : f & FORMAT_F_UNREAD ? (f & FORMAT_F_OLD ? 'O' : 'N')
			  : f & FORMAT_F_REPLIED ? 'r' : ' ';

		sbuf_addch(v, st);
		sbuf_addch(v, f & FORMAT_F_FLAGGED ? '!' : ' ');
		sbuf_addch(v, f & FORMAT_F_TAGGED ? '*' : ' ');
		*truth_r = st != ' ' || (f & (FORMAT_F_FLAGGED | FORMAT_F_TAGGED));
		return true;
	}
	case 'c':
		sbuf_addstr(v, format_size(m->size, size));
		*truth_r = m->size != 0;
		return true;
	case 'l':
		if (m->lines >= 0)
			sbuf_addf(v, "%ld", m->lines);
		else
			sbuf_addch(v, '?');
		*truth_r = m->lines > 0;
		return true;
	case 'd':
	case 'D': {
		const char *df = opt->date_format ? opt->date_format : DEFAULT_DATE_FORMAT;

		put_time(v, df, strlen(df), m->date);
		*truth_r = m->date != 0;
		return true;
	}
	case '{':
	case '[':
		put_time(v, arg, arglen, m->date);
		*truth_r = m->date != 0;
		return true;
	case '(':
		put_time(v, arg, arglen, m->received);
		*truth_r = m->received != 0;
		return true;
	case 's':
		sbuf_addstr(v, nz(m->tree));
		sbuf_addstr(v, nz(m->subject));
		*truth_r = nz(m->subject)[0] != '\0';
		return true;
	case 'F':
	case 'L':
		put_author(v, m, true);
		break;
	case 'n':
		put_author(v, m, false);
		break;
	case 'a':
		sbuf_addstr(v, nz(m->from_addr));
		break;
	case 'g':
	case 'Y':
		sbuf_addstr(v, nz(m->tags));
		break;
	default:
		return false;
	}
	*truth_r = v->len > 0;
	return true;
}

struct spec {
	bool left;
	size_t min, max;
	char conv;
	const char *arg;	/* inside the brackets of %{ %[ %( */
	size_t arglen;
	const char *end;	/* first byte after the escape */
};

/* Parses the escape after a '%' at p.  False when it is malformed (an
 * end of the string); then the '%' is literal.  An unterminated bracket
 * gives an unknown escape running to the end, shown as written. */
static bool parse_spec(const char *p, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->max = SIZE_MAX;
	if (*p == '-') {
		sp->left = true;
		p++;
	}
	while (*p >= '0' && *p <= '9') {
		sp->min = sp->min * 10 + (size_t)(*p++ - '0');
		if (sp->min > 1000)
			sp->min = 1000;	/* a screen is never wider; bounds the padding */
	}
	if (*p == '.') {
		sp->max = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			sp->max = sp->max * 10 + (size_t)(*p++ - '0');
			if (sp->max > 1000)
				sp->max = 1000;
		}
	}
	if (*p == '\0')
		return false;
	sp->conv = *p;
	if (*p == '{' || *p == '[' || *p == '(') {
		const char *c = close_of(p);

		if (c == NULL) {
			/* Unterminated: the rest is shown as written. */
			sp->conv = '\1';
			sp->end = p + strlen(p);
			return true;
		}
		sp->arg = p + 1;
		sp->arglen = (size_t)(c - p - 1);
		sp->end = c + 1;
		return true;
	}
	sp->end = p + 1;
	return true;
}

/* End of a conditional branch starting at p: the first '&' or '?' that is
 * not inside an escape. */
static const char *branch_end(const char *p)
{
	struct spec sp;

	while (*p && *p != '&' && *p != '?') {
		if (*p == '%' && parse_spec(p + 1, &sp))
			p = sp.end;
		else
			p++;
	}
	return p;
}

static size_t expand(const char *fmt, const char *end, const struct format_msg *m,
		     const struct format_options *opt, struct sbuf *out, struct sbuf *v)
{
	size_t cells = 0;
	const char *p = fmt;

	while (p < end) {
		const char *lit = p;
		struct spec sp;

		while (p < end && *p != '%')
			p++;
		if (p > lit)
			cells += format_field(lit, (size_t)(p - lit), 0, SIZE_MAX, false, out);
		if (p >= end)
			break;
		if (p[1] == '%') {
			sbuf_addch(out, '%');
			cells++;
			p += 2;
			continue;
		}
		if (p[1] == '?' && p[2] != '\0' && p[3] == '?') {
			const char *t = p + 4, *te = branch_end(t), *e = te, *ee = te;
			bool truth;

			if (*te == '&') {
				e = te + 1;
				ee = branch_end(e);
			}
			sbuf_reset(v);
			if (!value_of(p[2], "", 0, m, opt, v, &truth))
				truth = false;
			if (truth)
				cells += expand(t, te, m, opt, out, v);
			else if (e != te)
				cells += expand(e, ee, m, opt, out, v);
			p = *ee == '?' ? ee + 1 : ee;
			continue;
		}
		if (!parse_spec(p + 1, &sp) || sp.end > end) {
			cells += format_field(p, 1, 0, SIZE_MAX, false, out);
			p++;
			continue;
		}
		bool truth;

		sbuf_reset(v);
		if (!value_of(sp.conv, sp.arg, sp.arglen, m, opt, v, &truth)) {
			/* Unknown: shown as written. */
			cells += format_field(p, (size_t)(sp.end - p), 0, SIZE_MAX, false, out);
		} else {
			cells += format_field(v->buf, v->len, sp.min, sp.max, !sp.left, out);
		}
		p = sp.end;
	}
	return cells;
}

size_t format_expand(const char *fmt, const struct format_msg *m,
		     const struct format_options *opt, struct sbuf *out)
{
	static const struct format_options defaults = { NULL };
	struct sbuf v = SBUF_INIT;
	size_t cells;

	if (fmt == NULL)
		return 0;
	cells = expand(fmt, fmt + strlen(fmt), m, opt ? opt : &defaults, out, &v);
	sbuf_release(&v);
	return cells;
}
