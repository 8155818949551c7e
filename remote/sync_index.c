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
 * after the names already sent.
 *
 * Flag changes from the server, made here before any download, go to the
 * index as the store makes them: the parent opens the writer and, through
 * the store's flags hook, has notmuch rename each file (index_flag_rename),
 * so that the catch-up finds it known.  The writer is closed before the
 * child opens its own; after that, flag renames are the catch-up's. */
#include "remote/sync-private.h"
#include "store/index.h"
#include "store/store.h"
#include "lib/crash.h"
#include "lib/sbuf.h"
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
	/* Names the child has not taken yet: the parent never waits on a
	 * child busy in a Xapian commit (seconds at a time, the longer the
	 * bigger the index), it queues them here.  At most the names of one
	 * sync (some 100 bytes a message). */
	struct sbuf queue;
	size_t sent;			/* bytes of queue already sent */
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

struct sync_indexer *sync_indexer_start(struct sync_ctx *ctx)
{
	struct sync_indexer *x;
	int sv[2];
	pid_t pid;

	/* One writer at a time: the child's open would wait for ours. */
	sync_index_release(ctx);
	ctx->flag_index_off = true;
	if (ctx->index_root == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0)
			_exit(1);
		child_run(ctx->index_root, ctx->index_db);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return NULL;
	}
	x = xcalloc(1, sizeof(*x));
	x->pid = pid;
	x->fd = sv[0];
	x->queue = (struct sbuf)SBUF_INIT;
	return x;
}

/* Sends the queued names the socket takes now, or (wait) all of them.
 * A child gone closes the socket: the final scan does the rest. */
static void flush_queue(struct sync_indexer *x, bool wait)
{
	while (x->fd >= 0 && x->sent < x->queue.len) {
		ssize_t w = send(x->fd, x->queue.buf + x->sent, x->queue.len - x->sent,
				 MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			close(x->fd);
			x->fd = -1;
			break;
		}
		x->sent += (size_t)w;
	}
	if (x->fd < 0 || x->sent == x->queue.len) {
		sbuf_reset(&x->queue);
		x->sent = 0;
	} else if (x->sent > x->queue.len / 2) {
		/* Moved down once half is sent: each byte moves O(1) times. */
		memmove(x->queue.buf, x->queue.buf + x->sent, x->queue.len - x->sent);
		sbuf_setlen(&x->queue, x->queue.len - x->sent);
		x->sent = 0;
	}
}

void sync_indexer_add(struct sync_indexer *x, const char *dir, const char *location)
{
	if (x == NULL || x->fd < 0)
		return;
	sbuf_addf(&x->queue, "%s/%s\n", dir, location);
	flush_queue(x, false);
}

void sync_indexer_finish(struct sync_indexer **xp)
{
	struct sync_indexer *x = *xp;
	char c;

	if (x == NULL)
		return;
	/* The child's end of file; its exit (its commit done) is the end of
	 * ours, whoever reaps it. */
	flush_queue(x, true);
	if (x->fd >= 0) {
		shutdown(x->fd, SHUT_WR);
		while (read(x->fd, &c, 1) < 0 && errno == EINTR)
			;
		close(x->fd);
	}
	while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
		;
	sbuf_release(&x->queue);
	free(x);
	*xp = NULL;
}

/* The store's flags hook: path is about to get flags. */
static void flag_renamed(void *arg, const char *path, uint32_t flags)
{
	struct sync_ctx *ctx = arg;
	const char *err;
	char *renamed = NULL;
	int r;

	if (ctx->flag_index_off || ctx->flag_index == NULL)
		return;
	r = index_flag_rename(ctx->flag_index, path, flags, &renamed, &err);
	free(renamed);
	if (r > 0)
		crash_point("sync:flag-index-renamed");
	/* A database error: no more of it this run (the catch-up meets it
	 * again and says so). */
	if (r < 0)
		ctx->flag_index_off = true;
}

void sync_index_flags(struct sync_run *run, bool on)
{
	struct sync_ctx *ctx = run->ctx;
	const char *err;

	if (!on) {
		store_folder_set_flags_hook(run->f, NULL, NULL);
		return;
	}
	if (ctx->flag_index_off || ctx->index_root == NULL)
		return;
	/* Opened here, before the store's transaction: a writer of the
	 * index takes the store's locks after its own (tag_sync), so the
	 * other order could wait for ever. */
	if (ctx->flag_index == NULL &&
	    index_open(ctx->index_root, ctx->index_db, true, &ctx->flag_index, &err) < 0) {
		ctx->flag_index_off = true;
		return;
	}
	store_folder_set_flags_hook(run->f, flag_renamed, ctx);
}

void sync_index_release(struct sync_ctx *ctx)
{
	index_close(&ctx->flag_index);
}
