/* search: a mailbox whose rows arrive in steps (a notmuch query across
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
#include "ui/ui-private.h"

#include "client/mailbox.h"

#include <stdio.h>
#include <stdlib.h>

#define UI_SEARCH_BATCH 200

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
	mailbox_step(ui->mb.box, UI_SEARCH_BATCH);
	take_rows(ui);
}

void ui_search_stop(struct ui *ui)
{
	if (!ui_search_running(ui))
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
