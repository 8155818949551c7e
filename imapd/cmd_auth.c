/* Commands of any state and of the not-authenticated state: CAPABILITY,
 * NOOP, LOGOUT, ID, ENABLE, IDLE, UNAUTHENTICATE, STARTTLS, LOGIN,
 * AUTHENTICATE. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void cmd_capability(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	struct sbuf caps = SBUF_INIT;

	sess_capabilities(s, &caps);
	sess_printf(s, "* CAPABILITY %s\r\n", caps.buf);
	sbuf_release(&caps);
}

static void cmd_noop(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	if (s->mbox != NULL)
		imapd_mbox_sync(s, true, true);
}

static void cmd_logout(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	sess_printf(s, "* BYE Logging out.\r\n");
	s->state = SESS_LOGOUT;
	sess_reply(s, "OK", "LOGOUT completed.");
}

static void cmd_id(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	if (n != 1 || (args[0].type != IMAP_ARG_NIL && args[0].type != IMAP_ARG_LIST)) {
		sess_reply(s, "BAD", "ID takes NIL or a list.");
		return;
	}
	sess_printf(s, "* ID (\"name\" \"loft\")\r\n");
}

static void cmd_enable(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	struct sbuf on = SBUF_INIT;

	if (n == 0) {
		sess_reply(s, "BAD", "ENABLE needs a capability.");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE. */
		if (imap_arg_is_atom(&args[i], "CONDSTORE") && !s->condstore) {
			s->condstore = true;
			sbuf_addstr(&on, " CONDSTORE");
		} else if (imap_arg_is_atom(&args[i], "QRESYNC") && !s->qresync) {
			s->condstore = s->qresync = true;
			sbuf_addstr(&on, " QRESYNC");
		} else if (imap_arg_is_atom(&args[i], "UTF8=ACCEPT") && !s->utf8) {
			s->utf8 = true;
			sbuf_addstr(&on, " UTF8=ACCEPT");
		}
	}
	sess_printf(s, "* ENABLED%s\r\n", on.buf);
	sbuf_release(&on);
}

static void cmd_idle(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	if (n != 0) {
		sess_reply(s, "BAD", "IDLE takes no arguments.");
		return;
	}
	if (sess_idle_wait(s) < 0) {
		s->fatal = true;
		sess_reply(s, "NO", "IDLE ended.");
	}
}

/* RFC 8437: back to the not-authenticated state, the selected mailbox
 * closed without expunging and what ENABLE turned on turned off; TLS
 * stays. */
static void cmd_unauthenticate(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	if (n != 0) {
		sess_reply(s, "BAD", "UNAUTHENTICATE takes no arguments.");
		return;
	}
	if (s->auth == NULL || s->auth->login == NULL) {
		sess_reply(s, "BAD", "Unknown command.");
		return;
	}
	imapd_mbox_close(s);
	if (s->auth->logout != NULL)
		s->auth->logout(s->auth->ctx);
	free(s->user);
	s->user = NULL;
	s->condstore = s->qresync = s->utf8 = false;
	s->state = SESS_NOTAUTH;
}

static void cmd_starttls(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	if (s->auth == NULL || s->auth->starttls == NULL || conn_tls_active(s->conn)) {
		sess_reply(s, "NO", "STARTTLS is not available.");
		return;
	}
	sess_printf(s, "%s OK Begin TLS negotiation now.\r\n", s->tag);
	if (s->auth->starttls(s->auth->ctx, s->conn) < 0) {
		log_info("imapd: STARTTLS failed: %s", conn_error(s->conn));
		s->fatal = true;
	}
	/* The reply went out before the handshake: none is left to send. */
	sess_reply(s, "OK", "TLS is on.");
	s->replied = true;
}

/* Checks the login through the callback; sets the state on success. */
static void try_login(struct imapd_session *s, const char *user, const char *pass)
{
	if (s->auth == NULL || s->auth->login == NULL ||
	    (s->auth->plaintext_ok && !s->auth->plaintext_ok(s->auth->ctx, s->conn))) {
		sess_reply(s, "NO", "[PRIVACYREQUIRED] Log in over TLS.");
		return;
	}
	switch (s->auth->login(s->auth->ctx, user, pass)) {
	case IMAPD_LOGIN_OK:
		break;
	case IMAPD_LOGIN_UNAVAILABLE:
		sess_reply(s, "NO", "[UNAVAILABLE] Cannot check logins now, try again later.");
		return;
	case IMAPD_LOGIN_CLOSE:
		s->bye = "Too many failed logins.";
		/* fall through */
	case IMAPD_LOGIN_FAILED:	/* the callback logged it */
		sess_reply(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed.");
		return;
	}
	free(s->user);
	s->user = xstrdup(user);
	s->state = SESS_AUTH;
	struct sbuf caps = SBUF_INIT;
	sess_capabilities(s, &caps);
	sess_reply(s, "OK", "[CAPABILITY %s] Logged in.", caps.buf);
	sbuf_release(&caps);
}

static void cmd_login(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	const char *user = n == 2 ? imap_arg_astring(&args[0]) : NULL;
	const char *pass = n == 2 ? imap_arg_astring(&args[1]) : NULL;

	if (user == NULL || pass == NULL) {
		sess_reply(s, "BAD", "LOGIN takes a user name and a password.");
		return;
	}
	try_login(s, user, pass);
}

/* Strict base64 into arena; NULL when invalid. */
static char *b64_decode(struct imapd_session *s, const char *in, size_t *len_r)
{
	size_t len = strlen(in);

	if (len > 8192)
		return NULL;
	char *out = arena_alloc(s->arena, BASE64_DECODED_MAX(len));
	long n = base64_decode(in, len, out);

	if (n < 0)
		return NULL;
	*len_r = (size_t)n;
	return out;
}

/* One SASL response: the initial one, or read after "+ prompt". */
static char *sasl_response(struct imapd_session *s, const char *prompt_b64, size_t *len_r)
{
	struct sbuf line = SBUF_INIT;
	bool too_long;
	char *out = NULL;

	sess_printf(s, "+ %s\r\n", prompt_b64);
	if (conn_read_line(s->conn, &line, 8192, &too_long) > 0 && !too_long &&
	    strcmp(line.buf, "*") != 0)
		out = b64_decode(s, line.buf, len_r);
	sbuf_release(&line);
	return out;
}

static void cmd_authenticate(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	size_t len;
	char *resp = NULL;

	if (n < 1 || n > 2 || args[0].type != IMAP_ARG_ATOM) {
		sess_reply(s, "BAD", "AUTHENTICATE takes a mechanism.");
		return;
	}
	if (strcasecmp(args[0].str, "PLAIN") == 0) {
		if (n == 2)	/* SASL-IR; "=" is an empty one */
			resp = strcmp(args[1].str, "=") == 0 ? arena_strdup(s->arena, "")
							     : b64_decode(s, args[1].str, &len);
		else
			resp = sasl_response(s, "", &len);
		if (resp != NULL && n == 2 && *args[1].str == '=')
			len = 0;
		/* authzid NUL authcid NUL password */
		char *user = resp ? memchr(resp, '\0', len) : NULL;
		char *pass = user && (size_t)(user - resp) < len ? memchr(user + 1, '\0', len - (size_t)(user - resp) - 1) : NULL;
		if (pass == NULL) {
			sess_reply(s, "BAD", "Invalid SASL response.");
			return;
		}
		if (user != resp && strcmp(resp, user + 1) != 0) {
			sess_reply(s, "NO", "[AUTHORIZATIONFAILED] No proxy logins.");
			return;
		}
		try_login(s, user + 1, pass + 1);
	} else if (strcasecmp(args[0].str, "LOGIN") == 0) {
		char *user = n == 2 ? b64_decode(s, args[1].str, &len)
				    : sasl_response(s, "VXNlcm5hbWU6", &len);
		char *pass = user ? sasl_response(s, "UGFzc3dvcmQ6", &len) : NULL;
		if (pass == NULL) {
			sess_reply(s, "BAD", "Invalid SASL response.");
			return;
		}
		try_login(s, user, pass);
	} else {
		sess_reply(s, "NO", "Unsupported authentication mechanism.");
	}
}

const struct sess_command cmd_auth_table[] = {
	{ "CAPABILITY", cmd_capability, SESS_NOTAUTH | SESS_AUTH | SESS_SELECTED, false },
	{ "NOOP", cmd_noop, SESS_NOTAUTH | SESS_AUTH | SESS_SELECTED, false },
	{ "LOGOUT", cmd_logout, SESS_NOTAUTH | SESS_AUTH | SESS_SELECTED, false },
	{ "ID", cmd_id, SESS_NOTAUTH | SESS_AUTH | SESS_SELECTED, false },
	{ "ENABLE", cmd_enable, SESS_AUTH, false },
	{ "IDLE", cmd_idle, SESS_AUTH | SESS_SELECTED, false },
	{ "UNAUTHENTICATE", cmd_unauthenticate, SESS_AUTH | SESS_SELECTED, false },
	{ "STARTTLS", cmd_starttls, SESS_NOTAUTH, false },
	{ "LOGIN", cmd_login, SESS_NOTAUTH, false },
	{ "AUTHENTICATE", cmd_authenticate, SESS_NOTAUTH, false },
	{ NULL, NULL, 0, false },
};
