/* folder: opening a folder as a snapshot — scan the files, join them with
 * the state by key, reconcile in one write transaction when they differ.
 *
 * The files are the truth; the state is a cache plus the UID numbering.
 * The common case (nothing changed since the last open) is read-only: one
 * scan, one state walk and a hash join, with every string of the snapshot
 * in one arena or in the scan's own blocks.  When something changed, the
 * envelopes of new messages are computed first (outside the transaction:
 * it is the slow part, and other processes should not wait for it), then
 * one transaction adds, updates and expunges, and the join runs again to
 * build the snapshot from what was committed. */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/mbox.h"
#include "store/state.h"

#include "lib/arena.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_ARENA_BLOCK (1u << 20)
#define STORE_CLEAN_TMP_EVERY 3600
#define STORE_RECONCILE_PASSES 3

/* One message as the files have it. */
struct fentry {
	const char *key;
	const char *location;		/* maildir; NULL for mbox */
	uint32_t flags;
	uint64_t size;
	uint64_t vsize;			/* CRLF size, from new_envelopes(); 0: unknown */
	int64_t date;
	uint32_t uid;			/* matched record, 0: none (new) */
	size_t entry;			/* its index in the scan (mbox: f->mbox_entries) */
};

struct update {
	size_t entry;
	uint32_t uid;
};

struct join {
	struct store_folder *f;
	struct fentry *fe;
	size_t n;
	uint32_t *slots;		/* open addressing: entry index + 1 */
	size_t mask;
	/* changes found */
	uint32_t *vanished;
	size_t n_vanished, a_vanished;
	struct update *updates;
	size_t n_updates, a_updates;
	size_t built;
};

/* ---- the hash on keys ---- */

static uint64_t key_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ^ (h >> 29);
}

static void hash_build(struct join *j)
{
	size_t size = 16;

	while (size < j->n * 2)
		size <<= 1;
	j->slots = xcalloc(size, sizeof(*j->slots));
	j->mask = size - 1;
	for (size_t i = 0; i < j->n; i++) {
		size_t s = key_hash(j->fe[i].key) & j->mask;

		while (j->slots[s] != 0)
			s = (s + 1) & j->mask;
		j->slots[s] = (uint32_t)i + 1;
	}
}

static long hash_find(const struct join *j, const char *key)
{
	size_t s = key_hash(key) & j->mask;

	while (j->slots[s] != 0) {
		size_t i = j->slots[s] - 1;

		if (strcmp(j->fe[i].key, key) == 0)
			return (long)i;
		s = (s + 1) & j->mask;
	}
	return -1;
}

/* ---- scanning the files ---- */

int store_mbox_entries(struct store_folder *f, const char **error_r)
{
	struct mbox_entry *entries;
	bool changed = true;
	const char *err;
	size_t n;

	if (f->mbox_entries != NULL && mbox_changed(f->mbox, &changed, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	if (!changed)
		return 0;
	if (mbox_scan(f->mbox, &entries, &n, &err) < 0)
		return store_fail(f->store, error_r, "%s", err);
	mbox_entries_free(f->mbox_entries, f->mbox_count);
	f->mbox_entries = entries;
	f->mbox_count = n;
	return 0;
}

const struct mbox_entry *store_mbox_entry(const struct store_folder *f, const char *key)
{
	for (size_t i = 0; i < f->mbox_count; i++)
		if (strcmp(f->mbox_entries[i].key, key) == 0)
			return &f->mbox_entries[i];
	return NULL;
}

/* Fills j->fe from a fresh scan (maildir: f->scan replaced). */
static int scan_files(struct store_folder *f, struct join *j, const char **error_r)
{
	const char *err;

	if (f->kind == STORE_MAILDIR) {
		struct maildir_scan *scan;

		if (maildir_scan(f->path, 0, &scan, &err) < 0)
			return store_fail(f->store, error_r, "%s", err);
		for (size_t i = 0; i < scan->problem_count; i++)
			log_warning("%s", scan->problems[i]);
		maildir_scan_free(&f->scan);
		f->scan = scan;
		j->n = scan->count;
		j->fe = xcalloc(j->n ? j->n : 1, sizeof(*j->fe));
		for (size_t i = 0; i < j->n; i++) {
			const struct maildir_entry *e = &scan->entries[i];

			j->fe[i] = (struct fentry){ e->key, e->location, e->flags, e->size,
						    0, e->date, 0, i };
		}
		return 0;
	}
	if (store_mbox_entries(f, error_r) < 0)
		return -1;
	j->n = f->mbox_count;
	j->fe = xcalloc(j->n ? j->n : 1, sizeof(*j->fe));
	for (size_t i = 0; i < j->n; i++) {
		const struct mbox_entry *e = &f->mbox_entries[i];

		j->fe[i] = (struct fentry){ e->key, NULL, e->flags, e->length, 0, e->date, 0, i };
	}
	return 0;
}

/* ---- the join ---- */

/* The snapshot's form of a stored thread key (tabs between the fields,
 * store-private.h): the fields as consecutive NUL-terminated strings, so
 * a client uses them in place.  An In-Reply-To that is the last of the
 * References says nothing more to a threader and is left out: 100,000
 * snapshots' thread keys are most of a client's memory. */
const char *store_threadkey_split(struct arena *a, const char *key)
{
	static const char none[5] = "";
	const char *f[5], *p = key;
	size_t len[5], total = 0;
	char *s, *o;

	if (key == NULL)
		return NULL;
	if (*key == '\0')
		return none;
	/* A short key (garbled): the missing fields are empty. */
	for (int k = 0; k < 5; k++) {
		const char *t = k < 4 ? strchr(p, '\t') : NULL;

		f[k] = p;
		len[k] = t ? (size_t)(t - p) : strlen(p);
		p = t ? t + 1 : p + len[k];
	}
	if (len[2] > 0 && len[3] >= len[2] &&
	    memcmp(f[3] + len[3] - len[2], f[2], len[2]) == 0 &&
	    (len[3] == len[2] || f[3][len[3] - len[2] - 1] == ' '))
		len[2] = 0;
	for (int k = 0; k < 5; k++)
		total += len[k] + 1;
	s = o = arena_alloc(a, total);
	for (int k = 0; k < 5; k++) {
		memcpy(o, f[k], len[k]);
		o += len[k];
		*o++ = '\0';
	}
	return s;
}

const char *store_snapshot_threadkey(struct store_folder *f, const char *key)
{
	if (key != NULL && (f->store->flags & STORE_OPEN_NO_THREADKEYS))
		key = "";
	return store_threadkey_split(f->arena, key);
}

/* Whether the file a record names exists.  Another process may have
 * changed a message (and committed) between our scan and our transaction:
 * then the record names the file as it is now and our scan is stale, and
 * writing the scan over it would make the next flag change start from old
 * flags. */
bool store_location_exists(const struct store_folder *f, const char *location)
{
	struct stat st;
	char *p;
	bool yes;

	if (f->kind != STORE_MAILDIR || location == NULL || location[0] == '\0')
		return false;
	p = path_join(f->path, location);
	yes = stat(p, &st) == 0;
	free(p);
	return yes;
}

static bool still_there(const struct store_folder *f, const struct state_rec *rec)
{
	return store_location_exists(f, rec->location);
}

static int join_cb(const struct state_rec *rec, void *ctx)
{
	struct join *j = ctx;
	struct store_folder *f = j->f;
	long i = hash_find(j, rec->key);

	/* Not listed by our scan, yet its file is there: added by another
	 * process after our scan (a delivery another session picked up). */
	if (i < 0 && still_there(f, rec)) {
		store_snapshot_reserve(f, j->built + 1);
		f->msgs[j->built++] = (struct store_msg){
			.uid = rec->uid, .flags = rec->flags, .modseq = rec->modseq,
			.size = rec->size, .vsize = rec->vsize, .internal_date = rec->internal_date,
			.keywords = rec->keywords && rec->keywords[0] ?
				arena_strdup(f->arena, rec->keywords) : "",
			.threadkey = store_snapshot_threadkey(f, rec->threadkey),
			.location = arena_strdup(f->arena, rec->location),
		};
		return 0;
	}
	if (i < 0) {
		if (j->n_vanished == j->a_vanished) {
			j->a_vanished = j->a_vanished ? j->a_vanished * 2 : 64;
			j->vanished = xreallocarray(j->vanished, j->a_vanished, sizeof(uint32_t));
		}
		j->vanished[j->n_vanished++] = rec->uid;
		return 0;
	}
	struct fentry *e = &j->fe[i];

	e->uid = rec->uid;
	if (e->flags != rec->flags ||
	    (e->location && (!rec->location || strcmp(e->location, rec->location) != 0))) {
		if (j->n_updates == j->a_updates) {
			j->a_updates = j->a_updates ? j->a_updates * 2 : 64;
			j->updates = xreallocarray(j->updates, j->a_updates, sizeof(*j->updates));
		}
		j->updates[j->n_updates++] = (struct update){ (size_t)i, rec->uid };
	}
	/* Built even when something changed: a pass that ends up clean
	 * needs no second walk.  A scan that listed a file before another
	 * process renamed it (a flag change committed since) is stale for
	 * that message: the state's name exists.  The flags are the
	 * record's, the ones that go with its MODSEQ: the file's, when they
	 * differ, come with the MODSEQ apply() gives them (the last pass's
	 * snapshot stands even when it found more to do). */
	struct store_msg *m = &f->msgs[j->built];
	bool stale = e->location && rec->location && strcmp(e->location, rec->location) != 0 &&
		still_there(f, rec);

	m->uid = rec->uid;
	m->flags = rec->flags;
	m->modseq = rec->modseq;
	m->size = rec->size;
	m->vsize = rec->vsize;
	m->internal_date = rec->internal_date;
	m->keywords = rec->keywords && rec->keywords[0] ?
		arena_strdup(f->arena, rec->keywords) : "";
	m->threadkey = store_snapshot_threadkey(f, rec->threadkey);
	m->location = stale ? arena_strdup(f->arena, rec->location) : e->location;
	j->built++;
	return 0;
}

static int cmp_new(const void *a, const void *b)
{
	const struct fentry *x = *(struct fentry *const *)a;
	const struct fentry *y = *(struct fentry *const *)b;

	return store_new_order(x->date, x->key, y->date, y->key);
}

/* Envelopes and thread keys (*tkeys_r, never NULL), and exact sizes, CRLF
 * sizes (maildir) and dates, of the messages nw[0..n), which are messages
 * done..done + n of total for the progress callback.  lazy (maildir
 * only): the files are only statted, envelopes and thread keys stay NULL
 * (store_folder_fill() reads them later). */
static char **new_envelopes(struct store_folder *f, struct fentry **nw, size_t n, bool lazy,
			    size_t done, size_t total, char ***tkeys_r, bool *cancelled_r)
{
	char **envs = xcalloc(n ? n : 1, sizeof(*envs));
	char **tkeys = xcalloc(n ? n : 1, sizeof(*tkeys));

	*tkeys_r = tkeys;
	if (f->kind == STORE_MAILDIR) {
		struct store_env_job *jobs = xcalloc(n ? n : 1, sizeof(*jobs));

		for (size_t i = 0; i < n; i++)
			jobs[i] = (struct store_env_job){ nw[i]->location, NULL, NULL, nw[i]->size,
							  0, nw[i]->date, lazy };
		if (store_envelope_jobs(f->path, jobs, n, done, total, f->store->progress,
					f->store->progress_ctx) < 0)
			*cancelled_r = true;
		for (size_t i = 0; i < n; i++) {
			envs[i] = jobs[i].envelope;
			tkeys[i] = jobs[i].threadkey || lazy ? jobs[i].threadkey : xstrdup("");
			nw[i]->size = jobs[i].size;
			nw[i]->vsize = jobs[i].vsize;
			nw[i]->date = jobs[i].date;
		}
		free(jobs);
		return envs;
	}
	struct sbuf buf = SBUF_INIT;
	const char *err;

	if (f->store->progress && done == 0 && n > 0 &&
	    f->store->progress(0, total, f->store->progress_ctx) < 0)
		*cancelled_r = true;
	for (size_t i = 0; i < n; i++) {
		const struct mbox_entry *e = &f->mbox_entries[nw[i]->entry];

		sbuf_reset(&buf);
		if (!*cancelled_r && mbox_read(f->mbox, e, &buf, &err) == 0) {
			envs[i] = store_envelope_of(buf.buf, buf.len);
			tkeys[i] = store_threadkey_of(buf.buf, buf.len > STORE_HEADER_MAX ?
						      STORE_HEADER_MAX : buf.len);
		} else {
			tkeys[i] = xstrdup("");
		}
		if (f->store->progress && (done + i + 1) % 1024 == 0 && !*cancelled_r &&
		    f->store->progress(done + i + 1, total, f->store->progress_ctx) < 0)
			*cancelled_r = true;
	}
	sbuf_release(&buf);
	return envs;
}

static void free_envelopes(char **envs, char **tkeys, size_t n)
{
	for (size_t i = 0; envs && i < n; i++) {
		free(envs[i]);
		free(tkeys[i]);
	}
	free(envs);
	free(tkeys);
}

/* The first transaction of apply(): the vanished records go, the changed
 * ones are updated.  0 or -1 with *error_r. */
static int apply_changes(struct store_folder *f, struct join *j, struct state_txn *txn,
			 const char **error_r)
{
	for (size_t i = 0; i < j->n_vanished; i++) {
		struct state_rec rec;
		char *buf = NULL;
		int r = state_txn_get(txn, j->vanished[i], &rec, &buf, error_r);

		if (r > 0 && still_there(f, &rec))
			r = 0;
		if (r > 0) {
			log_info("%s: UID %u (%s) vanished: expunged", f->path, rec.uid,
				 rec.location ? rec.location : rec.key);
			r = state_txn_remove(txn, rec.uid, error_r);
		}
		free(buf);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < j->n_updates; i++) {
		const struct fentry *e = &j->fe[j->updates[i].entry];
		struct state_rec rec;
		char *buf = NULL;
		int r = state_txn_get(txn, j->updates[i].uid, &rec, &buf, error_r);

		/* The scan is older than the record (renamed and committed
		 * since) or than the files (its name is gone): the record
		 * stays, the next scan sees the name the file has now. */
		if (r > 0 && e->location && rec.location &&
		    strcmp(rec.location, e->location) != 0 &&
		    (still_there(f, &rec) || !store_location_exists(f, e->location)))
			r = 0;
		if (r > 0) {
			bool bump = (rec.flags & ~(uint32_t)STORE_RECENT) !=
				(e->flags & ~(uint32_t)STORE_RECENT);

			rec.flags = e->flags;
			if (e->location)
				rec.location = e->location;
			r = state_txn_update(txn, &rec, bump, error_r);
		}
		free(buf);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* A message just added as uid at modseq, at the end of the snapshot
 * (UIDs only grow, so it stays in UID order). */
static void snapshot_add(struct store_folder *f, const struct fentry *e, uint32_t uid,
			 uint64_t modseq, const char *threadkey)
{
	struct store_msg *m;

	store_snapshot_reserve(f, f->count + 1);
	m = &f->msgs[f->count];
	*m = (struct store_msg){
		.uid = uid, .flags = e->flags, .modseq = modseq, .size = e->size,
		.vsize = e->vsize, .internal_date = e->date, .keywords = "",
		.threadkey = store_snapshot_threadkey(f, threadkey),
		.location = e->location,
	};
	f->count++;
}

/* New messages are added in chunks (store->add_chunk), each its own
 * transaction: the envelopes and LMDB's dirty pages of one chunk are all
 * that is held in memory, and a first open that is cancelled or killed
 * keeps what it committed (the next one goes on from there).  A commit
 * costs an fsync, ~25 for 100,000 messages.
 *
 * Many new messages (more than store->eager_max: a first open of a big
 * maildir) are added lazily: their files are statted for the size and
 * the internal date, and the headers are left unread; an IMAP SELECT
 * needs no more, and store_folder_fill() (the client, a FETCH) reads them
 * later.  A few are read at once, so a folder that is filled stays so. */

/* What apply() carries from one chunk's transaction to the next. */
struct adder {
	struct store_folder *f;
	struct join *j;
	const struct state_header *hdr;	/* as the join's walk saw it */
	uint32_t uidnext;		/* as our last commit left them */
	uint64_t modseq;
	bool direct;			/* the snapshot is built as we add */
};

/* One transaction: with changes, the vanished and updated records; then
 * the new messages nw[0..k) with their envelopes and thread keys.  0 or
 * -1 with *error_r. */
static int add_chunk(struct adder *a, bool changes, struct fentry **nw, size_t k, char **envs,
		     char **tkeys, const char **error_r)
{
	struct store_folder *f = a->f;
	struct state_txn *txn = NULL;

	if (state_begin(f->state, &txn, error_r) < 0)
		return -1;
	/* Nobody wrote since our walk (or our last chunk): no need to look
	 * each new message up again. */
	bool fresh = state_txn_uidnext(txn) == a->uidnext &&
		state_txn_highestmodseq(txn) == a->modseq;

	a->direct = a->direct && fresh;
	if (changes && apply_changes(f, a->j, txn, error_r) < 0)
		goto fail;
	for (size_t i = 0; i < k; i++) {
		const struct fentry *e = nw[i];
		uint32_t uid;

		if (!fresh) {
			int r = state_txn_lookup_key(txn, e->key, &uid, error_r);

			if (r < 0)
				goto fail;
			if (r > 0)
				continue;
		}
		/* Listed by our scan, then expunged (file and record) by
		 * another process before our walk or this transaction: not
		 * new, gone.  Loft's writers remove files inside their
		 * transaction, so the check holds until we commit.  A state
		 * that was empty at our walk had nothing to expunge (a first
		 * open of a big folder makes no stat per file). */
		if (f->kind == STORE_MAILDIR && (!fresh || a->hdr->count > 0) &&
		    !store_location_exists(f, e->location))
			continue;
		struct state_rec rec = {
			.flags = e->flags, .size = e->size, .vsize = e->vsize, .internal_date = e->date,
			.key = e->key, .location = e->location, .keywords = "",
			.envelope = envs[i], .threadkey = tkeys[i],
		};
		if (state_txn_add(txn, &rec, &uid, error_r) < 0)
			goto fail;
		if (a->direct)
			snapshot_add(f, e, uid, state_txn_highestmodseq(txn), tkeys[i]);
	}
	a->uidnext = state_txn_uidnext(txn);
	a->modseq = state_txn_highestmodseq(txn);
	return state_commit(&txn, error_r);
fail:
	state_abort(&txn);
	return -1;
}

/* Writes what the join found into the state: the vanished, the updated and
 * the first chunk of new messages in one transaction, the other new ones
 * in one transaction per chunk.  *built_r: whether the snapshot was built
 * as it went (there were only new messages and no other process wrote in
 * between), with *hdr updated to what we committed; then no second walk is
 * needed. */
static int apply(struct store_folder *f, struct join *j, struct state_header *hdr,
		 bool *built_r, const char **error_r)
{
	struct fentry **nw = xcalloc(j->n ? j->n : 1, sizeof(*nw));
	struct adder a = { f, j, hdr, hdr->uidnext, hdr->highestmodseq,
			   j->n_vanished == 0 && j->n_updates == 0 };
	size_t n_new = 0, done = 0;
	size_t eager_max = f->store->eager_max ? f->store->eager_max : STORE_EAGER_MAX;
	bool cancelled = false, lazy;
	const char *err;
	int ret = -1;

	*built_r = false;
	for (size_t i = 0; i < j->n; i++)
		if (j->fe[i].uid == 0)
			nw[n_new++] = &j->fe[i];
	lazy = f->kind == STORE_MAILDIR && n_new > eager_max;
	/* UIDs in store_new_order(): a rebuild numbers them the same way. */
	qsort(nw, n_new, sizeof(*nw), cmp_new);
	/* The join built the matched messages; new ones go after them. */
	f->count = j->built;
	do {
		size_t chunk = f->store->add_chunk ? f->store->add_chunk : STORE_ADD_CHUNK;
		size_t k = n_new - done < chunk ? n_new - done : chunk;
		char **tkeys = NULL, **envs = NULL;
		int r = 0;

		if (!cancelled)
			envs = new_envelopes(f, nw + done, k, lazy, done, n_new, &tkeys,
					     &cancelled);
		if (!cancelled)
			r = add_chunk(&a, done == 0, nw + done, k, envs, tkeys, &err);
		free_envelopes(envs, tkeys, k);
		if (cancelled) {
			store_fail_code(f->store, STORE_ERR_CANCELLED, error_r, "%s: cancelled",
					f->path);
			goto out;
		}
		if (r < 0) {
			store_fail(f->store, error_r, "%s", err);
			goto out;
		}
		done += k;
	} while (done < n_new);
	if (a.direct) {
		hdr->uidnext = a.uidnext;
		hdr->highestmodseq = a.modseq;
		*built_r = true;
	}
	ret = 0;
out:
	free(nw);
	return ret;
}

static void join_reset(struct join *j)
{
	store_snapshot_clear(j->f);
	j->n_vanished = j->n_updates = j->built = 0;
	for (size_t i = 0; i < j->n; i++)
		j->fe[i].uid = 0;
	j->f->count = 0;
	store_snapshot_reserve(j->f, j->n);
}

void store_snapshot_clear(struct store_folder *f)
{
	arena_clear(f->arena);
	free(f->image);
	f->image = NULL;
	f->count = 0;
}

void store_snapshot_reserve(struct store_folder *f, size_t n)
{
	if (n <= f->cap && f->msgs)
		return;
	f->cap = n > f->cap * 3 / 2 ? n : f->cap * 3 / 2;
	if (f->cap < 16)
		f->cap = 16;
	f->msgs = xreallocarray(f->msgs, f->cap, sizeof(*f->msgs));
}

static void join_free(struct join *j)
{
	free(j->fe);
	free(j->slots);
	free(j->vanished);
	free(j->updates);
}

/* A vanished record whose file is still there: the scan raced with a
 * rename by another program (readdir need not list a file renamed while
 * it runs).  Then the folder is scanned again rather than expunged. */
static bool vanished_still_there(struct store_folder *f, struct join *j)
{
	const char *err;

	if (f->kind != STORE_MAILDIR)
		return false;
	for (size_t i = 0; i < j->n_vanished; i++) {
		struct state_rec rec;
		char *buf = NULL, *loc = NULL;
		int r = state_get(f->state, j->vanished[i], &rec, &buf, &err);

		if (r > 0 && maildir_find(f->path, rec.key, &loc, &err) > 0) {
			free(loc);
			free(buf);
			return true;
		}
		free(buf);
	}
	return false;
}

/* Scans, reconciles and rebuilds the snapshot.  *changed_r: whether the
 * state had to change. */
int store_reconcile(struct store_folder *f, bool *changed_r, const char **error_r)
{
	struct join j = { .f = f };
	struct state_header hdr;
	bool rescanned = false;
	const char *err;
	int ret = -1;

	uint64_t stamps[STATE_STAMPS];

	*changed_r = false;
	f->fill_next = 0;
	store_notify_drain(f);
again:
	/* Before the scan: a change during it leaves the files newer than
	 * what is recorded, so the next sync looks again. */
	store_stamps_now(f, stamps);
	if (scan_files(f, &j, error_r) < 0)
		goto out;
	crash_point("reconcile:scanned");
	hash_build(&j);
	for (int pass = 0; pass < STORE_RECONCILE_PASSES; pass++) {
		bool built = false;

		join_reset(&j);
		if (state_get_header(f->state, &hdr, &err) < 0 ||
		    state_foreach(f->state, join_cb, &j, &err) < 0) {
			store_fail(f->store, error_r, "%s", err);
			goto out;
		}
		bool dirty = j.n_vanished || j.n_updates;

		for (size_t i = 0; i < j.n && !dirty; i++)
			dirty = j.fe[i].uid == 0;
		if (!dirty)
			break;
		if (j.n_vanished && !rescanned && vanished_still_there(f, &j)) {
			rescanned = true;
			join_free(&j);
			j = (struct join){ .f = f };
			goto again;
		}
		/* No mbox lock is held here: the mutating calls take the
		 * state's writer lock first, then the mbox lock. */
		if (apply(f, &j, &hdr, &built, error_r) < 0)
			goto out;
		*changed_r = true;
		if (built)
			goto done;
	}
	f->count = j.built;
done:
	f->uidvalidity = hdr.uidvalidity;
	f->uidnext = hdr.uidnext;
	f->highestmodseq = hdr.highestmodseq;
	store_stamps_record(f, stamps);
	ret = 0;
out:
	join_free(&j);
	/* The snapshot keeps the scan's strings, not its entries. */
	if (f->scan)
		maildir_scan_drop_entries(f->scan);
	if (ret < 0)
		store_snapshot_clear(f);
	return ret;
}

/* tmp/ cleaning at most once an hour per folder: the mtime of
 * STATE/.tmpclean says when it last ran (any process). */
static void clean_tmp(struct store_folder *f)
{
	char *stamp = path_join(f->state_dir, ".tmpclean");
	time_t now = time(NULL);
	struct stat st;
	const char *err;

	if (stat(stamp, &st) == 0 && now - st.st_mtime < STORE_CLEAN_TMP_EVERY &&
	    st.st_mtime <= now) {
		free(stamp);
		return;
	}
	int fd = open(stamp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
	int n = maildir_clean_tmp(f->path, (int64_t)now, &err);

	if (n < 0)
		log_warning("%s", err);
	else if (n > 0)
		log_info("%s: removed %d stale files from tmp/", f->path, n);
	free(stamp);
}

static int folder_open(struct store *store, const char *name, bool snapshot,
		       struct store_folder **folder_r, const char **error_r)
{
	struct store_folder *f = xcalloc(1, sizeof(*f));
	bool changed;

	*folder_r = NULL;
	f->store = store;
	f->notify_fd = -1;
	if (store_resolve(store, name, true, &f->path, &f->name, &f->state_dir, &f->kind,
			  error_r) < 0) {
		free(f);
		return -1;
	}
	if (store_shared_get(store, f->path, f->state_dir, f->kind, &f->sh, error_r) < 0)
		goto fail;
	f->state = f->sh->state;
	f->mbox = f->sh->mbox;
	f->arena = arena_new(STORE_ARENA_BLOCK);
	store->open_folders++;
	if (!snapshot) {
		/* Append-only: new files get their UID at once; whatever else
		 * changed is reconciled by the next full open.  The header
		 * (one short read) gives APPENDUID/COPYUID their UIDVALIDITY. */
		struct state_header hdr;
		const char *err;

		if (state_get_header(f->state, &hdr, &err) == 0) {
			f->uidvalidity = hdr.uidvalidity;
			f->uidnext = hdr.uidnext;
			f->highestmodseq = hdr.highestmodseq;
		}
		*folder_r = f;
		return 0;
	}
	/* Whoever reads a folder decodes header words (a client its
	 * subjects, a first open the envelopes): see store_gconv_pin().  Not
	 * for an append-only open: `loft deliver` would load a dozen
	 * modules per message for nothing. */
	store_gconv_pin();
	/* A read-only store writes nothing beside the mail: someone else's
	 * tmp/ files are theirs. */
	if (f->kind == STORE_MAILDIR && !(store->flags & STORE_OPEN_READONLY))
		clean_tmp(f);
	int r = store_snapshot_from_state(f, error_r);

	if (r < 0 || (r == 0 && store_reconcile(f, &changed, error_r) < 0)) {
		store_folder_close(&f);
		return -1;
	}
	*folder_r = f;
	return 0;
fail:
	free(f->path);
	free(f->name);
	free(f->state_dir);
	free(f);
	return -1;
}

int store_folder_open(struct store *store, const char *name,
		      struct store_folder **folder_r, const char **error_r)
{
	return folder_open(store, name, true, folder_r, error_r);
}

int store_folder_open_append(struct store *store, const char *name,
			     struct store_folder **folder_r, const char **error_r)
{
	return folder_open(store, name, false, folder_r, error_r);
}

void store_folder_close(struct store_folder **folderp)
{
	struct store_folder *f = *folderp;

	if (f == NULL)
		return;
	store_notify_close(f);
	store_index_commit(f->store);
	maildir_scan_free(&f->scan);
	mbox_entries_free(f->mbox_entries, f->mbox_count);
	arena_free(&f->arena);
	free(f->image);
	free(f->msgs);
	store_shared_put(f->store, f->sh);
	f->store->open_folders--;
	free(f->path);
	free(f->name);
	free(f->state_dir);
	free(f);
	*folderp = NULL;
}

size_t store_folder_count(const struct store_folder *f)
{
	return f->count;
}

const struct store_msg *store_folder_msg(const struct store_folder *f, size_t i)
{
	return i < f->count ? &f->msgs[i] : NULL;
}

long store_folder_index(const struct store_folder *f, uint32_t uid)
{
	size_t lo = 0, hi = f->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->msgs[mid].uid == uid)
			return (long)mid;
		if (f->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const struct store_msg *store_folder_find(const struct store_folder *f, uint32_t uid)
{
	long i = store_folder_index(f, uid);

	return i < 0 ? NULL : &f->msgs[i];
}

uint32_t store_folder_uidvalidity(const struct store_folder *f)
{
	return f->uidvalidity;
}

uint32_t store_folder_uidnext(const struct store_folder *f)
{
	return f->uidnext;
}

uint64_t store_folder_highestmodseq(const struct store_folder *f)
{
	return f->highestmodseq;
}

const char *store_folder_path(const struct store_folder *f)
{
	return f->path;
}

enum store_folder_kind store_folder_kind(const struct store_folder *f)
{
	return f->kind;
}

/* ---- counts without a scan ---- */

int store_folder_status(struct store *store, const char *name, size_t *total_r,
			size_t *unseen_r, const char **error_r)
{
	char *path = NULL, *display = NULL, *state_dir = NULL, *mdb = NULL;
	enum store_folder_kind kind;
	struct store_shared *sh = NULL;
	struct stat st;
	const char *err;
	int ret = -1;

	if (store_resolve(store, name, true, &path, &display, &state_dir, &kind, error_r) < 0)
		return -1;
	mdb = path_join(state_dir, "data.mdb");
	if (stat(mdb, &st) == 0) {
		/* Shared: LMDB allows one environment per process and path. */
		if (store_shared_get(store, path, state_dir, kind, &sh, error_r) == 0) {
			if (state_get_counts(sh->state, total_r, unseen_r, &err) < 0)
				store_fail(store, error_r, "%s", err);
			else
				ret = 0;
			store_shared_put(store, sh);
		}
	} else {
		/* Never opened: one scan builds the state (and the counter). */
		struct store_folder *f = NULL;

		if (store_folder_open(store, name, &f, error_r) == 0) {
			*total_r = store_folder_count(f);
			*unseen_r = 0;
			for (size_t i = 0; i < *total_r; i++)
				*unseen_r += !(store_folder_msg(f, i)->flags & STORE_SEEN);
			store_folder_close(&f);
			ret = 0;
		}
	}
	free(mdb);
	free(path);
	free(display);
	free(state_dir);
	return ret;
}
