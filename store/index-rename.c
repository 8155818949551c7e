/* index-rename: a flag change the store is about to make, done by notmuch
 * in one load of the message's document (index_flag_rename(), index.h).
 *
 * Why: a file renamed behind notmuch's back is, for `notmuch new` and
 * index_scan() alike, a new file name to index (the file parsed again and
 * every term of the message written again) and an old name to remove,
 * then the flag tags synchronised: three loads of the document, and
 * Xapian 1.4 reads every position list of a document at the first change
 * of one of its terms (some 1,000 reads for a mail of a few KB; 100 flag
 * changes on a 100,000-message index cost 1-4 s that way).  notmuch's
 * public API swaps a file name without parsing the file in one place
 * only: notmuch_message_tags_to_maildir_flags(), which renames the file
 * itself.  So the tags are set and notmuch renames the file, but only
 * when the name it will write is exactly the one the store's rename would
 * (maildir_set_flags() then finds its target in place).
 *
 * Every step leaves what the next run understands: killed before
 * notmuch's rename, nothing changed on disk; after it, the file has the
 * new flags under the store's new name, which the store takes as the
 * same flag change made by another program, and an index whose section
 * did not commit still has the old name, which the next scan sees as a
 * renamed file. */
#include "store/index-private.h"
#include "store/maildir.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The directory part of path when its file sits in a maildir's cur/ or
 * new/ (*sub_r "cur" or "new"): its length up to and with the '/' before
 * cur/ or new/; 0 otherwise. */
static size_t maildir_dir_len(const char *path, const char **sub_r)
{
	const char *base = strrchr(path, '/');

	if (base == NULL || base - path < 4 || base[-4] != '/')
		return 0;
	if (strncmp(base - 3, "cur", 3) == 0)
		*sub_r = "cur";
	else if (strncmp(base - 3, "new", 3) == 0)
		*sub_r = "new";
	else
		return 0;
	return (size_t)(base - 3 - path);
}

/* The store's name for the file at path once it has flags, as
 * maildir_set_flags() makes it; NULL when the store would keep it in new/
 * (still \Recent, no flag) or the name is not one it writes. */
static char *store_name(const char *path, uint32_t flags)
{
	const char *sub, *base;
	size_t dl = maildir_dir_len(path, &sub);
	struct maildir_name mn;
	char key[MAILDIR_NAME_SIZE], buf[MAILDIR_NAME_SIZE];

	if (dl == 0)
		return NULL;
	base = path + dl + 4;
	if (maildir_parse_name(base, &mn) < 0 || mn.key_len >= sizeof(key) ||
	    (mn.sep != 0 && mn.sep != ':'))
		return NULL;
	if (strcmp(sub, "new") == 0 && (flags & STORE_RECENT) &&
	    (flags & MAILDIR_NAME_FLAGS) == 0 && mn.extra[0] == '\0')
		return NULL;
	memcpy(key, mn.key, mn.key_len);
	key[mn.key_len] = '\0';
	if (maildir_format_name(key, flags, mn.extra, ':', buf, sizeof(buf)) < 0)
		return NULL;
	return xasprintf("%.*scur/%s", (int)dl, path, buf);
}

/* The name notmuch 0.37's notmuch_message_tags_to_maildir_flags() gives
 * the file at path when the tags say flags: the letters D F P R S set or
 * cleared, every other letter of the info kept, all in ASCII order, new/
 * left for cur/; NULL where it would not rename (letters out of order or
 * repeated, no maildir).  Written after its _new_maildir_filename(). */
static char *notmuch_name(const char *path, uint32_t flags)
{
	static const char managed[] = "DFPRS";
	const char *sub, *info = strstr(path, ":2,");
	size_t dl = maildir_dir_len(path, &sub), n = 0;
	bool map[128] = { false };
	char want[7], letters[129];

	if (dl == 0 || (info && info < path + dl + 4))
		return NULL;	/* no maildir, or ":2," in a directory name */
	if (info) {
		unsigned last = 0;

		for (const unsigned char *p = (const unsigned char *)info + 3; *p; p++) {
			if (*p < last || *p >= sizeof(map) || map[*p])
				return NULL;
			map[*p] = true;
			last = *p;
		}
	} else {
		info = path + strlen(path);
	}
	maildir_flags_to_letters(flags & (STORE_DRAFT | STORE_FLAGGED | STORE_PASSED |
					  STORE_ANSWERED | STORE_SEEN), want);
	for (const char *m = managed; *m; m++)
		map[(unsigned char)*m] = strchr(want, *m) != NULL;
	for (unsigned c = 0; c < sizeof(map); c++)
		if (map[c])
			letters[n++] = (char)c;
	letters[n] = '\0';
	/* notmuch keeps a file in new/ only when it has no info and no flag
	 * changes; the store then leaves it alone too (store_name()). */
	return xasprintf("%.*scur/%.*s:2,%s", (int)dl, path,
			 (int)(info - (path + dl + 4)), path + dl + 4, letters);
}

/* Whether path is the message's one file name. */
static bool only_file(notmuch_message_t *msg, const char *path)
{
	notmuch_filenames_t *fn = notmuch_message_get_filenames(msg);
	size_t n = 0;
	bool same = false;

	for (; notmuch_filenames_valid(fn); notmuch_filenames_move_to_next(fn), n++)
		same = strcmp(notmuch_filenames_get(fn), path) == 0;
	notmuch_filenames_destroy(fn);
	return n == 1 && same;
}

int index_flag_rename(struct index *ix, const char *path, uint32_t flags, char **new_path_r,
		      const char **error_r)
{
	notmuch_message_t *msg = NULL;
	notmuch_status_t st;
	char *want = NULL, *theirs = NULL;
	int ret = 0;

	*new_path_r = NULL;
	if (!ix->writable) {
		*error_r = index_errorf(ix, "index: renaming needs the writer");
		return -1;
	}
	if (!index_sync_flags_on(ix) || (want = store_name(path, flags)) == NULL ||
	    strcmp(want, path) == 0 || (theirs = notmuch_name(path, flags)) == NULL ||
	    strcmp(want, theirs) != 0)
		goto out;
	if ((st = notmuch_database_find_message_by_filename(ix->db, path, &msg)) != 0) {
		*error_r = index_nm_error(ix, path, st);
		ret = -1;
		goto out;
	}
	if (msg == NULL || !only_file(msg, path))
		goto out;
	if ((st = notmuch_database_begin_atomic(ix->db)) == 0) {
		st = notmuch_message_freeze(msg);
		if (st == 0) {
			st = index_set_flag_tags(msg, flags);
			notmuch_status_t st2 = notmuch_message_thaw(msg);
			if (st == 0)
				st = st2;
		}
		/* Renames the file (a failure there is silent: the file
		 * then keeps its name, which the check below sees). */
		if (st == 0)
			st = notmuch_message_tags_to_maildir_flags(msg);
		notmuch_status_t st3 = notmuch_database_end_atomic(ix->db);
		if (st == 0)
			st = st3;
	}
	if (st) {
		*error_r = index_nm_error(ix, path, st);
		ret = -1;
	} else if (only_file(msg, want)) {
		*new_path_r = want;
		want = NULL;
		ret = 1;
	}
out:
	if (msg)
		notmuch_message_destroy(msg);
	free(want);
	free(theirs);
	return ret;
}
