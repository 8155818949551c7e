/* secret_cmd: see secret_cmd.h. */
#include "lib/secret_cmd.h"
#include "lib/sbuf.h"
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

/* Why a fork of /bin/sh and not popen(): the timeout needs the pid, and
 * a hung `pass` (gpg-agent asking for a passphrase nowhere) must be killed
 * rather than hang the queue runner. */
int secret_cmd_run(const char *setting, const char *cmd, int timeout_s, char **secret_r,
		   char **error_r)
{
	struct sbuf out = SBUF_INIT;
	struct timespec start;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		*error_r = xasprintf("%s: pipe: %s", setting, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		*error_r = xasprintf("%s: fork: %s", setting, strerror(errno));
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
			*error_r = xasprintf("%s timed out after %d s", setting, timeout_s);
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
		*error_r = xasprintf("%s failed (status %d)", setting,
				     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		sbuf_release(&out);
		return -1;
	}
	size_t len = strcspn(out.buf, "\r\n");

	if (len == 0) {
		*error_r = xasprintf("%s printed nothing", setting);
		sbuf_release(&out);
		return -1;
	}
	*secret_r = xstrndup(out.buf, len);
	explicit_bzero(out.buf, out.len);
	sbuf_release(&out);
	return 0;
}
