/* A test harness, not the daemon: runs loft's SMTP server on the listener
 * the mailrc names, one forked child per connection, for a bounded time,
 * queueing each accepted message as a file in a directory.  It lets the
 * integration tests (tests/smtp.t) drive the server with real clients
 * before `loft daemon` exists.
 *
 *   smtpd_once -F MAILRC -q QUEUEDIR [-t SECONDS] [-m submission|inbound|smtps]
 *
 * Prints "ready PORT-SPEC FINGERPRINT" on stdout once listening.  Each
 * message is QUEUEDIR/ID.eml: "X-Loft-Sender: <s>", one "X-Loft-Rcpt: <r>"
 * per recipient, "X-Loft-Auth: user" when logged in, then the message. */
#include "lib/atomic.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/sbuf.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "localmta/auth.h"
#include "localmta/smtp_server.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *queue_dir;
static char *passwd_path;

static int check_login(void *ctx, const char *user, const char *password)
{
	return auth_check(passwd_path, user, password);
}

static int queue_message(void *ctx, const char *sender, const char *const *rcpts, size_t nrcpts,
			 const char *data, size_t len, const char *auth, char queue_id[SMTP_QUEUE_ID_MAX],
			 char **err_r)
{
	struct sbuf sb = SBUF_INIT;
	const char *step;
	char *path = xasprintf("%s/%s.eml", queue_dir, queue_id);
	int r;

	sbuf_addf(&sb, "X-Loft-Sender: <%s>\n", sender);
	for (size_t i = 0; i < nrcpts; i++)
		sbuf_addf(&sb, "X-Loft-Rcpt: <%s>\n", rcpts[i]);
	if (auth != NULL)
		sbuf_addf(&sb, "X-Loft-Auth: %s\n", auth);
	sbuf_add(&sb, data, len);
	r = atomic_write_file(path, sb.buf, sb.len, 0600, &step);
	if (r < 0)
		*err_r = xasprintf("cannot write the queue file: %s", step);
	sbuf_release(&sb);
	free(path);
	return r < 0 ? 451 : 0;
}

int main(int argc, char **argv)
{
	const char *rc = NULL, *mode = "submission", *listen_on, *error;
	char *err = NULL, *fp = NULL;
	struct smtp_server_config scfg;
	struct config *cfg = config_new();
	int seconds = 30, c, lfd;
	time_t deadline;

	while ((c = getopt(argc, argv, "F:q:t:m:")) != -1) {
		switch (c) {
		case 'F': rc = optarg; break;
		case 'q': queue_dir = optarg; break;
		case 't': seconds = atoi(optarg); break;
		case 'm': mode = optarg; break;
		default: return 64;
		}
	}
	if (rc == NULL || queue_dir == NULL || config_load(cfg, rc, &error) < 0) {
		fprintf(stderr, "smtpd_once: -F MAILRC -q DIR needed%s%s\n", rc ? ": " : "", rc ? error : "");
		return 64;
	}
	log_set_level(LOG_LEVEL_DEBUG);
	smtp_server_config_init(&scfg, cfg, strcmp(mode, "inbound") == 0 ? SMTP_MODE_INBOUND
									  : SMTP_MODE_SUBMISSION);
	scfg.tls = tls_server_ctx_from_config(cfg, &fp, &err);
	if (scfg.tls == NULL) {
		fprintf(stderr, "smtpd_once: %s\n", err);
		return 1;
	}
	scfg.implicit_tls = strcmp(mode, "smtps") == 0;
	passwd_path = auth_passwd_path(cfg);
	scfg.auth = check_login;
	scfg.accept = queue_message;
	listen_on = config_get(cfg, strcmp(mode, "inbound") == 0 ? "smtp_inbound_listen" :
				    scfg.implicit_tls ? "smtps_listen" : "smtp_listen");
	if (listen_on == NULL || (lfd = net_listen(listen_on, 16, &error)) < 0) {
		fprintf(stderr, "smtpd_once: %s: %s\n", listen_on ? listen_on : "(no listener)",
			listen_on ? error : "set");
		return 1;
	}
	printf("ready %s %s\n", listen_on, fp);
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	deadline = time(NULL) + seconds;
	while (time(NULL) < deadline) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct sockaddr_storage peer;
		pid_t pid;
		int fd;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (poll(&p, 1, 200) != 1)
			continue;
		fd = net_accept(lfd, &peer, NULL);
		if (fd < 0)
			continue;
		pid = fork();
		if (pid == 0) {
			struct conn *conn;

			close(lfd);
			alarm((unsigned)seconds + 5);	/* a bounded harness */
			conn = conn_new(fd, 0);
			smtp_server_run(conn, &scfg, (struct sockaddr *)&peer, NULL);
			conn_free(&conn);
			_exit(0);
		}
		close(fd);
	}
	while (wait(NULL) > 0)
		;
	close(lfd);
	SSL_CTX_free(scfg.tls);
	smtp_server_config_deinit(&scfg);
	free(passwd_path);
	free(fp);
	config_free(&cfg);
	return 0;
}
