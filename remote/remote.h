/* remote: mailboxes on other IMAP servers, through libetpan's mailimap over
 * loft's own OpenSSL stream driver (Debian's libetpan verifies no
 * certificate).  Used by the client's IMAP mailbox driver and by the
 * upstream sync.
 *
 * Security: imaps:// is TLS from the first byte, imap:// requires STARTTLS
 * (a server that does not offer it is refused), imap+insecure:// is
 * plaintext and only to a loopback address.  Certificates are verified
 * against the system store or imap_ca with the host name checked, or only
 * against a pinned imap_fingerprint.  Every check runs before a credential
 * is fetched or sent.
 *
 * Blocking: remote_connect and every call taking a struct remote_conn block
 * on the network, each wait bounded by the account's timeout; run them off
 * the UI's thread.  remote_cancel is the one call safe from another thread.
 *
 * Memory: strings and arrays returned through _r are malloc'd and the
 * caller frees them (the _free/_clear function named next to each).
 * Errors: -1 (or NULL) with *error_r a malloc'd message saying what failed
 * in words a user can act on; nothing here prints or exits. */
#ifndef LOFT_REMOTE_REMOTE_H
#define LOFT_REMOTE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct mailimap;
struct sbuf;

/* ---- URLs: remote/url.c ---- */

enum remote_security {
	REMOTE_TLS,		/* imaps://HOST[:993] */
	REMOTE_STARTTLS,	/* imap://HOST[:143], STARTTLS required */
	REMOTE_PLAIN,		/* imap+insecure://HOST[:143], loopback only */
};

struct remote_url {
	enum remote_security security;
	char *user;		/* percent-decoded; NULL when the URL has none */
	char *host;		/* bare host, for SNI and the certificate check */
	char *hostport;		/* what net_connect takes */
	char *folder;		/* percent-decoded UTF-8; "INBOX" when the URL has none */
};

/* True when text starts with one of the IMAP schemes (case-insensitive),
 * i.e. `loft -f` should treat it as a remote folder. */
bool remote_url_is(const char *text);
/* Parses imaps://user@host:port/Folder and friends (lib/url.h grammar).
 * 0 with *u filled (remote_url_clear frees it), or -1 with *error_r. */
int remote_url_parse(const char *text, struct remote_url *u, char **error_r);
void remote_url_clear(struct remote_url *u);

/* ---- accounts: remote/account.c ---- */

struct remote_account {
	char *name;			/* account block name, or for `loft -f URL` the
					 * URL without its folder */
	struct remote_url url;
	char *user;			/* imap_user, else the URL's user; NULL: none */
	char *password_command;		/* imap_password_command; NULL: none */
	char *oauth_token_command;	/* imap_oauth_token_command; NULL: none */
	char *ca;			/* imap_ca; NULL: the system store */
	char *fingerprint;		/* imap_fingerprint; NULL: verify the chain */
	int timeout_ms;			/* each wait for the server (imap_timeout) */
	int poll_ms;			/* the client's news poll without IDLE (imap_poll) */
};

/* The account NAME's settings (imap_url and friends from its block, the
 * global value where the block has none).  0, or -1 with *error_r (no
 * such account, no imap_url, a bad one).  remote_account_clear frees *a. */
int remote_account_load(const struct config *cfg, const char *name, struct remote_account *a,
			char **error_r);
/* The same for a bare URL (`loft -f imaps://...`): the settings of the
 * first account whose imap_url names the same server (and user, when both
 * name one), else the global imap_* settings. */
int remote_account_from_url(const struct config *cfg, const char *url, struct remote_account *a,
			    char **error_r);
void remote_account_clear(struct remote_account *a);

/* ---- connections: remote/conn.c, remote/auth.c ---- */

struct remote_conn;

/* Connects (no DNS for a literal address), sets up TLS as the URL says and
 * verifies the certificate, reads the greeting and the capabilities, logs
 * in -- OAUTHBEARER or XOAUTH2 with the token command's output when
 * imap_oauth_token_command is set (a refused token is replaced at once,
 * once, by the command's next one: it may have expired on the way), else AUTHENTICATE PLAIN (SASL-IR when
 * offered) or LOGIN with the password command's output -- and sends ENABLE
 * QRESYNC (or CONDSTORE) when offered.  Blocks.  The connection, or NULL
 * with *error_r ("certificate of HOST not trusted: REASON; pin it with
 * imap_fingerprint SHA256:...", "login refused by HOST ...", "cannot load
 * libetpan.so.20: ..." when the library is missing). */
struct remote_conn *remote_connect(const struct remote_account *a, char **error_r);
/* LOGOUT (bounded by the timeout) unless the session is out of step,
 * close, free; NULL-safe, sets *cp NULL. */
void remote_close(struct remote_conn **cp);
/* Makes a call blocked in another thread fail at once (shuts the socket
 * down); the connection is then only fit for remote_close. */
void remote_cancel(struct remote_conn *c);
/* The libetpan session, logged in, for the mailimap_* calls (owned by c). */
struct mailimap *remote_imap(struct remote_conn *c);
/* True when the server announced capability name ("IDLE", "AUTH=PLAIN"). */
bool remote_has_cap(struct remote_conn *c, const char *name);
/* The SHA-256 fingerprint of the server's certificate ("AB:CD:..."), or
 * NULL on a plaintext connection.  Owned by c. */
const char *remote_fingerprint(const struct remote_conn *c);
/* True when ENABLE QRESYNC (or CONDSTORE) was accepted, or CONDSTORE is
 * offered by a server without ENABLE. */
bool remote_qresync(const struct remote_conn *c);
bool remote_condstore(const struct remote_conn *c);

/* ---- folders: remote/folders.c ---- */

/* The special-use attributes loft looks for (RFC 6154). */
enum remote_special {
	REMOTE_SPECIAL_SENT = 1 << 0,		/* \Sent */
	REMOTE_SPECIAL_DRAFTS = 1 << 1,		/* \Drafts */
	REMOTE_SPECIAL_TRASH = 1 << 2,		/* \Trash */
};

struct remote_folder {
	char *name;		/* UTF-8 (decoded from modified UTF-7) */
	char *wire;		/* the name as the server spells it, for commands */
	char delimiter;		/* hierarchy delimiter, '\0' when flat or unknown */
	bool noselect;		/* \Noselect or \NonExistent: no messages */
	unsigned special;	/* enum remote_special bits from LIST (RFC 6154) */
	bool has_counts;	/* the counts below came back */
	uint32_t messages, unseen, uidnext, uidvalidity;
	uint64_t highestmodseq;	/* with LIST-STATUS and CONDSTORE; else 0 */
};

/* Every folder with MESSAGES, UNSEEN, UIDNEXT and UIDVALIDITY (and
 * HIGHESTMODSEQ with CONDSTORE): one LIST-STATUS (RFC 5819) when offered,
 * else LIST then STATUS per folder.
 * 0 with *folders_r (remote_folders_free) and *n_r, or -1 with *error_r. */
int remote_list_folders(struct remote_conn *c, struct remote_folder **folders_r, size_t *n_r,
			char **error_r);
/* Every folder as remote_list_folders gives it but without counts
 * (has_counts false): one plain LIST.  A count makes a server
 * open the folder (Dovecot reads a 100,000-message maildir's uidlist:
 * 0.4-1 s); a sync that only needs the names asks this.  As
 * remote_list_folders for the result. */
int remote_list_names(struct remote_conn *c, struct remote_folder **folders_r, size_t *n_r,
		      char **error_r);
void remote_folders_free(struct remote_folder *folders, size_t n);

/* SELECTs folder (UTF-8, encoded here).  *exists_r, *uidvalidity_r and
 * *uidnext_r (each may be NULL) from its answer.  0, or -1 with *error_r. */
int remote_select(struct remote_conn *c, const char *folder, uint32_t *exists_r,
		  uint32_t *uidvalidity_r, uint32_t *uidnext_r, char **error_r);

/* ---- IDLE, driven by loft over the stream: remote/idle.c ----
 *
 * libetpan's mailimap_idle fails when an untagged response arrives before
 * "+ idling"; these accept untagged responses before and after it.  A folder
 * must be selected. */

/* What came during IDLE. */
struct remote_idle_news {
	bool exists;		/* "* N EXISTS": new mail (N in count) */
	bool expunge;		/* "* N EXPUNGE" or "* VANISHED" */
	bool fetch;		/* "* N FETCH": flags changed */
	uint32_t count;		/* the last EXISTS number, 0 when none came */
};

/* Sends IDLE and waits for the continuation; untagged responses that come
 * first are added to *news.  0, or -1 with *error_r (the server refused
 * IDLE, the connection failed). */
int remote_idle_start(struct remote_conn *c, struct remote_idle_news *news, char **error_r);
/* Waits up to timeout_ms for untagged responses and adds them to *news;
 * returns at once when *news already holds something.  1 when *news holds
 * something, 0 on timeout, -1 with *error_r (BYE included). */
int remote_idle_wait(struct remote_conn *c, int timeout_ms, struct remote_idle_news *news,
		     char **error_r);
/* Sends DONE and reads up to the tagged OK (responses on the way are added
 * to *news).  0, or -1 with *error_r. */
int remote_idle_done(struct remote_conn *c, struct remote_idle_news *news, char **error_r);
/* The fd to poll for readability while idling (also see
 * remote_idle_pending), for callers that wait on several things. */
int remote_fd(const struct remote_conn *c);
/* True when bytes already read from the server wait in a buffer (poll on
 * remote_fd would not see them). */
bool remote_idle_pending(const struct remote_conn *c);

/* NOOP (the poll of a server without IDLE); the untagged responses it
 * brings are added to *news.  0, or -1 with *error_r. */
int remote_noop(struct remote_conn *c, struct remote_idle_news *news, char **error_r);

/* ---- messages of the selected folder: remote/msgs.c ----
 * Flags are store.h's enum store_flag bits (\Recent as STORE_RECENT,
 * $Forwarded as STORE_PASSED).  Sets of UIDs are ascending arrays. */

/* One message as FETCH gave it. */
struct remote_msg {
	uint32_t uid;
	uint32_t flags;
	uint32_t size;		/* RFC822.SIZE; 0 when not asked */
	int64_t internaldate;	/* seconds; 0 when not asked */
	uint64_t modseq;	/* MODSEQ (CONDSTORE); 0 when the server sent none */
	char *envelope;		/* the IMAP ENVELOPE string; NULL when not asked */
	char *keywords;		/* its keywords but $Forwarded, space separated; NULL: none */
};

/* Most UIDs a caller asks headers for at once: libetpan holds the whole
 * FETCH reply in memory. */
#define REMOTE_FETCH_BATCH 500

/* UID FETCH uids[0..n) (n 0: every message) (UID FLAGS), with
 * headers also RFC822.SIZE INTERNALDATE ENVELOPE.  0 with *msgs_r in UID
 * order (remote_msgs_free) and *n_r, or -1 with *error_r. */
int remote_fetch(struct remote_conn *c, const uint32_t *uids, size_t n, bool headers,
		 struct remote_msg **msgs_r, size_t *n_r, char **error_r);
/* UID FETCH first:last (UID FLAGS), last 0 meaning "*": the messages
 * from UID first to last (and, as RFC 3501 reads "first:*" when first is
 * past the last UID, the last message).  0 with *msgs_r in UID order and
 * *n_r, or -1 with *error_r. */
int remote_fetch_range(struct remote_conn *c, uint32_t first, uint32_t last,
		       struct remote_msg **msgs_r, size_t *n_r, char **error_r);
void remote_msgs_free(struct remote_msg *msgs, size_t n);
/* The whole message uid (BODY.PEEK[], so \Seen is not set) appended to
 * out.  0, or -1 with *error_r (also when the UID is gone). */
int remote_fetch_body(struct remote_conn *c, uint32_t uid, struct sbuf *out, char **error_r);
/* Each message of remote_fetch_bodies: its UID and bytes (valid during
 * the call).  0 to go on, or -1 with *error_r (malloc'd) to stop. */
typedef int remote_body_fn(uint32_t uid, const char *data, size_t len, void *ctx,
			   char **error_r);
/* UID FETCH uids[0..n) (n > 0) (UID BODY.PEEK[]) in one command: fn for
 * each message that came, in the server's order (UIDs gone are skipped).
 * libetpan holds the whole reply in memory: bound n by the messages'
 * RFC822.SIZE.  0, or -1 with *error_r (fn's own when it stopped). */
int remote_fetch_bodies(struct remote_conn *c, const uint32_t *uids, size_t n,
			remote_body_fn *fn, void *ctx, char **error_r);
/* UID STORE +FLAGS.SILENT (op > 0), -FLAGS.SILENT (op < 0) or
 * FLAGS.SILENT (op 0).  0, or -1 with *error_r. */
int remote_store_flags(struct remote_conn *c, const uint32_t *uids, size_t n, int op,
		       uint32_t flags, char **error_r);
/* Marks uids \Deleted and removes them with UID EXPUNGE.  A server
 * without UIDPLUS has only EXPUNGE, which also removes what other clients
 * marked \Deleted: there a UID SEARCH DELETED comes first, and EXPUNGE is
 * sent only when every message it finds is one of uids; otherwise the
 * messages stay marked and the call fails with *error_r saying how many
 * others are marked.  (A message another client marks between the SEARCH
 * and the EXPUNGE goes too: one round trip's window.)  0, or -1. */
int remote_expunge(struct remote_conn *c, const uint32_t *uids, size_t n, char **error_r);
/* Whether uid is in v[0..n), which is ascending (a binary search). */
bool remote_uid_in(const uint32_t *v, size_t n, uint32_t uid);
/* UID COPY to folder (UTF-8); with move, UID MOVE when offered, else the
 * copy then remote_expunge (without UIDPLUS, where other messages are
 * marked \Deleted, nothing is copied and the call fails).  0, or -1 with
 * *error_r. */
int remote_copy(struct remote_conn *c, const uint32_t *uids, size_t n, const char *folder,
		bool move, char **error_r);
/* UID STORE +FLAGS.SILENT (op > 0) or -FLAGS.SILENT (op < 0) of the
 * keywords kw[0..n_kw) (atoms).  Fails, storing nothing, when the
 * selected folder's PERMANENTFLAGS has no \* (no new keywords kept).
 * 0, or -1 with *error_r. */
int remote_store_keywords(struct remote_conn *c, const uint32_t *uids, size_t n, int op,
			  const char *const *kw, size_t n_kw, char **error_r);
/* APPEND data[0..len) to folder with flags.  0, or -1 with *error_r. */
int remote_append(struct remote_conn *c, const char *folder, const char *data, size_t len,
		  uint32_t flags, char **error_r);

/* ---- what changed since a known state (CONDSTORE, QRESYNC): remote/resync.c ----
 * libetpan's mailimap_select_qresync, mailimap_uid_fetch_qresync and
 * mailimap_uid_fetch_changedsince send and parse these; loft only
 * decides which one a server gets. */

/* UIDs first..last (a VANISHED range). */
struct remote_range {
	uint32_t first, last;
};

/* What a SELECT said and, after QRESYNC, what changed since the state
 * the caller knew. */
struct remote_selected {
	uint32_t exists, uidvalidity, uidnext;
	uint64_t highestmodseq;		/* 0: no CONDSTORE for this folder */
	/* True when the SELECT was a QRESYNC one: changed and vanished below
	 * are every change since the state given (new messages among the
	 * changed ones).  The caller still checks the count against exists:
	 * libetpan keeps only the first VANISHED response. */
	bool resynced;
	struct remote_msg *changed;	/* UID FLAGS MODSEQ, UID order */
	size_t n_changed;
	struct remote_range *vanished;
	size_t n_vanished;
};

/* SELECTs folder.  With QRESYNC enabled and a known state (uidvalidity
 * and modseq not 0): SELECT folder (QRESYNC (uidvalidity modseq
 * known-uids)), known[0..n_known) the UIDs the caller has (ascending).
 * Else with CONDSTORE: SELECT folder (CONDSTORE), for HIGHESTMODSEQ.  Else
 * a plain SELECT.  0 with *s_r filled (remote_selected_clear), or -1 with
 * *error_r.  One round trip. */
int remote_select_since(struct remote_conn *c, const char *folder, uint32_t uidvalidity,
			uint64_t modseq, const uint32_t *known, size_t n_known,
			struct remote_selected *s_r, char **error_r);
/* remote_select_since with the known UIDs given as 1:last_uid (a cache
 * whose rows are still loading knows its last UID; UIDs in that range
 * gone long ago cost at most a VANISHED (EARLIER) naming them again). */
int remote_select_upto(struct remote_conn *c, const char *folder, uint32_t uidvalidity,
		       uint64_t modseq, uint32_t last_uid, struct remote_selected *s_r,
		       char **error_r);
void remote_selected_clear(struct remote_selected *s);
/* UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE modseq), with QRESYNC also
 * VANISHED: the messages changed or added since modseq into *msgs_r
 * (remote_msgs_free) and, with QRESYNC, the UIDs expunged since into
 * *vanished_r (free; NULL and 0 without QRESYNC).  0, or -1 with
 * *error_r. */
int remote_fetch_changed(struct remote_conn *c, uint64_t modseq, struct remote_msg **msgs_r,
			 size_t *n_r, struct remote_range **vanished_r, size_t *n_vanished_r,
			 char **error_r);
/* UID SEARCH key (an IMAP search key, "BODY \"word\""; CHARSET UTF-8
 * is added when it holds 8-bit bytes): the UIDs found, ascending, into
 * *uids_r (free).  0, or -1 with *error_r (the server's NO or BAD too). */
int remote_search(struct remote_conn *c, const char *key, uint32_t **uids_r, size_t *n_r,
		  char **error_r);
/* UID SEARCH ALL: every UID of the folder, ascending, into *uids_r
 * (free).  0, or -1 with *error_r. */
int remote_search_all(struct remote_conn *c, uint32_t **uids_r, size_t *n_r, char **error_r);

#endif
