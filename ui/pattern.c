/* pattern: the subset of mutt's patterns the limit and tag commands take.
 *
 *   ~f STR  from      ~s STR  subject     ~t STR  to
 *   ~N new  ~O old    ~F flagged  ~D deleted  ~T tagged  ~A all
 *   ! negates the next term; terms are ANDed; a bare word matches the
 *   from or the subject.  Strings are case-insensitive substrings, in
 *   "double" or 'single' quotes when they hold blanks.
 *
 * Pure; unit-tested in tests/unit/test_ui_pattern.c. */
#include "ui/ui-private.h"

#include "store/store.h"

#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ASCII-case-insensitive substring (UTF-8 bytes compared as they are). */
static bool contains(const char *hay, const char *needle, size_t n)
{
	if (hay == NULL)
		return n == 0;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

/* Reads a word (quoted or not) at *pp; returns its start and length. */
static const char *word(const char **pp, size_t *len_r)
{
	const char *p = *pp, *start;

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
		while (*p && *p != ' ')
			p++;
		*len_r = (size_t)(p - start);
	}
	*pp = p;
	return start;
}

/* Evaluates (msg != NULL) or only checks the pattern.  Returns 1 match,
 * 0 no match, -1 malformed. */
static int eval(const char *pattern, const struct ui_pattern_msg *msg, const char **error_r)
{
	const char *p = pattern;
	int result = 1;

	for (;;) {
		bool neg = false, m = true;
		size_t n;
		const char *w;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			return result;
		while (*p == '!') {
			neg = !neg;
			p++;
		}
		if (*p == '~') {
			char op = p[1];

			if (op == '\0') {
				*error_r = "a ~ without a letter";
				return -1;
			}
			p += 2;
			if (strchr("fst", op)) {
				w = word(&p, &n);
				if (n == 0) {
					*error_r = "~f, ~s and ~t need a string";
					return -1;
				}
				if (msg)
					m = contains(op == 'f' ? msg->from : op == 's' ? msg->subject : msg->to,
						     w, n);
			} else if (strchr("NOFDTAU", op)) {
				if (msg) {
					uint32_t f = msg->flags;
					switch (op) {
					case 'N': m = !(f & STORE_SEEN); break;
					case 'U': m = !(f & STORE_SEEN); break;
					case 'O': m = !(f & STORE_SEEN) && !(f & STORE_RECENT); break;
					case 'F': m = f & STORE_FLAGGED; break;
					case 'D': m = f & STORE_DELETED; break;
					case 'T': m = msg->tagged; break;
					default: m = true; break;
					}
				}
			} else {
				*error_r = "unknown pattern (~f ~s ~t ~N ~O ~U ~F ~D ~T ~A)";
				return -1;
			}
		} else {
			w = word(&p, &n);
			if (msg)
				m = contains(msg->from, w, n) || contains(msg->subject, w, n);
		}
		if (neg)
			m = !m;
		if (!m)
			result = 0;
	}
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
