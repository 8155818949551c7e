/* maildir scanning: listing new/ and cur/ fast, finding a message by key. */
#include "store/maildir.h"
#include "store/maildir-private.h"

#include "lib/crash.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names are packed into 1 MiB blocks that never move, so entries can point
 * into them at once: no per-file allocation and no fix-up pass. */
#define NAME_BLOCK_SIZE (1u << 20)
/* One getdents64 call reads a whole 100,000-file directory in ~6 calls. */
#define DENTS_BUF_SIZE (1u << 20)
#define SCAN_ATTEMPTS 3

struct scan_ctx {
	struct maildir_scan *scan;
	const char *path;
	unsigned flags;
	size_t entries_alloc;
	size_t problems_alloc;
	size_t blocks_alloc;
	char *block;
	size_t block_used;
	char *dents;
};

static char *scan_alloc(struct scan_ctx *c, size_t n)
{
	struct maildir_scan *s = c->scan;
	char *p;

	if (c->block == NULL || NAME_BLOCK_SIZE - c->block_used < n) {
		if (s->block_count == c->blocks_alloc) {
			c->blocks_alloc = c->blocks_alloc ? c->blocks_alloc * 2 : 8;
			s->blocks = xreallocarray(s->blocks, c->blocks_alloc,
						  sizeof(*s->blocks));
		}
		c->block = xmalloc(NAME_BLOCK_SIZE);
		s->blocks[s->block_count++] = c->block;
		c->block_used = 0;
	}
	p = c->block + c->block_used;
	c->block_used += n;
	return p;
}

static void scan_problem(struct scan_ctx *c, const char *sub, const char *name,
			 const char *why)
{
	struct maildir_scan *s = c->scan;

	if (s->problem_count == c->problems_alloc) {
		c->problems_alloc = c->problems_alloc ? c->problems_alloc * 2 : 8;
		s->problems = xreallocarray(s->problems, c->problems_alloc,
					    sizeof(*s->problems));
	}
	s->problems[s->problem_count++] =
		xasprintf("%s/%s/%s: %s", c->path, sub, name, why);
}

static const char *type_name(mode_t mode)
{
	if (S_ISDIR(mode)) return "directory";
	if (S_ISFIFO(mode)) return "fifo";
	if (S_ISSOCK(mode)) return "socket";
	if (S_ISCHR(mode) || S_ISBLK(mode)) return "device";
	return "special file";
}

static const char *dtype_name(unsigned char type)
{
	switch (type) {
	case DT_DIR: return "directory";
	case DT_FIFO: return "fifo";
	case DT_SOCK: return "socket";
	default: return "device";
	}
}

static void scan_one(struct scan_ctx *c, int dfd, const char *sub, bool is_new,
		     const char *name, unsigned char type)
{
	struct maildir_scan *s = c->scan;
	struct maildir_entry *e;
	struct maildir_name mn;
	struct stat st;
	bool statted = false;
	size_t nlen;
	char *p;

	if (name[0] == '.' || maildir_parse_name(name, &mn) < 0)
		return;
	if (type != DT_REG && type != DT_UNKNOWN && type != DT_LNK) {
		char why[64];

		snprintf(why, sizeof(why), "not a regular file (%s)", dtype_name(type));
		scan_problem(c, sub, name, why);
		return;
	}
	if ((c->flags & MAILDIR_SCAN_STAT) || mn.size < 0 || mn.time < 0 ||
	    type != DT_REG) {
		if (fstatat(dfd, name, &st, 0) < 0) {
			int err = errno;

			/* Gone since readdir: renamed or removed by another
			 * program, it shows up under its new name. */
			if (err == ENOENT &&
			    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return;
			scan_problem(c, sub, name, err == ENOENT ?
				     "dangling symbolic link" : strerror(err));
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			char why[64];

			snprintf(why, sizeof(why), "not a regular file (%s)",
				 type_name(st.st_mode));
			scan_problem(c, sub, name, why);
			return;
		}
		statted = true;
	}

	if (s->count == c->entries_alloc) {
		c->entries_alloc = c->entries_alloc ? c->entries_alloc * 2 : 1024;
		s->entries = xreallocarray(s->entries, c->entries_alloc,
					   sizeof(*s->entries));
	}
	e = &s->entries[s->count++];
	nlen = strlen(name);
	p = scan_alloc(c, 4 + nlen + 1 + mn.key_len + 1);
	memcpy(p, sub, 3);
	p[3] = '/';
	memcpy(p + 4, name, nlen + 1);
	e->location = p;
	p += 4 + nlen + 1;
	memcpy(p, name, mn.key_len);
	p[mn.key_len] = '\0';
	e->key = p;
	if (mn.extra[0] != '\0') {
		size_t xlen = strlen(mn.extra);

		p = scan_alloc(c, xlen + 1);
		memcpy(p, mn.extra, xlen + 1);
		e->extra = p;
	} else {
		e->extra = "";
	}
	e->flags = mn.flags | (is_new ? STORE_RECENT : 0);
	e->source = 0;
	if (statted) {
		e->size = (uint64_t)st.st_size;
		e->date = (int64_t)st.st_mtime;
	} else {
		e->size = (uint64_t)mn.size;
		e->date = mn.time;
		e->source = MAILDIR_SIZE_FROM_NAME | MAILDIR_DATE_FROM_NAME;
	}
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Reads one of new/ and cur/.  When the directory's mtime or ctime moved
 * while it was read, a rename may have been missed (readdir does not
 * promise to return entries renamed during the walk): read it again. */
static int scan_dir(struct scan_ctx *c, const char *sub, struct stat *stat_r,
		    const char **error_r)
{
	struct maildir_scan *s = c->scan;
	char *dir = path_join(c->path, sub);
	bool is_new = strcmp(sub, "new") == 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		maildir_fail(error_r, errno, "%s", dir);
		free(dir);
		return -1;
	}
	for (int attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
		struct stat before, after;
		size_t start = s->count, pstart = s->problem_count;

		if (fstat(fd, &before) < 0 || lseek(fd, 0, SEEK_SET) < 0)
			goto fail;
		for (;;) {
			ssize_t n = getdents64(fd, c->dents, DENTS_BUF_SIZE);

			if (n < 0)
				goto fail;
			if (n == 0)
				break;
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(c->dents + off);

				scan_one(c, fd, sub, is_new, d->d_name, d->d_type);
				off += d->d_reclen;
			}
		}
		if (fstat(fd, &after) < 0)
			goto fail;
		*stat_r = before;
		if (same_time(&before.st_mtim, &after.st_mtim) &&
		    same_time(&before.st_ctim, &after.st_ctim))
			break;
		if (attempt + 1 < SCAN_ATTEMPTS) {
			s->count = start;
			while (s->problem_count > pstart)
				free(s->problems[--s->problem_count]);
		}
	}
	close(fd);
	free(dir);
	return 0;
fail:
	maildir_fail(error_r, errno, "%s", dir);
	close(fd);
	free(dir);
	return -1;
}

static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* Whether loc (relative to the folder) names a file now. */
static bool still_listed(const struct scan_ctx *c, const char *loc)
{
	char *p = path_join(c->path, loc);
	struct stat st;
	bool yes = lstat(p, &st) == 0;

	free(p);
	return yes;
}

/* Of two entries with one key, the one to keep: cur/ over new/ (a message
 * moved there after new/ was read), else the name that still exists (the
 * other is the old name of a file renamed while its directory was read
 * again and again), else the first.  Both there: two files with one key
 * (a copy, or a hard link half-way through another program's rename);
 * the second is skipped, as a problem. */
static size_t keep_of(struct scan_ctx *c, size_t a, size_t b)
{
	const struct maildir_entry *ea = &c->scan->entries[a], *eb = &c->scan->entries[b];
	bool a_new = ea->location[0] == 'n', b_new = eb->location[0] == 'n';

	if (a_new != b_new)
		return a_new ? b : a;
	if (!still_listed(c, ea->location))
		return b;
	if (still_listed(c, eb->location)) {
		char why[MAILDIR_NAME_SIZE + 32];

		snprintf(why, sizeof(why), "same key as %s, skipped", ea->location);
		scan_problem(c, b_new ? "new" : "cur", eb->location + 4, why);
	}
	return a;
}

/* One entry per key: a key listed twice would make the state refuse the
 * second ("key already present") and the folder fail to open.  Costs a
 * hash of every key (about 10 ms for 100,000 files here). */
static void drop_duplicates(struct scan_ctx *c)
{
	struct maildir_scan *s = c->scan;
	size_t size = 16, mask, out = 0;
	uint32_t *slots;
	bool *drop = NULL;

	while (size < s->count * 2)
		size *= 2;
	mask = size - 1;
	slots = xcalloc(size, sizeof(*slots));	/* index + 1, 0 = empty */
	for (size_t i = 0; i < s->count; i++) {
		size_t h = key_hash(s->entries[i].key) & mask;

		for (; slots[h] != 0; h = (h + 1) & mask)
			if (strcmp(s->entries[slots[h] - 1].key, s->entries[i].key) == 0)
				break;
		if (slots[h] == 0) {
			slots[h] = (uint32_t)i + 1;
			continue;
		}
		size_t k = slots[h] - 1, keep = keep_of(c, k, i);

		if (drop == NULL)
			drop = xcalloc(s->count, sizeof(*drop));
		drop[keep == k ? i : k] = true;
		slots[h] = (uint32_t)keep + 1;
	}
	if (drop) {
		for (size_t i = 0; i < s->count; i++)
			if (!drop[i])
				s->entries[out++] = s->entries[i];
		s->count = out;
	}
	free(slots);
	free(drop);
}

int maildir_scan(const char *path, unsigned flags, struct maildir_scan **scan_r,
		 const char **error_r)
{
	struct scan_ctx c = { .path = path, .flags = flags };
	struct stat new_st, cur_st;

	c.scan = xcalloc(1, sizeof(*c.scan));
	c.dents = xmalloc(DENTS_BUF_SIZE);
	/* new/ first: a message moving to cur/ meanwhile is then seen in
	 * cur/ at the latest, never missed. */
	if (scan_dir(&c, "new", &new_st, error_r) < 0)
		goto fail;
	if (!(flags & MAILDIR_SCAN_NEW_ONLY) && scan_dir(&c, "cur", &cur_st, error_r) < 0)
		goto fail;
	crash_point("maildir:scanned");
	drop_duplicates(&c);
	free(c.dents);
	*scan_r = c.scan;
	return 0;
fail:
	free(c.dents);
	maildir_scan_free(&c.scan);
	return -1;
}

void maildir_scan_free(struct maildir_scan **scanp)
{
	struct maildir_scan *s = *scanp;
	int saved = errno;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->problem_count; i++)
		free(s->problems[i]);
	for (size_t i = 0; i < s->block_count; i++)
		free(s->blocks[i]);
	free(s->problems);
	free(s->blocks);
	free(s->entries);
	free(s);
	*scanp = NULL;
	errno = saved;
}

void maildir_scan_drop_entries(struct maildir_scan *scan)
{
	free(scan->entries);
	scan->entries = NULL;
	scan->count = 0;
}

/* ---- finding a message again ---- */

/* 1 and *name_r (caller frees) when sub/ holds a file with this key. */
static int find_in_dir(const char *path, const char *sub, const char *key,
		       char **name_r, const char **error_r)
{
	char *dir = path_join(path, sub);
	size_t klen = strlen(key);
	DIR *d = opendir(dir);
	int ret = 0;

	if (d == NULL) {
		maildir_fail(error_r, errno, "%s", dir);
		free(dir);
		return -1;
	}
	for (int attempt = 0; attempt < SCAN_ATTEMPTS && ret == 0; attempt++) {
		struct stat before, after;
		struct dirent *de;

		if (fstat(dirfd(d), &before) < 0)
			break;
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			struct maildir_name mn;

			/* Cheap prefix test first: this runs over every
			 * name in a big folder. */
			if (strncmp(de->d_name, key, klen) != 0 ||
			    maildir_parse_name(de->d_name, &mn) < 0 ||
			    mn.key_len != klen)
				continue;
			*name_r = xasprintf("%s/%s", sub, de->d_name);
			ret = 1;
			break;
		}
		if (ret == 1 || fstat(dirfd(d), &after) < 0 ||
		    (same_time(&before.st_mtim, &after.st_mtim) &&
		     same_time(&before.st_ctim, &after.st_ctim)))
			break;
	}
	closedir(d);
	free(dir);
	return ret;
}

int maildir_find(const char *path, const char *key, char **location_r,
		 const char **error_r)
{
	int ret;

	*location_r = NULL;
	ret = find_in_dir(path, "new", key, location_r, error_r);
	if (ret == 0)
		ret = find_in_dir(path, "cur", key, location_r, error_r);
	return ret;
}
