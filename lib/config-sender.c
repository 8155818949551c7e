/* config-sender: who the user is on mail loft writes -- one rule for the
 * client's From, `loft sendmail`'s envelope sender and From, and what
 * `loft check` prints, so they can never disagree again.
 *
 * The default is USER@DOMAIN with a domain that has a dot: a bare host
 * name ("ann@thinkpad") is refused by most servers as a sender, and
 * "localhost.localdomain" at least says plainly that `from` is unset. */
#include "lib/config.h"
#include "lib/xalloc.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *config_mail_domain(const struct config *cfg)
{
	const char *d = config_get(cfg, "domain");
	const char *h = config_get(cfg, "hostname");
	char host[256];

	if (d != NULL)
		return xstrdup(d);
	if (h != NULL && strchr(h, '.') != NULL)
		return xstrdup(h);
	if (gethostname(host, sizeof(host)) == 0 && (host[sizeof(host) - 1] = '\0', 1) &&
	    strchr(host, '.') != NULL && host[strlen(host) - 1] != '.')
		return xstrdup(host);
	return xstrdup("localhost.localdomain");
}

/* The login name: the password database first (what sendmail has always
 * used), then $LOGNAME and $USER for a uid without an entry. */
static const char *user_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *u;

	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name)
		return pw->pw_name;
	u = getenv("LOGNAME");
	if (u == NULL || *u == '\0')
		u = getenv("USER");
	return u && *u ? u : "nobody";
}

char *config_default_address(const struct config *cfg)
{
	char *dom = config_mail_domain(cfg);
	char *ret = xasprintf("%s@%s", user_name(), dom);

	free(dom);
	return ret;
}

char *config_sender(const struct config *cfg)
{
	const char *from = config_get(cfg, "from");

	return from != NULL ? xstrdup(from) : config_default_address(cfg);
}
