/* Durable file writes: nothing is reported written before it is on disk.
 *
 * atomic_write_file() writes to a temporary file in the same directory,
 * fsyncs it, renames it over the target and fsyncs the directory, so a crash
 * at any moment leaves either the old file or the new one, never a mix.
 * All functions block on disk I/O. */
#ifndef LOFT_LIB_ATOMIC_H
#define LOFT_LIB_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/* 0 on success; -1 with errno set and *error_r a static description of the
 * step that failed ("write", "fsync", "rename"...).  The temporary file is
 * removed on failure. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode,
		      const char **error_r);

/* fsync of the directory containing path (or of path itself when it is a
 * directory and is_dir is nonzero).  0 or -1 with errno. */
int fsync_parent_dir(const char *path);
int fsync_dir(const char *dir);

/* write() all of len bytes, retrying on EINTR and short writes. 0 or -1. */
int write_all(int fd, const void *data, size_t len);

#endif
