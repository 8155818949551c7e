/* mbox: appending messages and rewriting the file (flags, expunges). */
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

/* ---- writing ---- */

/* Status/X-Status as mutt writes them, plus Dovecot's T and D. */
static void add_status_headers(struct sbuf *out, uint32_t flags, const char *eol)
{
	char st[3], x[5];
	size_t n = 0, m = 0;

	if (flags & STORE_SEEN)
		st[n++] = 'R';
	if (!(flags & STORE_RECENT))
		st[n++] = 'O';
	if (flags & STORE_ANSWERED)
		x[m++] = 'A';
	if (flags & STORE_FLAGGED)
		x[m++] = 'F';
	if (flags & STORE_DRAFT)
		x[m++] = 'T';
	if (flags & STORE_DELETED)
		x[m++] = 'D';
	if (n > 0)
		sbuf_addf(out, "Status: %.*s%s", (int)n, st, eol);
	if (m > 0)
		sbuf_addf(out, "X-Status: %.*s%s", (int)m, x, eol);
}

/* Appends msg to out with its Status/X-Status headers replaced by flags'
 * (added at the end of the header), quoted when quote is set, ending in a
 * newline.  The new headers use the message's own line ending. */
static void put_message(struct sbuf *out, const char *msg, size_t len, bool quote,
			uint32_t flags)
{
	const char *p = msg, *end = msg + len, *eol = "\n";
	size_t first = mbox_line_len(p, end), start = out->len;
	bool in_headers = true, skipping = false;

	if (first >= 2 && p[first - 1] == '\n' && p[first - 2] == '\r')
		eol = "\r\n";
	while (p < end) {
		size_t n = mbox_line_len(p, end);

		if (in_headers) {
			if ((n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n')) {
				add_status_headers(out, flags, eol);
				in_headers = false;
			} else if (p[0] == ' ' || p[0] == '\t') {
				if (skipping) {
					p += n;
					continue;
				}
			} else {
				skipping = mbox_header_is(p, n, "Status") || mbox_header_is(p, n, "X-Status");
				if (skipping) {
					p += n;
					continue;
				}
			}
		}
		if (quote && mbox_from_quote_depth(p, n) >= 0)
			sbuf_addch(out, '>');
		sbuf_add(out, p, n);
		p += n;
	}
	if (out->len > start && out->buf[out->len - 1] != '\n')
		sbuf_addstr(out, eol);
	if (in_headers)
		add_status_headers(out, flags, eol);
}


int mbox_append(struct mbox *mb, const void *data, size_t len, const char *sender,
		int64_t date, uint32_t flags, uint64_t *offset_r, const char **error_r)
{
	struct sbuf buf = SBUF_INIT;
	struct stat st;
	const char *step = NULL;
	bool taken;
	int ret = -1, saved = 0;

	if (mbox_lock_for(mb, true, &taken, error_r) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0) {
		*error_r = mbox_set_error(mb, "%s: %s", mb->path, strerror(errno));
		goto out;
	}
	/* The previous message must end in a blank line, or our From_ line
	 * would not start a message. */
	if (st.st_size > 0) {
		char tail[3] = { 0 };
		size_t n = st.st_size >= 3 ? 3 : (size_t)st.st_size;

		if (mbox_pread_all(mb->fd, tail + 3 - n, n, (uint64_t)st.st_size - n) < 0) {
			*error_r = mbox_set_error(mb, "%s: read: %s", mb->path, strerror(errno));
			goto out;
		}
		if (tail[2] != '\n')
			sbuf_addstr(&buf, "\n\n");
		else if (tail[1] != '\n' && !(tail[1] == '\r' && tail[0] == '\n'))
			sbuf_addch(&buf, '\n');
	}
	if (offset_r != NULL)
		*offset_r = (uint64_t)st.st_size + buf.len;
	mbox_add_from_line(&buf, sender, date);
	put_message(&buf, data, len, true, flags);
	sbuf_addch(&buf, '\n');

	if (lseek(mb->fd, st.st_size, SEEK_SET) < 0)
		step = "seek";
	else if (write_all(mb->fd, buf.buf, buf.len) < 0)
		step = "write";
	else if (fsync(mb->fd) < 0)
		step = "fsync";
	if (step == NULL) {
		ret = 0;
		goto out;
	}
	saved = errno;
	/* All or nothing: cut off whatever part of the message got in. */
	if (ftruncate(mb->fd, st.st_size) < 0 || fsync(mb->fd) < 0)
		*error_r = mbox_set_error(mb, "%s: append failed (%s: %s), and truncating back "
				     "to %lld bytes failed too: %s", mb->path, step,
				     strerror(saved), (long long)st.st_size, strerror(errno));
	else
		*error_r = mbox_set_error(mb, "%s: append failed (%s: %s); the mailbox is "
				     "unchanged", mb->path, step, strerror(saved));
out:
	if (taken)
		mbox_unlock(mb);
	sbuf_release(&buf);
	return ret;
}


int mbox_rewrite(struct mbox *mb, const struct mbox_entry *entries, size_t n,
		 const bool *keep, const uint32_t *new_flags, const char **error_r)
{
	struct sbuf out = SBUF_INIT, msg = SBUF_INIT;
	struct stat st;
	char *tmp = NULL;
	int tfd = -1, ret = -1;
	bool taken;

	if (mbox_lock_for(mb, true, &taken, error_r) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0) {
		*error_r = mbox_set_error(mb, "%s: %s", mb->path, strerror(errno));
		goto out;
	}
	if (!mb->scanned || !mbox_same_file(&st, &mb->scan_st)) {
		*error_r = mbox_set_error(mb, "%s: the file changed since it was scanned "
				     "(rescan, then try again)", mb->path);
		goto out;
	}
	tmp = xasprintf("%s.loft-tmp.%ld", mb->path, (long)getpid());
	(void)unlink(tmp);	/* left over by a crashed process with our pid */
	tfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (tfd < 0) {
		*error_r = mbox_set_error(mb, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	/* Keep the original's mode and, where we may, its owner. */
	if (fchmod(tfd, st.st_mode & 07777) < 0) {
		*error_r = mbox_set_error(mb, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fchown(tfd, st.st_uid, st.st_gid) < 0)
		log_debug("%s: chown: %s", tmp, strerror(errno));

	for (size_t i = 0; i < n; i++) {
		const struct mbox_entry *e = &entries[i];
		uint64_t from_len = e->offset - e->from_offset;

		if (keep != NULL && !keep[i])
			continue;
		if (e->offset < e->from_offset || mbox_check_from_line(mb, e, error_r) < 0 ||
		    mbox_read_range(mb, e->from_offset, from_len + e->length, &msg, error_r) < 0)
			goto fail;
		sbuf_add(&out, msg.buf, (size_t)from_len);
		if (new_flags != NULL && new_flags[i] != e->flags) {
			put_message(&out, msg.buf + from_len, msg.len - from_len, false,
				    new_flags[i]);
		} else {
			sbuf_add(&out, msg.buf + from_len, msg.len - from_len);
			if (msg.len > from_len && out.buf[out.len - 1] != '\n')
				sbuf_addch(&out, '\n');
		}
		sbuf_addch(&out, '\n');
		if (out.len >= BLOCK_SIZE) {
			if (write_all(tfd, out.buf, out.len) < 0) {
				*error_r = mbox_set_error(mb, "%s: write: %s", tmp, strerror(errno));
				goto fail;
			}
			sbuf_reset(&out);
		}
	}
	if (write_all(tfd, out.buf, out.len) < 0 || fsync(tfd) < 0) {
		*error_r = mbox_set_error(mb, "%s: write: %s", tmp, strerror(errno));
		goto fail;
	}
	/* Lock the new file before it becomes visible; the dotlock (same
	 * name) stays ours throughout. */
	if (mbox_fcntl_lock(tfd, F_WRLCK) < 0)
		log_debug("%s: fcntl lock: %s", tmp, strerror(errno));
	if (rename(tmp, mb->path) < 0) {
		*error_r = mbox_set_error(mb, "%s: rename to %s: %s", tmp, mb->path, strerror(errno));
		goto fail;
	}
	if (fsync_parent_dir(mb->path) < 0)
		log_warning("%s: fsync of the directory: %s", mb->path, strerror(errno));
	close(mb->fd);
	mb->fd = tfd;
	tfd = -1;
	ret = 0;
	goto out;
fail:
	close(tfd);
	tfd = -1;
	unlink(tmp);
out:
	if (taken)
		mbox_unlock(mb);
	free(tmp);
	sbuf_release(&out);
	sbuf_release(&msg);
	return ret;
}

