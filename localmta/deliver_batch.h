/* deliver batch: the delivery path for many messages at once (the upstream
 * pull).  Each message still goes through everything deliver_message()
 * does -- loop checks, duplicate check, Sieve, imap4flags -- and its copy
 * is written in the target folder's tmp/ before deliver_batch_add()
 * returns; what is shared is the fsyncs (back to back), the publishing,
 * one state transaction and one notmuch commit per folder per batch
 * (store/batch.h), at deliver_batch_commit().
 *
 * Nothing added is in the store before the commit returns 0: a caller
 * tells its upstream nothing before then.  A commit that fails part-way
 * (one folder committed, another not) returns -1; retrying the same
 * messages with a token and maybe_delivered (deliver.h) stores each only
 * where it is missing.  Sieve redirects are queued at once, not at the
 * commit.
 *
 * Open the agent with defer_index false (this process is the notmuch
 * writer for the batch); one batch at a time per agent.  Ownership: the
 * batch borrows the agent until commit or abort (each frees it and sets
 * the pointer to NULL).  Blocking: disk I/O, the folders' writer locks
 * and the notmuch writer at the commit. */
#ifndef LOFT_LOCALMTA_DELIVER_BATCH_H
#define LOFT_LOCALMTA_DELIVER_BATCH_H

#include "localmta/deliver.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct deliver_batch;
struct store;

/* Starts a batch on agent (which must have none).  Never fails. */
struct deliver_batch *deliver_batch_begin(struct deliver *agent);
/* deliver_message() into the batch: the same statuses and answers, with
 * DELIVER_OK meaning "written, made durable and published at the commit". */
enum deliver_status deliver_batch_add(struct deliver_batch *b, const struct deliver_request *req,
				      char **answer_r);
/* Messages added and their bytes held until the commit (the batch keeps
 * a copy of each): callers commit when either grows too big. */
size_t deliver_batch_count(const struct deliver_batch *b);
size_t deliver_batch_bytes(const struct deliver_batch *b);
/* Publishes everything added.  0, or -1 with *error_r (malloc'd, caller
 * frees); frees the batch either way. */
int deliver_batch_commit(struct deliver_batch **bp, char **error_r);
/* Drops what was not committed; frees the batch.  NULL-safe. */
void deliver_batch_abort(struct deliver_batch **bp);

/* ---- for deliver.c only ---- */

/* store_append() of one message of a batch into folder (created first
 * when create and missing).  0, or -1 with *error_r owned by store. */
int deliver_batch_store(struct deliver_batch *b, struct store *store, const char *folder,
			bool create, const char *data, size_t len, uint32_t flags,
			const char *keywords, const char **error_r);
/* The Message-ID to record in the duplicate log at the commit (a
 * message not published must not count as seen). */
void deliver_batch_dup(struct deliver_batch *b, const char *msgid);
/* Makes agent's appends go to b (NULL: to the store at once); set by
 * deliver_batch_begin, cleared at commit or abort (deliver.c). */
void deliver_set_batch(struct deliver *agent, struct deliver_batch *b);
/* Records msgid in agent's duplicate log (deliver.c; nothing when off). */
void deliver_record_dup(struct deliver *agent, const char *msgid);

#endif
