/* notify: the change notification of a folder — an inotify descriptor on a
 * maildir's new/ and cur/, or on the directory holding an mbox file (an
 * mbox rewrite renames a new file over the old one, which a watch on the
 * file itself would not survive).  Events are not interpreted: readable
 * means "refresh", and a queue overflow (IN_Q_OVERFLOW) is just one more
 * readable event.  The folder's state directory is watched too: a keyword
 * change touches no mail file, but every commit touches STATE/changed
 * after it is durable (data.mdb itself is written before the commit is
 * complete, so a reader woken by it could miss the change). */
#include "store/store-private.h"

#include "store/state.h"

#include "lib/log.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define STORE_MAILDIR_EVENTS \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	 IN_MOVE_SELF | IN_ONLYDIR)
#define STORE_MBOX_EVENTS \
	(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	 IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR)

static int watch(int fd, const char *dir, uint32_t mask)
{
	if (inotify_add_watch(fd, dir, mask) < 0) {
		log_warning("%s: inotify: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int store_folder_notify_fd(struct store_folder *f)
{
	int fd;

	if (f->notify_fd >= 0)
		return f->notify_fd;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		log_warning("%s: inotify_init1: %s", f->path, strerror(errno));
		return -1;
	}
	if (f->kind == STORE_MAILDIR) {
		char *nd = path_join(f->path, "new"), *cd = path_join(f->path, "cur");
		int rc = watch(fd, nd, STORE_MAILDIR_EVENTS) | watch(fd, cd, STORE_MAILDIR_EVENTS);

		free(nd);
		free(cd);
		if (rc < 0)
			goto fail;
	} else {
		char *copy = xstrdup(f->path);
		int rc = watch(fd, dirname(copy), STORE_MBOX_EVENTS);

		free(copy);
		if (rc < 0)
			goto fail;
	}
	if (watch(fd, state_dir(f->state), IN_ATTRIB | IN_CREATE | IN_ONLYDIR) < 0)
		goto fail;
	f->notify_fd = fd;
	return fd;
fail:
	close(fd);
	return -1;
}

void store_notify_drain(struct store_folder *f)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (f->notify_fd < 0)
		return;
	while (read(f->notify_fd, buf, sizeof(buf)) > 0)
		;
}

void store_notify_close(struct store_folder *f)
{
	if (f->notify_fd >= 0)
		close(f->notify_fd);
	f->notify_fd = -1;
}
