/* remote's inside: the stream driver (remote/stream.c) and the connection
 * struct shared by conn.c, auth.c, folders.c and idle.c. */
#ifndef LOFT_REMOTE_REMOTE_PRIVATE_H
#define LOFT_REMOTE_REMOTE_PRIVATE_H

#include "remote/etpan-private.h"
#include "remote/remote.h"
#include "lib/tls.h"

#include <stdbool.h>

/* ---- the mailstream_low driver on OpenSSL: remote/stream.c ----
 *
 * libetpan reads and writes through it; the fd stays non-blocking and
 * every wait is a poll bounded by timeout_ms, so a silent server is an
 * error after the timeout, never a hang.  It starts in plaintext;
 * remote_stream_starttls upgrades it in place (for imaps:// at once, for
 * imap:// after the STARTTLS exchange), so libetpan keeps the same low. */

/* A low stream over fd (owned from now on: closed by mailstream_close).
 * Never NULL. */
mailstream_low *remote_stream_new(int fd, int timeout_ms);
/* The TLS handshake on low, verified as ctx says (lib/tls.h), SNI and the
 * host-name check for host.  0, or -1 with *error_r: a failed check names
 * the host, the reason and the fingerprint to pin.  Blocks, bounded by the
 * timeout. */
int remote_stream_starttls(mailstream_low *low, SSL_CTX *ctx, const char *host, char **error_r);
/* The peer's certificate fingerprint once TLS is up, else NULL. */
const char *remote_stream_fingerprint(mailstream_low *low);
/* Why the last read or write failed ("timeout", "connection reset"...). */
const char *remote_stream_error(mailstream_low *low);
/* Bytes OpenSSL holds decrypted but not yet handed out. */
bool remote_stream_pending(mailstream_low *low);
/* shutdown(2) on the socket: any blocked call returns at once. */
void remote_stream_shutdown(mailstream_low *low);

/* ---- the connection ---- */

struct remote_conn {
	mailimap *imap;
	mailstream_low *low;		/* owned by imap's stream */
	char *host;
	unsigned tag;			/* loft's own tags: "L1", "L2"... */
	bool condstore, qresync;
	bool idling;
	char *idle_tag;
	int timeout_ms;
	unsigned caps_taken;		/* [CAPABILITY] codes of loft's own commands taken */
};

/* Whether the peer of the connected socket fd is a loopback address (the
 * only place a +insecure:// URL may go). */
bool remote_peer_is_loopback(int fd);

/* Logs in (remote/auth.c).  0, or -1 with *error_r. */
int remote_login(struct remote_conn *c, const struct remote_account *a, char **error_r);

/* One command of loft's own on the stream (tag added here), reading up to
 * its tagged answer.  Untagged lines go to on_untagged (may be NULL) with
 * the text after "* "; a "+" continuation is answered with continuation
 * (sent once; an empty line after that, as SASL asks after an error
 * challenge).  An OK carrying a [CAPABILITY ...] code (RFC 3501 7.1, as
 * after a login) replaces the session's capability list with it.
 * Returns 0 for OK, 1 for NO or BAD (*error_r the server's text), -1 when
 * the connection failed (*error_r). */
int remote_raw_command(struct remote_conn *c, const char *cmd, const char *continuation,
		       void (*on_untagged)(const char *line, void *ctx), void *ctx,
		       char **error_r);
/* Longest line loft's own reader takes from a server (a LIST line, an
 * untagged response during IDLE); literals are not counted. */
#define REMOTE_LINE_MAX 65536
/* Reads one line (CRLF removed; literals read and dropped) into line; 0, or
 * -1 with *error_r (also for a line over REMOTE_LINE_MAX). */
int remote_read_line(struct remote_conn *c, MMAPString *line, char **error_r);
/* Writes len bytes and flushes; 0, or -1 with *error_r. */
int remote_write(struct remote_conn *c, const char *data, size_t len, char **error_r);
/* A set of UIDs (ascending) as IMAP intervals; n 0: 1:*.  The caller
 * frees it (mailimap_set_free). */
struct mailimap_set *remote_uid_set(const uint32_t *uids, size_t n);
/* libetpan's FETCH results as messages in UID order (FETCHes without a
 * UID dropped); *n_r their number.  Malloc'd (remote_msgs_free); result
 * stays the caller's. */
struct remote_msg *remote_msgs_of(clist *result, size_t *n_r);
/* "WHAT: connection to HOST failed: WHY" (or the server's answer) for a
 * failed libetpan call that returned r.  Malloc'd. */
char *remote_io_error(struct remote_conn *c, const char *what, int r);

#endif
