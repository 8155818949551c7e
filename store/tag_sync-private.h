/* tag_sync's keyword writes (store/tag_sync_write.c): the store keywords
 * a tag pass changes, gathered and applied per folder and per change, so
 * that a pass over many messages costs a store commit (an fsync) per
 * group of equal changes instead of one per message.  Nothing prints. */
#ifndef LOFT_STORE_TAG_SYNC_PRIVATE_H
#define LOFT_STORE_TAG_SYNC_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

struct store_folder;

struct ts_write {
	struct store_folder *f;		/* open until the flush */
	uint32_t uid;
	char *add, *del;		/* space-separated words ("" none); owned */
};

struct ts_writes {
	struct ts_write *v;
	size_t n, alloc;
};

/* Gathers one record's change; takes add and del (malloc'd). */
void ts_writes_add(struct ts_writes *w, struct store_folder *f, uint32_t uid, char *add,
		   char *del);
/* Applies what was gathered (ADD, then REMOVE, with no flags: each record
 * is changed under the state's writer lock, so a flag set meanwhile by
 * another process is kept) and empties w, also on failure.  0, or -1
 * with *error_r (the store's, valid until its next call). */
int ts_writes_flush(struct ts_writes *w, const char **error_r);
/* Drops what was gathered without applying it. */
void ts_writes_clear(struct ts_writes *w);

#endif
