/* remote_url: see remote.h.  The grammar and the IMAP schemes are
 * lib/url.c's (shared with the smarthost and the imap_url check). */
#include "remote/remote.h"
#include "lib/url.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool remote_url_is(const char *text)
{
	for (size_t i = 0; i < URL_IMAP_SCHEMES; i++)
		if (strncasecmp(text, url_imap_schemes[i].prefix,
				strlen(url_imap_schemes[i].prefix)) == 0)
			return true;
	return false;
}

int remote_url_parse(const char *text, struct remote_url *u, char **error_r)
{
	struct url p;
	const char *why;

	if (url_parse(text, url_imap_schemes, URL_IMAP_SCHEMES, URL_USER | URL_PATH, &p, &why) < 0) {
		if (why == NULL)
			*error_r = xasprintf("'%s': an IMAP URL starts with imaps://, imap:// "
					     "(STARTTLS) or imap+insecure:// (plaintext)", text);
		else
			*error_r = xasprintf("'%s': %s", text, why);
		return -1;
	}
	memset(u, 0, sizeof(*u));
	u->security = p.kind == URL_IMAPS ? REMOTE_TLS :
		      p.kind == URL_IMAP_STARTTLS ? REMOTE_STARTTLS : REMOTE_PLAIN;
	u->user = p.user;
	u->host = p.host;
	u->hostport = p.hostport;
	u->folder = p.path != NULL ? p.path : xstrdup("INBOX");
	/* The folder is taken as the server names it: a trailing '/' is not
	 * part of any name. */
	size_t len = strlen(u->folder);

	if (len > 0 && u->folder[len - 1] == '/')
		u->folder[len - 1] = '\0';
	if (u->folder[0] == '\0') {
		free(u->folder);
		u->folder = xstrdup("INBOX");
	}
	return 0;
}

void remote_url_clear(struct remote_url *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->host);
	free(u->hostport);
	free(u->folder);
	memset(u, 0, sizeof(*u));
}
