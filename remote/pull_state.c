/* Pull mode's state in LMDB (remote/pull-private.h has the layout). */
#include "remote/pull-private.h"

#include "lib/path.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define MAP_SIZE (1024ULL * 1024 * 1024)	/* address space, not disk */
#define KEY_MAX 480			/* LMDB's default limit is 511 */

struct pull_state {
	char *dir;
	MDB_env *env;
	MDB_dbi dbi;
	int lock_fd;		/* flocked while open: one pull of an account at a time */
};

struct pull_txn {
	struct pull_state *ps;
	MDB_txn *txn;
};

static int mdb_fail(struct pull_state *ps, char **error_r, const char *what, int rc)
{
	*error_r = xasprintf("pull state %s: %s: %s", ps->dir, what, mdb_strerror(rc));
	return -1;
}

int pull_state_open(const char *state_dir, const char *account, struct pull_state **ps_r,
		    char **error_r)
{
	struct pull_state *ps = xcalloc(1, sizeof(*ps));
	MDB_txn *txn;
	int rc, dead;

	ps->lock_fd = -1;
	ps->dir = xasprintf("%s/sync/%s/pull", state_dir, account);
	if (path_mkdirs(ps->dir, 0700) < 0) {
		*error_r = xasprintf("pull state %s: %s", ps->dir, strerror(errno));
		goto fail;
	}
	/* Two pulls at once (`loft sync` by hand beside the daemon's task)
	 * would both fetch and deliver the same new messages. */
	char *lock = xasprintf("%s/lock", ps->dir);

	ps->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (ps->lock_fd < 0 || flock(ps->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		*error_r = errno == EWOULDBLOCK
				   ? xasprintf("another loft sync of %s is running", account)
				   : xasprintf("cannot lock %s: %s", ps->dir, strerror(errno));
		goto fail;
	}
	if ((rc = mdb_env_create(&ps->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(ps->env, MAP_SIZE)) != 0 ||
	    (rc = mdb_env_open(ps->env, ps->dir, MDB_NOTLS, 0600)) != 0) {
		mdb_fail(ps, error_r, "open", rc);
		goto fail;
	}
	mdb_reader_check(ps->env, &dead);
	if ((rc = mdb_txn_begin(ps->env, NULL, 0, &txn)) != 0) {
		mdb_fail(ps, error_r, "transaction", rc);
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &ps->dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		mdb_fail(ps, error_r, "open", rc);
		goto fail;
	}
	*ps_r = ps;
	return 0;
fail:
	pull_state_close(&ps);
	return -1;
}

void pull_state_close(struct pull_state **psp)
{
	struct pull_state *ps = *psp;

	if (ps == NULL)
		return;
	if (ps->env)
		mdb_env_close(ps->env);
	if (ps->lock_fd >= 0)
		close(ps->lock_fd);
	free(ps->dir);
	free(ps);
	*psp = NULL;
}

/* KIND NUL FOLDER NUL KEY into buf; its length, or 0 when too long. */
static size_t make_key(char *buf, char kind, const char *folder, const char *key)
{
	size_t fl = strlen(folder), kl = key ? strlen(key) : 0;

	if (2 + fl + 1 + kl > KEY_MAX)
		return 0;
	buf[0] = kind;
	buf[1] = '\0';
	memcpy(buf + 2, folder, fl + 1);
	if (key)
		memcpy(buf + 2 + fl + 1, key, kl);
	return 2 + fl + 1 + kl;
}

int pull_state_folder(struct pull_state *ps, const char *folder, uint32_t *uidvalidity_r,
		      uint32_t *last_uid_r, char **error_r)
{
	char kb[KEY_MAX];
	MDB_val k = { make_key(kb, 'f', folder, ""), kb }, v;
	MDB_txn *txn;
	int rc, ret = 0;

	*uidvalidity_r = *last_uid_r = 0;
	if (k.mv_size == 0) {
		*error_r = xasprintf("pull state: folder name too long: %s", folder);
		return -1;
	}
	if ((rc = mdb_txn_begin(ps->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(ps, error_r, "read", rc);
	rc = mdb_get(txn, ps->dbi, &k, &v);
	if (rc == 0 && v.mv_size == 8) {
		memcpy(uidvalidity_r, v.mv_data, 4);
		memcpy(last_uid_r, (char *)v.mv_data + 4, 4);
		ret = 1;
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		ret = mdb_fail(ps, error_r, "read", rc);
	}
	mdb_txn_abort(txn);
	return ret;
}

bool pull_state_has(struct pull_state *ps, char kind, const char *folder, const char *key)
{
	char kb[KEY_MAX];
	MDB_val k = { make_key(kb, kind, folder, key), kb }, v;
	MDB_txn *txn;
	bool found;

	if (k.mv_size == 0 || mdb_txn_begin(ps->env, NULL, MDB_RDONLY, &txn) != 0)
		return false;
	found = mdb_get(txn, ps->dbi, &k, &v) == 0;
	mdb_txn_abort(txn);
	return found;
}

int pull_state_keys(struct pull_state *ps, char kind, const char *folder,
		    void (*fn)(const char *key, void *ctx), void *ctx, char **error_r)
{
	char kb[KEY_MAX];
	size_t plen = make_key(kb, kind, folder, "");
	MDB_val k = { plen, kb }, v;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc;

	if (plen == 0)
		return 0;
	if ((rc = mdb_txn_begin(ps->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, ps->dbi, &cur)) != 0)
		return mdb_fail(ps, error_r, "read", rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, kb, plen) != 0)
			break;
		char *key = xstrndup((char *)k.mv_data + plen, k.mv_size - plen);

		fn(key, ctx);
		free(key);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return 0;
}

int pull_txn_begin(struct pull_state *ps, struct pull_txn **t_r, char **error_r)
{
	struct pull_txn *t = xcalloc(1, sizeof(*t));
	int rc;

	t->ps = ps;
	if ((rc = mdb_txn_begin(ps->env, NULL, 0, &t->txn)) != 0) {
		free(t);
		return mdb_fail(ps, error_r, "write", rc);
	}
	*t_r = t;
	return 0;
}

int pull_txn_commit(struct pull_txn **tp, char **error_r)
{
	struct pull_txn *t = *tp;
	int rc = mdb_txn_commit(t->txn);

	*tp = NULL;
	if (rc != 0) {
		mdb_fail(t->ps, error_r, "commit", rc);
		free(t);
		return -1;
	}
	free(t);
	return 0;
}

void pull_txn_abort(struct pull_txn **tp)
{
	if (*tp == NULL)
		return;
	mdb_txn_abort((*tp)->txn);
	free(*tp);
	*tp = NULL;
}

static int put(struct pull_txn *t, char kind, const char *folder, const char *key,
	       const void *val, size_t vlen, char **error_r)
{
	char kb[KEY_MAX];
	MDB_val k = { make_key(kb, kind, folder, key), kb }, v = { vlen, (void *)val };
	int rc;

	if (k.mv_size == 0) {
		*error_r = xasprintf("pull state: key too long in folder %s", folder);
		return -1;
	}
	if ((rc = mdb_put(t->txn, t->ps->dbi, &k, &v, 0)) != 0)
		return mdb_fail(t->ps, error_r, "write", rc);
	return 0;
}

int pull_txn_set_folder(struct pull_txn *t, const char *folder, uint32_t uidvalidity,
			uint32_t last_uid, char **error_r)
{
	char v[8];

	memcpy(v, &uidvalidity, 4);
	memcpy(v + 4, &last_uid, 4);
	return put(t, 'f', folder, "", v, sizeof(v), error_r);
}

int pull_txn_put(struct pull_txn *t, char kind, const char *folder, const char *key,
		 char **error_r)
{
	return put(t, kind, folder, key, "", 0, error_r);
}

int pull_txn_put_value(struct pull_txn *t, char kind, const char *folder, const char *value,
		       char **error_r)
{
	return put(t, kind, folder, "", value, strlen(value), error_r);
}

int pull_state_value(struct pull_state *ps, char kind, const char *folder, char **value_r)
{
	char kb[KEY_MAX];
	MDB_val k = { make_key(kb, kind, folder, ""), kb }, v;
	MDB_txn *txn;
	int found = 0;

	*value_r = NULL;
	if (k.mv_size == 0 || mdb_txn_begin(ps->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_get(txn, ps->dbi, &k, &v) == 0) {
		*value_r = xstrndup(v.mv_data, v.mv_size);
		found = 1;
	}
	mdb_txn_abort(txn);
	return found;
}

int pull_txn_del(struct pull_txn *t, char kind, const char *folder, const char *key,
		 char **error_r)
{
	char kb[KEY_MAX];
	size_t plen = make_key(kb, kind, folder, key ? key : "");
	MDB_val k = { plen, kb }, v;
	MDB_cursor *cur;
	int rc;

	if (plen == 0)
		return 0;
	if (key != NULL) {
		rc = mdb_del(t->txn, t->ps->dbi, &k, NULL);
		return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_fail(t->ps, error_r, "delete", rc);
	}
	if ((rc = mdb_cursor_open(t->txn, t->ps->dbi, &cur)) != 0)
		return mdb_fail(t->ps, error_r, "delete", rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, kb, plen) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_fail(t->ps, error_r, "delete", rc);
}
