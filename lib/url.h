/* url: the server URLs loft's settings take, SCHEME://[USER@]HOST[:PORT][/PATH]
 * (smarthost, imap_url, `loft -f imaps://...`).  One parser for all of them:
 * the caller gives its schemes (each with its default port) and says whether
 * a user and a path may appear.  No DNS, no I/O, nothing blocks.
 *
 * HOST is a name, an IPv4 literal or [IPv6]; PORT 1..65535.  USER and PATH
 * are percent-decoded; a decoded NUL or control character is refused (it
 * would end up inside a protocol line).  USER ends at the last '@' before
 * the first '/', so an address as user name may be written plainly
 * (imaps://me@example.org@imap.example.org). */
#ifndef LOFT_LIB_URL_H
#define LOFT_LIB_URL_H

#include <stddef.h>

struct url_scheme {
	const char *prefix;	/* "imaps://", matched case-insensitively */
	int kind;		/* the caller's enum value for it */
	const char *port;	/* default port, "993" */
};

#define URL_USER 0x01		/* USER@ may appear */
#define URL_PATH 0x02		/* /PATH may appear */

struct url {
	int kind;		/* the matched scheme's kind */
	char *user;		/* decoded; NULL when absent */
	char *host;		/* bare host (no brackets), for SNI and certificate checks */
	char *hostport;		/* "host:port" / "[v6]:port", what net_connect takes */
	char *path;		/* decoded, without the leading '/'; NULL when absent or empty */
};

/* The IMAP schemes, for the imap_url check and remote/url.c: imaps://
 * (kind URL_IMAPS, port 993), imap:// (URL_IMAP_STARTTLS, 143) and
 * imap+insecure:// (URL_IMAP_PLAIN, 143). */
enum { URL_IMAPS, URL_IMAP_STARTTLS, URL_IMAP_PLAIN };
#define URL_IMAP_SCHEMES 3
extern const struct url_scheme url_imap_schemes[URL_IMAP_SCHEMES];
/* The POP3 schemes, for the pop3_url check and remote/pop3.c: pop3s://
 * (URL_POP3S, 995), pop3:// (URL_POP3_STLS, 110) and pop3+insecure://
 * (URL_POP3_PLAIN, 110). */
enum { URL_POP3S, URL_POP3_STLS, URL_POP3_PLAIN };
#define URL_POP3_SCHEMES 3
extern const struct url_scheme url_pop3_schemes[URL_POP3_SCHEMES];

/* Parses text with the n schemes.  On success fills *u (every string
 * malloc'd; url_clear frees them) and returns 0.  On failure returns -1,
 * *u untouched, *error_r a static description without the setting's name
 * ("bad port"), or NULL when text starts with none of the schemes (so the
 * caller lists its own). */
int url_parse(const char *text, const struct url_scheme *schemes, size_t n, unsigned flags,
	      struct url *u, const char **error_r);
/* Frees the strings of u and zeroes it; NULL-safe. */
void url_clear(struct url *u);

#endif
