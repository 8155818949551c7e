/* maildir-private: helpers shared by store/maildir*.c only. */
#ifndef LOFT_STORE_MAILDIR_PRIVATE_H
#define LOFT_STORE_MAILDIR_PRIVATE_H

/* Formats the thread-local error message, points *error_r at it, sets
 * errno to err and returns -1 (so callers can `return maildir_fail(...)`).
 * With err != 0 ": strerror(err)" is appended. */
int maildir_fail(const char **error_r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
