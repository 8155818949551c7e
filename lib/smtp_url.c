/* smtp_url: see smtp_url.h.  No scheme is guessed: "host:587" could mean
 * STARTTLS or plaintext, and guessing plaintext would send the password
 * in the clear, so the user spells it out (the mailrc check says how). */
#include "lib/smtp_url.h"
#include "lib/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

int smtp_url_parse(const char *url, enum smtp_url_tls *tls_r, char **host_r, char **hostport_r,
		   const char **error_r)
{
	static const struct {
		const char *prefix;
		enum smtp_url_tls tls;
		const char *port;
	} schemes[] = {
		{ "smtp://", SMTP_URL_STARTTLS, "587" },
		{ "smtps://", SMTP_URL_IMPLICIT_TLS, "465" },
		{ "smtp+insecure://", SMTP_URL_PLAIN, "25" },
	};
	const char *rest = NULL, *port = NULL, *end, *host;
	size_t hostlen;
	long p = 0;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].prefix);

		if (strncasecmp(url, schemes[i].prefix, n) == 0) {
			rest = url + n;
			*tls_r = schemes[i].tls;
			port = schemes[i].port;
		}
	}
	if (rest == NULL)
		return fail(error_r, "smarthost must start with smtp://, smtps:// or smtp+insecure://");
	end = rest + strcspn(rest, "/");
	if (*end == '/' && end[1] != '\0')
		return fail(error_r, "smarthost: nothing may follow HOST:PORT");
	if (*rest == '[') {
		const char *close = memchr(rest, ']', (size_t)(end - rest));

		if (close == NULL || close == rest + 1 ||
		    strspn(rest + 1, "0123456789abcdefABCDEF:.") != (size_t)(close - rest - 1))
			return fail(error_r, "smarthost: bad [IPv6] address");
		host = rest + 1;
		hostlen = (size_t)(close - rest - 1);
		rest = close + 1;
	} else {
		hostlen = strcspn(rest, ":/");
		if (hostlen == 0)
			return fail(error_r, "smarthost: no host");
		/* A host name or IPv4 literal, nothing that could be anything else. */
		if (strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") != hostlen)
			return fail(error_r, "smarthost: bad host");
		host = rest;
		rest += hostlen;
	}
	if (*rest == ':') {
		size_t plen = (size_t)(end - rest - 1);
		char *ep;

		p = strtol(rest + 1, &ep, 10);
		if (plen == 0 || ep != end || p < 1 || p > 65535)
			return fail(error_r, "smarthost: bad port");
		port = NULL;
	} else if (rest != end) {
		return fail(error_r, "smarthost: bad host");
	}
	if (host_r != NULL)
		*host_r = xstrndup(host, hostlen);
	if (hostport_r != NULL) {
		bool v6 = memchr(host, ':', hostlen) != NULL;
		char pbuf[8];

		if (port == NULL) {
			snprintf(pbuf, sizeof(pbuf), "%ld", p);
			port = pbuf;
		}
		*hostport_r = xasprintf(v6 ? "[%.*s]:%s" : "%.*s:%s", (int)hostlen, host, port);
	}
	return 0;
}
