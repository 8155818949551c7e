/* smtp_server: one SMTP session (RFC 5321 + PIPELINING, SIZE, 8BITMIME,
 * SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS, AUTH PLAIN/LOGIN with SASL-IR)
 * over a struct conn, for a fork-per-connection daemon child:
 *
 *     struct conn *c = conn_new(fd, 0);
 *     smtp_server_run(c, &cfg, (struct sockaddr *)&peer);
 *     conn_free(&c);
 *
 * Three modes.  Submission: nothing is accepted before AUTH, also from
 * loopback, unless trust_loopback is set; AUTH is offered only under TLS
 * or on loopback, so no password crosses a network in the clear.  Inbound
 * (an MX): no AUTH, recipients only in local_domains / local_addresses,
 * never a relay.  Local (`sendmail -bs` on stdin/stdout): the peer is the
 * local user, trusted as a logged-in client without AUTH; addresses
 * without a domain are taken (aliases, local users, as sendmail's command
 * line takes them).  Relay tricks (smtp_parse.h) are refused from every
 * unauthenticated client.
 *
 * Accepted mail goes to cfg->accept with a Received: header prepended
 * (not in local mode: the local submission path writes its own); the
 * client hears 250 only when that callback says the message is durably
 * queued.  Addresses are handed over as data, never through a shell.
 *
 * Blocking: smtp_server_run blocks for the whole session.  Each command
 * line must arrive whole within the command timeout; DATA within the data
 * timeout plus its size at min_data_rate (Postfix's request deadlines);
 * more than max_junk NOOP-like commands without a message end the session.
 * It logs through lib/log.h. */
#ifndef LOFT_LOCALMTA_SMTP_SERVER_H
#define LOFT_LOCALMTA_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;
struct conn;
typedef struct ssl_ctx_st SSL_CTX;

#define SMTP_QUEUE_ID_MAX 64

/* Called once per message.  sender: MAIL FROM address ("" for <>); rcpts:
 * nrcpts addresses; data/len: the message with the Received: header first,
 * lines ending in CRLF; authenticated_as: the login, or NULL.  queue_id
 * arrives holding the id written in the Received: header; the callback may
 * keep it or write its own (NUL-terminated, < SMTP_QUEUE_ID_MAX).
 * Returns 0 only after the message is durably stored (fsync), else the
 * SMTP code to answer (451 local error, 452 out of space, 552 too big,
 * 554 refused) with *err_r an optional malloc'd text that the server frees
 * (CR/LF in it are replaced).  Everything passed is valid during the call
 * only. */
typedef int smtp_accept_fn(void *ctx, const char *sender, const char *const *rcpts, size_t nrcpts,
			   const char *data, size_t len, const char *authenticated_as,
			   char queue_id[SMTP_QUEUE_ID_MAX], char **err_r);

/* Checks a login: 1 good, 0 bad, -1 temporary failure (454). */
typedef int smtp_auth_fn(void *ctx, const char *user, const char *password);

enum smtp_mode { SMTP_MODE_SUBMISSION, SMTP_MODE_INBOUND, SMTP_MODE_LOCAL };

/* What a session tells its daemon (lib/server's child states). */
enum smtp_event {
	SMTP_EV_AUTHENTICATED,	/* AUTH succeeded */
	SMTP_EV_CLOSING,	/* the session is over; its last replies follow */
};
typedef void smtp_event_fn(void *ctx, enum smtp_event ev);

struct smtp_server_config {
	enum smtp_mode mode;
	const char *hostname;		/* greeting and Received: */
	SSL_CTX *tls;			/* NULL: no STARTTLS */
	bool implicit_tls;		/* handshake first (smtps) */
	bool trust_loopback;		/* submission without AUTH from loopback */
	uint64_t max_size;		/* SIZE; 0: none */
	unsigned max_rcpts, max_errors, max_auth_failures;
	int auth_delay_ms;		/* after a failed login, times the failures */
	int command_timeout_ms;		/* for each whole command line */
	int data_timeout_ms;		/* for DATA, plus the time below */
	unsigned min_data_rate;		/* bytes/s owed in DATA; 0: no deadline */
	unsigned max_junk;		/* NOOP-like commands between messages; 0: any */
	char **local_domains;		/* NULL-terminated lists (inbound mode) */
	char **local_addresses;
	smtp_auth_fn *auth;		/* NULL: every login fails */
	void *auth_ctx;
	smtp_accept_fn *accept;
	void *accept_ctx;
	smtp_event_fn *event;		/* NULL: nobody listens */
	void *event_ctx;
};

/* Fills cfg from the settings (hostname, timeouts, limits, local_domains,
 * local_addresses, trust) for mode; tls, auth and accept are left NULL for
 * the caller.  Lists are malloc'd: smtp_server_config_deinit frees them. */
void smtp_server_config_init(struct smtp_server_config *cfg, const struct config *conf,
			     enum smtp_mode mode);
void smtp_server_config_deinit(struct smtp_server_config *cfg);

/* What a session did, for logs and tests. */
struct smtp_server_stats {
	unsigned messages;		/* accepted */
	unsigned errors;		/* replies that counted as client errors */
	unsigned auth_failures;
	size_t starttls_discarded;	/* plaintext bytes dropped at STARTTLS */
	bool timed_out;
};

/* Runs the session on c until QUIT, end of stream, a fatal error or a
 * limit.  peer: the client's address (for loopback checks and Received:).
 * stats_r may be NULL.  Returns 0 after QUIT, -1 otherwise (the reason is
 * logged).  c stays owned by the caller. */
int smtp_server_run(struct conn *c, const struct smtp_server_config *cfg,
		    const struct sockaddr *peer, struct smtp_server_stats *stats_r);

#endif
