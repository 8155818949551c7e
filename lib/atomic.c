#include "lib/atomic.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret, saved;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int fsync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int ret, saved;

	if (slash == NULL)
		return fsync_dir(".");
	if (slash == path)
		return fsync_dir("/");
	dir = xstrndup(path, (size_t)(slash - path));
	ret = fsync_dir(dir);
	saved = errno;
	free(dir);
	errno = saved;
	return ret;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode,
		      const char **error_r)
{
	/* The temporary name is unique per process and call, and lives in the
	 * target's directory so rename() stays within one file system. */
	static unsigned counter;
	char *tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(), counter++);
	int fd, saved;
	const char *step;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		step = "create temporary file";
		goto fail;
	}
	if (write_all(fd, data, len) < 0) {
		step = "write";
		goto fail_fd;
	}
	if (fsync(fd) < 0) {
		step = "fsync";
		goto fail_fd;
	}
	if (close(fd) < 0) {
		fd = -1;
		step = "close";
		goto fail_fd;
	}
	if (rename(tmp, path) < 0) {
		step = "rename";
		fd = -1;
		goto fail_fd;
	}
	free(tmp);
	if (fsync_parent_dir(path) < 0) {
		*error_r = "fsync directory";
		return -1;
	}
	return 0;

fail_fd:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	free(tmp);
	errno = saved;
	*error_r = step;
	return -1;
}
