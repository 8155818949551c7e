/* queue: the durable outgoing queue of the local MTA.
 *
 * On disk (one directory, STATE_DIR/queue/), per message:
 *   ID.msg   the message exactly as it will be delivered; written once,
 *            never changed, and the file every lock is taken on;
 *   ID.env   the envelope (queue_env below, text format in queue_env.c).
 * Both are written tmp -> fsync -> rename -> directory fsync, the message
 * first: an ID.env always has its ID.msg, and an entry exists for runners
 * and listings only once its ID.env does.  An ID.msg without ID.env (a
 * sendmail killed half-way) and stale temporary files are removed by the
 * runner after QUEUE_ORPHAN_AGE seconds.
 *
 * Locking: flock(LOCK_EX) on ID.msg opened O_RDONLY.  ID.env cannot carry
 * the lock because it is replaced by rename on every update.  A runner
 * takes the lock without waiting (an entry locked by another runner is
 * skipped), re-reads ID.env under it (it may have been finished or removed
 * meanwhile) and keeps the lock for the whole entry; `queue rm` waits for it.
 * So two runners never process the same entry at once.
 *
 * Exactly-once delivery: before a recipient is handed to its handler, the
 * envelope is rewritten with that recipient in state "delivering" (the
 * intent record); after the handler answers, with its outcome.  A crash in
 * between leaves "delivering" behind, and the next attempt passes
 * maybe_delivered = true with the same token (below), so the handler can
 * look for that token in what it delivered before (deliver_local: an
 * X-Loft-Delivery header in the target folder) and answer QUEUE_ALREADY
 * instead of delivering a second copy.
 *
 * IDs: 10 decimal digits of creation time, '.', 12 random hex digits
 * ("1718000000.3fa9c01b77d2"): unique, sortable by age, safe as file names
 * and as the left part of a Message-ID.
 *
 * Memory: strings returned are malloc'd and owned by the caller unless said
 * otherwise.  Errors: 0 / -1 with *error_r, a static string or one owned by
 * the queue (valid until the next call on it).  Nothing here prints; it logs
 * through lib/log.  Every call blocks on disk I/O; queue_remove() may also
 * wait for another process's lock on the entry. */
#ifndef LOFT_LOCALMTA_QUEUE_H
#define LOFT_LOCALMTA_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct queue;

#define QUEUE_ID_LEN 23			/* without the NUL */
#define QUEUE_ORPHAN_AGE 3600		/* seconds before orphans are removed */
#define QUEUE_ENV_MAX (1024 * 1024)	/* largest envelope file accepted */
#define QUEUE_RCPTS_MAX 10000		/* recipients per entry */

/* ---- envelopes (queue_env.c) ---- */

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,	/* to be tried at next_attempt */
	QUEUE_RCPT_DELIVERING,	/* intent record: handed over, outcome not yet recorded */
	QUEUE_RCPT_DELIVERED,
	QUEUE_RCPT_FAILED,	/* given up (permanent failure or expiry); bounce to send */
	QUEUE_RCPT_BOUNCED,	/* given up and reported (or no report possible) */
};

struct queue_rcpt {
	char *addr;		/* envelope recipient as given (no angle brackets) */
	enum queue_rcpt_state state;
	unsigned attempts;	/* attempts made so far */
	int64_t next_attempt;	/* epoch seconds; PENDING is due when <= now */
	char *status;		/* RFC 3463 code of the failure ("5.1.1", "4.4.7"), or NULL */
	char *answer;		/* last answer of the handler (one line), or NULL */
};

struct queue_env {
	char *sender;		/* envelope sender; "" is the null sender <> (bounces) */
	int64_t created;	/* epoch seconds the message was queued */
	char *account;		/* the mailrc account whose smarthost relays it
				 * (`sendmail --account`), or NULL: the global one */
	char *hold;		/* held by its maker under this key: not run, not
				 * expired, until queue_release(); NULL: runnable */
	size_t n_rcpts;		/* 1..QUEUE_RCPTS_MAX */
	struct queue_rcpt *rcpts;
};

/* Parses an envelope file.  Returns 0 and *env_r (free with
 * queue_env_free), or -1 with *error_r (static) for anything that is not
 * exactly what queue_env_format() writes: unknown version or key, bad
 * number, no recipient, a line break or control byte inside a value, a
 * missing final newline, more than QUEUE_ENV_MAX bytes. */
int queue_env_parse(const char *data, size_t len, struct queue_env **env_r,
		    const char **error_r);
/* Appends the file form of env to out.  Values are %XX-escaped (every byte
 * below 0x21, 0x7f and '%'), so no value can start a line of its own. */
void queue_env_format(const struct queue_env *env, struct sbuf *out);
/* A new envelope with n recipients, all PENDING and due at created. */
struct queue_env *queue_env_new(const char *sender, int64_t created,
				const char *const *rcpts, size_t n);
void queue_env_free(struct queue_env **envp);
/* "pending", "delivering"... */
const char *queue_rcpt_state_name(enum queue_rcpt_state state);

/* ---- the queue ---- */

struct queue_settings {
	const char *dir;		/* queue directory; created (0700) if missing */
	int64_t retry_min;		/* first retry delay, seconds (doubles each time) */
	int64_t retry_max;		/* longest retry delay */
	int64_t lifetime;		/* give up this long after queueing */
	const char *local_domains;	/* "a.example, b.example" or NULL */
	const char *local_addresses;	/* "me@host.example other@x" or NULL */
	const char *owner;		/* the user's own address (`from`), or NULL:
					 * bounces to it are delivered locally */
	const char *domain;		/* for Reporting-MTA and bounce Message-IDs */
};

/* Opens (creating the directory if needed).  The settings' strings are
 * copied.  Returns 0 and *q_r, or -1 with *error_r (static or strerror). */
int queue_open(const struct queue_settings *set, struct queue **q_r, const char **error_r);
void queue_free(struct queue **qp);
const char *queue_dir(const struct queue *q);

/* A fresh ID for a message created at now, into buf (QUEUE_ID_LEN + 1). */
void queue_new_id(int64_t now, char buf[QUEUE_ID_LEN + 1]);
/* True when id has the shape of an ID (so it is safe in a path). */
bool queue_id_valid(const char *id);
/* True for an address delivered locally: no '@', the domain localhost or
 * localhost.localdomain, a domain listed in local_domains, or an address
 * listed in local_addresses (all compared without regard to case). */
bool queue_addr_is_local(const struct queue *q, const char *addr);

/* Queues len bytes of data for the n recipients under id (from
 * queue_new_id).  Returns 0 only once both files and the directory are
 * fsynced; on failure (-1, errno kept: ENOSPC, EDQUOT...) nothing of the
 * entry is left behind. */
int queue_add(struct queue *q, const char *id, const char *sender, const char *const *rcpts,
	      size_t n, const char *data, size_t len, int64_t now, const char **error_r);
/* queue_add for mail relayed through account's smarthost (NULL: as
 * queue_add). */
int queue_add_account(struct queue *q, const char *id, const char *account, const char *sender,
		      const char *const *rcpts, size_t n, const char *data, size_t len,
		      int64_t now, const char **error_r);

/* Exactly-once hand-over to a caller that keeps its own record (a pull's
 * Sieve redirect): queue_add_held queues the entry held under hold (as
 * queue_add; runners leave it alone), the caller records it, then
 * queue_release lets it run.  A crash before the record leaves the held
 * entry for the retry to find (queue_held) and adopt; after it, the
 * record.  An entry left held shows in `loft queue list`.
 * queue_held: how many entries are held under hold, or -1.
 * queue_release: releases them all (each under its lock); how many, or -1
 * with *error_r. */
int queue_add_held(struct queue *q, const char *id, const char *hold, const char *sender,
		   const char *const *rcpts, size_t n, const char *data, size_t len,
		   int64_t now, const char **error_r);
int queue_held(struct queue *q, const char *hold, const char **error_r);
int queue_release(struct queue *q, const char *hold, const char **error_r);

/* The IDs of the entries that have an envelope, oldest first.  *ids_r is a
 * NULL-terminated array; free it with queue_ids_free. */
int queue_list(struct queue *q, char ***ids_r, size_t *n_r, const char **error_r);
void queue_ids_free(char ***idsp);
/* Reads an entry without locking it (a snapshot for listings).  *env_r as
 * queue_env_parse; *size_r (may be NULL) gets the message size; msg (may be
 * NULL) gets the message appended.  -1 with errno ENOENT when it is gone. */
int queue_read(struct queue *q, const char *id, struct queue_env **env_r, uint64_t *size_r,
	       struct sbuf *msg, const char **error_r);
/* Removes an entry under its lock (waiting for a runner that holds it).
 * -1 with errno ENOENT when there is no such entry. */
int queue_remove(struct queue *q, const char *id, const char **error_r);

/* ---- the runner (runner.c, bounce.c) ---- */

enum queue_result {
	QUEUE_OK,		/* delivered */
	QUEUE_TEMPFAIL,		/* try again later (backoff) */
	QUEUE_PERMFAIL,		/* give up now and bounce */
	QUEUE_ALREADY,		/* maybe_delivered was set and the token was found: it
				 * was delivered before; recorded as delivered */
};

/* One delivery as the handler sees it.  Everything is owned by the runner
 * and valid during the call only. */
struct queue_delivery {
	/* "ID/N" (N = recipient index) for a recipient, "ID/bounce" for the
	 * bounce of entry ID: the same string on every attempt of that
	 * delivery, at most QUEUE_ID_LEN + 8 bytes of [0-9a-z./].  Handlers
	 * that can find earlier deliveries record it with the copy. */
	const char *token;
	/* An earlier attempt with this token was interrupted after it was
	 * handed over: look for the token before delivering again. */
	bool maybe_delivered;
	const char *sender;		/* envelope sender, "" for <> */
	const char *rcpt;		/* envelope recipient */
	const char *data;		/* the message */
	size_t len;
	const char *account;		/* queue_env's account, or NULL */
};

struct queue_handlers {
	void *ctx;	/* passed back to the functions */
	/* Delivers to one local recipient; blocks as long as delivery takes.
	 * May set *answer_r to a malloc'd one-line answer (the runner frees
	 * it; it shows in `loft queue list` and in bounces).  NULL: every
	 * local recipient fails temporarily ("local delivery not available"). */
	enum queue_result (*deliver_local)(void *ctx, const struct queue_delivery *d,
					   char **answer_r);
	/* Hands one message to the relay for n remote recipients at once; sets
	 * results[i] and may set answers[i] (malloc'd, runner frees) for each.
	 * d->rcpt is NULL and d->token "ID/relay".  NULL: the honest default,
	 * every recipient TEMPFAIL "no relay configured (smarthost unset)". */
	void (*relay)(void *ctx, const struct queue_delivery *d, const char *const *rcpts,
		      size_t n, enum queue_result *results, char **answers);
};

enum queue_run_flags {
	QUEUE_RUN_FORCE = 1 << 0,	/* ignore next_attempt: try every pending recipient */
};

struct queue_run_stats {
	unsigned entries, delivered, deferred, failed, bounces, skipped_locked;
};

/* One pass over the queue at time now: due recipients are delivered, retries
 * scheduled (retry_min * 2^(attempts-1), at most retry_max, never after the
 * expiry), recipients past lifetime failed with 4.4.7, failures reported to
 * the sender (bounce.c), finished entries removed, orphans collected.
 * Bounces to a non-local sender are queued as new entries with the null
 * sender; a bounce is never sent for a message from the null sender.
 * Returns 0, or -1 when the directory cannot be read (entries that fail
 * individually are logged and left for the next run).  stats_r may be NULL. */
int queue_run(struct queue *q, const struct queue_handlers *h, int64_t now, unsigned flags,
	      struct queue_run_stats *stats_r);
/* Makes a queue_run in progress in this process stop before its next entry
 * (the rest stays queued for the next run).  Async-signal-safe: meant for
 * a SIGTERM handler.  Lasts for the life of the process. */
void queue_run_interrupt(void);

/* Builds the RFC 3464 report for the FAILED recipients of env (id's entry
 * whose message is msg) into out: multipart/report with a text part,
 * message/delivery-status and text/rfc822-headers of the original. */
void queue_bounce_build(const struct queue *q, const char *id, const struct queue_env *env,
			const char *msg, size_t msg_len, int64_t now, struct sbuf *out);

/* The enhanced status code in an answer such as "550 5.1.1 no such user"
 * ("5.1.1") into buf, or def when there is none or its class disagrees with
 * permanent (5) / transient (4). */
void queue_answer_status(const char *answer, bool permanent, const char *def, char buf[16]);

#endif
