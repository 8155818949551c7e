/* imapd: the IMAP server's protocol core -- one session over a struct conn
 * (plain, TLS, or a pipe pair), serving one store.
 *
 * The listener (daemon/daemon_imap.c) accepts, forks, drops privileges and then
 * calls imapd_session_run(); `loft imapd` calls it on stdin/stdout with the
 * session already authenticated (PREAUTH).  Authentication and STARTTLS are
 * callbacks, so this layer never reads the password file nor holds a TLS
 * context itself.  Nothing here prints (the log aside) or exits. */
#ifndef LOFT_IMAPD_IMAPD_H
#define LOFT_IMAPD_IMAPD_H

#include "lib/command.h"

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct store;

struct imapd_settings {
	size_t max_append;		/* bytes of one APPEND literal; 0: 64 MiB */
	unsigned idle_timeout;		/* seconds without a command once logged in
					 * (autologout); 0: 30 minutes (RFC 9051
					 * minimum) */
	unsigned login_timeout;		/* the same before login; 0: 60 seconds */
	unsigned command_timeout;	/* seconds one command may take to arrive,
					 * literals included; 0: 10 minutes */
};

/* What a login check found. */
enum imapd_login_result {
	IMAPD_LOGIN_OK,
	IMAPD_LOGIN_FAILED,		/* NO [AUTHENTICATIONFAILED] */
	IMAPD_LOGIN_UNAVAILABLE,	/* cannot check now: NO [UNAVAILABLE] */
	IMAPD_LOGIN_CLOSE,		/* failed once too often: NO, then BYE */
};

struct imapd_auth {
	/* Checks a login.  May block (a password hash) and should delay
	 * failures and count them itself.  NULL: LOGIN and AUTHENTICATE are
	 * refused (LOGINDISABLED). */
	enum imapd_login_result (*login)(void *ctx, const char *user, const char *pass);
	/* Starts TLS on the session's conn (STARTTLS); 0 or -1.  NULL: no
	 * STARTTLS offered. */
	int (*starttls)(void *ctx, struct conn *conn);
	/* Whether a plaintext password may be sent now (TLS is on, or the
	 * peer is on loopback).  NULL: always. */
	bool (*plaintext_ok)(void *ctx, struct conn *conn);
	/* The session left the authenticated state (UNAUTHENTICATE): the
	 * login checked last is over.  NULL: nothing to do. */
	void (*logout)(void *ctx);
	/* The session is over and its end of stream about to reach the client,
	 * before the teardown (folder, state): a client that reconnects at
	 * once must not find this session still counted.  NULL: nothing. */
	void (*closing)(void *ctx);
	void *ctx;
};

/* Runs a session on conn until LOGOUT, end of stream, a timeout or a fatal
 * error, with store serving the mail.  preauth_user non-NULL: the session
 * starts authenticated as that user (PREAUTH greeting).  auth may be NULL.
 * Returns 0 after a LOGOUT or the peer closing, -1 after an error (logged).
 * Blocks for the whole session.  conn stays the caller's, its output
 * finished (conn_finish) before the session's folder and state are closed. */
int imapd_session_run(struct conn *conn, struct store *store, const struct imapd_settings *set,
		      const struct imapd_auth *auth, const char *preauth_user);

/* `loft imapd`: a preauthenticated session on stdin/stdout for the owner's
 * store (what mbsync's Tunnel and imaplib.IMAP4_stream run). */
loft_cmd_fn cmd_imapd;

#endif
