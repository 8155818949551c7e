/* auth: the logins devices use for SMTP (and later IMAP): one per device,
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

#endif
