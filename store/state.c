/* state: the environment, open/close/destroy and the read calls.  The
 * contract is in state.h, the on-disk layout in state-private.h, write
 * transactions in state-txn.c. */
#include "store/state-private.h"

#include "lib/mapdrop.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The map is only address space: the file grows as pages are used.  4 GiB
 * holds millions of records; 32-bit hosts get 1 GiB (still ~1M records of
 * ~700 bytes). */
#define STATE_MAP_SIZE (SIZE_MAX > 0xffffffffu ? ((size_t)4 << 30) : ((size_t)1 << 30))
#define STATE_MAX_READERS 512
#define STATE_MAX_DBS 8

/* state_open() and state_destroy() have no state to own their messages. */
static _Thread_local char open_error[1024];

/* ---- errors ---- */

int state_fail(struct state *st, const char **error_r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(st->error);
	st->error = xasprintf("%s: %s", st->path, msg);
	if (error_r)
		*error_r = st->error;
	return -1;
}

int state_fail_mdb(struct state *st, const char **error_r, int rc, const char *what)
{
	return state_fail(st, error_r, "%s (%s)", mdb_strerror(rc), what);
}

static int open_fail(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int open_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
	if (error_r)
		*error_r = open_error;
	return -1;
}

const char *state_dir(const struct state *st)
{
	return st->dir;
}

/* ---- the files lock ---- */

static int files_lock(struct state *st, int op)
{
	if (st->files_fd < 0) {
		char *p = xasprintf("%s/%s", st->dir, STATE_FILES_LOCK);

		st->files_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		free(p);
		if (st->files_fd < 0)
			return -1;
	}
	while (flock(st->files_fd, op) < 0)
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? 0 : -1;
	st->files_locked = true;
	return 1;
}

void state_txn_lock_files(struct state_txn *txn)
{
	/* Without the lock a reader cannot tell this change from another
	 * program's: it rescans, which costs time, not correctness. */
	if (!txn->st->files_locked)
		(void)files_lock(txn->st, LOCK_EX);
}

int state_files_trylock(struct state *st)
{
	/* Held by this process's own write transaction: that change is the
	 * one under way. */
	if (st->files_locked)
		return 0;
	return files_lock(st, LOCK_SH | LOCK_NB);
}

void state_files_unlock(struct state *st)
{
	if (st->files_locked)
		flock(st->files_fd, LOCK_UN);
	st->files_locked = false;
}

/* ---- records ---- */

/* Decodes a record in place: the strings point into v.  0, or -1 when the
 * bytes are not a well-formed record (never reads outside v). */
static int decode_rec(const MDB_val *k, const MDB_val *v, struct state_rec *rec)
{
	const unsigned char *p = v->mv_data;
	size_t left = v->mv_size;
	const char **strs[STATE_REC_NSTR] = {
		&rec->key, &rec->location, &rec->keywords, &rec->envelope, &rec->bodystructure,
		&rec->threadkey,
	};
	int nstr;

	if (k->mv_size != 4 || left < STATE_REC_FIXED)
		return -1;
	if (p[0] == STATE_REC_VERSION || p[0] == 2)
		nstr = STATE_REC_NSTR;
	else if (p[0] == 1)
		nstr = STATE_REC_NSTR_V1;
	else
		return -1;
	rec->threadkey = NULL;
	rec->vsize = 0;
	rec->uid = state_get_be32(k->mv_data);
	rec->flags = state_get_le32(p + 1);
	rec->modseq = state_get_le64(p + 5);
	rec->size = state_get_le64(p + 13);
	rec->internal_date = (int64_t)state_get_le64(p + 21);
	p += STATE_REC_FIXED;
	left -= STATE_REC_FIXED;
	for (int i = 0; i < nstr; i++) {
		if (left < 4)
			return -1;
		uint32_t len = state_get_le32(p);

		p += 4;
		left -= 4;
		if (len == STATE_REC_NULL) {
			*strs[i] = NULL;
			continue;
		}
		if (len >= left || p[len] != '\0')
			return -1;
		*strs[i] = (const char *)p;
		p += (size_t)len + 1;
		left -= (size_t)len + 1;
	}
	if (((const unsigned char *)v->mv_data)[0] == STATE_REC_VERSION) {
		if (left < 8)
			return -1;
		rec->vsize = state_get_le64(p);
		left -= 8;
	}
	if (left != 0 || rec->uid == 0 || !rec->key || !rec->key[0])
		return -1;
	return 0;
}

static int garbled(struct state *st, const MDB_val *k, const char **error_r)
{
	if (k->mv_size != 4)
		return state_fail(st, error_r, "garbled record key (%zu bytes)", k->mv_size);
	return state_fail(st, error_r, "UID %u: garbled record", state_get_be32(k->mv_data));
}

/* Copies rec's strings into one malloc'd buffer (*buf_r) and points rec at it. */
void state_rec_copy(struct state_rec *rec, char **buf_r)
{
	const char **strs[STATE_REC_NSTR] = {
		&rec->key, &rec->location, &rec->keywords, &rec->envelope, &rec->bodystructure,
		&rec->threadkey,
	};
	size_t total = 0;

	for (int i = 0; i < STATE_REC_NSTR; i++)
		total += *strs[i] ? strlen(*strs[i]) + 1 : 0;
	char *buf = xmalloc(total), *p = buf;

	for (int i = 0; i < STATE_REC_NSTR; i++) {
		if (!*strs[i])
			continue;
		size_t len = strlen(*strs[i]) + 1;

		memcpy(p, *strs[i], len);
		*strs[i] = p;
		p += len;
	}
	*buf_r = buf;
}

/* ---- meta ---- */

static int meta_get(struct state *st, MDB_txn *txn, const char *name, size_t size,
		    uint64_t *v_r, const char **error_r)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, st->dbi_meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, name);
	if (v.mv_size != size)
		return state_fail(st, error_r, "garbled %s (%zu bytes)", name, v.mv_size);
	*v_r = size == 4 ? state_get_le32(v.mv_data) : state_get_le64(v.mv_data);
	return 1;
}

int state_meta_put(struct state *st, MDB_txn *txn, const char *name, size_t size,
		    uint64_t value, const char **error_r)
{
	unsigned char buf[8];
	MDB_val k = { strlen(name), (void *)name }, v = { size, buf };
	int rc;

	if (size == 4)
		state_put_le32(buf, (uint32_t)value);
	else
		state_put_le64(buf, value);
	rc = mdb_put(txn, st->dbi_meta, &k, &v, 0);
	return rc == 0 ? 0 : state_fail_mdb(st, error_r, rc, name);
}

int state_read_header(struct state *st, MDB_txn *txn, struct state_header *hdr_r,
		       const char **error_r)
{
	uint64_t uidvalidity = 0, uidnext = 0, modseq = 0;
	int ret = meta_get(st, txn, "uidvalidity", 4, &uidvalidity, error_r);

	if (ret <= 0)
		return ret;
	if ((ret = meta_get(st, txn, "uidnext", 4, &uidnext, error_r)) < 0 ||
	    (ret > 0 && (ret = meta_get(st, txn, "highestmodseq", 8, &modseq, error_r)) < 0))
		return -1;
	if (ret == 0 || uidvalidity == 0 || uidnext == 0 || modseq == 0)
		return state_fail(st, error_r, "garbled header");
	memset(hdr_r, 0, sizeof(*hdr_r));
	hdr_r->uidvalidity = (uint32_t)uidvalidity;
	hdr_r->uidnext = (uint32_t)uidnext;
	hdr_r->highestmodseq = modseq;
	hdr_r->created = st->created;
	return 1;
}

int state_read_unseen(struct state *st, MDB_txn *txn, uint32_t *n_r, const char **error_r)
{
	uint64_t v = 0;
	int ret = meta_get(st, txn, "unseen", 4, &v, error_r);

	if (ret > 0)
		*n_r = (uint32_t)v;
	return ret;
}

int state_count_unseen(struct state *st, MDB_txn *txn, uint32_t *n_r, const char **error_r)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t n = 0;
	int rc, ret = 0;

	rc = mdb_cursor_open(txn, st->dbi_msgs, &cur);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* Only the flags, right after the version byte. */
		if (v.mv_size < STATE_REC_FIXED) {
			ret = garbled(st, &k, error_r);
			break;
		}
		n += !(state_get_le32((const unsigned char *)v.mv_data + 1) & STATE_FLAG_SEEN);
	}
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = state_fail_mdb(st, error_r, rc, "counting unseen records");
	mdb_cursor_close(cur);
	if (ret == 0)
		*n_r = n;
	return ret;
}

/* ---- transactions ---- */

int state_mdb_begin(struct state *st, unsigned flags, MDB_txn **txn_r, const char **error_r)
{
	int rc = mdb_txn_begin(st->env, NULL, flags, txn_r);

	if (rc == MDB_MAP_RESIZED && !st->wtxn && !st->rtxn_busy) {
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(st->env, NULL, flags, txn_r);
	}
	return rc == 0 ? 0 : state_fail_mdb(st, error_r, rc, "beginning a transaction");
}

int state_rd_begin(struct state *st, MDB_txn **txn_r, const char **error_r)
{
	MDB_txn *txn = NULL;

	if (st->rtxn_busy)	/* a nested call, from a state_foreach callback */
		return state_mdb_begin(st, MDB_RDONLY, txn_r, error_r);
	if (st->rtxn) {
		if (mdb_txn_renew(st->rtxn) == 0)
			txn = st->rtxn;
		else {
			mdb_txn_abort(st->rtxn);
			st->rtxn = NULL;
		}
	}
	if (!txn) {
		if (state_mdb_begin(st, MDB_RDONLY, &txn, error_r) < 0)
			return -1;
		st->rtxn = txn;
	}
	st->rtxn_busy = true;
	*txn_r = txn;
	return 0;
}

void state_rd_end(struct state *st, MDB_txn *txn)
{
	if (txn == st->rtxn) {
		mdb_txn_reset(txn);
		st->rtxn_busy = false;
	} else {
		mdb_txn_abort(txn);
	}
}

/* ---- open, close, destroy ---- */

static int mkdir_p(const char *dir, const char **error_r)
{
	char *p, *path = xstrdup(dir);
	struct stat sb;

	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			open_fail(error_r, "%s: mkdir: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(path);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return open_fail(error_r, "%s: not a directory", dir);
	return 0;
}

/* Raises *v above the value kept in file (a decimal number) and writes *v
 * there, under flock() against concurrent creators.  The file is a hint:
 * failures only log. */
static void uidvalidity_raise(const char *file, uint32_t *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		log_warning("%s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		uint32_t last = (uint32_t)strtoul(buf, NULL, 10);

		if (*v <= last)
			*v = last + 1;
	}
	if (*v == 0)
		*v = 1;
	n = snprintf(buf, sizeof(buf), "%u\n", *v);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warning("%s: %s", file, strerror(errno));
	close(fd);
}

/* A new UIDVALIDITY: the clock, but above the last one handed out under the
 * same parent directory and above the one in keep_file (when not NULL).
 * RFC 3501 wants a rebuilt mailbox to get a different (in practice:
 * greater) UIDVALIDITY.  The clock alone fails when a folder is deleted and
 * recreated within a second, or when earlier values ran ahead of it, so
 * the parent keeps the largest value given so far in ".uidvalidity" (the
 * same idea as Dovecot's dovecot-uidvalidity).  That file goes when the
 * whole state tree is deleted; keep_file is outside it (the store's, beside
 * its state directory), so a rebuilt state never takes a value the folder
 * had. */
static uint32_t new_uidvalidity(const char *dir, const char *keep_file)
{
	uint32_t v = (uint32_t)clock_now();
	const char *slash = strrchr(dir, '/');
	char *file;

	while (slash && slash > dir && slash[1] == '\0')	/* "a/b/" */
		slash = memrchr(dir, '/', (size_t)(slash - dir));
	if (!slash)
		file = xstrdup(".uidvalidity");
	else
		file = xasprintf("%.*s/.uidvalidity", (int)(slash - dir), dir);
	uidvalidity_raise(file, &v);
	if (keep_file)
		uidvalidity_raise(keep_file, &v);
	free(file);
	return v == 0 ? 1 : v;
}

static int open_dbis(struct state *st, MDB_txn *txn, unsigned flags, const char **error_r)
{
	static const char *const names[] = { "meta", "msgs", "keys", "expunged", "tkeys",
					     "envs", "cache", "modseqs" };
	MDB_dbi *dbis[] = { &st->dbi_meta, &st->dbi_msgs, &st->dbi_keys, &st->dbi_exp,
			    &st->dbi_tkeys, &st->dbi_envs, &st->dbi_cache, &st->dbi_mods };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int rc = mdb_dbi_open(txn, names[i], flags, dbis[i]);

		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return state_fail_mdb(st, error_r, rc, names[i]);
	}
	return 1;
}

/* The slow path of state_open(): a write transaction that creates the
 * databases and the header unless another process just did. */
static int create_state(struct state *st, const char **error_r)
{
	struct state_header hdr;
	MDB_txn *txn;
	int ret, rc;

	if (state_mdb_begin(st, 0, &txn, error_r) < 0)
		return -1;
	if (open_dbis(st, txn, MDB_CREATE, error_r) < 0 ||
	    (ret = state_read_header(st, txn, &hdr, error_r)) < 0)
		goto fail;
	if (ret == 0) {
		st->created = true;
		if (state_meta_put(st, txn, "uidvalidity", 4, new_uidvalidity(st->dir, st->keep_file),
				   error_r) < 0 ||
		    state_meta_put(st, txn, "uidnext", 4, 1, error_r) < 0 ||
		    state_meta_put(st, txn, "highestmodseq", 8, 1, error_r) < 0 ||
		    state_meta_put(st, txn, "unseen", 4, 0, error_r) < 0)
			goto fail;
	}
	rc = mdb_txn_commit(txn);
	if (rc == 0)
		rc = mdb_env_sync(st->env, 1);
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "creating");
	return 0;
fail:
	mdb_txn_abort(txn);
	return -1;
}

int state_open(const char *dir, struct state **state_r, const char **error_r)
{
	return state_open_keep(dir, NULL, state_r, error_r);
}

int state_open_keep(const char *dir, const char *keep_file, struct state **state_r,
		    const char **error_r)
{
	struct state_header hdr;
	struct state *st;
	MDB_txn *txn;
	int rc, dead = 0, ret = 0;

	*state_r = NULL;
	if (mkdir_p(dir, error_r) < 0)
		return -1;
	st = xcalloc(1, sizeof(*st));
	st->files_fd = -1;
	st->dir = xstrdup(dir);
	st->path = xasprintf("%s/data.mdb", dir);
	st->keep_file = keep_file ? xstrdup(keep_file) : NULL;
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, STATE_MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, STATE_MAX_READERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, STATE_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0600)) != 0) {
		open_fail(error_r, "%s: %s", st->path, mdb_strerror(rc));
		goto fail;
	}
	/* Slots of readers that died without closing would pin old pages
	 * forever and, 512 crashes later, leave no slot for anyone. */
	if ((rc = mdb_reader_check(st->env, &dead)) != 0) {
		open_fail(error_r, "%s: reader check: %s", st->path, mdb_strerror(rc));
		goto fail;
	}
	st->readers_cleared = (unsigned)dead;
	if (dead > 0)
		log_info("%s: cleared %d stale reader slot(s)", st->path, dead);
	st->maxkeysize = (size_t)mdb_env_get_maxkeysize(st->env);

	/* Fast path: everything exists, a read transaction is enough (and
	 * its commit keeps the database handles for the environment). */
	if (state_mdb_begin(st, MDB_RDONLY, &txn, error_r) < 0)
		goto fail_st;
	if ((ret = open_dbis(st, txn, 0, error_r)) > 0)
		ret = state_read_header(st, txn, &hdr, error_r);
	if (ret > 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (ret < 0)
		goto fail_st;
	if (ret > 0 && rc != 0) {
		state_fail_mdb(st, error_r, rc, "opening");
		goto fail_st;
	}
	if (ret == 0 && create_state(st, error_r) < 0)
		goto fail_st;
	*state_r = st;
	return 0;
fail_st:
	open_fail(error_r, "%s", st->error ? st->error : st->path);
fail:
	state_close(&st);
	return -1;
}

void state_close(struct state **statep)
{
	struct state *st = *statep;

	if (!st)
		return;
	assert(!st->wtxn);	/* commit or abort first */
	assert(!st->rtxn_busy);
	if (st->rtxn)
		mdb_txn_abort(st->rtxn);
	if (st->env)
		mdb_env_close(st->env);
	if (st->files_fd >= 0)
		close(st->files_fd);
	free(st->dir);
	free(st->path);
	free(st->keep_file);
	free(st->error);
	free(st);
	*statep = NULL;
}

int state_destroy(const char *dir, const char **error_r)
{
	static const char *const files[] = { "data.mdb", "lock.mdb", STATE_CHANGED_FILE,
					     STATE_FILES_LOCK };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = xasprintf("%s/%s", dir, files[i]);

		if (unlink(path) < 0 && errno != ENOENT) {
			open_fail(error_r, "%s: unlink: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	/* Nested folders may keep their own state below this directory. */
	if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return open_fail(error_r, "%s: rmdir: %s", dir, strerror(errno));
	return 0;
}

unsigned state_readers_cleared(const struct state *st)
{
	return st->readers_cleared;
}

/* ---- reading ---- */

int state_get_header(struct state *st, struct state_header *hdr_r, const char **error_r)
{
	MDB_txn *txn;
	MDB_stat ms;
	int ret, rc;

	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	ret = state_read_header(st, txn, hdr_r, error_r);
	if (ret == 0)
		ret = state_fail(st, error_r, "header missing");
	if (ret > 0) {
		rc = mdb_stat(txn, st->dbi_msgs, &ms);
		if (rc == 0)
			hdr_r->count = ms.ms_entries;
		else
			ret = state_fail_mdb(st, error_r, rc, "counting records");
	}
	state_rd_end(st, txn);
	return ret > 0 ? 0 : -1;
}

int state_get_counts(struct state *st, size_t *total_r, size_t *unseen_r, const char **error_r)
{
	MDB_txn *txn;
	MDB_stat ms;
	uint32_t unseen = 0;
	int ret, rc;

	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	rc = mdb_stat(txn, st->dbi_msgs, &ms);
	if (rc != 0)
		ret = state_fail_mdb(st, error_r, rc, "counting records");
	else if ((ret = state_read_unseen(st, txn, &unseen, error_r)) == 0)
		ret = state_count_unseen(st, txn, &unseen, error_r);
	state_rd_end(st, txn);
	if (ret < 0)
		return -1;
	*total_r = ms.ms_entries;
	*unseen_r = unseen;
	return 0;
}

/* A walk reads every page of the map once.  The pages behind it are
 * dropped from this process's resident set every STATE_WALK_DROP records
 * and at the end (lib/mapdrop.h). */
#define STATE_WALK_DROP 4096

void state_map_drop(const void *p, size_t len)
{
	map_drop(p, len);
}

static const char *const stamp_names[STATE_STAMPS] = { "stamp0", "stamp1" };

int state_read_stamps(struct state *st, MDB_txn *txn, uint64_t stamps_r[STATE_STAMPS],
		      const char **error_r)
{
	for (int i = 0; i < STATE_STAMPS; i++) {
		stamps_r[i] = 0;
		if (meta_get(st, txn, stamp_names[i], 8, &stamps_r[i], error_r) < 0)
			return -1;
	}
	return 0;
}

int state_write_stamps(struct state *st, MDB_txn *txn, const uint64_t stamps[STATE_STAMPS],
		       const char **error_r)
{
	for (int i = 0; i < STATE_STAMPS; i++)
		if (state_meta_put(st, txn, stamp_names[i], 8, stamps[i], error_r) < 0)
			return -1;
	return 0;
}

/* Calls fn for every record of txn whose MODSEQ is above modseq (0: all),
 * dropping the walked map pages behind it.  0, or -1 with *error_r. */
static int walk_records(struct state *st, MDB_txn *txn, uint64_t modseq,
			int (*fn)(const struct state_rec *rec, void *ctx), void *ctx,
			const char **error_r)
{
	struct map_span span = { 0, 0 };
	struct state_aux_walk aux = { 0 };
	size_t n = 0;
	struct state_rec rec;
	MDB_cursor *cur;
	MDB_val k, v, av;
	int rc, ret = 0;

	if (state_aux_walk_open(st, txn, &aux, error_r) < 0)
		return -1;
	rc = mdb_cursor_open(txn, st->dbi_msgs, &cur);
	if (rc != 0) {
		state_aux_walk_close(&aux);
		return state_fail_mdb(st, error_r, rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (modseq && v.mv_size >= STATE_REC_FIXED &&
		    state_get_le64((const unsigned char *)v.mv_data + 5) <= modseq)
			continue;
		if (decode_rec(&k, &v, &rec) < 0) {
			ret = garbled(st, &k, error_r);
			break;
		}
		if (state_aux_walk_merge(st, &aux, &rec, &av, error_r) < 0) {
			ret = -1;
			break;
		}
		if (fn(&rec, ctx) < 0) {
			ret = state_fail(st, error_r, "stopped");
			break;
		}
		map_span_add(&span, v.mv_data, v.mv_size);
		if (av.mv_size)
			map_span_add(&span, av.mv_data, av.mv_size);
		if (++n % STATE_WALK_DROP == 0)
			map_span_drop(&span);
	}
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = state_fail_mdb(st, error_r, rc, "reading records");
	mdb_cursor_close(cur);
	state_aux_walk_close(&aux);
	if (n >= STATE_WALK_DROP)
		map_span_drop(&span);
	return ret < 0 ? -1 : 0;
}

int state_foreach_since(struct state *st, uint64_t modseq, struct state_header *hdr_r,
			uint64_t stamps_r[STATE_STAMPS],
			int (*fn)(const struct state_rec *rec, void *ctx), void *ctx,
			const char **error_r)
{
	MDB_stat ms;
	MDB_txn *txn;
	int rc, ret;

	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	ret = state_read_header(st, txn, hdr_r, error_r);
	if (ret == 0)
		ret = state_fail(st, error_r, "header missing");
	if (ret < 0 || state_read_stamps(st, txn, stamps_r, error_r) < 0)
		goto out;
	ret = -1;
	rc = mdb_stat(txn, st->dbi_msgs, &ms);
	if (rc != 0) {
		state_fail_mdb(st, error_r, rc, "counting records");
		goto out;
	}
	hdr_r->count = ms.ms_entries;
	/* Nothing written since modseq: no walk at all. */
	ret = 0;
	/* A few changes since modseq: through the MODSEQ index, without
	 * the pages of every record (past an eighth of them a walk is as
	 * quick). */
	if (modseq && hdr_r->highestmodseq > modseq)
		ret = state_modidx_walk(st, txn, modseq, 64 + ms.ms_entries / 8, fn, ctx, error_r);
	if (ret == 0 && !(modseq && hdr_r->highestmodseq <= modseq))
		ret = walk_records(st, txn, modseq, fn, ctx, error_r);
out:
	state_rd_end(st, txn);
	return ret < 0 ? -1 : 0;
}

int state_foreach(struct state *st, int (*fn)(const struct state_rec *rec, void *ctx),
		  void *ctx, const char **error_r)
{
	MDB_txn *txn;
	int ret;

	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	ret = walk_records(st, txn, 0, fn, ctx, error_r);
	state_rd_end(st, txn);
	return ret;
}

int state_lookup_key_in(struct state *st, MDB_txn *txn, const char *key, uint32_t *uid_r,
			 const char **error_r)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	if (k.mv_size == 0 || k.mv_size > st->maxkeysize)
		return 0;	/* never stored */
	rc = mdb_get(txn, st->dbi_keys, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "looking up a key");
	if (v.mv_size != 4)
		return state_fail(st, error_r, "key %s: garbled UID", key);
	*uid_r = state_get_be32(v.mv_data);
	return 1;
}

int state_get_in(struct state *st, MDB_txn *txn, uint32_t uid, struct state_rec *rec_r,
		  const char **error_r)
{
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be }, v;
	int rc = mdb_get(txn, st->dbi_msgs, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return state_fail_mdb(st, error_r, rc, "reading a record");
	if (decode_rec(&k, &v, rec_r) < 0)
		return garbled(st, &k, error_r);
	return state_aux_merge(st, txn, rec_r, true, error_r) < 0 ? -1 : 1;
}

int state_lookup_key(struct state *st, const char *key, uint32_t *uid_r, const char **error_r)
{
	MDB_txn *txn;
	int ret;

	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	ret = state_lookup_key_in(st, txn, key, uid_r, error_r);
	state_rd_end(st, txn);
	return ret;
}

int state_get(struct state *st, uint32_t uid, struct state_rec *rec_r, char **buf_r,
	      const char **error_r)
{
	MDB_txn *txn;
	int ret;

	*buf_r = NULL;
	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	ret = state_get_in(st, txn, uid, rec_r, error_r);
	if (ret > 0)
		state_rec_copy(rec_r, buf_r);
	state_rd_end(st, txn);
	return ret;
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int state_expunged_since(struct state *st, uint64_t modseq, uint32_t **uids_r, size_t *n_r,
			 const char **error_r)
{
	uint32_t *uids = NULL;
	size_t n = 0, alloc = 0;
	uint64_t be = htobe64(modseq + 1);
	MDB_val k = { 8, &be }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc, ret = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (modseq == UINT64_MAX)
		return 0;
	if (state_rd_begin(st, &txn, error_r) < 0)
		return -1;
	rc = mdb_cursor_open(txn, st->dbi_exp, &cur);
	if (rc != 0) {
		state_rd_end(st, txn);
		return state_fail_mdb(st, error_r, rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size != 4) {
			ret = state_fail(st, error_r, "garbled expunge log");
			break;
		}
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			uids = xreallocarray(uids, alloc, sizeof(*uids));
		}
		uids[n++] = state_get_be32(v.mv_data);
	}
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = state_fail_mdb(st, error_r, rc, "reading the expunge log");
	mdb_cursor_close(cur);
	state_rd_end(st, txn);
	if (ret < 0) {
		free(uids);
		return -1;
	}
	if (n > 1)
		qsort(uids, n, sizeof(*uids), cmp_uid);
	*uids_r = uids;
	*n_r = n;
	return 0;
}
