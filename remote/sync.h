/* `loft sync`: an upstream account kept in step with the store.
 *
 * Mirror mode (remote/sync*.c) is two-way: new messages, flags and
 * keywords (notmuch tags), expunges as sync_expunge says, folders created
 * on either side.  Pull mode (remote/pull.c) fetches new messages and
 * hands them to delivery.  Both keep their state in LMDB under
 * STATE_DIR/sync/ACCOUNT, never in file names.
 *
 * Blocking: both calls block on the network (each wait bounded by the
 * account's imap_timeout) and on the store; they open the store and the
 * connection themselves and close them before returning.
 * Errors: -1 (REMOTE_SYNC_TEMP) for what may pass by itself (the server,
 * the network, a locked store, a full disk), -2 (REMOTE_SYNC_UNAVAILABLE)
 * for what will not (no such account, no imap_url, libetpan missing, a
 * mode not built); *error_r malloc'd, the caller frees.  Nothing here
 * prints: lines for the user go to opt->note. */
#ifndef LOFT_REMOTE_SYNC_H
#define LOFT_REMOTE_SYNC_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct sbuf;

enum remote_sync_result {
	REMOTE_SYNC_OK = 0,
	REMOTE_SYNC_TEMP = -1,
	REMOTE_SYNC_UNAVAILABLE = -2,
};

struct remote_sync_options {
	/* --delete-folders: a folder deleted on one side is deleted on the
	 * other (else it is only reported through note). */
	bool delete_folders;
	/* One line for the user (a folder gone on one side, a UIDVALIDITY
	 * change recovered); NULL: dropped.  line is valid during the call. */
	void (*note)(void *ctx, const char *line);
	void *ctx;
	/* NULL: every folder sync_folders names.  Else only the pair whose
	 * store name is folder ("INBOX", "Lists/a"; pull mode: the server
	 * folder of that name), e.g. the daemon after an IDLE EXISTS. */
	const char *folder;
};

/* What one sync did, summed over the account's folders. */
struct remote_sync_stats {
	size_t folders;			/* folder pairs synced */
	size_t downloaded;		/* messages copied from the server to the store */
	size_t uploaded;		/* messages copied from the store to the server */
	size_t flags_local;		/* messages whose flags or tags changed in the store */
	size_t flags_remote;		/* messages whose flags or keywords changed upstream */
	size_t expunged_local;		/* messages expunged from the store */
	size_t expunged_remote;		/* messages expunged upstream */
};

/* Mirrors account (a `sync = mirror` block) with the store.  *stats_r
 * (may be NULL) is filled even on failure with what was done before it. */
enum remote_sync_result remote_sync_mirror(const struct config *cfg, const char *account,
					   const struct remote_sync_options *opt,
					   struct remote_sync_stats *stats_r, char **error_r);
/* Pulls account (a `sync = pull` block) into the store through delivery. */
enum remote_sync_result remote_sync_pull(const struct config *cfg, const char *account,
					 const struct remote_sync_options *opt,
					 struct remote_sync_stats *stats_r, char **error_r);

/* Whether the folder name (the store's form, "Lists/a") is one that the
 * sync_folders value patterns selects: it matches a pattern and the last
 * one it matches does not start with '!' (INBOX in any case). */
bool remote_sync_folder_wanted(const char *patterns, const char *name);

/* `loft sync --status` of a pull account: per folder the last success,
 * the highest UID pulled, the messages waiting for pull_after upstream or
 * left in flight by a crash, and the last error (remote/pull.c). */
enum remote_sync_result remote_sync_pull_status(const struct config *cfg, const char *account,
						struct sbuf *out, char **error_r);

/* `loft sync --status`: appends to out, per folder pair of account, the
 * last success, the last error and the pairs known, from the state alone
 * (no connection).  0, or a remote_sync_result with *error_r. */
enum remote_sync_result remote_sync_status(const struct config *cfg, const char *account,
					   struct sbuf *out, char **error_r);

#endif
