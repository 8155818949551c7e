/* index-open: the notmuch database handle — open (creating it for the
 * writer), close, reopen, commit.  The contract is in index.h. */
#include "store/index-private.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Documents changed between two flushes of a writer's buffered changes
 * (see index_open()); not 1, which makes notmuch commit every section. */
#define INDEX_FLUSH_THRESHOLD "100"

static int open_db(const char *path, bool writable, notmuch_database_t **db_r,
		   char **errmsg_r)
{
	return notmuch_database_open_with_config(path, writable ? NOTMUCH_DATABASE_MODE_READ_WRITE
								: NOTMUCH_DATABASE_MODE_READ_ONLY,
						 "", NULL, db_r, errmsg_r);
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	int ret = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

static char *strip_slashes(const char *path)
{
	char *s = xstrdup(path);
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* Whether a Xapian database is there: notmuch opens DIR/xapian or
 * DIR/.notmuch/xapian (dir is the root for the classic layout). */
static bool db_exists(const char *dir)
{
	static const char *const subs[] = { "/xapian", "/.notmuch/xapian" };
	bool yes = false;

	for (size_t i = 0; i < 2 && !yes; i++) {
		char *x = xasprintf("%s%s", dir, subs[i]);
		struct stat st;

		yes = stat(x, &st) == 0 || errno != ENOENT;
		free(x);
	}
	return yes;
}

int index_open(const char *root, const char *db_dir, bool writable, struct index **index_r,
	       const char **error_r)
{
	static char errbuf[1024];
	struct index *ix = xcalloc(1, sizeof(*ix));
	char *dbpath = NULL, *errmsg = NULL, *dflt;
	notmuch_status_t st;
	bool custom;

	*index_r = NULL;
	setenv("XAPIAN_CJK_NGRAM", "1", 1);
	/* A writer keeps its changes in memory until this many documents
	 * changed (Xapian's default: 10,000), and each message notmuch
	 * indexes costs more the more is kept: `loft index` of 2,000
	 * messages took 10-11 s of CPU and 134 MB with the default, 4-5 s
	 * and 20 MB with 100.  Flushed changes are still committed only at
	 * database.autocommit or the close, so atomicity is unchanged.  A
	 * value in the environment (the user's) is kept. */
	setenv("XAPIAN_FLUSH_THRESHOLD", INDEX_FLUSH_THRESHOLD, 0);
	if (index_nm_load(error_r) < 0) {
		free(ix);
		return -1;
	}
	ix->root = strip_slashes(root);
	ix->writable = writable;
	/* The classic layout is opened through the mail root (notmuch then
	 * finds ROOT/.notmuch/xapian and takes ROOT as mail_root); any other
	 * directory holds DIR/xapian and keeps mail_root in its config. */
	dflt = xasprintf("%s/.notmuch", ix->root);
	if (db_dir && *db_dir)
		dbpath = strip_slashes(db_dir);
	custom = dbpath && strcmp(dbpath, dflt) != 0;
	if (!custom) {
		free(dbpath);
		dbpath = xstrdup(ix->root);
	}
	free(dflt);

	if (!writable && !db_exists(dbpath)) {
		/* Say what to do first: a message cut to the width of a
		 * screen still shows it. */
		snprintf(errbuf, sizeof(errbuf),
			 "no index yet: run `loft index` to build it (no notmuch database in %s)",
			 dbpath);
		goto fail;
	}
	st = open_db(dbpath, writable, &ix->db, &errmsg);
	if (st && writable) {
		/* Missing: create it (notmuch makes .notmuch or DIR/xapian). */
		free(errmsg);
		errmsg = NULL;
		if (mkdir_p(dbpath) < 0) {
			snprintf(errbuf, sizeof(errbuf), "index: cannot create %s: %s", dbpath,
				 strerror(errno));
			goto fail;
		}
		st = notmuch_database_create_with_config(dbpath, "", NULL, &ix->db, &errmsg);
		if (st == NOTMUCH_STATUS_DATABASE_EXISTS) {
			free(errmsg);
			errmsg = NULL;
			st = open_db(dbpath, writable, &ix->db, &errmsg);
		}
	}
	if (st) {
		snprintf(errbuf, sizeof(errbuf), "index: cannot open the notmuch database in %s: %s",
			 dbpath, errmsg && *errmsg ? errmsg : notmuch_status_to_string(st));
		goto fail;
	}
	if (custom) {
		const char *mr = notmuch_config_get(ix->db, NOTMUCH_CONFIG_MAIL_ROOT);

		if (mr == NULL || strcmp(mr, ix->root) != 0) {
			/* mail_root is read at open: record it, then open again. */
			if (!writable) {
				snprintf(errbuf, sizeof(errbuf),
					 "index: the database in %s indexes %s, not %s", dbpath,
					 mr ? mr : "(nothing)", ix->root);
				goto fail;
			}
			st = notmuch_database_set_config(ix->db, "database.mail_root", ix->root);
			notmuch_database_destroy(ix->db);
			ix->db = NULL;
			if (st == 0)
				st = open_db(dbpath, writable, &ix->db, &errmsg);
			if (st) {
				snprintf(errbuf, sizeof(errbuf), "index: cannot set the mail root of %s: %s",
					 dbpath, notmuch_status_to_string(st));
				goto fail;
			}
		}
	}
	if (writable) {
		/* No decryption while indexing: notmuch's default would run gpg
		 * (leaving a gpg-agent and a dirmngr behind) on encrypted mail. */
		ix->opts = notmuch_database_get_default_indexopts(ix->db);
		if (ix->opts)
			notmuch_indexopts_set_decrypt_policy(ix->opts, NOTMUCH_DECRYPT_FALSE);
	}
	free(errmsg);
	free(dbpath);
	*index_r = ix;
	return 0;
fail:
	if (errbuf[0]) {
		size_t n = strlen(errbuf);

		while (n > 0 && errbuf[n - 1] == '\n')
			errbuf[--n] = '\0';
	}
	*error_r = errbuf;
	free(errmsg);
	free(dbpath);
	if (ix->db)
		notmuch_database_destroy(ix->db);
	free(ix->root);
	free(ix);
	return -1;
}

void index_close(struct index **indexp)
{
	struct index *ix = *indexp;

	if (ix == NULL)
		return;
	if (ix->opts)
		notmuch_indexopts_destroy(ix->opts);
	if (ix->db)
		notmuch_database_destroy(ix->db);	/* closes, committing */
	free(ix->root);
	free(ix->error);
	free(ix);
	*indexp = NULL;
}

int index_reopen(struct index *ix, const char **error_r)
{
	notmuch_status_t st = notmuch_database_reopen(
		ix->db, ix->writable ? NOTMUCH_DATABASE_MODE_READ_WRITE
				     : NOTMUCH_DATABASE_MODE_READ_ONLY);

	if (st) {
		*error_r = index_nm_error(ix, "index: reopen", st);
		return -1;
	}
	return 0;
}

int index_commit(struct index *ix, const char **error_r)
{
	notmuch_status_t st;

	if (!ix->writable) {
		*error_r = index_errorf(ix, "index: commit needs the writer");
		return -1;
	}
	/* notmuch_database_reopen() of a read-write database closes the Xapian
	 * database (which commits) and opens it again. */
	st = notmuch_database_reopen(ix->db, NOTMUCH_DATABASE_MODE_READ_WRITE);
	if (st) {
		*error_r = index_nm_error(ix, "index: commit", st);
		return -1;
	}
	return 0;
}

