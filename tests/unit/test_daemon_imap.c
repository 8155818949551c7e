/* daemon_imap: the IMAP listener's login rules over a socketpair, the
 * session in a thread, with a fake peer address -- the one thing the
 * integration test (tests/imap_daemon.t, all on 127.0.0.1) cannot show:
 * a non-loopback client sees LOGINDISABLED and no AUTH= mechanism before
 * STARTTLS and cannot send a password in the clear; after STARTTLS it can.
 * A loopback client may log in without TLS.  Wrong logins: NO, then BYE
 * after imap_max_auth_failures. */
#include "daemon/daemon-private.h"
#include "localmta/auth.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

static SSL_CTX *server_tls;
static char *fingerprint, tmpdir[64], passwd_path[128], mail_dir[128];

struct run {
	struct daemon_imap_conn ic;
	struct sockaddr_in peer;
	struct conn *client;
	int ret;
	pthread_t th;
};

static void *server_main(void *arg)
{
	struct run *r = arg;

	r->ret = daemon_imap_serve(&r->ic, (struct sockaddr *)&r->peer);
	conn_free(&r->ic.conn);
	return NULL;
}

static void start(struct run *r, const char *ip)
{
	int sv[2];

	memset(r, 0, sizeof(*r));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->peer.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &r->peer.sin_addr);
	r->ic.cfg.store.root = mail_dir;
	r->ic.cfg.imapd.login_timeout = 10;
	r->ic.cfg.max_failures = 2;
	r->ic.cfg.tls = server_tls;
	r->ic.passwd_path = passwd_path;
	r->ic.conn = conn_new(sv[1], 10000);
	r->client = conn_new(sv[0], 10000);
	assert_int_equal(pthread_create(&r->th, NULL, server_main, r), 0);
}

static int finish(struct run *r)
{
	conn_free(&r->client);
	pthread_join(r->th, NULL);
	return r->ret;
}

/* Sends line, returns what came back up to the line starting with `until`
 * (or the end of the stream), lines joined by '|'. */
static const char *talk(struct run *r, const char *line, const char *until)
{
	static char out[8192];
	struct sbuf l = SBUF_INIT;
	bool too_long;

	out[0] = '\0';
	if (line != NULL) {
		conn_write(r->client, line, strlen(line));
		conn_write(r->client, "\r\n", 2);
		assert_int_equal(conn_flush(r->client), 0);
	}
	for (;;) {
		if (conn_read_line(r->client, &l, 4096, &too_long) <= 0) {
			strncat(out, "EOF", sizeof(out) - strlen(out) - 1);
			break;
		}
		strncat(out, l.buf, sizeof(out) - strlen(out) - 2);
		if (strncmp(l.buf, until, strlen(until)) == 0)
			break;
		strcat(out, "|");
	}
	sbuf_release(&l);
	return out;
}

static void test_not_loopback(void **state)
{
	struct run r;
	const char *out = talk((start(&r, "192.0.2.7"), &r), NULL, "* OK");

	assert_non_null(strstr(out, "STARTTLS"));
	assert_non_null(strstr(out, "LOGINDISABLED"));
	assert_null(strstr(out, "AUTH="));
	out = talk(&r, "a1 LOGIN phone secret-password", "a1 ");
	assert_non_null(strstr(out, "a1 NO [PRIVACYREQUIRED]"));
	/* "\0phone\0secret-password" */
	out = talk(&r, "a2 AUTHENTICATE PLAIN AHBob25lAHNlY3JldC1wYXNzd29yZA==", "a2 ");
	assert_non_null(strstr(out, "a2 NO [PRIVACYREQUIRED]"));

	out = talk(&r, "a3 STARTTLS", "a3 ");
	assert_non_null(strstr(out, "a3 OK"));
	char *err = NULL;
	SSL_CTX *client_tls = tls_client_ctx_new(NULL, fingerprint, &err);

	assert_non_null(client_tls);
	assert_int_equal(conn_starttls_client(r.client, client_tls, "imap.test"), 0);
	out = talk(&r, "a4 CAPABILITY", "a4 ");
	assert_non_null(strstr(out, "AUTH=PLAIN"));
	assert_null(strstr(out, "LOGINDISABLED"));
	assert_null(strstr(out, "STARTTLS"));
	out = talk(&r, "a5 LOGIN phone secret-password", "a5 ");
	assert_non_null(strstr(out, "a5 OK"));
	out = talk(&r, "a6 LOGOUT", "a6 ");
	assert_non_null(strstr(out, "* BYE"));
	assert_int_equal(finish(&r), 0);
	SSL_CTX_free(client_tls);
}

static void test_loopback_and_failures(void **state)
{
	struct run r;
	const char *out = talk((start(&r, "127.0.0.1"), &r), NULL, "* OK");

	assert_non_null(strstr(out, "AUTH=PLAIN"));
	assert_null(strstr(out, "LOGINDISABLED"));
	out = talk(&r, "a1 LOGIN phone wrong-password", "a1 ");
	assert_non_null(strstr(out, "a1 NO [AUTHENTICATIONFAILED]"));
	assert_null(strstr(out, "BYE"));
	out = talk(&r, "a2 LOGIN nobody wrong-password", "EOF");
	assert_non_null(strstr(out, "a2 NO [AUTHENTICATIONFAILED] Authentication failed.|* BYE"));
	finish(&r);
	assert_int_equal(r.ic.failures, 2);
}

static int setup(void **state)
{
	char *cert, *key, *err = NULL, dir[96];

	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LEVEL_ERROR);	/* the refusals are expected */
	strcpy(tmpdir, "/tmp/loft-test-imapd.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/tls", tmpdir);
	snprintf(mail_dir, sizeof(mail_dir), "%s/Mail", tmpdir);
	snprintf(passwd_path, sizeof(passwd_path), "%s/passwd", tmpdir);
	if (tls_ensure_selfsigned(dir, "imap.test", &cert, &key, NULL, &err) < 0 ||
	    auth_passwd_set(passwd_path, "phone", "secret-password", &err) < 0)
		return -1;
	server_tls = tls_server_ctx_new(cert, key, &fingerprint, &err);
	free(cert);
	free(key);
	return server_tls ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	SSL_CTX_free(server_tls);
	free(fingerprint);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_loopback),
		cmocka_unit_test(test_loopback_and_failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
