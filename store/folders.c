/* folders: listing, creating, renaming and deleting folders under the root.
 *
 * The list is maildir_list()'s maildirs plus the mbox files found under
 * the root (a regular file whose first line starts with "From "), sorted
 * by name with INBOX first, each name once (a folder found both as ".A"
 * and "A/" is listed once, as the plain one). */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/state.h"

#include "lib/log.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct list_ctx {
	struct store_folder_info *list;
	size_t n, alloc;
};

static void list_add(struct list_ctx *c, const char *name, enum store_folder_kind kind,
		     bool maildirpp)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 16;
		c->list = xreallocarray(c->list, c->alloc, sizeof(*c->list));
	}
	c->list[c->n++] = (struct store_folder_info){ xstrdup(name), kind, maildirpp };
}

static int list_maildir_cb(const struct maildir_folder *folder, void *context)
{
	list_add(context, folder->name, STORE_MAILDIR, folder->maildirpp);
	return 0;
}

/* Looks for mbox files below dir (rel: its name relative to the root, ""
 * for the root), skipping dot-entries and maildirs' cur/new/tmp. */
static void find_mboxes(struct list_ctx *c, const char *dir, const char *rel, int depth)
{
	bool is_maildir = maildir_is_maildir(dir);
	struct dirent *de;
	DIR *d;

	if (depth > MAILDIR_LIST_MAX_DEPTH || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (n[0] == '.')
			continue;
		if (is_maildir && (!strcmp(n, "cur") || !strcmp(n, "new") || !strcmp(n, "tmp")))
			continue;
		char *path = path_join(dir, n);
		char *name = rel[0] ? xasprintf("%s/%s", rel, n) : xstrdup(n);
		struct stat st;

		if (de->d_type == DT_DIR ||
		    (de->d_type == DT_UNKNOWN && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)))
			find_mboxes(c, path, name, depth + 1);
		else if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) &&
			 store_is_mbox_file(path))
			list_add(c, name, STORE_MBOX, false);
		free(path);
		free(name);
	}
	closedir(d);
}

static int cmp_info(const void *a, const void *b)
{
	const struct store_folder_info *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return xi ? -1 : 1;
	int c = strcmp(x->name, y->name);

	/* Equal names: the plain layout first, it is the one kept. */
	return c ? c : (int)x->maildirpp - (int)y->maildirpp;
}

int store_folder_list(struct store *store, struct store_folder_info **list_r,
		      size_t *count_r, const char **error_r)
{
	struct list_ctx c = { 0 };
	const char *err;
	size_t out = 0;

	if (maildir_list(store->root, list_maildir_cb, &c, &err) < 0) {
		store_folder_list_free(c.list, c.n);
		return store_fail(store, error_r, "%s", err);
	}
	find_mboxes(&c, store->root, "", 0);
	if (c.n > 1)
		qsort(c.list, c.n, sizeof(*c.list), cmp_info);
	for (size_t i = 0; i < c.n; i++) {
		if (out > 0 && strcmp(c.list[out - 1].name, c.list[i].name) == 0) {
			free(c.list[i].name);
			continue;
		}
		c.list[out++] = c.list[i];
	}
	*list_r = c.list;
	*count_r = out;
	return 0;
}

void store_folder_list_free(struct store_folder_info *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i].name);
	free(list);
}

/* Root-relative names only, for create/rename/delete (which a read-only
 * store refuses here). */
static char *folder_path(struct store *store, const char *name, const char **error_r)
{
	const char *err;
	char *path;

	if (store_check_writable(store, error_r) < 0)
		return NULL;
	if (name[0] == '+')
		name++;
	if ((path = path_join_safe(store->root, name, &err)) == NULL)
		store_fail_code(store, STORE_ERR_BAD_NAME, error_r, "%s: bad folder name: %s", name, err);
	return path;
}

/* True when path is dir or inside it. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* folder_path() of a name a new folder may take (store.h). */
static char *new_folder_path(struct store *store, const char *name, const char **error_r)
{
	const char *err;
	char *path;

	if (name[0] == '+')
		name++;
	if (store_folder_name_check(name, &err) < 0) {
		store_fail_code(store, STORE_ERR_BAD_NAME, error_r, "%s: bad folder name: %s", name, err);
		return NULL;
	}
	if ((path = folder_path(store, name, error_r)) == NULL)
		return NULL;
	/* A state_dir or notmuch_database set to a place under the root. */
	if (path_within(path, store->state_dir) ||
	    (store->notmuch_db && path_within(path, store->notmuch_db))) {
		store_fail_code(store, STORE_ERR_BAD_NAME, error_r, "%s: bad folder name: inside loft's state or the notmuch database",
			   name);
		free(path);
		return NULL;
	}
	return path;
}

int store_folder_create(struct store *store, const char *name, const char **error_r)
{
	char *path = new_folder_path(store, name, error_r);
	const char *err;
	int ret = 0;

	if (path == NULL)
		return -1;
	if (store_is_mbox_file(path) || maildir_is_maildir(path))
		ret = store_fail_code(store, STORE_ERR_EXISTS, error_r, "%s: folder exists", path);
	else if (maildir_create(path, &err) < 0)
		ret = store_fail_errno(store, error_r, "%s", err);
	free(path);
	return ret;
}

/* mkdir -p of path's parent directories. */
static void make_parents(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0700);
			*s = '/';
		}
	}
	free(p);
}

int store_folder_rename(struct store *store, const char *from, const char *to,
			const char **error_r)
{
	char *a = folder_path(store, from, error_r), *b = NULL, *sa = NULL, *sb = NULL;
	struct stat st;
	int ret = -1;

	if (a == NULL || (b = new_folder_path(store, to, error_r)) == NULL)
		goto out;
	/* A plain directory is a name that only holds folders (IMAP's \Noselect
	 * parent): renaming it renames them, as RFC 3501 asks. */
	if (!maildir_is_maildir(a) && !store_is_mbox_file(a) &&
	    !(stat(a, &st) == 0 && S_ISDIR(st.st_mode))) {
		store_fail_code(store, STORE_ERR_NO_FOLDER, error_r, "%s: no such folder", a);
		goto out;
	}
	if (lstat(b, &st) == 0) {
		store_fail_code(store, STORE_ERR_EXISTS, error_r, "%s: folder exists", b);
		goto out;
	}
	if (store_shared_busy(store, a)) {
		store_fail_code(store, STORE_ERR_LOCKED, error_r, "%s: folder is open", a);
		goto out;
	}
	make_parents(b);
	if (rename(a, b) < 0) {
		store_fail_errno(store, error_r, "%s -> %s: %s", a, b, strerror(errno));
		goto out;
	}
	/* The state moves along, so the UIDVALIDITY and UIDs are kept. */
	sa = store_state_dir_for(store, a + strlen(store->root) + 1);
	sb = store_state_dir_for(store, b + strlen(store->root) + 1);
	if (lstat(sa, &st) == 0) {
		make_parents(sb);
		if (rename(sa, sb) < 0)
			log_warning("%s -> %s: %s (the state will be rebuilt)", sa, sb,
				    strerror(errno));
	}
	ret = 0;
out:
	free(a);
	free(b);
	free(sa);
	free(sb);
	return ret;
}

/* Removes every file in dir, then dir (when that leaves it empty). */
static int remove_dir_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = path_join(dir, de->d_name);

		if (unlink(p) < 0 && errno != ENOENT)
			ret = -1;
		free(p);
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

int store_folder_delete(struct store *store, const char *name, const char **error_r)
{
	char *path = folder_path(store, name, error_r), *sd = NULL;
	const char *err;
	int ret = -1;

	if (path == NULL)
		return -1;
	if (store_shared_busy(store, path)) {
		store_fail_code(store, STORE_ERR_LOCKED, error_r, "%s: folder is open", path);
		goto out;
	}
	if (store_is_mbox_file(path)) {
		if (unlink(path) < 0) {
			store_fail_errno(store, error_r, "%s: %s", path, strerror(errno));
			goto out;
		}
	} else if (maildir_is_maildir(path)) {
		static const char *const subs[] = { "new", "cur", "tmp" };

		for (size_t i = 0; i < 3; i++) {
			char *sub = path_join(path, subs[i]);
			int rc = remove_dir_files(sub);

			if (rc < 0)
				store_fail_errno(store, error_r, "%s: %s", sub, strerror(errno));
			free(sub);
			if (rc < 0)
				goto out;
		}
		/* Subfolders (Lists/foo under Lists) stay. */
		(void)rmdir(path);
	} else {
		store_fail_code(store, STORE_ERR_NO_FOLDER, error_r, "%s: no such folder", path);
		goto out;
	}
	sd = store_state_dir_for(store, path + strlen(store->root) + 1);
	char *stamp = path_join(sd, ".tmpclean");

	(void)unlink(stamp);
	free(stamp);
	if (state_destroy(sd, &err) < 0)
		log_warning("%s", err);
	ret = 0;
out:
	free(path);
	free(sd);
	return ret;
}
