/* The queue's files: IDs, durable writes, locks, listing, removal and the
 * collection of orphans.  The on-disk contract is in queue.h. */
#include "localmta/queue-private.h"
#include "lib/atomic.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static char **split_list(const char *s)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	while (s != NULL && *s != '\0') {
		size_t len;

		s += strspn(s, " \t,");
		len = strcspn(s, " \t,");
		if (len == 0)
			break;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n] = xstrndup(s, len);
		for (char *p = v[n]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		v[++n] = NULL;
		s += len;
	}
	return v;
}

static void free_list(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int queue_open(const struct queue_settings *set, struct queue **q_r, const char **error_r)
{
	struct queue *q;

	if (mkdir(set->dir, 0700) < 0 && errno != EEXIST) {
		*error_r = strerror(errno);
		return -1;
	}
	q = xcalloc(1, sizeof(*q));
	q->dir = xstrdup(set->dir);
	q->retry_min = set->retry_min > 0 ? set->retry_min : 300;
	q->retry_max = set->retry_max >= q->retry_min ? set->retry_max : q->retry_min;
	q->lifetime = set->lifetime > 0 ? set->lifetime : 5 * 86400;
	q->local_domains = split_list(set->local_domains);
	q->local_addresses = split_list(set->local_addresses);
	if (set->owner != NULL && *set->owner != '\0') {
		char **o = split_list(set->owner);

		q->owner = o[0] ? xstrdup(o[0]) : NULL;
		free_list(o);
	}
	q->domain = xstrdup(set->domain && *set->domain ? set->domain : "localhost.localdomain");
	sbuf_init(&q->error, 0);
	*q_r = q;
	return 0;
}

void queue_free(struct queue **qp)
{
	struct queue *q = *qp;

	if (q == NULL)
		return;
	free(q->dir);
	free_list(q->local_domains);
	free_list(q->local_addresses);
	free(q->owner);
	free(q->domain);
	sbuf_release(&q->error);
	free(q);
	*qp = NULL;
}

const char *queue_dir(const struct queue *q)
{
	return q->dir;
}

void queue_new_id(int64_t now, char buf[QUEUE_ID_LEN + 1])
{
	unsigned char r[6];

	/* getrandom() without flags only blocks before the pool is seeded at
	 * boot; a failure falls back to pid and time bits, still unique enough
	 * together with O_EXCL creation of the files. */
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t x = ((uint64_t)getpid() << 24) ^ (uint64_t)now ^ (uint64_t)(uintptr_t)&x;

		memcpy(r, &x, sizeof(r));
	}
	snprintf(buf, QUEUE_ID_LEN + 1, "%010lld.%02x%02x%02x%02x%02x%02x",
		 (long long)((now < 0 ? 0 : now) % 10000000000LL),
		 r[0], r[1], r[2], r[3], r[4], r[5]);
}

bool queue_id_valid(const char *id)
{
	size_t i;

	if (strlen(id) != QUEUE_ID_LEN)
		return false;
	for (i = 0; i < 10; i++)
		if (!isdigit((unsigned char)id[i]))
			return false;
	if (id[i++] != '.')
		return false;
	for (; i < QUEUE_ID_LEN; i++)
		if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
			return false;
	return true;
}

bool queue_addr_is_local(const struct queue *q, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL)
		return true;
	/* Mail to localhost never leaves the machine (Postfix's mydestination
	 * default says the same); loft's own welcome message comes from there. */
	if (strcasecmp(at + 1, "localhost") == 0 || strcasecmp(at + 1, "localhost.localdomain") == 0)
		return true;
	for (size_t i = 0; q->local_domains[i] != NULL; i++)
		if (strcasecmp(at + 1, q->local_domains[i]) == 0)
			return true;
	for (size_t i = 0; q->local_addresses[i] != NULL; i++)
		if (strcasecmp(addr, q->local_addresses[i]) == 0)
			return true;
	return false;
}

char *queue_path(const struct queue *q, const char *id, const char *ext)
{
	return xasprintf("%s/%s.%s", q->dir, id, ext);
}

int queue_lock(const struct queue *q, const char *id, bool wait)
{
	char *path = queue_path(q, id, "msg");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int saved;

	free(path);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* tmp -> fsync -> rename -> directory fsync, with a crash point between
 * each step so tests can stop the process there. */
static int write_durable(struct queue *q, const char *path, const void *data, size_t len,
			 const char *crash_prefix, const char **error_r)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	char point[64];
	int fd, saved;
	const char *step;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		step = "create";
		goto fail;
	}
	if (write_all(fd, data, len) < 0) {
		step = "write";
		goto fail;
	}
	snprintf(point, sizeof(point), "%s.written", crash_prefix);
	crash_point(point);
	if (fsync(fd) < 0) {
		step = "fsync";
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		step = "close";
		goto fail;
	}
	fd = -1;
	snprintf(point, sizeof(point), "%s.synced", crash_prefix);
	crash_point(point);
	if (rename(tmp, path) < 0) {
		step = "rename";
		goto fail;
	}
	snprintf(point, sizeof(point), "%s.renamed", crash_prefix);
	crash_point(point);
	if (fsync_parent_dir(path) < 0) {
		/* The file is in place but not known durable: report failure,
		 * and let the caller decide what to undo. */
		saved = errno;
		free(tmp);
		sbuf_reset(&q->error);
		sbuf_addf(&q->error, "fsync %s: %s", q->dir, strerror(saved));
		*error_r = q->error.buf;
		errno = saved;
		return -1;
	}
	free(tmp);
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	sbuf_reset(&q->error);
	sbuf_addf(&q->error, "%s %s: %s", step, path, strerror(saved));
	*error_r = q->error.buf;
	errno = saved;
	return -1;
}

int queue_env_write(struct queue *q, const char *id, const struct queue_env *env,
		    const char *crash_prefix, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	char *path = queue_path(q, id, "env");
	int ret;

	queue_env_format(env, &sb);
	ret = write_durable(q, path, sb.buf, sb.len, crash_prefix, error_r);
	free(path);
	sbuf_release(&sb);
	return ret;
}

static int add_entry(struct queue *q, const char *id, const char *account, const char *hold,
		     const char *sender, const char *const *rcpts, size_t n, const char *data,
		     size_t len, int64_t now, const char **error_r);

int queue_add(struct queue *q, const char *id, const char *sender, const char *const *rcpts,
	      size_t n, const char *data, size_t len, int64_t now, const char **error_r)
{
	return add_entry(q, id, NULL, NULL, sender, rcpts, n, data, len, now, error_r);
}

int queue_add_account(struct queue *q, const char *id, const char *account, const char *sender,
		      const char *const *rcpts, size_t n, const char *data, size_t len,
		      int64_t now, const char **error_r)
{
	return add_entry(q, id, account, NULL, sender, rcpts, n, data, len, now, error_r);
}

int queue_add_held(struct queue *q, const char *id, const char *hold, const char *sender,
		   const char *const *rcpts, size_t n, const char *data, size_t len,
		   int64_t now, const char **error_r)
{
	return add_entry(q, id, NULL, hold, sender, rcpts, n, data, len, now, error_r);
}

static int add_entry(struct queue *q, const char *id, const char *account, const char *hold,
		     const char *sender, const char *const *rcpts, size_t n, const char *data,
		     size_t len, int64_t now, const char **error_r)
{
	char *msg = queue_path(q, id, "msg");
	struct queue_env *env = NULL;
	struct stat st;
	int saved;

	if (!queue_id_valid(id) || n == 0 || n > QUEUE_RCPTS_MAX) {
		*error_r = "bad queue ID or recipient count";
		errno = EINVAL;
		free(msg);
		return -1;
	}
	/* The ID has 48 random bits; a clash is a bug, never overwritten. */
	if (lstat(msg, &st) == 0) {
		*error_r = "queue ID already in use";
		errno = EEXIST;
		free(msg);
		return -1;
	}
	if (write_durable(q, msg, data, len, "queue.msg", error_r) < 0)
		goto fail;
	env = queue_env_new(sender, now, rcpts, n);
	env->account = account != NULL ? xstrdup(account) : NULL;
	env->hold = hold != NULL ? xstrdup(hold) : NULL;
	if (queue_env_write(q, id, env, "queue.env", error_r) < 0)
		goto fail;
	queue_env_free(&env);
	free(msg);
	crash_point("queue.added");
	return 0;
fail:
	/* Nothing half-queued: the envelope goes first, then the message. */
	saved = errno;
	{
		char *envpath = queue_path(q, id, "env");

		unlink(envpath);
		free(envpath);
	}
	unlink(msg);
	fsync_parent_dir(msg);
	free(msg);
	queue_env_free(&env);
	errno = saved;
	return -1;
}

/* The entries held under hold: counted, or released (hold cleared under
 * each entry's lock).  How many, or -1. */
static int held_entries(struct queue *q, const char *hold, bool release, const char **error_r)
{
	char **ids = NULL;
	int count = 0;

	if (queue_list(q, &ids, NULL, error_r) < 0)
		return -1;
	for (size_t i = 0; ids[i] != NULL && count >= 0; i++) {
		struct queue_env *env = NULL;
		const char *err;
		int fd;

		/* A snapshot first: only held entries are locked. */
		if (queue_read(q, ids[i], &env, NULL, NULL, &err) < 0 || env->hold == NULL ||
		    strcmp(env->hold, hold) != 0) {
			queue_env_free(&env);
			continue;
		}
		queue_env_free(&env);
		if (!release) {
			count++;
			continue;
		}
		fd = queue_lock(q, ids[i], true);
		if (fd < 0)
			continue;	/* removed meanwhile (queue rm) */
		if (queue_read_locked(q, ids[i], &env, NULL, &err) == 0 && env->hold != NULL &&
		    strcmp(env->hold, hold) == 0) {
			free(env->hold);
			env->hold = NULL;
			if (queue_env_write(q, ids[i], env, "queue.release", error_r) < 0)
				count = -1;
			else
				count++;
		}
		queue_env_free(&env);
		close(fd);
	}
	queue_ids_free(&ids);
	return count;
}

int queue_held(struct queue *q, const char *hold, const char **error_r)
{
	return held_entries(q, hold, false, error_r);
}

int queue_release(struct queue *q, const char *hold, const char **error_r)
{
	return held_entries(q, hold, true, error_r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int queue_list(struct queue *q, char ***ids_r, size_t *n_r, const char **error_r)
{
	DIR *d = opendir(q->dir);
	struct dirent *de;
	char **ids = xcalloc(1, sizeof(*ids));
	size_t n = 0;

	if (d == NULL) {
		free(ids);
		sbuf_reset(&q->error);
		sbuf_addf(&q->error, "%s: %s", q->dir, strerror(errno));
		*error_r = q->error.buf;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len != QUEUE_ID_LEN + 4 || strcmp(de->d_name + QUEUE_ID_LEN, ".env") != 0)
			continue;
		char *id = xstrndup(de->d_name, QUEUE_ID_LEN);

		if (!queue_id_valid(id)) {
			free(id);
			continue;
		}
		ids = xreallocarray(ids, n + 2, sizeof(*ids));
		ids[n++] = id;
		ids[n] = NULL;
	}
	closedir(d);
	qsort(ids, n, sizeof(*ids), cmp_str);
	*ids_r = ids;
	if (n_r != NULL)
		*n_r = n;
	return 0;
}

void queue_ids_free(char ***idsp)
{
	free_list(*idsp);
	*idsp = NULL;
}

static int read_file(const char *path, struct sbuf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[65536];
	ssize_t r;
	int saved;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (max && out->len + (size_t)r > max) {
			errno = EFBIG;
			goto fail;
		}
		sbuf_add(out, buf, (size_t)r);
	}
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int queue_read_locked(struct queue *q, const char *id, struct queue_env **env_r,
		      struct sbuf *msg, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	char *path = queue_path(q, id, "env");
	const char *perr;
	int saved;

	if (read_file(path, &sb, QUEUE_ENV_MAX + 1) < 0)
		goto fail_errno;
	if (queue_env_parse(sb.buf, sb.len, env_r, &perr) < 0) {
		sbuf_reset(&q->error);
		sbuf_addf(&q->error, "%s: %s", path, perr);
		*error_r = q->error.buf;
		errno = EINVAL;
		goto fail;
	}
	if (msg != NULL) {
		free(path);
		path = queue_path(q, id, "msg");
		if (read_file(path, msg, 0) < 0) {
			queue_env_free(env_r);
			goto fail_errno;
		}
	}
	sbuf_release(&sb);
	free(path);
	return 0;
fail_errno:
	sbuf_reset(&q->error);
	sbuf_addf(&q->error, "%s: %s", path, strerror(errno));
	*error_r = q->error.buf;
fail:
	saved = errno;
	sbuf_release(&sb);
	free(path);
	errno = saved;
	return -1;
}

int queue_read(struct queue *q, const char *id, struct queue_env **env_r, uint64_t *size_r,
	       struct sbuf *msg, const char **error_r)
{
	if (!queue_id_valid(id)) {
		*error_r = "not a queue ID";
		errno = ENOENT;
		return -1;
	}
	if (size_r != NULL) {
		char *path = queue_path(q, id, "msg");
		struct stat st;
		int ret = stat(path, &st);

		free(path);
		if (ret < 0) {
			*error_r = "no such queue entry";
			return -1;
		}
		*size_r = (uint64_t)st.st_size;
	}
	return queue_read_locked(q, id, env_r, msg, error_r);
}

int queue_unlink_entry(struct queue *q, const char *id, const char **error_r)
{
	char *env = queue_path(q, id, "env");
	char *msg = queue_path(q, id, "msg");
	int ret = 0;

	if (unlink(env) < 0 && errno != ENOENT) {
		sbuf_reset(&q->error);
		sbuf_addf(&q->error, "unlink %s: %s", env, strerror(errno));
		*error_r = q->error.buf;
		ret = -1;
	} else {
		/* The entry is gone once the unlink of ID.env is durable; a
		 * crash before the message goes leaves an orphan for collection. */
		fsync_parent_dir(env);
		crash_point("queue.env-unlinked");
		unlink(msg);
	}
	free(env);
	free(msg);
	return ret;
}

int queue_remove(struct queue *q, const char *id, const char **error_r)
{
	char *env;
	struct stat st;
	int fd, ret;

	if (!queue_id_valid(id)) {
		*error_r = "not a queue ID";
		errno = ENOENT;
		return -1;
	}
	fd = queue_lock(q, id, true);
	if (fd < 0) {
		*error_r = errno == ENOENT ? "no such queue entry" : strerror(errno);
		return -1;
	}
	env = queue_path(q, id, "env");
	if (stat(env, &st) < 0) {
		free(env);
		close(fd);
		*error_r = "no such queue entry";
		errno = ENOENT;
		return -1;
	}
	free(env);
	ret = queue_unlink_entry(q, id, error_r);
	close(fd);
	return ret;
}

void queue_collect_orphans(struct queue *q, int64_t now)
{
	DIR *d = opendir(q->dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		struct stat st;
		char *path;

		if (name[0] == '.')
			continue;
		bool is_msg = len == QUEUE_ID_LEN + 4 && strcmp(name + QUEUE_ID_LEN, ".msg") == 0;
		bool is_tmp = strstr(name, ".tmp.") != NULL;

		if (!is_msg && !is_tmp)
			continue;
		path = xasprintf("%s/%s", q->dir, name);
		if (lstat(path, &st) < 0 || now - (int64_t)st.st_mtime < QUEUE_ORPHAN_AGE) {
			free(path);
			continue;
		}
		if (is_tmp) {
			log_info("queue: removing stale temporary file %s", path);
			unlink(path);
		} else {
			/* An old message without envelope: a sendmail that died
			 * before the envelope was written.  Under the lock, so a
			 * `queue rm` in progress is not raced. */
			char *id = xstrndup(name, QUEUE_ID_LEN);
			char *env = queue_path(q, id, "env");
			int fd = queue_id_valid(id) ? queue_lock(q, id, false) : -1;

			if (fd >= 0 && lstat(env, &st) < 0 && errno == ENOENT) {
				log_info("queue: removing orphan message %s", path);
				unlink(path);
			}
			if (fd >= 0)
				close(fd);
			free(env);
			free(id);
		}
		free(path);
	}
	closedir(d);
}
