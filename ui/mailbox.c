/* mailbox: the open mailbox behind the index, as the screens see it —
 * a client/mailbox.h mailbox (a store folder, a notmuch search...) with
 * what only the screens keep per row: lazily parsed envelopes, marks
 * (tagged, deleted here, collapsed), and the display order (sort,
 * threads, collapse, limit).  Every access to the messages goes through
 * the mailbox's driver table.
 *
 * Opening a 100,000-message folder reads only the store's snapshot.  The
 * thread pass needs Message-ID, In-Reply-To, References, the subject and
 * the date of every message; they come from the driver's thread keys
 * (store.h: a few raw header fields in one string), which the thread
 * builder reads in place through a callback: no per-row copy.  Only the
 * rare encoded subject is decoded; no ENVELOPE string is parsed.  Rows
 * without a thread key (search results) are threaded from their
 * envelopes. */
#include "ui/ui-private.h"

#include "client/envelope.h"
#include "client/mailbox.h"
#include "client/thread.h"
#include "store/message.h"
#include "store/store.h"

#include "lib/arena.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/curses_lazy.h"

static struct envelope empty_env = { 0, "", "", "", "", "", "", "", "", 0, 0 };

static void hits_forget(struct ui_mailbox *mb)
{
	for (size_t k = 0; k < mb->n_hits; k++) {
		free(mb->hits[k].key);
		free(mb->hits[k].uids);
	}
	mb->n_hits = 0;
}

static void free_rows(struct ui_mailbox *mb)
{
	ui_tags_forget(mb);
	hits_forget(mb);
	if (mb->env)
		for (size_t i = 0; i < mb->n; i++)
			envelope_free(&mb->env[i]);
	free(mb->env);
	free(mb->tagged);
	free(mb->deleted_here);
	free(mb->collapsed);
	free(mb->order);
	thread_free(&mb->thr);
	mb->env = NULL;
	mb->tagged = mb->collapsed = mb->deleted_here = NULL;
	mb->order = NULL;
	mb->norder = 0;
	mb->alloc = 0;
}

void ui_mailbox_close(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;

	if (mb->box != NULL)
		mailbox_threads_flush(mb->box, mb->thr, NULL);
	free_rows(mb);
	message_free(&mb->pat_msg);
	mailbox_close(&mb->box);
	free(mb->name);
	free(mb->limit);
	memset(mb, 0, sizeof(*mb));
}

void ui_rows_grow(struct ui_mailbox *mb, size_t n)
{
	size_t old = mb->alloc, a = old ? old : 16;

	/* One spare entry: arrays of n + 1, never of 0. */
	if (n + 1 <= old)
		return;
	while (a < n + 1)
		a *= 2;
	mb->env = xreallocarray(mb->env, a, sizeof(*mb->env));
	mb->tagged = xreallocarray(mb->tagged, a, 1);
	mb->deleted_here = xreallocarray(mb->deleted_here, a, 1);
	mb->collapsed = xreallocarray(mb->collapsed, a, 1);
	mb->order = xreallocarray(mb->order, a, sizeof(*mb->order));
	memset(mb->env + old, 0, (a - old) * sizeof(*mb->env));
	memset(mb->tagged + old, 0, a - old);
	memset(mb->deleted_here + old, 0, a - old);
	memset(mb->collapsed + old, 0, a - old);
	if (mb->tags) {
		/* ui/tags.c's cache follows the rows. */
		mb->tags = xreallocarray(mb->tags, a, sizeof(*mb->tags));
		memset(mb->tags + old, 0, (a - old) * sizeof(*mb->tags));
	}
	mb->alloc = a;
}

/* The store's progress callback while a folder opens: a bar on the bottom
 * line, Ctrl-G to cancel (other keys typed meanwhile are dropped). */
static int open_progress(size_t done, size_t total, void *vctx)
{
	struct ui_progress *p = vctx;
	char bar[21];
	size_t fill = total ? done * 20 / total : 20;
	int ch;

	if (stdscr == NULL || isendwin())
		return 0;
	nodelay(stdscr, TRUE);
	while ((ch = getch()) != ERR)
		if (ch == 7) {	/* Ctrl-G */
			nodelay(stdscr, FALSE);
			p->ui->cancelled = true;
			return -1;
		}
	nodelay(stdscr, FALSE);
	memset(bar, '#', fill);
	memset(bar + fill, '-', 20 - fill);
	bar[20] = '\0';
	p->shown = true;
	ui_message(p->ui, false, "Reading %s: [%s] %zu/%zu %zu%%  (Ctrl-G cancels)", p->name, bar,
		   done, total, total ? done * 100 / total : 100);
	/* A test's slow machine: Ctrl-G typed during the sleep is seen at
	 * the next step. */
	for (long ms = p->slow_ms; ms > 0; ms -= 50) {
		usleep(50 * 1000);
		nodelay(stdscr, TRUE);
		ch = getch();
		nodelay(stdscr, FALSE);
		if (ch == 7) {
			p->ui->cancelled = true;
			return -1;
		}
	}
	return 0;
}

/* Keys typed during a short wait are type-ahead: only a wait the user
 * can see is watched for Ctrl-G. */
#define NET_WAIT_SHOWN_MS 300

int ui_net_waiting(void *ctx, long waited_ms)
{
	struct ui *ui = ctx;
	int keys[32], n = 0, ch;

	if (waited_ms < NET_WAIT_SHOWN_MS || stdscr == NULL || isendwin())
		return 0;
	nodelay(stdscr, TRUE);
	while (n < 32 && (ch = getch()) != ERR) {
		if (ch == 7) {	/* Ctrl-G: the rest typed goes too */
			nodelay(stdscr, FALSE);
			return -1;
		}
		keys[n++] = ch;
	}
	nodelay(stdscr, FALSE);
	while (n > 0)
		ungetch(keys[--n]);
	ui_message(ui, false, "Waiting for the server...  (Ctrl-G cancels)");
	return 0;
}

void ui_progress_begin(struct ui *ui, struct ui_progress *p, const char *name)
{
	const char *slow = getenv("LOFT_TEST_SLOW_OPEN");

	*p = (struct ui_progress){ ui, name, slow ? strtol(slow, NULL, 10) : 0, false };
	ui->cancelled = false;
	store_set_progress(ui->store, open_progress, p);
}

bool ui_progress_end(struct ui *ui, struct ui_progress *p)
{
	store_set_progress(ui->store, NULL, NULL);
	if (p->shown)
		ui->status[0] = '\0';
	return ui->cancelled;
}

/* A folder's headers arriving in steps after its first open (the rows
 * are all there): said on the message line until the threads are in. */
static void fill_status(struct ui *ui)
{
	ui->status_error = false;
	if (mailbox_pending(ui->mb.box))
		snprintf(ui->status, sizeof(ui->status), "%s",
			 "Threading\xe2\x80\xa6 (by arrival until the headers are read)");
	else
		ui->status[0] = '\0';
}

struct mailbox *ui_box_open(struct ui *ui, const char *name, unsigned flags, const char **error_r)
{
	struct mailbox *box = NULL;

	if (mailbox_open(&ui->env, name, flags, &box, error_r) < 0)
		return NULL;
	return box;
}

int ui_mailbox_open(struct ui *ui, const char *name, const char **error_r)
{
	struct ui_progress prog;
	struct mailbox *box;

	ui_progress_begin(ui, &prog, name);
	box = ui_box_open(ui, name, 0, error_r);
	ui_progress_end(ui, &prog);
	if (box == NULL)
		return -1;
	ui_mailbox_close(ui);
	ui->mb.box = box;
	ui->mb.name = xstrdup(name);
	if (mailbox_caps(box) & MAILBOX_CAP_VIRTUAL) {
		/* Rows arrive in steps (below), the first ones now. */
		ui_search_start(ui);
		return 0;
	}
	ui->mb.n = mailbox_count(box);
	ui_rows_grow(&ui->mb, ui->mb.n);
	ui_mailbox_resort(ui);
	if (mailbox_pending(box)) {
		const char *slow = getenv("LOFT_TEST_SLOW_SEARCH");

		/* Tests: the steps slowed down as a search's are. */
		ui->mb.search_slow_ms = slow ? strtol(slow, NULL, 10) : 0;
		fill_status(ui);
	}
	/* Start on the first unread message, else the last one (mutt). */
	ui->mb.cur = ui->mb.norder ? ui->mb.norder - 1 : 0;
	for (size_t r = 0; r < ui->mb.norder; r++)
		if (!(ui_msg_flags(ui, ui->mb.order[r]) & STORE_SEEN)) {
			ui->mb.cur = r;
			break;
		}
	return 0;
}

bool ui_mailbox_writable(const struct ui *ui)
{
	return ui->mb.box && (mailbox_caps(ui->mb.box) & MAILBOX_CAP_WRITE);
}

bool ui_mailbox_virtual(const struct ui *ui)
{
	return ui->mb.box && (mailbox_caps(ui->mb.box) & MAILBOX_CAP_VIRTUAL);
}

static void msg_of(struct ui *ui, size_t i, struct mailbox_msg *m)
{
	mailbox_msg(ui->mb.box, i, m);
}

uint32_t ui_msg_flags(struct ui *ui, size_t i)
{
	struct mailbox_msg m;

	msg_of(ui, i, &m);
	return m.flags;
}

uint64_t ui_msg_size(struct ui *ui, size_t i)
{
	struct mailbox_msg m;

	msg_of(ui, i, &m);
	return m.size;
}

int64_t ui_msg_received(struct ui *ui, size_t i)
{
	struct mailbox_msg m;

	msg_of(ui, i, &m);
	return m.internal_date;
}

long ui_msg_index_of(struct ui *ui, uint32_t uid)
{
	return mailbox_index_of(ui->mb.box, uid);
}

uint32_t ui_msg_uid(struct ui *ui, size_t i)
{
	struct mailbox_msg m;

	msg_of(ui, i, &m);
	return m.uid;
}

/* Message i's envelope, parsed from the driver's ENVELOPE string; NULL
 * when there is none.  Caller frees. */
static struct envelope *read_envelope(struct ui *ui, size_t i)
{
	struct sbuf sb = SBUF_INIT;
	struct envelope *e = NULL;
	const char *err;

	if (mailbox_envelope(ui->mb.box, i, &sb, &err) > 0)
		e = envelope_parse(sb.buf, sb.len, &err);
	sbuf_release(&sb);
	return e;
}

const struct envelope *ui_msg_env(struct ui *ui, size_t i)
{
	struct ui_mailbox *mb = &ui->mb;

	if (i >= mb->n)
		return &empty_env;
	if (mb->env[i] == NULL)
		mb->env[i] = read_envelope(ui, i);
	return mb->env[i] ? mb->env[i] : &empty_env;
}

struct message *ui_msg_load(struct ui *ui, size_t i)
{
	struct sbuf sb = SBUF_INIT;
	struct message *m;
	const char *err;

	if (mailbox_read(ui->mb.box, i, &sb, &err) < 0) {
		ui_message(ui, true, "%s", err);
		sbuf_release(&sb);
		return NULL;
	}
	m = message_parse(sb.buf, sb.len, NULL, &err);
	sbuf_release(&sb);
	if (m == NULL)
		ui_message(ui, true, "cannot read the message: %s", err);
	return m;
}

int ui_msgs_set_flags(struct ui *ui, const uint32_t *rows, size_t n, int op, uint32_t flags)
{
	const char *err;

	if (ui->read_only) {
		ui_message(ui, true, "%s", "the mailbox is read-only (-R)");
		return -1;
	}
	if (mailbox_set_flags(ui->mb.box, rows, n, (enum store_flag_op)op, flags, &err) < 0) {
		ui_message(ui, true, "%s", err);
		return -1;
	}
	if (flags & STORE_DELETED)
		for (size_t k = 0; k < n; k++)
			ui->mb.deleted_here[rows[k]] = op == STORE_FLAGS_ADD ? UI_DEL_HERE : 0;
	return 0;
}

int ui_msg_set_flags(struct ui *ui, size_t i, int op, uint32_t flags)
{
	uint32_t row = (uint32_t)i;

	return ui_msgs_set_flags(ui, &row, 1, op, flags);
}

void ui_mailbox_counts(struct ui *ui, size_t *new_r, size_t *flagged_r, size_t *deleted_r)
{
	size_t nw = 0, fl = 0, del = 0;

	for (size_t i = 0; i < ui->mb.n; i++) {
		uint32_t f = ui_msg_flags(ui, i);

		nw += !(f & STORE_SEEN);
		fl += !!(f & STORE_FLAGGED);
		del += !!(f & STORE_DELETED);
	}
	*new_r = nw;
	*flagged_r = fl;
	*deleted_r = del;
}

/* ---- ordering ---- */

/* The text a ~h ~b ~B ~C test asks for; the message read is kept until
 * another one is asked for (one file read for several tests). */
static const char *pattern_text(const struct ui_pattern_msg *pm, enum ui_pattern_text kind,
				size_t *len_r)
{
	struct ui *ui = pm->ctx;
	struct ui_mailbox *mb = &ui->mb;
	uint32_t uid = ui_msg_uid(ui, pm->index);
	const char *raw, *sep;
	size_t len;

	if (mb->pat_msg == NULL || mb->pat_uid != uid) {
		message_free(&mb->pat_msg);
		mb->pat_msg = ui_msg_load(ui, pm->index);
		mb->pat_uid = uid;
	}
	if (mb->pat_msg == NULL)
		return NULL;
	if (kind == UI_PATTERN_CC) {
		const char *cc = message_header(mb->pat_msg, "Cc");
		*len_r = cc ? strlen(cc) : 0;
		return cc;
	}
	raw = message_raw(mb->pat_msg, &len);
	*len_r = len;
	if (kind == UI_PATTERN_WHOLE)
		return raw;
	/* The header block ends at the first empty line. */
	sep = memmem(raw, len, "\n\n", 2);
	const char *crlf = memmem(raw, len, "\r\n\r\n", 4);
	size_t hlen = sep ? (size_t)(sep - raw) + 1 : len;
	if (crlf && (size_t)(crlf - raw) + 2 < hlen)
		hlen = (size_t)(crlf - raw) + 2;
	if (kind == UI_PATTERN_HEADERS) {
		*len_r = hlen;
		return raw;
	}
	*len_r = len - hlen;
	return raw + hlen;
}

/* ~b ~B ~h on a mailbox whose server searches: one search per key while
 * the rows stay the same, then a lookup per message.  A search that
 * failed (offline, Ctrl-G) matches nothing rather than read every
 * message. */
static int pattern_server(const struct ui_pattern_msg *pm, const char *key)
{
	struct ui *ui = pm->ctx;
	struct ui_mailbox *mb = &ui->mb;
	struct ui_server_hits *h = NULL;
	uint32_t uid = ui_msg_uid(ui, pm->index);
	const char *err;
	size_t lo = 0, hi;

	for (size_t k = 0; k < mb->n_hits && h == NULL; k++)
		if (strcmp(mb->hits[k].key, key) == 0)
			h = &mb->hits[k];
	if (h == NULL) {
		if (mb->n_hits == sizeof(mb->hits) / sizeof(mb->hits[0]))
			hits_forget(mb);
		h = &mb->hits[mb->n_hits++];
		*h = (struct ui_server_hits){ xstrdup(key), NULL, 0 };
		ui_message(ui, false, "Searching on the server...");
		if (mailbox_search(mb->box, key, &h->uids, &h->n, &err) < 0) {
			h->uids = NULL;
			ui_message(ui, true, "%s", err);
		} else {
			ui->status[0] = '\0';
		}
	}
	for (hi = h->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->uids[mid] == uid)
			return 1;
		if (h->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ~(P): the thread's messages (rows of the thread view; without threads
 * the message alone). */
static bool pattern_thread(const struct ui_pattern_msg *pm, const char *pattern)
{
	struct ui *ui = pm->ctx;
	const struct thread *thr = ui->mb.thr;

	/* Rows taken in since the threads were built are their own thread
	 * until the next resort. */
	if (thr == NULL || pm->index >= thr->n)
		return ui_pattern_match(pattern, pm);
	const struct thread_node *root = &thr->nodes[thr->nodes[pm->index].root];
	for (size_t r = root->row; r < (size_t)root->row + root->size; r++) {
		struct ui_pattern_msg other;

		ui_msg_pattern(ui, thr->order[r], &other);
		if (ui_pattern_match(pattern, &other))
			return true;
	}
	return false;
}

void ui_msg_pattern(struct ui *ui, size_t i, struct ui_pattern_msg *pm_r)
{
	const struct envelope *e = ui_msg_env(ui, i);

	*pm_r = (struct ui_pattern_msg){
		.from = *e->from_name ? e->from_name : e->from_addr,
		.from_addr = e->from_addr,
		.subject = e->subject,
		.to = e->to_addr,
		.flags = ui_msg_flags(ui, i),
		.tagged = ui->mb.tagged[i],
		.date = e->date,
		.received = ui_msg_received(ui, i),
		.now = clock_now(),
		.text = pattern_text,
		.thread = pattern_thread,
		.server = mailbox_caps(ui->mb.box) & MAILBOX_CAP_SEARCH ? pattern_server : NULL,
		.ctx = ui,
		.index = i,
	};
}

bool ui_msg_visible(struct ui *ui, size_t i)
{
	struct ui_pattern_msg pm;

	if (ui->mb.limit == NULL)
		return true;
	ui_msg_pattern(ui, i, &pm);
	/* Keep the parsed envelope of shown rows only: memory stays small. */
	return ui_pattern_match(ui->mb.limit, &pm);
}

struct thread_ctx {
	struct ui *ui;
	struct arena *pool;
	struct sbuf tmp;
};

/* thread_input_fn: the fields of message i asked for, from its thread key
 * when it has one (mailbox_thread_input: pointers into the snapshot's
 * key); what must be made (a decoded subject; every field of a message
 * without a key) goes to the arena pool (its blocks never move, so the
 * pointers last the build). */
static void thread_fields(void *ctx, size_t i, unsigned fields, struct thread_input *in)
{
	struct thread_ctx *tc = ctx;
	struct ui_mailbox *mb = &tc->ui->mb;
	bool had = mb->env[i] != NULL;
	const struct envelope *e;

	if (mailbox_thread_input(mb->box, i, fields, in, tc->pool, &tc->tmp))
		return;
	/* No thread key (a search result, an unreadable file). */
	e = ui_msg_env(tc->ui, i);
	if (fields & THREAD_FIELD_ID) {
		in->message_id = arena_strdup(tc->pool, e->message_id);
		in->date = e->date ? e->date : ui_msg_received(tc->ui, i);
	}
	if (fields & THREAD_FIELD_REFS)
		in->in_reply_to = arena_strdup(tc->pool, e->in_reply_to);
	if (fields & THREAD_FIELD_SUBJECT)
		in->subject = arena_strdup(tc->pool, e->subject);
	if (!had)
		envelope_free(&mb->env[i]);
}

/* The threads of the rows: those the mailbox kept from an open of the
 * same messages (a warm open of an unchanged folder looks at no thread
 * key), else built from the rows' keys in place, then kept for the next
 * open. */
static void build_threads(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	struct thread_ctx tc = { ui, NULL, SBUF_INIT };

	thread_free(&mb->thr);
	mb->thr = mailbox_threads_cached(mb->box, NULL);
	if (mb->thr)
		return;
	tc.pool = arena_new(0);
	mb->thr = thread_build_fn(mb->n, thread_fields, &tc, NULL);
	mailbox_threads_keep(mb->box, mb->thr, thread_fields, &tc, NULL);
	sbuf_release(&tc.tmp);
	arena_free(&tc.pool);
}

static void sort_plain(struct ui *ui, uint32_t *order)
{
	struct ui_mailbox *mb = &ui->mb;
	struct sort_input *in = xcalloc(mb->n + 1, sizeof(*in));
	struct envelope **tmp = xcalloc(mb->n + 1, sizeof(*tmp));

	for (size_t i = 0; i < mb->n; i++) {
		const struct envelope *e;

		/* A folder's envelopes are not kept (memory); a search's
		 * are, as reading them costs a file each. */
		if (mb->env[i] == NULL && !ui_mailbox_virtual(ui)) {
			tmp[i] = read_envelope(ui, i);
			e = tmp[i] ? tmp[i] : &empty_env;
		} else {
			e = ui_msg_env(ui, i);
		}
		in[i].date = e->date ? e->date : ui_msg_received(ui, i);
		in[i].from_name = e->from_name;
		in[i].from_addr = e->from_addr;
		in[i].subject = e->subject;
		in[i].size = ui_msg_size(ui, i);
	}
	sort_messages(in, mb->n, ui->sort, (ui->reverse ? SORT_REVERSE : 0) | SORT_STRIP_TAGS,
		      NULL, order);
	for (size_t i = 0; i < mb->n; i++)
		envelope_free(&tmp[i]);
	free(tmp);
	free(in);
}

/* By arrival (the store's internal date), the order of a folder whose
 * headers are still arriving: no envelope is read. */
static void sort_received(struct ui *ui, uint32_t *order)
{
	struct ui_mailbox *mb = &ui->mb;
	struct sort_input *in = xcalloc(mb->n + 1, sizeof(*in));

	for (size_t i = 0; i < mb->n; i++)
		in[i].date = ui_msg_received(ui, i);
	sort_messages(in, mb->n, SORT_DATE, ui->reverse ? SORT_REVERSE : 0, NULL, order);
	free(in);
}

void ui_mailbox_append_order(struct ui *ui, size_t from)
{
	struct ui_mailbox *mb = &ui->mb;

	for (size_t i = from; i < mb->n; i++)
		if (ui_msg_visible(ui, i))
			mb->order[mb->norder++] = (uint32_t)i;
}

void ui_mailbox_resort(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	uint32_t *all;
	int64_t cur_msg = mb->norder && mb->cur < mb->norder ? (int64_t)mb->order[mb->cur] : -1;
	size_t r = 0;

	/* A search keeps notmuch's order while results arrive (and after,
	 * unless sorted explicitly): nothing to parse but shown rows. */
	if (ui_mailbox_virtual(ui) && (mb->arrival || mailbox_pending(mb->box))) {
		thread_free(&mb->thr);
		mb->norder = 0;
		ui_mailbox_append_order(ui, 0);
		mb->cur = 0;
		for (size_t k = 0; cur_msg >= 0 && k < mb->norder; k++)
			if (mb->order[k] == (uint32_t)cur_msg)
				mb->cur = k;
		if (mb->cur >= mb->norder)
			mb->cur = mb->norder ? mb->norder - 1 : 0;
		return;
	}
	all = xcalloc(mb->n + 1, sizeof(*all));
	if (mailbox_pending(mb->box)) {
		thread_free(&mb->thr);
		sort_received(ui, all);
	} else if (ui->sort == SORT_THREADS) {
		build_threads(ui);
		sort_messages(NULL, mb->n, SORT_THREADS, ui->reverse ? SORT_REVERSE : 0, mb->thr, all);
	} else {
		thread_free(&mb->thr);
		sort_plain(ui, all);
	}
	for (size_t k = 0; k < mb->n; k++) {
		uint32_t i = all[k];

		if (!ui_msg_visible(ui, i))
			continue;
		mb->order[r++] = i;
		/* A collapsed top hides the rest of its thread. */
		if (mb->thr && mb->collapsed[i] && mb->thr->nodes[i].parent < 0 && mb->limit == NULL)
			k += mb->thr->nodes[i].size - 1;
	}
	mb->norder = r;
	free(all);
	mb->cur = 0;
	for (size_t k = 0; cur_msg >= 0 && k < r; k++)
		if (mb->order[k] == (uint32_t)cur_msg)
			mb->cur = k;
	if (mb->cur >= r)
		mb->cur = r ? r - 1 : 0;
}

/* Moves the per-row marks and parsed envelopes of the rows that survived
 * a sync to their new indices.  The old snapshot was, in UID order, the
 * survivors (now the first old_n - n_expunged rows, in the same order)
 * merged with ch->expunged; new messages follow the survivors. */
static void remap_rows(struct ui *ui, const struct store_changes *ch, size_t old_n)
{
	struct ui_mailbox *mb = &ui->mb;
	size_t kept = old_n - ch->n_expunged, e = 0, k = 0;
	struct envelope **env;
	uint8_t *tagged, *del, *coll;

	if (ch->n_expunged == 0 && kept + ch->n_new == mb->n) {
		/* Nothing went: every row keeps its index, the new ones follow
		 * (a reopen with new mail copies no 100,000-row array). */
		ui_rows_grow(mb, mb->n);
		thread_free(&mb->thr);
		mb->norder = 0;
		return;
	}
	if (ch->n_expunged > old_n || kept + ch->n_new != mb->n) {
		/* Lists that do not add up (never expected): start afresh. */
		size_t n = mb->n;

		mb->n = old_n;
		free_rows(mb);
		mb->n = n;
		ui_rows_grow(mb, n);
		return;
	}
	env = xcalloc(mb->n + 1, sizeof(*env));
	tagged = xcalloc(mb->n + 1, 1);
	del = xcalloc(mb->n + 1, 1);
	coll = xcalloc(mb->n + 1, 1);
	for (size_t i = 0; i < old_n; i++) {
		if (e < ch->n_expunged &&
		    (k >= kept || ch->expunged[e] < ui_msg_uid(ui, k))) {
			envelope_free(&mb->env[i]);
			e++;
			continue;
		}
		env[k] = mb->env[i];
		tagged[k] = mb->tagged[i];
		del[k] = mb->deleted_here[i];
		coll[k] = mb->collapsed[i];
		k++;
	}
	free(mb->env);
	free(mb->tagged);
	free(mb->deleted_here);
	free(mb->collapsed);
	mb->env = env;
	mb->tagged = tagged;
	mb->deleted_here = del;
	mb->collapsed = coll;
	thread_free(&mb->thr);
	free(mb->order);
	mb->order = xcalloc(mb->n + 1, sizeof(*mb->order));
	mb->norder = 0;
	mb->alloc = mb->n + 1;
}

bool ui_mailbox_refresh(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	struct store_changes ch;
	const char *err;
	uint32_t cur_uid = 0;
	size_t old_n = mb->n;

	if (mb->box == NULL)
		return false;
	if (mb->norder)
		cur_uid = ui_msg_uid(ui, mb->order[mb->cur]);
	if (mailbox_sync(mb->box, &ch, &err) < 0) {
		ui_message(ui, true, "%s", err);
		return false;
	}
	if (ch.n_expunged == 0 && ch.n_new == 0 && ch.n_changed == 0) {
		store_changes_free(&ch);
		return false;
	}
	/* Tags are cached per row (and may have changed with the flags). */
	ui_tags_forget(mb);
	if (ch.n_new)
		hits_forget(mb);	/* the server has not looked at them */
	if (ch.n_expunged || ch.n_new) {
		mb->n = mailbox_count(mb->box);
		remap_rows(ui, &ch, old_n);
	}
	/* Only flags changed: same rows, same order, unless a limit sees
	 * flags. */
	if (ch.n_expunged || ch.n_new || mb->limit) {
		ui_mailbox_resort(ui);
		for (size_t r = 0; r < mb->norder; r++)
			if (ui_msg_uid(ui, mb->order[r]) == cur_uid)
				mb->cur = r;
	}
	if (ch.n_new)
		ui_message(ui, false, "%zu new message%s", ch.n_new, ch.n_new == 1 ? "" : "s");
	store_changes_free(&ch);
	return true;
}

/* ---- rows arriving in steps (a search) ----
 * A mailbox whose rows arrive in steps (a notmuch query across
 * the whole store, client/mailbox_search.c), shown before the whole
 * result is in.
 *
 * Opening reads the first batch of results at once; the rest arrives a
 * batch (UI_SEARCH_BATCH messages) at a time from the event loop
 * (ui_getkey) whenever no key is waiting, so keys are answered between
 * batches.  Rows keep the mailbox's order (newest first) and are appended
 * as they come; envelopes are read only for the rows drawn.  While it
 * runs the message line says "Searching… N results"; Ctrl-G on the index
 * stops it, keeping what was found.  An explicit sort (o) of a search
 * applies once the search has ended.
 *
 * LOFT_TEST_SLOW_SEARCH=MS (tests only) waits MS milliseconds between
 * batches (listening to the keyboard meanwhile), so a test sees the
 * search running on any machine. */
#define UI_SEARCH_BATCH 200
/* A folder's headers per step: ~20-40 ms of reading, one state commit. */
#define UI_FILL_BATCH 2048

static void search_status(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;

	ui->status_error = false;
	if (mailbox_pending(mb->box))
		snprintf(ui->status, sizeof(ui->status),
			 "Searching\xe2\x80\xa6 %zu results  (Ctrl-G stops)", mb->n);
	else
		snprintf(ui->status, sizeof(ui->status), "%s%zu result%s",
			 mb->search_stopped ? "Search stopped: " : "", mb->n, mb->n == 1 ? "" : "s");
}

/* Takes in the rows that arrived; at the end (done or stopped) applies an
 * explicit sort asked for meanwhile. */
static void take_rows(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	size_t from = mb->n;

	if (!ui_mailbox_virtual(ui)) {
		/* A folder's headers: the real order once they are all in.
		 * The steps' buffers were freed, partly in the readers'
		 * own malloc arenas: given back before the threads are
		 * built, the peak of a first open is the build's alone. */
		if (!mailbox_pending(mb->box)) {
			malloc_trim(0);
			ui_mailbox_resort(ui);
		}
		fill_status(ui);
		return;
	}
	mb->n = mailbox_count(mb->box);
	ui_rows_grow(mb, mb->n);
	if (!mailbox_pending(mb->box) && !mb->arrival)
		ui_mailbox_resort(ui);
	else
		ui_mailbox_append_order(ui, from);
	search_status(ui);
}

bool ui_search_running(const struct ui *ui)
{
	return ui->mb.box && mailbox_pending(ui->mb.box);
}

int ui_search_wait_ms(const struct ui *ui)
{
	return (int)ui->mb.search_slow_ms;
}

void ui_search_step(struct ui *ui)
{
	if (!ui_search_running(ui))
		return;
	mailbox_step(ui->mb.box, ui_mailbox_virtual(ui) ? UI_SEARCH_BATCH : UI_FILL_BATCH);
	take_rows(ui);
}

void ui_search_stop(struct ui *ui)
{
	if (!ui_search_running(ui) || !ui_mailbox_virtual(ui))
		return;
	ui->mb.search_stopped = true;
	mailbox_stop(ui->mb.box);
	take_rows(ui);
}

void ui_search_start(struct ui *ui)
{
	const char *slow = getenv("LOFT_TEST_SLOW_SEARCH");

	ui->mb.search_slow_ms = slow ? strtol(slow, NULL, 10) : 0;
	ui->mb.arrival = true;
	ui_rows_grow(&ui->mb, 0);
	/* The first screenful (and a bit) before the screen is drawn. */
	ui_search_step(ui);
	ui->mb.cur = 0;
}
