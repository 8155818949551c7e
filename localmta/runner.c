/* The queue runner: one pass over the entries, each under its lock.
 *
 * Per entry the order of writes is what makes delivery exactly-once (see
 * queue.h): intent ("delivering") -> handler -> outcome, each envelope write
 * durable before the next step.  Local recipients go one by one through
 * deliver_local; due remote recipients go to the relay in one call.
 * Failures are then reported in one bounce per run, and an entry with
 * nothing left to do is removed. */
#include "localmta/queue-private.h"
#include "lib/clock.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ANSWER_MAX 500

static volatile sig_atomic_t interrupted;

void queue_run_interrupt(void)
{
	interrupted = 1;
}

/* One line of printable ASCII (controls and 8-bit bytes become '?'), at
 * most ANSWER_MAX bytes: answers end up in envelopes, listings and DSNs. */
static char *clean_answer(char *answer, const char *def)
{
	const char *src = answer && *answer ? answer : def;
	size_t n = strlen(src);
	char *out;

	if (n > ANSWER_MAX)
		n = ANSWER_MAX;
	out = xstrndup(src, n);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = (*p == '\r' || *p == '\n' || *p == '\t') ? ' ' : '?';
	free(answer);
	return out;
}

static int64_t backoff(const struct queue *q, unsigned attempts)
{
	int64_t d = q->retry_min;

	for (unsigned i = 1; i < attempts && d < q->retry_max; i++)
		d *= 2;
	return d > q->retry_max ? q->retry_max : d;
}

void queue_answer_status(const char *answer, bool permanent, const char *def, char buf[16])
{
	const char *p = answer ? answer : "";
	unsigned a, b, c;
	int n = 0;

	/* "550 5.1.1 ..." or "5.1.1 ...": the basic code is skipped. */
	if (p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	    p[2] <= '9' && (p[3] == ' ' || p[3] == '-'))
		p += 4;
	if (sscanf(p, "%1u.%3u.%3u%n", &a, &b, &c, &n) == 3 && n > 0 &&
	    (p[n] == '\0' || p[n] == ' ') && a == (permanent ? 5u : 4u)) {
		snprintf(buf, 16, "%u.%u.%u", a, b, c);
		return;
	}
	snprintf(buf, 16, "%s", def);
}

/* Records the outcome of one attempt for r. */
static void record(const struct queue *q, const struct queue_env *env, struct queue_rcpt *r,
		   enum queue_result res, char *answer, int64_t now,
		   struct queue_run_stats *st)
{
	int64_t expiry = env->created + q->lifetime;
	char status[16];

	r->attempts++;
	free(r->answer);
	r->answer = NULL;
	free(r->status);
	r->status = NULL;
	switch (res) {
	case QUEUE_OK:
	case QUEUE_ALREADY:
		r->answer = clean_answer(answer,
					 res == QUEUE_OK ? "delivered" : "delivered (found after restart)");
		r->state = QUEUE_RCPT_DELIVERED;
		st->delivered++;
		return;
	case QUEUE_PERMFAIL:
		r->answer = clean_answer(answer, "permanent failure");
		queue_answer_status(r->answer, true, "5.0.0", status);
		r->status = xstrdup(status);
		r->state = QUEUE_RCPT_FAILED;
		st->failed++;
		return;
	case QUEUE_TEMPFAIL:
		r->answer = clean_answer(answer, "temporary failure");
		if (now >= expiry) {
			/* RFC 3463 4.4.7: delivery time expired. */
			r->status = xstrdup("4.4.7");
			r->state = QUEUE_RCPT_FAILED;
			st->failed++;
			return;
		}
		r->state = QUEUE_RCPT_PENDING;
		r->next_attempt = now + backoff(q, r->attempts);
		if (r->next_attempt > expiry)
			r->next_attempt = expiry;
		st->deferred++;
		return;
	}
}

static void relay_unset(void *ctx, const struct queue_delivery *d, const char *const *rcpts,
			size_t n, enum queue_result *results, char **answers)
{
	for (size_t i = 0; i < n; i++) {
		results[i] = QUEUE_TEMPFAIL;
		answers[i] = xstrdup("no relay configured (smarthost unset)");
	}
}

static bool is_due(const struct queue_rcpt *r, int64_t now, unsigned flags)
{
	if (r->state == QUEUE_RCPT_DELIVERING)
		return true;
	return r->state == QUEUE_RCPT_PENDING &&
	       ((flags & QUEUE_RUN_FORCE) || r->next_attempt <= now);
}

static void deliver_locals(struct queue *q, const struct queue_handlers *h, const char *id,
			   struct queue_env *env, const struct sbuf *msg, int64_t now,
			   unsigned flags, struct queue_run_stats *st)
{
	const char *error;

	for (size_t i = 0; i < env->n_rcpts; i++) {
		struct queue_rcpt *r = &env->rcpts[i];
		bool maybe = r->state == QUEUE_RCPT_DELIVERING;
		enum queue_result res = QUEUE_TEMPFAIL;
		char token[QUEUE_ID_LEN + 16], *answer = NULL;

		if (!is_due(r, now, flags) || !queue_addr_is_local(q, r->addr))
			continue;
		if (!maybe) {
			r->state = QUEUE_RCPT_DELIVERING;
			if (queue_env_write(q, id, env, "runner.intent", &error) < 0) {
				log_error("queue %s: %s", id, error);
				r->state = QUEUE_RCPT_PENDING;
				return;
			}
		}
		snprintf(token, sizeof(token), "%s/%zu", id, i);
		struct queue_delivery d = { token, maybe, env->sender, r->addr, msg->buf, msg->len,
					    NULL };

		if (h->deliver_local != NULL)
			res = h->deliver_local(h->ctx, &d, &answer);
		else
			answer = xstrdup("local delivery not available");
		crash_point("runner.delivered");
		record(q, env, r, res, answer, now, st);
		if (queue_env_write(q, id, env, "runner.record", &error) < 0) {
			log_error("queue %s: %s", id, error);
			return;
		}
	}
}

static void relay_remotes(struct queue *q, const struct queue_handlers *h, const char *id,
			  struct queue_env *env, const struct sbuf *msg, int64_t now,
			  unsigned flags, struct queue_run_stats *st)
{
	size_t *idx = xcalloc(env->n_rcpts, sizeof(*idx)), n = 0;
	const char **addrs = xcalloc(env->n_rcpts, sizeof(*addrs));
	enum queue_result *res = xcalloc(env->n_rcpts, sizeof(*res));
	char **answers = xcalloc(env->n_rcpts, sizeof(*answers));
	char token[QUEUE_ID_LEN + 16];
	bool maybe = false;
	const char *error;

	for (size_t i = 0; i < env->n_rcpts; i++) {
		struct queue_rcpt *r = &env->rcpts[i];

		if (!is_due(r, now, flags) || queue_addr_is_local(q, r->addr))
			continue;
		maybe |= r->state == QUEUE_RCPT_DELIVERING;
		r->state = QUEUE_RCPT_DELIVERING;
		res[n] = QUEUE_TEMPFAIL;
		addrs[n] = r->addr;
		idx[n++] = i;
	}
	if (n == 0)
		goto out;
	if (queue_env_write(q, id, env, "runner.intent", &error) < 0) {
		log_error("queue %s: %s", id, error);
		goto out;
	}
	snprintf(token, sizeof(token), "%s/relay", id);
	struct queue_delivery d = { token, maybe, env->sender, NULL, msg->buf, msg->len,
				    env->account };

	(h->relay ? h->relay : relay_unset)(h->ctx, &d, addrs, n, res, answers);
	crash_point("runner.delivered");
	for (size_t k = 0; k < n; k++) {
		record(q, env, &env->rcpts[idx[k]], res[k], answers[k], now, st);
		answers[k] = NULL;
	}
	if (queue_env_write(q, id, env, "runner.record", &error) < 0)
		log_error("queue %s: %s", id, error);
out:
	free(idx);
	free(addrs);
	free(res);
	free(answers);
}

/* Reports FAILED recipients to the sender.  Returns true when a bounce was
 * queued as a new entry. */
static bool send_bounce(struct queue *q, const struct queue_handlers *h, const char *id,
			struct queue_env *env, const struct sbuf *msg, int64_t now,
			struct queue_run_stats *st)
{
	enum queue_result res = QUEUE_PERMFAIL;
	bool any = false, queued = false;
	struct sbuf dsn = SBUF_INIT;
	char *answer = NULL;
	const char *error;

	for (size_t i = 0; i < env->n_rcpts; i++)
		any |= env->rcpts[i].state == QUEUE_RCPT_FAILED;
	if (!any)
		return false;
	if (*env->sender == '\0') {
		/* Never bounce a bounce (RFC 5321 6.1): log and drop. */
		log_warning("queue %s: undeliverable message from <>, no report sent", id);
		res = QUEUE_OK;
		goto mark;
	}
	queue_bounce_build(q, id, env, msg->buf, msg->len, now, &dsn);
	if (queue_addr_is_local(q, env->sender) ||
	    (q->owner != NULL && strcasecmp(env->sender, q->owner) == 0)) {
		char token[QUEUE_ID_LEN + 16];

		snprintf(token, sizeof(token), "%s/bounce", id);
		struct queue_delivery d = { token, false, "", env->sender, dsn.buf, dsn.len, NULL };

		if (h->deliver_local != NULL)
			res = h->deliver_local(h->ctx, &d, &answer);
		else
			res = QUEUE_TEMPFAIL;
	} else {
		char bid[QUEUE_ID_LEN + 1];
		const char *rcpt = env->sender;

		queue_new_id(now, bid);
		res = queue_add(q, bid, "", &rcpt, 1, dsn.buf, dsn.len, now, &error) == 0 ?
			QUEUE_OK : QUEUE_TEMPFAIL;
		queued = res == QUEUE_OK;
		if (res != QUEUE_OK)
			log_error("queue %s: cannot queue the bounce: %s", id, error);
	}
	if (res == QUEUE_TEMPFAIL) {
		log_warning("queue %s: bounce to <%s> deferred: %s", id, env->sender,
			    answer ? answer : "local delivery not available");
		goto out;
	}
	if (res == QUEUE_PERMFAIL)
		log_warning("queue %s: bounce to <%s> failed: %s", id, env->sender,
			    answer ? answer : "");
	st->bounces += res != QUEUE_PERMFAIL;
mark:
	for (size_t i = 0; i < env->n_rcpts; i++)
		if (env->rcpts[i].state == QUEUE_RCPT_FAILED)
			env->rcpts[i].state = QUEUE_RCPT_BOUNCED;
	if (queue_env_write(q, id, env, "runner.bounced", &error) < 0)
		log_error("queue %s: %s", id, error);
out:
	free(answer);
	sbuf_release(&dsn);
	return queued;
}

/* Returns true when a bounce entry was added to the queue. */
static bool run_entry(struct queue *q, const struct queue_handlers *h, const char *id,
		      int64_t now, unsigned flags, struct queue_run_stats *st)
{
	struct queue_env *env = NULL;
	struct sbuf msg = SBUF_INIT;
	const char *error;
	bool queued = false, done = true;
	int fd = queue_lock(q, id, false);

	if (fd < 0) {
		if (errno == EWOULDBLOCK)
			st->skipped_locked++;
		else if (errno != ENOENT)
			log_error("queue %s: lock: %s", id, strerror(errno));
		return false;
	}
	/* Re-read under the lock: another runner may have finished it. */
	if (queue_read_locked(q, id, &env, &msg, &error) < 0) {
		if (errno != ENOENT)
			log_error("queue %s", error);
		goto out;
	}
	if (env->hold != NULL)
		goto out;	/* its maker releases it (queue_add_held) */
	st->entries++;
	crash_point("runner.locked");
	deliver_locals(q, h, id, env, &msg, now, flags, st);
	relay_remotes(q, h, id, env, &msg, now, flags, st);
	queued = send_bounce(q, h, id, env, &msg, now, st);
	for (size_t i = 0; i < env->n_rcpts; i++)
		done &= env->rcpts[i].state == QUEUE_RCPT_DELIVERED ||
			env->rcpts[i].state == QUEUE_RCPT_BOUNCED;
	if (done && queue_unlink_entry(q, id, &error) < 0)
		log_error("queue %s: %s", id, error);
out:
	queue_env_free(&env);
	sbuf_release(&msg);
	close(fd);
	return queued;
}

static bool in_list(char **ids, const char *id)
{
	for (size_t i = 0; ids != NULL && ids[i] != NULL; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

int queue_run(struct queue *q, const struct queue_handlers *h, int64_t now, unsigned flags,
	      struct queue_run_stats *stats_r)
{
	struct queue_run_stats st = { 0 };
	char **ids = NULL, **seen = NULL;
	const char *error;
	bool again;

	queue_collect_orphans(q, now);
	/* Bounces queued by this pass are tried in a second one, so a
	 * bounce to a local sender does not wait for the next run. */
	for (int pass = 0; pass < 2; pass++) {
		if (queue_list(q, &ids, NULL, &error) < 0) {
			log_error("queue: %s", error);
			queue_ids_free(&seen);
			return -1;
		}
		again = false;
		for (size_t i = 0; ids[i] != NULL && !interrupted; i++)
			if (!in_list(seen, ids[i]))
				again |= run_entry(q, h, ids[i], now, flags, &st);
		queue_ids_free(&seen);
		seen = ids;
		ids = NULL;
		if (!again || interrupted)
			break;
	}
	if (interrupted)
		log_info("queue run interrupted; the rest stays queued");
	queue_ids_free(&seen);
	if (stats_r != NULL)
		*stats_r = st;
	return 0;
}
