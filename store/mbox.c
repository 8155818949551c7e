/* mbox: opening, locking and reading mboxrd files (the From_ lines are in
 * mbox_from.c, scanning in mbox_scan.c, writing in mbox_write.c).
 *
 * Lock order.  mutt (mx_lock_file) takes fcntl, then the dotlock, and drops
 * fcntl when the dotlock is busy; Postfix's local(8) (mbox_open) takes the
 * dotlock first, then fcntl, and defers delivery when either is busy.  We
 * follow mutt, the other program that edits the user's own mbox files, and
 * like both of them never wait for one lock while holding the other, which
 * is what rules out deadlock whatever order the other side uses.  Holding
 * fcntl first also means the stale-dotlock check runs while no cooperating
 * writer can be active. */
#include "store/mbox-private.h"
#include "store/store.h"
#include "lib/atomic.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *mbox_set_error(struct mbox *mb, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(mb->error);
	mb->error = sbuf_detach(&sb, NULL);
	return mb->error;
}

/* ---- opening ---- */

int mbox_open(const char *path, bool create, unsigned lock_timeout_s,
	      struct mbox **mbox_r, const char **error_r)
{
	static _Thread_local char errbuf[1024];
	struct mbox *mb;
	struct stat st;
	bool writable = true;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0 && (errno == EACCES || errno == EROFS)) {
		writable = false;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s", path, strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory, not an mbox file" :
			 "not a regular file");
		close(fd);
		*error_r = errbuf;
		return -1;
	}
	mb = xcalloc(1, sizeof(*mb));
	mb->path = xstrdup(path);
	mb->lock_path = xasprintf("%s.lock", path);
	mb->fd = fd;
	mb->writable = writable;
	mb->lock_timeout = lock_timeout_s;
	*mbox_r = mb;
	return 0;
}

void mbox_close(struct mbox **mboxp)
{
	struct mbox *mb = *mboxp;

	if (mb == NULL)
		return;
	mbox_unlock(mb);
	close(mb->fd);
	free(mb->path);
	free(mb->lock_path);
	free(mb->error);
	free(mb);
	*mboxp = NULL;
}

/* ---- locking ---- */

int mbox_fcntl_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, F_SETLK, &fl);
}

/* 1 taken, 0 busy, -1 error. */
static int try_dotlock(struct mbox *mb)
{
	char pid[32];
	struct stat st;
	int fd = open(mb->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd >= 0) {
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

		(void)write_all(fd, pid, (size_t)n);
		close(fd);
		return 1;
	}
	if (errno != EEXIST)
		return -1;
	/* A dotlock nobody refreshed for 5 minutes is left over from a crash
	 * (mutt's dotlock makes the same call).  We hold the fcntl lock here,
	 * so a cooperating holder of the dotlock would hold that too. */
	if (stat(mb->lock_path, &st) == 0 && time(NULL) - st.st_mtime > DOTLOCK_STALE_S) {
		log_warning("%s: removing stale dotlock", mb->lock_path);
		if (unlink(mb->lock_path) == 0 || errno == ENOENT)
			return try_dotlock(mb);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int mbox_lock(struct mbox *mb, bool exclusive, const char **error_r)
{
	double deadline = now_s() + mb->lock_timeout;
	bool want_dot = exclusive;
	struct sbuf who = SBUF_INIT;
	int ret = -1;

	assert(mb->lock == LOCK_NONE);
	if (exclusive && !mb->writable) {
		*error_r = mbox_set_error(mb, "%s: cannot write: opened read-only", mb->path);
		return -1;
	}
	for (;;) {
		if (mbox_fcntl_lock(mb->fd, exclusive ? F_WRLCK : F_RDLCK) < 0) {
			struct flock fl = { .l_type = exclusive ? F_WRLCK : F_RDLCK,
					    .l_whence = SEEK_SET };

			if (errno != EAGAIN && errno != EACCES) {
				*error_r = mbox_set_error(mb, "%s: fcntl lock: %s", mb->path,
						     strerror(errno));
				goto out;
			}
			sbuf_reset(&who);
			if (fcntl(mb->fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				sbuf_addf(&who, "fcntl lock held by pid %ld", (long)fl.l_pid);
			else
				sbuf_addstr(&who, "fcntl lock");
		} else if (!want_dot) {
			break;
		} else {
			int r = try_dotlock(mb);

			if (r == 1) {
				mb->dotlocked = true;
				break;
			}
			if (r < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
				/* As Postfix does for unprivileged delivery: a
				 * directory we may not write in means no dotlock,
				 * the fcntl lock alone protects the file. */
				log_debug("%s: no dotlock (%s)", mb->lock_path, strerror(errno));
				want_dot = false;
				break;
			}
			int saved = errno;

			/* Never wait for the dotlock while holding fcntl. */
			mbox_fcntl_lock(mb->fd, F_UNLCK);
			if (r < 0) {
				*error_r = mbox_set_error(mb, "%s: cannot create dotlock: %s",
						     mb->lock_path, strerror(saved));
				goto out;
			}
			sbuf_reset(&who);
			sbuf_addf(&who, "dotlock %s", mb->lock_path);
		}
		if (now_s() >= deadline) {
			*error_r = mbox_set_error(mb, "%s: locked by another program (%s); "
					     "gave up after %u s", mb->path, who.buf,
					     mb->lock_timeout);
			goto out;
		}
		nanosleep(&(struct timespec){ 0, LOCK_RETRY_NS }, NULL);
	}
	mb->lock = exclusive ? LOCK_EXCL : LOCK_SHARED;
	ret = 0;
out:
	sbuf_release(&who);
	return ret;
}

void mbox_unlock(struct mbox *mb)
{
	if (mb->lock == LOCK_NONE)
		return;
	/* The dotlock goes first, so that nobody finds the dotlock free
	 * while we still hold the fcntl lock... and then waits on it. */
	if (mb->dotlocked) {
		if (unlink(mb->lock_path) < 0 && errno != ENOENT)
			log_warning("%s: cannot remove dotlock: %s", mb->lock_path,
				    strerror(errno));
		mb->dotlocked = false;
	}
	mbox_fcntl_lock(mb->fd, F_UNLCK);
	mb->lock = LOCK_NONE;
}

/* Takes the lock a call needs unless the caller holds one.  *taken_r
 * tells the caller to unlock when done. */
int mbox_lock_for(struct mbox *mb, bool exclusive, bool *taken_r, const char **error_r)
{
	*taken_r = false;
	if (mb->lock == LOCK_EXCL || (mb->lock == LOCK_SHARED && !exclusive))
		return 0;
	assert(mb->lock == LOCK_NONE);	/* no upgrades from shared */
	if (mbox_lock(mb, exclusive, error_r) < 0)
		return -1;
	*taken_r = true;
	return 0;
}


/* If another program renamed a new file over the path, follow it. */
int mbox_reopen_if_replaced(struct mbox *mb, const char **error_r)
{
	struct stat st, fst;
	int fd;

	if (stat(mb->path, &st) < 0) {
		*error_r = mbox_set_error(mb, "%s: %s", mb->path, strerror(errno));
		return -1;
	}
	if (fstat(mb->fd, &fst) == 0 && st.st_ino == fst.st_ino && st.st_dev == fst.st_dev)
		return 0;
	fd = open(mb->path, (mb->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		*error_r = mbox_set_error(mb, "%s: %s", mb->path, strerror(errno));
		return -1;
	}
	close(mb->fd);
	mb->fd = fd;
	return 0;
}


/* ---- reading ---- */

/* Reads exactly len bytes at off.  0, or -1 (errno; EIO for a short file). */
int mbox_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the bytes [off, off+len) into buf (replacing its content). */
int mbox_read_range(struct mbox *mb, uint64_t off, uint64_t len, struct sbuf *buf,
		      const char **error_r)
{
	struct stat st;

	if (fstat(mb->fd, &st) < 0 || off + len > (uint64_t)st.st_size || len > SIZE_MAX / 2) {
		*error_r = mbox_set_error(mb, "%s: the file changed since it was scanned "
				     "(rescan)", mb->path);
		return -1;
	}
	sbuf_reset(buf);
	for (uint64_t i = 0; i < len; ) {
		char chunk[65536];
		size_t n = len - i < sizeof(chunk) ? (size_t)(len - i) : sizeof(chunk);

		if (mbox_pread_all(mb->fd, chunk, n, off + i) < 0) {
			*error_r = mbox_set_error(mb, "%s: read: %s", mb->path, strerror(errno));
			return -1;
		}
		sbuf_add(buf, chunk, n);
		i += n;
	}
	return 0;
}

int mbox_check_from_line(struct mbox *mb, const struct mbox_entry *e, const char **error_r)
{
	char head[5];

	if (e->offset < e->from_offset + 5 ||
	    mbox_pread_all(mb->fd, head, 5, e->from_offset) < 0 || memcmp(head, "From ", 5) != 0) {
		*error_r = mbox_set_error(mb, "%s: no message at offset %" PRIu64 " any more: the "
				     "file changed since it was scanned (rescan)", mb->path,
				     e->from_offset);
		return -1;
	}
	return 0;
}

int mbox_read(struct mbox *mb, const struct mbox_entry *e, struct sbuf *out,
	      const char **error_r)
{
	struct sbuf raw = SBUF_INIT;
	bool taken;
	int ret = -1;

	if (mbox_lock_for(mb, false, &taken, error_r) < 0)
		return -1;
	if (mbox_check_from_line(mb, e, error_r) < 0 ||
	    mbox_read_range(mb, e->offset, e->length, &raw, error_r) < 0)
		goto out;
	mbox_unquote(raw.buf, raw.len, out);
	ret = 0;
out:
	if (taken)
		mbox_unlock(mb);
	sbuf_release(&raw);
	return ret;
}


bool mbox_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}


int mbox_changed(struct mbox *mb, bool *changed_r, const char **error_r)
{
	struct stat st;

	if (!mb->scanned) {
		*changed_r = true;
		return 0;
	}
	if (stat(mb->path, &st) < 0) {
		if (errno != ENOENT) {
			*error_r = mbox_set_error(mb, "%s: %s", mb->path, strerror(errno));
			return -1;
		}
		*changed_r = true;
		return 0;
	}
	*changed_r = !mbox_same_file(&st, &mb->scan_st);
	return 0;
}
