/* Checks the delivery agent makes before storing (localmta/deliver_check.c).
 * Pure functions of their inputs plus small files in the state directory;
 * nothing prints. */
#ifndef LOFT_LOCALMTA_DELIVER_PRIVATE_H
#define LOFT_LOCALMTA_DELIVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Received: plus Delivered-To: lines in the header block of data, or -1
 * when a Delivered-To names rcpt already (a mail loop). */
int deliver_hops(const char *data, size_t len, const char *rcpt);

/* Duplicate suppression by Message-ID: was msgid recorded in file within
 * window seconds before now?  Errors read as "not seen" (delivering twice
 * is better than dropping). */
bool deliver_dup_seen(const char *file, const char *msgid, int64_t window, int64_t now);
/* Records msgid at now, dropping entries older than the window. */
void deliver_dup_record(const char *file, const char *msgid, int64_t window, int64_t now);

/* Does one of the newest messages of folder carry "HEADER: token"?  For a
 * retry after a crash between storing and the queue's bookkeeping. */
bool deliver_token_present(struct store *store, const char *folder, const char *header,
			   const char *token);

#endif
