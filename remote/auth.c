/* Logging in: OAUTHBEARER / XOAUTH2 with a token command, else
 * AUTHENTICATE PLAIN (with SASL-IR when offered) or LOGIN with a password
 * command.  Written on the stream by loft (remote_raw_command) because
 * libetpan's AUTHENTICATE needs Cyrus SASL and its modules.  Secrets are
 * fetched only here, after the TLS checks, and wiped after use. */
#include "remote/remote-private.h"
#include "lib/base64.h"
#include "lib/sbuf.h"
#include "lib/secret_cmd.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define SECRET_TIMEOUT 30	/* seconds, as smarthost_password_command */

static void wipe(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* AUTHENTICATE MECH with raw as the SASL response (base64'd here): in the
 * command with SASL-IR, else after the "+".  0, 1 when the server refused
 * it (NO, BAD), or -1; *error_r malloc'd unless 0. */
static int authenticate(struct remote_conn *c, const char *mech, const struct sbuf *raw,
			char **error_r)
{
	struct sbuf b64 = SBUF_INIT, cmd = SBUF_INIT;
	bool ir = remote_has_cap(c, "SASL-IR");
	char *why = NULL;
	int r;

	base64_encode(raw->buf, raw->len, &b64);
	/* RFC 4959: an empty initial response is "=". */
	if (b64.len == 0)
		sbuf_addch(&b64, '=');
	sbuf_addf(&cmd, "AUTHENTICATE %s%s%s", mech, ir ? " " : "", ir ? b64.buf : "");
	r = remote_raw_command(c, cmd.buf, ir ? NULL : b64.buf, NULL, NULL, &why);
	explicit_bzero(b64.buf, b64.len);
	explicit_bzero(cmd.buf, cmd.len);
	sbuf_release(&b64);
	sbuf_release(&cmd);
	if (r == 0) {
		c->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
		return 0;
	}
	if (r > 0) {
		*error_r = xasprintf("login refused by %s (AUTHENTICATE %s): %s", c->host, mech, why);
		free(why);
		return 1;
	}
	*error_r = why;
	return -1;
}

/* One OAuth login: a token from the command, then AUTHENTICATE.  0, 1 when
 * the server refused it, or -1; *error_r malloc'd unless 0. */
static int oauth_try(struct remote_conn *c, const struct remote_account *a, const char *user,
		     bool bearer, char **error_r)
{
	struct sbuf raw = SBUF_INIT;
	char *token = NULL;
	int r;

	if (secret_cmd_run("imap_oauth_token_command", a->oauth_token_command, SECRET_TIMEOUT,
			   &token, error_r) < 0)
		return -1;
	if (bearer) {
		const char *port = strrchr(a->url.hostport, ':');

		/* RFC 7628 section 3.1 */
		sbuf_addf(&raw, "n,a=%s,\001host=%s\001port=%s\001auth=Bearer %s\001\001", user,
			  c->host, port ? port + 1 : "993", token);
	} else {
		sbuf_addf(&raw, "user=%s\001auth=Bearer %s\001\001", user, token);
	}
	wipe(&token);
	r = authenticate(c, bearer ? "OAUTHBEARER" : "XOAUTH2", &raw, error_r);
	explicit_bzero(raw.buf, raw.len);
	sbuf_release(&raw);
	return r;
}

static int login_oauth(struct remote_conn *c, const struct remote_account *a, const char *user,
		       char **error_r)
{
	bool bearer = remote_has_cap(c, "AUTH=OAUTHBEARER");
	int r;

	if (!bearer && !remote_has_cap(c, "AUTH=XOAUTH2")) {
		*error_r = xasprintf("%s offers neither OAUTHBEARER nor XOAUTH2, and "
				     "imap_oauth_token_command is set", c->host);
		return -1;
	}
	r = oauth_try(c, a, user, bearer, error_r);
	if (r <= 0)
		return r;
	/* A refused token may have expired between the command and the server
	 * (the process stopped or suspended there, or a command that caches
	 * tokens handed out a stale one): a new one, at once and once, on the
	 * same connection. */
	free(*error_r);
	*error_r = NULL;
	return oauth_try(c, a, user, bearer, error_r) == 0 ? 0 : -1;
}

static int login_password(struct remote_conn *c, const struct remote_account *a,
			  const char *user, char **error_r)
{
	bool plain = remote_has_cap(c, "AUTH=PLAIN");
	char *password = NULL;
	int r;

	if (!plain && remote_has_cap(c, "LOGINDISABLED")) {
		*error_r = xasprintf("%s allows no login (LOGINDISABLED, no AUTH=PLAIN)", c->host);
		return -1;
	}
	if (a->password_command == NULL) {
		*error_r = xasprintf("no password for %s: set imap_password_command (or "
				     "imap_oauth_token_command)", c->host);
		return -1;
	}
	if (secret_cmd_run("imap_password_command", a->password_command, SECRET_TIMEOUT,
			   &password, error_r) < 0)
		return -1;
	if (plain) {
		struct sbuf raw = SBUF_INIT;

		sbuf_addch(&raw, '\0');
		sbuf_addstr(&raw, user);
		sbuf_addch(&raw, '\0');
		sbuf_addstr(&raw, password);
		wipe(&password);
		r = authenticate(c, "PLAIN", &raw, error_r);
		explicit_bzero(raw.buf, raw.len);
		sbuf_release(&raw);
		return r == 0 ? 0 : -1;
	}
	/* libetpan quotes (or sends as a literal) what needs it. */
	r = mailimap_login(c->imap, user, password);
	wipe(&password);
	if (r == MAILIMAP_NO_ERROR)
		return 0;
	if (r == MAILIMAP_ERROR_LOGIN)
		*error_r = xasprintf("login refused by %s (LOGIN): %s", c->host,
				     c->imap->imap_response ? c->imap->imap_response : "NO");
	else
		*error_r = remote_io_error(c, "LOGIN", r);
	return -1;
}

int remote_login(struct remote_conn *c, const struct remote_account *a, char **error_r)
{
	const char *user = a->user;

	if (user == NULL) {
		*error_r = xasprintf("no user name for %s: set imap_user or write "
				     "imaps://USER@%s/ in the URL", c->host, c->host);
		return -1;
	}
	if (a->oauth_token_command != NULL)
		return login_oauth(c, a, user, error_r);
	return login_password(c, a, user, error_r);
}
