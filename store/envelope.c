/* envelope: the ENVELOPE cache's source — computed once per message, when it
 * first gets a UID, from its header block only.
 *
 * A first open of a big folder spends most of its time here (open, read
 * the first few KiB, parse with GMime, format), so the work is split over
 * two threads: GMime may parse different messages on different threads
 * once message_init() has run (store_open() runs it). */
#include "store/store-private.h"

#include "store/message.h"

#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Below this many messages a second thread costs more than it saves. */
#define STORE_ENV_THREAD_MIN 256
/* The first read; most header blocks fit. */
#define STORE_ENV_FIRST_READ (16 * 1024)

/* Length of the header block including the empty line that ends it, or
 * len when there is none in data. */
static size_t header_end(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			return len;
		/* An empty line: "\n" or "\r\n" right after a newline. */
		if (nl == p || (nl == p + 1 && p[0] == '\r'))
			return (size_t)(nl + 1 - data);
		p = nl + 1;
	}
	return len;
}

char *store_envelope_of(const char *data, size_t len)
{
	const char *err;
	struct message *msg;
	struct sbuf out = SBUF_INIT;

	if (len > STORE_HEADER_MAX)
		len = STORE_HEADER_MAX;
	len = header_end(data, len);
	if (len == 0)
		return NULL;
	msg = message_parse(data, len, NULL, &err);
	if (msg == NULL)
		return NULL;
	message_imap_envelope(msg, &out);
	message_free(&msg);
	return sbuf_detach(&out, NULL);
}

char *store_envelope_file(const char *path, uint64_t *size_r, int64_t *mtime_r)
{
	struct stat st;
	char *buf = NULL, *env = NULL;
	size_t alloc = STORE_ENV_FIRST_READ, have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	*size_r = (uint64_t)st.st_size;
	*mtime_r = (int64_t)st.st_mtime;
	buf = xmalloc(alloc);
	for (;;) {
		ssize_t n = read(fd, buf + have, alloc - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (header_end(buf, have) < have || have == STORE_HEADER_MAX)
			break;
		if (have == alloc) {
			alloc = alloc * 4 > STORE_HEADER_MAX ? STORE_HEADER_MAX : alloc * 4;
			buf = xreallocarray(buf, alloc, 1);
		}
	}
	if (have > 0)
		env = store_envelope_of(buf, have);
out:
	free(buf);
	close(fd);
	return env;
}

struct env_worker {
	const char *folder_path;
	struct store_env_job *jobs;
	size_t n;
};

static void *env_work(void *arg)
{
	struct env_worker *w = arg;
	size_t plen = strlen(w->folder_path);
	char path[4096];

	for (size_t i = 0; i < w->n; i++) {
		struct store_env_job *j = &w->jobs[i];
		size_t llen = strlen(j->location);

		if (plen + 1 + llen + 1 > sizeof(path)) {
			j->envelope = NULL;
			continue;
		}
		memcpy(path, w->folder_path, plen);
		path[plen] = '/';
		memcpy(path + plen + 1, j->location, llen + 1);
		j->envelope = store_envelope_file(path, &j->size, &j->date);
	}
	return NULL;
}

void store_envelope_jobs(const char *folder_path, struct store_env_job *jobs, size_t n)
{
	struct env_worker a = { folder_path, jobs, n }, b;
	pthread_t thread;

	if (n < STORE_ENV_THREAD_MIN || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		env_work(&a);
		return;
	}
	/* Interleaved halves would share cache lines; split in two blocks. */
	a.n = n / 2;
	b = (struct env_worker){ folder_path, jobs + a.n, n - a.n };
	if (pthread_create(&thread, NULL, env_work, &b) != 0) {
		a.n = n;
		env_work(&a);
		return;
	}
	env_work(&a);
	pthread_join(thread, NULL);
}
