/* The mailstream_low driver on OpenSSL; see remote-private.h.
 *
 * Why our own: Debian's libetpan does TLS through GnuTLS and verifies no
 * certificate at all.  Its mailstream_low_driver struct is public, so
 * libetpan's IMAP code runs unchanged over this one, which checks the
 * certificate with lib/tls.c before libetpan sends a byte past the
 * greeting. */
#include "remote/remote-private.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct stream {
	int fd;
	SSL *ssl;
	int timeout_ms;
	const char *error;		/* static text */
	char fingerprint[TLS_FINGERPRINT_SIZE];
};

static struct stream *stream_of(mailstream_low *low)
{
	return low->data;
}

/* Waits until fd is ready for events; 0, or -1 with s->error. */
static int wait_fd(struct stream *s, short events)
{
	struct pollfd pf = { .fd = s->fd, .events = events };

	for (;;) {
		int r = poll(&pf, 1, s->timeout_ms);

		if (r > 0)
			return 0;
		if (r == 0) {
			s->error = "timeout";
			return -1;
		}
		if (errno != EINTR) {
			s->error = "poll failed";
			return -1;
		}
	}
}

/* After SSL_read/SSL_write/SSL_connect returned r <= 0: 1 to retry (after
 * waiting), 0 at a clean end, -1 on an error. */
static int ssl_retry(struct stream *s, int r)
{
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(s, POLLIN) < 0 ? -1 : 1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(s, POLLOUT) < 0 ? -1 : 1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		s->error = errno == ECONNRESET ? "connection reset" : "connection closed";
		return -1;
	default:
		s->error = "TLS error";
		return -1;
	}
}

static ssize_t stream_read(mailstream_low *low, void *buf, size_t count)
{
	struct stream *s = stream_of(low);

	if (s->fd < 0)
		return -1;
	for (;;) {
		if (s->ssl != NULL) {
			ERR_clear_error();
			int n = SSL_read(s->ssl, buf, count > INT32_MAX ? INT32_MAX : (int)count);

			if (n > 0)
				return n;
			int r = ssl_retry(s, n);

			if (r <= 0)
				return r;
			continue;
		}
		ssize_t n = read(s->fd, buf, count);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			s->error = errno == ECONNRESET ? "connection reset" : "read failed";
			return -1;
		}
		if (wait_fd(s, POLLIN) < 0)
			return -1;
	}
}

/* OpenSSL writes with write(2), which raises SIGPIPE once the server has
 * closed (a close_notify after Dovecot's reply to LOGOUT); the client and
 * `loft sync` do not ignore it.  So SIGPIPE is blocked around SSL_write
 * and SSL_shutdown, and one they raised is taken before it is unblocked
 * (send() has MSG_NOSIGNAL for the same reason). */
static void sigpipe_hold(sigset_t *old)
{
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, old);
}

static void sigpipe_release(const sigset_t *old)
{
	sigset_t pipe, pending;
	const struct timespec now = { 0, 0 };

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE))
		while (sigtimedwait(&pipe, NULL, &now) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Writes everything (libetpan treats a short write as an error). */
static ssize_t stream_write(mailstream_low *low, const void *buf, size_t count)
{
	struct stream *s = stream_of(low);
	const char *p = buf;
	size_t left = count;

	if (s->fd < 0)
		return -1;
	while (left > 0) {
		if (s->ssl != NULL) {
			sigset_t old;

			ERR_clear_error();
			sigpipe_hold(&old);
			int n = SSL_write(s->ssl, p, left > INT32_MAX ? INT32_MAX : (int)left);

			sigpipe_release(&old);

			if (n > 0) {
				p += n;
				left -= (size_t)n;
			} else if (ssl_retry(s, n) <= 0) {
				return -1;
			}
			continue;
		}
		ssize_t n = send(s->fd, p, left, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			left -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(s, POLLOUT) < 0)
				return -1;
		} else {
			s->error = "write failed";
			return -1;
		}
	}
	return (ssize_t)count;
}

static int stream_close(mailstream_low *low)
{
	struct stream *s = stream_of(low);

	if (s->ssl != NULL) {
		sigset_t old;

		sigpipe_hold(&old);
		SSL_shutdown(s->ssl);	/* one try: a close_notify if it fits */
		sigpipe_release(&old);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static int stream_get_fd(mailstream_low *low)
{
	return stream_of(low)->fd;
}

/* libetpan's contract: the driver frees its data and the low itself. */
static void stream_free(mailstream_low *low)
{
	stream_close(low);
	free(low->data);
	free(low);
}

static void stream_cancel(mailstream_low *low)
{
	remote_stream_shutdown(low);
}

static struct mailstream_cancel *stream_get_cancel(mailstream_low *low)
{
	return NULL;
}

static carray *stream_get_certificate_chain(mailstream_low *low)
{
	return NULL;
}

/* libetpan's own IDLE support is not used (remote/idle.c drives IDLE). */
static int stream_idle_unsupported(mailstream_low *low)
{
	return -1;
}

static mailstream_low_driver driver = {
	.mailstream_read = stream_read,
	.mailstream_write = stream_write,
	.mailstream_close = stream_close,
	.mailstream_get_fd = stream_get_fd,
	.mailstream_free = stream_free,
	.mailstream_cancel = stream_cancel,
	.mailstream_get_cancel = stream_get_cancel,
	.mailstream_get_certificate_chain = stream_get_certificate_chain,
	.mailstream_setup_idle = stream_idle_unsupported,
	.mailstream_unsetup_idle = stream_idle_unsupported,
	.mailstream_interrupt_idle = stream_idle_unsupported,
};

mailstream_low *remote_stream_new(int fd, int timeout_ms)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	mailstream_low *low;
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	s->fd = fd;
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : 5 * 60 * 1000;
	s->error = "";
	low = mailstream_low_new(s, &driver);
	if (low == NULL)
		abort();	/* out of memory, as xalloc */
	return low;
}

int remote_stream_starttls(mailstream_low *low, SSL_CTX *ctx, const char *host, char **error_r)
{
	struct stream *s = stream_of(low);
	char why[512];
	int r;

	s->ssl = SSL_new(ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1 ||
	    tls_client_prepare(s->ssl, host) < 0) {
		*error_r = xstrdup(tls_error_text("cannot set up TLS", why, sizeof(why)));
		return -1;
	}
	/* The handshake completes whatever the chain; the result is checked
	 * below, before anything is sent, so that a refusal can show the
	 * fingerprint to pin. */
	SSL_set_verify(s->ssl, SSL_VERIFY_NONE, NULL);
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(s->ssl);
		if (r == 1)
			break;
		if (ssl_retry(s, r) <= 0) {
			tls_error_text(s->error[0] ? s->error : "connection closed", why, sizeof(why));
			*error_r = xasprintf("TLS handshake with %s failed: %s", host, why);
			return -1;
		}
	}
	X509 *peer = SSL_get0_peer_certificate(s->ssl);

	if (peer == NULL || tls_fingerprint(peer, s->fingerprint) < 0)
		s->fingerprint[0] = '\0';
	if (tls_client_verify(s->ssl, host, why, sizeof(why)) < 0) {
		if (s->fingerprint[0] != '\0' && strstr(why, "pinned") == NULL)
			*error_r = xasprintf("%s; pin it with imap_fingerprint SHA256:%s", why,
					     s->fingerprint);
		else
			*error_r = xstrdup(why);
		return -1;
	}
	return 0;
}

const char *remote_stream_fingerprint(mailstream_low *low)
{
	struct stream *s = stream_of(low);

	return s->ssl != NULL && s->fingerprint[0] != '\0' ? s->fingerprint : NULL;
}

const char *remote_stream_error(mailstream_low *low)
{
	return stream_of(low)->error;
}

bool remote_stream_pending(mailstream_low *low)
{
	struct stream *s = stream_of(low);

	return s->ssl != NULL && SSL_pending(s->ssl) > 0;
}

void remote_stream_shutdown(mailstream_low *low)
{
	struct stream *s = stream_of(low);

	if (s->fd >= 0)
		shutdown(s->fd, SHUT_RDWR);
}
