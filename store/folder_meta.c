/* Subscriptions and special-use attributes: small files in the state
 * directory (see folder_meta.h for the formats). */
#include "store/folder_meta.h"

#include "lib/atomic.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Far above any real list; a bigger file is not ours. */
#define META_FILE_MAX (4 * 1024 * 1024)

static const char *const meta_files[] = { "subscriptions", "special-use" };

void store_meta_free(struct store_meta_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].value);
	}
	free(list);
}

static void add_entry(struct store_meta_entry **list, size_t *n, const char *name,
		      size_t name_len, const char *value)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[*n].name = xstrndup(name, name_len);
	(*list)[*n].value = xstrdup(value);
	(*n)++;
}

/* One line of the file into the list; malformed lines are skipped. */
static void parse_line(enum store_meta which, char *line, struct store_meta_entry **list, size_t *n)
{
	if (which == STORE_META_SUBSCRIPTIONS) {
		for (char *c = line; *c; c++)
			if (*c == '\t')
				*c = '/';
		add_entry(list, n, line, strlen(line), "");
		return;
	}
	char *sp = strchr(line, ' ');
	if (line[0] != '\\' || sp == NULL || sp[1] == '\0')
		return;
	*sp = '\0';
	add_entry(list, n, sp + 1, strlen(sp + 1), line);
}

/* Until a client subscribes or unsubscribes, every folder counts as
 * subscribed (what clients that list only subscribed folders need to
 * show anything on a new store); the first change writes them out. */
static int every_folder(struct store *store, struct store_meta_entry **list_r, size_t *n_r,
			const char **error_r)
{
	struct store_folder_info *folders;
	size_t count;

	if (store_folder_list(store, &folders, &count, error_r) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		add_entry(list_r, n_r, folders[i].name, strlen(folders[i].name), "");
	store_folder_list_free(folders, count);
	return 0;
}

static int read_file(struct store *store, enum store_meta which, const char *path,
		     struct store_meta_entry **list_r, size_t *n_r, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	char *line, *next;

	*list_r = NULL;
	*n_r = 0;
	if (sbuf_read_file(&sb, path, META_FILE_MAX) < 0) {
		sbuf_release(&sb);
		if (errno != ENOENT)
			return store_fail(store, error_r, "%s: %s", path, strerror(errno));
		return which == STORE_META_SUBSCRIPTIONS ? every_folder(store, list_r, n_r, error_r) : 0;
	}
	line = sb.buf;
	/* Dovecot's header: "V\t2" and an empty line. */
	if (which == STORE_META_SUBSCRIPTIONS && strncmp(line, "V\t", 2) == 0) {
		next = strchr(line, '\n');
		line = next ? next + 1 : line + strlen(line);
	}
	for (; *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line)
			parse_line(which, line, list_r, n_r);
	}
	sbuf_release(&sb);
	return 0;
}

int store_meta_read(struct store *store, enum store_meta which,
		    struct store_meta_entry **list_r, size_t *n_r, const char **error_r)
{
	char *path = path_join(store->state_dir, meta_files[which]);
	int ret = read_file(store, which, path, list_r, n_r, error_r);

	free(path);
	return ret;
}

static int write_file(struct store *store, enum store_meta which, const char *path,
		      const struct store_meta_entry *list, size_t n, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	const char *err;
	int ret = 0;

	if (which == STORE_META_SUBSCRIPTIONS)
		sbuf_addstr(&sb, "V\t2\n\n");
	for (size_t i = 0; i < n; i++) {
		if (which == STORE_META_SUBSCRIPTIONS) {
			size_t at = sb.len;

			sbuf_addf(&sb, "%s\n", list[i].name);
			for (size_t c = at; c < sb.len; c++)
				if (sb.buf[c] == '/')
					sb.buf[c] = '\t';
		} else {
			sbuf_addf(&sb, "%s %s\n", list[i].value, list[i].name);
		}
	}
	if (atomic_write_file(path, sb.buf, sb.len, 0600, &err) < 0)
		ret = store_fail(store, error_r, "%s: %s: %s", path, err, strerror(errno));
	sbuf_release(&sb);
	return ret;
}

/* Whether entry name is folder or (subtree) one of its subfolders. */
static bool under(const char *name, const char *folder, bool subtree)
{
	size_t len = strlen(folder);

	return strncmp(name, folder, len) == 0 &&
	       (name[len] == '\0' || (subtree && name[len] == '/'));
}

/* Under the lock: read, then for each entry under from (or only from when
 * !subtree) rename it to `to`-prefixed or drop it (to NULL); then, when
 * value is set, add or replace name=value.  Writes only when changed. */
static int update(struct store *store, enum store_meta which, const char *from, bool subtree,
		  const char *to, const char *value, const char **error_r)
{
	char *path = NULL, *lock = NULL;
	struct store_meta_entry *list = NULL;
	size_t n = 0, w = 0;
	bool changed = false;
	int fd = -1, ret = -1;

	if (store_check_writable(store, error_r) < 0)
		return -1;
	path = path_join(store->state_dir, meta_files[which]);
	lock = xasprintf("%s.lock", path);
	/* The state dir appears with the first folder state; its parent
	 * (the root, or where state_dir points) exists already. */
	(void)mkdir(store->state_dir, 0700);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		store_fail(store, error_r, "%s: %s", lock, strerror(errno));
		goto out;
	}
	if (read_file(store, which, path, &list, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct store_meta_entry e = list[i];

		if (under(e.name, from, subtree) && value != NULL) {
			changed |= strcmp(e.value, value) != 0;
			free(e.value);
			e.value = xstrdup(value);
			value = NULL;	/* set: done */
		} else if (under(e.name, from, subtree) && to != NULL) {
			char *renamed = xasprintf("%s%s", to, e.name + strlen(from));

			free(e.name);
			e.name = renamed;
			changed = true;
		} else if (under(e.name, from, subtree)) {
			free(e.name);
			free(e.value);
			changed = true;
			continue;
		}
		list[w++] = e;
	}
	n = w;
	if (value != NULL) {
		list = xreallocarray(list, n + 1, sizeof(*list));
		list[n].name = xstrdup(from);
		list[n++].value = xstrdup(value);
		changed = true;
	}
	ret = changed ? write_file(store, which, path, list, n, error_r) : 0;
out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	store_meta_free(list, n);
	free(lock);
	free(path);
	return ret;
}

int store_meta_set(struct store *store, enum store_meta which, const char *name,
		   const char *value, const char **error_r)
{
	return update(store, which, name, false, NULL, value, error_r);
}

int store_meta_rename(struct store *store, enum store_meta which, const char *from,
		      const char *to, const char **error_r)
{
	return update(store, which, from, true, to, NULL, error_r);
}
