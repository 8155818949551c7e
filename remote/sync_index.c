/* Indexing beside the download (remote/sync-private.h says what for).
 *
 * A child process, forked at the first stored batch, owns the notmuch
 * writer and indexes the files whose names reach it over a socket, while
 * the parent goes on fetching, writing and fsyncing: on two cores the
 * indexing (GMime and Xapian, CPU) and the download (waits on the server
 * and on fsync) overlap instead of running one after the other.
 *
 * The child is only a head start: the sync still ends with the catch-up
 * scan, which finds these files known (a listing and no parsing) and
 * indexes whatever the child did not (a file renamed or expunged before
 * the child reached it, a child that failed or was never started).  So
 * nothing here decides what is stored or indexed in the end, and a
 * failure here is silent.  The child closes every inherited descriptor but
 * its socket (stdin, stdout and stderr become /dev/null): it must not hold
 * the account's sync lock, the store's locks or the caller's pipes after
 * the parent is gone (killed), and it ends at the socket's end of file,
 * after the names already sent. */
#include "remote/sync-private.h"
#include "store/index.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct sync_indexer {
	pid_t pid;
	int fd;
};

/* The child: indexes each line read from fd 3, then commits and exits. */
static void child_run(const char *root, const char *db_dir)
{
	struct index *ix = NULL;
	const char *err;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *in;

	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Not the parent's stdout either: a caller reading it to its end
	 * (a shell's $(...)) would wait for this child after a kill. */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    close_range(4, ~0U, 0) < 0 || (in = fdopen(3, "r")) == NULL ||
	    index_open(root, db_dir, true, &ix, &err) < 0)
		_exit(1);
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] != '\n')
			break;	/* cut short: the parent died mid-name */
		line[n - 1] = '\0';
		if (index_add_new_file(ix, line, &err) < 0)
			break;
	}
	index_close(&ix);	/* commits */
	_exit(0);
}

struct sync_indexer *sync_indexer_start(const char *root, const char *db_dir)
{
	struct sync_indexer *x;
	int sv[2];
	pid_t pid;

	if (root == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	/* Room for a few thousand names: the parent blocks only when the
	 * child is that far behind. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	pid = fork();
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0)
			_exit(1);
		child_run(root, db_dir);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return NULL;
	}
	x = xcalloc(1, sizeof(*x));
	x->pid = pid;
	x->fd = sv[0];
	return x;
}

void sync_indexer_add(struct sync_indexer *x, const char *dir, const char *location)
{
	char *line;
	size_t len, off = 0;

	if (x == NULL || x->fd < 0)
		return;
	line = xasprintf("%s/%s\n", dir, location);
	len = strlen(line);
	while (off < len) {
		ssize_t w = send(x->fd, line + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* The child is gone: the final scan does the rest. */
			close(x->fd);
			x->fd = -1;
			break;
		}
		off += (size_t)w;
	}
	free(line);
}

void sync_indexer_finish(struct sync_indexer **xp)
{
	struct sync_indexer *x = *xp;
	char c;

	if (x == NULL)
		return;
	/* The child's end of file; its exit (its commit done) is the end of
	 * ours, whoever reaps it. */
	if (x->fd >= 0) {
		shutdown(x->fd, SHUT_WR);
		while (read(x->fd, &c, 1) < 0 && errno == EINTR)
			;
		close(x->fd);
	}
	while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(x);
	*xp = NULL;
}
