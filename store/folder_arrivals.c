/* folder_arrivals: a sync after deliveries reads new/ only.
 *
 * `loft deliver` (and any other MDA) only puts a file into new/: the
 * state does not know it, new/'s stamp moves and cur/'s does not.  Then
 * the full reconcile (a readdir of both directories joined with every
 * record) would cost the whole folder per delivered message.  When cur/
 * still has the stamp the state vouches for, reading new/ is enough:
 * every name there is a record the snapshot places in new/ or an
 * arrival, added as the full scan adds it (flags from the name, size,
 * CRLF size, internal date and envelope read from the file, several in
 * store_new_order()), in one transaction under the
 * writer lock, where the key lookup decides whether another process
 * added it first.  Whatever this cannot vouch for falls back to the full
 * reconcile: a record the snapshot places in new/ that is gone (another
 * program removed or renamed it), a key the state has under another
 * name, a name the scan had a problem with, or many arrivals at once
 * (a first fill: the full path's chunks, laziness and progress). */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/state.h"

#include "lib/crash.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

int store_new_order(int64_t date_a, const char *key_a, int64_t date_b, const char *key_b)
{
	if (date_a != date_b)
		return date_a < date_b ? -1 : 1;
	return strcmp(key_a, key_b);
}

static int cmp_location(const void *a, const void *b)
{
	const struct maildir_entry *x = a, *y = b;

	return strcmp(x->location, y->location);
}

static int cmp_arrival(const void *a, const void *b)
{
	const struct maildir_entry *x = *(struct maildir_entry *const *)a;
	const struct maildir_entry *y = *(struct maildir_entry *const *)b;

	return store_new_order(x->date, x->key, y->date, y->key);
}

/* The entries of scan (sorted by location here) that no message of the
 * snapshot has: into nw (room for scan->count), their number returned;
 * -1 when a message the snapshot places in new/ is not listed. */
static long arrivals_of(const struct store_folder *f, struct maildir_scan *scan,
			struct maildir_entry **nw)
{
	bool *known = xcalloc(scan->count ? scan->count : 1, sizeof(*known));
	long n = 0;

	if (scan->count > 0)
		qsort(scan->entries, scan->count, sizeof(*scan->entries), cmp_location);
	for (size_t i = 0; i < f->count; i++) {
		const char *loc = f->msgs[i].location;
		struct maildir_entry probe = { .location = loc }, *e = NULL;

		if (loc == NULL || strncmp(loc, "new/", 4) != 0)
			continue;
		if (scan->count > 0)
			e = bsearch(&probe, scan->entries, scan->count, sizeof(*scan->entries),
				    cmp_location);
		if (e == NULL) {
			free(known);
			return -1;
		}
		known[e - scan->entries] = true;
	}
	for (size_t i = 0; i < scan->count; i++)
		if (!known[i])
			nw[n++] = &scan->entries[i];
	free(known);
	return n;
}

/* Reads the arrivals' files as the full scan does for a few new
 * messages: exact size, CRLF size, date, envelope and thread key. */
static void read_arrivals(struct store_folder *f, struct maildir_entry **nw, size_t n,
			  struct store_env_job *jobs)
{
	for (size_t i = 0; i < n; i++)
		jobs[i] = (struct store_env_job){ nw[i]->location, NULL, NULL, nw[i]->size, 0,
						  nw[i]->date, false };
	store_envelope_jobs(f->path, jobs, n, 0, n, NULL, NULL);
}

/* One transaction: the arrivals nobody added yet, and the stamps the
 * scan began with when the files still have them and nobody wrote since
 * the walk at hdr (then the state and the files agree as after a full
 * reconcile).  1 done, 0 fall back, -1 error. */
static int add_arrivals(struct store_folder *f, const struct state_header *hdr,
			const uint64_t stamps[STATE_STAMPS], struct maildir_entry **nw, size_t n,
			struct store_env_job *jobs, const char **error_r)
{
	struct state_txn *txn = NULL;
	uint64_t now[STATE_STAMPS];
	const char *err;
	bool fresh, set;
	size_t added = 0;
	int ret = 0;

	if (state_begin(f->state, &txn, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	fresh = state_txn_uidnext(txn) == hdr->uidnext &&
		state_txn_highestmodseq(txn) == hdr->highestmodseq;
	for (size_t i = 0; i < n; i++) {
		const struct maildir_entry *e = nw[i];
		struct state_rec rec;
		char *buf = NULL;
		uint32_t uid;
		int r = state_txn_lookup_key(txn, e->key, &uid, &err);

		if (r > 0) {
			/* Added by another process since our walk: its record
			 * names this file.  Another name: not an arrival. */
			r = state_txn_get(txn, uid, &rec, &buf, &err);
			bool same = r > 0 && rec.location && strcmp(rec.location, e->location) == 0;

			free(buf);
			if (r >= 0 && !same)
				goto out;
			if (r > 0)
				continue;
		}
		if (r < 0)
			goto fail;
		/* Expunged (file and record, inside its transaction) by
		 * another loft process since our scan: gone, not new. */
		if (!store_location_exists(f, e->location))
			continue;
		rec = (struct state_rec){
			.flags = e->flags, .size = jobs[i].size, .vsize = jobs[i].vsize,
			.internal_date = jobs[i].date, .key = e->key, .location = e->location,
			.keywords = "", .envelope = jobs[i].envelope,
			.threadkey = jobs[i].threadkey ? jobs[i].threadkey : "",
		};
		if (state_txn_add(txn, &rec, NULL, &err) < 0)
			goto fail;
		added++;
	}
	/* Under the writer lock loft's own changes stand still (as in
	 * store_stamps_record()). */
	store_stamps_now(f, now);
	set = fresh && memcmp(now, stamps, sizeof(now)) == 0;
	if (added == 0 && !set) {
		ret = 1;
		goto out;
	}
	if (set && state_txn_set_stamps(txn, stamps, &err) < 0)
		goto fail;
	crash_point("arrivals:added");
	if (state_commit(&txn, &err) < 0)
		goto fail;
	return 1;
fail:
	ret = store_fail(f->store, error_r, "%s", err);
out:
	state_abort(&txn);
	return ret;
}

int store_arrivals(struct store_folder *f, const struct state_header *hdr,
		   const uint64_t had[STATE_STAMPS], const char **error_r)
{
	size_t eager_max = f->store->eager_max ? f->store->eager_max : STORE_EAGER_MAX;
	struct maildir_entry **nw = NULL;
	struct store_env_job *jobs = NULL;
	struct maildir_scan *scan = NULL;
	uint64_t stamps[STATE_STAMPS];
	const char *err;
	long n;
	int ret = 0;

	if (f->kind != STORE_MAILDIR || had[0] == 0)
		return 0;
	/* Before the scan, as a full reconcile takes them. */
	store_stamps_now(f, stamps);
	if (stamps[0] == 0 || stamps[1] != had[1] ||
	    maildir_scan(f->path, MAILDIR_SCAN_NEW_ONLY, &scan, &err) < 0)
		return 0;
	if (scan->problem_count > 0)
		goto out;
	nw = xcalloc(scan->count ? scan->count : 1, sizeof(*nw));
	n = arrivals_of(f, scan, nw);
	if (n < 0 || (size_t)n > eager_max)
		goto out;
	qsort(nw, (size_t)n, sizeof(*nw), cmp_arrival);
	jobs = xcalloc(n ? (size_t)n : 1, sizeof(*jobs));
	read_arrivals(f, nw, (size_t)n, jobs);
	ret = add_arrivals(f, hdr, stamps, nw, (size_t)n, jobs, error_r);
	for (long i = 0; i < n; i++) {
		free(jobs[i].envelope);
		free(jobs[i].threadkey);
	}
out:
	free(jobs);
	free(nw);
	maildir_scan_free(&scan);
	return ret;
}
