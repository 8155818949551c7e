/* The floor for bench/deliver.sh: what one delivery into a maildir costs at
 * the level of raw system calls, in ONE process (no exec, no library start,
 * no parsing): for each message file named on the list, read it, then
 * open tmp/NAME, write, fsync, close, rename to new/NAME.  With -d, also
 * fsync new/ after every rename (what loft does and the usual peers do not).
 *
 *   floor_deliver [-d] MAILDIR LISTFILE
 * prints "floor N messages S s R msg/s" on stdout; exit 1 on any error.
 * Built by bench/deliver.sh with cc; not part of loft. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *path)
{
	fprintf(stderr, "floor_deliver: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int dirsync = 0, c;

	while ((c = getopt(argc, argv, "d")) != -1) {
		if (c != 'd')
			return 2;
		dirsync = 1;
	}
	if (argc - optind != 2) {
		fputs("usage: floor_deliver [-d] MAILDIR LISTFILE\n", stderr);
		return 2;
	}
	const char *dir = argv[optind];
	FILE *list = fopen(argv[optind + 1], "r");
	if (list == NULL)
		die("open", argv[optind + 1]);

	char tmpdir[2048], newdir[2048], tmp[4096], dst[4096], host[256];
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir);
	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	int newfd = open(newdir, O_RDONLY | O_DIRECTORY);
	if (newfd < 0)
		die("open", newdir);

	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap), *line = NULL;
	size_t linecap = 0;
	ssize_t ll;
	double t0 = now();
	while ((ll = getline(&line, &linecap, list)) > 0) {
		if (line[ll - 1] == '\n')
			line[--ll] = '\0';
		if (ll == 0)
			continue;
		/* read the message (from the page cache) */
		int in = open(line, O_RDONLY);
		if (in < 0)
			die("open", line);
		size_t len = 0;
		for (;;) {
			if (len == cap && (buf = realloc(buf, cap *= 2)) == NULL)
				die("realloc", line);
			ssize_t r = read(in, buf + len, cap - len);
			if (r < 0)
				die("read", line);
			if (r == 0)
				break;
			len += (size_t)r;
		}
		close(in);

		snprintf(tmp, sizeof(tmp), "%s/%lld.P%dQ%zu.%s", tmpdir, (long long)time(NULL),
			 (int)getpid(), n, host);
		snprintf(dst, sizeof(dst), "%s/%lld.P%dQ%zu.%s", newdir, (long long)time(NULL),
			 (int)getpid(), n, host);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die("create", tmp);
		for (size_t off = 0; off < len;) {
			ssize_t w = write(fd, buf + off, len - off);
			if (w < 0)
				die("write", tmp);
			off += (size_t)w;
		}
		if (fsync(fd) < 0)
			die("fsync", tmp);
		if (close(fd) < 0)
			die("close", tmp);
		if (rename(tmp, dst) < 0)
			die("rename", tmp);
		if (dirsync && fsync(newfd) < 0)
			die("fsync", newdir);
		n++;
	}
	double t = now() - t0;
	printf("floor %zu messages %.4f s %.1f msg/s\n", n, t, t > 0 ? (double)n / t : 0.0);
	free(buf);
	free(line);
	fclose(list);
	close(newfd);
	return 0;
}
