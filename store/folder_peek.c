/* store_folder_peek: whether a folder is as its state says, from the
 * state's header and the directories' stamps alone (no record read, no
 * file name listed), so that `loft sync` of an unchanged 100,000-message
 * folder costs no snapshot. */
#include "store/store-private.h"

#include <string.h>

int store_folder_peek(struct store *store, const char *name, uint32_t *uidvalidity_r,
		      uint32_t *uidnext_r, uint64_t *modseq_r, const char **error_r)
{
	uint64_t had[STATE_STAMPS], now[STATE_STAMPS];
	struct store_folder *f;
	struct state_header hdr;
	const char *err;
	int r = 0;

	if (store_folder_open_append(store, name, &f, error_r) < 0)
		return -1;
	if (store_folder_kind(f) == STORE_MAILDIR) {
		store_stamps_now(f, now);
		if (state_foreach_since(f->state, UINT64_MAX, &hdr, had, NULL, NULL, &err) < 0)
			r = store_fail(store, error_r, "%s", err);
		else if (had[0] != 0 && memcmp(had, now, sizeof(had)) == 0)
			r = 1;
		if (r == 1) {
			*uidvalidity_r = hdr.uidvalidity;
			*uidnext_r = hdr.uidnext;
			*modseq_r = hdr.highestmodseq;
		}
	}
	store_folder_close(&f);
	return r;
}
