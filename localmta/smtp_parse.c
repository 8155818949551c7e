/* SMTP command lines, verbs, paths and parameters; see smtp_parse.h.
 *
 * The path grammar is RFC 5321 4.1.2, with two deliberate extensions that
 * are flagged rather than refused so the server can decide: an unqualified
 * local part (<postmaster> must be taken by an MX), and a source route
 * (to be ignored per RFC 5321 appendix C, but loft refuses it from
 * unauthenticated clients).  A space after "FROM:"/"TO:" is tolerated
 * because real clients send it; nothing else is lenient. */
#include "localmta/smtp_parse.h"
#include "lib/utf8.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* ---- lines ---- */

void smtp_line_reset(struct smtp_line *l)
{
	l->len = 0;
	l->buf[0] = '\0';
	l->flags = 0;
	l->raw = 0;
	l->cr = false;
	l->done = false;
}

static void line_store(struct smtp_line *l, char c)
{
	if (l->flags & SMTP_LINE_TOO_LONG)
		return;
	if (l->len < SMTP_LINE_MAX)
		l->buf[l->len++] = c;
}

int smtp_line_feed(struct smtp_line *l, const void *data, size_t len, size_t *used_r)
{
	const unsigned char *p = data;

	if (l->done)
		smtp_line_reset(l);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = p[i];

		/* The cap counts CRLF: any byte but the final LF at octet
		 * SMTP_LINE_MAX or later overflows it. */
		l->raw++;
		if ((b == '\n' && l->raw > SMTP_LINE_MAX) || (b != '\n' && l->raw >= SMTP_LINE_MAX)) {
			l->flags |= SMTP_LINE_TOO_LONG;
			l->len = 0;
		}
		if (b == '\n') {
			if (!l->cr)
				l->flags |= SMTP_LINE_BARE_LF;
			l->cr = false;
			l->buf[(l->flags & SMTP_LINE_TOO_LONG) ? 0 : l->len] = '\0';
			l->done = true;
			*used_r = i + 1;
			return 1;
		}
		if (l->cr) {
			l->flags |= SMTP_LINE_BARE_CR;
			line_store(l, '\r');
			l->cr = false;
		}
		if (b == '\r') {
			l->cr = true;
			continue;
		}
		if (b == '\0')
			l->flags |= SMTP_LINE_NUL;
		line_store(l, (char)b);
	}
	*used_r = len;
	return 0;
}

const char *smtp_line_error(const struct smtp_line *l)
{
	if (l->flags & SMTP_LINE_TOO_LONG)
		return "500 5.5.2 Line too long";
	if (l->flags & SMTP_LINE_NUL)
		return "500 5.5.2 NUL byte not allowed";
	if (l->flags & SMTP_LINE_BARE_CR)
		return "500 5.5.2 Bare CR not allowed";
	return NULL;
}

/* ---- verbs ---- */

static const char *const verb_names[] = {
	[SMTP_VERB_UNKNOWN] = "", [SMTP_VERB_HELO] = "HELO", [SMTP_VERB_EHLO] = "EHLO",
	[SMTP_VERB_MAIL] = "MAIL", [SMTP_VERB_RCPT] = "RCPT", [SMTP_VERB_DATA] = "DATA",
	[SMTP_VERB_BDAT] = "BDAT", [SMTP_VERB_RSET] = "RSET", [SMTP_VERB_NOOP] = "NOOP",
	[SMTP_VERB_VRFY] = "VRFY", [SMTP_VERB_EXPN] = "EXPN", [SMTP_VERB_HELP] = "HELP",
	[SMTP_VERB_QUIT] = "QUIT", [SMTP_VERB_STARTTLS] = "STARTTLS", [SMTP_VERB_AUTH] = "AUTH",
};

const char *smtp_verb_name(enum smtp_verb verb)
{
	return verb_names[verb];
}

enum smtp_verb smtp_parse_verb(char *line, const char **args_r)
{
	size_t n = strcspn(line, " "), end = strlen(line);

	while (end > n && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		line[--end] = '\0';
	*args_r = line[n] == ' ' ? line + n + 1 : line + n;
	for (size_t v = 1; v < sizeof(verb_names) / sizeof(verb_names[0]); v++)
		if (strlen(verb_names[v]) == n && strncasecmp(line, verb_names[v], n) == 0)
			return (enum smtp_verb)v;
	return SMTP_VERB_UNKNOWN;
}

/* ---- paths ---- */

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Length of a UTF-8 sequence at s when allowed (non-ASCII), else 0. */
static size_t utf8_at(const char *s, size_t n, bool utf8_ok)
{
	if (!utf8_ok || (unsigned char)*s < 0x80)
		return 0;
	size_t k = utf8_seq_len((const unsigned char *)s, n);
	return k > 1 ? k : 0;
}

/* Dot-string: atoms separated by single dots. Returns bytes, 0 if none. */
static size_t scan_dot_string(const char *s, size_t n, bool utf8_ok, unsigned *flags)
{
	size_t i = 0;
	bool atom = false;

	while (i < n) {
		size_t k;

		if (is_atext((unsigned char)s[i])) {
			if (s[i] == '%')
				*flags |= SMTP_PATH_PERCENT;
			if (s[i] == '!')
				*flags |= SMTP_PATH_BANG;
			i++;
			atom = true;
		} else if ((k = utf8_at(s + i, n - i, utf8_ok)) > 0) {
			*flags |= SMTP_PATH_UTF8;
			i += k;
			atom = true;
		} else if (s[i] == '.' && atom && i + 1 < n) {
			i++;
			atom = false;
		} else {
			break;
		}
	}
	return atom ? i : 0;
}

/* Quoted-string of RFC 5321; returns bytes including quotes, 0 if invalid. */
static size_t scan_quoted(const char *s, size_t n, bool utf8_ok, unsigned *flags)
{
	size_t i = 1;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k;

		if (c == '"') {
			*flags |= SMTP_PATH_QUOTED;
			return i + 1;
		}
		if (c == '\\') {
			if (i + 1 >= n || s[i + 1] < 32 || s[i + 1] > 126)
				return 0;
			c = (unsigned char)s[i + 1];
			i += 2;
		} else if (c >= 32 && c <= 126) {
			i++;
		} else if ((k = utf8_at(s + i, n - i, utf8_ok)) > 0) {
			*flags |= SMTP_PATH_UTF8;
			i += k;
			continue;
		} else {
			return 0;
		}
		if (c == '@' || c == '%' || c == '!')
			*flags |= SMTP_PATH_QUOTED_AT;
	}
	return 0;
}

/* Domain: sub-domains (Let-dig [Ldh-str]) joined by dots, or U-labels. */
static size_t scan_domain(const char *s, size_t n, bool utf8_ok, unsigned *flags)
{
	size_t i = 0, label = 0;
	char last = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k;

		if (is_alnum(c) || (c == '-' && label > 0)) {
			i++;
			label++;
			last = (char)c;
		} else if ((k = utf8_at(s + i, n - i, utf8_ok)) > 0) {
			*flags |= SMTP_PATH_UTF8;
			i += k;
			label += k;
			last = 'a';
		} else if (c == '.' && label > 0 && last != '-') {
			i++;
			label = 0;
			last = '.';
		} else {
			break;
		}
		if (label > 63)
			return 0;
	}
	if (label == 0 || last == '-')
		return 0;
	return i;
}

/* [1.2.3.4] or [IPv6:...]; general literals (tag:text) are refused. */
static size_t scan_addr_literal(const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	char buf[64];
	unsigned char bin[16];
	size_t len;

	if (close == NULL)
		return 0;
	len = (size_t)(close - s - 1);
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s + 1, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1 ||
	    (strncasecmp(buf, "IPv6:", 5) == 0 && inet_pton(AF_INET6, buf + 5, bin) == 1))
		return len + 2;
	return 0;
}

int smtp_parse_path(const char *s, size_t len, bool null_ok, bool utf8_ok,
		    struct smtp_path *p_r, const char **error_r)
{
	size_t i = 1, k, start;

	memset(p_r, 0, sizeof(*p_r));
	p_r->domain = p_r->addr;
	if (len < 2 || s[0] != '<' || s[len - 1] != '>') {
		*error_r = "address must be in <angle brackets>";
		return -1;
	}
	if (len > SMTP_PATH_MAX) {
		*error_r = "path too long";
		return -1;
	}
	len--;	/* s[len] is the '>' */
	if (len == 1) {
		if (!null_ok) {
			*error_r = "null address not allowed here";
			return -1;
		}
		p_r->flags |= SMTP_PATH_NULL;
		return 0;
	}
	/* Source route: @dom,@dom: -- checked, flagged, dropped. */
	if (s[i] == '@') {
		for (;;) {
			if (s[i] != '@' || (k = scan_domain(s + i + 1, len - i - 1, utf8_ok, &p_r->flags)) == 0)
				goto syntax;
			i += 1 + k;
			if (i < len && s[i] == ',') {
				i++;
				continue;
			}
			if (i < len && s[i] == ':') {
				i++;
				break;
			}
			goto syntax;
		}
		p_r->flags |= SMTP_PATH_ROUTE;
	}
	start = i;
	if (i < len && s[i] == '"')
		k = scan_quoted(s + i, len - i, utf8_ok, &p_r->flags);
	else
		k = scan_dot_string(s + i, len - i, utf8_ok, &p_r->flags);
	if (k == 0 || k > ((p_r->flags & SMTP_PATH_QUOTED) ? 66u : 64u))
		goto syntax;
	i += k;
	p_r->local_len = k;
	if (i == len) {
		p_r->flags |= SMTP_PATH_UNQUALIFIED;
	} else {
		if (s[i] != '@' || i + 1 >= len)
			goto syntax;
		i++;
		if (s[i] == '[') {
			k = scan_addr_literal(s + i, len - i);
			p_r->flags |= SMTP_PATH_ADDR_LITERAL;
		} else {
			k = scan_domain(s + i, len - i, utf8_ok, &p_r->flags);
		}
		if (k == 0 || i + k != len || k > 255)
			goto syntax;
		i += k;
	}
	memcpy(p_r->addr, s + start, i - start);
	p_r->addr[i - start] = '\0';
	p_r->domain = (p_r->flags & SMTP_PATH_UNQUALIFIED) ? p_r->addr + p_r->local_len
							   : p_r->addr + p_r->local_len + 1;
	return 0;
syntax:
	*error_r = "address syntax error";
	return -1;
}

/* ---- MAIL and RCPT ---- */

/* xtext (RFC 3461): printable ASCII except '+' and '=', or +XX. */
static bool valid_xtext(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '+') {
			if (i + 2 >= n)
				return false;
			if (!strchr("0123456789ABCDEF", v[i + 1]) || !strchr("0123456789ABCDEF", v[i + 2]))
				return false;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return n > 0;
}

static bool word_is(const char *v, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(v, w, n) == 0;
}

/* The path after the "FROM:"/"TO:" prefix; *rest_r points after it. */
static int split_path(const char *args, const char *prefix, const char **path_r, size_t *len_r,
		      const char **rest_r)
{
	size_t plen = strlen(prefix);
	const char *p, *end;

	if (strncasecmp(args, prefix, plen) != 0)
		return -1;
	p = args + plen;
	while (*p == ' ')
		p++;
	end = p;
	/* A quoted local part may hold '>' and spaces: skip quotes. */
	for (bool q = false; *end != '\0'; end++) {
		if (q && *end == '\\' && end[1] != '\0')
			end++;
		else if (*end == '"')
			q = !q;
		else if (!q && *end == '>')
			break;
	}
	if (*end != '>')
		return -1;
	*path_r = p;
	*len_r = (size_t)(end - p) + 1;
	*rest_r = end + 1;
	return 0;
}

enum param_seen { SEEN_SIZE = 1, SEEN_BODY = 2, SEEN_UTF8 = 4, SEEN_AUTH = 8, SEEN_RET = 16,
		  SEEN_ENVID = 32, SEEN_NOTIFY = 64, SEEN_ORCPT = 128 };

/* One parameter KEY[=VALUE] of MAIL (is_mail) or RCPT. */
static int parse_param(const char *p, size_t n, bool is_mail, struct smtp_mail_args *m,
		       unsigned *seen, const char **error_r)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	const char *v = eq ? eq + 1 : NULL;
	size_t vlen = eq ? n - klen - 1 : 0;
	unsigned bit;

	*error_r = "501 5.5.4 Invalid parameter value";
	if (is_mail && word_is(p, klen, "SIZE")) {
		uint64_t size = 0;

		if (v == NULL || vlen == 0 || vlen > 19)
			return -1;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			size = size * 10 + (uint64_t)(v[i] - '0');
		}
		m->size = size;
		bit = SEEN_SIZE;
	} else if (is_mail && word_is(p, klen, "BODY")) {
		if (v != NULL && word_is(v, vlen, "7BIT"))
			m->body = SMTP_BODY_7BIT;
		else if (v != NULL && word_is(v, vlen, "8BITMIME"))
			m->body = SMTP_BODY_8BITMIME;
		else
			return -1;
		bit = SEEN_BODY;
	} else if (is_mail && word_is(p, klen, "SMTPUTF8")) {
		if (v != NULL)
			return -1;
		m->smtputf8 = true;
		bit = SEEN_UTF8;
	} else if (is_mail && word_is(p, klen, "AUTH")) {
		if (v == NULL || !(word_is(v, vlen, "<>") || valid_xtext(v, vlen)))
			return -1;
		bit = SEEN_AUTH;
	} else if (is_mail && word_is(p, klen, "RET")) {
		if (v == NULL || !(word_is(v, vlen, "FULL") || word_is(v, vlen, "HDRS")))
			return -1;
		bit = SEEN_RET;
	} else if (is_mail && word_is(p, klen, "ENVID")) {
		if (v == NULL || vlen > 100 || !valid_xtext(v, vlen))
			return -1;
		bit = SEEN_ENVID;
	} else if (!is_mail && word_is(p, klen, "NOTIFY")) {
		if (v == NULL || vlen == 0)
			return -1;
		for (const char *w = v, *end = v + vlen; w < end; ) {
			const char *c = memchr(w, ',', (size_t)(end - w));
			size_t wl = c ? (size_t)(c - w) : (size_t)(end - w);

			if (!word_is(w, wl, "NEVER") && !word_is(w, wl, "SUCCESS") &&
			    !word_is(w, wl, "FAILURE") && !word_is(w, wl, "DELAY"))
				return -1;
			w += wl + (c != NULL);
		}
		bit = SEEN_NOTIFY;
	} else if (!is_mail && word_is(p, klen, "ORCPT")) {
		if (v == NULL || memchr(v, ';', vlen) == NULL || !valid_xtext(v, vlen))
			return -1;
		bit = SEEN_ORCPT;
	} else {
		*error_r = "555 5.5.4 Unsupported parameter";
		return -1;
	}
	if (*seen & bit) {
		*error_r = "501 5.5.4 Duplicate parameter";
		return -1;
	}
	*seen |= bit;
	return 0;
}

static int parse_params(const char *rest, bool is_mail, struct smtp_mail_args *m, const char **error_r)
{
	unsigned seen = 0;

	if (*rest != '\0' && *rest != ' ') {
		*error_r = "501 5.5.4 Syntax error after the address";
		return -1;
	}
	while (*rest != '\0') {
		size_t n;

		while (*rest == ' ')
			rest++;
		n = strcspn(rest, " ");
		if (n > 0 && parse_param(rest, n, is_mail, m, &seen, error_r) < 0)
			return -1;
		rest += n;
	}
	return 0;
}

int smtp_parse_mail(const char *args, struct smtp_mail_args *m_r, const char **error_r)
{
	const char *path, *rest, *why;
	size_t len;

	memset(m_r, 0, sizeof(*m_r));
	if (split_path(args, "FROM:", &path, &len, &rest) < 0) {
		*error_r = "501 5.5.4 Syntax: MAIL FROM:<address>";
		return -1;
	}
	/* SMTPUTF8 may follow the path: look at the parameters first. */
	if (parse_params(rest, true, m_r, error_r) < 0)
		return -1;
	if (smtp_parse_path(path, len, true, m_r->smtputf8, &m_r->path, &why) < 0) {
		*error_r = "501 5.1.7 Bad sender address syntax";
		return -1;
	}
	return 0;
}

int smtp_parse_rcpt(const char *args, bool utf8_ok, struct smtp_rcpt_args *r_r, const char **error_r)
{
	const char *path, *rest, *why;
	struct smtp_mail_args dummy = { .size = 0 };
	size_t len;

	memset(r_r, 0, sizeof(*r_r));
	if (split_path(args, "TO:", &path, &len, &rest) < 0) {
		*error_r = "501 5.5.4 Syntax: RCPT TO:<address>";
		return -1;
	}
	if (smtp_parse_path(path, len, false, utf8_ok, &r_r->path, &why) < 0) {
		*error_r = "501 5.1.3 Bad recipient address syntax";
		return -1;
	}
	return parse_params(rest, false, &dummy, error_r);
}
