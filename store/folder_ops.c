/* folder_ops: reading and changing messages.
 *
 * Every mutation runs as: state write transaction begin -> file operation
 * -> state update -> commit.  The transaction serialises loft processes
 * on the folder; a process that dies between the file operation and the
 * commit leaves files the state does not know yet (or no longer has), and
 * the next open reconciles them: the files are the truth.  The state is
 * read inside the transaction, never from the snapshot, so a stale
 * snapshot cannot undo another process's change.  crash_point() marks
 * every step for the kill-at-every-step test (tests/store.t). */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/mbox.h"
#include "store/message.h"
#include "store/state.h"

#include "lib/arena.h"
#include "lib/atomic.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NOT_RECENT(fl) ((fl) & ~(uint32_t)STORE_RECENT)

/* ---- keywords ---- */

bool store_keywords_has(const char *list, const char *w, size_t n)
{
	const char *p = list != NULL ? list : "";

	while (*p) {
		size_t m = strcspn(p, " ");

		if (m == n && strncasecmp(p, w, n) == 0)
			return true;
		p += m;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* Adds the words of s to out (skipping those in skip, if not NULL). */
static void kw_add_words(struct sbuf *out, const char *s, const struct sbuf *skip)
{
	while (s && *s) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");

		if (n && !store_keywords_has(out->buf, s, n) &&
		    !(skip && store_keywords_has(skip->buf, s, n))) {
			if (out->len)
				sbuf_addch(out, ' ');
			sbuf_add(out, s, n);
		}
		s += n;
	}
}

char *store_keywords_apply(const char *cur, int op, const char *kw)
{
	struct sbuf out = SBUF_INIT, rm = SBUF_INIT;

	switch (op) {
	case STORE_FLAGS_SET:
		kw_add_words(&out, kw, NULL);
		break;
	case STORE_FLAGS_ADD:
		kw_add_words(&out, cur, NULL);
		kw_add_words(&out, kw, NULL);
		break;
	default:
		kw_add_words(&rm, kw, NULL);
		kw_add_words(&out, cur, &rm);
		break;
	}
	sbuf_release(&rm);
	return sbuf_detach(&out, NULL);
}

/* ---- helpers ---- */

static int no_such(struct store_folder *f, uint32_t uid, const char **error_r)
{
	return store_fail_code(f->store, STORE_ERR_NO_MESSAGE, error_r,
			       "%s: UID %u: no such message", f->path, uid);
}

/* The flags a maildir location carries (STORE_RECENT for new/), and its
 * extra info letters into extra (MAILDIR_EXTRA_SIZE). */
uint32_t store_location_flags(const char *location, char *extra)
{
	struct maildir_name mn;
	const char *slash = strrchr(location, '/');

	if (maildir_parse_name(slash ? slash + 1 : location, &mn) < 0) {
		if (extra)
			extra[0] = '\0';
		return 0;
	}
	if (extra)
		memcpy(extra, mn.extra, MAILDIR_EXTRA_SIZE);
	return mn.flags | (strncmp(location, "new/", 4) == 0 ? STORE_RECENT : 0);
}

char *store_location_key(const char *location)
{
	struct maildir_name mn;
	const char *slash = strrchr(location, '/');

	if (maildir_parse_name(slash ? slash + 1 : location, &mn) < 0)
		return xstrdup(location);
	return xstrndup(mn.key, mn.key_len);
}

/* ---- read ---- */

/* An mbox message un-quoted into an anonymous file.  -1 or the fd. */
static int mbox_msg_fd(struct store_folder *f, const struct state_rec *rec, uint32_t uid,
		       const char **error_r)
{
	struct sbuf data = SBUF_INIT;
	const char *err;
	int fd = -1;

	if (mbox_lock(f->mbox, false, &err) < 0)
		return store_fail_code(f->store, STORE_ERR_LOCKED, error_r, "%s", err);
	if (store_mbox_entries(f, error_r) == 0) {
		const struct mbox_entry *e = store_mbox_entry(f, rec->key);

		if (e == NULL)
			store_fail_code(f->store, STORE_ERR_NO_MESSAGE, error_r,
					"%s: UID %u: the message is gone", f->path, uid);
		else if (mbox_read(f->mbox, e, &data, &err) < 0)
			store_fail(f->store, error_r, "%s", err);
		else if ((fd = memfd_create("loft-msg", MFD_CLOEXEC)) < 0 ||
			 write_all(fd, data.buf, data.len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
			store_fail_errno(f->store, error_r, "%s: UID %u: %s", f->path, uid,
					 strerror(errno));
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
	}
	mbox_unlock(f->mbox);
	sbuf_release(&data);
	return fd;
}

int store_msg_open(struct store_folder *f, uint32_t uid, int *fd_r, uint64_t *size_r,
		   const char **error_r)
{
	struct state_rec rec;
	struct stat st;
	char *buf = NULL, *path = NULL, *loc = NULL;
	const char *err;
	int r = state_get(f->state, uid, &rec, &buf, &err), fd = -1;

	*fd_r = -1;
	if (r < 0)
		return store_fail(f->store, error_r, "%s", err);
	if (r == 0)
		return no_such(f, uid, error_r);
	if (f->kind == STORE_MBOX) {
		fd = mbox_msg_fd(f, &rec, uid, error_r);
		goto out;
	}
	path = path_join(f->path, rec.location);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* Renamed by another program since: find it by key. */
		r = maildir_find(f->path, rec.key, &loc, &err);
		if (r < 0) {
			store_fail(f->store, error_r, "%s", err);
			goto out;
		}
		if (r == 0) {
			store_fail_code(f->store, STORE_ERR_NO_MESSAGE, error_r,
					"%s: UID %u (%s): the file is gone", f->path, uid, rec.key);
			goto out;
		}
		free(path);
		path = path_join(f->path, loc);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		store_fail_errno(f->store, error_r, "%s: %s", path, strerror(errno));
out:
	if (fd >= 0 && fstat(fd, &st) < 0) {
		store_fail_errno(f->store, error_r, "UID %u: fstat: %s", uid, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(path);
	free(loc);
	free(buf);
	if (fd < 0)
		return -1;
	*fd_r = fd;
	*size_r = (uint64_t)st.st_size;
	return 0;
}

int store_msg_read_range(struct store_folder *f, uint32_t uid, uint64_t offset,
			 uint64_t len, struct sbuf *out, const char **error_r)
{
	char chunk[65536];
	uint64_t size;
	int fd;

	if (store_msg_open(f, uid, &fd, &size, error_r) < 0)
		return -1;
	while (len > 0 && offset < size) {
		size_t want = len < sizeof(chunk) ? (size_t)len : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			store_fail_errno(f->store, error_r, "%s: UID %u: read: %s", f->path, uid,
					 strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		sbuf_add(out, chunk, (size_t)n);
		offset += (uint64_t)n;
		len -= (uint64_t)n;
	}
	close(fd);
	return 0;
}

int store_msg_read(struct store_folder *f, uint32_t uid, struct sbuf *out,
		   const char **error_r)
{
	return store_msg_read_range(f, uid, 0, UINT64_MAX, out, error_r);
}

/* ---- BODYSTRUCTURE ---- */

char *store_bodystructure_of(const char *data, size_t len)
{
	struct sbuf sb = SBUF_INIT;
	const char *err;
	/* data outlives m: no copy of a big message just for this. */
	struct message *m = message_parse_borrowed(data, len, NULL, &err);

	if (m == NULL)
		return NULL;
	message_imap_bodystructure(m, 1, &sb);
	message_free(&m);
	return sbuf_detach(&sb, NULL);
}

/* Stores bs as uid's cached BODYSTRUCTURE (no MODSEQ change: IMAP sees
 * nothing new).  Failures are only logged: the answer is known anyway. */
static void bodystructure_keep(struct store_folder *f, uint32_t uid, const char *bs)
{
	struct state_txn *txn = NULL;
	struct state_rec rec;
	char *buf = NULL;
	const char *err;

	if (f->store->flags & STORE_OPEN_READONLY)
		return;
	if (state_begin(f->state, &txn, &err) == 0) {
		int r = state_txn_get(txn, uid, &rec, &buf, &err);

		if (r > 0 && rec.bodystructure == NULL) {
			rec.bodystructure = bs;
			r = state_txn_update(txn, &rec, false, &err) < 0 ? -1 :
				state_commit(&txn, &err) < 0 ? -1 : r;
		}
		if (r < 0)
			log_warning("%s", err);
	} else {
		log_warning("%s", err);
	}
	state_abort(&txn);
	free(buf);
}

int store_folder_bodystructure(struct store_folder *f, uint32_t uid, struct sbuf *out,
			       const char **error_r)
{
	struct state_rec rec;
	struct sbuf data = SBUF_INIT;
	char *buf = NULL, *bs = NULL;
	const char *err;
	int r = state_get(f->state, uid, &rec, &buf, &err);

	if (r < 0)
		return store_fail(f->store, error_r, "%s", err);
	if (r > 0 && rec.bodystructure) {
		sbuf_addstr(out, rec.bodystructure);
	} else if (r > 0) {
		/* Not cached yet (a file that came by another program). */
		if (store_msg_read(f, uid, &data, error_r) < 0) {
			r = store_error_code(f->store) == STORE_ERR_NO_MESSAGE ? 0 : -1;
		} else if ((bs = store_bodystructure_of(data.buf, data.len)) == NULL) {
			r = 0;
		} else {
			sbuf_addstr(out, bs);
			bodystructure_keep(f, uid, bs);
		}
	}
	sbuf_release(&data);
	free(bs);
	free(buf);
	return r;
}

/* ---- append ---- */

/* The mbox key of the message whose From_ line is at offset. */
static char *mbox_key_at(struct store_folder *f, uint64_t offset, const char **error_r)
{
	if (store_mbox_entries(f, error_r) < 0)
		return NULL;
	for (size_t i = 0; i < f->mbox_count; i++)
		if (f->mbox_entries[i].from_offset == offset)
			return xstrdup(f->mbox_entries[i].key);
	store_fail(f->store, error_r, "%s: appended message not found at offset %llu", f->path,
		   (unsigned long long)offset);
	return NULL;
}

int store_append(struct store_folder *f, const char *data, size_t len,
		 uint32_t flags, const char *keywords, int64_t internal_date,
		 uint32_t *uid_r, const char **error_r)
{
	struct state_txn *txn = NULL;
	char *location = NULL, *key = NULL, *env = NULL, *tkey = NULL, *bs = NULL;
	char *kw = store_keywords_apply("", STORE_FLAGS_SET, keywords);
	const char *err;
	uint64_t offset;
	uint32_t uid;
	bool keep_stamps = false;
	struct maildir_tmp tmp = { 0 };
	int ret = -1;

	if (store_check_writable(f->store, error_r) < 0) {
		free(kw);
		return -1;
	}
	if (internal_date <= 0)
		internal_date = (int64_t)time(NULL);
	/* The parsing, and the file written and synced in tmp/, come before
	 * the writer lock: other writers need not wait for them.  Until it is
	 * renamed into new/ or cur/ no reader sees the file. */
	env = store_envelope_of(data, len);
	bs = store_bodystructure_of(data, len);
	tkey = store_threadkey_of(data, len > STORE_HEADER_MAX ? STORE_HEADER_MAX : len);
	if (f->kind == STORE_MAILDIR &&
	    maildir_write_tmp(f->path, data, len, internal_date, &tmp, &err) < 0) {
		store_fail_errno(f->store, error_r, "%s", err);
		goto out;
	}
	if (state_begin(f->state, &txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto out;
	}
	crash_point("append:begin");
	store_stamps_before(f, txn, &keep_stamps);
	if (f->kind == STORE_MAILDIR) {
		/* The directory is synced after the commit, outside the
		 * lock; the answer waits for it. */
		if (maildir_publish_tmp(f->path, &tmp, data, len, NOT_RECENT(flags), NULL,
					internal_date, false, &location, &err) < 0) {
			store_fail_errno(f->store, error_r, "%s", err);
			goto out;
		}
		key = store_location_key(location);
		flags = store_location_flags(location, NULL);
	} else {
		if (mbox_lock(f->mbox, true, &err) < 0) {
			store_fail_code(f->store, STORE_ERR_LOCKED, error_r, "%s", err);
			goto out;
		}
		flags |= STORE_RECENT;
		if (mbox_append(f->mbox, data, len, NULL, internal_date, flags, &offset,
				&err) < 0) {
			store_fail_errno(f->store, error_r, "%s", err);
			goto out;
		}
		if ((key = mbox_key_at(f, offset, error_r)) == NULL)
			goto out;
	}
	crash_point("append:after-deliver");
	char last = '\0';
	/* An mbox message's Status header changes with its flags: its CRLF
	 * size is not kept. */
	struct state_rec rec = {
		.flags = flags, .size = len,
		.vsize = location ? store_crlf_size(data, len, &last) : 0,
		.internal_date = internal_date, .key = key,
		.location = location, .keywords = kw, .envelope = env, .threadkey = tkey,
		.bodystructure = bs,
	};
	if (state_txn_add(txn, &rec, &uid, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto undo;
	}
	crash_point("append:after-state");
	if (store_stamps_after(f, txn, keep_stamps, error_r) < 0)
		goto undo;
	if (state_commit(&txn, &err) < 0) {
		store_fail(f->store, error_r, "%s", err);
		goto undo;
	}
	crash_point("append:after-commit");
	if (location && maildir_sync_location(f->path, location, &err) < 0) {
		store_fail_errno(f->store, error_r, "%s", err);
		goto undo;
	}
	if (location)
		store_index_add(f, location, flags, kw);
	store_index_commit(f->store);
	*uid_r = uid;
	ret = 0;
	goto out;
undo:
	/* Not reported stored, so not kept (a retry would duplicate it). */
	if (location) {
		const char *e2;

		if (maildir_remove(f->path, location, &e2) < 0)
			log_warning("%s", e2);
	}
out:
	state_abort(&txn);
	maildir_tmp_discard(&tmp);
	if (f->mbox)
		mbox_unlock(f->mbox);
	free(location);
	free(key);
	free(env);
	free(bs);
	free(tkey);
	free(kw);
	return ret;
}

