/* auth: the logins devices use for SMTP and IMAP: one per device,
 * made by `loft passwd NAME`, revocable one at a time.
 *
 * The file (STATE_DIR/passwd, mode 0600) holds lines "NAME:HASH" where HASH
 * is libxcrypt's yescrypt ("$y$..."); it is rewritten atomically under a
 * lock (PATH.lock), so a crash leaves the old or the new file and two
 * `loft passwd` runs do not lose each other's change.  A check hashes the
 * offered password with the stored setting (crypt_r) and compares in
 * constant time; an unknown name costs the same as a wrong password.
 *
 * Errors: -1 with *error_r a malloc'd message the caller frees.  Hashing
 * takes ~20 ms of CPU; file functions block on disk I/O.  Nothing prints. */
#ifndef LOFT_LOCALMTA_AUTH_H
#define LOFT_LOCALMTA_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct config;

#define AUTH_NAME_MAX 64
/* Length of a generated password (57-letter alphabet: ~140 bits). */
#define AUTH_PASSWORD_LEN 24

/* STATE_DIR/passwd (state_dir setting, else FOLDER/.loft).  Malloc'd. */
char *auth_passwd_path(const struct config *cfg);
/* A device name: 1..AUTH_NAME_MAX of [A-Za-z0-9._@+-], not starting with
 * '.' or '-'. */
bool auth_name_valid(const char *name);
/* A new random password from an alphabet without look-alikes.  Malloc'd. */
char *auth_generate_password(void);

/* Adds name or replaces its password.  Creates the file (0600) and its
 * directory (0700) when missing.  0 or -1. */
int auth_passwd_set(const char *path, const char *name, const char *password, char **error_r);
/* 1 when name was removed, 0 when it was not there, -1 on error. */
int auth_passwd_remove(const char *path, const char *name, char **error_r);
/* The names in file order: *names_r is a malloc'd array of malloc'd
 * strings (free each, then the array); a missing file is an empty list.
 * 0 or -1. */
int auth_passwd_list(const char *path, char ***names_r, size_t *n_r, char **error_r);

/* 1 when password is name's, 0 when not (or no such name, or no file),
 * -1 when the file cannot be read (a temporary failure for the caller). */
int auth_check(const char *path, const char *name, const char *password);
/* The hash stored for name, as the file has it now ("$y$..."): 1 and
 * *hash_r (malloc'd, caller frees), 0 when name is not valid or not
 * there, -1 when the file cannot be read.  No hashing: microseconds. */
int auth_stored_hash(const char *path, const char *name, char **hash_r);

/* ---- open sessions (auth_session.c) ----
 * So that `loft passwd --remove NAME` also ends the sessions NAME has open,
 * a process logged in as a device records it in STATE_DIR/sessions/PID
 * (the login name) and keeps a write lock (fcntl) on that file for its
 * life: a file nobody locks is left over from a process that is gone. */

/* Records this process as logged in as name, then checks that the login
 * still exists, so a removal racing with the login cannot miss it.
 * Returns the fd to keep open while the session lasts (pass it to
 * auth_session_end), or -1 with *error_r (malloc'd): the record could not
 * be written, or (errno ENOENT) the login is gone. */
int auth_session_begin(const char *passwd_path, const char *name, char **error_r);
/* Removes this process's record and closes fd; fd < 0 is a no-op. */
void auth_session_end(const char *passwd_path, int fd);
/* Sends SIGTERM to every live process recorded as logged in as name and
 * removes their records (and left-over ones).  Returns how many were
 * signalled (0 when none, or the directory is missing), or -1 with
 * *error_r (malloc'd). */
int auth_sessions_kill(const char *passwd_path, const char *name, char **error_r);

#endif
