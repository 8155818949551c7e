/* session-private.h: the inside of an IMAP session, shared by the files of imapd/.
 *
 * A command function reads its arguments, writes untagged data with
 * sess_printf()/conn_write() and ends with sess_reply(), which records the
 * tagged reply; the dispatcher (session.c) then sends the untagged updates
 * RFC 3501 7.4.1 allows at that point and the tagged line.  Memory a command
 * needs comes from s->arena, cleared after every command. */
#ifndef LOFT_IMAPD_SESSION_PRIVATE_H
#define LOFT_IMAPD_SESSION_PRIVATE_H

#include "imapd/imap_parser.h"
#include "imapd/imapd.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct arena;
struct sbuf;
struct store_flag_change;
struct store_folder;
struct store_msg;

enum sess_state {
	SESS_NOTAUTH = 1 << 0,
	SESS_AUTH = 1 << 1,
	SESS_SELECTED = 1 << 2,
	SESS_LOGOUT = 1 << 3,
};

/* The selected mailbox as this session shows it: sequence numbers are
 * indexes into uids.  A message expunged by anyone stays here (a "ghost":
 * store_folder_find() gives NULL) until an EXPUNGE response may be sent. */
struct mbox_view {
	struct store_folder *f;
	char *name;			/* the store's folder name */
	bool readonly;
	uint32_t *uids;
	uint64_t *modseqs;		/* as last reported, to see flag changes */
	size_t count, cap;
	uint32_t *recent;		/* UIDs \Recent in this session, sorted */
	size_t nrecent, recent_cap;
	uint32_t *gone;			/* ghosts: expunged in the store, still
					 * here; sorted */
	size_t ngone;
	bool dirty;			/* this session changed the folder */
	uint32_t *saved;		/* SEARCHRES "$": UIDs, sorted */
	size_t nsaved;
	uint32_t appended;		/* UID this session appended with flags:
					 * \Recent here though not in new/ */
	char **kw;			/* keywords announced in FLAGS, sorted
					 * without case (keywords.c) */
	size_t nkw, kw_cap;
};

struct imapd_session {
	struct conn *conn;
	struct store *store;
	struct imapd_settings set;
	const struct imapd_auth *auth;
	struct imap_parser *parser;
	struct arena *arena;		/* per command */
	enum sess_state state;
	char *user;
	struct mbox_view *mbox;		/* SESS_SELECTED */
	bool condstore, qresync, utf8;	/* ENABLEd */
	bool uid_cmd;			/* the command came as UID xxx */
	bool no_expunge;		/* EXPUNGE responses not allowed now */
	bool fatal;			/* end the session after this reply */
	const char *bye;		/* static text: BYE after this reply, then end */
	const char *tag;
	const char *reply;		/* "OK ...", "NO ...", "BAD ..." */
	bool replied;			/* the command sent its tagged reply itself */
	unsigned bad_count;		/* BAD replies in a row */
};

/* Whether the dispatcher would run cmd now (known, allowed in this
 * state, valid UTF-8). */
bool sess_command_ok(const struct imapd_session *s, const struct imap_command *cmd);
/* A command's start (tag, no reply yet) and end: the untagged updates
 * allowed then and the tagged reply s->reply (a BYE after it if due). */
void sess_begin(struct imapd_session *s, const char *tag);
void sess_finish(struct imapd_session *s);
/* The next command the client has already sent, never waiting for it
 * (what is buffered or readable at once); non-synchronising APPEND
 * literals within the limit are accepted on the way.  IMAP_PARSE_COMMAND
 * with *cmd filled (in s->arena); IMAP_PARSE_ERROR with cmd->tag and
 * cmd->name the BAD reply's tag and text (in s->arena); IMAP_PARSE_LITERAL
 * for a literal still to decide (on_literal's job); IMAP_PARSE_MORE when
 * nothing complete is there. */
int sess_next_buffered(struct imapd_session *s, struct imap_command *cmd);
/* cmd_msg.c: APPEND cmd (checked by the dispatcher), taking the APPENDs
 * to the same mailbox already received behind it into the same store
 * batch; answers each in order.  IMAP_PARSE_MORE, or what ended the
 * group: IMAP_PARSE_COMMAND (*cmd is then the next command to dispatch)
 * or IMAP_PARSE_LITERAL (a literal to decide). */
int imapd_append_pipelined(struct imapd_session *s, struct imap_command *cmd);

typedef void sess_cmd_fn(struct imapd_session *s, const struct imap_arg *args, unsigned n);

struct sess_command {
	const char *name;
	sess_cmd_fn *fn;
	unsigned states;		/* enum sess_state bits where it is allowed */
	bool seq_numbers;		/* uses sequence numbers (no EXPUNGE during it) */
};

/* session.c */
void sess_printf(struct imapd_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the tagged reply: status "OK"/"NO"/"BAD", text after it. */
void sess_reply(struct imapd_session *s, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends s as an IMAP string: quoted when it can be, else a literal.
 * utf8 (UTF8=ACCEPT enabled, RFC 6855 3): valid UTF-8 may be quoted. */
void sess_add_string(struct sbuf *out, const char *str, size_t len, bool utf8);
/* Appends the sorted numbers as a set: "1:3,7". */
void sess_add_set(struct sbuf *out, const uint32_t *nums, size_t n);
/* The capability list for the current state, without "* CAPABILITY ". */
void sess_capabilities(struct imapd_session *s, struct sbuf *out);
const struct sess_command *sess_find_command(const char *name);
/* Sends "+ idling", then what changed, then waits for the peer's "DONE"
 * (IDLE) while waking on the folder's notify fd; 0 on DONE, -1 when the
 * session must end. */
int sess_idle_wait(struct imapd_session *s);

/* mailbox.c: every use of the store's folder API */
/* Converts a mailbox name from the client (modified UTF-7, or UTF-8 once
 * UTF8=ACCEPT is enabled) to the store's name ("INBOX" in any case becomes
 * INBOX); NULL with *error_r when invalid.  Arena string. */
const char *imapd_mbox_name_in(struct imapd_session *s, const char *name, const char **error_r);
/* Appends the client's form of a store folder name (astring). */
void imapd_mbox_name_out(struct imapd_session *s, const char *name, struct sbuf *out);
int imapd_mbox_select(struct imapd_session *s, const char *name, bool readonly, const char **error_r);
void imapd_mbox_close(struct imapd_session *s);
/* Brings the view up to date and sends EXISTS, RECENT, FETCH (flag
 * changes by others) and, when allowed, EXPUNGE/VANISHED.  force: refresh
 * even when the notify fd is quiet. */
void imapd_mbox_sync(struct imapd_session *s, bool allow_expunge, bool force);
uint32_t imapd_mbox_seq_of(const struct mbox_view *v, uint32_t uid);
bool imapd_mbox_is_recent(const struct mbox_view *v, uint32_t uid);
/* The message at sequence number seq (1-based), or NULL for a ghost. */
const struct store_msg *imapd_mbox_msg(struct imapd_session *s, uint32_t seq);
/* Parses a set (sequence numbers, or UIDs with s->uid_cmd) and resolves
 * it against the view; 0 or -1 with *error_r. */
int imapd_mbox_set(struct imapd_session *s, const char *text, bool uids, struct imap_seqset *set,
	     const char **error_r);
/* Replaces the saved search result ("$", RFC 5182) by these UIDs. */
void imapd_mbox_save_result(struct mbox_view *v, const uint32_t *uids, size_t n);
/* Whether message seq is in a set parsed by imapd_mbox_set with the same uids. */
bool imapd_mbox_in_set(const struct mbox_view *v, const struct imap_seqset *set, bool uids, uint32_t seq);
/* A walk over the sequence numbers of a set: start zeroed. */
struct imapd_set_iter {
	unsigned range;			/* index into set->ranges */
	uint32_t seq;			/* the last one returned; 0: none yet */
};
/* The next sequence number (ascending) of the messages in a set parsed by
 * imapd_mbox_set with the same uids, ghosts included; 0 at the end.  Costs
 * a binary search per range and a step per message, not a pass over the
 * mailbox: mbsync's one-UID FETCH per message stays O(log n). */
uint32_t imapd_mbox_set_next(const struct mbox_view *v, const struct imap_seqset *set, bool uids,
			     struct imapd_set_iter *it);
/* Appends "(\Seen \Flagged kw)" of m. */
void imapd_mbox_flags_out(const struct mbox_view *v, const struct store_msg *m, struct sbuf *out);
/* Parses a flag list (or one flag) into store flags and space-separated
 * keywords (arena); 0 or -1 with *error_r. */
int imapd_mbox_flags_in(struct imapd_session *s, const struct imap_arg *arg, uint32_t *flags_r,
		  const char **keywords_r, const char **error_r);
struct imapd_status {
	size_t messages, unseen, recent;
	uint64_t size;
	uint32_t uidnext, uidvalidity;
	uint64_t highestmodseq;
};
/* STATUS of folder name.  Not full: MESSAGES and UNSEEN from the state's
 * counters and the rest from its header, with no scan (files changed by
 * other programs since anyone last opened the folder are not counted);
 * full (RECENT, SIZE asked): the folder is opened.  0, or -1 (see
 * imapd_mbox_error()). */
int imapd_mbox_status(struct imapd_session *s, const char *name, bool full,
		      struct imapd_status *st_r);
/* Appends bytes [start, start+len) of message uid in its CRLF form (bare
 * LFs made CRLF, as FETCH sends it) to out (NULL: only count), of the
 * whole message or (header_only) of its header block through the empty
 * line; len UINT64_MAX: to the end.  Reads the file through an fd, only
 * up to the last byte needed, never the whole message into memory.
 * *end_r (may be NULL): the CRLF position where reading stopped, so
 * with len UINT64_MAX the size of the CRLF form (RFC822.SIZE) or of its
 * header.  0, or -1 when the message cannot be opened. */
int imapd_mbox_read_crlf(struct imapd_session *s, uint32_t uid, bool header_only, uint64_t start,
			 uint64_t len, struct sbuf *out, uint64_t *end_r);
/* RFC822.SIZE of m (its CRLF form): the state's (m->vsize), else from a
 * maildir name's ",W=" when it has one, else counted by
 * imapd_mbox_read_crlf() (the file is read, in bounded memory: only for
 * records written by an older loft, and mbox).  0, or -1 when the message
 * cannot be opened. */
int imapd_mbox_crlf_size(struct imapd_session *s, const struct store_msg *m, uint64_t *size_r);
/* "[CODE] text" for the last failing store call (the one mapping,
 * store_error_imap(); target: the folder was APPEND/COPY/MOVE's target),
 * or text alone when there is no code.  Arena string. */
const char *imapd_mbox_error(struct imapd_session *s, bool target, const char *text);
/* The UIDs of the messages of a set parsed by imapd_mbox_set (same
 * uids), ascending, ghosts left out (*gone_r tells whether there were
 * any).  Arena array of *n_r. */
uint32_t *imapd_mbox_set_uids(struct imapd_session *s, const struct imap_seqset *set, bool uids,
			      size_t *n_r, bool *gone_r);
/* One store transaction each (imapd_mbox_error() after a -1).  STORE:
 * *modified_r (malloc'd, caller frees) the UIDs ch->unchangedsince kept.
 * COPY/MOVE into folder name: new_uids[i] the UID of uids[i] there (0:
 * expunged meanwhile), *uidvalidity_r the target's.  EXPUNGE: the given
 * UIDs.  The view learns of the changes at the next imapd_mbox_sync(). */
int imapd_mbox_store(struct imapd_session *s, const uint32_t *uids, size_t n,
		     const struct store_flag_change *ch, uint32_t **modified_r, size_t *n_modified_r);
int imapd_mbox_copy(struct imapd_session *s, const uint32_t *uids, size_t n, const char *name,
		    bool move, uint32_t *new_uids, uint32_t *uidvalidity_r);
int imapd_mbox_expunge(struct imapd_session *s, const uint32_t *uids, size_t n);
struct imapd_append {
	const char *data;
	size_t len;
	uint32_t flags;			/* enum store_flag bits */
	const char *keywords;		/* NULL: none */
	int64_t date;			/* 0: now */
};
/* APPEND (MULTIAPPEND) of msgs[0..n) to folder name (opened for appending
 * only: no scan), each durably; all or nothing.  *uidvalidity_r and
 * uids[0..n) for APPENDUID; -1 with *error_r the "[CODE] text" to answer
 * (arena). */
int imapd_mbox_append(struct imapd_session *s, const char *name, const struct imapd_append *msgs,
		      size_t n, uint32_t *uidvalidity_r, uint32_t *uids, const char **error_r);
/* Notes that message uid's flags were just reported by this session. */
void imapd_mbox_note_reported(struct mbox_view *v, uint32_t uid, uint64_t modseq);

/* qresync.c: CONDSTORE/QRESYNC helpers */
struct imapd_select_params {
	bool condstore, qresync;
	uint32_t uidvalidity;		/* QRESYNC (uidvalidity modseq [known-uids]) */
	uint64_t modseq;
	const char *known_uids;		/* NULL: all */
};
/* A mod-sequence value (0 to 2^63-1) from an atom: 0, or -1 when invalid. */
int imapd_parse_modseq(const struct imap_arg *a, uint64_t *modseq_r);
/* Parses SELECT/EXAMINE's parameter list; 0 or -1 with *error_r (BAD). */
int imapd_select_params(struct imapd_session *s, const struct imap_arg *list,
			struct imapd_select_params *p, const char **error_r);
/* Sends the resynchronisation of a just selected mailbox: VANISHED
 * (EARLIER) and FETCH of what changed since p->modseq, when p asks for
 * QRESYNC and the UIDVALIDITY matches. */
void imapd_qresync_select(struct imapd_session *s, const struct imapd_select_params *p);
/* Sends "* VANISHED (EARLIER) uids" for the UIDs expunged after modseq
 * that are in uidset (NULL: any); nothing when there are none. */
void imapd_vanished_earlier(struct imapd_session *s, uint64_t modseq, const char *uidset);

/* cmd_mailbox.c: STATUS items for LIST-STATUS too */
/* Whether list is a non-empty list of known STATUS items. */
bool imapd_status_items_ok(const struct imap_arg *list);
/* Appends "MESSAGES 3 UNSEEN 1 ..." of folder name (items checked). */
void imapd_status_items(struct imapd_session *s, const char *name, const struct imap_arg *items,
			unsigned n, struct sbuf *out);

/* cmd_list.c: special use */
struct store_meta_entry;
/* The canonical spelling of use when loft keeps it (\Sent \Drafts
 * \Trash \Junk \Archive, any case; \All and \Flagged would need
 * virtual folders), else NULL.  Static string. */
const char *imapd_special_use_canon(const char *use);
/* The special use of folder name: set by CREATE (the entries of the
 * store's special-use file), else by its name; NULL when none. */
const char *imapd_special_use_of(const char *name, const struct store_meta_entry *set, size_t n);

/* command families: each file's table is looked up by sess_find_command */
extern const struct sess_command cmd_auth_table[];
extern const struct sess_command cmd_mailbox_table[];
extern const struct sess_command cmd_msg_table[];
extern const struct sess_command cmd_fetch_table[];
extern const struct sess_command cmd_search_table[];
extern const struct sess_command cmd_list_table[];

/* keywords.c: the keywords FLAGS announces (see there) */
/* Adds the words of a space-separated list to v's set; whether any was new. */
bool imapd_kw_learn(struct mbox_view *v, const char *list);
/* Fills v's set from the keywords of its snapshot (at SELECT). */
void imapd_kw_init(struct mbox_view *v);
void imapd_kw_free(struct mbox_view *v);
/* The spelling in v's set of keyword word (any case), or NULL when it is
 * not there.  Owned by v. */
const char *imapd_kw_canon(const struct mbox_view *v, const char *word);
/* Sends "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" for the set. */
void imapd_kw_send_flags(struct imapd_session *s);
/* Call before a response shows m's flags: sends FLAGS and PERMANENTFLAGS
 * first when m has a keyword not announced yet. */
void imapd_kw_announce(struct imapd_session *s, const struct store_msg *m);

/* cmd_fetch.c: FETCH for STORE's replies too */
void fetch_flags_reply(struct imapd_session *s, uint32_t seq, const struct store_msg *m);

#endif
