/* Open sessions of device logins; see auth.h.  The record is a file per
 * process rather than a list in one file: a process killed without
 * cleaning up leaves a file nobody locks, which the next reader ignores
 * and removes, and no two sessions ever write the same file. */
#include "localmta/auth.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* STATE_DIR/sessions, beside the passwd file.  Malloc'd. */
static char *sessions_dir(const char *passwd_path)
{
	const char *slash = strrchr(passwd_path, '/');

	if (slash == NULL)
		return xstrdup("sessions");
	return xasprintf("%.*s/sessions", (int)(slash - passwd_path), passwd_path);
}

static bool login_exists(const char *passwd_path, const char *name, char **error_r)
{
	char **names;
	size_t n;
	bool found = false;

	if (auth_passwd_list(passwd_path, &names, &n, error_r) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		found = found || strcmp(names[i], name) == 0;
		free(names[i]);
	}
	free(names);
	if (!found) {
		*error_r = xasprintf("the login of %s was removed", name);
		errno = ENOENT;
	}
	return found;
}

int auth_session_begin(const char *passwd_path, const char *name, char **error_r)
{
	char *dir = sessions_dir(passwd_path);
	char *path = xasprintf("%s/%ld", dir, (long)getpid());
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	size_t len = strlen(name);
	int fd = -1;

	*error_r = NULL;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    fcntl(fd, F_SETLK, &lk) < 0 || write(fd, name, len) != (ssize_t)len) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!login_exists(passwd_path, name, error_r))
		goto fail;
	free(path);
	free(dir);
	return fd;
fail:
	if (fd >= 0) {
		unlink(path);
		close(fd);
	}
	free(path);
	free(dir);
	return -1;
}

void auth_session_end(const char *passwd_path, int fd)
{
	if (fd < 0)
		return;
	char *dir = sessions_dir(passwd_path);
	char *path = xasprintf("%s/%ld", dir, (long)getpid());

	unlink(path);
	close(fd);
	free(path);
	free(dir);
}

/* The pid holding the record's lock, 0 when none (a left-over), -1 when
 * the file cannot be read.  *match_r: the record is name's. */
static pid_t record_holder(int dirfd, const char *file, const char *name, bool *match_r)
{
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[AUTH_NAME_MAX + 1];
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	*match_r = n >= 0 && (size_t)n == strlen(name) && memcmp(buf, name, (size_t)n) == 0;
	if (fcntl(fd, F_GETLK, &lk) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return lk.l_type == F_UNLCK ? 0 : lk.l_pid;
}

int auth_sessions_kill(const char *passwd_path, const char *name, char **error_r)
{
	char *dir = sessions_dir(passwd_path);
	DIR *d = opendir(dir);
	struct dirent *de;
	int killed = 0;

	*error_r = NULL;
	if (d == NULL) {
		if (errno != ENOENT)
			*error_r = xasprintf("%s: %s", dir, strerror(errno));
		free(dir);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		bool match = false;
		pid_t pid;

		if (de->d_name[0] == '.')
			continue;
		pid = record_holder(dirfd(d), de->d_name, name, &match);
		if (pid > 0 && match && kill(pid, SIGTERM) == 0)
			killed++;
		if (pid == 0 || (pid > 0 && match))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	free(dir);
	return killed;
}
