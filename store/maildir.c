/* maildir: folders, delivery, flag renames, copies, tmp/ cleaning. */
#include "store/maildir.h"
#include "store/maildir-private.h"

#include "lib/atomic.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_ATTEMPTS 4

/* The name part of a location, or NULL when it is not "cur/X" or "new/X". */
static const char *location_name(const char *location)
{
	if ((strncmp(location, "cur/", 4) != 0 && strncmp(location, "new/", 4) != 0) ||
	    location[4] == '\0' || strchr(location + 4, '/') != NULL)
		return NULL;
	return location + 4;
}

/* ---- folders ---- */

bool maildir_is_maildir(const char *path)
{
	static const char *const subs[] = { "cur", "new" };

	for (size_t i = 0; i < 2; i++) {
		char *p = path_join(path, subs[i]);
		struct stat st;
		int ret = stat(p, &st);

		free(p);
		if (ret < 0 || !S_ISDIR(st.st_mode))
			return false;
	}
	return true;
}

static int mkdir_p(char *path, const char **error_r)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			maildir_fail(error_r, errno, "mkdir %s", path);
			*p = saved;
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

int maildir_create(const char *path, const char **error_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char *p = xstrdup(path);
	int ret = mkdir_p(p, error_r);

	free(p);
	for (size_t i = 0; i < 3 && ret == 0; i++) {
		p = path_join(path, subs[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ret = maildir_fail(error_r, errno, "mkdir %s", p);
		free(p);
	}
	return ret;
}

/* ---- writing ---- */

/* Creates tmp/UNIQUE,S=size with O_EXCL.  *name_r gets the name (without
 * "tmp/"), *tmp_r the path (caller frees).  A missing tmp/ is created. */
static int open_tmp(const char *path, uint64_t size, char name_r[MAILDIR_NAME_SIZE],
		    char **tmp_r, const char **error_r)
{
	bool made_tmp = false;

	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		int n = maildir_unique_name(name_r, MAILDIR_NAME_SIZE - 32);
		char *tmp;
		int fd;

		if (n < 0)
			return maildir_fail(error_r, errno, "%s: unique name", path);
		snprintf(name_r + n, MAILDIR_NAME_SIZE - (size_t)n, ",S=%llu",
			 (unsigned long long)size);
		tmp = xasprintf("%s/tmp/%s", path, name_r);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*tmp_r = tmp;
			return fd;
		}
		if (errno == ENOENT && !made_tmp) {
			char *dir = path_join(path, "tmp");

			made_tmp = true;
			if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
				free(dir);
				free(tmp);
				continue;
			}
			errno = ENOENT;
			free(dir);
		}
		if (errno != EEXIST) {
			maildir_fail(error_r, errno, "%s", tmp);
			free(tmp);
			return -1;
		}
		free(tmp);
	}
	return maildir_fail(error_r, EEXIST, "%s/tmp: no unique name", path);
}

/* Where a message with these flags goes: new/NAME or cur/NAME:2,LETTERS. */
static int target_location(const char *name, uint32_t flags, const char *extra,
			   bool to_new, char sep, char **location_r,
			   const char **error_r)
{
	char buf[MAILDIR_NAME_SIZE];

	if (to_new) {
		*location_r = xasprintf("new/%s", name);
		return 0;
	}
	if (maildir_format_name(name, flags, extra, sep, buf, sizeof(buf)) < 0)
		return maildir_fail(error_r, errno, "%s: bad flags or extra letters \"%s\"",
				    name, extra ? extra : "");
	*location_r = xasprintf("cur/%s", buf);
	return 0;
}

static bool wants_new(uint32_t flags, const char *extra)
{
	return (flags & MAILDIR_NAME_FLAGS) == 0 && (extra == NULL || *extra == '\0');
}

/* Renames tmp into place without ever replacing a file, then (sync_dir)
 * makes the rename durable.  errno ENOENT / EEXIST tell the caller to
 * start over. */
static int publish(const char *path, const char *tmp, const char *location, bool sync_dir,
		   const char **error_r)
{
	char *dest = path_join(path, location);
	int ret = renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE);

	if (ret < 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* File systems without RENAME_NOREPLACE: the spec's link
		 * then unlink, which also refuses to replace. */
		ret = link(tmp, dest);
		if (ret == 0)
			unlink(tmp);
	}
	if (ret < 0) {
		maildir_fail(error_r, errno, "rename %s to %s", tmp, dest);
		free(dest);
		return -1;
	}
	if (sync_dir && fsync_parent_dir(dest) < 0) {
		maildir_fail(error_r, errno, "fsync of the directory of %s", dest);
		free(dest);
		return -1;
	}
	free(dest);
	return 0;
}

static int write_and_stamp(int fd, const void *data, size_t len, int64_t mtime)
{
	if (write_all(fd, data, len) < 0)
		return -1;
	if (mtime > 0) {
		struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };

		if (futimens(fd, ts) < 0)
			return -1;
	}
	return 0;
}

int maildir_write_tmp_unsynced(const char *path, const void *data, size_t len, int64_t mtime,
			       struct maildir_tmp *t, int *fd_r, const char **error_r)
{
	int fd = open_tmp(path, len, t->name, &t->path, error_r);

	if (fd < 0) {
		t->path = NULL;
		return -1;
	}
	if (write_and_stamp(fd, data, len, mtime) < 0) {
		maildir_fail(error_r, errno, "%s", t->path);
		close(fd);
		maildir_tmp_discard(t);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int maildir_write_tmp(const char *path, const void *data, size_t len, int64_t mtime,
		      struct maildir_tmp *t, const char **error_r)
{
	int fd;

	if (maildir_write_tmp_unsynced(path, data, len, mtime, t, &fd, error_r) < 0)
		return -1;
	if (fsync(fd) < 0) {
		maildir_fail(error_r, errno, "%s", t->path);
		close(fd);
		maildir_tmp_discard(t);
		return -1;
	}
	if (close(fd) < 0) {
		maildir_fail(error_r, errno, "close %s", t->path);
		maildir_tmp_discard(t);
		return -1;
	}
	return 0;
}

void maildir_tmp_discard(struct maildir_tmp *t)
{
	if (t->path != NULL)
		unlink(t->path);
	free(t->path);
	t->path = NULL;
}

int maildir_publish_tmp(const char *path, struct maildir_tmp *t, const void *data, size_t len,
			uint32_t flags, const char *extra, int64_t mtime, bool sync_dir,
			char **location_r, const char **error_r)
{
	*location_r = NULL;
	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		char *location;

		if (t->path == NULL && maildir_write_tmp(path, data, len, mtime, t, error_r) < 0)
			return -1;
		if (target_location(t->name, flags, extra, wants_new(flags, extra), ':',
				    &location, error_r) < 0) {
			maildir_tmp_discard(t);
			return -1;
		}
		if (publish(path, t->path, location, sync_dir, error_r) == 0) {
			free(t->path);
			t->path = NULL;
			*location_r = location;
			return 0;
		}
		/* ENOENT: maildir_clean_tmp() raced us; EEXIST: the name was
		 * taken after all.  Both: write it again under a new name. */
		int err = errno;

		maildir_tmp_discard(t);
		free(location);
		if (err != ENOENT && err != EEXIST)
			return -1;
	}
	return -1;
}

int maildir_deliver(const char *path, const void *data, size_t len,
		    uint32_t flags, const char *extra, int64_t mtime,
		    char **location_r, const char **error_r)
{
	struct maildir_tmp t = { 0 };

	*location_r = NULL;
	if (maildir_write_tmp(path, data, len, mtime, &t, error_r) < 0)
		return -1;
	return maildir_publish_tmp(path, &t, data, len, flags, extra, mtime, true, location_r,
				   error_r);
}

int maildir_sync_location(const char *path, const char *location, const char **error_r)
{
	char *p = path_join(path, location);
	int ret = fsync_parent_dir(p);

	if (ret < 0)
		maildir_fail(error_r, errno, "fsync of the directory of %s", p);
	free(p);
	return ret;
}

/* After ENOENT: the message was renamed by another program since it was
 * read.  Points *cur at the file that holds key now: 1 (try again), 0 when
 * it is gone, -1 on error.  On the last attempt the retry is also reported
 * as failing, so a caller that stops there has the reason. */
static int refind(const char *path, const char *key, char **cur, int attempt,
		  const char **error_r)
{
	char *found;
	int r = maildir_find(path, key, &found, error_r);

	if (r <= 0)
		return r;
	free(*cur);
	*cur = found;
	if (attempt + 1 == RETRY_ATTEMPTS)
		maildir_fail(error_r, EAGAIN, "%s/%s: renamed by another "
			     "program again and again", path, *cur);
	return 1;
}

int maildir_set_flags(const char *path, const char *location, uint32_t flags,
		      const char *extra, char **new_location_r,
		      const char **error_r)
{
	char *cur = xstrdup(location);
	int ret = -1;

	*new_location_r = NULL;
	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		const char *name = location_name(cur);
		struct maildir_name mn;
		char key[MAILDIR_NAME_SIZE], *target, *from, *to;
		bool to_new;
		int r;

		if (name == NULL || maildir_parse_name(name, &mn) < 0) {
			maildir_fail(error_r, EINVAL, "%s: bad location \"%s\"", path, cur);
			break;
		}
		memcpy(key, mn.key, mn.key_len);
		key[mn.key_len] = '\0';
		to_new = cur[0] == 'n' && (flags & STORE_RECENT) && wants_new(flags, extra);
		if (target_location(key, flags, extra, to_new, mn.sep ? mn.sep : ':',
				    &target, error_r) < 0)
			break;
		if (strcmp(target, cur) == 0) {
			*new_location_r = target;
			ret = 0;
			break;
		}
		from = path_join(path, cur);
		to = path_join(path, target);
		/* A plain rename: should a file with the target name exist,
		 * it is the same message (same key) with the same flags. */
		r = rename(from, to);
		if (r == 0) {
			free(from);
			free(to);
			*new_location_r = target;
			ret = 0;
			break;
		}
		if (errno != ENOENT) {
			maildir_fail(error_r, errno, "rename %s to %s", from, to);
			free(from);
			free(to);
			free(target);
			break;
		}
		/* Renamed to the target already (by notmuch for the index,
		 * index_flag_rename(), or by another program making the same
		 * change): same key, same flags, so this message.  Saves
		 * listing the folder to find it. */
		if (access(to, F_OK) == 0) {
			free(from);
			free(to);
			*new_location_r = target;
			ret = 0;
			break;
		}
		free(from);
		free(to);
		free(target);
		/* Renamed or removed by another program since it was read. */
		r = refind(path, key, &cur, attempt, error_r);
		if (r < 0)
			break;
		if (r == 0) {
			maildir_fail(error_r, ENOENT, "%s/%s: message lost (no file "
				     "with key %s in new/ or cur/)", path, cur, key);
			break;
		}
	}
	free(cur);
	return ret;
}

int maildir_remove(const char *path, const char *location, const char **error_r)
{
	char *cur = xstrdup(location);
	int ret = -1;

	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		const char *name = location_name(cur);
		struct maildir_name mn;
		char *file;
		int r;

		if (name == NULL || maildir_parse_name(name, &mn) < 0) {
			maildir_fail(error_r, EINVAL, "%s: bad location \"%s\"", path, cur);
			break;
		}
		file = path_join(path, cur);
		r = unlink(file);
		if (r == 0 || errno != ENOENT) {
			if (r == 0)
				ret = 0;
			else
				maildir_fail(error_r, errno, "unlink %s", file);
			free(file);
			break;
		}
		free(file);
		char key[MAILDIR_NAME_SIZE];

		memcpy(key, mn.key, mn.key_len);
		key[mn.key_len] = '\0';
		r = refind(path, key, &cur, attempt, error_r);
		if (r <= 0) {
			ret = r;	/* already gone: done */
			break;
		}
	}
	free(cur);
	return ret;
}

/* Copies from an open file into tmp, keeping its mtime. */
static int copy_fd(int in, int out, int64_t mtime)
{
	char buf[65536];
	ssize_t n;

	if (lseek(in, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
	return write_and_stamp(out, NULL, 0, mtime) < 0 ? -1 : fsync(out);
}

/* Opens the source message, following a rename by another program. */
static int open_source(const char *src, const char *location, char **found_r,
		       const char **error_r)
{
	char *cur = xstrdup(location);

	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		const char *name = location_name(cur);
		struct maildir_name mn;
		char key[MAILDIR_NAME_SIZE], *file, *found;
		int fd, r;

		if (name == NULL || maildir_parse_name(name, &mn) < 0)
			break;
		file = path_join(src, cur);
		/* O_NONBLOCK: a fifo planted in cur/ must not hang us. */
		fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT) {
			if (fd < 0)
				maildir_fail(error_r, errno, "%s", file);
			free(file);
			if (fd >= 0) {
				*found_r = cur;
				return fd;
			}
			free(cur);
			return -1;
		}
		free(file);
		memcpy(key, mn.key, mn.key_len);
		key[mn.key_len] = '\0';
		r = maildir_find(src, key, &found, error_r);
		if (r == 0)
			maildir_fail(error_r, ENOENT, "%s/%s: message lost", src, cur);
		free(cur);
		if (r <= 0)
			return -1;
		cur = found;
	}
	maildir_fail(error_r, EINVAL, "%s: bad location \"%s\"", src, cur);
	free(cur);
	return -1;
}

int maildir_copy(const char *src, const char *location, const char *dst,
		 uint32_t flags, const char *extra, char **location_r,
		 const char **error_r)
{
	char name[MAILDIR_NAME_SIZE], *found, *srcfile;
	struct stat st;
	int in = open_source(src, location, &found, error_r), ret = -1;

	*location_r = NULL;
	if (in < 0)
		return -1;
	srcfile = path_join(src, found);
	if (fstat(in, &st) < 0) {
		maildir_fail(error_r, errno, "%s", srcfile);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		maildir_fail(error_r, EINVAL, "%s: not a regular file", srcfile);
		goto out;
	}
	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		char *tmp, *target;
		int out = open_tmp(dst, (uint64_t)st.st_size, name, &tmp, error_r);
		int r;

		if (out < 0)
			goto out;
		/* A hard link shares the file (and its mtime) at no cost;
		 * across file systems, or where links are refused, or when
		 * the source was renamed since it was opened, copy. */
		close(out);
		unlink(tmp);
		if (link(srcfile, tmp) == 0) {
			r = fsync(in);
		} else {
			out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			r = out < 0 ? -1 : copy_fd(in, out, (int64_t)st.st_mtime);
			if (out >= 0 && close(out) < 0)
				r = -1;
		}
		if (r < 0) {
			maildir_fail(error_r, errno, "copy %s to %s", srcfile, tmp);
			unlink(tmp);
			free(tmp);
			goto out;
		}
		if (target_location(name, flags, extra, wants_new(flags, extra), ':',
				    &target, error_r) < 0) {
			unlink(tmp);
			free(tmp);
			goto out;
		}
		r = publish(dst, tmp, target, true, error_r);
		if (r == 0) {
			free(tmp);
			*location_r = target;
			ret = 0;
			goto out;
		}
		int err = errno;

		unlink(tmp);
		free(tmp);
		free(target);
		if (err != ENOENT && err != EEXIST)
			goto out;
	}
out:
	close(in);
	free(srcfile);
	free(found);
	return ret;
}

int maildir_move(const char *src, const char *location, const char *dst,
		 uint32_t flags, const char *extra, char **from_r, char **location_r,
		 const char **error_r)
{
	char *cur = xstrdup(location);
	int ret = -1;

	*location_r = NULL;
	if (from_r)
		*from_r = NULL;
	for (int attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
		const char *name = location_name(cur);
		struct maildir_name mn;
		char key[MAILDIR_NAME_SIZE], fresh[MAILDIR_NAME_SIZE], *from, *to, *target;
		struct stat st;
		int n, r;

		if (name == NULL || maildir_parse_name(name, &mn) < 0) {
			maildir_fail(error_r, EINVAL, "%s: bad location \"%s\"", src, cur);
			break;
		}
		memcpy(key, mn.key, mn.key_len);
		key[mn.key_len] = '\0';
		from = path_join(src, cur);
		if (lstat(from, &st) < 0) {
			r = errno;
			free(from);
			if (r != ENOENT) {
				maildir_fail(error_r, r, "%s/%s", src, cur);
				break;
			}
			r = refind(src, key, &cur, attempt, error_r);
			if (r == 0)
				maildir_fail(error_r, ENOENT, "%s/%s: message lost", src, cur);
			if (r <= 0)
				break;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			maildir_fail(error_r, EINVAL, "%s: not a regular file", from);
			free(from);
			break;
		}
		/* A fresh name: dst may hold a message with this key. */
		n = maildir_unique_name(fresh, sizeof(fresh) - 32);
		if (n < 0) {
			maildir_fail(error_r, errno, "%s: unique name", dst);
			free(from);
			break;
		}
		snprintf(fresh + n, sizeof(fresh) - (size_t)n, ",S=%llu",
			 (unsigned long long)st.st_size);
		if (target_location(fresh, flags, extra, wants_new(flags, extra), ':', &target,
				    error_r) < 0) {
			free(from);
			break;
		}
		to = path_join(dst, target);
		r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
		if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* No RENAME_NOREPLACE here: link then unlink (a crash
			 * between leaves both names, never none). */
			r = link(from, to);
			if (r == 0 && unlink(from) < 0 && errno != ENOENT) {
				r = errno;
				unlink(to);
				errno = r;
				r = -1;
			}
		}
		if (r == 0) {
			free(from);
			free(to);
			*location_r = target;
			if (from_r) {
				*from_r = cur;
				cur = NULL;
			}
			ret = 0;
			break;
		}
		r = errno;
		maildir_fail(error_r, r, "rename %s to %s", from, to);
		free(from);
		free(to);
		free(target);
		/* ENOENT: renamed by another program meanwhile (or a name
		 * taken, EEXIST): try again. */
		if (r != ENOENT && r != EEXIST)
			break;
		if (r == ENOENT && (r = refind(src, key, &cur, attempt, error_r)) <= 0) {
			if (r == 0)
				maildir_fail(error_r, ENOENT, "%s/%s: message lost", src, cur);
			break;
		}
	}
	free(cur);
	return ret;
}

int maildir_clean_tmp(const char *path, int64_t now, const char **error_r)
{
	char *dir = path_join(path, "tmp");
	DIR *d = opendir(dir);
	struct dirent *de;
	int removed = 0;

	if (d == NULL) {
		int ret = errno == ENOENT ? 0 : maildir_fail(error_r, errno, "%s", dir);

		free(dir);
		return ret;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) ||
		    (int64_t)st.st_mtime >= now - MAILDIR_TMP_MAX_AGE)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	free(dir);
	return removed;
}
