/* folder_fill: the headers a big first open left unread (folder.c),
 * read when someone needs them — the client for its threads, in steps
 * between keys; an IMAP FETCH of an ENVELOPE, a batch ahead of the UID
 * asked for.
 *
 * A fill reads the header block of each message (on two threads, as the
 * eager path does), then writes the thread keys, envelopes and CRLF sizes
 * beside the records (state_txn_fill) in one transaction without a new
 * MODSEQ (nothing an IMAP client sees changes), and into the snapshot.  A
 * record that another process filled meanwhile is left as it is.  A file that cannot
 * be read now (renamed behind loft's back since the snapshot) is left
 * unread in the state and gets an empty thread key in the snapshot, so a
 * fill always moves on; the next open reads it under its new name. */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/state.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Messages read ahead when a FETCH asks for an envelope not read yet:
 * one transaction for a FETCH of this many (sequential fetches are the
 * common case), a few milliseconds for a lone one. */
#define STORE_FILL_AHEAD 256

static size_t next_unfilled(const struct store_folder *f, size_t i)
{
	while (i < f->count && f->msgs[i].threadkey != NULL)
		i++;
	return i;
}

bool store_folder_filled(struct store_folder *f)
{
	f->fill_next = next_unfilled(f, f->fill_next);
	return f->fill_next >= f->count;
}

/* Writes the jobs' results beside the records of uids (one transaction). */
static int fill_commit(struct store_folder *f, const uint32_t *uids,
		       const struct store_env_job *jobs, size_t n, const char **error_r)
{
	struct state_txn *txn = NULL;
	const char *err;

	if (state_begin(f->state, &txn, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	state_txn_no_wake(txn);
	for (size_t k = 0; k < n; k++) {
		if (jobs[k].threadkey == NULL || jobs[k].threadkey[0] == '\0')
			continue;	/* unreadable now */
		if (state_txn_fill(txn, uids[k], jobs[k].threadkey, jobs[k].envelope,
				   jobs[k].vsize, &err) < 0) {
			state_abort(&txn);
			return store_fail(f->store, error_r, "%s", err);
		}
	}
	if (state_commit(&txn, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	/* Each fill reads records all over the map. */
	state_release_map(f->state);
	return 0;
}

/* Fills at most max unread messages of the snapshot from index from on. */
static int fill_from(struct store_folder *f, size_t from, size_t max, const char **error_r)
{
	struct store_env_job *jobs = xcalloc(max ? max : 1, sizeof(*jobs));
	size_t *idx = xcalloc(max ? max : 1, sizeof(*idx));
	uint32_t *uids = xcalloc(max ? max : 1, sizeof(*uids));
	size_t n = 0;
	int ret = 0;

	for (size_t i = next_unfilled(f, from); i < f->count && n < max;
	     i = next_unfilled(f, i + 1)) {
		const struct store_msg *m = &f->msgs[i];

		idx[n] = i;
		uids[n] = m->uid;
		jobs[n++] = (struct store_env_job){ m->location, NULL, NULL, m->size, 0,
						    m->internal_date, false };
	}
	/* An mbox is read whole at its open: a record without a thread key
	 * there is one from before thread keys, threaded from its envelope. */
	if (f->kind == STORE_MAILDIR && n > 0) {
		store_envelope_jobs(f->path, jobs, n, 0, n, NULL, NULL);
		ret = fill_commit(f, uids, jobs, n, error_r);
	}
	for (size_t k = 0; k < n; k++) {
		struct store_msg *m = &f->msgs[idx[k]];

		if (ret == 0) {
			m->threadkey = store_snapshot_threadkey(f, jobs[k].threadkey ?
								jobs[k].threadkey : "");
			if (m->vsize == 0)
				m->vsize = jobs[k].vsize;
		}
		free(jobs[k].envelope);
		free(jobs[k].threadkey);
	}
	free(jobs);
	free(idx);
	free(uids);
	return ret;
}

/* The locations of a fresh scan point into its name blocks, which also
 * hold every file's key for the join: about 115 bytes a message where
 * the locations need 60 (100,000 messages: 11.5 MB, 6 MB).  A fill that
 * is about to add the thread keys copies them out tight first and frees
 * the blocks, so the two never add up. */
static void compact_locations(struct store_folder *f)
{
	size_t total = 0;
	char *p;

	if (f->scan == NULL || store_folder_filled(f))
		return;
	for (size_t i = 0; i < f->count; i++)
		if (f->msgs[i].location != NULL)
			total += strlen(f->msgs[i].location) + 1;
	p = arena_alloc(f->arena, total ? total : 1);
	for (size_t i = 0; i < f->count; i++) {
		struct store_msg *m = &f->msgs[i];
		size_t len;

		if (m->location == NULL)
			continue;
		len = strlen(m->location) + 1;
		memcpy(p, m->location, len);
		m->location = p;
		p += len;
	}
	maildir_scan_free(&f->scan);
}

int store_folder_fill(struct store_folder *f, size_t max, size_t *left_r,
		      const char **error_r)
{
	int ret;

	compact_locations(f);
	ret = fill_from(f, f->fill_next, max, error_r);

	if (left_r != NULL) {
		size_t left = 0;

		for (size_t i = next_unfilled(f, f->fill_next); i < f->count;
		     i = next_unfilled(f, i + 1))
			left++;
		*left_r = left;
	}
	return ret;
}

int store_folder_envelope(struct store_folder *f, uint32_t uid, struct sbuf *out,
			  const char **error_r)
{
	struct state_rec rec;
	char *buf = NULL;
	const char *err;
	int r = state_get(f->state, uid, &rec, &buf, &err);
	long i;

	if (r > 0 && rec.threadkey == NULL && (i = store_folder_index(f, uid)) >= 0 &&
	    f->msgs[i].threadkey == NULL) {
		/* Not read yet: this one and a batch after it. */
		free(buf);
		buf = NULL;
		if (fill_from(f, (size_t)i, STORE_FILL_AHEAD, error_r) < 0)
			return -1;
		r = state_get(f->state, uid, &rec, &buf, &err);
	}
	if (r < 0)
		return store_fail(f->store, error_r, "%s", err);
	if (r > 0 && rec.envelope)
		sbuf_addstr(out, rec.envelope);
	else
		r = 0;
	free(buf);
	return r;
}
