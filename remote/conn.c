/* remote_connect and the raw command plumbing; see remote.h.
 *
 * libetpan does the IMAP commands it parses well (CAPABILITY, STARTTLS,
 * SELECT, LIST, STATUS, FETCH...); the exchanges it gets wrong or cannot
 * do without Cyrus SASL (AUTHENTICATE, ENABLE, IDLE, LIST-STATUS) are
 * loft's own, written on the same stream with tags of their own ("L1",
 * "L2"...) between two of its commands, so its parser never sees them. */
#include "remote/remote-private.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

char *remote_io_error(struct remote_conn *c, const char *what, int r)
{
	const char *why = c->low != NULL ? remote_stream_error(c->low) : "";

	if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_CONNECTION_REFUSED || *why != '\0')
		return xasprintf("%s: connection to %s failed: %s", what, c->host,
				 *why != '\0' ? why : "closed");
	if (c->imap != NULL && c->imap->imap_response != NULL)
		return xasprintf("%s: %s answered: %s", what, c->host, c->imap->imap_response);
	return xasprintf("%s: libetpan error %d talking to %s", what, r, c->host);
}

int remote_write(struct remote_conn *c, const char *data, size_t len, char **error_r)
{
	mailstream *s = c->imap->imap_stream;

	if (mailstream_write(s, data, len) != (ssize_t)len || mailstream_flush(s) < 0) {
		*error_r = remote_io_error(c, "write", MAILIMAP_ERROR_STREAM);
		return -1;
	}
	return 0;
}

/* Appends one line to line, without its CRLF, refusing one longer than
 * REMOTE_LINE_MAX (libetpan's mailstream_read_line grows without bound).
 * The bytes come from the stream's buffer, so one at a time is cheap. */
static int read_capped(struct remote_conn *c, MMAPString *line, char **error_r)
{
	size_t start = line->len;
	char ch;

	for (;;) {
		if (mailstream_read(c->imap->imap_stream, &ch, 1) != 1) {
			*error_r = remote_io_error(c, "read", MAILIMAP_ERROR_STREAM);
			return -1;
		}
		if (ch == '\n')
			break;
		if (line->len - start >= REMOTE_LINE_MAX) {
			*error_r = xasprintf("%s sent a line longer than %d bytes", c->host,
					     REMOTE_LINE_MAX);
			return -1;
		}
		mmap_string_append_c(line, ch);
	}
	if (line->len > start && line->str[line->len - 1] == '\r')
		mmap_string_truncate(line, line->len - 1);
	return 0;
}

/* Literals ({N} at a line's end) are read and dropped: no raw exchange
 * here needs their contents, only to stay in step with the server. */
int remote_read_line(struct remote_conn *c, MMAPString *line, char **error_r)
{
	mailstream *s = c->imap->imap_stream;

	mmap_string_truncate(line, 0);
	for (;;) {
		size_t from = line->len;	/* only the piece just read can end in {N} */
		char *open;

		if (read_capped(c, line, error_r) < 0)
			return -1;
		if (line->len - from < 3 || line->str[line->len - 1] != '}' ||
		    (open = strrchr(line->str + from, '{')) == NULL)
			break;
		char *end;
		unsigned long n = strtoul(open + 1, &end, 10);

		if (end == open + 1 || (*end != '}' && !(end[0] == '+' && end[1] == '}')))
			break;
		while (n > 0) {
			char buf[4096];
			ssize_t got = mailstream_read(s, buf, n < sizeof(buf) ? n : sizeof(buf));

			if (got <= 0) {
				*error_r = remote_io_error(c, "read", MAILIMAP_ERROR_STREAM);
				return -1;
			}
			n -= (size_t)got;
		}
	}
	return 0;
}

/* A "[CAPABILITY ...]" code at the start of text (a tagged OK's text)
 * becomes the session's capability list, as libetpan keeps the greeting's:
 * what a server lists after a login (Dovecot: QRESYNC, CONDSTORE...) is
 * known without a CAPABILITY round trip.  The new list is built before the
 * old one is freed. */
static void take_caps(struct remote_conn *c, const char *text)
{
	const char *p = text, *end;
	clist *list;
	struct mailimap_capability_data *old;

	if (strncasecmp(p, "[CAPABILITY ", 12) != 0 || (end = strchr(p, ']')) == NULL ||
	    c->imap->imap_connection_info == NULL)
		return;
	list = clist_new();
	if (list == NULL)
		abort();
	for (p += 12; p < end;) {
		size_t n = strcspn(p, " ]");
		char *word = n > 0 ? xstrndup(p, n) : NULL;
		struct mailimap_capability *cap = NULL;

		if (word != NULL && strncasecmp(word, "AUTH=", 5) == 0) {
			char *mech = xstrdup(word + 5);

			free(word);
			cap = mailimap_capability_new(MAILIMAP_CAPABILITY_AUTH_TYPE, mech, NULL);
		} else if (word != NULL) {
			cap = mailimap_capability_new(MAILIMAP_CAPABILITY_NAME, NULL, word);
		}
		if (word != NULL && (cap == NULL || clist_append(list, cap) < 0))
			abort();
		p += n + (p[n] == ' ');
	}
	old = c->imap->imap_connection_info->imap_capability;
	c->imap->imap_connection_info->imap_capability = mailimap_capability_data_new(list);
	if (c->imap->imap_connection_info->imap_capability == NULL)
		abort();
	if (old != NULL)
		mailimap_capability_data_free(old);
	c->caps_taken++;
}

int remote_raw_command(struct remote_conn *c, const char *cmd, const char *continuation,
		       void (*on_untagged)(const char *line, void *ctx), void *ctx,
		       char **error_r)
{
	char tag[16];
	struct sbuf out = SBUF_INIT;
	MMAPString *line = mmap_string_new("");
	int r = -1;

	snprintf(tag, sizeof(tag), "L%u", ++c->tag);
	sbuf_addf(&out, "%s %s\r\n", tag, cmd);
	if (remote_write(c, out.buf, out.len, error_r) < 0)
		goto done;
	for (;;) {
		if (remote_read_line(c, line, error_r) < 0)
			goto done;
		if (strncmp(line->str, "* ", 2) == 0) {
			if (on_untagged != NULL)
				on_untagged(line->str + 2, ctx);
			continue;
		}
		if (line->str[0] == '+') {
			const char *reply = continuation != NULL ? continuation : "";

			continuation = NULL;
			explicit_bzero(out.buf, out.len);
			sbuf_reset(&out);
			sbuf_addf(&out, "%s\r\n", reply);
			if (remote_write(c, out.buf, out.len, error_r) < 0)
				goto done;
			continue;
		}
		size_t tl = strlen(tag);

		if (strncmp(line->str, tag, tl) != 0 || line->str[tl] != ' ')
			continue;	/* not ours: cannot happen between libetpan's commands */
		const char *status = line->str + tl + 1;

		if (strncasecmp(status, "OK", 2) == 0) {
			if (status[2] == ' ')
				take_caps(c, status + 3);
			r = 0;
		} else {
			*error_r = xstrdup(status);
			r = 1;
		}
		break;
	}
done:
	explicit_bzero(out.buf, out.len);
	sbuf_release(&out);
	mmap_string_free(line);
	return r;
}

bool remote_has_cap(struct remote_conn *c, const char *name)
{
	if (strncasecmp(name, "AUTH=", 5) == 0)
		return mailimap_has_authentication(c->imap, name + 5) != 0;
	return mailimap_has_extension(c->imap, name) != 0;
}

/* CAPABILITY again (after STARTTLS and login the list may change). */
static int refresh_caps(struct remote_conn *c, char **error_r)
{
	struct mailimap_capability_data *caps = NULL;
	int r = mailimap_capability(c->imap, &caps);

	if (r != MAILIMAP_NO_ERROR) {
		*error_r = remote_io_error(c, "CAPABILITY", r);
		return -1;
	}
	mailimap_capability_data_free(caps);
	return 0;
}

/* Whether the session holds a capability list. */
static bool have_caps(const struct remote_conn *c)
{
	return c->imap->imap_connection_info != NULL &&
	       c->imap->imap_connection_info->imap_capability != NULL;
}

static void on_enabled(const char *line, void *ctx)
{
	struct remote_conn *c = ctx;

	if (strncasecmp(line, "ENABLED", 7) != 0)
		return;
	for (const char *p = line + 7; *p != '\0'; p++) {
		if (strncasecmp(p, " QRESYNC", 8) == 0)
			c->qresync = c->condstore = true;
		if (strncasecmp(p, " CONDSTORE", 10) == 0)
			c->condstore = true;
	}
}

/* ENABLE QRESYNC (which implies CONDSTORE), else CONDSTORE.  A server
 * refusing is no error: the sync then scans flags. */
static int enable_extensions(struct remote_conn *c, char **error_r)
{
	bool q = remote_has_cap(c, "QRESYNC"), cs = remote_has_cap(c, "CONDSTORE");
	char *why = NULL;
	int r;

	if (!remote_has_cap(c, "ENABLE")) {
		c->condstore = cs;
		return 0;
	}
	if (!q && !cs)
		return 0;
	r = remote_raw_command(c, q ? "ENABLE QRESYNC CONDSTORE" : "ENABLE CONDSTORE", NULL,
			       on_enabled, c, &why);
	if (r < 0) {
		*error_r = why;
		return -1;
	}
	free(why);
	return 0;
}

bool remote_peer_is_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	       net_is_loopback((struct sockaddr *)&ss);
}

static int start_tls(struct remote_conn *c, const struct remote_account *a, char **error_r)
{
	char *err = NULL;
	SSL_CTX *ctx = tls_client_ctx_new(a->ca, a->fingerprint, &err);
	int r;

	if (ctx == NULL) {
		*error_r = xasprintf("%s: %s", a->fingerprint ? "imap_fingerprint" :
					       a->ca ? "imap_ca" : "TLS", err);
		free(err);
		return -1;
	}
	r = remote_stream_starttls(c->low, ctx, c->host, error_r);
	SSL_CTX_free(ctx);	/* the SSL object keeps its own reference */
	return r;
}

/* Greeting to logged in; 0 or -1 with *error_r. */
static int open_session(struct remote_conn *c, const struct remote_account *a, int fd,
			char **error_r)
{
	mailstream *stream;
	int r;

	if (a->url.security == REMOTE_TLS && start_tls(c, a, error_r) < 0)
		return -1;
	stream = mailstream_new(c->low, 8192);
	if (stream == NULL)
		abort();
	c->imap = mailimap_new(0, NULL);
	mailimap_set_timeout(c->imap, (c->timeout_ms + 999) / 1000);
	r = mailimap_connect(c->imap, stream);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		*error_r = remote_io_error(c, "greeting", r);
		return -1;
	}
	/* PREAUTH before TLS: anyone on the path could have sent it. */
	if (r == MAILIMAP_NO_ERROR_AUTHENTICATED && a->url.security == REMOTE_STARTTLS) {
		*error_r = xasprintf("%s greeted with PREAUTH before STARTTLS: refused", c->host);
		return -1;
	}
	/* A greeting with [CAPABILITY ...] (libetpan keeps the list) spares
	 * the round trip (RFC 3501 7.1; loft's server and Dovecot send it). */
	if (!have_caps(c) && refresh_caps(c, error_r) < 0)
		return -1;
	if (a->url.security == REMOTE_STARTTLS) {
		if (!remote_has_cap(c, "STARTTLS")) {
			*error_r = xasprintf("%s does not offer STARTTLS: refusing to log in in "
					     "plaintext (imaps:// for implicit TLS; imap+insecure:// "
					     "only on loopback)", c->host);
			return -1;
		}
		r = mailimap_starttls(c->imap);
		/* Bytes after the OK were sent in the clear: never take them
		 * as if they came under TLS (CVE-2011-0411's mirror image).
		 * libetpan itself fails the command then, but says less. */
		if (c->imap->imap_stream != NULL && c->imap->imap_stream->read_buffer_len > 0) {
			*error_r = xasprintf("%s sent data after its STARTTLS answer: refused",
					     c->host);
			return -1;
		}
		if (r != MAILIMAP_NO_ERROR) {
			*error_r = remote_io_error(c, "STARTTLS", r);
			return -1;
		}
		if (start_tls(c, a, error_r) < 0 || refresh_caps(c, error_r) < 0)
			return -1;
	}
	if (a->url.security == REMOTE_PLAIN && !remote_peer_is_loopback(fd)) {
		*error_r = xasprintf("imap+insecure:// is for loopback only; %s is not (use "
				     "imaps:// or imap://)", c->host);
		return -1;
	}
	if (c->imap->imap_state == MAILIMAP_STATE_NON_AUTHENTICATED) {
		unsigned taken = c->caps_taken;

		/* The list may change with the login: asked again unless the
		 * login's answer carried it. */
		if (remote_login(c, a, error_r) < 0 ||
		    (c->caps_taken == taken && refresh_caps(c, error_r) < 0))
			return -1;
	}
	return enable_extensions(c, error_r);
}

struct remote_conn *remote_connect(const struct remote_account *a, char **error_r)
{
	struct remote_conn *c;
	const char *why;
	int fd;

	c = xcalloc(1, sizeof(*c));
	c->host = xstrdup(a->url.host);
	c->timeout_ms = a->timeout_ms > 0 ? a->timeout_ms : 60 * 1000;
	fd = net_connect(a->url.hostport, c->timeout_ms, &why);
	if (fd < 0) {
		*error_r = xasprintf("cannot connect to %s: %s", a->url.hostport, why);
		goto fail;
	}
	/* libetpan loads (a few ms of dlopen) while the server starts the
	 * session and greets, and OpenSSL too (TLS, and the base64 of any
	 * AUTHENTICATE, need it: 3-25 ms that would otherwise come after the
	 * password command, in the login's path). */
	if (remote_etpan_load(&why) < 0) {
		*error_r = xstrdup(why);
		close(fd);
		goto fail;
	}
	(void)lib_ossl();
	c->low = remote_stream_new(fd, c->timeout_ms);
	if (open_session(c, a, fd, error_r) < 0) {
		if (c->imap == NULL)
			mailstream_low_free(c->low);	/* no stream owns it yet */
		c->low = NULL;	/* no LOGOUT on a refused session */
		remote_close(&c);
		return NULL;
	}
	return c;
fail:
	free(c->host);
	free(c);
	return NULL;
}

void remote_close(struct remote_conn **cp)
{
	struct remote_conn *c = *cp;

	if (c == NULL)
		return;
	if (c->imap != NULL) {
		/* LOGOUT only on a session in step (not mid-IDLE, not failed),
		 * and its answer (BYE, OK) not awaited: it tells nothing, and
		 * the wait was a round trip at the end of every run. */
		if (c->low != NULL && !c->idling &&
		    c->imap->imap_state != MAILIMAP_STATE_DISCONNECTED) {
			char line[32], *ignored = NULL;

			snprintf(line, sizeof(line), "L%u LOGOUT\r\n", ++c->tag);
			if (remote_write(c, line, strlen(line), &ignored) < 0)
				free(ignored);
		}
		/* Closed here: mailimap_free would send a LOGOUT of its own
		 * on an open stream and wait for its answer. */
		if (c->imap->imap_stream != NULL) {
			mailstream_close(c->imap->imap_stream);
			c->imap->imap_stream = NULL;
		}
		mailimap_free(c->imap);
	}
	free(c->idle_tag);
	free(c->host);
	free(c);
	*cp = NULL;
}

void remote_cancel(struct remote_conn *c)
{
	if (c->low != NULL)
		remote_stream_shutdown(c->low);
}

struct mailimap *remote_imap(struct remote_conn *c)
{
	return c->imap;
}

const char *remote_fingerprint(const struct remote_conn *c)
{
	return c->low != NULL ? remote_stream_fingerprint(c->low) : NULL;
}

bool remote_qresync(const struct remote_conn *c)
{
	return c->qresync;
}

bool remote_condstore(const struct remote_conn *c)
{
	return c->condstore;
}

int remote_fd(const struct remote_conn *c)
{
	return c->low != NULL ? mailstream_low_get_fd(c->low) : -1;
}
