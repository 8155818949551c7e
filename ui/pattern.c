/* pattern: the subset of mutt's patterns the limit, search, tag and
 * colour commands take.
 *
 *   ~f STR from (name or address)   ~s STR subject   ~t STR to
 *   ~C STR to or cc     ~L STR from, to or cc
 *   ~h STR a header line   ~b STR the body   ~B STR the whole message
 *          (the three read the message file, as stored: not decoded)
 *   ~d RANGE date sent   ~r RANGE date received, RANGE one of
 *          DD[/MM[/YY[YY]]] (that day), D1-D2, D1-, -D2 (days included),
 *          <Nu newer than, >Nu older than N units (d w m y) before now
 *   ~N new  ~O old  ~U unread  ~F flagged  ~D deleted  ~T tagged  ~A all
 *   ~(P) messages in a thread that holds a message matching P
 *   ! negates the next term; terms are ANDed; `|` ORs; ( ) groups; a bare
 *   word matches the from or the subject.  Strings are case-insensitive
 *   substrings, in "double" or 'single' quotes when they hold blanks.
 *
 * On a mailbox whose server can search (IMAP), the terms that read the
 * message -- ~b ~B and ~h "Name: value" -- are asked of the server
 * (msg->server) with the IMAP SEARCH key ui_pattern_imap_term() writes,
 * so no message is fetched to match them.  The envelope fields, dates
 * and flags stay matched here on the cached envelopes as for a local
 * folder: that is exact (IMAP's SENTSINCE/BEFORE count whole days in the
 * server's zone) and costs no round trip.
 *
 * Pure (the message's text, thread and server come through callbacks);
 * unit-tested in tests/unit/test_ui.c. */
#include "ui/ui-private.h"

#include "store/store.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ASCII-case-insensitive substring of hay[0..hlen) (UTF-8 bytes compared
 * as they are). */
static bool contains_n(const char *hay, size_t hlen, const char *needle, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; hay && i + n <= hlen; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

static bool contains(const char *hay, const char *needle, size_t n)
{
	return contains_n(hay, hay ? strlen(hay) : 0, needle, n);
}

struct pstate {
	const char *p;
	int depth;			/* open parentheses */
	const char *error;
};

/* Reads a word (quoted or not) at s->p; returns its start and length.
 * Inside parentheses an unquoted word stops at ')'. */
static const char *word(struct pstate *s, size_t *len_r)
{
	const char *p = s->p, *start;

	while (*p == ' ')
		p++;
	if (*p == '"' || *p == '\'') {
		char q = *p++;
		start = p;
		while (*p && *p != q)
			p++;
		*len_r = (size_t)(p - start);
		if (*p)
			p++;
	} else {
		start = p;
		while (*p && *p != ' ' && !(s->depth && *p == ')'))
			p++;
		*len_r = (size_t)(p - start);
	}
	s->p = p;
	return start;
}

/* ---- dates ---- */

/* The start of the local day of t. */
static int64_t day_start(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* "DD[/MM[/YY[YY]]]" (missing parts from now's date) into the start of
 * that day; false when malformed. */
static bool parse_day(const char *s, size_t n, int64_t now, int64_t *t_r)
{
	int v[3] = { 0, 0, 0 }, k = 0;
	size_t digits = 0;
	time_t tt = (time_t)now;
	struct tm tm;

	localtime_r(&tt, &tm);
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i]) && digits < 4) {
			v[k] = v[k] * 10 + (s[i] - '0');
			digits++;
		} else if (s[i] == '/' && digits && k < 2) {
			k++;
			digits = 0;
		} else {
			return false;
		}
	}
	if (digits == 0 || v[0] < 1 || v[0] > 31 || (k >= 1 && (v[1] < 1 || v[1] > 12)))
		return false;
	tm.tm_mday = v[0];
	if (k >= 1)
		tm.tm_mon = v[1] - 1;
	if (k == 2)
		tm.tm_year = (v[2] < 100 ? v[2] + (v[2] < 70 ? 2000 : 1900) : v[2]) - 1900;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	*t_r = (int64_t)mktime(&tm);
	return true;
}

/* now moved back by n units (d w m y; months and years by the calendar). */
static bool back_from(int64_t now, long n, char unit, int64_t *t_r)
{
	time_t tt = (time_t)now;
	struct tm tm;

	localtime_r(&tt, &tm);
	switch (unit) {
	case 'd': tm.tm_mday -= (int)n; break;
	case 'w': tm.tm_mday -= 7 * (int)n; break;
	case 'm': tm.tm_mon -= (int)n; break;
	case 'y': tm.tm_year -= (int)n; break;
	default: return false;
	}
	tm.tm_isdst = -1;
	*t_r = (int64_t)mktime(&tm);
	return true;
}

/* A RANGE into [*lo, *hi) (INT64_MIN/INT64_MAX when open); false when
 * malformed. */
static bool parse_range(const char *w, size_t n, int64_t now, int64_t *lo, int64_t *hi)
{
	const char *dash = memchr(w, '-', n);

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if (n >= 3 && (w[0] == '<' || w[0] == '>')) {
		char *end;
		long k = strtol(w + 1, &end, 10);
		int64_t t;

		if (end != w + n - 1 || k < 0 || k > 100000 || !back_from(now, k, w[n - 1], &t))
			return false;
		if (w[0] == '<')
			*lo = t;
		else
			*hi = t;
		return true;
	}
	if (dash == NULL) {
		if (!parse_day(w, n, now, lo))
			return false;
		*hi = day_start(*lo + 36 * 3600);	/* the next day (DST-proof) */
		return true;
	}
	size_t l1 = (size_t)(dash - w), l2 = n - l1 - 1;
	if (l1 == 0 && l2 == 0)
		return false;
	if (l1 && !parse_day(w, l1, now, lo))
		return false;
	if (l2) {
		if (!parse_day(dash + 1, l2, now, hi))
			return false;
		*hi = day_start(*hi + 36 * 3600);
	}
	return true;
}

/* ---- IMAP SEARCH keys ---- */

/* w[0..n) as an IMAP quoted string; false when it cannot be one (CR, LF,
 * NUL). */
static bool imap_quoted(struct sbuf *out, const char *w, size_t n)
{
	sbuf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (w[i] == '\r' || w[i] == '\n' || w[i] == '\0')
			return false;
		if (w[i] == '"' || w[i] == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, w[i]);
	}
	sbuf_addch(out, '"');
	return true;
}

int ui_pattern_imap_term(char op, const char *w, size_t n, struct sbuf *out)
{
	size_t start = out->len;
	const char *colon;
	bool ok = true;

	switch (op) {
	case 'b': sbuf_addstr(out, "BODY "); ok = imap_quoted(out, w, n); break;
	case 'B': sbuf_addstr(out, "TEXT "); ok = imap_quoted(out, w, n); break;
	case 'h':
		/* IMAP names the header searched: only "Name: value" has a
		 * form (a bare word could be in any header). */
		colon = memchr(w, ':', n);
		ok = colon != NULL && colon > w && memchr(w, ' ', (size_t)(colon - w)) == NULL;
		if (!ok)
			break;
		sbuf_addstr(out, "HEADER ");
		sbuf_add(out, w, (size_t)(colon - w));
		sbuf_addch(out, ' ');
		colon++;
		while (colon < w + n && *colon == ' ')
			colon++;
		ok = imap_quoted(out, colon, (size_t)(w + n - colon));
		break;
	default: ok = false; break;
	}
	if (!ok) {
		sbuf_setlen(out, start);
		return -1;
	}
	return 0;
}

/* ---- the evaluator ---- */

static int eval_or(struct pstate *s, const struct ui_pattern_msg *msg);

/* The text of kind for a string test, or NULL (no callback: no match). */
static const char *msg_text(const struct ui_pattern_msg *msg, enum ui_pattern_text kind,
			    size_t *len_r)
{
	*len_r = 0;
	return msg->text ? msg->text(msg, kind, len_r) : NULL;
}

static int eval_string(struct pstate *s, char op, const struct ui_pattern_msg *msg)
{
	size_t n, hl;
	const char *w = word(s, &n), *h;

	if (n == 0) {
		s->error = "~f ~s ~t ~C ~L ~h ~b ~B need a string";
		return -1;
	}
	if (msg == NULL)
		return 1;
	switch (op) {
	case 'f': return contains(msg->from, w, n) || contains(msg->from_addr, w, n);
	case 's': return contains(msg->subject, w, n);
	case 't': return contains(msg->to, w, n);
	case 'C': case 'L':
		if (contains(msg->to, w, n) || (op == 'L' && (contains(msg->from, w, n) ||
							       contains(msg->from_addr, w, n))))
			return 1;
		h = msg_text(msg, UI_PATTERN_CC, &hl);
		return contains_n(h, hl, w, n);
	default:
		/* The message's text is on the server: let it search. */
		if (msg->server != NULL) {
			struct sbuf key = SBUF_INIT;
			int r = ui_pattern_imap_term(op, w, n, &key) == 0
					? msg->server(msg, key.buf)
					: -1;

			sbuf_release(&key);
			if (r >= 0)
				return r;
		}
		h = msg_text(msg, op == 'h' ? UI_PATTERN_HEADERS : op == 'b' ? UI_PATTERN_BODY
			     : UI_PATTERN_WHOLE, &hl);
		return contains_n(h, hl, w, n);
	}
}

static int eval_flag(char op, const struct ui_pattern_msg *msg)
{
	if (msg == NULL)
		return 1;
	uint32_t f = msg->flags;
	switch (op) {
	case 'N': case 'U': return !(f & STORE_SEEN);
	case 'O': return !(f & STORE_SEEN) && !(f & STORE_RECENT);
	case 'F': return (f & STORE_FLAGGED) != 0;
	case 'D': return (f & STORE_DELETED) != 0;
	case 'T': return msg->tagged;
	default: return 1;
	}
}

/* ~(P): the pattern between the parentheses goes to the thread callback
 * (checked here first). */
static int eval_thread(struct pstate *s, const struct ui_pattern_msg *msg)
{
	const char *start = s->p;
	struct pstate sub = { start, 1, NULL };

	if (eval_or(&sub, NULL) < 0 || *sub.p != ')') {
		s->error = sub.error ? sub.error : "~( without its )";
		return -1;
	}
	s->p = sub.p + 1;
	if (msg == NULL)
		return 1;
	char *inner = xstrndup(start, (size_t)(sub.p - start));
	int r = msg->thread ? msg->thread(msg, inner) : ui_pattern_match(inner, msg);
	free(inner);
	return r;
}

static int eval_term(struct pstate *s, const struct ui_pattern_msg *msg)
{
	bool neg = false;
	int m;

	while (*s->p == '!') {
		neg = !neg;
		s->p++;
	}
	if (*s->p == '(') {
		s->p++;
		s->depth++;
		m = eval_or(s, msg);
		s->depth--;
		if (m < 0)
			return -1;
		if (*s->p != ')') {
			s->error = "( without its )";
			return -1;
		}
		s->p++;
	} else if (*s->p == '~') {
		char op = s->p[1];

		if (op == '\0') {
			s->error = "a ~ without a letter";
			return -1;
		}
		s->p += 2;
		if (op == '(') {
			m = eval_thread(s, msg);
		} else if (strchr("fstCLhbB", op)) {
			m = eval_string(s, op, msg);
		} else if (strchr("NOFDTAU", op)) {
			m = eval_flag(op, msg);
		} else if (op == 'd' || op == 'r') {
			size_t n;
			const char *w = word(s, &n);
			int64_t lo, hi, t;

			if (!parse_range(w, n, msg ? msg->now : 0, &lo, &hi)) {
				s->error = "~d and ~r take DD/MM/YYYY, D1-D2, <Nd or >Nd (d w m y)";
				return -1;
			}
			t = msg ? (op == 'd' && msg->date ? msg->date : msg->received) : 0;
			m = msg == NULL || (t != 0 && t >= lo && t < hi);
		} else {
			s->error = "unknown pattern (~f ~s ~t ~C ~L ~h ~b ~B ~d ~r ~N ~O ~U ~F ~D ~T ~A ~())";
			return -1;
		}
	} else {
		size_t n;
		const char *w = word(s, &n);

		m = msg == NULL || contains(msg->from, w, n) || contains(msg->from_addr, w, n) ||
		    contains(msg->subject, w, n);
	}
	if (m < 0)
		return -1;
	return neg ? !m : m;
}

/* Terms up to the end, a `|` or the group's `)`, ANDed.  Once the result
 * is known the rest is only checked (msg NULL: no message text read). */
static int eval_and(struct pstate *s, const struct ui_pattern_msg *msg)
{
	int result = 1;

	for (;;) {
		while (*s->p == ' ')
			s->p++;
		if (*s->p == '\0' || *s->p == '|' || (s->depth && *s->p == ')'))
			return result;
		int m = eval_term(s, result ? msg : NULL);
		if (m < 0)
			return -1;
		if (!m)
			result = 0;
	}
}

static int eval_or(struct pstate *s, const struct ui_pattern_msg *msg)
{
	int result = eval_and(s, msg);

	while (result >= 0 && *s->p == '|') {
		s->p++;
		int m = eval_and(s, result ? NULL : msg);
		if (m < 0)
			return -1;
		result = result || m;
	}
	return result;
}

/* Evaluates (msg != NULL) or only checks the pattern.  Returns 1 match,
 * 0 no match, -1 malformed. */
static int eval(const char *pattern, const struct ui_pattern_msg *msg, const char **error_r)
{
	struct pstate s = { pattern, 0, NULL };
	int r = eval_or(&s, msg);

	if (r >= 0 && *s.p == ')') {
		s.error = ") without its (";
		r = -1;
	}
	if (r < 0)
		*error_r = s.error ? s.error : "bad pattern";
	return r;
}

bool ui_pattern_match(const char *pattern, const struct ui_pattern_msg *msg)
{
	const char *err;

	return eval(pattern, msg, &err) == 1;
}

int ui_pattern_check(const char *pattern, const char **error_r)
{
	return eval(pattern, NULL, error_r) < 0 ? -1 : 0;
}
