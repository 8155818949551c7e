/* ui-private: what the files of ui/ share.  Nothing outside ui/ includes it.
 *
 * One struct ui holds the session: the store, the open mailbox (a store
 * folder, or a notmuch search as a virtual folder of files), the display
 * order, the screen mode and the key maps.  Envelopes are parsed lazily,
 * only for rows that are drawn, from the store's ENVELOPE cache: opening a
 * folder never reads its message files. */
#ifndef LOFT_UI_PRIVATE_H
#define LOFT_UI_PRIVATE_H

#include "client/mailbox.h"
#include "client/sort.h"
#include "lib/sbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct envelope;
struct loft_ctx;
struct mailbox;
struct message;
struct sbuf;
struct store;
struct store_folder;
struct thread;
struct ui;

/* ---- actions and key maps (ui/keymap.c) ---- */

enum ui_menu { MENU_INDEX, MENU_PAGER, MENU_ATTACH, MENU_COMPOSE, MENU_BROWSER, MENU_COUNT };

enum ui_action {
	A_NONE, A_NEXT, A_PREV, A_DISPLAY, A_QUIT, A_EXIT, A_DELETE, A_UNDELETE, A_FLAG,
	A_TOGGLE_NEW, A_TAG, A_TAG_PREFIX, A_SAVE, A_COPY, A_MAIL, A_REPLY, A_GROUP_REPLY,
	A_LIST_REPLY, A_FORWARD, A_SEARCH, A_SEARCH_NEXT, A_LIMIT, A_SYNC, A_HELP,
	A_VIEW_ATTACH, A_FIRST, A_LAST, A_NEXT_PAGE, A_PREV_PAGE, A_HALF_DOWN, A_NEXT_UNREAD,
	A_NEXT_THREAD, A_PIPE, A_CHANGE_FOLDER, A_SORT, A_COLLAPSE, A_COLLAPSE_ALL,
	A_RECALL, A_VFOLDER, A_REDRAW, A_LINE_DOWN, A_LINE_UP, A_PTOP, A_PBOTTOM,
	A_SAVE_ATTACH, A_OPEN_ATTACH, A_SEND, A_ATTACH_FILE, A_DETACH, A_EDIT, A_POSTPONE,
	A_TOGGLE_SIDEBAR, A_MIDDLE, A_MODIFY_TAGS, A_JUMP, A_ENTER_COMMAND, A_TAG_PATTERN,
	A_DELETE_PATTERN, A_UNDELETE_PATTERN, A_SORT_REVERSE, A_BROWSER, A_FULL_HEADERS, A_EDIT_TO, A_EDIT_CC,
	A_EDIT_BCC, A_EDIT_SUBJECT, A_BOUNCE, A_RESEND, A_COUNT
};

/* Key codes: a character is its code point; a curses function key is
 * UK(KEY_x) (they would collide with code points 257-511 otherwise);
 * UI_META|k is "Esc k". */
#define UI_META 0x1000000
#define UI_FN 0x400000
#define UK(k) ((k) | UI_FN)

struct ui_binding {
	int key;
	enum ui_action action;
	char *macro;		/* keys to replay instead, or NULL */
};

/* The name of an action ("next-entry"), or NULL. */
const char *ui_action_name(enum ui_action a);
/* The action named name, or A_NONE. */
enum ui_action ui_action_parse(const char *name);
/* Parses a key as written in bind/macro ("j", "<Down>", "\\Cx", "^X",
 * "\\ev", "<Esc>v", "<F1>"...).  Returns the code or -1. */
int ui_key_parse(const char *s);
/* Appends a readable key name. */
void ui_key_name(int key, struct sbuf *out);
/* Parses "menu[,menu]" into a bit set; -1 when unknown. */
int ui_menu_parse(const char *s);
/* Installs the defaults, then the mailrc's bind and macro lines. */
void ui_keymap_init(struct config *cfg);
void ui_keymap_free(void);
/* The binding of key in menu (menu-specific first, then generic), or NULL. */
const struct ui_binding *ui_keymap_lookup(enum ui_menu menu, int key);
/* Moves *cur as the motion action a does in a list of n rows shown page
 * rows at a time (next, previous, first, last, next and previous page).
 * Returns false, *cur unchanged, when a is not a motion. */
bool ui_menu_move(enum ui_action a, size_t n, size_t page, size_t *cur);
/* Appends the one-line key help of the index or pager ("q:Quit  d:Del
 * ..."), from the keys bound now. */
void ui_keymap_helpline(enum ui_menu menu, struct sbuf *out);
/* Appends the help text of menu ("key  action") to out. */
void ui_keymap_help(enum ui_menu menu, struct sbuf *out);

/* ---- colours (ui/color.c) ---- */

enum ui_color {
	C_NORMAL, C_INDICATOR, C_STATUS, C_TREE, C_QUOTED, C_QUOTED1, C_QUOTED2, C_URL,
	C_HEADER, C_SIGNATURE, C_ATTACHMENT, C_ERROR, C_NEW, C_FLAGGED, C_DELETED, C_TAGGED,
	C_SEARCH, C_TILDE, C_COUNT
};
void ui_color_init(struct config *cfg);
/* The curses attribute for obj (colour pair and bold/reverse). */
int ui_color_attr(enum ui_color obj);
struct ui_pattern_msg;
/* For `color index FG BG PATTERN`: the attribute of the last line whose
 * pattern matches pm, or -1 when none does. */
int ui_color_index(const struct ui_pattern_msg *pm);
void ui_color_free(void);

/* ---- the session ---- */

struct ui_mailbox {
	char *name;			/* what the status line shows */
	struct mailbox *box;		/* client/mailbox.h: every message access */
	size_t n;			/* rows taken in (mailbox_count) */
	size_t alloc;			/* rows the per-row arrays hold */
	struct envelope **env;		/* lazily parsed, n entries */
	uint8_t *tagged;		/* n */
	uint8_t *deleted_here;		/* n: marked deleted in this session
					 * (only those are purged: ui/expunge.c),
					 * UI_DEL_HERE or UI_DEL_SAVED */
	struct thread *thr;		/* when sorted by threads */
	uint32_t *order;		/* message indices in display order */
	size_t norder;
	uint8_t *collapsed;		/* n: thread tops shown collapsed */
	char *limit;			/* the limit pattern, or NULL */
	struct message *pat_msg;	/* the message a ~b ~B ~h ~C test read last */
	uint32_t pat_uid;		/* its UID */
	/* What the server found for the IMAP search keys of ~b ~B ~h terms
	 * (ui_msg_pattern's server callback), dropped with the rows and when
	 * new ones come. */
	struct ui_server_hits {
		char *key;
		uint32_t *uids;		/* ascending; NULL: the search failed */
		size_t n;
	} hits[4];
	size_t n_hits;
	char **tags;			/* alloc: notmuch tags of drawn rows, lazily
					 * (ui/tags.c), or NULL */
	size_t cur, top;		/* cursor row and first row shown */
	/* a virtual mailbox: rows arrive in steps */
	bool arrival;			/* rows in the mailbox's order (newest first) */
	bool search_stopped;		/* Ctrl-G ended it early */
	long search_slow_ms;		/* LOFT_TEST_SLOW_SEARCH */
};

struct ui {
	struct loft_ctx *ctx;
	struct config *cfg;
	struct store *store;
	char *root;
	struct mailbox_env env;		/* what mailboxes are opened with */
	struct ui_mailbox mb;
	enum sort_key sort;
	bool reverse;
	bool sidebar;
	bool read_only;			/* -R: no flag changes, no expunge */
	bool tag_prefix;
	bool quit;
	char *last_search;
	char status[2048];		/* the message line */
	bool status_error;
	bool resized;
	bool cancelled;			/* the last open was cancelled (Ctrl-G) */
	bool in_index;			/* ui_getkey called by the index screen itself */
	/* Draws the screen that is up (set by the index), so a prompt over
	 * it can have it redrawn without knowing it. */
	void (*redraw)(struct ui *ui);
	/* the outgoing queue (ui/queue.c) */
	size_t queued;			/* entries waiting, as `loft queue list` said */
	char **sent_ids;		/* queue IDs of mail sent here, still queued */
	size_t nsent;
	int queue_fd;			/* output of a background run, or -1 */
	int queue_pid;			/* its pid, or 0 */
	bool queue_listing;		/* it is a `loft queue list` (the count) */
	long long queue_next;		/* time() of the next background run */
	struct sbuf queue_out;
};

/* ---- ui/loop.c ---- */
/* What ui_getkey() returns: a key, or something the screen shows that
 * changed without one. */
enum ui_event_kind {
	UI_EV_KEY,		/* key holds the key */
	UI_EV_RESIZE,		/* the terminal changed size: lay out again */
	UI_EV_MAILBOX,		/* the open mailbox changed (a sync found
				 * changes, search rows arrived or stopped):
				 * indices may have moved, follow by UID */
	UI_EV_CONNECTION,	/* a remote mailbox's connection changed
				 * state (no driver reports one yet) */
	UI_EV_STATUS,		/* the message line or the status bar's counts
				 * changed (a background queue run ended) */
};
struct ui_event {
	enum ui_event_kind kind;
	int key;		/* UI_EV_KEY: the code, Esc-prefixed keys as
				 * UI_META|c; else 0 */
};
/* Waits for the next event while servicing the mailbox's notify fd (a
 * change is synced before UI_EV_MAILBOX is returned), a search's next
 * rows and the queue's timers.  Rows arriving and a queue run ending are
 * reported to the index only (ui->in_index); elsewhere they are taken in
 * silently and the wait goes on. */
struct ui_event ui_getkey(struct ui *ui);
/* A key event's key, or 0 for any other event (the question-and-answer
 * prompts ignore them). */
int ui_event_key(struct ui_event ev);
/* Redraws the screen under a prompt (the one that registered ui->redraw),
 * e.g. after a resize or new mail while the prompt waits. */
void ui_redraw(struct ui *ui);
/* Shows a message on the bottom line (printf format); one wider than the
 * screen wraps over the rows above it (ui_draw_message), never cut. */
void ui_message(struct ui *ui, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Leaves curses to run cmd through the shell with the terminal (editor,
 * pager command); restores the screen fully afterwards.  Returns the
 * command's exit status or -1. */
int ui_run_shell(struct ui *ui, const char *cmd, bool wait_key);
/* A mkstemp() template "DIR/PREFIX.XXXXXX" in $TMPDIR (/tmp when unset,
 * empty, or holding a quote: names are put in '...' for the shell).
 * Caller frees. */
char *ui_tmpfile_template(const char *prefix);
/* Draws ui->status at the bottom (wrapped upwards when it is long), in the
 * error colour for an error; clears the bottom line when it is empty. */
void ui_draw_message(struct ui *ui);
/* The rows the help line takes at the top: 1 with the `help` setting
 * on (and room for it), else 0. */
int ui_top_rows(struct ui *ui);
/* Draws menu's key help line on the top row when ui_top_rows() says so. */
void ui_draw_helpline(struct ui *ui, enum ui_menu menu);
/* Draws the status bar at row y with text left and right. */
void ui_draw_bar(int y, const char *left, const char *right);

/* ---- ui/mailbox.c ---- */
/* While a store call that may build a folder's state runs: a progress bar
 * on the bottom line, Ctrl-G cancels (the store call then fails).  The
 * environment variable LOFT_TEST_SLOW_OPEN=MS (for tests only) sleeps MS
 * milliseconds at each step, so a test can watch the bar. */
struct ui_progress {
	struct ui *ui;
	const char *name;		/* "Reading NAME" */
	long slow_ms;
	bool shown;
};
void ui_progress_begin(struct ui *ui, struct ui_progress *p, const char *name);
/* Returns whether the user cancelled (also left in ui->cancelled). */
bool ui_progress_end(struct ui *ui, struct ui_progress *p);
/* struct mailbox_env's waiting callback (ctx the struct ui): after a
 * moment, says the wait on the bottom line; -1 when Ctrl-G was typed
 * (other keys typed meanwhile stay queued). */
int ui_net_waiting(void *ctx, long waited_ms);
/* Opens name (a folder of the store, "search:QUERY": client/mailbox.h)
 * as the mailbox (the old one stays open on failure).  A first open that
 * must build the folder's state (reading every message's header) runs in
 * steps with a progress bar on the bottom line (ui_progress_begin);
 * Ctrl-G cancels it: then -1 with ui->cancelled set.  A search shows its
 * first batch of results; the rest come through ui_search_step(). */
int ui_mailbox_open(struct ui *ui, const char *name, const char **error_r);
/* Opens another mailbox (a destination) with ui->env; NULL with *error_r.
 * flags: enum mailbox_open_flag.  Caller closes (mailbox_close). */
struct mailbox *ui_box_open(struct ui *ui, const char *name, unsigned flags,
			    const char **error_r);
/* Whether the open mailbox takes flag changes, copies and expunges
 * (MAILBOX_CAP_WRITE); whether it is virtual (a search:
 * MAILBOX_CAP_VIRTUAL). */
bool ui_mailbox_writable(const struct ui *ui);
bool ui_mailbox_virtual(const struct ui *ui);
/* Room in mb's per-row arrays for n rows (new ones zeroed). */
void ui_rows_grow(struct ui_mailbox *mb, size_t n);
void ui_mailbox_close(struct ui *ui);
/* Rebuilds the display order (sort, threads, limit) keeping the cursor on
 * the same message. */
void ui_mailbox_resort(struct ui *ui);
/* Appends the rows from..n that pass the limit to the display order (a
 * search's new results, in arrival order). */
void ui_mailbox_append_order(struct ui *ui, size_t from);
/* Message i as the patterns see it (pointers into its envelope, valid
 * until the rows change). */
void ui_msg_pattern(struct ui *ui, size_t i, struct ui_pattern_msg *pm_r);
/* Whether message i passes the limit (true when there is none). */
bool ui_msg_visible(struct ui *ui, size_t i);
/* Brings the snapshot up to date (store_folder_sync: what changed, from
 * the folder's state); rows keep their marks and parsed envelopes, and
 * the order is rebuilt only when rows came or went (or a limit may see
 * the changed flags).  True when anything changed. */
bool ui_mailbox_refresh(struct ui *ui);
/* The parsed envelope of message i (never NULL: an empty one on failure). */
const struct envelope *ui_msg_env(struct ui *ui, size_t i);
uint32_t ui_msg_flags(struct ui *ui, size_t i);
uint64_t ui_msg_size(struct ui *ui, size_t i);
/* Arrival time of message i, 0 when the mailbox does not know it. */
int64_t ui_msg_received(struct ui *ui, size_t i);
uint32_t ui_msg_uid(struct ui *ui, size_t i);
/* The index of the message with this UID in the current snapshot, or -1
 * (it was expunged).  O(log n). */
long ui_msg_index_of(struct ui *ui, uint32_t uid);
/* Parses message i; NULL with a message shown on failure.  Caller frees. */
struct message *ui_msg_load(struct ui *ui, size_t i);
/* Changes flags of message i (STORE_FLAGS_ADD/REMOVE as int op). */
int ui_msg_set_flags(struct ui *ui, size_t i, int op, uint32_t flags);
/* The same for messages rows[0..n) (distinct snapshot indices) in one
 * store call (one state transaction).  0, or -1 with the message line
 * set and nothing changed. */
int ui_msgs_set_flags(struct ui *ui, const uint32_t *rows, size_t n, int op, uint32_t flags);
/* ---- ui/expunge.c ---- */
/* Purges the messages this session marked deleted (after the question
 * "Purge N deleted messages?" unless `set nodelete_confirm`): they move
 * to `trash` (created when missing), or are removed when trash is empty or
 * is this folder.  Messages flagged deleted by another program are kept.
 * When the move fails nothing is removed.  The message line says what
 * happened.  Returns how many left the folder. */
/* Values of deleted_here[]: deleted with d (purged into the trash), or
 * saved to another folder with s (purged without a second copy in the
 * trash, as mutt does). */
enum { UI_DEL_HERE = 1, UI_DEL_SAVED = 2 };
size_t ui_mailbox_purge(struct ui *ui);
/* Counts for the status line. */
void ui_mailbox_counts(struct ui *ui, size_t *new_r, size_t *flagged_r, size_t *deleted_r);

/* ---- ui/tags.c (the `+` action: ui/tag_action.c) ---- */
/* The notmuch tags of message i for %g/%Y (flag tags left out: %Z shows
 * them), "" when none or not indexed; NULL when index_format shows no
 * tags.  Fetched on first call per row, then cached until the rows are
 * rebuilt.  Owned by the mailbox. */
const char *ui_msg_tags(struct ui *ui, size_t i);
/* Whether an index_format shows tags (%g, %Y, %?g?...?). */
bool ui_format_wants_tags(const char *fmt);
/* Whether a tag is one of the flag tags %g leaves out. */
bool ui_tag_hidden(const char *tag, size_t len);
/* The `+` action: asks "+add -remove" and changes the tags of messages
 * v[0..n) through a writer opened for this change only; flag tags rename
 * the files; the folder is refreshed. */
void ui_tags_modify(struct ui *ui, const uint32_t *v, size_t n);
/* Drops mb's cached tags; the read-only handle is reopened before its
 * next use (called when the rows are rebuilt: refresh, reopen). */
void ui_tags_forget(struct ui_mailbox *mb);
void ui_tags_free(void);
/* Addresses notmuch has seen in From: whose address or name starts with
 * prefix (case-insensitive), most frequent first, at most max, as
 * "Name <addr>" or "addr".  Returns the count; *v_r malloc'd strings
 * (caller frees each and the array).  0 when there is no database. */
size_t ui_notmuch_addresses(struct ui *ui, const char *prefix, size_t max, char ***v_r);

/* ---- ui/mailbox.c: rows arriving in steps (a search) ---- */
/* A virtual mailbox was just opened: reads the first batch of its rows
 * (ui_mailbox_open calls it); the rest come by ui_search_step() from the
 * event loop. */
void ui_search_start(struct ui *ui);
/* Whether results are still arriving. */
bool ui_search_running(const struct ui *ui);
/* How long the event loop waits for a key between two batches (ms). */
int ui_search_wait_ms(const struct ui *ui);
/* Reads the next batch of results (sets the message line). */
void ui_search_step(struct ui *ui);
/* Ctrl-G: stops the search, keeping the rows found so far. */
void ui_search_stop(struct ui *ui);

/* ---- ui/index.c ---- */
void ui_index_draw(struct ui *ui);
/* Runs the index screen until quit or a folder change (the queue is
 * counted in the background meanwhile). */
void ui_index_run(struct ui *ui);

/* ---- ui/index_cmd.c: the index's commands that ask first ---- */
/* `c`: "Open mailbox" with Tab completion and '?' for the folder list;
 * mutt's "=name" becomes "+name".  Malloc'd, or NULL when cancelled. */
char *ui_folder_prompt(struct ui *ui);
/* A digit typed in the index: "Jump to message: " (starting with it);
 * moves the cursor to that row of the display order (numbers as %C). */
void ui_jump(struct ui *ui, int digit);
/* `:`: one mailrc line (set, unset, source, color, bind, macro...) applied
 * to the running session: key maps, colours, sidebar and sort follow. */
void ui_enter_command(struct ui *ui);
/* T, D, U: asks a pattern and tags, deletes or undeletes the rows shown
 * that match (one store call). */
void ui_pattern_action(struct ui *ui, enum ui_action a);

/* ---- ui/pager.c ---- */
/* Shows message i; returns the action that ended it (A_QUIT back to the
 * index, A_NEXT/A_PREV to show the neighbour...). */
enum ui_action ui_pager_run(struct ui *ui, size_t i);

/* ---- ui/text.c (pure: unit-tested) ---- */
struct ui_line {
	size_t off, len;	/* bytes of the line in the text */
	unsigned quote;		/* quote depth of its source line */
	bool cont;		/* continuation of a wrapped line */
};
/* Splits text into screen lines of at most width cells (wrapping at a
 * blank when one is near, else mid-word; a wide character never
 * straddles the edge).  Tabs count as up to 8 cells.  Returns the count;
 * *lines_r malloc'd, caller frees. */
size_t ui_wrap(const char *text, size_t len, size_t width, struct ui_line **lines_r);
/* Quote depth of a line ("> > x" is 2). */
unsigned ui_quote_depth(const char *s, size_t len);
/* Finds the next URL (http://, https://, mailto:, www.) in s[0..len):
 * offset and length, or false. */
bool ui_find_url(const char *s, size_t len, size_t *off_r, size_t *len_r);
/* HTML to plain text (tags dropped, block elements as line breaks, common
 * entities decoded).  Appended to out. */
void ui_html_strip(const char *html, size_t len, struct sbuf *out);

/* ---- ui/view.c: a document of wrapped lines on screen ---- */
/* Source-line kinds (colours), one byte per line of the document. */
enum { UI_DOC_TEXT, UI_DOC_HEADER, UI_DOC_ATTACH, UI_DOC_SIG };
struct ui_doc {
	struct sbuf text;
	struct sbuf kinds;	/* one UI_DOC_* per source line */
	struct ui_line *lines;	/* wrapped (laid out by ui_view_draw) */
	size_t nlines;
	uint8_t *line_kind;	/* per wrapped line */
	size_t width;
};
/* Appends one source line of kind; appends text line by line (a "-- "
 * line starts the signature). */
void ui_doc_add_line(struct ui_doc *d, int kind, const char *s, size_t len);
void ui_doc_add_text(struct ui_doc *d, const char *s, size_t len);
void ui_doc_free(struct ui_doc *d);
/* A document on screen: the first line shown, the last search. */
struct ui_view {
	struct ui_doc doc;
	size_t top;
	char *search;		/* malloc'd, or NULL; the caller frees */
	const char *title;	/* the status bar's text (borrowed) */
	bool helpline;		/* the pager's key help on top (`help`) */
	int y0;			/* rows above the text (set when drawn) */
};
/* Draws the view (laid out again when the width changed), its bar and
 * the message line. */
void ui_view_draw(struct ui *ui, struct ui_view *v);
/* `/` (again: the last search): moves to the next line matching. */
void ui_view_search(struct ui *ui, struct ui_view *v, bool again);
/* Applies a scrolling action; false when a is not one. */
bool ui_view_scroll(struct ui_view *v, enum ui_action a);
/* Shows text (help, command output) until a key that is not scrolling. */
void ui_pager_text(struct ui *ui, const char *title, const char *text, size_t len);

/* ---- ui/pattern.c (pure: unit-tested) ---- */
/* What the text callback is asked for: the header block, the body, the
 * whole message (raw, as stored), or the decoded Cc header. */
enum ui_pattern_text { UI_PATTERN_HEADERS, UI_PATTERN_BODY, UI_PATTERN_WHOLE, UI_PATTERN_CC };
struct ui_pattern_msg {
	const char *from, *subject, *to;
	uint32_t flags;		/* store flags */
	bool tagged;
	const char *from_addr;	/* may be NULL */
	int64_t date, received;	/* 0 when unknown (~d falls back to received) */
	int64_t now;		/* for ~d <3d and the like */
	/* Text of the message (read only when a pattern needs it): NULL
	 * when it cannot be read (no match); *len_r its length.  Valid
	 * until the next call.  NULL callback: nothing matches. */
	const char *(*text)(const struct ui_pattern_msg *msg, enum ui_pattern_text kind,
			    size_t *len_r);
	/* ~(P): whether a message of this one's thread matches P (NULL:
	 * the message alone is its thread). */
	bool (*thread)(const struct ui_pattern_msg *msg, const char *pattern);
	/* Whether the server finds this message for the IMAP SEARCH key
	 * (~b ~B ~h on an IMAP folder): 1 or 0, -1 when it cannot say (the
	 * text callback decides then).  NULL: no server. */
	int (*server)(const struct ui_pattern_msg *msg, const char *key);
	void *ctx;		/* for the callbacks */
	size_t index;		/* for the callbacks */
};
/* True when msg matches pattern (the grammar is at the top of
 * ui/pattern.c: mutt's ~f ~s ~t ~C ~L ~h ~b ~B ~d ~r ~N ~O ~U ~F ~D ~T ~A
 * ~(...), !, |, parentheses; a bare word matches from or subject). */
bool ui_pattern_match(const char *pattern, const struct ui_pattern_msg *msg);
/* 0 when pattern is well-formed, else -1 with *error_r static. */
int ui_pattern_check(const char *pattern, const char **error_r);
/* The IMAP SEARCH key of a term that reads the message, op its letter
 * and w[0..n) its word, appended to out: ~b "BODY \"w\"", ~B "TEXT
 * \"w\"", ~h "HEADER Name \"value\"" for a word "Name: value".  0, or -1
 * with out unchanged when the term has no such form (another letter, a
 * bare ~h word, a word with CR or LF). */
struct sbuf;
int ui_pattern_imap_term(char op, const char *w, size_t n, struct sbuf *out);

/* ---- ui/prompt.c ---- */
/* Reads a line on the bottom row.  complete (may be NULL) is called on
 * Tab with the text so far and returns a malloc'd completion or NULL.
 * Returns a malloc'd string, or NULL when cancelled (Ctrl-G, Esc). */
char *ui_prompt(struct ui *ui, const char *question, const char *initial,
		char *(*complete)(struct ui *ui, const char *text));
/* The same, where '?' opens list (a screen to choose from, e.g. the
 * folder list): its choice (malloc'd) is the answer, its NULL a cancel. */
char *ui_prompt_list(struct ui *ui, const char *question, const char *initial,
		     char *(*complete)(struct ui *ui, const char *text),
		     char *(*list)(struct ui *ui));
/* Asks yes/no; returns true for yes (def when Enter). */
bool ui_yesno(struct ui *ui, const char *question, bool def);
/* A single key answer among choices ("dfsrt"), or 0 when cancelled. */
int ui_choice(struct ui *ui, const char *question, const char *choices);
/* Completions: folder names of the store; addresses from aliases. */
char *ui_complete_folder(struct ui *ui, const char *text);
/* File names: the longest common completion of the last path element
 * ("~/" is $HOME; a directory gets a '/'; dot files only after a '.').
 * NULL when nothing matches. */
char *ui_complete_file(struct ui *ui, const char *text);
/* Addresses: an alias of the mailrc, else the addresses notmuch has seen
 * in From: starting with the last word (most frequent first; Tab again
 * gives the next). */
char *ui_complete_address(struct ui *ui, const char *text);
void ui_complete_free(void);

/* ---- ui/queue.c ---- */
/* Runs `loft [-F MAILRC] ARGS...` (this very binary) with in[0..len) on
 * its stdin (in NULL: /dev/null), its stdout and stderr appended to out
 * (at most 1 MiB).  Blocks until it exits.  Returns its exit status, or -1
 * when it could not run or died of a signal (out then says why when it
 * could not start). */
int ui_run_loft(struct ui *ui, const char *const *args, const char *in, size_t len,
		struct sbuf *out);
/* Whether a `loft daemon` runs on this state directory (it holds a flock
 * on STATE_DIR/daemon.lock). */
bool ui_daemon_running(struct ui *ui);
/* Refreshes ui->queued from `loft queue list` (unchanged on failure). */
void ui_queue_count(struct ui *ui);
/* The same in the background (the first screen does not wait for it):
 * the list is read through the background run's fd (ui_queue_read),
 * unless a run is going already (its end counts). */
void ui_queue_count_start(struct ui *ui);
/* From the text of `loft queue show ID`: when recipients are still
 * pending, appends "Queued for ADDR[, ADDR]: REASON" to out and returns
 * their count; else 0.  Pure (unit-tested). */
int ui_queue_describe(const char *show, struct sbuf *out);
/* Mail was queued as id: runs the queue now (blocking), then says on the
 * message line whether it went out or why it waits; id is watched until
 * it leaves the queue. */
void ui_queue_sent(struct ui *ui, const char *id);
/* For the event loop: the fd of a background run's output (-1: none);
 * how long until the next run is due (ms; -1: none due: nothing queued,
 * or a run in progress). */
int ui_queue_fd(const struct ui *ui);
int ui_queue_wait_ms(const struct ui *ui);
/* Starts a background `loft queue run` when mail is queued, the interval
 * (queue_interval) has passed and no daemon runs. */
void ui_queue_tick(struct ui *ui);
/* The background run's fd is readable: reads it; at its end reports like
 * ui_queue_sent() (the message line, the count), or takes the count of a
 * ui_queue_count_start() list, and returns true. */
bool ui_queue_read(struct ui *ui);
/* Stops listening to a background run (waits for it to end). */
void ui_queue_stop(struct ui *ui);
void ui_queue_free(struct ui *ui);

/* ---- ui/compose.c ---- */
enum ui_compose_kind {
	UI_NEW, UI_REPLY, UI_GROUP_REPLY, UI_LIST_REPLY, UI_FORWARD, UI_RESUME,
	UI_RESEND,		/* mutt's edit-as-new: message msg_index as a draft */
};
/* Composes (msg_index: the message replied to or forwarded, or resumed). */
void ui_compose(struct ui *ui, enum ui_compose_kind kind, size_t msg_index);

/* ---- ui/postponed.c ---- */
/* mutt's postponed menu: the messages of f (the Drafts folder) listed
 * newest first (date, To, Subject), one chosen with Enter.  Returns its
 * index in f, or -1 when the user left with q or Ctrl-G. */
long ui_postponed_choose(struct ui *ui, struct mailbox *f);

/* ---- ui/bounce.c ---- */
/* `b`: asks the addresses, confirms, and hands message i unchanged (with
 * Resent-* headers on top) to loft's sendmail; the message line says
 * what happened, as after sending. */
void ui_bounce(struct ui *ui, size_t i);

/* ---- ui/folders.c ---- */
/* The folder list screen; returns the chosen folder name (malloc'd) or NULL. */
char *ui_folders_run(struct ui *ui);
/* Draws the sidebar in columns [0, width) of rows y0..y0+rows-1: one folder a
 * line, "name  unread/total", the open folder highlighted; the counts are
 * store_folder_status()'s, refilled at most once a second. */
void ui_sidebar_draw(struct ui *ui, int y0, int rows, int width);
void ui_sidebar_free(void);
/* One sidebar line of exactly width cells (pure; unit-tested). */
void ui_sidebar_line(const char *name, size_t unread, size_t total, size_t width,
		     struct sbuf *out);

/* ---- ui/attach.c ---- */
void ui_attach_run(struct ui *ui, struct message *msg);

/* ---- ui/mailcap.c ---- */
struct ui_mailcap_entry {
	char *type;		/* "text/html", "image/ *" */
	char *command;		/* with %s */
	bool copiousoutput;
	bool needsterminal;
};
/* Parses a mailcap file's text: entries appended to *v (count *n). */
void ui_mailcap_parse(const char *text, size_t len, struct ui_mailcap_entry **v, size_t *n);
void ui_mailcap_free(struct ui_mailcap_entry *v, size_t n);
/* The files searched (the mailcap_path setting); NULL frees the cache. */
void ui_mailcap_set_path(const char *path);
/* The first entry for type (wildcards honoured) with copiousoutput when
 * copious, from ~/.mailcap and /etc/mailcap; NULL when none.  Owned by a
 * process-wide cache. */
const struct ui_mailcap_entry *ui_mailcap_find(const char *type, bool copious);
/* Runs cmd (%s replaced by a temporary file holding data) and collects its
 * output into out, killing it after timeout_ms.  Returns 0, or -1. */
int ui_mailcap_filter(const char *command, const char *data, size_t len, int timeout_ms,
		      struct sbuf *out);

#endif
