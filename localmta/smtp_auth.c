/* SMTP AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN, each with an initial
 * response (SASL-IR).  Offered only to submission clients under TLS or on
 * loopback, so a password never crosses a network in the clear.  Failed
 * logins are slowed down (auth_delay_ms times the failures so far) and
 * counted; after max_auth_failures the connection is closed. */
#include "localmta/smtp_server-private.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool smtp_auth_offered(const struct smtp_session *s)
{
	return s->cfg->mode == SMTP_MODE_SUBMISSION && s->auth_user == NULL &&
	       (conn_tls_active(s->c) || s->loopback);
}

/* Sends a 334 challenge and reads the answer, decoded into out.
 * Returns the length, -1 after a reply was sent (cancel, bad base64), or
 * -2 when the session is over. */
static long challenge(struct smtp_session *s, const char *b64_prompt, char *out)
{
	long n;

	smtp_reply(s, "334 %s", b64_prompt);
	if (smtp_read_line(s) <= 0)
		return -2;
	if (smtp_line_error(&s->line) != NULL) {
		smtp_reply_error(s, smtp_line_error(&s->line));
		return -1;
	}
	if (strcmp(s->line.buf, "*") == 0) {
		smtp_reply_error(s, "501 5.0.0 Authentication cancelled");
		return -1;
	}
	n = base64_decode(s->line.buf, s->line.len, out);
	if (n < 0)
		smtp_reply_error(s, "501 5.5.2 Invalid base64 data");
	return n;
}

static long initial(struct smtp_session *s, const char *ir, char *out)
{
	long n;

	if (strcmp(ir, "=") == 0) {
		out[0] = '\0';
		return 0;
	}
	n = base64_decode(ir, strlen(ir), out);
	if (n < 0)
		smtp_reply_error(s, "501 5.5.2 Invalid base64 data");
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0)
		;
}

static void check_login(struct smtp_session *s, const char *user, const char *pass)
{
	const struct smtp_server_config *cfg = s->cfg;
	int r = cfg->auth ? cfg->auth(cfg->auth_ctx, user, pass) : 0;

	if (r > 0) {
		s->auth_user = xstrdup(user);
		log_info("smtp: %s logged in as %s", s->peer_ip, user);
		if (cfg->event != NULL)
			cfg->event(cfg->event_ctx, SMTP_EV_AUTHENTICATED);
		smtp_reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	if (r < 0) {
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	s->st.auth_failures++;
	log_warning("smtp: %s: failed login for '%.64s' (%u)", s->peer_ip, user, s->st.auth_failures);
	conn_flush(s->c);
	sleep_ms((long)cfg->auth_delay_ms * s->st.auth_failures);
	smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
	if (s->st.auth_failures >= cfg->max_auth_failures) {
		smtp_reply(s, "421 4.7.0 %s Too many failed logins, closing connection", cfg->hostname);
		s->fatal = true;
	}
}

void smtp_cmd_auth(struct smtp_session *s, const char *args)
{
	char mech[32], buf[SMTP_LINE_MAX], user[SMTP_LINE_MAX];
	const char *ir = NULL;
	size_t mlen = strcspn(args, " ");
	long n;

	const char *refuse = NULL;

	if (s->cfg->mode != SMTP_MODE_SUBMISSION)
		refuse = "502 5.5.1 AUTH not available";
	else if (s->auth_user != NULL)
		refuse = "503 5.5.1 Already authenticated";
	else if (s->state == SMTP_ST_INIT)
		refuse = "503 5.5.1 Send EHLO first";
	else if (s->state != SMTP_ST_READY)
		refuse = "503 5.5.1 AUTH not allowed during a mail transaction";
	else if (!smtp_auth_offered(s))
		refuse = "538 5.7.11 Encryption required: use STARTTLS first";
	else if (mlen == 0 || mlen >= sizeof(mech))
		refuse = "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
	if (refuse != NULL) {
		smtp_reply_error(s, refuse);
		return;
	}
	memcpy(mech, args, mlen);
	mech[mlen] = '\0';
	if (args[mlen] == ' ')
		ir = args + mlen + 1;

	if (strcasecmp(mech, "PLAIN") == 0) {
		n = ir ? initial(s, ir, buf) : challenge(s, "", buf);
		if (n < 0)
			goto wipe;
		/* authzid NUL authcid NUL password; authzid empty or = authcid */
		const char *authz = buf, *authc = memchr(buf, '\0', (size_t)n);
		const char *pass = authc ? memchr(authc + 1, '\0', (size_t)(buf + n - authc - 1)) : NULL;

		if (authc == NULL || pass == NULL || memchr(pass + 1, '\0', (size_t)(buf + n - pass - 1))) {
			smtp_reply_error(s, "501 5.5.2 Malformed PLAIN response");
			goto wipe;
		}
		authc++;
		pass++;
		if (*authz != '\0' && strcmp(authz, authc) != 0) {
			check_login(s, "", "");	/* counts as a failure */
			goto wipe;
		}
		check_login(s, authc, pass);
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		n = ir ? initial(s, ir, user) : challenge(s, "VXNlcm5hbWU6", user);
		if (n < 0 || (size_t)n != strlen(user)) {
			if (n >= 0)
				smtp_reply_error(s, "501 5.5.2 NUL in user name");
			goto wipe;
		}
		n = challenge(s, "UGFzc3dvcmQ6", buf);
		if (n < 0)
			goto wipe;
		if ((size_t)n != strlen(buf)) {
			smtp_reply_error(s, "501 5.5.2 NUL in password");
			goto wipe;
		}
		check_login(s, user, buf);
	} else {
		smtp_reply_error(s, "504 5.5.4 Unrecognized authentication mechanism");
	}
wipe:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(s->line.buf, sizeof(s->line.buf));
}
