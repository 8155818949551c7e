/* index-scan: `loft index`, the walk that brings the notmuch database up
 * to date with the maildirs under the root, as `notmuch new` does.
 *
 * Three phases.  The walk lists every cur/ and new/ directory; one whose
 * mtime equals the mtime recorded in its notmuch directory document is
 * skipped (a second run on an unchanged store costs one stat per maildir).
 * The others are compared with the file names notmuch knows there, giving
 * the files to add and the ones to remove; knowing the total first is what
 * lets the progress bar show the time left.  Then every addition, each in
 * its own atomic section with its tags (new.tags, then flags to tags), so a
 * message is never visible untagged and an interruption at any point
 * leaves a consistent database.  Removals come last: a file renamed for a
 * flag change, or moved from new/ to cur/ or to another folder, is then
 * added under its new name before the old name goes, and the message keeps
 * its tags instead of being deleted and indexed afresh.
 *
 * A directory's mtime is recorded only when all its work is done, and not
 * when it was modified in the current second (a file arriving later in the
 * same second would be missed).  An interrupted run therefore leaves the
 * unfinished directories unrecorded, and the next run compares their file
 * lists again and indexes only the rest. */
#include "store/index-private.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct strv {
	char **v;
	size_t n, alloc;
};

static void strv_push(struct strv *sv, char *s)
{
	if (sv->n == sv->alloc) {
		sv->alloc = sv->alloc ? 2 * sv->alloc : 64;
		sv->v = xreallocarray(sv->v, sv->alloc, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct scan_dir {
	char *rel;		/* relative to the root: "INBOX/cur" */
	time_t mtime;
	bool record;		/* mtime may be recorded when done */
	bool removals;		/* has files to remove (recorded after them) */
	size_t first_add, n_add;	/* range in scan.adds */
};

struct scan {
	struct index *ix;
	bool full;
	time_t now;
	struct strv adds;	/* absolute paths */
	struct strv removes;	/* absolute paths */
	struct strv gone_dirs;	/* relative paths of vanished directories */
	struct scan_dir *dirs;
	size_t n_dirs, dirs_alloc;
	struct index_scan_result *res;
	index_note_fn *note;
	void *ctx;
};

static void note(struct scan *s, const char *path, bool skipped, const char *why)
{
	if (s->note)
		s->note(s->ctx, path, skipped, why);
}

static bool skip_name(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	       strcmp(name, ".notmuch") == 0 || strcmp(name, ".loft") == 0 ||
	       strcmp(name, "tmp") == 0;
}

static bool is_dir(const char *abs, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_DIR)
		return true;
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
		return false;
	return stat(abs, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *abs, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return true;
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
		return false;
	return stat(abs, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sorted names of the entries of abs that pass want (dirs or files).  A
 * directory that cannot be read is noted and skipped (-1). */
static int list_dir(struct scan *s, const char *abs, bool dirs, struct strv *out)
{
	struct sbuf p = SBUF_INIT;
	struct dirent *de;
	DIR *d = opendir(abs);

	if (d == NULL) {
		sbuf_addf(&p, "cannot be read: %s", strerror(errno));
		note(s, abs, true, p.buf);
		sbuf_release(&p);
		s->res->unindexable++;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (dirs ? skip_name(de->d_name) : de->d_name[0] == '.')
			continue;
		sbuf_reset(&p);
		sbuf_addf(&p, "%s/%s", abs, de->d_name);
		if (dirs ? is_dir(p.buf, de) : is_file(p.buf, de))
			strv_push(out, xstrdup(de->d_name));
	}
	closedir(d);
	sbuf_release(&p);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

static void db_names(notmuch_filenames_t *fn, struct strv *out)
{
	for (; notmuch_filenames_valid(fn); notmuch_filenames_move_to_next(fn))
		strv_push(out, xstrdup(notmuch_filenames_get(fn)));
	notmuch_filenames_destroy(fn);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
}

static char *join(const char *a, const char *b)
{
	return *a ? xasprintf("%s/%s", a, b) : xstrdup(b);
}

static int scan_leaf(struct scan *s, const char *abs, const char *rel, const char **error_r)
{
	struct strv fs = { 0 }, db = { 0 };
	notmuch_directory_t *dir = NULL;
	notmuch_status_t st;
	struct stat sb;
	struct scan_dir sd = { 0 };
	size_t i = 0, j = 0;

	if (stat(abs, &sb) < 0)
		return 0;	/* vanished meanwhile: the next run sees it gone */
	if ((st = notmuch_database_get_directory(s->ix->db, rel, &dir)) != 0) {
		*error_r = index_nm_error(s->ix, abs, st);
		return -1;
	}
	if (!s->full && dir && notmuch_directory_get_mtime(dir) == sb.st_mtime) {
		notmuch_directory_destroy(dir);
		s->res->dirs_unchanged++;
		return 0;
	}
	if (list_dir(s, abs, false, &fs) < 0) {
		if (dir)
			notmuch_directory_destroy(dir);
		return 0;
	}
	if (dir) {
		db_names(notmuch_directory_get_child_files(dir), &db);
		notmuch_directory_destroy(dir);
	}
	sd.rel = xstrdup(rel);
	sd.mtime = sb.st_mtime;
	sd.record = sb.st_mtime < s->now;
	sd.first_add = s->adds.n;
	while (i < fs.n || j < db.n) {
		int c = i == fs.n ? 1 : j == db.n ? -1 : strcmp(fs.v[i], db.v[j]);

		if (c < 0)
			strv_push(&s->adds, xasprintf("%s/%s", abs, fs.v[i++]));
		else if (c > 0) {
			strv_push(&s->removes, xasprintf("%s/%s", abs, db.v[j++]));
			sd.removals = true;
		} else
			i++, j++;
	}
	sd.n_add = s->adds.n - sd.first_add;
	if (s->n_dirs == s->dirs_alloc) {
		s->dirs_alloc = s->dirs_alloc ? 2 * s->dirs_alloc : 16;
		s->dirs = xreallocarray(s->dirs, s->dirs_alloc, sizeof(*s->dirs));
	}
	s->dirs[s->n_dirs++] = sd;
	strv_free(&fs);
	strv_free(&db);
	return 0;
}

static int scan_tree(struct scan *s, const char *abs, const char *rel, const char **error_r)
{
	struct strv subs = { 0 }, known = { 0 };
	notmuch_directory_t *dir = NULL;
	int ret = 0;

	if (list_dir(s, abs, true, &subs) < 0)
		return 0;
	for (size_t i = 0; i < subs.n && ret == 0; i++) {
		char *a = xasprintf("%s/%s", abs, subs.v[i]);
		char *r = join(rel, subs.v[i]);
		char why[128];
		const char *problem;

		if (strcmp(subs.v[i], "cur") == 0 || strcmp(subs.v[i], "new") == 0) {
			ret = scan_leaf(s, a, r, error_r);
		} else if ((problem = index_path_problem(s->ix, a, false, why, sizeof(why)))) {
			/* Nothing below it can be indexed (deeper is longer). */
			note(s, a, true, problem);
			s->res->unindexable++;
		} else {
			ret = scan_tree(s, a, r, error_r);
		}
		free(a);
		free(r);
	}
	/* Directories notmuch knows here that are gone from the disk. */
	if (ret == 0 && notmuch_database_get_directory(s->ix->db, rel, &dir) == 0 && dir) {
		db_names(notmuch_directory_get_child_directories(dir), &known);
		notmuch_directory_destroy(dir);
		for (size_t i = 0; i < known.n; i++)
			if ((subs.n == 0 ||
			     !bsearch(&known.v[i], subs.v, subs.n, sizeof(*subs.v), cmp_str)) &&
			    !skip_name(known.v[i]))
				strv_push(&s->gone_dirs, join(rel, known.v[i]));
	}
	strv_free(&subs);
	strv_free(&known);
	return ret;
}

/* Every file under a vanished directory goes to the removals. */
static void collect_gone(struct scan *s, const char *rel)
{
	notmuch_directory_t *dir = NULL;
	struct strv files = { 0 }, subs = { 0 };

	if (notmuch_database_get_directory(s->ix->db, rel, &dir) != 0 || dir == NULL)
		return;
	db_names(notmuch_directory_get_child_files(dir), &files);
	db_names(notmuch_directory_get_child_directories(dir), &subs);
	notmuch_directory_destroy(dir);
	for (size_t i = 0; i < files.n; i++)
		strv_push(&s->removes, xasprintf("%s/%s/%s", s->ix->root, rel, files.v[i]));
	for (size_t i = 0; i < subs.n; i++) {
		char *r = join(rel, subs.v[i]);

		collect_gone(s, r);
		free(r);
	}
	strv_free(&files);
	strv_free(&subs);
}

static void delete_dir_docs(struct scan *s, const char *rel)
{
	notmuch_directory_t *dir = NULL;
	struct strv subs = { 0 };

	if (notmuch_database_get_directory(s->ix->db, rel, &dir) != 0 || dir == NULL)
		return;
	db_names(notmuch_directory_get_child_directories(dir), &subs);
	for (size_t i = 0; i < subs.n; i++) {
		char *r = join(rel, subs.v[i]);

		delete_dir_docs(s, r);
		free(r);
	}
	strv_free(&subs);
	notmuch_directory_delete(dir);	/* also destroys the handle */
}

static int record_mtime(struct scan *s, const struct scan_dir *sd, const char **error_r)
{
	notmuch_directory_t *dir = NULL;
	notmuch_status_t st;

	if (!sd->record)
		return 0;
	st = notmuch_database_get_directory(s->ix->db, sd->rel, &dir);
	if (st == 0 && dir == NULL)
		return 0;	/* no mail in it yet: nothing to record */
	if (st == 0)
		st = notmuch_directory_set_mtime(dir, sd->mtime);
	if (dir)
		notmuch_directory_destroy(dir);
	if (st) {
		*error_r = index_nm_error(s->ix, sd->rel, st);
		return -1;
	}
	return 0;
}

static bool leaving(void *ctx, const char *path)
{
	const struct scan *s = ctx;

	return s->removes.n > 0 &&
	       bsearch(&path, s->removes.v, s->removes.n, sizeof(*s->removes.v), cmp_str);
}

/* One new file, in its own atomic section.  Files that are not mail or
 * vanished meanwhile are counted as skipped, as `notmuch new` ignores them;
 * they, and files notmuch cannot take, are noted. */
static int add_one(struct scan *s, const char *path, bool sync_flags, const char **error_r)
{
	notmuch_message_t *msg = NULL;
	notmuch_status_t st;
	char *why = NULL;

	if ((st = notmuch_database_begin_atomic(s->ix->db)) != 0)
		goto fail;
	st = index_nm_index_file(s->ix, path, &msg, &why);
	if (st == NOTMUCH_STATUS_SUCCESS || st == NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID) {
		bool fresh = st == NOTMUCH_STATUS_SUCCESS;

		notmuch_message_freeze(msg);
		st = fresh ? index_add_new_tags(s->ix, msg) : NOTMUCH_STATUS_SUCCESS;
		/* A file renamed for a flag change: the old name, removed
		 * below, no longer counts, so that the removal finds the tags
		 * right and leaves the document alone. */
		if (st == 0 && sync_flags)
			st = index_sync_flags_to_tags(msg, leaving, s);
		notmuch_status_t st2 = notmuch_message_thaw(msg);
		if (st == 0)
			st = st2;
		notmuch_message_destroy(msg);
		s->res->added++;
		if (why) {
			note(s, path, false, why);
			s->res->warnings++;
		}
	} else if (st == NOTMUCH_STATUS_FILE_NOT_EMAIL || st == NOTMUCH_STATUS_FILE_ERROR) {
		note(s, path, true, st == NOTMUCH_STATUS_FILE_ERROR ? "cannot be read" : "not mail");
		s->res->skipped++;
		st = NOTMUCH_STATUS_SUCCESS;
	} else if (st == NOTMUCH_STATUS_PATH_ERROR && why) {
		note(s, path, true, why);
		s->res->unindexable++;
		st = NOTMUCH_STATUS_SUCCESS;
	}
	free(why);
	notmuch_status_t st3 = notmuch_database_end_atomic(s->ix->db);
	if (st == 0)
		st = st3;
	if (st == 0)
		return 0;
fail:
	*error_r = index_nm_error(s->ix, path, st);
	return -1;
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

bool index_sync_flags_on(struct index *ix)
{
	notmuch_bool_t on = TRUE;

	if (notmuch_config_get_bool(ix->db, NOTMUCH_CONFIG_SYNC_MAILDIR_FLAGS, &on) != 0)
		return true;
	return on != FALSE;
}

int index_scan(struct index *ix, bool full, index_progress_fn *progress, index_note_fn *note_fn,
	       void *ctx, struct index_scan_result *result_r, const char **error_r)
{
	struct scan s = { .ix = ix, .full = full, .now = time(NULL), .res = result_r,
			  .note = note_fn, .ctx = ctx };
	struct index_progress p = { 0 };
	struct timespec t0;
	bool sync_flags;
	int ret = -1;

	memset(result_r, 0, sizeof(*result_r));
	if (!ix->writable) {
		*error_r = index_errorf(ix, "index: scanning needs the writer");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sync_flags = index_sync_flags_on(ix);
	if (scan_tree(&s, ix->root, "", error_r) < 0)
		goto out;
	for (size_t i = 0; i < s.gone_dirs.n; i++)
		collect_gone(&s, s.gone_dirs.v[i]);
	/* Sorted for leaving(); the order of the removals does not matter. */
	if (s.removes.n > 1)
		qsort(s.removes.v, s.removes.n, sizeof(*s.removes.v), cmp_str);

	p.total = s.adds.n;
	p.elapsed = since(&t0);
	if (progress && !progress(ctx, &p)) {
		result_r->interrupted = true;
		ret = 0;
		goto out;
	}
	for (size_t d = 0; d < s.n_dirs; d++) {
		const struct scan_dir *sd = &s.dirs[d];

		for (size_t i = sd->first_add; i < sd->first_add + sd->n_add; i++) {
			if (add_one(&s, s.adds.v[i], sync_flags, error_r) < 0)
				goto out;
			p.done++;
			p.elapsed = since(&t0);
			if (progress && !progress(ctx, &p)) {
				result_r->interrupted = true;
				ret = 0;
				goto out;
			}
		}
		if (!sd->removals && record_mtime(&s, sd, error_r) < 0)
			goto out;
	}
	for (size_t i = 0; i < s.removes.n; i++) {
		if (index_remove_file(ix, s.removes.v[i], error_r) < 0)
			goto out;
		result_r->removed++;
		p.removed++;
	}
	for (size_t d = 0; d < s.n_dirs; d++)
		if (s.dirs[d].removals && record_mtime(&s, &s.dirs[d], error_r) < 0)
			goto out;
	for (size_t i = 0; i < s.gone_dirs.n; i++)
		delete_dir_docs(&s, s.gone_dirs.v[i]);
	p.elapsed = since(&t0);
	if (progress)
		progress(ctx, &p);
	ret = 0;
out:
	strv_free(&s.adds);
	strv_free(&s.removes);
	strv_free(&s.gone_dirs);
	for (size_t d = 0; d < s.n_dirs; d++)
		free(s.dirs[d].rel);
	free(s.dirs);
	return ret;
}

int index_add_new_file(struct index *ix, const char *path, const char **error_r)
{
	struct index_scan_result res = { 0 };
	struct scan s = { .ix = ix, .res = &res };
	size_t rl = strlen(ix->root);

	if (!ix->writable) {
		*error_r = index_errorf(ix, "index: adding needs the writer");
		return -1;
	}
	if (strncmp(path, ix->root, rl) != 0 || path[rl] != '/')
		return 0;
	return add_one(&s, path, index_sync_flags_on(ix), error_r);
}

#define PENDING_NAME "index-pending"

int index_pending_mark(const char *state_dir, const char **error_r)
{
	static char errbuf[512];
	char *path = xasprintf("%s/" PENDING_NAME, state_dir);
	/* No fsync: after a crash `loft index` still finds the file by the
	 * mtime of new/; the mark only saves the user from running it. */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s", path, strerror(errno));
		*error_r = errbuf;
		free(path);
		return -1;
	}
	close(fd);
	free(path);
	return 0;
}

bool index_pending_take(const char *state_dir)
{
	char *path = xasprintf("%s/" PENDING_NAME, state_dir);
	bool was = unlink(path) == 0;

	free(path);
	return was;
}

int index_catch_up(const char *root, const char *db_dir, const char *state_dir,
		   const char **error_r)
{
	static char why[512];
	struct index_scan_result res;
	struct index *ix = NULL;
	const char *error, *mark_error;

	if (!index_pending_take(state_dir))
		return 0;
	if (index_open(root, db_dir, true, &ix, &error) == 0 &&
	    index_scan(ix, false, NULL, NULL, NULL, &res, &error) == 0) {
		index_close(&ix);
		return 0;
	}
	/* Copied before the close: the index may own the text. */
	snprintf(why, sizeof(why), "%s", error);
	index_close(&ix);
	if (index_pending_mark(state_dir, &mark_error) < 0)
		snprintf(why, sizeof(why), "%s", mark_error);
	*error_r = why;
	return -1;
}
