/* Pull mode's inside (remote/pull*.c, remote/pop3*.c): the state of what
 * was pulled, the hand-over to delivery, and the POP3 side.
 *
 * State: one LMDB environment per account, STATE_DIR/sync/ACCOUNT/pull,
 * keys KIND NUL FOLDER NUL KEY (FOLDER "POP3" for a POP3 account):
 *   'f' ""      the folder's UIDVALIDITY and highest UID pulled (8 bytes)
 *   'd' MATCH   a message delivered (MATCH: pull_match_key below)
 *   'i' MATCH   an intent: written before the message is handed to
 *               delivery, removed with the 'd' record in one commit; one
 *               found later means a crash in between, and the message is
 *               delivered again only where its token is not in the store
 *   'a' UID     pull_after still to apply upstream (decimal UID)
 *   'u' UIDL    a POP3 message delivered
 *   'r' UIDL    a POP3 message delivery refused for good (left alone)
 *   'R' MATCH\tADDRESS  a Sieve redirect of MATCH queued (committed at
 *               once), so that a retry after a crash does not queue it
 *               again; removed with the 'i' record
 *   'F' NAME    (folder "") a folder pulled, for --status
 *   's' ""      "TIME" of the folder's last success; 'e' "" "TIME TEXT"
 *               of its last error (cleared by a success)
 * Errors: -1 with *error_r malloc'd.  Nothing prints. */
#ifndef LOFT_REMOTE_PULL_PRIVATE_H
#define LOFT_REMOTE_PULL_PRIVATE_H

#include "remote/sync.h"
#include "lib/sbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct deliver;

struct pull_state;
struct pull_txn;

/* Opens (creating) the state of account under state_dir.  0 or -1. */
int pull_state_open(const char *state_dir, const char *account, struct pull_state **ps_r,
		    char **error_r);
void pull_state_close(struct pull_state **psp);
/* The folder's record: 1 with both set, 0 when none (both 0), -1. */
int pull_state_folder(struct pull_state *ps, const char *folder, uint32_t *uidvalidity_r,
		      uint32_t *last_uid_r, char **error_r);
/* The value of KIND/FOLDER/"" into *value_r (malloc'd): 1, or 0 when
 * there is none (read errors too). */
int pull_state_value(struct pull_state *ps, char kind, const char *folder, char **value_r);
/* Whether KIND/FOLDER/KEY is recorded (read errors read as "no"). */
bool pull_state_has(struct pull_state *ps, char kind, const char *folder, const char *key);
/* Every key of KIND/FOLDER, in key order, to fn; 0 or -1. */
int pull_state_keys(struct pull_state *ps, char kind, const char *folder,
		    void (*fn)(const char *key, void *ctx), void *ctx, char **error_r);

/* A write transaction (one fsync at the commit).  Commit and abort free
 * it and set the pointer to NULL; abort is NULL-safe. */
int pull_txn_begin(struct pull_state *ps, struct pull_txn **t_r, char **error_r);
int pull_txn_commit(struct pull_txn **tp, char **error_r);
void pull_txn_abort(struct pull_txn **tp);
int pull_txn_set_folder(struct pull_txn *t, const char *folder, uint32_t uidvalidity,
			uint32_t last_uid, char **error_r);
int pull_txn_put(struct pull_txn *t, char kind, const char *folder, const char *key,
		 char **error_r);
/* Sets KIND/FOLDER/"" to the text value. */
int pull_txn_put_value(struct pull_txn *t, char kind, const char *folder, const char *value,
		       char **error_r);
/* Removes one key (missing: not an error), or every key of KIND/FOLDER
 * when key is NULL. */
int pull_txn_del(struct pull_txn *t, char kind, const char *folder, const char *key,
		 char **error_r);

/* ---- the hand-over: remote/pull.c ---- */

/* A batch: enough to pay one state and notmuch commit for many messages,
 * few enough that a retry's token search (the newest 200 messages of a
 * folder) sees the whole batch, and bounded in memory. */
#define PULL_BATCH 100
#define PULL_BATCH_BYTES (32u * 1024 * 1024)

/* What pull_after says. */
enum pull_after { PULL_KEEP, PULL_SEEN, PULL_MOVE, PULL_DELETE };

/* The identity of a pulled message for matching (a crash between delivery
 * and the state, a UIDVALIDITY change): "SIZE <Message-ID>", or "SIZE
 * #HASH" (FNV-1a of the bytes) without a usable Message-ID.  Malloc'd. */
char *pull_match_key(const char *data, size_t len);

/* A message fetched, waiting for its batch. */
struct pull_msg {
	char *id;			/* UID (decimal) or UIDL */
	char *match;			/* pull_match_key */
	struct sbuf data;
	char *keywords;			/* IMAP: its keywords upstream (become tags), or NULL */
	bool skip;			/* delivered before ('d' record): not again */
	bool refused;			/* delivery refused it for good (a loop...) */
};

/* The delivery side of one pull: the agent and the state. */
struct pull_run {
	const struct config *cfg;
	const char *account;
	const struct remote_sync_options *opt;
	struct remote_sync_stats *stats;
	struct pull_state *state;
	struct deliver *agent;
};

/* Delivers msgs[0..n) of folder exactly once: intents committed, a
 * delivery batch, then one commit of the 'd' records (and for IMAP the
 * folder's last UID and the 'a' records of messages to act on).  ids
 * marked skip are only recorded.  0, or -1 with *error_r (nothing after
 * the failing step happened). */
int pull_deliver(struct pull_run *run, const char *folder, struct pull_msg *msgs, size_t n,
		 uint32_t uidvalidity, uint32_t last_uid, bool after, char **error_r);
void pull_msgs_clear(struct pull_msg *msgs, size_t n);
/* The folder name errors of the whole account (no connection) go under. */
#define PULL_ACCOUNT "(account)"
/* Records the outcome of pulling folder for --status: a success (error
 * NULL) or the error; logged, never fatal. */
void pull_record(struct pull_run *run, const char *folder, const char *error);
/* A note line for the user through run->opt. */
void pull_note(struct pull_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- POP3: remote/pop3.c ---- */

/* Pulls the account's pop3_url through run; after is PULL_KEEP or
 * PULL_DELETE. */
enum remote_sync_result pop3_pull(struct pull_run *run, const char *url, enum pull_after after,
				  char **error_r);

#endif
