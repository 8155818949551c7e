/* deliver: the one delivery path into the store — used by the queue runner,
 * `loft deliver`, and later the SMTP inbound listener and the fetcher.
 *
 * For each message: loop and duplicate checks, the user's Sieve script (no
 * script: keep), then an append of the message to each chosen folder
 * through the store (fsynced before the call returns), with imap4flags as
 * flags and keywords and, with `index_on_delivery`, notmuch indexing (at
 * once, or deferred to the next reader: deliver_open()).  A
 * Sieve error at delivery time files the message into the default folder
 * and logs the error: a filter mistake never loses mail.
 *
 * Ownership: the agent copies nothing it is given beyond the call; answers
 * (*answer_r) are malloc'd and the caller frees them.  Blocking: every call
 * blocks on disk I/O, and on the notmuch writer lock when indexing. */
#ifndef LOFT_LOCALMTA_DELIVER_H
#define LOFT_LOCALMTA_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct queue;
struct deliver;

/* Opens the store (creating the root and INBOX when missing) and compiles
 * the `sieve` script if the file exists.  q (may be NULL) is where Sieve
 * redirects are queued; without it a redirect is kept instead.  A script
 * that does not compile is logged and delivery keeps everything.
 * defer_index (one process per message, `loft deliver`): with
 * `index_on_delivery`, notmuch is not opened; each delivery marks the
 * index as behind instead (index_pending_mark()) and the next `loft
 * search`, `loft tag` or `loft index` indexes it.
 * 0, or -1 with *error_r (malloc'd, caller frees). */
int deliver_open(const struct config *cfg, struct queue *q, bool defer_index,
		 struct deliver **agent_r, char **error_r);
void deliver_close(struct deliver **agentp);

enum deliver_status {
	DELIVER_OK,		/* stored (or deliberately discarded) */
	DELIVER_ALREADY,	/* token found: delivered by an earlier attempt */
	DELIVER_TEMPFAIL,	/* try again later (disk full, lock timeout...) */
	DELIVER_PERMFAIL,	/* never acceptable (not a message, a mail loop) */
};

struct deliver_request {
	const char *data;	/* the message as received */
	size_t len;
	const char *sender;	/* envelope sender; "" for <>, NULL if unknown */
	const char *rcpt;	/* envelope recipient, NULL if unknown */
	const char *folder;	/* default folder instead of INBOX (deliver -m), or NULL */
	/* A string stable across attempts of this delivery (the queue's
	 * "ID/N"); recorded in an X-Loft-Delivery header so that, with
	 * maybe_delivered, a retry after a crash finds the earlier copy and
	 * does not store it twice.  NULL: none. */
	const char *token;
	/* IMAP keywords the message comes with (a pull), space separated,
	 * added to each place it is stored (as notmuch tags too), or NULL. */
	const char *keywords;
	bool maybe_delivered;
	/* Sieve redirects, made exactly once by a caller that keeps its own
	 * record (pull mode): on a maybe_delivered retry, redirected(ctx,
	 * address) true means an earlier attempt queued that redirect (it is
	 * not queued again); once a redirect is queued (fsynced),
	 * on_redirect(ctx, address) records it.  NULL: none (a retry queues
	 * the redirect again). */
	bool (*redirected)(void *ctx, const char *address);
	void (*on_redirect)(void *ctx, const char *address);
	void *redirect_ctx;
};

/* Delivers one message.  *answer_r (may be left NULL) gets a one-line
 * answer: where it went, or why not, with an enhanced status code. */
enum deliver_status deliver_message(struct deliver *agent, const struct deliver_request *req,
				    char **answer_r);

/* True once a Sieve redirect was queued (the caller should run the queue). */
bool deliver_queued(const struct deliver *agent);

#endif
