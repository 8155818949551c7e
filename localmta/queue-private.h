/* The inside of struct queue, shared by queue.c (files and locks), runner.c
 * and bounce.c. */
#ifndef LOFT_LOCALMTA_QUEUE_PRIVATE_H
#define LOFT_LOCALMTA_QUEUE_PRIVATE_H

#include "localmta/queue.h"
#include "lib/sbuf.h"

struct queue {
	char *dir;
	int64_t retry_min, retry_max, lifetime;
	char **local_domains;		/* NULL-terminated, lowercased */
	char **local_addresses;		/* NULL-terminated, lowercased */
	char *owner;			/* lowercased address, or NULL */
	char *domain;
	struct sbuf error;		/* for error strings owned by the queue */
};

/* "DIR/ID.EXT", caller frees. */
char *queue_path(const struct queue *q, const char *id, const char *ext);
/* Opens ID.msg and takes its flock (waiting or not).  Returns the fd, or -1:
 * errno ENOENT (no such message), EWOULDBLOCK (locked elsewhere, when
 * !wait) or another error. */
int queue_lock(const struct queue *q, const char *id, bool wait);
/* Writes env as ID.env durably (tmp, fsync, rename, directory fsync).
 * crash_prefix names the crash points ("queue.env", "runner.env"). */
int queue_env_write(struct queue *q, const char *id, const struct queue_env *env,
		    const char *crash_prefix, const char **error_r);
/* Reads ID.env (and ID.msg into msg when not NULL). */
int queue_read_locked(struct queue *q, const char *id, struct queue_env **env_r,
		      struct sbuf *msg, const char **error_r);
/* Unlinks ID.env then ID.msg (so it stops being an entry first). */
int queue_unlink_entry(struct queue *q, const char *id, const char **error_r);
/* Removes ID.msg files without envelope and temporary files older than
 * QUEUE_ORPHAN_AGE at now. */
void queue_collect_orphans(struct queue *q, int64_t now);

#endif
