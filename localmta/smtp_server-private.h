/* The inside of one SMTP session, shared by smtp_server.c (the state
 * machine and mail commands) and smtp_auth.c (AUTH). */
#ifndef LOFT_LOCALMTA_SMTP_SERVER_PRIVATE_H
#define LOFT_LOCALMTA_SMTP_SERVER_PRIVATE_H

#include "localmta/smtp_parse.h"
#include "localmta/smtp_server.h"

enum smtp_state {
	SMTP_ST_INIT,		/* before HELO/EHLO (again after STARTTLS) */
	SMTP_ST_READY,		/* greeted, no transaction */
	SMTP_ST_MAIL,		/* MAIL accepted */
	SMTP_ST_RCPT,		/* at least one RCPT accepted */
};

struct smtp_session {
	struct conn *c;
	const struct smtp_server_config *cfg;
	struct smtp_server_stats st;
	char peer_ip[64];
	bool loopback;
	enum smtp_state state;
	bool esmtp;
	char helo[256];
	char *auth_user;	/* malloc'd once logged in */
	bool quit, fatal;
	unsigned junk;		/* NOOP-like commands since the last message */
	struct smtp_line line;
	/* the transaction */
	struct arena *tx;
	char *sender;
	bool smtputf8;
	char **rcpts;
	size_t nrcpts, rcpts_alloc;
};

/* Queues one reply line (CRLF added). */
void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A reply that counts as a client error; past max_errors it is followed by
 * 421 and the session ends. */
void smtp_reply_error(struct smtp_session *s, const char *text);
/* Reads the next line into s->line under the command timeout: 1, 0 (end of
 * stream), -1 (error or timeout; s->fatal set, 421 sent on timeout). */
int smtp_read_line(struct smtp_session *s);

/* smtp_auth.c: is AUTH offered now; the AUTH command. */
bool smtp_auth_offered(const struct smtp_session *s);
void smtp_cmd_auth(struct smtp_session *s, const char *args);

#endif
