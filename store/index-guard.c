/* index-guard: every file loft hands to notmuch goes through
 * index_nm_index_file(), which keeps one bad file from stopping or
 * polluting the run.
 *
 * Path lengths.  Xapian refuses terms longer than 245 bytes, and
 * libnotmuch 0.37 exits the whole process ("Internal error: adding folder
 * term") instead of returning an error when a message's folder makes one
 * too long; a long file or directory name gives a Xapian exception.  The
 * terms involved are "XFOLDER:" + the folder (the path relative to the
 * root without cur/ or new/): at most 237 bytes; "XFDIRENTRY" or
 * "XDDIRENTRY" + a directory id (up to 10 digits) + ":" + one name: at
 * most 224 bytes.  Paths over these limits are refused here, before
 * notmuch sees them (measured: a 237-byte folder indexes, 238 exits).
 *
 * GLib messages.  GMime reports some broken MIME (a message/rfc822 part
 * with no message in it) with g_critical(), which GLib writes to stderr in
 * the middle of the caller's output.  While notmuch parses a file, GLib's
 * default log handler is replaced by one that collects the text, so the
 * caller can name the file it belongs to.
 *
 * Crypto.  loft indexes with decryption off (ix->opts), but notmuch still
 * runs gpgsm to unwrap an opaque S/MIME signed message (application/
 * pkcs7-mime; smime-type=signed-data), and gpgsm starts a gpg-agent and a
 * dirmngr that outlive loft.  While notmuch indexes, GNUPGHOME names a
 * directory that cannot exist (below /dev/null), so no agent can start;
 * the message is indexed by its headers.  The variable is put back at
 * once: programs loft starts later (an editor, a viewer) get the user's.
 *
 * Size.  notmuch parses with GMime and no caps: 3 million header fields
 * take it gigabytes and minutes.  A message over the message model's caps
 * (store/message.h) is refused like a bad path: it stays stored, unindexed,
 * with the reason in the note. */
#include "store/index-private.h"
#include "store/message.h"
#include "store/gmime_lazy.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_FOLDER_MAX 237
#define INDEX_NAME_MAX 224
/* Enough to name the problem; a file can make GMime complain thousands
 * of times. */
#define CAUGHT_MAX 400
#define NO_GNUPGHOME "/dev/null/loft-indexes-without-gnupg"

static bool is_maildir_leaf(const char *name, size_t len)
{
	return len == 3 && (memcmp(name, "cur", 3) == 0 || memcmp(name, "new", 3) == 0);
}

const char *index_path_problem(const struct index *ix, const char *path, bool file,
			       char *buf, size_t size)
{
	size_t rl = strlen(ix->root), folder_len;
	const char *rel, *p, *last = NULL;

	if (strncmp(path, ix->root, rl) != 0 || path[rl] != '/')
		return NULL;	/* not under the root: notmuch says so itself */
	rel = path + rl + 1;
	for (p = rel; *p; ) {
		size_t n = strcspn(p, "/");

		if (n > INDEX_NAME_MAX) {
			snprintf(buf, size, "a name of %zu bytes (notmuch indexes at most %d)", n,
				 INDEX_NAME_MAX);
			return buf;
		}
		if (p[n] == '\0')
			last = p;
		p += n;
		while (*p == '/')
			p++;
	}
	/* The folder: a file's directory without its cur/ or new/; a
	 * directory is itself the folder of what it holds. */
	folder_len = strlen(rel);
	if (file && last) {
		folder_len = last > rel ? (size_t)(last - rel) - 1 : 0;
		const char *leaf = rel;

		for (const char *q = rel; q < rel + folder_len; q++)
			if (*q == '/')
				leaf = q + 1;
		if (is_maildir_leaf(leaf, (size_t)(rel + folder_len - leaf)))
			folder_len = leaf > rel ? (size_t)(leaf - rel) - 1 : 0;
	}
	if (folder_len > INDEX_FOLDER_MAX) {
		snprintf(buf, size, "a folder path of %zu bytes (notmuch indexes at most %d)",
			 folder_len, INDEX_FOLDER_MAX);
		return buf;
	}
	return NULL;
}

static void catch_glib(const gchar *domain, GLogLevelFlags level, const gchar *message,
		       gpointer data)
{
	struct sbuf *sb = data;

	(void)level;
	if (sb->len >= CAUGHT_MAX)
		return;
	if (sb->len)
		sbuf_addstr(sb, "; ");
	if (domain)
		sbuf_addf(sb, "%s: ", domain);
	sbuf_addstr(sb, message ? message : "");
	if (sb->len > CAUGHT_MAX) {
		sbuf_setlen(sb, CAUGHT_MAX);
		sbuf_addstr(sb, "...");
	}
}

notmuch_status_t index_nm_index_file(struct index *ix, const char *path,
				     notmuch_message_t **msg_r, char **note_r)
{
	struct sbuf caught = SBUF_INIT;
	char why[128];
	const char *problem = index_path_problem(ix, path, true, why, sizeof(why));
	notmuch_status_t st;
	GLogFunc old;

	*msg_r = NULL;
	*note_r = NULL;
	if (problem) {
		*note_r = xstrdup(problem);
		return NOTMUCH_STATUS_PATH_ERROR;
	}
	if ((problem = message_file_over_limits(path, NULL))) {
		*note_r = xasprintf("%s: over the message model's caps", problem);
		return NOTMUCH_STATUS_PATH_ERROR;
	}
	char *gnupghome = getenv("GNUPGHOME") ? xstrdup(getenv("GNUPGHOME")) : NULL;

	setenv("GNUPGHOME", NO_GNUPGHOME, 1);
	message_init();	/* GLib's table (libnotmuch has mapped it already) */
	old = g_log_set_default_handler(catch_glib, &caught);
	st = notmuch_database_index_file(ix->db, path, ix->opts, msg_r);
	g_log_set_default_handler(old, NULL);
	if (gnupghome)
		setenv("GNUPGHOME", gnupghome, 1);
	else
		unsetenv("GNUPGHOME");
	free(gnupghome);
	if (caught.len)
		*note_r = sbuf_detach(&caught, NULL);
	sbuf_release(&caught);
	return st;
}
