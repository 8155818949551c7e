/* smtp_url: see smtp_url.h; the parsing itself is lib/url.c's. */
#include "lib/smtp_url.h"
#include "lib/url.h"

#include <stddef.h>

int smtp_url_parse(const char *text, enum smtp_url_tls *tls_r, char **host_r, char **hostport_r,
		   const char **error_r)
{
	static const struct url_scheme schemes[] = {
		{ "smtp://", SMTP_URL_STARTTLS, "587" },
		{ "smtps://", SMTP_URL_IMPLICIT_TLS, "465" },
		{ "smtp+insecure://", SMTP_URL_PLAIN, "25" },
	};
	struct url u;

	if (url_parse(text, schemes, sizeof(schemes) / sizeof(schemes[0]), 0, &u, error_r) < 0) {
		if (*error_r == NULL)
			*error_r = "must start with smtp://, smtps:// or smtp+insecure://";
		return -1;
	}
	*tls_r = (enum smtp_url_tls)u.kind;
	if (host_r != NULL) {
		*host_r = u.host;
		u.host = NULL;
	}
	if (hostport_r != NULL) {
		*hostport_r = u.hostport;
		u.hostport = NULL;
	}
	url_clear(&u);
	return 0;
}
