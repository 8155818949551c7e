/* The IMAP listeners of `loft daemon`: imap_listen (STARTTLS) and
 * imaps_listen (implicit TLS), with the certificate of the SMTP listeners.
 * Each connection runs in a child forked by lib/server, already running as
 * the owner of the store, which serves one imapd session on the store.
 *
 * Logins are the devices' of `loft passwd` (localmta/auth.h).  A password
 * is taken only under TLS or from a loopback peer (LOGINDISABLED and no
 * AUTH= otherwise).  Failed logins are slowed down as in SMTP (the delay
 * times the failures so far) and the session ends after
 * imap_max_auth_failures.  A logged-in session tells the parent (never
 * evicted to make room for another) and records itself, so that
 * `loft passwd --remove NAME` can end it. */
#include "daemon/auth_cache.h"
#include "daemon/daemon-private.h"
#include "imapd/imapd.h"
#include "localmta/auth.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/server.h"
#include "store/message.h"
#include "store/store.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* What a listener's children share; fixed for the daemon's life (the
 * listener's ctx outlives reloads). */
struct imap_listener_ctx {
	struct daemon *d;
	bool implicit_tls;
};

static struct imap_listener_ctx listener_ctx[DAEMON_IMAP_LISTENERS];

static const struct {
	const char *name, *setting;
	bool implicit_tls;
} imap_defs[DAEMON_IMAP_LISTENERS] = {
	{ "imap", "imap_listen", false },
	{ "imaps", "imaps_listen", true },
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0)
		;
}

/* Tells the parent (and this child's own copy) how a full check went, so
 * the next connection's child knows (auth_cache.h). */
static void cache_learn(struct daemon_imap_conn *ic, const char *user, bool ok,
			const unsigned char *tag, int64_t began_ms)
{
	char msg[AUTH_CACHE_MSG_MAX];
	size_t len;

	if (ok) {
		auth_cache_put(ic->cache, user, tag, began_ms);
		len = auth_cache_msg_ok(msg, user, tag, began_ms);
	} else {
		auth_cache_drop(ic->cache, user);
		len = auth_cache_msg_failed(msg, user);
	}
	if (ic->srv != NULL && len > 0)
		server_child_message(ic->srv, msg, len);
}

static enum imapd_login_result check_login(void *ctx, const char *user, const char *pass)
{
	struct daemon_imap_conn *ic = ctx;
	unsigned char tag[AUTH_CACHE_TAG];
	int64_t began = clock_monotonic_ms();
	bool tagged = auth_cache_tag(ic->cache, ic->passwd_path, user, pass, tag) > 0;
	bool cached = tagged && auth_cache_hit(ic->cache, user, tag, began);
	char *err = NULL;
	int r = cached ? 1 : auth_check(ic->passwd_path, user, pass);

	if (r < 0) {
		log_error("imap: %s: cannot read %s", ic->peer, ic->passwd_path);
		return IMAPD_LOGIN_UNAVAILABLE;
	}
	if (!cached && auth_cache_enabled(ic->cache))
		cache_learn(ic, user, r > 0 && tagged, tag, began);
	if (r > 0) {
		ic->session_fd = auth_session_begin(ic->passwd_path, user, &err);
		if (ic->session_fd < 0) {
			log_warning("imap: %s: login of %s not recorded: %s", ic->peer, user, err);
			free(err);
			return IMAPD_LOGIN_UNAVAILABLE;
		}
		log_info("imap: %s logged in as %s%s", ic->peer, user,
			 cached ? " (verified lately: imap_auth_cache_ttl)" : "");
		if (ic->srv != NULL)
			server_child_report(ic->srv, SERVER_CHILD_AUTHENTICATED);
		return IMAPD_LOGIN_OK;
	}
	ic->failures++;
	log_warning("imap: %s: failed login for '%.64s' (%u)", ic->peer, user, ic->failures);
	conn_flush(ic->conn);
	sleep_ms((long)ic->cfg.failure_delay_ms * ic->failures);
	return ic->failures >= ic->cfg.max_failures ? IMAPD_LOGIN_CLOSE : IMAPD_LOGIN_FAILED;
}

/* UNAUTHENTICATE: the device's session record goes (a next login makes
 * its own), so `loft passwd --remove` of it no longer ends this session,
 * and the connection may be evicted again like any not logged in. */
static void logout(void *ctx)
{
	struct daemon_imap_conn *ic = ctx;

	auth_session_end(ic->passwd_path, ic->session_fd);
	ic->session_fd = -1;
	if (ic->srv != NULL)
		server_child_report(ic->srv, SERVER_CHILD_UNAUTHENTICATED);
	log_info("imap: %s logged out (UNAUTHENTICATE)", ic->peer);
}

/* Told before the client sees the end of stream, so that its next
 * connection, however quick, finds this one no longer counted against
 * max_connections(_per_ip) while the teardown runs. */
static void closing(void *ctx)
{
	struct daemon_imap_conn *ic = ctx;

	if (ic->srv != NULL)
		server_child_report(ic->srv, SERVER_CHILD_CLOSING);
}

static int start_tls(void *ctx, struct conn *conn)
{
	struct daemon_imap_conn *ic = ctx;

	return conn_starttls_server(conn, ic->cfg.tls);
}

/* RFC 9051 11.1 / RFC 8314: no password in the clear over a network. */
static bool plaintext_ok(void *ctx, struct conn *conn)
{
	const struct daemon_imap_conn *ic = ctx;

	return ic->loopback || conn_tls_active(conn);
}

int daemon_imap_serve(struct daemon_imap_conn *ic, const struct sockaddr *peer)
{
	struct imapd_auth auth = {
		.login = check_login,
		.starttls = ic->cfg.tls != NULL && !ic->cfg.implicit_tls ? start_tls : NULL,
		.plaintext_ok = plaintext_ok,
		.logout = logout,
		.closing = closing,
		.ctx = ic,
	};
	struct store *store = NULL;
	const char *err;
	int r = -1;

	ic->session_fd = -1;
	ic->loopback = peer != NULL && net_is_loopback(peer);
	if (peer == NULL || net_addr_str(peer, ic->peer, sizeof(ic->peer)) == NULL)
		strcpy(ic->peer, "unknown");
	if (ic->cfg.implicit_tls) {
		conn_set_timeout(ic->conn, (int)ic->cfg.imapd.login_timeout * 1000);
		if (conn_starttls_server(ic->conn, ic->cfg.tls) < 0) {
			log_info("imap: %s: TLS handshake failed: %s", ic->peer, conn_error(ic->conn));
			return -1;
		}
	}
	if (store_open(&ic->cfg.store, STORE_OPEN_CREATE | STORE_OPEN_NO_THREADKEYS, &store, &err) < 0) {
		log_error("imap: %s", err);
		conn_printf(ic->conn, "* BYE [UNAVAILABLE] Cannot open the mail store.\r\n");
		conn_flush(ic->conn);
		return -1;
	}
	r = imapd_session_run(ic->conn, store, &ic->cfg.imapd, &auth, NULL);
	auth_session_end(ic->passwd_path, ic->session_fd);
	ic->session_fd = -1;
	store_close(&store);
	message_deinit();
	log_info("imap: %s: %s", ic->peer, r == 0 ? "closed" : "disconnected");
	return r;
}

/* A connection child.  Privileges are already dropped (lib/server). */
static int imap_child_run(void *ctx, int fd, const struct sockaddr *peer, const char *id)
{
	struct imap_listener_ctx *lc = ctx;
	struct daemon *d = lc->d;
	struct daemon_imap_conn ic = { .srv = d->srv, .passwd_path = d->passwd_path,
				       .cache = d->auth_cache };
	int one = 1;

	/* Replies go out whole (conn buffers them), so Nagle only delays
	 * them: an untagged EXISTS written while "+ idling" is still unacked
	 * waited for the client's delayed ACK, 40 ms. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	daemon_imap_config(d->cfg, d->tls, lc->implicit_tls, &ic.cfg);
	ic.conn = conn_new(fd, 0);
	int r = daemon_imap_serve(&ic, peer);

	conn_free(&ic.conn);
	return r < 0 ? 1 : 0;
}

void daemon_imap_config(const struct config *cfg, SSL_CTX *tls, bool implicit_tls,
			struct daemon_imap_config *out)
{
	memset(out, 0, sizeof(*out));
	out->store.root = config_get(cfg, "folder");
	out->store.state_dir = config_get(cfg, "state_dir");
	out->store.notmuch_db = config_get(cfg, "notmuch_database");
	out->imapd.max_append = (size_t)config_int(cfg, "max_message_size");
	out->imapd.idle_timeout = (unsigned)config_int(cfg, "imap_autologout");
	out->imapd.login_timeout = (unsigned)config_int(cfg, "imap_login_timeout");
	out->max_failures = (unsigned)config_int(cfg, "imap_max_auth_failures");
	out->failure_delay_ms = (int)config_int(cfg, "imap_auth_failure_delay") * 1000;
	out->tls = tls;
	out->implicit_tls = implicit_tls;
}

int daemon_imap_setup(struct daemon *d)
{
	int ret = 0;

	for (size_t i = 0; i < DAEMON_IMAP_LISTENERS; i++) {
		const char *addr = config_get(d->cfg, imap_defs[i].setting), *error;

		listener_ctx[i] = (struct imap_listener_ctx){ d, imap_defs[i].implicit_tls };
		/* Implicit TLS: a plaintext BYE would be garbage to the client,
		 * so it just sees the connection close. */
		if (server_listen(d->srv, imap_defs[i].name, addr, imap_child_run, &listener_ctx[i],
				  imap_defs[i].implicit_tls ? NULL
				  : "* BYE Too many connections, try again later.\r\n", &error) < 0) {
			log_error("%s", error);
			ret = -1;
		}
	}
	return ret;
}
