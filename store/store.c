/* store: opening the store, errors, folder name resolution, the table of
 * folders open in this process, and the index hooks.  The contract is in
 * store.h. */
#include "store/store-private.h"

#include "store/index.h"
#include "store/maildir.h"
#include "store/mbox.h"
#include "store/message.h"
#include "store/state.h"

#include "lib/log.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* store_open() has no store to own its message yet. */
static _Thread_local char open_error[1024];

static const char *const default_folders[] = { "INBOX", "Sent", "Drafts", "Trash" };

static int store_vfail(struct store *store, enum store_error code, const char **error_r,
		       const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	free(store->error);
	store->error = msg;
	store->error_code = code;
	if (error_r)
		*error_r = msg;
	return -1;
}

int store_fail(struct store *store, const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	store_vfail(store, STORE_ERR_INTERNAL, error_r, fmt, ap);
	va_end(ap);
	return -1;
}

int store_fail_errno(struct store *store, const char **error_r, const char *fmt, ...)
{
	enum store_error code = store_errno_code(errno);
	va_list ap;

	va_start(ap, fmt);
	store_vfail(store, code, error_r, fmt, ap);
	va_end(ap);
	return -1;
}

int store_fail_code(struct store *store, enum store_error code, const char **error_r,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	store_vfail(store, code, error_r, fmt, ap);
	va_end(ap);
	return -1;
}

static int open_fail(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int open_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
	*error_r = open_error;
	return -1;
}

/* mkdir -p with mode 0700 for what it creates. */
static int mkdirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;

	free(p);
	return rc;
}

/* set (if given), else $XDG_CACHE_HOME/loft, else $HOME/.cache/loft, else
 * NULL (malloc'd).  Relative values are ignored, as the XDG spec says. */
static char *default_cache_dir(const char *set)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (set && set[0])
		return xstrdup(set);
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/loft", xdg);
	if (home && home[0] == '/')
		return xasprintf("%s/.cache/loft", home);
	return NULL;
}

int store_open(const struct store_settings *set, unsigned flags,
	       struct store **store_r, const char **error_r)
{
	struct store *store;
	struct stat st;
	const char *err;

	*store_r = NULL;
	assert(!(flags & STORE_OPEN_READONLY) ||
	       !(flags & (STORE_OPEN_INDEX | STORE_OPEN_CREATE)));
	if (set->root == NULL || set->root[0] != '/')
		return open_fail(error_r, "store root must be an absolute path (got '%s')",
				 set->root ? set->root : "");
	if (flags & STORE_OPEN_CREATE) {
		if (mkdirs(set->root) < 0)
			return open_fail(error_r, "%s: %s", set->root, strerror(errno));
		/* Sent, Drafts and Trash come with a new store, one without
		 * INBOX (which cannot be deleted): a folder the user (or an
		 * IMAP client) deleted or renamed later stays so. */
		char *inbox = path_join(set->root, default_folders[0]);
		bool fresh = !maildir_is_maildir(inbox) && !store_is_mbox_file(inbox);

		free(inbox);
		for (size_t i = 0; i < (fresh ? sizeof(default_folders) / sizeof(*default_folders) : 1);
		     i++) {
			char *p = path_join(set->root, default_folders[i]);
			int rc = maildir_is_maildir(p) || store_is_mbox_file(p) ? 0 :
				maildir_create(p, &err);

			free(p);
			if (rc < 0)
				return open_fail(error_r, "%s", err);
		}
	}
	if (stat(set->root, &st) < 0)
		return open_fail(error_r, "%s: %s", set->root, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return open_fail(error_r, "%s: not a directory", set->root);

	store = xcalloc(1, sizeof(*store));
	store->root = xstrdup(set->root);
	store->state_dir = set->state_dir && set->state_dir[0] ? xstrdup(set->state_dir) :
		path_join(set->root, ".loft");
	store->notmuch_db = set->notmuch_db && set->notmuch_db[0] ? xstrdup(set->notmuch_db) :
		NULL;
	store->cache_dir = default_cache_dir(set->cache_dir);
	store->lock_timeout = set->mbox_lock_timeout ? set->mbox_lock_timeout : 10;
	store->add_chunk = STORE_ADD_CHUNK;
	store->flags = flags;
	if (flags & STORE_OPEN_INDEX) {
		if (index_open(store->root, store->notmuch_db, true, &store->index, &err) < 0) {
			open_fail(error_r, "%s", err);
			store_close(&store);
			return -1;
		}
	}
	*store_r = store;
	return 0;
}

int store_check_writable(struct store *store, const char **error_r)
{
	if (store->flags & STORE_OPEN_READONLY)
		return store_fail_code(store, STORE_ERR_READ_ONLY, error_r,
				       "%s: the store is open read-only", store->root);
	return 0;
}

void store_set_progress(struct store *store, store_progress_fn *fn, void *ctx)
{
	store->progress = fn;
	store->progress_ctx = ctx;
}

const char *store_state_dir(const struct store *store)
{
	return store->state_dir;
}

void store_close(struct store **storep)
{
	struct store *store = *storep;

	if (store == NULL)
		return;
	if (store->open_folders)
		log_warning("store_close: %u folders still open", store->open_folders);
	index_close(&store->index);
	free(store->root);
	free(store->state_dir);
	free(store->cache_dir);
	free(store->notmuch_db);
	free(store->error);
	free(store);
	*storep = NULL;
}

/* ---- names ---- */

bool store_is_mbox_file(const char *path)
{
	char buf[5];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	bool yes = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, buf, 5) == 5)
		yes = memcmp(buf, "From ", 5) == 0;
	close(fd);
	return yes;
}

char *store_state_dir_for(struct store *store, const char *name)
{
	return path_join(store->state_dir, name);
}

static unsigned long long path_hash(const char *path)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (unsigned long long)h;
}

/* A folder given by a path outside the root: STATE/.ext/FNV1A(path). */
static char *ext_state_dir(struct store *store, const char *path)
{
	return xasprintf("%s/.ext/%016llx", store->state_dir, path_hash(path));
}

/* The kind of folder at path, or -1 when there is none. */
static int kind_at(const char *path)
{
	if (maildir_is_maildir(path))
		return STORE_MAILDIR;
	if (store_is_mbox_file(path))
		return STORE_MBOX;
	return -1;
}

/* "A/B" -> ROOT/.A.B (Maildir++). */
static char *maildirpp_path(struct store *store, const char *name)
{
	char *dots = xasprintf(".%s", name);

	for (char *p = dots; *p; p++)
		if (*p == '/')
			*p = '.';
	char *path = path_join(store->root, dots);

	free(dots);
	return path;
}

int store_resolve(struct store *store, const char *name, bool must_exist, char **path_r,
		  char **display_r, char **state_dir_r, enum store_folder_kind *kind_r,
		  const char **error_r)
{
	const char *err;
	char *path = NULL, *display = NULL;
	int kind;
	size_t rl = strlen(store->root);

	if (name[0] == '+')
		name++;
	if (name[0] == '/') {
		path = xstrdup(name);
		/* A path inside the root is that folder. */
		if (strncmp(name, store->root, rl) == 0 && name[rl] == '/' && name[rl + 1])
			display = xstrdup(name + rl + 1);
		else if (strcmp(name, store->root) == 0 && maildir_is_maildir(name))
			display = xstrdup("INBOX");
	} else {
		if (strcasecmp(name, "INBOX") == 0)
			name = "INBOX";
		path = path_join_safe(store->root, name, &err);
		if (path == NULL)
			return store_fail_code(store, STORE_ERR_BAD_NAME, error_r,
					       "%s: bad folder name: %s", name, err);
		display = xstrdup(path + rl + 1);
		if (kind_at(path) < 0) {
			/* Maildir++: the root is INBOX, "A/B" is ROOT/.A.B. */
			char *alt = strcmp(name, "INBOX") == 0 ? xstrdup(store->root) :
				maildirpp_path(store, display);

			if (kind_at(alt) >= 0) {
				free(path);
				path = alt;
			} else {
				free(alt);
			}
		}
	}
	while (strlen(path) > 1 && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	kind = kind_at(path);
	if (kind < 0 && must_exist) {
		store_fail_code(store, STORE_ERR_NO_FOLDER, error_r, "%s: no such folder (neither a maildir nor an mbox file)",
			   path);
		free(path);
		free(display);
		return -1;
	}
	*kind_r = kind < 0 ? STORE_MAILDIR : (enum store_folder_kind)kind;
	*state_dir_r = display ? store_state_dir_for(store, display) : ext_state_dir(store, path);
	*display_r = display ? display : xstrdup(path);
	*path_r = path;
	return 0;
}

/* ---- folders open in this process ---- */

/* Whether this process can write the state in dir: the directory, or the
 * nearest one above it that exists, is writable, and so are the LMDB
 * files already there (root ignores modes, not a read-only mount). */
static bool state_writable(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char *p = xstrdup(dir);
	struct stat st;
	bool ok = false, exact = true;

	for (;;) {
		if (stat(p, &st) == 0) {
			ok = S_ISDIR(st.st_mode) && access(p, W_OK) == 0;
			break;
		}
		char *slash = strrchr(p, '/');

		if (errno != ENOENT || slash == NULL || slash == p)
			break;
		*slash = '\0';
		exact = false;
	}
	for (size_t i = 0; ok && exact && i < 2; i++) {
		char *f = path_join(dir, files[i]);

		ok = access(f, W_OK) == 0 || errno == ENOENT;
		free(f);
	}
	free(p);
	return ok;
}

/* Opens the state of the folder at path in state_dir, or in
 * CACHE/state/HASH when the store is read-only or neither the state nor
 * the folder can be written here (a backup, another user's mail, a
 * read-only mount): LMDB needs a writable lock file even to read, and
 * reconciling a folder with its files writes its state.  A folder that
 * can take mail keeps its one real state (a broken state dir is an error
 * then, not a second set of UIDs).  The cache rather than memory, so that
 * a big read-only folder opens fast the second time, with its envelopes
 * computed. */
static int state_open_where(struct store *store, const char *path, const char *state_dir,
			    struct state **state_r, const char **error_r)
{
	const char *err;
	char *dir;
	int ret;

	if (!(store->flags & STORE_OPEN_READONLY) &&
	    (access(path, W_OK) == 0 || state_writable(state_dir))) {
		/* Beside the state tree, not in it: deleting the tree to
		 * rebuild it keeps the UIDVALIDITYs handed out. */
		size_t len = strlen(store->state_dir);

		while (len > 1 && store->state_dir[len - 1] == '/')
			len--;
		char *keep = xasprintf("%.*s.uidvalidity", (int)len, store->state_dir);

		ret = state_open_keep(state_dir, keep, state_r, &err);
		free(keep);
		if (ret < 0)
			return store_fail(store, error_r, "%s", err);
		return 0;
	}
	if (store->cache_dir == NULL)
		return store_fail(store, error_r, "%s: cannot write the folder's state there, "
				  "and no cache directory (neither $XDG_CACHE_HOME nor $HOME)",
				  state_dir);
	dir = xasprintf("%s/state/%016llx", store->cache_dir, path_hash(state_dir));
	ret = state_open(dir, state_r, &err);
	if (ret < 0)
		store_fail(store, error_r, "%s: read-only, and its state in the cache failed: %s",
			   state_dir, err);
	free(dir);
	return ret;
}

int store_shared_get(struct store *store, const char *path, const char *state_dir,
		     enum store_folder_kind kind, struct store_shared **sh_r,
		     const char **error_r)
{
	struct store_shared *sh;
	const char *err;

	for (sh = store->shared; sh; sh = sh->next) {
		if (strcmp(sh->path, path) == 0) {
			sh->refs++;
			*sh_r = sh;
			return 0;
		}
	}
	sh = xcalloc(1, sizeof(*sh));
	if (state_open_where(store, path, state_dir, &sh->state, error_r) < 0) {
		free(sh);
		return -1;
	}
	if (kind == STORE_MBOX &&
	    mbox_open(path, false, store->lock_timeout, &sh->mbox, &err) < 0) {
		store_fail(store, error_r, "%s", err);
		state_close(&sh->state);
		free(sh);
		return -1;
	}
	sh->path = xstrdup(path);
	sh->refs = 1;
	sh->next = store->shared;
	store->shared = sh;
	*sh_r = sh;
	return 0;
}

void store_shared_put(struct store *store, struct store_shared *sh)
{
	struct store_shared **pp;

	if (sh == NULL || --sh->refs > 0)
		return;
	for (pp = &store->shared; *pp; pp = &(*pp)->next) {
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	}
	state_close(&sh->state);
	mbox_close(&sh->mbox);
	free(sh->path);
	free(sh);
}

bool store_shared_busy(struct store *store, const char *path)
{
	size_t n = strlen(path);

	for (struct store_shared *sh = store->shared; sh; sh = sh->next)
		if (strncmp(sh->path, path, n) == 0 && (sh->path[n] == '\0' || sh->path[n] == '/'))
			return true;
	return false;
}

/* ---- index hooks ---- */

static bool indexing(const struct store_folder *f)
{
	return f->store->index != NULL && f->kind == STORE_MAILDIR;
}

void store_index_add(struct store_folder *f, const char *location, uint32_t flags,
		     const char *keywords)
{
	const char *err;

	if (!indexing(f))
		return;
	char *p = path_join(f->path, location);

	/* Another process may have renamed the file meanwhile (an IMAP session
	 * claiming \Recent moves new/ to cur/, mutt marks it read): index it
	 * where it is now, found by its key. */
	if (access(p, F_OK) < 0 && errno == ENOENT) {
		char *key = store_location_key(location), *now = NULL;

		if (key != NULL && maildir_find(f->path, key, &now, &err) > 0) {
			free(p);
			p = path_join(f->path, now);
		}
		free(now);
		free(key);
	}
	if (index_add_file(f->store->index, p, flags, keywords, &err) < 0)
		log_warning("index: %s", err);
	f->store->index_dirty = true;
	free(p);
}

void store_index_remove(struct store_folder *f, const char *location)
{
	const char *err;

	if (!indexing(f))
		return;
	char *p = path_join(f->path, location);

	if (index_remove_file(f->store->index, p, &err) < 0)
		log_warning("index: %s", err);
	f->store->index_dirty = true;
	free(p);
}

void store_index_rename(struct store_folder *f, const char *old_location,
			const char *new_location)
{
	const char *err;

	if (!indexing(f) || strcmp(old_location, new_location) == 0)
		return;
	char *a = path_join(f->path, old_location), *b = path_join(f->path, new_location);

	if (index_rename_file(f->store->index, a, b, &err) < 0)
		log_warning("index: %s", err);
	f->store->index_dirty = true;
	free(a);
	free(b);
}

void store_index_flags(struct store_folder *f, const char *location, uint32_t flags,
		       const char *keywords, const char *removed_keywords)
{
	const char *err;

	if (!indexing(f))
		return;
	char *p = path_join(f->path, location);

	if (index_set_flags(f->store->index, p, flags, keywords, &err) < 0)
		log_warning("index: %s", err);
	else if (removed_keywords && removed_keywords[0] &&
		 index_change_tags(f->store->index, p, NULL, removed_keywords, &err) < 0)
		log_warning("index: %s", err);
	f->store->index_dirty = true;
	free(p);
}

void store_index_commit(struct store *store)
{
	const char *err;

	if (store->index == NULL || !store->index_dirty)
		return;
	if (index_commit(store->index, &err) < 0)
		log_warning("index: %s", err);
	store->index_dirty = false;
}
