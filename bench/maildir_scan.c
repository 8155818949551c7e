/* bench/maildir_scan: times maildir_scan() on a big maildir beside the floor
 * it is measured against (readdir + stat of every file), in one run.
 *
 *   gcc -std=c11 -D_GNU_SOURCE -I. -O2 -o /tmp/bench_maildir_scan \
 *       bench/maildir_scan.c store/maildir*.c lib/xalloc.c lib/log.c \
 *       lib/atomic.c lib/path.c lib/sbuf.c
 *   /tmp/bench_maildir_scan DIR [ROUNDS]
 *
 * Prints "bench: maildir_scan ..." lines; the best of ROUNDS (default 5),
 * warm cache (one untimed round first). */
#include "store/maildir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The floor: what any reader that stats every file must pay. */
static size_t readdir_stat(const char *path)
{
	static const char *const subs[] = { "new", "cur" };
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		char dir[4096];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%s/%s", path, subs[i]);
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			struct stat st;

			if (de->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(d), de->d_name, &st, 0) == 0)
				n++;
		}
		closedir(d);
	}
	return n;
}

static size_t readdir_only(const char *path)
{
	static const char *const subs[] = { "new", "cur" };
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		char dir[4096];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%s/%s", path, subs[i]);
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/md100k", *err;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double best[4] = { 1e9, 1e9, 1e9, 1e9 };
	size_t counts[4] = { 0 };
	size_t from_name = 0;

	for (int r = 0; r <= rounds; r++) {
		for (int k = 0; k < 4; k++) {
			struct maildir_scan *scan;
			double t0 = now_ms(), dt;

			if (k == 0 || k == 1) {
				if (maildir_scan(path, k == 1 ? MAILDIR_SCAN_STAT : 0,
						 &scan, &err) < 0) {
					fprintf(stderr, "bench: %s\n", err);
					return 1;
				}
				counts[k] = scan->count;
				if (k == 0) {
					from_name = 0;
					for (size_t i = 0; i < scan->count; i++)
						if (scan->entries[i].source & MAILDIR_SIZE_FROM_NAME)
							from_name++;
				}
				dt = now_ms() - t0;
				maildir_scan_free(&scan);
			} else if (k == 2) {
				counts[k] = readdir_stat(path);
				dt = now_ms() - t0;
			} else {
				counts[k] = readdir_only(path);
				dt = now_ms() - t0;
			}
			if (r > 0 && dt < best[k])
				best[k] = dt;
		}
	}
	printf("bench: maildir_scan %zu files (%zu sized by name): %.1f ms\n",
	       counts[0], from_name, best[0]);
	printf("bench: maildir_scan MAILDIR_SCAN_STAT %zu files: %.1f ms\n",
	       counts[1], best[1]);
	printf("bench: floor readdir+stat %zu files: %.1f ms\n", counts[2], best[2]);
	printf("bench: readdir only %zu files: %.1f ms\n", counts[3], best[3]);
	return 0;
}
