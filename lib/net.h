/* net: sockets for the servers and the relay client, and `struct conn`, a
 * buffered connection over one fd, plain or TLS (OpenSSL 3).
 *
 * Addresses are "HOST:PORT": an IPv4 literal, "[IPv6]:PORT", "localhost"
 * (127.0.0.1), "*" (every IPv4 address) or a host name.  Literals never
 * cause a DNS lookup (getaddrinfo with AI_NUMERICHOST is tried first); only
 * a name is resolved.
 *
 * A conn owns its fd (and SSL object) and closes it in conn_free().  Every
 * conn function blocks, but never longer than the conn's timeout for one
 * wait on the peer (poll), nor past the conn's deadline when one is set: a
 * peer that stops talking gets an error, not a hang, and one that trickles
 * a byte just inside every timeout still meets the deadline.  Errors come back as -1 with conn_error() a static description
 * ("timeout", "connection reset", an OpenSSL reason...).  Nothing prints. */
#ifndef LOFT_LIB_NET_H
#define LOFT_LIB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct sbuf;
typedef struct ssl_ctx_st SSL_CTX;

/* A listening TCP socket on hostport (SO_REUSEADDR, close-on-exec).
 * Returns the fd, or -1 with *error_r a static description. */
int net_listen(const char *hostport, int backlog, const char **error_r);
/* accept() retrying on EINTR; the new fd is close-on-exec.  peer_r/len_r
 * may be NULL.  Returns the fd or -1 with errno. Blocks until a client. */
int net_accept(int listen_fd, struct sockaddr_storage *peer_r, socklen_t *len_r);
/* Connects to hostport, trying each address for at most timeout_ms.
 * Returns a blocking fd, or -1 with *error_r static text. */
int net_connect(const char *hostport, int timeout_ms, const char **error_r);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool net_is_loopback(const struct sockaddr *sa);
/* The address of sa as text without port ("192.0.2.1", "2001:db8::1");
 * "unknown" when it is neither IPv4 nor IPv6.  Returns buf. */
const char *net_addr_str(const struct sockaddr *sa, char *buf, size_t size);

/* ---- buffered connections ---- */

struct conn;

/* Wraps fd (now owned by the conn; switched to non-blocking mode).
 * timeout_ms bounds each wait for the peer; <= 0 means 5 minutes. */
struct conn *conn_new(int fd, int timeout_ms);
/* The same over two descriptors, input and output (a pipe pair such as
 * stdin and stdout for a tunnelled IMAP session); both are owned by the
 * conn and switched to non-blocking mode.  TLS is not available on a pair
 * (conn_starttls_* fail). */
struct conn *conn_new_pair(int in_fd, int out_fd, int timeout_ms);
/* Flushes nothing: pending output is dropped (call conn_flush first).
 * Sends a TLS close_notify when TLS is on (unless conn_finish() did),
 * closes the fd, sets *cp NULL. */
void conn_free(struct conn **cp);
void conn_set_timeout(struct conn *c, int timeout_ms);
/* An overall deadline for everything c does from now on, in ms of
 * clock_monotonic_ms() (lib/clock.h); 0 removes it.  A call still waiting
 * at the deadline fails as a timeout (conn_timed_out() is true). */
void conn_set_deadline(struct conn *c, int64_t at_ms);
/* The same, relative: ms from now (<= 0 removes the deadline). */
void conn_set_deadline_in(struct conn *c, int ms);
int conn_fd(const struct conn *c);
/* Why the last call failed: a static string, "" before any failure. */
const char *conn_error(const struct conn *c);
/* True when the last failure was a timeout. */
bool conn_timed_out(const struct conn *c);
bool conn_tls_active(const struct conn *c);

/* Makes sure there are unread bytes in the buffer, flushing pending output
 * first (so pipelined replies go out exactly when the client waits).
 * Returns 1 when bytes are available, 0 at end of stream, -1 on error or
 * timeout. */
int conn_fill(struct conn *c);
/* Whether input is there now: unread bytes in the buffer, or some
 * received (TLS: decrypted, or on the socket, where a client sends whole
 * records), so that conn_fill() need not wait for the peer. */
bool conn_input_ready(const struct conn *c);
/* The unread bytes (NULL and 0 when none): valid until the next call on c. */
const uint8_t *conn_peek(const struct conn *c, size_t *len_r);
/* Marks n of the peeked bytes as read. */
void conn_consume(struct conn *c, size_t n);

/* Reads one line ending in LF into line (reset first; the LF and a CR before
 * it are removed).  A line longer than max bytes (counting CRLF) is read to
 * its end and thrown away: *too_long_r is then true and line is empty, so
 * the protocol stays in sync.  Returns 1 for a line, 0 at end of stream
 * (an unterminated last line is dropped), -1 on error or timeout. */
int conn_read_line(struct conn *c, struct sbuf *line, size_t max, bool *too_long_r);

/* Queues output; nothing is sent until conn_flush() or conn_fill().
 * Output is unbounded but the servers write replies of a few lines only. */
void conn_write(struct conn *c, const void *data, size_t len);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends the queued output.  0, or -1 on error or timeout. */
int conn_flush(struct conn *c);
/* The end of what this side sends: the queued output, a TLS close_notify,
 * then end of stream (a TCP FIN; on a pipe pair the output's pipe is let
 * go),
 * so the peer sees the end at once while this process still tidies up.
 * Reading stays possible; nothing more may be written.  0, or -1 when the
 * output could not all be sent. */
int conn_finish(struct conn *c);

/* STARTTLS, server side: sends pending output in the clear, then DISCARDS
 * every unread byte -- plaintext a client pipelined behind STARTTLS must
 * never be taken as sent under TLS (CVE-2011-0411) -- and runs the TLS
 * handshake.  Also used at once on a fresh conn for implicit TLS.
 * 0 on success, -1 on failure (the conn is then only fit for conn_free). */
int conn_starttls_server(struct conn *c, SSL_CTX *ctx);
/* STARTTLS, client side: the same discarding, then a handshake checked as
 * set up in ctx (lib/tls.h: CA store and host name, or a pinned
 * fingerprint).  hostname is sent as SNI and checked unless pinned.  On a
 * verification failure, conn_error() says why in plain words. */
int conn_starttls_client(struct conn *c, SSL_CTX *ctx, const char *hostname);
/* Bytes thrown away by the last STARTTLS (for logging and tests). */
size_t conn_discarded(const struct conn *c);

#endif
