/* relay: the SMTP client that hands remote recipients to the smarthost --
 * the queue's `relay` handler (queue.h).
 *
 * The smarthost is a URL (setting `smarthost`):
 *   smtp://HOST[:587]            STARTTLS required, verified
 *   smtps://HOST[:465]           implicit TLS, verified
 *   smtp+insecure://HOST[:25]    plaintext, only when spelled out (tests)
 * Verification is against smarthost_ca (else the system CA store) and the
 * host name, or only against a pinned smarthost_fingerprint.  A failed
 * verification is a temporary failure whose answer says why ("certificate
 * of HOST not trusted: ..."); nothing is ever sent in plaintext instead.
 *
 * One struct relay lives for one runner pass: the connection it opens for
 * the first message is kept for the next (RSET between messages) and
 * closed with QUIT by relay_free().  The password from
 * smarthost_password_command is fetched once per pass and never logged.
 *
 * Results per recipient: 2xx delivered, 4xx (and any trouble with the
 * connection, TLS or AUTH) TEMPFAIL, 5xx PERMFAIL with the server's answer
 * first in the answer text so the bounce quotes it.
 *
 * Blocking: relay_send blocks on the network, each wait bounded by
 * relay_timeout; relay_new may run the password command later, not here.
 * Memory: answers are malloc'd for the runner, which frees them. */
#ifndef LOFT_LOCALMTA_RELAY_PRIVATE_H
#define LOFT_LOCALMTA_RELAY_PRIVATE_H

#include "localmta/queue.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct relay;

enum relay_tls {
	RELAY_STARTTLS,		/* smtp:// */
	RELAY_IMPLICIT_TLS,	/* smtps:// */
	RELAY_PLAIN,		/* smtp+insecure:// */
};

/* Parses a smarthost URL.  *host_r is the bare host (no brackets, for SNI
 * and the certificate check), *hostport_r what net_connect takes; both
 * malloc'd.  0, or -1 with *error_r static text. */
int relay_parse_url(const char *url, enum relay_tls *tls_r, char **host_r, char **hostport_r,
		    const char **error_r);

/* A relay for the settings in cfg -- those of the `account` block (NULL:
 * none), where it sets them -- or NULL when `smarthost` is empty.  A
 * relay with bad settings still comes back: its relay_send answers every
 * recipient TEMPFAIL with the reason, so the queue shows it. */
struct relay *relay_new(const struct config *cfg, const char *account);
/* Ends the pass: QUIT on a cached connection, then frees; NULL-safe. */
void relay_free(struct relay **rp);

/* The queue's relay handler (ctx is the struct relay). */
void relay_send(struct relay *r, const struct queue_delivery *d, const char *const *rcpts,
		size_t n, enum queue_result *results, char **answers);

#endif
