/* Accounts: the imap_* settings of an `account NAME { }` block (or the
 * global ones) gathered for remote_connect; see remote.h. */
#include "remote/remote.h"
#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void fill(const struct config *cfg, const char *account, struct remote_account *a)
{
	const char *user = config_account_get(cfg, account, "imap_user");

	a->user = dup_or_null(user != NULL ? user : a->url.user);
	a->password_command = dup_or_null(config_account_get(cfg, account, "imap_password_command"));
	a->oauth_token_command =
		dup_or_null(config_account_get(cfg, account, "imap_oauth_token_command"));
	a->ca = dup_or_null(config_account_get(cfg, account, "imap_ca"));
	a->fingerprint = dup_or_null(config_account_get(cfg, account, "imap_fingerprint"));
	/* Each wait for the server; IDLE waits are the caller's own. */
	a->timeout_ms = (int)config_account_int(cfg, account, "imap_timeout") * 1000;
	a->poll_ms = (int)config_account_int(cfg, account, "imap_poll") * 1000;
}

int remote_account_load(const struct config *cfg, const char *name, struct remote_account *a,
			char **error_r)
{
	const char *url;
	char *why;

	memset(a, 0, sizeof(*a));
	if (!config_account_exists(cfg, name)) {
		*error_r = xasprintf("no account %s in the mailrc", name);
		return -1;
	}
	url = config_account_get(cfg, name, "imap_url");
	if (url == NULL) {
		*error_r = xasprintf("account %s: imap_url is not set", name);
		return -1;
	}
	if (remote_url_parse(url, &a->url, &why) < 0) {
		*error_r = xasprintf("account %s: imap_url %s", name, why);
		free(why);
		return -1;
	}
	a->name = xstrdup(name);
	fill(cfg, name, a);
	return 0;
}

/* The same server and login: user (when both name one), host, port. */
static bool same_server(const struct remote_url *x, const struct remote_url *y)
{
	if (x->user != NULL && y->user != NULL && strcmp(x->user, y->user) != 0)
		return false;
	return strcasecmp(x->hostport, y->hostport) == 0;
}

int remote_account_from_url(const struct config *cfg, const char *url, struct remote_account *a,
			    char **error_r)
{
	const char *account = NULL;

	memset(a, 0, sizeof(*a));
	if (remote_url_parse(url, &a->url, error_r) < 0)
		return -1;
	for (size_t i = 0; i < config_account_count(cfg) && account == NULL; i++) {
		const char *name = config_account_name(cfg, i);
		const char *u = config_account_get(cfg, name, "imap_url");
		struct remote_url parsed;
		char *why;

		if (u == NULL)
			continue;
		if (remote_url_parse(u, &parsed, &why) < 0) {
			free(why);
			continue;
		}
		if (same_server(&a->url, &parsed)) {
			account = name;
			if (a->url.user == NULL && parsed.user != NULL)
				a->url.user = xstrdup(parsed.user);
		}
		remote_url_clear(&parsed);
	}
	/* Without a block the account is the server and login, whatever the
	 * folder: every folder of it shares one header cache. */
	if (account != NULL) {
		a->name = xstrdup(account);
	} else {
		const char *host = strstr(url, "://") + 3, *slash = strchr(host, '/');

		a->name = slash != NULL ? xstrndup(url, (size_t)(slash - url)) : xstrdup(url);
	}
	/* No account: config_account_get falls back to the global values. */
	fill(cfg, account != NULL ? account : "", a);
	return 0;
}

void remote_account_clear(struct remote_account *a)
{
	if (a == NULL)
		return;
	free(a->name);
	remote_url_clear(&a->url);
	free(a->user);
	free(a->password_command);
	free(a->oauth_token_command);
	free(a->ca);
	free(a->fingerprint);
	memset(a, 0, sizeof(*a));
}
