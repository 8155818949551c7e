/* Path helpers that keep names from untrusted places (folder names from
 * IMAP clients, attachment file names) inside the directory meant for them.
 * Returned strings are malloc'd and owned by the caller.  Nothing blocks
 * but path_mkdirs (file system calls). */
#ifndef LOFT_LIB_PATH_H
#define LOFT_LIB_PATH_H

#include <stdbool.h>
#include <sys/types.h>

/* Joins base and rel with exactly one '/'.  Returns NULL (with *error_r a
 * static message) when rel is absolute, empty, has a ".." component or a
 * control byte.  "a/./b" and doubled slashes are normalised; ".." is refused
 * rather than resolved, so no rel can climb out of base. */
char *path_join_safe(const char *base, const char *rel, const char **error_r);

/* Plain join, no checks: for names loft made itself. */
char *path_join(const char *base, const char *rel);

/* The last component of name ('/' and '\\' both separate), leading dots
 * removed, and controls (C0, DEL, C1, the bidi overrides U+202A-U+202E and
 * U+2066-U+2069) and bytes that are not UTF-8 each replaced by '_': a file
 * name that is safe to create in a directory and to show
 * ("/evil/filename" -> "filename").
 * Never returns an empty string ("attachment" then). */
char *path_safe_filename(const char *name);

/* True when name is a relative path of only safe components. */
bool path_is_safe_relative(const char *rel);

/* mkdir -p: creates dir and its missing parents with mode.  0, or -1 with
 * errno (an existing directory is no error). */
int path_mkdirs(const char *dir, mode_t mode);

#endif
