/* Shared by the mbox driver's files (mbox.c: open, locks, reading;
 * mbox_from.c: From_ lines and quoting; mbox_scan.c: finding messages;
 * mbox_write.c: appending and rewriting).  Not for use outside store/mbox*.c. */
#ifndef LOFT_STORE_MBOX_PRIVATE_H
#define LOFT_STORE_MBOX_PRIVATE_H

#include "store/mbox.h"
#include "lib/sbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define BLOCK_SIZE (1024 * 1024)
#define KEY_HEADER_BYTES 4096
#define LOCK_RETRY_NS 100000000L
#define DOTLOCK_STALE_S 300

enum lock_state { LOCK_NONE, LOCK_SHARED, LOCK_EXCL };

struct mbox {
	char *path;
	char *lock_path;
	int fd;
	bool writable;
	unsigned lock_timeout;
	enum lock_state lock;
	bool dotlocked;
	/* what the last scan saw, for mbox_changed() */
	bool scanned;
	struct stat scan_st;
	char *error;
};

/* Replaces mb's error text; returns it (owned by mb, valid until the next
 * call on mb). */
const char *mbox_set_error(struct mbox *mb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Takes the lock a call needs unless the caller holds one; *taken_r says
 * whether the caller must mbox_unlock().  0, or -1 with *error_r. */
int mbox_lock_for(struct mbox *mb, bool exclusive, bool *taken_r, const char **error_r);

/* If another program renamed a new file over the path, reopens it.  0, or
 * -1 with *error_r. */
int mbox_reopen_if_replaced(struct mbox *mb, const char **error_r);

/* Same inode, device, size and mtime. */
bool mbox_same_file(const struct stat *a, const struct stat *b);

/* Length of the line starting at p (including its newline). */
size_t mbox_line_len(const char *p, const char *end);

/* Whether line[0..len) is a From_ line mbox_parse_from_line() accepts. */
bool mbox_from_line_valid(const char *line, size_t len);

/* Appends "From SENDER DATE\n" (C locale, UTC) to out. */
void mbox_add_from_line(struct sbuf *out, const char *sender, int64_t date);

/* fcntl(F_SETLK) of the whole file with TYPE (F_RDLCK/F_WRLCK/F_UNLCK). */
int mbox_fcntl_lock(int fd, short type);

/* Reads exactly len bytes at off.  0, or -1 (errno; EIO for a short file). */
int mbox_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* Reads the bytes [off, off+len) into buf (replacing its content).  0, or -1
 * with *error_r. */
int mbox_read_range(struct mbox *mb, uint64_t off, uint64_t len, struct sbuf *buf,
		    const char **error_r);

/* Checks that e's From_ line is still where the scan found it.  0, or -1
 * with *error_r (the file changed behind our back). */
int mbox_check_from_line(struct mbox *mb, const struct mbox_entry *e, const char **error_r);

/* Number of '>' before "From " at the start of the line, or -1. */
long mbox_from_quote_depth(const char *p, size_t len);

/* Whether the header line p[0..len) is the field NAME (case-insensitive). */
bool mbox_header_is(const char *p, size_t len, const char *name);

#endif
