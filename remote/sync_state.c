/* `loft sync` state in LMDB: folder records, UID pairs, intents (the
 * layout is in remote/sync-private.h). */
#include "remote/sync-private.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct sync_state {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	char *dir;
	int lock_fd;
	bool readonly;		/* sync_state_open_read: read transactions, no lock */
};

static int fail(char **error_r, const struct sync_state *st, const char *what, int rc)
{
	*error_r = xasprintf("sync state %s: %s: %s", st->dir, what, mdb_strerror(rc));
	return -1;
}

static int state_open(const char *state_dir, const char *account, bool readonly,
		      struct sync_state **st_r, char **error_r)
{
	struct sync_state *st = xcalloc(1, sizeof(*st));
	char *safe = path_safe_filename(account);
	char *lock;
	int rc;

	st->dir = xasprintf("%s/sync/%s", state_dir, safe);
	st->lock_fd = -1;
	st->readonly = readonly;
	free(safe);
	if (path_mkdirs(st->dir, 0700) < 0) {
		*error_r = xasprintf("cannot create %s: %s", st->dir, strerror(errno));
		goto fail;
	}
	/* A reader needs no lock: LMDB serves it beside a running sync. */
	if (!readonly) {
		lock = xasprintf("%s/lock", st->dir);
		st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		free(lock);
	}
	if (!readonly && (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0)) {
		*error_r = errno == EWOULDBLOCK
				   ? xasprintf("another loft sync of %s is running", account)
				   : xasprintf("cannot lock %s: %s", st->dir, strerror(errno));
		goto fail;
	}
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, (size_t)1 << 34)) != 0 ||
	    (rc = mdb_env_open(st->env, st->dir, MDB_NOTLS, 0600)) != 0) {
		fail(error_r, st, "open", rc);
		goto fail;
	}
	mdb_reader_check(st->env, NULL);
	if (sync_state_begin(st, error_r) < 0)
		goto fail;
	rc = mdb_dbi_open(st->txn, NULL, 0, &st->dbi);
	if (rc != 0 || sync_state_commit(st, false, error_r) < 0) {
		if (rc != 0)
			fail(error_r, st, "database", rc);
		goto fail;
	}
	*st_r = st;
	return 0;
fail:
	sync_state_close(&st);
	return -1;
}

int sync_state_open(const char *state_dir, const char *account, struct sync_state **st_r,
		    char **error_r)
{
	return state_open(state_dir, account, false, st_r, error_r);
}

int sync_state_open_read(const char *state_dir, const char *account, struct sync_state **st_r,
			 char **error_r)
{
	return state_open(state_dir, account, true, st_r, error_r);
}

void sync_state_close(struct sync_state **stp)
{
	struct sync_state *st = *stp;

	if (st == NULL)
		return;
	sync_state_abort(st);
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->dir);
	free(st);
	*stp = NULL;
}

int sync_state_begin(struct sync_state *st, char **error_r)
{
	int rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0, &st->txn);

	if (rc != 0) {
		st->txn = NULL;
		return fail(error_r, st, "transaction", rc);
	}
	return 0;
}

int sync_state_commit(struct sync_state *st, bool again, char **error_r)
{
	int rc = mdb_txn_commit(st->txn);

	st->txn = NULL;
	if (rc != 0)
		return fail(error_r, st, "commit", rc);
	return again ? sync_state_begin(st, error_r) : 0;
}

void sync_state_abort(struct sync_state *st)
{
	if (st->txn != NULL)
		mdb_txn_abort(st->txn);
	st->txn = NULL;
}

/* ---- keys ---- */

static void key_folder(struct sbuf *k, char type, const char *folder)
{
	sbuf_reset(k);
	sbuf_addch(k, type);
	sbuf_add(k, folder, strlen(folder) + 1);
}

static void add_be32(struct sbuf *k, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	sbuf_add(k, b, 4);
}

static uint32_t get_be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void key_uid(struct sbuf *k, char type, const char *folder, uint32_t uid)
{
	key_folder(k, type, folder);
	add_be32(k, uid);
}

static MDB_val val_of(const struct sbuf *sb)
{
	return (MDB_val){ .mv_size = sb->len, .mv_data = sb->buf };
}

static int put(struct sync_state *st, const struct sbuf *k, const void *data, size_t len,
	       char **error_r)
{
	MDB_val key = val_of(k), v = { .mv_size = len, .mv_data = (void *)data };
	int rc = mdb_put(st->txn, st->dbi, &key, &v, 0);

	return rc != 0 ? fail(error_r, st, "write", rc) : 0;
}

/* 1 with *v, 0 none, -1. */
static int get(struct sync_state *st, const struct sbuf *k, MDB_val *v, char **error_r)
{
	MDB_val key = val_of(k);
	int rc = mdb_get(st->txn, st->dbi, &key, v);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc != 0 ? fail(error_r, st, "read", rc) : 1;
}

static int del(struct sync_state *st, const struct sbuf *k, char **error_r)
{
	MDB_val key = val_of(k);
	int rc = mdb_del(st->txn, st->dbi, &key, NULL);

	return rc != 0 && rc != MDB_NOTFOUND ? fail(error_r, st, "delete", rc) : 0;
}

/* Calls fn on every record whose key starts with prefix; fn returns 0 to
 * go on, 1 to delete the record and go on, -1 to stop with an error. */
static int walk(struct sync_state *st, const struct sbuf *prefix,
		int (*fn)(const MDB_val *k, const MDB_val *v, void *ctx), void *ctx, char **error_r)
{
	MDB_cursor *cur;
	MDB_val k = val_of(prefix), v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(st->txn, st->dbi, &cur)) != 0)
		return fail(error_r, st, "cursor", rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < prefix->len || memcmp(k.mv_data, prefix->buf, prefix->len) != 0)
			break;
		r = fn(&k, &v, ctx);
		if (r < 0)
			break;
		if (r == 1 && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r < 0) {
		*error_r = xstrdup("sync state: a garbled record");
		return -1;
	}
	return rc != 0 && rc != MDB_NOTFOUND ? fail(error_r, st, "walk", rc) : 0;
}

/* ---- folders ---- */

/* A folder's record (type 'F') or the account's ('A', name ""). */
static int rec_get(struct sync_state *st, char type, const char *folder,
		   struct sync_folder_rec *r, char **error_text_r, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	MDB_val v;
	int found;

	key_folder(&k, type, folder);
	found = get(st, &k, &v, error_r);
	sbuf_release(&k);
	memset(r, 0, sizeof(*r));
	if (error_text_r != NULL)
		*error_text_r = NULL;
	if (found <= 0)
		return found;
	if (v.mv_size < sizeof(*r)) {
		*error_r = xasprintf("sync state: folder %s: a garbled record", folder);
		return -1;
	}
	memcpy(r, v.mv_data, sizeof(*r));
	if (error_text_r != NULL && v.mv_size > sizeof(*r))
		*error_text_r = xstrndup((const char *)v.mv_data + sizeof(*r),
					 v.mv_size - sizeof(*r));
	return 1;
}

static int rec_put(struct sync_state *st, char type, const char *folder,
		   const struct sync_folder_rec *r, const char *error_text, char **error_r)
{
	struct sbuf k = SBUF_INIT, v = SBUF_INIT;
	int ret;

	key_folder(&k, type, folder);
	sbuf_add(&v, r, sizeof(*r));
	if (error_text != NULL)
		sbuf_addstr(&v, error_text);
	ret = put(st, &k, v.buf, v.len, error_r);
	sbuf_release(&k);
	sbuf_release(&v);
	return ret;
}

int sync_folder_get(struct sync_state *st, const char *folder, struct sync_folder_rec *r,
		    char **error_text_r, char **error_r)
{
	return rec_get(st, 'F', folder, r, error_text_r, error_r);
}

int sync_folder_put(struct sync_state *st, const char *folder, const struct sync_folder_rec *r,
		    const char *error_text, char **error_r)
{
	return rec_put(st, 'F', folder, r, error_text, error_r);
}

int sync_account_get(struct sync_state *st, struct sync_folder_rec *r, char **error_text_r,
		     char **error_r)
{
	return rec_get(st, 'A', "", r, error_text_r, error_r);
}

int sync_account_put(struct sync_state *st, const struct sync_folder_rec *r,
		     const char *error_text, char **error_r)
{
	return rec_put(st, 'A', "", r, error_text, error_r);
}

struct names_ctx {
	char **names;
	size_t n, cap;
};

static int add_name(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct names_ctx *nc = ctx;

	(void)v;
	if (nc->n == nc->cap) {
		nc->cap = nc->cap ? nc->cap * 2 : 8;
		nc->names = xreallocarray(nc->names, nc->cap, sizeof(*nc->names));
	}
	nc->names[nc->n++] = xstrndup((const char *)k->mv_data + 1, k->mv_size - 2);
	return 0;
}

int sync_folder_names(struct sync_state *st, char ***names_r, size_t *n_r, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	struct names_ctx nc = { 0 };
	int ret;

	sbuf_addch(&k, 'F');
	ret = walk(st, &k, add_name, &nc, error_r);
	sbuf_release(&k);
	*names_r = nc.names;
	*n_r = nc.n;
	return ret;
}

static int drop_all(const MDB_val *k, const MDB_val *v, void *ctx)
{
	(void)k;
	(void)v;
	(void)ctx;
	return 1;
}

int sync_folder_drop(struct sync_state *st, const char *folder, char **error_r)
{
	static const char types[] = "LRIF";
	struct sbuf k = SBUF_INIT;
	int ret = 0;

	for (size_t i = 0; types[i] != '\0' && ret == 0; i++) {
		key_folder(&k, types[i], folder);
		ret = walk(st, &k, drop_all, NULL, error_r);
	}
	sbuf_release(&k);
	return ret;
}

/* ---- pairs ---- */

/* The fixed part of a pair's value, then its keywords. */
struct pair_rec {
	uint32_t ruid, flags, size, pad;
	uint64_t idhash;
};

struct pairs_ctx {
	struct sync_pair *pairs;
	size_t n, cap;
	bool tombstones;	/* the R walk: only LUID-0 records */
};

static struct sync_pair *grow(struct pairs_ctx *pc)
{
	if (pc->n == pc->cap) {
		pc->cap = pc->cap ? pc->cap * 2 : 256;
		pc->pairs = xreallocarray(pc->pairs, pc->cap, sizeof(*pc->pairs));
	}
	memset(&pc->pairs[pc->n], 0, sizeof(pc->pairs[0]));
	return &pc->pairs[pc->n++];
}

static int add_pair(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct pairs_ctx *pc = ctx;
	const unsigned char *key = k->mv_data;
	struct sync_pair *p;

	if (k->mv_size < 4)
		return -1;
	if (pc->tombstones) {
		if (v->mv_size != 4)
			return -1;
		if (get_be32(v->mv_data) != 0)
			return 0;
		p = grow(pc);
		p->ruid = get_be32(key + k->mv_size - 4);
		return 0;
	}
	struct pair_rec r;

	if (v->mv_size < sizeof(r))
		return -1;
	memcpy(&r, v->mv_data, sizeof(r));
	p = grow(pc);
	p->luid = get_be32(key + k->mv_size - 4);
	p->ruid = r.ruid;
	p->flags = r.flags;
	p->size = r.size;
	p->idhash = r.idhash;
	p->keywords = xstrndup((const char *)v->mv_data + sizeof(r), v->mv_size - sizeof(r));
	return 0;
}

int sync_pairs_load(struct sync_state *st, const char *folder, struct sync_pair **pairs_r,
		    size_t *n_r, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	struct pairs_ctx pc = { 0 };
	int ret;

	key_folder(&k, 'L', folder);
	ret = walk(st, &k, add_pair, &pc, error_r);
	if (ret == 0) {
		pc.tombstones = true;
		key_folder(&k, 'R', folder);
		ret = walk(st, &k, add_pair, &pc, error_r);
	}
	sbuf_release(&k);
	if (ret < 0) {
		sync_pairs_free(pc.pairs, pc.n);
		return -1;
	}
	*pairs_r = pc.pairs;
	*n_r = pc.n;
	return 0;
}

void sync_pairs_free(struct sync_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pairs[i].keywords);
	free(pairs);
}

int sync_pair_by_remote(struct sync_state *st, const char *folder, uint32_t ruid,
			uint32_t *luid_r, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	MDB_val v;
	int found;

	key_uid(&k, 'R', folder, ruid);
	found = get(st, &k, &v, error_r);
	sbuf_release(&k);
	if (found == 1) {
		if (v.mv_size != 4) {
			*error_r = xstrdup("sync state: a garbled record");
			return -1;
		}
		*luid_r = get_be32(v.mv_data);
	}
	return found;
}

int sync_pair_put(struct sync_state *st, const char *folder, const struct sync_pair *p,
		  char **error_r)
{
	struct sbuf k = SBUF_INIT, v = SBUF_INIT;
	struct pair_rec r = { .ruid = p->ruid, .flags = p->flags, .size = p->size,
			      .idhash = p->idhash };
	uint32_t other;
	MDB_val old;
	int ret = -1, found;

	if (p->ruid != 0) {
		found = sync_pair_by_remote(st, folder, p->ruid, &other, error_r);
		if (found < 0)
			goto done;
		if (found == 1 && other != p->luid) {
			*error_r = xasprintf("sync state: %s: remote UID %u paired twice (with %u and %u)",
					     folder, p->ruid, other, p->luid);
			goto done;
		}
	}
	if (p->luid != 0) {
		key_uid(&k, 'L', folder, p->luid);
		found = get(st, &k, &old, error_r);
		if (found < 0)
			goto done;
		struct pair_rec o;

		/* LMDB values are not aligned: copy before reading. */
		if (found == 1 && old.mv_size >= sizeof(o))
			memcpy(&o, old.mv_data, sizeof(o));
		if (found == 1 && old.mv_size >= sizeof(o) && o.ruid != p->ruid) {
			*error_r = xasprintf("sync state: %s: local UID %u paired twice (with %u and %u)",
					     folder, p->luid, o.ruid, p->ruid);
			goto done;
		}
		sbuf_add(&v, &r, sizeof(r));
		if (p->keywords != NULL)
			sbuf_addstr(&v, p->keywords);
		if (put(st, &k, v.buf, v.len, error_r) < 0)
			goto done;
	}
	if (p->ruid != 0) {
		unsigned char b[4] = { p->luid >> 24, p->luid >> 16, p->luid >> 8, p->luid };

		key_uid(&k, 'R', folder, p->ruid);
		if (put(st, &k, b, 4, error_r) < 0)
			goto done;
	}
	ret = 0;
done:
	sbuf_release(&k);
	sbuf_release(&v);
	return ret;
}

int sync_pair_del(struct sync_state *st, const char *folder, uint32_t luid, uint32_t ruid,
		  char **error_r)
{
	struct sbuf k = SBUF_INIT;
	int ret = 0;

	if (luid != 0) {
		key_uid(&k, 'L', folder, luid);
		ret = del(st, &k, error_r);
	}
	if (ret == 0 && ruid != 0) {
		key_uid(&k, 'R', folder, ruid);
		ret = del(st, &k, error_r);
	}
	sbuf_release(&k);
	return ret;
}

/* ---- intents ---- */

static void key_intent(struct sbuf *k, const char *folder, char kind, uint32_t uid)
{
	key_folder(k, 'I', folder);
	sbuf_addch(k, kind);
	add_be32(k, uid);
}

int sync_intent_put(struct sync_state *st, const char *folder, char kind, uint32_t uid,
		    char **error_r)
{
	return sync_intent_put_token(st, folder, kind, uid, "", error_r);
}

int sync_intent_put_token(struct sync_state *st, const char *folder, char kind, uint32_t uid,
			  const char *token, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	int ret;

	key_intent(&k, folder, kind, uid);
	ret = put(st, &k, token, strlen(token), error_r);
	sbuf_release(&k);
	return ret;
}

int sync_intent_token(struct sync_state *st, const char *folder, char kind, uint32_t uid,
		      char **token_r, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	MDB_val v;
	int found;

	*token_r = NULL;
	key_intent(&k, folder, kind, uid);
	found = get(st, &k, &v, error_r);
	sbuf_release(&k);
	if (found == 1 && v.mv_size == 0)
		found = 0;
	if (found == 1)
		*token_r = xstrndup(v.mv_data, v.mv_size);
	return found;
}

int sync_intent_del(struct sync_state *st, const char *folder, char kind, uint32_t uid,
		    char **error_r)
{
	struct sbuf k = SBUF_INIT;
	int ret;

	key_intent(&k, folder, kind, uid);
	ret = del(st, &k, error_r);
	sbuf_release(&k);
	return ret;
}

struct uids_ctx {
	uint32_t *uids;
	size_t n, cap;
};

static int add_uid(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct uids_ctx *uc = ctx;

	(void)v;
	if (uc->n == uc->cap) {
		uc->cap = uc->cap ? uc->cap * 2 : 64;
		uc->uids = xreallocarray(uc->uids, uc->cap, sizeof(*uc->uids));
	}
	uc->uids[uc->n++] = get_be32((const unsigned char *)k->mv_data + k->mv_size - 4);
	return 0;
}

int sync_intents(struct sync_state *st, const char *folder, char kind, uint32_t **uids_r,
		 size_t *n_r, char **error_r)
{
	struct sbuf k = SBUF_INIT;
	struct uids_ctx uc = { 0 };
	int ret;

	key_folder(&k, 'I', folder);
	sbuf_addch(&k, kind);
	ret = walk(st, &k, add_uid, &uc, error_r);
	sbuf_release(&k);
	if (ret < 0) {
		free(uc.uids);
		return -1;
	}
	*uids_r = uc.uids;
	*n_r = uc.n;
	return 0;
}

/* ---- hashes ---- */

uint64_t sync_id_hash(const char *id, size_t len)
{
	const char *lt = memchr(id, '<', len), *gt;
	uint64_t h = 14695981039346656037ULL;

	if (lt != NULL && (gt = memchr(lt, '>', len - (size_t)(lt - id))) != NULL) {
		len = (size_t)(gt - lt - 1);
		id = lt + 1;
	}
	while (len > 0 && (*id == ' ' || *id == '\t' || *id == '\r' || *id == '\n')) {
		id++;
		len--;
	}
	while (len > 0 && (id[len - 1] == ' ' || id[len - 1] == '\t' || id[len - 1] == '\r' ||
			   id[len - 1] == '\n'))
		len--;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 1099511628211ULL;
	}
	return h != 0 ? h : 1;
}

uint64_t sync_content_hash(const char *data, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		h ^= (unsigned char)data[i];
		h *= 1099511628211ULL;
	}
	return h;
}
