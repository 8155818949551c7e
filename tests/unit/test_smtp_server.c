/* smtp_server: whole sessions over a socketpair, the server in a thread,
 * a fake queue and a fake password check: the dialogue, pipelining,
 * commands out of order, AUTH PLAIN/LOGIN, too many failures and errors,
 * STARTTLS with a pipelined injected command discarded, SIZE, the inbound
 * relay checks, smuggling through a session, timeouts, local mode
 * (sendmail -bs) over a pipe pair. */
#include "localmta/smtp_server.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

/* ---- fakes ---- */

static struct {
	int calls, code;
	char sender[300], rcpts[1024], auth[64];
	struct sbuf data;
} q;

static int fake_accept(void *ctx, const char *sender, const char *const *rcpts, size_t nrcpts,
		       const char *data, size_t len, const char *auth, char queue_id[SMTP_QUEUE_ID_MAX],
		       char **err_r)
{
	q.calls++;
	snprintf(q.sender, sizeof(q.sender), "%s", sender);
	q.rcpts[0] = '\0';
	for (size_t i = 0; i < nrcpts; i++)
		snprintf(q.rcpts + strlen(q.rcpts), sizeof(q.rcpts) - strlen(q.rcpts), "%s<%s>",
			 i ? " " : "", rcpts[i]);
	snprintf(q.auth, sizeof(q.auth), "%s", auth ? auth : "");
	sbuf_reset(&q.data);
	sbuf_add(&q.data, data, len);
	if (q.code != 0) {
		*err_r = strdup("disk\r\nfull");
		return q.code;
	}
	strcpy(queue_id, "Q1");
	return 0;
}

static int fake_auth(void *ctx, const char *user, const char *pass)
{
	return strcmp(user, "phone") == 0 && strcmp(pass, "secret") == 0;
}

/* ---- one session ---- */

static SSL_CTX *server_tls;
static char *fingerprint, tmpdir[64];

struct run {
	struct smtp_server_config cfg;
	struct sockaddr_in peer;
	struct conn *server, *client;
	struct smtp_server_stats st;
	int ret;
	pthread_t th;
};

static void *server_main(void *arg)
{
	struct run *r = arg;

	r->ret = smtp_server_run(r->server, &r->cfg, (struct sockaddr *)&r->peer, &r->st);
	conn_free(&r->server);
	return NULL;
}

static char *local_domains[] = { "example.org", NULL };
static char *local_addresses[] = { "me@other.org", NULL };

static void base_config(struct smtp_server_config *cfg, enum smtp_mode mode)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = mode;
	cfg->hostname = "mx.test";
	cfg->tls = server_tls;
	cfg->max_size = 10000;
	cfg->max_rcpts = 3;
	cfg->max_errors = 10;
	cfg->max_auth_failures = 3;
	cfg->auth_delay_ms = 0;
	cfg->command_timeout_ms = 5000;
	cfg->data_timeout_ms = 5000;
	cfg->local_domains = local_domains;
	cfg->local_addresses = local_addresses;
	cfg->auth = fake_auth;
	cfg->accept = fake_accept;
}

static void start(struct run *r, const char *ip)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->peer.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &r->peer.sin_addr);
	r->server = conn_new(sv[1], 5000);
	r->client = conn_new(sv[0], 5000);
	q.calls = 0;
	q.code = 0;
	assert_int_equal(pthread_create(&r->th, NULL, server_main, r), 0);
}

static int finish(struct run *r)
{
	conn_free(&r->client);
	pthread_join(r->th, NULL);
	return r->ret;
}

static void say(struct run *r, const char *text)
{
	conn_write(r->client, text, strlen(text));
	assert_int_equal(conn_flush(r->client), 0);
}

/* One whole reply, its lines joined by '|'; "EOF" at end of stream. */
static const char *reply(struct run *r)
{
	static char out[4096];
	struct sbuf line = SBUF_INIT;
	bool long_r;

	out[0] = '\0';
	for (;;) {
		if (conn_read_line(r->client, &line, 2000, &long_r) != 1) {
			strcat(out, "EOF");
			break;
		}
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? "|" : "", line.buf);
		if (line.len < 4 || line.buf[3] != '-')
			break;
	}
	sbuf_release(&line);
	return out;
}

#define expect(r, prefix) do { \
	const char *got_ = reply(r); \
	if (strncmp(got_, prefix, strlen(prefix)) != 0) \
		fail_msg("want '%s', got '%s'", prefix, got_); \
} while (0)

/* ---- tests ---- */

/* sendmail -bs: local mode over a pipe pair, from an address that is not
 * loopback: trusted without AUTH, unqualified addresses taken, no AUTH or
 * STARTTLS, no Received: from the session. */
static void test_local_mode_over_pipes(void **state)
{
	struct run r;
	int to_server[2], to_client[2];
	const char *ehlo;

	base_config(&r.cfg, SMTP_MODE_LOCAL);
	r.cfg.tls = NULL;
	r.cfg.auth = NULL;
	assert_int_equal(pipe(to_server), 0);
	assert_int_equal(pipe(to_client), 0);
	r.peer.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &r.peer.sin_addr);
	r.server = conn_new_pair(to_server[0], to_client[1], 5000);
	r.client = conn_new_pair(to_client[0], to_server[1], 5000);
	q.calls = q.code = 0;
	assert_int_equal(pthread_create(&r.th, NULL, server_main, &r), 0);
	expect(&r, "220 mx.test ESMTP");
	say(&r, "EHLO me\r\n");
	ehlo = reply(&r);
	assert_non_null(strstr(ehlo, "250-PIPELINING"));
	assert_null(strstr(ehlo, "AUTH"));
	assert_null(strstr(ehlo, "STARTTLS"));
	say(&r, "AUTH PLAIN AHBob25lAHNlY3JldA==\r\n");
	expect(&r, "502 ");
	say(&r, "MAIL FROM:<me>\r\nRCPT TO:<bob>\r\nRCPT TO:<x@far.org>\r\nDATA\r\n");
	expect(&r, "250 ");
	expect(&r, "250 ");
	expect(&r, "250 ");
	expect(&r, "354 ");
	say(&r, "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	expect(&r, "250 2.0.0 Ok: queued as Q1");
	expect(&r, "221 ");
	assert_int_equal(finish(&r), 0);
	assert_int_equal(q.calls, 1);
	assert_string_equal(q.sender, "me");
	assert_string_equal(q.rcpts, "<bob> <x@far.org>");
	assert_string_equal(q.data.buf, "Subject: hi\r\n\r\nbody\r\n");
}

static void test_submission_dialogue(void **state)
{
	struct run r;

	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	setenv("LOFT_TEST_NOW", "1700000000", 1);
	setenv("TZ", "UTC", 1);
	tzset();
	start(&r, "127.0.0.1");
	expect(&r, "220 mx.test ESMTP");
	say(&r, "MAIL FROM:<a@b.org>\r\n");
	expect(&r, "503 5.5.1");
	say(&r, "EHLO client.test\r\n");
	const char *ehlo = reply(&r);
	assert_non_null(strstr(ehlo, "250-PIPELINING"));
	assert_non_null(strstr(ehlo, "SIZE 10000"));
	assert_non_null(strstr(ehlo, "8BITMIME|"));
	assert_non_null(strstr(ehlo, "SMTPUTF8"));
	assert_non_null(strstr(ehlo, "ENHANCEDSTATUSCODES"));
	assert_non_null(strstr(ehlo, "STARTTLS"));
	assert_non_null(strstr(ehlo, "250 AUTH PLAIN LOGIN"));	/* loopback: offered */
	say(&r, "MAIL FROM:<a@b.org>\r\n");
	expect(&r, "530 5.7.0");	/* also from loopback */
	/* AUTH PLAIN with SASL-IR: \0phone\0secret */
	say(&r, "AUTH PLAIN AHBob25lAHNlY3JldA==\r\n");
	expect(&r, "235 2.7.0");
	/* Everything pipelined in one write. */
	say(&r, "MAIL FROM:<a@b.org> SIZE=100\r\nRCPT TO:<x@y.org>\r\nRCPT TO:<z@w.org>\r\nDATA\r\n"
		"Subject: t\r\n\r\n..dot\r\n.\r\nNOOP\r\n");
	expect(&r, "250 2.1.0");
	expect(&r, "250 2.1.5");
	expect(&r, "250 2.1.5");
	expect(&r, "354 ");
	expect(&r, "250 2.0.0 Ok: queued as Q1");
	expect(&r, "250 2.0.0");	/* NOOP, in step after DATA */
	assert_int_equal(q.calls, 1);
	assert_string_equal(q.sender, "a@b.org");
	assert_string_equal(q.rcpts, "<x@y.org> <z@w.org>");
	assert_string_equal(q.auth, "phone");
	static const char received[] =
		"Received: from client.test ([127.0.0.1])\r\n\tby mx.test (loft) with ESMTPA id ";
	assert_memory_equal(q.data.buf, received, strlen(received));
	/* The trace date is clock_rfc5322's, on the injectable clock. */
	assert_non_null(strstr(q.data.buf, ";\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(q.data.buf, "\r\nSubject: t\r\n\r\n.dot\r\n"));
	assert_int_equal(q.data.buf[q.data.len - 1], '\n');
	say(&r, "RSET\r\nVRFY x\r\nHELP\r\nQUIT\r\n");
	expect(&r, "250 2.0.0");
	expect(&r, "252 ");
	expect(&r, "214");
	expect(&r, "221 2.0.0");
	expect(&r, "EOF");
	assert_int_equal(finish(&r), 0);
}

static void test_out_of_order_and_errors(void **state)
{
	struct run r;
	char longline[1200];

	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	r.cfg.trust_loopback = true;
	r.cfg.max_errors = 8;
	start(&r, "127.0.0.1");
	expect(&r, "220 ");
	say(&r, "EHLO\r\n");
	expect(&r, "501 5.5.4");				/* 1 */
	say(&r, "HELO c.test\r\nRCPT TO:<a@b.org>\r\nDATA\r\n");
	expect(&r, "250 mx.test");
	expect(&r, "503 5.5.1");				/* 2 */
	expect(&r, "503 5.5.1");				/* 3 */
	say(&r, "MAIL FROM:<a@b.org>\r\nMAIL FROM:<a@b.org>\r\nDATA\r\nXYZZY\r\n");
	expect(&r, "250 2.1.0");				/* trusted loopback */
	expect(&r, "503 5.5.1");				/* 4 nested */
	expect(&r, "554 5.5.1");				/* 5 no rcpts */
	expect(&r, "500 5.5.1");				/* 6 unknown */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "NOOP ", 5);
	memcpy(longline + 1190, "\r\n", 3);
	say(&r, longline);
	expect(&r, "500 5.5.2 Line too long");			/* 7 */
	conn_write(r.client, "NO\0OP\r\n", 7);
	conn_flush(r.client);
	expect(&r, "500 5.5.2 NUL");				/* 8: the last */
	expect(&r, "421 4.7.0");
	expect(&r, "EOF");
	assert_int_equal(finish(&r), -1);
	assert_int_equal(r.st.errors, 8);
}

static void test_auth_rules(void **state)
{
	struct run r;

	/* Not loopback, no TLS: AUTH neither offered nor taken. */
	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	start(&r, "192.0.2.7");
	expect(&r, "220 ");
	say(&r, "EHLO c.test\r\n");
	assert_null(strstr(reply(&r), "AUTH"));
	say(&r, "AUTH PLAIN AHBob25lAHNlY3JldA==\r\n");
	expect(&r, "538 5.7.11");
	say(&r, "QUIT\r\n");
	expect(&r, "221");
	finish(&r);

	/* LOGIN, cancel, bad base64, a bad mechanism, then success. */
	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	start(&r, "127.0.0.1");
	expect(&r, "220 ");
	say(&r, "AUTH LOGIN\r\n");
	expect(&r, "503 5.5.1");	/* before EHLO */
	say(&r, "EHLO c.test\r\n");
	reply(&r);
	say(&r, "AUTH LOGIN\r\n");
	expect(&r, "334 VXNlcm5hbWU6");
	say(&r, "*\r\n");
	expect(&r, "501 5.0.0");
	say(&r, "AUTH PLAIN !!!!\r\n");
	expect(&r, "501 5.5.2");
	say(&r, "AUTH CRAM-MD5\r\n");
	expect(&r, "504 5.5.4");
	say(&r, "AUTH LOGIN cGhvbmU=\r\n");
	expect(&r, "334 UGFzc3dvcmQ6");
	say(&r, "c2VjcmV0\r\n");
	expect(&r, "235 2.7.0");
	say(&r, "AUTH LOGIN\r\n");
	expect(&r, "503 5.5.1");	/* already */
	say(&r, "QUIT\r\n");
	expect(&r, "221");
	assert_int_equal(finish(&r), 0);
}

static void test_auth_failures_close(void **state)
{
	struct run r;

	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	start(&r, "127.0.0.1");
	expect(&r, "220 ");
	say(&r, "EHLO c.test\r\n");
	reply(&r);
	say(&r, "AUTH PLAIN AHBob25lAHdyb25n\r\n");	/* \0phone\0wrong */
	expect(&r, "535 5.7.8");
	say(&r, "AUTH PLAIN\r\n");
	expect(&r, "334 ");
	say(&r, "AG5vYm9keQBzZWNyZXQ=\r\n");		/* \0nobody\0secret */
	expect(&r, "535 5.7.8");
	say(&r, "AUTH PLAIN YWRtaW4AcGhvbmUAc2VjcmV0\r\n");	/* authzid admin != phone */
	expect(&r, "535 5.7.8");
	expect(&r, "421 4.7.0");
	expect(&r, "EOF");
	assert_int_equal(finish(&r), -1);
	assert_int_equal(r.st.auth_failures, 3);
	assert_int_equal(q.calls, 0);
}

static void test_starttls_injection(void **state)
{
	struct run r;
	char *err = NULL;
	SSL_CTX *client_tls = tls_client_ctx_new(NULL, fingerprint, &err);

	assert_non_null(client_tls);
	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	start(&r, "192.0.2.7");
	expect(&r, "220 ");
	say(&r, "EHLO c.test\r\n");
	reply(&r);
	/* The classic injection: a command pipelined behind STARTTLS in
	 * the clear, hoping it is run as if sent under TLS. */
	say(&r, "STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.org>\r\n");
	expect(&r, "220 2.0.0");
	assert_int_equal(conn_starttls_client(r.client, client_tls, "mx.test"), 0);
	say(&r, "EHLO c.test\r\n");
	const char *ehlo = reply(&r);
	/* The first answer under TLS is EHLO's: nothing injected ran. */
	assert_true(strncmp(ehlo, "250-mx.test|", 12) == 0);
	assert_null(strstr(ehlo, "STARTTLS"));
	assert_non_null(strstr(ehlo, "AUTH PLAIN LOGIN"));	/* now under TLS */
	say(&r, "STARTTLS\r\n");
	expect(&r, "554 5.5.1");
	say(&r, "AUTH PLAIN AHBob25lAHNlY3JldA==\r\nMAIL FROM:<>\r\nRCPT TO:<x@y.org>\r\nDATA\r\nhi\r\n.\r\n");
	expect(&r, "235 ");
	expect(&r, "250 ");
	expect(&r, "250 ");
	expect(&r, "354 ");
	expect(&r, "250 2.0.0");
	assert_non_null(strstr(q.data.buf, "with ESMTPSA"));
	assert_non_null(strstr(q.data.buf, "for <x@y.org>"));
	assert_string_equal(q.sender, "");
	say(&r, "QUIT\r\n");
	expect(&r, "221");
	assert_int_equal(finish(&r), 0);
	assert_int_equal(r.st.starttls_discarded, strlen("RSET\r\nMAIL FROM:<evil@x.org>\r\n"));
	SSL_CTX_free(client_tls);
}

static void test_size(void **state)
{
	struct run r;
	static char big[12000];

	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	r.cfg.trust_loopback = true;
	start(&r, "127.0.0.1");
	expect(&r, "220 ");
	say(&r, "EHLO c.test\r\nMAIL FROM:<a@b.org> SIZE=10001\r\n");
	reply(&r);
	expect(&r, "552 5.3.4");
	say(&r, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n");
	expect(&r, "250 ");
	expect(&r, "250 ");
	expect(&r, "354 ");
	size_t i;

	for (i = 0; i + 100 <= sizeof(big) - 10; i += 100) {
		memset(big + i, 'a', 98);
		memcpy(big + i + 98, "\r\n", 2);
	}
	strcpy(big + i, ".\r\nNOOP\r\n");
	say(&r, big);
	expect(&r, "552 5.3.4");
	expect(&r, "250 2.0.0");	/* NOOP: in step */
	assert_int_equal(q.calls, 0);
	/* A queue failure is a temporary error, CR/LF kept out of the reply. */
	q.code = 451;
	say(&r, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\nhi\r\n.\r\n");
	expect(&r, "250 ");
	expect(&r, "250 ");
	expect(&r, "354 ");
	expect(&r, "451 4.3.0 disk  full");
	say(&r, "QUIT\r\n");
	expect(&r, "221");
	finish(&r);
}

static void test_inbound_relay_checks(void **state)
{
	static const char *const refused[] = {
		"RCPT TO:<user%other.org@example.org>\r\n",
		"RCPT TO:<other.org!user@example.org>\r\n",
		"RCPT TO:<@example.org:user@other.org>\r\n",
		"RCPT TO:<\"user@other.org\"@example.org>\r\n",
		"RCPT TO:<\"user%other.org\"@example.org>\r\n",
		"RCPT TO:<user>\r\n",
		"RCPT TO:<user@other.org>\r\n",
		"RCPT TO:<user@example.org.other.org>\r\n",
		"RCPT TO:<user@[192.0.2.1]>\r\n",
	};
	struct run r;

	base_config(&r.cfg, SMTP_MODE_INBOUND);
	r.cfg.max_errors = 100;
	start(&r, "127.0.0.1");
	expect(&r, "220 ");
	say(&r, "EHLO c.test\r\n");
	assert_null(strstr(reply(&r), "AUTH"));
	say(&r, "AUTH PLAIN AHBob25lAHNlY3JldA==\r\n");
	expect(&r, "502 5.5.1");
	say(&r, "MAIL FROM:<someone@far.org>\r\n");
	expect(&r, "250 ");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *got;

		say(&r, refused[i]);
		got = reply(&r);
		if (got[0] != '5')
			fail_msg("%s accepted: %s", refused[i], got);
	}
	say(&r, "RCPT TO:<me@EXAMPLE.org>\r\nRCPT TO:<Me@other.org>\r\nRCPT TO:<postmaster>\r\nDATA\r\nhi\r\n.\r\n");
	expect(&r, "250 2.1.5");
	expect(&r, "250 2.1.5");
	expect(&r, "250 2.1.5");
	expect(&r, "354 ");
	expect(&r, "250 2.0.0");
	assert_string_equal(q.rcpts, "<me@EXAMPLE.org> <Me@other.org> <postmaster@example.org>");
	assert_non_null(strstr(q.data.buf, "with ESMTP id"));
	say(&r, "QUIT\r\n");
	expect(&r, "221");
	finish(&r);
}

static void test_smuggling_in_session(void **state)
{
	static const char *const fake_ends[] = { "\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r.\n" };

	for (size_t i = 0; i < sizeof(fake_ends) / sizeof(fake_ends[0]); i++) {
		struct run r;
		char buf[512];

		base_config(&r.cfg, SMTP_MODE_SUBMISSION);
		r.cfg.trust_loopback = true;
		start(&r, "127.0.0.1");
		expect(&r, "220 ");
		say(&r, "EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n");
		reply(&r);
		expect(&r, "250 ");
		expect(&r, "250 ");
		expect(&r, "354 ");
		snprintf(buf, sizeof(buf), "Subject: x\r\n\r\nhi%sMAIL FROM:<evil@x.org>\r\n"
			 "RCPT TO:<victim@y.org>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n", fake_ends[i]);
		say(&r, buf);
		expect(&r, "550 5.6.0");	/* one answer for the whole thing */
		expect(&r, "221 ");
		assert_int_equal(finish(&r), 0);
		assert_int_equal(q.calls, 0);
	}
}

static void test_timeout(void **state)
{
	struct run r;

	base_config(&r.cfg, SMTP_MODE_SUBMISSION);
	r.cfg.command_timeout_ms = 200;
	start(&r, "127.0.0.1");
	expect(&r, "220 ");
	expect(&r, "421 4.4.2");
	expect(&r, "EOF");
	assert_int_equal(finish(&r), -1);
	assert_true(r.st.timed_out);
}

static int setup(void **state)
{
	char *cert, *key, *err = NULL, dir[96];

	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LEVEL_ERROR);	/* the refusals are expected */
	strcpy(tmpdir, "/tmp/loft-test-smtpd.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/tls", tmpdir);
	if (tls_ensure_selfsigned(dir, "mx.test", &cert, &key, NULL, &err) < 0)
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
	sbuf_release(&q.data);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submission_dialogue),
		cmocka_unit_test(test_out_of_order_and_errors),
		cmocka_unit_test(test_auth_rules),
		cmocka_unit_test(test_auth_failures_close),
		cmocka_unit_test(test_starttls_injection),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_inbound_relay_checks),
		cmocka_unit_test(test_smuggling_in_session),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_local_mode_over_pipes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
