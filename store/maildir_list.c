/* maildir_list: finding the maildirs under a root, in the plain nested
 * layout ("Lists/foo/cur") and the Maildir++ one (root = INBOX, ".Lists.foo"). */
#include "store/maildir.h"
#include "store/maildir-private.h"

#include "lib/log.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct list_ctx {
	char *root_real;
	size_t root_real_len;
	maildir_list_callback *cb;
	void *context;
	/* (dev, ino) of the directories on the current path: a symlink back
	 * to an ancestor would otherwise loop until the depth limit, once per
	 * branch. */
	dev_t devs[MAILDIR_LIST_MAX_DEPTH + 2];
	ino_t inos[MAILDIR_LIST_MAX_DEPTH + 2];
	size_t depth;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted, "." and ".." left out.  NULL when unreadable. */
static char **read_names(const char *dir, size_t *n_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;

	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			names = xreallocarray(names, alloc, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*n_r = n;
	return names != NULL ? names : xcalloc(1, sizeof(*names));
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* True when path is a directory we may enter: a real directory, or a
 * symlink resolving to one inside the root. */
static bool enterable(const struct list_ctx *c, const char *path, struct stat *st)
{
	char *real;
	bool inside;

	if (lstat(path, st) < 0)
		return false;
	if (S_ISDIR(st->st_mode))
		return true;
	if (!S_ISLNK(st->st_mode))
		return false;
	real = realpath(path, NULL);
	if (real == NULL)
		return false;
	inside = strncmp(real, c->root_real, c->root_real_len) == 0 &&
		 (real[c->root_real_len] == '/' || c->root_real_len == 1);
	free(real);
	if (!inside) {
		log_debug("%s: symbolic link out of the mail root, not followed", path);
		return false;
	}
	return stat(path, st) == 0 && S_ISDIR(st->st_mode);
}

static int report(struct list_ctx *c, const char *name, const char *path,
		  bool maildirpp, const char **error_r)
{
	struct maildir_folder f = { name, path, maildirpp };

	if (c->cb(&f, c->context) < 0)
		return maildir_fail(error_r, ECANCELED, "%s: folder listing stopped", path);
	return 0;
}

static bool is_ancestor(const struct list_ctx *c, const struct stat *st)
{
	for (size_t i = 0; i < c->depth; i++)
		if (c->devs[i] == st->st_dev && c->inos[i] == st->st_ino)
			return true;
	return false;
}

/* A plain-layout directory: reported when it is a maildir, then its
 * subdirectories (not cur/new/tmp of a maildir, not dot-directories). */
static int walk_plain(struct list_ctx *c, const char *name, const char *path,
		      const char **error_r)
{
	struct stat st;
	char **names;
	size_t n = 0;
	bool is_md;
	int ret = 0;

	if (!enterable(c, path, &st) || is_ancestor(c, &st))
		return 0;
	if (c->depth > MAILDIR_LIST_MAX_DEPTH) {
		log_warning("%s: deeper than %d levels below the mail root, skipped",
			    path, MAILDIR_LIST_MAX_DEPTH);
		return 0;
	}
	is_md = maildir_is_maildir(path);
	if (is_md && report(c, name, path, false, error_r) < 0)
		return -1;
	names = read_names(path, &n);
	if (names == NULL) {
		log_warning("%s: %s (skipped)", path, strerror(errno));
		return 0;
	}
	c->devs[c->depth] = st.st_dev;
	c->inos[c->depth] = st.st_ino;
	c->depth++;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *child = names[i];

		if (child[0] == '.')
			continue;
		if (is_md && (strcmp(child, "cur") == 0 || strcmp(child, "new") == 0 ||
			      strcmp(child, "tmp") == 0))
			continue;
		char *cpath = path_join(path, child);
		char *cname = xasprintf("%s/%s", name, child);

		ret = walk_plain(c, cname, cpath, error_r);
		free(cpath);
		free(cname);
	}
	c->depth--;
	free_names(names, n);
	return ret;
}

/* ".Lists.foo" -> "Lists/foo"; NULL for names that are not folder names
 * (".", "..", empty components as in ".a..b"). */
static char *maildirpp_name(const char *dotname)
{
	char *name = xstrdup(dotname + 1);
	size_t len = strlen(name);

	if (len == 0 || name[0] == '.' || name[len - 1] == '.' ||
	    strstr(name, "..") != NULL) {
		free(name);
		return NULL;
	}
	for (char *p = name; *p; p++)
		if (*p == '.')
			*p = '/';
	return name;
}

int maildir_list(const char *root, maildir_list_callback *cb, void *context,
		 const char **error_r)
{
	struct list_ctx c = { .cb = cb, .context = context };
	struct stat st;
	char **names = NULL;
	size_t n = 0;
	bool root_md;
	int ret = -1;

	c.root_real = realpath(root, NULL);
	if (c.root_real == NULL)
		return maildir_fail(error_r, errno, "%s", root);
	c.root_real_len = strlen(c.root_real);
	names = read_names(root, &n);
	if (names == NULL || stat(root, &st) < 0) {
		maildir_fail(error_r, errno, "%s", root);
		goto out;
	}
	c.devs[0] = st.st_dev;
	c.inos[0] = st.st_ino;
	c.depth = 1;
	root_md = maildir_is_maildir(root);
	if (root_md && report(&c, "INBOX", root, true, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *child = names[i];
		char *cpath = path_join(root, child);
		int r = 0;

		if (child[0] == '.') {
			/* Maildir++ folders are flat: never descended into.
			 * .loft, .notmuch and friends are not maildirs. */
			char *fname = maildirpp_name(child);

			if (fname != NULL && enterable(&c, cpath, &st) &&
			    maildir_is_maildir(cpath))
				r = report(&c, fname, cpath, true, error_r);
			free(fname);
		} else if (!(root_md && (strcmp(child, "cur") == 0 ||
					 strcmp(child, "new") == 0 ||
					 strcmp(child, "tmp") == 0))) {
			r = walk_plain(&c, child, cpath, error_r);
		}
		free(cpath);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	if (names != NULL)
		free_names(names, n);
	free(c.root_real);
	return ret;
}
