/* The relay's settings: the smarthost URL (lib/smtp_url.c); the password
 * command is lib/secret_cmd.c's. */
#include "localmta/relay-private.h"
#include "lib/smtp_url.h"

int relay_parse_url(const char *url, enum relay_tls *tls_r, char **host_r, char **hostport_r,
		    const char **error_r)
{
	enum smtp_url_tls t;

	if (smtp_url_parse(url, &t, host_r, hostport_r, error_r) < 0)
		return -1;
	*tls_r = t == SMTP_URL_STARTTLS ? RELAY_STARTTLS :
		 t == SMTP_URL_IMPLICIT_TLS ? RELAY_IMPLICIT_TLS : RELAY_PLAIN;
	return 0;
}
