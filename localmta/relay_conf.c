/* The relay's settings: the smarthost URL (lib/smtp_url.c) and the
 * password command. */
#include "localmta/relay-private.h"
#include "lib/sbuf.h"
#include "lib/smtp_url.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int relay_parse_url(const char *url, enum relay_tls *tls_r, char **host_r, char **hostport_r,
		    const char **error_r)
{
	enum smtp_url_tls t;

	if (smtp_url_parse(url, &t, host_r, hostport_r, error_r) < 0)
		return -1;
	*tls_r = t == SMTP_URL_STARTTLS ? RELAY_STARTTLS :
		 t == SMTP_URL_IMPLICIT_TLS ? RELAY_IMPLICIT_TLS : RELAY_PLAIN;
	return 0;
}

/* Why a fork of /bin/sh and not popen(): the timeout needs the pid, and
 * a hung `pass` (gpg-agent asking for a passphrase nowhere) must be killed
 * rather than hang the queue runner. */
int relay_password_command(const char *cmd, int timeout_s, char **pw_r, char **error_r)
{
	struct sbuf out = SBUF_INIT;
	struct timespec start;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		*error_r = xasprintf("smarthost_password_command: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		*error_r = xasprintf("smarthost_password_command: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec now;
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		char buf[512];
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (long)timeout_s * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
						       (now.tv_nsec - start.tv_nsec) / 1000000);

		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(p[0]);
			sbuf_release(&out);
			*error_r = xasprintf("smarthost_password_command timed out after %d s", timeout_s);
			return -1;
		}
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len < 64 * 1024)
			sbuf_add(&out, buf, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*error_r = xasprintf("smarthost_password_command failed (status %d)",
				     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		sbuf_release(&out);
		return -1;
	}
	size_t len = strcspn(out.buf, "\r\n");

	if (len == 0) {
		*error_r = xstrdup("smarthost_password_command printed no password");
		sbuf_release(&out);
		return -1;
	}
	*pw_r = xstrndup(out.buf, len);
	explicit_bzero(out.buf, out.len);
	sbuf_release(&out);
	return 0;
}
