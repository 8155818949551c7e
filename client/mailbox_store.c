/* mailbox_store: the driver for a folder of the store (maildir or mbox).
 *
 * The rows are the folder's snapshot (store_folder_msg, UID order), so
 * opening a 100,000-message folder reads no message file; envelopes come
 * from the store's cache on demand.  A first open leaves the headers of a
 * big folder unread: they come in steps (mailbox_step), rows pending
 * until then.  Sets of rows become UID sets: one
 * store call, one state transaction, whatever their size. */
#include "client/mailbox-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct store_mailbox {
	struct mailbox mb;
	struct store_folder *f;
	bool fill_failed;		/* a step failed: stop reading headers */
	bool target;			/* MAILBOX_OPEN_TARGET: only written to */
};

#define SMB(m) ((struct store_mailbox *)(m))
#define CSMB(m) ((const struct store_mailbox *)(m))

static bool store_accepts(const char *name)
{
	(void)name;
	return true;
}

static int store_mb_open(const struct mailbox_env *env, const char *name, unsigned flags,
			 struct mailbox **mb_r, const char **error_r)
{
	struct store_folder *f = NULL;
	struct store_mailbox *s;

	if (store_folder_open(env->store, name, &f, error_r) < 0) {
		if (!(flags & MAILBOX_OPEN_CREATE) || name[0] != '+' ||
		    store_folder_create(env->store, name + 1, error_r) < 0 ||
		    store_folder_open(env->store, name, &f, error_r) < 0)
			return -1;
	}
	s = xcalloc(1, sizeof(*s));
	mailbox_base_init(&s->mb, &mailbox_store_driver, env, name);
	s->f = f;
	s->target = flags & MAILBOX_OPEN_TARGET;
	*mb_r = &s->mb;
	return 0;
}

static void store_mb_close(struct mailbox *mb)
{
	const char *err;

	/* The next open of the folder, unchanged by then, copies the
	 * snapshot back instead of reading every record (a failure costs
	 * only that). */
	if (!SMB(mb)->target)
		(void)store_folder_keep_snapshot(SMB(mb)->f, &err);
	store_folder_close(&SMB(mb)->f);
	mailbox_base_deinit(mb);
	free(mb);
}

static unsigned store_mb_caps(const struct mailbox *mb)
{
	(void)mb;
	return MAILBOX_CAP_WRITE;
}

static size_t store_mb_count(const struct mailbox *mb)
{
	return store_folder_count(CSMB(mb)->f);
}

static void store_mb_msg(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r)
{
	const struct store_msg *m = store_folder_msg(CSMB(mb)->f, i);

	m_r->uid = m->uid;
	m_r->flags = m->flags;
	m_r->size = m->size;
	m_r->internal_date = m->internal_date;
	/* All "" means the file could not be read when it was cached; NULL
	 * that it is not read yet (store_mb_step). */
	m_r->threadkey = m->threadkey && (m->threadkey[0] || m->threadkey[1]) ? m->threadkey
									       : NULL;
}

static long store_mb_index_of(const struct mailbox *mb, uint32_t uid)
{
	const struct store_folder *f = CSMB(mb)->f;
	size_t lo = 0, hi = store_folder_count(f);

	/* The snapshot is in UID order (store.h): binary search. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t u = store_folder_msg(f, mid)->uid;

		if (u == uid)
			return (long)mid;
		if (u < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static uint32_t uid_of(const struct mailbox *mb, size_t i)
{
	return store_folder_msg(CSMB(mb)->f, i)->uid;
}

static int store_mb_envelope(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	return store_folder_envelope(SMB(mb)->f, uid_of(mb, i), out, error_r);
}

static int store_mb_read(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	return store_msg_read(SMB(mb)->f, uid_of(mb, i), out, error_r);
}

static char *store_mb_path(const struct mailbox *mb, size_t i)
{
	const struct store_folder *f = CSMB(mb)->f;
	const struct store_msg *m;

	/* notmuch indexes maildirs only. */
	if (store_folder_kind(f) != STORE_MAILDIR)
		return NULL;
	m = store_folder_msg(f, i);
	if (m->location == NULL || *m->location == '\0')
		return NULL;
	return xasprintf("%s/%s", store_folder_path(f), m->location);
}

static bool store_mb_same(const struct mailbox *a, const struct mailbox *b)
{
	return strcmp(store_folder_path(CSMB(a)->f), store_folder_path(CSMB(b)->f)) == 0;
}

static int store_mb_sync(struct mailbox *mb, struct store_changes *ch_r, const char **error_r)
{
	return store_folder_sync(SMB(mb)->f, ch_r, error_r);
}

/* A big folder opened for the first time comes without its headers
 * (store_folder_fill): every row is there, and the thread keys (and the
 * envelopes a sort needs) arrive in steps, so the rows are pending until
 * the last step. */
static int store_mb_step(struct mailbox *mb, size_t max)
{
	const char *err;
	size_t left = 0;

	if (store_folder_fill(SMB(mb)->f, max, &left, &err) < 0)
		SMB(mb)->fill_failed = true;
	return left > 0 && !SMB(mb)->fill_failed;
}

static bool store_mb_pending(const struct mailbox *mb)
{
	return !CSMB(mb)->fill_failed && !store_folder_filled(CSMB(mb)->f);
}

static int store_mb_notify_fd(struct mailbox *mb)
{
	return store_folder_notify_fd(SMB(mb)->f);
}

/* The UIDs of rows v[0..n); caller frees. */
static uint32_t *uids_of(const struct mailbox *mb, const uint32_t *v, size_t n)
{
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));

	for (size_t k = 0; k < n; k++)
		uids[k] = uid_of(mb, v[k]);
	return uids;
}

static int store_mb_set_flags(struct mailbox *mb, const uint32_t *v, size_t n,
			      enum store_flag_op op, uint32_t flags, const char **error_r)
{
	struct store_flag_change ch = { op, flags, NULL, 0 };
	uint32_t *uids = uids_of(mb, v, n);
	int ret = store_set_flags_uids(SMB(mb)->f, uids, n, &ch, NULL, NULL, error_r);

	free(uids);
	return ret;
}

static int store_mb_copy(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
			 unsigned flags, const char **error_r)
{
	struct store_flag_change undelete = { STORE_FLAGS_REMOVE, STORE_DELETED, NULL, 0 };
	uint32_t *uids = uids_of(mb, v, n), *made = xcalloc(n + 1, sizeof(*made));
	const char *err;
	size_t m = 0;
	int ret;

	/* A failed set copy commits nothing in dst. */
	ret = store_copy_uids(SMB(mb)->f, uids, n, SMB(dst)->f, made, error_r);
	if (ret == 0 && (flags & MAILBOX_COPY_UNDELETE)) {
		/* UIDs another process expunged meanwhile were skipped (0).
		 * The copy is made; a failure here leaves it marked. */
		for (size_t k = 0; k < n; k++)
			if (made[k])
				made[m++] = made[k];
		store_set_flags_uids(SMB(dst)->f, made, m, &undelete, NULL, NULL, &err);
	}
	free(made);
	free(uids);
	return ret;
}

static int store_mb_move(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
			 const char **error_r)
{
	uint32_t *uids = uids_of(mb, v, n), *made = xcalloc(n + 1, sizeof(*made));
	int ret = store_move_uids(SMB(mb)->f, uids, n, SMB(dst)->f, made, error_r);

	free(made);
	free(uids);
	return ret;
}

static int store_mb_expunge(struct mailbox *mb, const uint32_t *v, size_t n, const char **error_r)
{
	uint32_t *uids = uids_of(mb, v, n);
	int ret = store_expunge(SMB(mb)->f, uids, n, error_r);

	free(uids);
	return ret;
}

static int store_mb_append(struct mailbox *mb, const char *data, size_t len, uint32_t flags,
			   uint32_t *uid_r, const char **error_r)
{
	return store_append(SMB(mb)->f, data, len, flags, NULL, 0, uid_r, error_r);
}

static int store_mb_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
			size_t n_add, const char *const *rm, size_t n_rm, size_t *done_r,
			const char **error_r)
{
	/* The renames reach the snapshot at the next sync. */
	return mailbox_files_tag(mb, v, n, add, n_add, rm, n_rm, NULL, done_r, error_r);
}

/* The store hands out a copy: the view is of that. */
static int store_mb_cache_view(struct mailbox *mb, const char *name,
			       void (*fn)(const void *data, size_t len, void *ctx), void *ctx,
			       const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	int r = store_folder_cache_get(SMB(mb)->f, name, &sb, error_r);

	if (r > 0)
		fn(sb.buf, sb.len, ctx);
	sbuf_release(&sb);
	return r;
}

static int store_mb_cache_put(struct mailbox *mb, const char *name, size_t len,
			      void (*fill)(void *dst, size_t len, void *ctx), void *ctx,
			      const char **error_r)
{
	return store_folder_cache_put(SMB(mb)->f, name, len, fill, ctx, error_r);
}

const struct mailbox_driver mailbox_store_driver = {
	.name = "store",
	.accepts = store_accepts,
	.open = store_mb_open,
	.close = store_mb_close,
	.caps = store_mb_caps,
	.count = store_mb_count,
	.msg = store_mb_msg,
	.index_of = store_mb_index_of,
	.envelope = store_mb_envelope,
	.read = store_mb_read,
	.path = store_mb_path,
	.same = store_mb_same,
	.sync = store_mb_sync,
	.notify_fd = store_mb_notify_fd,
	.step = store_mb_step,
	.pending = store_mb_pending,
	.set_flags = store_mb_set_flags,
	.copy = store_mb_copy,
	.move = store_mb_move,
	.expunge = store_mb_expunge,
	.append = store_mb_append,
	.tag = store_mb_tag,
	.cache_view = store_mb_cache_view,
	.cache_put = store_mb_cache_put,
};
