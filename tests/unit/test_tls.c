/* tls + net: the generated key and self-signed certificate, the
 * fingerprint format, and client verification over a socketpair: wrong
 * pin, unknown CA and wrong host name fail with a clear reason; the right
 * pin, or the certificate as CA with its host name, succeed. */
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/tls.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>
#include <regex.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64], tlsdir[96], *cert_path, *key_path, *fingerprint;
static SSL_CTX *server_ctx;

static int setup(void **state)
{
	char *err = NULL;
	bool created;

	strcpy(dir, "/tmp/loft-test-tls.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(tlsdir, sizeof(tlsdir), "%s/state/tls", dir);
	if (tls_ensure_selfsigned(tlsdir, "mx.test", &cert_path, &key_path, &created, &err) < 0 || !created)
		return -1;
	server_ctx = tls_server_ctx_new(cert_path, key_path, &fingerprint, &err);
	signal(SIGPIPE, SIG_IGN);
	return server_ctx ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	SSL_CTX_free(server_ctx);
	free(cert_path);
	free(key_path);
	free(fingerprint);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_generated_files(void **state)
{
	struct stat st;
	char *c2, *k2, *err = NULL;
	bool created = true;

	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tlsdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* A second start keeps the pair. */
	assert_int_equal(tls_ensure_selfsigned(tlsdir, "mx.test", &c2, &k2, &created, &err), 0);
	assert_false(created);
	free(c2);
	free(k2);
}

static void test_fingerprint_format(void **state)
{
	regex_t re;

	assert_int_equal(regcomp(&re, "^([0-9A-F]{2}:){31}[0-9A-F]{2}$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, fingerprint, 0, NULL, 0), 0);
	regfree(&re);
}

/* Server in a child: handshake, say hello, wait for the client to close. */
static pid_t serve(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct conn *c = conn_new(fd, 5000);
		struct sbuf line = SBUF_INIT;
		bool long_r;

		if (conn_starttls_server(c, server_ctx) == 0) {
			conn_printf(c, "hello\r\n");
			conn_flush(c);
			conn_read_line(c, &line, 100, &long_r);
		}
		conn_free(&c);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* Runs a client with ctx; returns 0 on a verified hello, -1 with *why. */
static int try_client(SSL_CTX *ctx, const char *host, char *why, size_t whysize)
{
	int sv[2], r = -1;
	struct conn *c;
	struct sbuf line = SBUF_INIT;
	bool long_r;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = serve(sv[1]);
	c = conn_new(sv[0], 5000);
	if (conn_starttls_client(c, ctx, host) == 0 && conn_read_line(c, &line, 100, &long_r) == 1 &&
	    strcmp(line.buf, "hello") == 0)
		r = 0;
	snprintf(why, whysize, "%s", conn_error(c));
	conn_free(&c);
	waitpid(pid, NULL, 0);
	sbuf_release(&line);
	return r;
}

static void test_pinned(void **state)
{
	char *err = NULL, why[256], wrong[TLS_FINGERPRINT_SIZE];
	SSL_CTX *ctx = tls_client_ctx_new(NULL, fingerprint, &err);

	assert_non_null(ctx);
	assert_int_equal(try_client(ctx, "anything.example", why, sizeof(why)), 0);
	SSL_CTX_free(ctx);

	/* As remote/ prints it in "pin it with imap_fingerprint SHA256:...". */
	char *prefixed = xasprintf("SHA256:%s", fingerprint);

	ctx = tls_client_ctx_new(NULL, prefixed, &err);
	free(prefixed);
	assert_non_null(ctx);
	assert_int_equal(try_client(ctx, "anything.example", why, sizeof(why)), 0);
	SSL_CTX_free(ctx);

	strcpy(wrong, fingerprint);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	ctx = tls_client_ctx_new(NULL, wrong, &err);
	assert_int_equal(try_client(ctx, "mx.test", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not the pinned one"));
	SSL_CTX_free(ctx);

	assert_null(tls_client_ctx_new(NULL, "AB:CD", &err));
	free(err);
}

static void test_ca_and_hostname(void **state)
{
	char *err = NULL, why[256];
	SSL_CTX *ctx = tls_client_ctx_new(NULL, NULL, &err);

	/* The system store does not know a self-signed certificate. */
	assert_non_null(ctx);
	assert_int_equal(try_client(ctx, "mx.test", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not trusted"));
	SSL_CTX_free(ctx);

	ctx = tls_client_ctx_new(cert_path, NULL, &err);
	assert_non_null(ctx);
	assert_int_equal(try_client(ctx, "mx.test", why, sizeof(why)), 0);
	assert_int_equal(try_client(ctx, "other.test", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not trusted"));
	SSL_CTX_free(ctx);
}

static void test_starttls_discards_buffer(void **state)
{
	int sv[2];
	struct conn *c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "STARTTLS\r\nINJECTED\r\n", 20), 20);
	c = conn_new(sv[0], 1000);
	struct sbuf line = SBUF_INIT;
	bool long_r;

	assert_int_equal(conn_read_line(c, &line, 100, &long_r), 1);
	assert_string_equal(line.buf, "STARTTLS");
	close(sv[1]);	/* the handshake then fails: fine */
	assert_int_equal(conn_starttls_server(c, server_ctx), -1);
	assert_int_equal(conn_discarded(c), 10);
	conn_free(&c);
	sbuf_release(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_files),
		cmocka_unit_test(test_fingerprint_format),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_ca_and_hostname),
		cmocka_unit_test(test_starttls_discards_buffer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
