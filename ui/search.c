/* search: a notmuch query across the whole store as a virtual folder,
 * read in steps so the first screen shows before the whole result is in.
 *
 * Opening runs the query and takes the first batch of results at once;
 * the rest arrives a batch (UI_SEARCH_BATCH messages) at a time from the
 * event loop (ui_getkey) whenever no key is waiting, so keys are answered
 * between batches.  Rows keep notmuch's order (newest first) and are
 * appended as they come; nothing is parsed but the file names (flags come
 * from the maildir suffix): envelopes are read only for the rows drawn.
 * While it runs the message line says "Searching… N results"; Ctrl-G on
 * the index stops it, keeping what was found.  An explicit sort (o) of a
 * search applies once the search has ended.
 *
 * LOFT_TEST_SLOW_SEARCH=MS (tests only) waits MS milliseconds between
 * batches (listening to the keyboard meanwhile), so a test sees the
 * search running on any machine. */
#include "ui/ui-private.h"

#include "store/index.h"
#include "store/store.h"

#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UI_SEARCH_BATCH 200

/* Maildir flags from a file name's ":2," suffix. */
static uint32_t flags_of_path(const char *path)
{
	const char *info = strstr(path, ":2,");
	uint32_t fl = 0;

	if (info == NULL)
		return strstr(path, "/new/") ? STORE_RECENT : 0;
	for (const char *p = info + 3; *p && *p != '/'; p++)
		switch (*p) {
		case 'S': fl |= STORE_SEEN; break;
		case 'R': fl |= STORE_ANSWERED; break;
		case 'F': fl |= STORE_FLAGGED; break;
		case 'T': fl |= STORE_DELETED; break;
		case 'D': fl |= STORE_DRAFT; break;
		case 'P': fl |= STORE_PASSED; break;
		}
	return fl;
}

/* Room for one more row (every per-row array grows together; one spare
 * entry, as alloc_rows leaves). */
static void grow_rows(struct ui_mailbox *mb)
{
	if (mb->n + 1 >= mb->alloc) {
		size_t old = mb->alloc, a = old ? old * 2 : 1024;

		mb->paths = xreallocarray(mb->paths, a, sizeof(*mb->paths));
		mb->flags = xreallocarray(mb->flags, a, sizeof(*mb->flags));
		mb->env = xreallocarray(mb->env, a, sizeof(*mb->env));
		mb->tagged = xreallocarray(mb->tagged, a, 1);
		mb->collapsed = xreallocarray(mb->collapsed, a, 1);
		mb->order = xreallocarray(mb->order, a, sizeof(*mb->order));
		memset(mb->env + old, 0, (a - old) * sizeof(*mb->env));
		memset(mb->tagged + old, 0, a - old);
		memset(mb->collapsed + old, 0, a - old);
		mb->alloc = a;
	}
}

/* Appends one row. */
static int search_file(void *vctx, const char *path)
{
	struct ui_mailbox *mb = vctx;

	grow_rows(mb);
	mb->paths[mb->n] = xstrdup(path);
	mb->flags[mb->n] = flags_of_path(path);
	mb->n++;
	return 0;
}

static void search_status(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;

	ui->status_error = false;
	if (mb->search)
		snprintf(ui->status, sizeof(ui->status),
			 "Searching\xe2\x80\xa6 %zu results  (Ctrl-G stops)", mb->n);
	else
		snprintf(ui->status, sizeof(ui->status), "%s%zu result%s",
			 mb->search_stopped ? "Search stopped: " : "", mb->n, mb->n == 1 ? "" : "s");
}

/* The end of the search (done or stopped): the index handle goes, and an
 * explicit sort asked for meanwhile is applied. */
static void search_finish(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;

	index_search_end(&mb->search);
	index_close(&mb->search_ix);
	if (!mb->arrival)
		ui_mailbox_resort(ui);
}

bool ui_search_running(const struct ui *ui)
{
	return ui->mb.search != NULL;
}

int ui_search_wait_ms(const struct ui *ui)
{
	return (int)ui->mb.search_slow_ms;
}

void ui_search_step(struct ui *ui)
{
	struct ui_mailbox *mb = &ui->mb;
	size_t from = mb->n;
	int more;

	if (mb->search == NULL)
		return;
	more = index_search_next(mb->search, UI_SEARCH_BATCH, search_file, mb);
	if (!more)
		search_finish(ui);
	if (mb->search || mb->arrival)
		ui_mailbox_append_order(ui, from);
	search_status(ui);
}

void ui_search_stop(struct ui *ui)
{
	if (ui->mb.search == NULL)
		return;
	ui->mb.search_stopped = true;
	search_finish(ui);
	search_status(ui);
}

int ui_mailbox_open_search(struct ui *ui, const char *query, const char **error_r)
{
	struct index *ix = NULL;
	struct index_search *s = NULL;
	const char *db = config_get(ui->cfg, "notmuch_database");
	const char *slow = getenv("LOFT_TEST_SLOW_SEARCH");

	/* The query's errors show here, with the old mailbox still open. */
	if (index_open(ui->root, db, false, &ix, error_r) < 0)
		return -1;
	if (index_search_begin(ix, query, &s, error_r) < 0) {
		index_close(&ix);
		return -1;
	}
	ui_mailbox_close(ui);
	ui->mb.search_ix = ix;
	ui->mb.search = s;
	ui->mb.search_slow_ms = slow ? strtol(slow, NULL, 10) : 0;
	ui->mb.arrival = true;
	ui->mb.query = xstrdup(query);
	ui->mb.name = xasprintf("search:%s", query);
	grow_rows(&ui->mb);
	/* The first screenful (and a bit) before the screen is drawn. */
	ui_search_step(ui);
	ui->mb.cur = 0;
	return 0;
}

void ui_msg_set_path(struct ui *ui, size_t i, const char *path)
{
	if (ui->mb.folder || i >= ui->mb.n)
		return;
	free(ui->mb.paths[i]);
	ui->mb.paths[i] = xstrdup(path);
	ui->mb.flags[i] = flags_of_path(path);
}
