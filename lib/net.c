/* Sockets and buffered (TLS) connections; the contract is in lib/net.h.
 *
 * The fd of a conn is non-blocking and every wait is a poll() with the
 * conn's timeout, for plain reads as for OpenSSL's WANT_READ/WANT_WRITE: a
 * blocking SSL_read could otherwise sit forever on half a record. */
#include "lib/net.h"
#include "lib/clock.h"
#include "lib/sbuf.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONN_BUFSIZE 16384

struct conn {
	int fd;
	int wfd;		/* where output goes: fd, or stdout for a pipe pair */
	SSL *ssl;
	int timeout_ms;
	int64_t deadline_ms;		/* clock_monotonic_ms(); 0: none */
	uint8_t *rbuf;
	size_t rpos, rlen;
	struct sbuf out;
	size_t discarded;
	bool timed_out;
	bool finished;		/* conn_finish(): the output side is closed */
	const char *err;
	char errbuf[256];
};

/* ---- addresses ---- */

static int split_hostport(const char *hostport, char *host, size_t hostsize, const char **port_r)
{
	const char *colon;
	size_t n;

	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		n = (size_t)(close - hostport - 1);
		if (n == 0 || n >= hostsize)
			return -1;
		memcpy(host, hostport + 1, n);
		colon = close + 1;
	} else {
		colon = strrchr(hostport, ':');
		if (colon == NULL || colon == hostport)
			return -1;
		n = (size_t)(colon - hostport);
		if (n >= hostsize)
			return -1;
		memcpy(host, hostport, n);
	}
	host[n] = '\0';
	*port_r = colon + 1;
	return **port_r != '\0' ? 0 : -1;
}

/* Numeric first; a lookup only when the host is a name. */
static int resolve(const char *hostport, bool passive, struct addrinfo **res_r, const char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	char host[256];
	const char *port;

	if (split_hostport(hostport, host, sizeof(host), &port) < 0) {
		*error_r = "expected HOST:PORT";
		return -1;
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	else if (strcmp(host, "*") == 0)
		strcpy(host, "0.0.0.0");
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if (getaddrinfo(host, port, &hints, res_r) == 0)
		return 0;
	hints.ai_flags &= ~AI_NUMERICHOST;
	if (getaddrinfo(host, port, &hints, res_r) == 0)
		return 0;
	*error_r = "cannot resolve host name";
	return -1;
}

int net_listen(const char *hostport, int backlog, const char **error_r)
{
	struct addrinfo *res, *ai;
	int fd = -1, one = 1;

	if (resolve(hostport, true, &res, error_r) < 0)
		return -1;
	*error_r = "no usable address";
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			*error_r = "socket";
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
			break;
		*error_r = errno == EADDRINUSE ? "address already in use" : "cannot bind";
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int net_accept(int listen_fd, struct sockaddr_storage *peer_r, socklen_t *len_r)
{
	socklen_t len = sizeof(*peer_r);
	int fd;

	do {
		fd = accept4(listen_fd, (struct sockaddr *)peer_r, peer_r ? &len : NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0 && len_r != NULL)
		*len_r = len;
	return fd;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS || poll(&p, 1, timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
			close(fd);
			errno = soerr ? soerr : ETIMEDOUT;
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int net_connect(const char *hostport, int timeout_ms, const char **error_r)
{
	struct addrinfo *res, *ai;
	int fd = -1;

	if (resolve(hostport, false, &res, error_r) < 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	if (fd < 0)
		*error_r = errno == ETIMEDOUT ? "connection timed out" :
			   errno == ECONNREFUSED ? "connection refused" : "cannot connect";
	freeaddrinfo(res);
	return fd;
}

bool net_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

const char *net_addr_str(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *addr = NULL;

	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (addr == NULL || inet_ntop(sa->sa_family, addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "unknown");
	return buf;
}

/* ---- conn ---- */

struct conn *conn_new(int fd, int timeout_ms)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->fd = c->wfd = fd;
	c->rbuf = xmalloc(CONN_BUFSIZE);
	sbuf_init(&c->out, 0);
	c->err = "";
	conn_set_timeout(c, timeout_ms);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return c;
}

struct conn *conn_new_pair(int in_fd, int out_fd, int timeout_ms)
{
	struct conn *c = conn_new(in_fd, timeout_ms);

	c->wfd = out_fd;
	fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
	return c;
}

void conn_free(struct conn **cp)
{
	struct conn *c = *cp;

	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		ERR_clear_error();
		if (!c->finished)
			SSL_shutdown(c->ssl);	/* one try: non-blocking, best effort */
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->wfd >= 0 && c->wfd != c->fd)
		close(c->wfd);
	sbuf_release(&c->out);
	free(c->rbuf);
	free(c);
	*cp = NULL;
}

void conn_set_timeout(struct conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5 * 60 * 1000;
}

void conn_set_deadline(struct conn *c, int64_t at_ms)
{
	c->deadline_ms = at_ms > 0 ? at_ms : 0;
}

void conn_set_deadline_in(struct conn *c, int ms)
{
	c->deadline_ms = ms > 0 ? clock_monotonic_ms() + ms : 0;
}

int conn_fd(const struct conn *c) { return c->fd; }
const char *conn_error(const struct conn *c) { return c->err; }
bool conn_timed_out(const struct conn *c) { return c->timed_out; }
bool conn_tls_active(const struct conn *c) { return c->ssl != NULL; }
size_t conn_discarded(const struct conn *c) { return c->discarded; }

bool conn_input_ready(const struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (c->rpos < c->rlen || (c->ssl != NULL && SSL_pending(c->ssl) > 0))
		return true;
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static int fail(struct conn *c, const char *err)
{
	c->err = err;
	return -1;
}

/* Waits until fd is ready for events; 0, or -1 (timeout or poll error).
 * The wait is the shorter of the timeout and what is left to the deadline,
 * recomputed after a signal. */
static int wait_fd(struct conn *c, short events)
{
	struct pollfd p = { .fd = events == POLLOUT ? c->wfd : c->fd, .events = events };
	int r;

	do {
		int wait = c->timeout_ms;

		if (c->deadline_ms != 0) {
			int64_t left = c->deadline_ms - clock_monotonic_ms();

			if (left <= 0) {
				r = 0;
				break;
			}
			if (left < wait)
				wait = (int)left;
		}
		r = poll(&p, 1, wait);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		c->timed_out = true;
		return fail(c, "timeout");
	}
	return r < 0 ? fail(c, "poll failed") : 0;
}

static int ssl_fail(struct conn *c, const char *what)
{
	tls_error_text(what, c->errbuf, sizeof(c->errbuf));
	return fail(c, c->errbuf);
}

/* One read or write of at most len bytes through TLS or plain.
 * Returns bytes moved (> 0), 0 at end of stream, -1 on error. */
static ssize_t io_once(struct conn *c, void *buf, size_t len, bool writing)
{
	/* Checked before reading too: a peer sending without pause never
	 * makes us wait, and must still meet the deadline. */
	if (c->deadline_ms != 0 && clock_monotonic_ms() >= c->deadline_ms) {
		c->timed_out = true;
		return fail(c, "timeout");
	}
	for (;;) {
		ssize_t n;

		if (c->ssl != NULL) {
			int r, e;

			ERR_clear_error();	/* SSL_get_error looks at the queue */
			r = writing ? SSL_write(c->ssl, buf, (int)len) : SSL_read(c->ssl, buf, (int)len);
			if (r > 0)
				return r;
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) < 0)
					return -1;
				continue;
			}
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			/* With SSL_OP_IGNORE_UNEXPECTED_EOF a hang-up without
			 * close_notify also ends up here as SSL_ERROR_ZERO_RETURN;
			 * a bare SYSCALL error with errno 0 is the same thing. */
			if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
				return 0;
			return ssl_fail(c, "TLS error");
		}
		n = writing ? write(c->wfd, buf, len) : read(c->fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c, writing ? POLLOUT : POLLIN) < 0)
				return -1;
			continue;
		}
		return fail(c, errno == ECONNRESET ? "connection reset" :
			       errno == EPIPE ? "connection closed" : "I/O error");
	}
}

int conn_flush(struct conn *c)
{
	size_t off = 0;

	while (off < c->out.len) {
		ssize_t n = io_once(c, c->out.buf + off, c->out.len - off, true);

		if (n <= 0) {
			sbuf_reset(&c->out);
			return n == 0 ? fail(c, "connection closed") : -1;
		}
		off += (size_t)n;
	}
	sbuf_reset(&c->out);
	return 0;
}

int conn_finish(struct conn *c)
{
	int ret = conn_flush(c);

	if (c->finished)
		return ret;
	c->finished = true;
	if (c->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);	/* one try: non-blocking, best effort */
	}
	if (c->wfd == c->fd) {
		shutdown(c->fd, SHUT_WR);
	} else {
		/* A pipe pair's output is stdout: /dev/null takes the fd
		 * number (a file opened later must not get it), the pipe's
		 * end is released. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, c->wfd);
			close(null);
		}
	}
	return ret;
}

int conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->rpos < c->rlen)
		return 1;
	if (c->out.len > 0 && conn_flush(c) < 0)
		return -1;
	c->rpos = c->rlen = 0;
	n = io_once(c, c->rbuf, CONN_BUFSIZE, false);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	c->rlen = (size_t)n;
	return 1;
}

const uint8_t *conn_peek(const struct conn *c, size_t *len_r)
{
	*len_r = c->rlen - c->rpos;
	return *len_r ? c->rbuf + c->rpos : NULL;
}

void conn_consume(struct conn *c, size_t n)
{
	c->rpos += n < c->rlen - c->rpos ? n : c->rlen - c->rpos;
}

int conn_read_line(struct conn *c, struct sbuf *line, size_t max, bool *too_long_r)
{
	sbuf_reset(line);
	*too_long_r = false;
	for (;;) {
		int r = conn_fill(c);
		size_t avail, take;
		const uint8_t *p, *lf;

		if (r <= 0)
			return r;
		p = conn_peek(c, &avail);
		lf = memchr(p, '\n', avail);
		take = lf ? (size_t)(lf - p) + 1 : avail;
		if (!*too_long_r && line->len + take > max) {
			*too_long_r = true;
			sbuf_reset(line);
		}
		if (!*too_long_r)
			sbuf_add(line, p, take);
		conn_consume(c, take);
		if (lf != NULL)
			break;
	}
	if (*too_long_r)
		return 1;
	sbuf_setlen(line, line->len - 1);
	if (line->len > 0 && line->buf[line->len - 1] == '\r')
		sbuf_setlen(line, line->len - 1);
	return 1;
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	sbuf_add(&c->out, data, len);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&c->out, fmt, ap);
	va_end(ap);
}

/* Common start of both STARTTLS sides: send what is queued in the clear,
 * then forget every unread byte (the point of this whole function). */
static int starttls_begin(struct conn *c, SSL_CTX *ctx)
{
	if (c->ssl != NULL)
		return fail(c, "TLS is already active");
	if (c->wfd != c->fd)
		return fail(c, "no TLS over a pipe pair");
	if (conn_flush(c) < 0)
		return -1;
	c->discarded = c->rlen - c->rpos;
	c->rpos = c->rlen = 0;
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd))
		return ssl_fail(c, "cannot start TLS");
	return 0;
}

static int handshake(struct conn *c, bool server)
{
	for (;;) {
		int r, e;

		ERR_clear_error();
		r = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return ssl_fail(c, "TLS handshake failed");
		if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT) < 0)
			return -1;
	}
}

int conn_starttls_server(struct conn *c, SSL_CTX *ctx)
{
	if (starttls_begin(c, ctx) < 0)
		return -1;
	return handshake(c, true);
}

int conn_starttls_client(struct conn *c, SSL_CTX *ctx, const char *hostname)
{
	if (starttls_begin(c, ctx) < 0)
		return -1;
	if (tls_client_prepare(c->ssl, hostname) < 0)
		return ssl_fail(c, "cannot set the host name");
	/* A failed verification aborts the handshake: say why in words. */
	if (handshake(c, false) < 0) {
		if (SSL_get_verify_result(c->ssl) != X509_V_OK &&
		    tls_client_verify(c->ssl, hostname, c->errbuf, sizeof(c->errbuf)) < 0)
			c->err = c->errbuf;
		return -1;
	}
	if (tls_client_verify(c->ssl, hostname, c->errbuf, sizeof(c->errbuf)) < 0)
		return fail(c, c->errbuf);
	return 0;
}
