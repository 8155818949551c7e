/* url: see url.h.  No scheme is guessed by anyone calling this: "host:587"
 * could mean STARTTLS or plaintext, and guessing plaintext would send a
 * password in the clear. */
#include "lib/url.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The len bytes at s with %XX decoded into a malloc'd string, or NULL for
 * a broken escape or a control character (raw or decoded). */
static char *decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			char hex[3] = { 0 };

			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				goto bad;
			memcpy(hex, s + i + 1, 2);
			c = (int)strtol(hex, NULL, 16);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

const struct url_scheme url_imap_schemes[URL_IMAP_SCHEMES] = {
	{ "imaps://", URL_IMAPS, "993" },
	{ "imap://", URL_IMAP_STARTTLS, "143" },
	{ "imap+insecure://", URL_IMAP_PLAIN, "143" },
};

const struct url_scheme url_pop3_schemes[URL_POP3_SCHEMES] = {
	{ "pop3s://", URL_POP3S, "995" },
	{ "pop3://", URL_POP3_STLS, "110" },
	{ "pop3+insecure://", URL_POP3_PLAIN, "110" },
};

static int fail(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

/* HOST[:PORT] in [s, end). */
static int parse_server(const char *s, const char *end, const char *def_port, struct url *u,
			const char **error_r)
{
	const char *host, *port = def_port;
	size_t hostlen;
	char pbuf[8];

	if (*s == '[') {
		const char *close = memchr(s, ']', (size_t)(end - s));

		if (close == NULL || close == s + 1 ||
		    strspn(s + 1, "0123456789abcdefABCDEF:.") != (size_t)(close - s - 1))
			return fail(error_r, "bad [IPv6] address");
		host = s + 1;
		hostlen = (size_t)(close - s - 1);
		s = close + 1;
	} else {
		hostlen = strcspn(s, ":/");
		if (s + hostlen > end)
			hostlen = (size_t)(end - s);
		if (hostlen == 0)
			return fail(error_r, "no host");
		/* A host name or IPv4 literal, nothing that could be anything else. */
		if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") < hostlen)
			return fail(error_r, "bad host");
		host = s;
		s += hostlen;
	}
	if (s < end && *s == ':') {
		char *ep;
		long p = strtol(s + 1, &ep, 10);

		if (end == s + 1 || ep != end || s[1] < '0' || s[1] > '9' || p < 1 || p > 65535)
			return fail(error_r, "bad port");
		snprintf(pbuf, sizeof(pbuf), "%ld", p);
		port = pbuf;
	} else if (s != end) {
		return fail(error_r, "bad host");
	}
	u->host = xstrndup(host, hostlen);
	u->hostport = xasprintf(memchr(host, ':', hostlen) ? "[%.*s]:%s" : "%.*s:%s",
				(int)hostlen, host, port);
	return 0;
}

int url_parse(const char *text, const struct url_scheme *schemes, size_t n, unsigned flags,
	      struct url *u, const char **error_r)
{
	const struct url_scheme *scheme = NULL;
	const char *rest = NULL, *end, *at = NULL;
	struct url r = { 0 };

	for (size_t i = 0; i < n && scheme == NULL; i++) {
		size_t len = strlen(schemes[i].prefix);

		if (strncasecmp(text, schemes[i].prefix, len) == 0) {
			scheme = &schemes[i];
			rest = text + len;
		}
	}
	if (scheme == NULL)
		return fail(error_r, NULL);
	r.kind = scheme->kind;
	end = rest + strcspn(rest, "/");
	for (const char *p = rest; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		if (!(flags & URL_USER))
			return fail(error_r, "no user name may be given here");
		if (at == rest)
			return fail(error_r, "empty user name");
		r.user = decode(rest, (size_t)(at - rest));
		if (r.user == NULL)
			return fail(error_r, "bad %-escape or control character in the user name");
		rest = at + 1;
	}
	if (parse_server(rest, end, scheme->port, &r, error_r) < 0)
		goto fail;
	if (*end == '/' && end[1] != '\0') {
		if (!(flags & URL_PATH)) {
			fail(error_r, "nothing may follow HOST:PORT");
			goto fail;
		}
		r.path = decode(end + 1, strlen(end + 1));
		if (r.path == NULL) {
			fail(error_r, "bad %-escape or control character in the path");
			goto fail;
		}
	}
	*u = r;
	return 0;
fail:
	url_clear(&r);
	return -1;
}

void url_clear(struct url *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->host);
	free(u->hostport);
	free(u->path);
	memset(u, 0, sizeof(*u));
}
