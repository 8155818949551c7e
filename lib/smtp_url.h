/* smtp_url: the smarthost URL, parsed once for the relay and checked when
 * the mailrc is read (so a bad one is a FILE:LINE:COL error in `loft
 * check`, not five days of deferred mail).  Nothing blocks. */
#ifndef LOFT_LIB_SMTP_URL_H
#define LOFT_LIB_SMTP_URL_H

enum smtp_url_tls {
	SMTP_URL_STARTTLS,	/* smtp://HOST[:587] */
	SMTP_URL_IMPLICIT_TLS,	/* smtps://HOST[:465] */
	SMTP_URL_PLAIN,		/* smtp+insecure://HOST[:25] */
};

/* Parses url.  *host_r is the bare host (no brackets, for SNI and the
 * certificate check), *hostport_r what net_connect takes; both malloc'd,
 * the caller frees them.  host_r and hostport_r may be NULL to only check.
 * Returns 0, or -1 with *error_r a static description without the setting's
 * name ("bad port"; nothing allocated). */
int smtp_url_parse(const char *url, enum smtp_url_tls *tls_r, char **host_r, char **hostport_r,
		   const char **error_r);

#endif
