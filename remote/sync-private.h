/* The inside of `loft sync` mirror mode: the LMDB state (remote/sync_state.c),
 * the IMAP pieces the client did not need (remote/sync_imap.c), the work on
 * one folder pair (remote/sync_folder.c, remote/sync_copy.c).
 *
 * State, one LMDB environment per account in STATE_DIR/sync/ACCOUNT, one
 * database, keys led by a letter and the local folder name:
 *   F folder              -> struct sync_folder_rec + the last error text
 *   A ""                  -> the same for the account (its connection)
 *   L folder \0 LUID(BE)  -> struct sync_pair + the keywords agreed
 *   R folder \0 RUID(BE)  -> LUID (4 bytes)
 *   I folder \0 K UID(BE) -> intent K ('D' download of remote UID, 'U'
 *                            upload of local UID), written and committed
 *                            before the step, removed with its pair; its
 *                            value: "" or an upload's token
 * A pair whose ruid is 0 is a local tombstone (a message deliberately not
 * uploaded: expunged upstream with sync_expunge not applying it here); an
 * R record whose LUID is 0 is a remote tombstone.  A UID is never paired
 * twice: sync_pair_put refuses it.
 *
 * Every call that reads or writes needs the one transaction opened by
 * sync_state_begin (a write transaction: only one `loft sync` of an
 * account runs at a time, under STATE_DIR/sync/ACCOUNT/lock).  Errors: -1
 * with *error_r malloc'd. */
#ifndef LOFT_REMOTE_SYNC_PRIVATE_H
#define LOFT_REMOTE_SYNC_PRIVATE_H

#include "remote/sync.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct remote_conn;
struct store;
struct store_folder;

/* ---- state: remote/sync_state.c ---- */

struct sync_state;

struct sync_folder_rec {
	uint32_t local_uidvalidity, remote_uidvalidity;	/* 0: never synced */
	uint64_t remote_modseq;		/* HIGHESTMODSEQ after the last sync; 0: none */
	uint64_t local_modseq;		/* the store's HIGHESTMODSEQ after it */
	uint32_t remote_last_uid;	/* every remote UID up to it was handled */
	uint32_t local_last_uid;	/* every local UID up to it was handled */
	int64_t last_success;		/* time of the last complete sync; 0: none */
	int64_t last_attempt;
	uint32_t remote_count;		/* remote UIDs paired or tombstoned, present then */
	uint32_t pad;
};

struct sync_pair {
	uint32_t luid, ruid;		/* ruid 0: local tombstone */
	uint32_t flags;			/* the flags both sides last agreed on */
	uint32_t size;			/* RFC822.SIZE (CRLF form) */
	uint64_t idhash;		/* sync_id_hash of its Message-ID; 0: none */
	char *keywords;			/* agreed keywords, space-separated; malloc'd */
};

/* Opens (creating) STATE_DIR/sync/ACCOUNT and takes its lock (a second
 * sync of the account fails with "running").  *st_r, or -1. */
int sync_state_open(const char *state_dir, const char *account, struct sync_state **st_r,
		    char **error_r);
/* The same without the lock, for reading only (--status beside a running
 * sync): every transaction sync_state_begin opens is read-only. */
int sync_state_open_read(const char *state_dir, const char *account,
			 struct sync_state **st_r, char **error_r);
void sync_state_close(struct sync_state **stp);
int sync_state_begin(struct sync_state *st, char **error_r);
/* Commits (one fsync) and begins the next transaction at once when again. */
int sync_state_commit(struct sync_state *st, bool again, char **error_r);
void sync_state_abort(struct sync_state *st);

/* 1 found (*r, and *error_text_r malloc'd or NULL when not NULL), 0 none
 * (*r zeroed), -1. */
int sync_folder_get(struct sync_state *st, const char *folder, struct sync_folder_rec *r,
		    char **error_text_r, char **error_r);
int sync_folder_put(struct sync_state *st, const char *folder, const struct sync_folder_rec *r,
		    const char *error_text, char **error_r);
/* The account's own record (errors before any folder: the server
 * unreachable, the login refused): as sync_folder_get/put. */
int sync_account_get(struct sync_state *st, struct sync_folder_rec *r, char **error_text_r,
		     char **error_r);
int sync_account_put(struct sync_state *st, const struct sync_folder_rec *r,
		     const char *error_text, char **error_r);
/* Names of every folder with a record, into *names_r (each and the array
 * malloc'd). */
int sync_folder_names(struct sync_state *st, char ***names_r, size_t *n_r, char **error_r);
/* Drops the folder's pairs, intents and record (a UIDVALIDITY change is
 * re-paired from the pairs read before; a folder deleted). */
int sync_folder_drop(struct sync_state *st, const char *folder, char **error_r);

/* Every pair and tombstone of folder, in LUID order (tombstones of remote
 * UIDs last, with luid 0): *pairs_r (sync_pairs_free).  -1 on error. */
int sync_pairs_load(struct sync_state *st, const char *folder, struct sync_pair **pairs_r,
		    size_t *n_r, char **error_r);
void sync_pairs_free(struct sync_pair *pairs, size_t n);
/* Stores p (a pair, or a tombstone with one uid 0).  Refuses (-1, "paired
 * twice") a UID already paired with another. */
int sync_pair_put(struct sync_state *st, const char *folder, const struct sync_pair *p,
		  char **error_r);
/* Removes the pair of luid (and its R record); luid 0 and ruid: a remote
 * tombstone. */
int sync_pair_del(struct sync_state *st, const char *folder, uint32_t luid, uint32_t ruid,
		  char **error_r);
/* The LUID paired with ruid: 1 with *luid_r (0: a tombstone), 0 none, -1. */
int sync_pair_by_remote(struct sync_state *st, const char *folder, uint32_t ruid,
			uint32_t *luid_r, char **error_r);

int sync_intent_put(struct sync_state *st, const char *folder, char kind, uint32_t uid,
		    char **error_r);
/* The same with a token: the value of the X-Loft-Sync-Token header an
 * upload carries when the server has no UIDPLUS (sync_copy.c). */
int sync_intent_put_token(struct sync_state *st, const char *folder, char kind, uint32_t uid,
			  const char *token, char **error_r);
/* The token of an intent: 1 with *token_r (malloc'd), 0 none (no intent,
 * or one without a token), -1. */
int sync_intent_token(struct sync_state *st, const char *folder, char kind, uint32_t uid,
		      char **token_r, char **error_r);
int sync_intent_del(struct sync_state *st, const char *folder, char kind, uint32_t uid,
		    char **error_r);
/* The UIDs of folder's intents of kind, ascending, into *uids_r (free). */
int sync_intents(struct sync_state *st, const char *folder, char kind, uint32_t **uids_r,
		 size_t *n_r, char **error_r);

/* 64-bit FNV-1a of a Message-ID's text between < and > (else the trimmed
 * text); 0 for none or an empty one. */
uint64_t sync_id_hash(const char *id, size_t len);
/* 64-bit FNV-1a of a whole message with its line ends as LF (so the
 * store's copy and the server's CRLF one hash alike): what tells apart
 * messages that share a Message-ID and a size. */
uint64_t sync_content_hash(const char *data, size_t len);

/* ---- one folder pair: remote/sync_folder.c, remote/sync_copy.c ---- */

/* Flags mirrored (\Recent is per session, never copied). */
#define SYNC_FLAGS_MASK 0x3fu

struct sync_ctx {
	struct sync_state *st;
	struct remote_conn *conn;
	struct store *store;
	const struct remote_sync_options *opt;
	struct remote_sync_stats *stats;
	bool expunge_here;		/* sync_expunge both or local */
	bool expunge_there;		/* sync_expunge both or remote */
	bool local_changed;		/* mail added or changed in the store: index */
	const char *index_root, *index_db;	/* the store's root and notmuch_database */
	struct sync_indexer *indexer;	/* started by the first download; NULL */
	struct index *flag_index;	/* the notmuch writer of flag renames; NULL */
	bool flag_index_off;		/* not to be opened (again) this run */
	/* Successes written by the run's last commit (sync_record_quiet), not
	 * one commit (two disk syncs) each: the account reached, and the
	 * folders found unchanged, which had nothing else to write. */
	bool account_reached;
	char **quiet;
	size_t n_quiet;
};

/* Notes that the unchanged folder local was synced (sync.c). */
void sync_note_quiet(struct sync_ctx *ctx, const char *local);

/* What a folder's run works on (sync_folder.c fills it, sync_copy.c
 * copies messages with it). */
struct sync_run {
	struct sync_ctx *ctx;
	const char *local, *remote;	/* the pair's names */
	struct store_folder *f;
	struct sync_folder_rec rec;
	struct sync_pair *pairs;	/* by luid, then remote tombstones */
	size_t n_pairs;
	uint32_t *known;		/* remote UIDs paired or tombstoned, sorted */
	size_t n_known;
	uint32_t *down;			/* remote UIDs to download, ascending */
	size_t n_down;
	uint32_t *up;			/* local UIDs to upload, ascending */
	size_t n_up;
	uint32_t max_ruid;		/* highest remote UID this run saw or made */
	size_t n_new_known;		/* remote UIDs paired by this run */
	size_t n_removed;		/* known remote UIDs expunged by this run */
};

/* Called before the first change to the store's mail in a run: sets
 * ctx->local_changed and marks the index as behind (index_pending_mark),
 * so that a run killed after the change leaves the mark. */
void sync_local_change(struct sync_ctx *ctx);

/* Syncs the pair local (store name) <-> remote (server name); both exist.
 * 0, or -1 with *error_r (the state keeps what was committed). */
int sync_folder_run(struct sync_ctx *ctx, const char *local, const char *remote, char **error_r);
/* Downloads run->down, then uploads run->up, in batches each committed
 * with its pairs (intents first).  0, or -1. */
int sync_copy_down(struct sync_run *run, char **error_r);
int sync_copy_up(struct sync_run *run, char **error_r);
/* The Message-ID hash and CRLF size of local message luid (from the
 * snapshot's thread key and size when it has them, else the file). */
int sync_local_identity(struct sync_run *run, uint32_t luid, uint64_t *idhash_r,
			uint32_t *size_r, char **error_r);

/* A flag change to make on one side: uid gets +add -del. */
struct flag_op {
	uint32_t uid, add, del;
};
/* Runs ops (sorted here) on the store (here) or the server, grouped by
 * change: one store call or one UID STORE each (sync_folder.c).  0, or
 * -1. */
int sync_apply_flags(struct sync_run *run, struct flag_op *ops, size_t n, bool here,
		     char **error_r);

/* Pairs the new messages of run->down and run->up that are one message
 * (a copy a killed run made before committing its pair), when the state
 * holds intents of downloads or uploads; then drops every intent.  0, or
 * -1. */
int sync_match_intents(struct sync_run *run, bool downloads, bool uploads, char **error_r);
/* After a UIDVALIDITY change (side: "on the server", "here"): drops the
 * folder's pairs and pairs every local message with the remote one of
 * ruids[0..n) that has its Message-ID and size; the rest become
 * run->down and run->up.  One line through opt->note unless side is NULL
 * (a first sync of two folders that both hold mail).  0, or -1. */
int sync_match_all(struct sync_run *run, const uint32_t *ruids, size_t n_ruids,
		   const char *side, char **error_r);
/* The header that finds an upload again on a server without UIDPLUS when
 * the message has no Message-ID to search for (mbsync's X-TUID). */
#define SYNC_TOKEN_HEADER "X-Loft-Sync-Token"
/* The remote UID of the message whose SYNC_TOKEN_HEADER is token and
 * that no pair holds (the highest if several): 1 with *ruid_r, 0 none,
 * -1.  Needs the folder selected. */
int sync_find_token(struct sync_run *run, const char *token, uint32_t *ruid_r, char **error_r);
/* qsort/bsearch order of uint32_t UIDs. */
int sync_cmp_uid(const void *a, const void *b);

/* ---- indexing beside the download: remote/sync_index.c ---- */

/* A full sync spends as long indexing as downloading; the indexer indexes
 * each stored batch in a child process while the next one downloads.  The
 * catch-up scan at the end stays the authority (it indexes what the child
 * missed).  start: closes ctx->flag_index first (the child becomes the
 * writer); NULL when it cannot run (the scan then does it all).
 * add: the file dir/location, just stored (nothing when x is NULL or the
 * child is gone).  finish: waits for the child to commit and exit; frees
 * *xp and sets it to NULL (NULL-safe). */
struct sync_indexer;
struct sync_indexer *sync_indexer_start(struct sync_ctx *ctx);
void sync_indexer_add(struct sync_indexer *x, const char *dir, const char *location);
void sync_indexer_finish(struct sync_indexer **xp);

/* Flag changes here told to the index as the store makes them
 * (index_flag_rename through the store's flags hook: one load of each
 * message's document, where the catch-up scan would parse each renamed
 * file again and load it three times).  on: around the store's flag calls
 * on run->f; opens the notmuch writer on first use, unless the indexer
 * child holds it.  off: removes the hook.  Anything not done this way is
 * left to the store's rename and the catch-up scan, so a failure is
 * silent. */
void sync_index_flags(struct sync_run *run, bool on);
/* Commits and closes ctx->flag_index (NULL-safe): before another writer
 * (the indexer child, the catch-up) opens the index. */
void sync_index_release(struct sync_ctx *ctx);

/* ---- keywords: remote/sync_keywords.c ---- */

/* The keywords of a pair after a three-way merge with base: a word is
 * dropped when one side removed it, else kept when either side has it.
 * Malloc'd. */
char *sync_keywords_merge(const char *base, const char *here, const char *there);
/* The same words, in any order and case.  NULL is "". */
bool sync_keywords_equal(const char *a, const char *b);
/* Makes both sides of p hold merged (here, there: what they hold now):
 * the store's keywords, and the server's with UID STORE.  0; 1 when the
 * server keeps no new keywords in this folder (the store has them, the
 * server not); -1 with *error_r. */
int sync_keywords_apply(struct sync_run *run, const struct sync_pair *p, const char *here,
			const char *there, const char *merged, char **error_r);

/* ---- IMAP: remote/sync_imap.c ---- */

/* APPEND data to folder with flags and internal date (0: none), LITERAL+
 * when offered.  *uid_r: the APPENDUID's UID (UIDPLUS), else 0.  0, or -1. */
int sync_imap_append(struct remote_conn *c, const char *folder, const char *data, size_t len,
		     uint32_t flags, const char *keywords, int64_t date, uint32_t *uid_r,
		     char **error_r);
/* verb ("CREATE", "DELETE") folder (UTF-8).  0, or -1 (a CREATE of an
 * existing folder is not an error). */
int sync_imap_folder_cmd(struct remote_conn *c, const char *verb, const char *folder,
			 char **error_r);
/* The Message-ID of an IMAP ENVELOPE string (its last field) as quoted
 * there: true with *id_r pointing into envelope and *len_r, false when
 * NIL or not a string. */
bool sync_envelope_msgid(const char *envelope, const char **id_r, size_t *len_r);
/* The Message-ID of an IMAP ENVELOPE string (its last field): sync_id_hash
 * of it, 0 when NIL. */
uint64_t sync_envelope_idhash(const char *envelope);
/* The Message-ID header of a message: sync_id_hash of it, 0 when none. */
uint64_t sync_message_idhash(const char *data, size_t len);

#endif
