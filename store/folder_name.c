/* The one check of a folder name that something outside the user's hands
 * chose: a Sieve fileinto (possibly built from a header), an IMAP CREATE,
 * a folder typed in the client.  See store.h for the rules.
 *
 * Why these limits: libnotmuch aborts when a term passes Xapian's 245
 * bytes, and a folder's terms hold its name plus a prefix and "/cur", so
 * 160 bytes leaves room; 8 levels stay well inside what maildir_list()
 * walks (MAILDIR_LIST_MAX_DEPTH), so every folder created is also listed.
 * Names starting with '.' are refused as a whole class: they cover loft's
 * state (.loft, with the queue inside), notmuch's database (.notmuch),
 * "." and "..", and Maildir++ folders, whose ".a.b" on disk is "a/b". */
#include "store/store.h"
#include "store/maildir.h"

#include <string.h>

#if STORE_FOLDER_DEPTH_MAX > MAILDIR_LIST_MAX_DEPTH
#error "a folder deeper than maildir_list() walks would never be listed"
#endif

static int refuse(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

int store_folder_name_check(const char *name, const char **error_r)
{
	size_t len = strlen(name), depth = 0;

	if (len == 0)
		return refuse(error_r, "empty folder name");
	if (name[0] == '/')
		return refuse(error_r, "absolute path (folder names are relative to the store)");
	if (len > STORE_FOLDER_NAME_MAX)
		return refuse(error_r, "name longer than 160 bytes");
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return refuse(error_r, "control character in the name");
	for (const char *c = name; c != NULL; ) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (++depth > STORE_FOLDER_DEPTH_MAX)
			return refuse(error_r, "more than 8 levels of folders");
		if (n == 0)
			return refuse(error_r, "empty component (// or a trailing /)");
		if ((n == 2 && memcmp(c, "..", 2) == 0) || (n == 1 && c[0] == '.'))
			return refuse(error_r, "'.' or '..' component");
		if ((n == 5 && memcmp(c, ".loft", 5) == 0) || (n == 8 && memcmp(c, ".notmuch", 8) == 0))
			return refuse(error_r, "reserved name (loft's state and queue, notmuch's database)");
		if (c[0] == '.')
			return refuse(error_r, "component starting with '.' (reserved for loft, notmuch and Maildir++)");
		if (n == 3 && (memcmp(c, "new", 3) == 0 || memcmp(c, "cur", 3) == 0 ||
			       memcmp(c, "tmp", 3) == 0))
			return refuse(error_r, "'new', 'cur' or 'tmp' component (a maildir's own directories)");
		c = slash ? slash + 1 : NULL;
	}
	return 0;
}
