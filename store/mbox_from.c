/* mbox: From_ lines (parsing and writing) and mboxrd quoting. */
#include "store/mbox-private.h"
#include "store/store.h"
#include "lib/atomic.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- quoting ---- */

/* Length of the line starting at p (including its newline). */
size_t mbox_line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
}

/* Number of '>' before "From " at the start of the line, or -1. */
long mbox_from_quote_depth(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == '>')
		i++;
	if (len - i >= 5 && memcmp(p + i, "From ", 5) == 0)
		return (long)i;
	return -1;
}

void mbox_quote(const char *data, size_t len, struct sbuf *out)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		size_t n = mbox_line_len(p, end);

		if (mbox_from_quote_depth(p, n) >= 0)
			sbuf_addch(out, '>');
		sbuf_add(out, p, n);
		p += n;
	}
}

void mbox_unquote(const char *data, size_t len, struct sbuf *out)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		size_t n = mbox_line_len(p, end);

		if (mbox_from_quote_depth(p, n) > 0)
			sbuf_add(out, p + 1, n - 1);
		else
			sbuf_add(out, p, n);
		p += n;
	}
}

/* ---- From_ lines ---- */

static int find_word(const char *w, size_t len, const char *const *words, int n)
{
	if (len != 3)
		return -1;
	for (int i = 0; i < n; i++)
		if (memcmp(w, words[i], 3) == 0)
			return i;
	return -1;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int parse_num(const char *s, size_t len)
{
	int v = 0;

	for (size_t i = 0; i < len && i < 6; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

#define MAX_TOKENS 24

/* The date part, tokens t[i...]: "Mmm dd hh:mm[:ss] [zone...] yyyy [zone]"
 * (the weekday before it is optional).  Returns the time or 0. */
static int64_t parse_date_tokens(const char *const *t, const size_t *tl, int i, int n)
{
	struct tm tm = { 0 };
	int mon, tz = 0, year = -1;
	const char *c;
	size_t cl;

	if (i + 3 > n || (mon = find_word(t[i], tl[i], months, 12)) < 0)
		return 0;
	if (!all_digits(t[i + 1], tl[i + 1]) || tl[i + 1] > 2)
		return 0;
	tm.tm_mday = parse_num(t[i + 1], tl[i + 1]);
	c = t[i + 2];
	cl = tl[i + 2];
	if (cl == 5 && c[2] == ':' && all_digits(c, 2) && all_digits(c + 3, 2)) {
		tm.tm_hour = parse_num(c, 2);
		tm.tm_min = parse_num(c + 3, 2);
	} else if (cl == 8 && c[2] == ':' && c[5] == ':' && all_digits(c, 2) &&
		   all_digits(c + 3, 2) && all_digits(c + 6, 2)) {
		tm.tm_hour = parse_num(c, 2);
		tm.tm_min = parse_num(c + 3, 2);
		tm.tm_sec = parse_num(c + 6, 2);
	} else {
		return 0;
	}
	for (int j = i + 3; j < n && j < i + 6; j++) {
		if (tl[j] == 4 && all_digits(t[j], 4) && year < 0) {
			year = parse_num(t[j], 4);
		} else if (tl[j] == 5 && (t[j][0] == '+' || t[j][0] == '-') &&
			   all_digits(t[j] + 1, 4)) {
			int v = parse_num(t[j] + 1, 4);

			tz = (v / 100 * 60 + v % 100) * 60 * (t[j][0] == '-' ? -1 : 1);
		}
	}
	if (year < 1970 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	return (int64_t)timegm(&tm) - tz;
}

/* Senders are kept to a sane length, so that a file of huge From_ lines
 * cannot make the entry array huge. */
#define SENDER_MAX 1000

static size_t cap_sender(size_t len)
{
	return len < SENDER_MAX ? len : SENDER_MAX;
}

/* sender_r may be NULL (only the validity is wanted). */
static bool parse_from_line(const char *line, size_t len, char **sender_r,
			    int64_t *date_r)
{
	const char *t[MAX_TOKENS];
	size_t tl[MAX_TOKENS];
	int n = 0;
	const char *p = line + 5, *end = line + len;

	assert(len >= 5 && memcmp(line, "From ", 5) == 0);
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	while (p < end && n < MAX_TOKENS) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		t[n] = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		tl[n] = (size_t)(p - t[n]);
		n++;
	}
	/* The sender may itself hold spaces ("a b"@host): the date starts at
	 * the first weekday (or month) followed by a valid date. */
	for (int i = 0; i < n; i++) {
		int64_t d = 0;
		int at = i;

		if (find_word(t[i], tl[i], wdays, 7) >= 0)
			d = parse_date_tokens(t, tl, at = i + 1, n);
		else if (find_word(t[i], tl[i], months, 12) >= 0)
			d = parse_date_tokens(t, tl, at, n);
		if (d != 0) {
			int last = i - 1;	/* "From  Mon Jan ...": no sender */

			if (sender_r != NULL)
				*sender_r = last < 0 ? xstrdup("") :
					xstrndup(t[0], cap_sender((size_t)(t[last] + tl[last] - t[0])));
			*date_r = d;
			return true;
		}
	}
	if (sender_r != NULL)
		*sender_r = n > 0 ? xstrndup(t[0], cap_sender(tl[0])) : xstrdup("");
	*date_r = 0;
	return false;
}

bool mbox_parse_from_line(const char *line, size_t len, char **sender_r,
			  int64_t *date_r)
{
	return parse_from_line(line, len, sender_r, date_r);
}

bool mbox_from_line_valid(const char *line, size_t len)
{
	int64_t date;

	return parse_from_line(line, len, NULL, &date);
}


void mbox_add_from_line(struct sbuf *out, const char *sender, int64_t date)
{
	char buf[64];

	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	sbuf_addstr(out, "From ");
	for (const char *s = sender; *s != '\0'; s++)
		sbuf_addch(out, (unsigned char)*s <= ' ' || *s == 0x7f ? '_' : *s);
	sbuf_addf(out, " %s\n", clock_mbox_date(date != 0 ? date : time(NULL), buf, sizeof(buf)));
}

