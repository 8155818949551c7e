/* index: the notmuch database handle, per-file operations, search and tag.
 * The `loft index` walk is in index-scan.c. */
#include "store/index-private.h"
#include "store/store.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *index_errorf(struct index *ix, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(ix->error);
	ix->error = s;
	ix->bad_query = false;
	return s;
}

const char *index_nm_error(struct index *ix, const char *what, notmuch_status_t st)
{
	const char *detail = ix->db ? notmuch_database_status_string(ix->db) : NULL;
	struct sbuf sb = SBUF_INIT;

	sbuf_addf(&sb, "%s: %s", what, notmuch_status_to_string(st));
	if (detail && *detail && st == NOTMUCH_STATUS_XAPIAN_EXCEPTION) {
		sbuf_addf(&sb, ": %s", detail);
		sbuf_rtrim(&sb);
	}
	free(ix->error);
	ix->error = sbuf_detach(&sb, NULL);
	ix->bad_query = false;
	return ix->error;
}

/* ---- flags and tags ---- */

static const struct {
	uint32_t flag;
	const char *tag;
	bool inverse;
} flag_tags[] = {
	{ STORE_SEEN, "unread", true },
	{ STORE_ANSWERED, "replied", false },
	{ STORE_FLAGGED, "flagged", false },
	{ STORE_DELETED, "deleted", false },
	{ STORE_DRAFT, "draft", false },
	{ STORE_PASSED, "passed", false },
};
#define N_FLAG_TAGS (sizeof(flag_tags) / sizeof(flag_tags[0]))

static bool msg_has_tag(notmuch_message_t *msg, const char *tag)
{
	notmuch_tags_t *tags;
	bool found = false;

	for (tags = notmuch_message_get_tags(msg); !found && notmuch_tags_valid(tags);
	     notmuch_tags_move_to_next(tags))
		found = strcmp(notmuch_tags_get(tags), tag) == 0;
	notmuch_tags_destroy(tags);
	return found;
}

/* The ":2," info of a maildir file name, or NULL. */
static const char *maildir_info(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *info = strstr(base ? base + 1 : path, ":2,");

	return info ? info + 3 : NULL;
}

/* Whether path's directory is a maildir's cur/ or new/: "cur/" or "new/"
 * (not NUL-terminated) in path, else NULL; as notmuch decides it. */
static const char *maildir_sub(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash - path < 4 || slash[-4] != '/')
		return NULL;
	slash -= 3;
	return strncmp(slash, "cur/", 4) == 0 || strncmp(slash, "new/", 4) == 0 ? slash : NULL;
}

/* Sets the tags of the flags in mask to those of flags, touching only the
 * ones that differ. */
static notmuch_status_t set_flag_tags(notmuch_message_t *msg, uint32_t flags, uint32_t mask)
{
	for (size_t i = 0; i < N_FLAG_TAGS; i++) {
		bool on = ((flags & flag_tags[i].flag) != 0) != flag_tags[i].inverse;
		notmuch_status_t st;

		/* Only the tags that differ: removing an absent tag makes
		 * notmuch log an exception, which then hides the text of later
		 * errors, and Xapian 1.4 reads every position list of the
		 * document at its first term change, even one that changes
		 * nothing. */
		if (!(mask & flag_tags[i].flag) || on == msg_has_tag(msg, flag_tags[i].tag))
			continue;
		st = on ? notmuch_message_add_tag(msg, flag_tags[i].tag)
			: notmuch_message_remove_tag(msg, flag_tags[i].tag);
		if (st)
			return st;
	}
	return NOTMUCH_STATUS_SUCCESS;
}

notmuch_status_t index_set_flag_tags(notmuch_message_t *msg, uint32_t flags)
{
	return set_flag_tags(msg, flags, ~(uint32_t)0);
}

/* What notmuch_message_maildir_flags_to_tags() does for D F P R S (the
 * union of the letters of the message's files in a cur/ or new/; a file
 * in new/ without info counts as one with no letters; nothing when no
 * file has either), with T <-> deleted by the same rule among the files
 * with info, so that IMAP \Deleted round-trips through the tags.  But
 * only differing tags are touched: notmuch's sets every one, which loads
 * the document even when nothing changes (set_flag_tags()). */
notmuch_status_t index_sync_flags_to_tags(notmuch_message_t *msg, index_gone_fn *gone,
					  void *ctx)
{
	notmuch_filenames_t *fn;
	bool seen = false, any_info = false;
	uint32_t flags = 0;

	for (fn = notmuch_message_get_filenames(msg); notmuch_filenames_valid(fn);
	     notmuch_filenames_move_to_next(fn)) {
		const char *path = notmuch_filenames_get(fn);
		const char *sub = maildir_sub(path), *info;

		if (sub == NULL || (gone && gone(ctx, path)))
			continue;
		if ((info = strstr(sub, ":2,")) == NULL) {
			seen = seen || strncmp(sub, "new/", 4) == 0;
			continue;
		}
		seen = any_info = true;
		for (const char *p = info + 3; *p; p++)
			flags |= *p == 'D' ? STORE_DRAFT : *p == 'F' ? STORE_FLAGGED :
				 *p == 'P' ? STORE_PASSED : *p == 'R' ? STORE_ANSWERED :
				 *p == 'S' ? STORE_SEEN : *p == 'T' ? STORE_DELETED : 0;
	}
	notmuch_filenames_destroy(fn);
	if (!seen)
		return NOTMUCH_STATUS_SUCCESS;
	return set_flag_tags(msg, flags, any_info ? ~(uint32_t)0 : ~(uint32_t)STORE_DELETED);
}

notmuch_status_t index_add_new_tags(struct index *ix, notmuch_message_t *msg)
{
	notmuch_config_values_t *v;
	notmuch_status_t st = NOTMUCH_STATUS_SUCCESS;

	for (v = notmuch_config_get_values(ix->db, NOTMUCH_CONFIG_NEW_TAGS);
	     v && notmuch_config_values_valid(v); notmuch_config_values_move_to_next(v)) {
		const char *tag = notmuch_config_values_get(v);

		if (*tag && (st = notmuch_message_add_tag(msg, tag)) != 0)
			break;
	}
	if (v)
		notmuch_config_values_destroy(v);
	return st;
}

/* Adds (or removes) each space-separated word of words as a tag. */
static notmuch_status_t tag_words(notmuch_message_t *msg, const char *words, bool add)
{
	notmuch_status_t st = NOTMUCH_STATUS_SUCCESS;
	char *copy, *save, *w;

	if (words == NULL)
		return st;
	copy = xstrdup(words);
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (add)
			st = notmuch_message_add_tag(msg, w);
		else if (msg_has_tag(msg, w))
			st = notmuch_message_remove_tag(msg, w);
		if (st)
			break;
	}
	free(copy);
	return st;
}

/* ---- per file ---- */

static int find_msg(struct index *ix, const char *path, notmuch_message_t **msg_r,
		    const char **error_r)
{
	notmuch_status_t st = notmuch_database_find_message_by_filename(ix->db, path, msg_r);

	if (st) {
		*error_r = index_nm_error(ix, path, st);
		return -1;
	}
	if (*msg_r == NULL) {
		*error_r = index_errorf(ix, "index: %s: not in the index", path);
		return -1;
	}
	return 0;
}

/* Runs f on the message of path inside one atomic, frozen section. */
static int change_msg(struct index *ix, notmuch_message_t *msg, const char *path,
		      notmuch_status_t (*f)(notmuch_message_t *, const void *), const void *arg,
		      const char **error_r)
{
	notmuch_status_t st;

	if ((st = notmuch_database_begin_atomic(ix->db)) != 0) {
		*error_r = index_nm_error(ix, path, st);
		return -1;
	}
	st = notmuch_message_freeze(msg);
	if (st == 0) {
		st = f(msg, arg);
		notmuch_status_t st2 = notmuch_message_thaw(msg);
		if (st == 0)
			st = st2;
	}
	notmuch_status_t st3 = notmuch_database_end_atomic(ix->db);
	if (st == 0)
		st = st3;
	if (st) {
		*error_r = index_nm_error(ix, path, st);
		return -1;
	}
	return 0;
}

struct flags_arg {
	struct index *ix;
	uint32_t flags;
	const char *keywords, *remove;
	bool is_new, from_files;
};

static notmuch_status_t apply_flags(notmuch_message_t *msg, const void *arg)
{
	const struct flags_arg *a = arg;
	notmuch_status_t st = NOTMUCH_STATUS_SUCCESS;

	if (a->is_new)
		st = index_add_new_tags(a->ix, msg);
	if (st == 0)
		st = a->from_files ? index_sync_flags_to_tags(msg, NULL, NULL)
				  : index_set_flag_tags(msg, a->flags);
	if (st == 0)
		st = tag_words(msg, a->keywords, true);
	if (st == 0)
		st = tag_words(msg, a->remove, false);
	return st;
}

/* index_nm_index_file() for the per-file calls: success, a duplicate
 * Message-ID (a new copy), or an error in *error_r; a path notmuch cannot
 * take is such an error; GMime's complaints are logged with the file's
 * name. */
static notmuch_status_t index_one(struct index *ix, const char *path, notmuch_message_t **msg_r,
				  const char **error_r)
{
	char *note;
	notmuch_status_t st = index_nm_index_file(ix, path, msg_r, &note);

	if (st == NOTMUCH_STATUS_PATH_ERROR && note)
		*error_r = index_errorf(ix, "%s: not indexed: %s", path, note);
	else if (st != NOTMUCH_STATUS_SUCCESS && st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID)
		*error_r = index_nm_error(ix, path, st);
	else if (note)
		log_warning("index: %s: %s", path, note);
	free(note);
	return st;
}

int index_add_file(struct index *ix, const char *path, uint32_t flags, const char *keywords,
		   const char **error_r)
{
	struct flags_arg a = { ix, flags, keywords, NULL, false, false };
	notmuch_message_t *msg = NULL;
	notmuch_status_t st;
	int ret;

	st = index_one(ix, path, &msg, error_r);
	if (st != NOTMUCH_STATUS_SUCCESS && st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID)
		return -1;
	a.is_new = st == NOTMUCH_STATUS_SUCCESS;
	ret = change_msg(ix, msg, path, apply_flags, &a, error_r);
	notmuch_message_destroy(msg);
	return ret;
}

/* After a file name went away: the remaining files decide the flag tags. */
static int resync_by_id(struct index *ix, const char *id, const char *path, const char **error_r)
{
	struct flags_arg a = { ix, 0, NULL, NULL, false, true };
	notmuch_message_t *msg = NULL;
	int ret;

	if (notmuch_database_find_message(ix->db, id, &msg) != 0 || msg == NULL)
		return 0;
	ret = change_msg(ix, msg, path, apply_flags, &a, error_r);
	notmuch_message_destroy(msg);
	return ret;
}

int index_remove_file(struct index *ix, const char *path, const char **error_r)
{
	notmuch_message_t *msg = NULL;
	notmuch_status_t st;
	char *id = NULL;
	int ret = 0;

	if (notmuch_database_find_message_by_filename(ix->db, path, &msg) == 0 && msg) {
		id = xstrdup(notmuch_message_get_message_id(msg));
		notmuch_message_destroy(msg);
	}
	st = notmuch_database_remove_message(ix->db, path);
	if (st == NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID && id)
		ret = resync_by_id(ix, id, path, error_r);
	else if (st != NOTMUCH_STATUS_SUCCESS) {
		*error_r = index_nm_error(ix, path, st);
		ret = -1;
	}
	free(id);
	return ret;
}

int index_rename_file(struct index *ix, const char *old_path, const char *new_path,
		      const char **error_r)
{
	struct flags_arg a = { ix, 0, NULL, NULL, false, true };
	notmuch_message_t *msg = NULL;
	notmuch_status_t st;
	int ret;

	/* Add first: the message keeps existing, so its tags are kept.  The
	 * message object is dropped before the removal: one held across it
	 * would write the old file name back when it is next synced. */
	st = index_one(ix, new_path, &msg, error_r);
	if (st != NOTMUCH_STATUS_SUCCESS && st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID)
		return -1;
	a.is_new = st == NOTMUCH_STATUS_SUCCESS;
	notmuch_message_destroy(msg);
	st = notmuch_database_remove_message(ix->db, old_path);
	if (st != NOTMUCH_STATUS_SUCCESS && st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID) {
		*error_r = index_nm_error(ix, old_path, st);
		return -1;
	}
	if (find_msg(ix, new_path, &msg, error_r) < 0)
		return -1;
	ret = change_msg(ix, msg, new_path, apply_flags, &a, error_r);
	notmuch_message_destroy(msg);
	return ret;
}

int index_set_flags(struct index *ix, const char *path, uint32_t flags, const char *keywords,
		    const char **error_r)
{
	struct flags_arg a = { ix, flags, keywords, NULL, false, false };
	notmuch_message_t *msg;
	int ret;

	if (find_msg(ix, path, &msg, error_r) < 0)
		return -1;
	ret = change_msg(ix, msg, path, apply_flags, &a, error_r);
	notmuch_message_destroy(msg);
	return ret;
}

static notmuch_status_t apply_words(notmuch_message_t *msg, const void *arg)
{
	const struct flags_arg *a = arg;
	notmuch_status_t st = tag_words(msg, a->keywords, true);

	return st ? st : tag_words(msg, a->remove, false);
}

int index_change_tags(struct index *ix, const char *path, const char *add, const char *remove,
		      const char **error_r)
{
	struct flags_arg a = { ix, 0, add, remove, false, false };
	notmuch_message_t *msg;
	int ret;

	if (find_msg(ix, path, &msg, error_r) < 0)
		return -1;
	ret = change_msg(ix, msg, path, apply_words, &a, error_r);
	notmuch_message_destroy(msg);
	return ret;
}

/* An IMAP atom: no SP, CTL, ( ) { % * " \ ]. */
static bool is_atom(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("(){%*\"\\]", *s))
			return false;
	return true;
}

int index_get_flags(struct index *ix, const char *path, uint32_t *flags_r, char **keywords_r,
		    const char **error_r)
{
	struct sbuf kw = SBUF_INIT;
	notmuch_message_t *msg;
	notmuch_tags_t *tags;
	uint32_t flags = STORE_SEEN;

	if (find_msg(ix, path, &msg, error_r) < 0)
		return -1;
	for (tags = notmuch_message_get_tags(msg); notmuch_tags_valid(tags);
	     notmuch_tags_move_to_next(tags)) {
		const char *t = notmuch_tags_get(tags);
		bool flag = false;

		for (size_t i = 0; i < N_FLAG_TAGS; i++) {
			if (strcmp(t, flag_tags[i].tag) != 0)
				continue;
			flag = true;
			if (flag_tags[i].inverse)
				flags &= ~flag_tags[i].flag;
			else
				flags |= flag_tags[i].flag;
		}
		if (!flag && keywords_r && is_atom(t)) {
			if (kw.len)
				sbuf_addch(&kw, ' ');
			sbuf_addstr(&kw, t);
		}
	}
	notmuch_tags_destroy(tags);
	notmuch_message_destroy(msg);
	*flags_r = flags;
	if (keywords_r)
		*keywords_r = sbuf_detach(&kw, NULL);
	return 0;
}

/* ---- search ---- */

bool index_error_is_query(const struct index *ix)
{
	return ix->bad_query;
}

static int query_fail(struct index *ix, notmuch_status_t st, const char *query,
		      const char **error_r)
{
	const char *detail = notmuch_database_status_string(ix->db);

	/* Xapian reports syntax errors as an exception while parsing.  notmuch
	 * keeps only the first exception's text per handle (a later one is
	 * not logged), so a handle that already logged one (notmuch's own
	 * flag sync does) reports later bad queries as database errors. */
	if (st == NOTMUCH_STATUS_XAPIAN_EXCEPTION && detail &&
	    strstr(detail, "parsing query") != NULL) {
		struct sbuf sb = SBUF_INIT;
		const char *colon = strstr(detail, "query: ");
		const char *msg = colon ? colon + 7 : detail;

		sbuf_addf(&sb, "bad query '%s': %.*s", query, (int)strcspn(msg, "\n"), msg);
		free(ix->error);
		ix->error = sbuf_detach(&sb, NULL);
		ix->bad_query = true;
	} else if (st == NOTMUCH_STATUS_BAD_QUERY_SYNTAX) {
		index_errorf(ix, "bad query '%s'", query);
		ix->bad_query = true;
	} else {
		index_nm_error(ix, "search", st);
	}
	*error_r = ix->error;
	return -1;
}

static int make_query(struct index *ix, const char *query, bool exclude, notmuch_query_t **q_r,
		      const char **error_r)
{
	notmuch_status_t st;

	st = notmuch_query_create_with_syntax(ix->db, query, NOTMUCH_QUERY_SYNTAX_XAPIAN, q_r);
	if (st)
		return query_fail(ix, st, query, error_r);
	notmuch_query_set_sort(*q_r, NOTMUCH_SORT_NEWEST_FIRST);
	if (exclude) {
		notmuch_config_values_t *v;

		for (v = notmuch_config_get_values(ix->db, NOTMUCH_CONFIG_EXCLUDE_TAGS);
		     v && notmuch_config_values_valid(v); notmuch_config_values_move_to_next(v))
			if (*notmuch_config_values_get(v))
				notmuch_query_add_tag_exclude(*q_r, notmuch_config_values_get(v));
		if (v)
			notmuch_config_values_destroy(v);
	}
	return 0;
}

int index_search_threads(struct index *ix, const char *query, size_t limit,
			 index_thread_fn *cb, void *ctx, const char **error_r)
{
	notmuch_query_t *q;
	notmuch_threads_t *threads;
	notmuch_status_t st;
	const char **tagv = NULL;
	size_t tag_alloc = 0, n = 0;
	int ret = 0;

	if (make_query(ix, query, true, &q, error_r) < 0)
		return -1;
	if ((st = notmuch_query_search_threads(q, &threads)) != 0) {
		notmuch_query_destroy(q);
		return query_fail(ix, st, query, error_r);
	}
	for (; notmuch_threads_valid(threads) && (limit == 0 || n < limit);
	     notmuch_threads_move_to_next(threads), n++) {
		notmuch_thread_t *th = notmuch_threads_get(threads);
		struct index_thread t = { 0 };
		notmuch_tags_t *tags;

		t.thread_id = notmuch_thread_get_thread_id(th);
		t.newest = notmuch_thread_get_newest_date(th);
		t.oldest = notmuch_thread_get_oldest_date(th);
		t.matched = notmuch_thread_get_matched_messages(th);
		t.total = notmuch_thread_get_total_messages(th);
		t.authors = notmuch_thread_get_authors(th);
		t.subject = notmuch_thread_get_subject(th);
		for (tags = notmuch_thread_get_tags(th); notmuch_tags_valid(tags);
		     notmuch_tags_move_to_next(tags)) {
			if (t.n_tags == tag_alloc) {
				tag_alloc = tag_alloc ? 2 * tag_alloc : 16;
				tagv = xreallocarray(tagv, tag_alloc, sizeof(*tagv));
			}
			tagv[t.n_tags++] = notmuch_tags_get(tags);
		}
		t.tags = tagv;
		int stop = cb(ctx, &t);
		notmuch_tags_destroy(tags);
		notmuch_thread_destroy(th);
		if (stop)
			break;
	}
	free(tagv);
	notmuch_threads_destroy(threads);
	notmuch_query_destroy(q);
	return ret;
}

struct index_search {
	notmuch_query_t *q;
	notmuch_messages_t *msgs;
};

int index_search_begin(struct index *ix, const char *query, struct index_search **s_r,
		       const char **error_r)
{
	struct index_search *s;
	notmuch_query_t *q;
	notmuch_messages_t *msgs;
	notmuch_status_t st;

	*s_r = NULL;
	if (make_query(ix, query, true, &q, error_r) < 0)
		return -1;
	if ((st = notmuch_query_search_messages(q, &msgs)) != 0) {
		notmuch_query_destroy(q);
		return query_fail(ix, st, query, error_r);
	}
	s = xcalloc(1, sizeof(*s));
	s->q = q;
	s->msgs = msgs;
	*s_r = s;
	return 0;
}

/* Calls each for at most max more messages (0: all); 1 when more remain. */
static int search_step(struct index_search *s, size_t max,
		       int (*each)(notmuch_message_t *msg, void *ctx), void *ctx)
{
	size_t n = 0;
	int stop = 0;

	for (; !stop && notmuch_messages_valid(s->msgs) && (max == 0 || n < max);
	     notmuch_messages_move_to_next(s->msgs), n++) {
		notmuch_message_t *msg = notmuch_messages_get(s->msgs);

		if (msg == NULL)	/* the database changed under a long search */
			return 0;
		stop = each(msg, ctx);
		notmuch_message_destroy(msg);
	}
	return !stop && notmuch_messages_valid(s->msgs) ? 1 : 0;
}

void index_search_end(struct index_search **sp)
{
	struct index_search *s = *sp;

	if (s == NULL)
		return;
	notmuch_messages_destroy(s->msgs);
	notmuch_query_destroy(s->q);
	free(s);
	*sp = NULL;
}

struct file_walk {
	index_file_fn *cb;
	void *ctx;
};

static int each_file(notmuch_message_t *msg, void *ctx)
{
	struct file_walk *w = ctx;
	notmuch_filenames_t *fn;
	int stop = 0;

	for (fn = notmuch_message_get_filenames(msg); !stop && notmuch_filenames_valid(fn);
	     notmuch_filenames_move_to_next(fn))
		stop = w->cb(w->ctx, notmuch_filenames_get(fn));
	notmuch_filenames_destroy(fn);
	return stop;
}

int index_search_next(struct index_search *s, size_t max, index_file_fn *cb, void *ctx)
{
	struct file_walk w = { cb, ctx };

	return search_step(s, max, each_file, &w);
}

int index_search_files(struct index *ix, const char *query, size_t limit,
		       index_file_fn *cb, void *ctx, const char **error_r)
{
	struct index_search *s;

	if (index_search_begin(ix, query, &s, error_r) < 0)
		return -1;
	index_search_next(s, limit, cb, ctx);
	index_search_end(&s);
	return 0;
}

struct header_walk {
	const char *header;
	index_header_fn *cb;
	void *ctx;
};

static int each_header(notmuch_message_t *msg, void *ctx)
{
	struct header_walk *w = ctx;
	const char *v = notmuch_message_get_header(msg, w->header);

	return w->cb(w->ctx, v ? v : "");
}

int index_search_header(struct index *ix, const char *query, const char *header, size_t limit,
			index_header_fn *cb, void *ctx, const char **error_r)
{
	struct header_walk w = { header, cb, ctx };
	struct index_search *s;

	if (index_search_begin(ix, query, &s, error_r) < 0)
		return -1;
	search_step(s, limit, each_header, &w);
	index_search_end(&s);
	return 0;
}

int index_count(struct index *ix, const char *query, unsigned *count_r, const char **error_r)
{
	notmuch_query_t *q;
	notmuch_status_t st;

	if (make_query(ix, query, false, &q, error_r) < 0)
		return -1;
	st = notmuch_query_count_messages(q, count_r);
	notmuch_query_destroy(q);
	return st ? query_fail(ix, st, query, error_r) : 0;
}

/* ---- tag ---- */

/* The file name with T added to or removed from its maildir info. */
static char *with_trash_flag(const char *path, bool trashed)
{
	const char *info = maildir_info(path);
	struct sbuf sb = SBUF_INIT;

	sbuf_add(&sb, path, (size_t)(info - path));
	/* Letters stay sorted (maildir spec): insert T at its place. */
	for (const char *p = info;; p++) {
		if (trashed && (*p == '\0' || *p > 'T')) {
			sbuf_addch(&sb, 'T');
			trashed = false;
		}
		if (*p == '\0')
			break;
		if (*p != 'T')
			sbuf_addch(&sb, *p);
	}
	return sbuf_detach(&sb, NULL);
}

/* notmuch renames for D F P R S; loft does T itself the same way: rename
 * the file, index the new name, drop the old one. */
static int sync_trash_flag(struct index *ix, notmuch_message_t *msg, const char **error_r)
{
	bool want = msg_has_tag(msg, "deleted");
	notmuch_filenames_t *fn;
	char **renames = NULL;
	size_t n = 0;
	int ret = 0;

	for (fn = notmuch_message_get_filenames(msg); notmuch_filenames_valid(fn);
	     notmuch_filenames_move_to_next(fn)) {
		const char *path = notmuch_filenames_get(fn);
		const char *info = maildir_info(path);

		if (info && (strchr(info, 'T') != NULL) != want) {
			renames = xreallocarray(renames, n + 1, sizeof(*renames));
			renames[n++] = xstrdup(path);
		}
	}
	notmuch_filenames_destroy(fn);
	for (size_t i = 0; i < n; i++) {
		char *to = with_trash_flag(renames[i], want);
		notmuch_message_t *m2 = NULL;
		notmuch_status_t st;

		if (rename(renames[i], to) < 0) {
			/* Renamed meanwhile by another program: next scan. */
		} else if ((st = index_one(ix, to, &m2, error_r)) != NOTMUCH_STATUS_SUCCESS &&
			   st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID) {
			ret = -1;
		} else {
			notmuch_message_destroy(m2);
			notmuch_database_remove_message(ix->db, renames[i]);
		}
		free(to);
		free(renames[i]);
	}
	free(renames);
	return ret;
}

/* Adds and removes tags on msg in one atomic section, then renames its
 * files so their maildir flags agree with the tags. */
static int tag_msg(struct index *ix, notmuch_message_t *msg, const char *what,
		   const char *const *add, size_t n_add, const char *const *remove,
		   size_t n_remove, bool *differs_r, const char **error_r)
{
	notmuch_status_t st;
	bool differs = false;
	int ret;

	if ((st = notmuch_database_begin_atomic(ix->db)) != 0)
		goto nm_fail;
	notmuch_message_freeze(msg);
	for (size_t j = 0; j < n_add; j++) {
		differs = differs || !msg_has_tag(msg, add[j]);
		notmuch_message_add_tag(msg, add[j]);
	}
	for (size_t j = 0; j < n_remove; j++) {
		if (msg_has_tag(msg, remove[j])) {
			differs = true;
			notmuch_message_remove_tag(msg, remove[j]);
		}
	}
	if ((st = notmuch_message_thaw(msg)) != 0)
		goto nm_fail_atomic;
	*differs_r = differs;
	if ((st = notmuch_message_tags_to_maildir_flags(msg)) != 0)
		goto nm_fail_atomic;
	ret = sync_trash_flag(ix, msg, error_r);
	notmuch_database_end_atomic(ix->db);
	return ret;
nm_fail_atomic:
	notmuch_database_end_atomic(ix->db);
nm_fail:
	*error_r = index_nm_error(ix, what, st);
	return -1;
}

/* The part of a maildir file name before its ":2," info. */
static size_t unique_len(const char *base)
{
	const char *info = strstr(base, ":2,");

	return info ? (size_t)(info - base) : strlen(base);
}

int index_tag_file(struct index *ix, const char *path, uint32_t flags, const char *const *add,
		   size_t n_add, const char *const *remove, size_t n_remove, char **new_path_r,
		   const char **error_r)
{
	notmuch_message_t *msg = NULL;
	notmuch_filenames_t *fn;
	char **gone = NULL, *id;
	size_t n_gone = 0;
	bool differs = false;
	int ret;

	if (new_path_r)
		*new_path_r = NULL;
	if (notmuch_database_find_message_by_filename(ix->db, path, &msg) != 0 || msg == NULL) {
		/* Not indexed under this name (renamed by a flag change since,
		 * or never indexed): index it with the flags the caller knows. */
		if (index_add_file(ix, path, flags, NULL, error_r) < 0 ||
		    find_msg(ix, path, &msg, error_r) < 0)
			return -1;
	}
	id = xstrdup(notmuch_message_get_message_id(msg));
	/* File names that are gone would make the flag renames fail. */
	for (fn = notmuch_message_get_filenames(msg); notmuch_filenames_valid(fn);
	     notmuch_filenames_move_to_next(fn)) {
		const char *f = notmuch_filenames_get(fn);

		if (access(f, F_OK) < 0 && errno == ENOENT) {
			gone = xreallocarray(gone, n_gone + 1, sizeof(*gone));
			gone[n_gone++] = xstrdup(f);
		}
	}
	notmuch_filenames_destroy(fn);
	notmuch_message_destroy(msg);
	msg = NULL;
	for (size_t i = 0; i < n_gone; i++) {
		notmuch_database_remove_message(ix->db, gone[i]);
		free(gone[i]);
	}
	free(gone);
	if (notmuch_database_find_message(ix->db, id, &msg) != 0 || msg == NULL) {
		*error_r = index_errorf(ix, "index: %s: not in the index", path);
		free(id);
		return -1;
	}
	ret = tag_msg(ix, msg, path, add, n_add, remove, n_remove, &differs, error_r);
	if (ret == 0 && new_path_r) {
		/* The file as the flag renames left it (same unique part). */
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		size_t ul = unique_len(base);

		notmuch_message_destroy(msg);
		msg = NULL;
		if (notmuch_database_find_message(ix->db, id, &msg) == 0 && msg) {
			for (fn = notmuch_message_get_filenames(msg); notmuch_filenames_valid(fn);
			     notmuch_filenames_move_to_next(fn)) {
				const char *f = notmuch_filenames_get(fn);
				const char *b = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;

				if (*new_path_r == NULL && unique_len(b) == ul &&
				    strncmp(b, base, ul) == 0)
					*new_path_r = xstrdup(f);
			}
			notmuch_filenames_destroy(fn);
		}
		if (*new_path_r == NULL)
			*new_path_r = xstrdup(path);
	}
	if (msg)
		notmuch_message_destroy(msg);
	free(id);
	return ret;
}

int index_get_tags(struct index *ix, const char *path, char **tags_r, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	notmuch_message_t *msg;
	notmuch_tags_t *tags;

	if (find_msg(ix, path, &msg, error_r) < 0)
		return -1;
	for (tags = notmuch_message_get_tags(msg); notmuch_tags_valid(tags);
	     notmuch_tags_move_to_next(tags)) {
		if (sb.len)
			sbuf_addch(&sb, ' ');
		sbuf_addstr(&sb, notmuch_tags_get(tags));
	}
	notmuch_tags_destroy(tags);
	notmuch_message_destroy(msg);
	*tags_r = sbuf_detach(&sb, NULL);
	return 0;
}

int index_tag(struct index *ix, const char *query, const char *const *add, size_t n_add,
	      const char *const *remove, size_t n_remove, size_t *changed_r,
	      const char **error_r)
{
	notmuch_query_t *q;
	notmuch_messages_t *msgs;
	notmuch_status_t st;
	char **ids = NULL;
	size_t n_ids = 0, changed = 0;
	int ret = 0;

	/* Collect the ids first: renaming files while iterating the query
	 * would change what the iterator walks. */
	if (make_query(ix, query, false, &q, error_r) < 0)
		return -1;
	if ((st = notmuch_query_search_messages(q, &msgs)) != 0) {
		notmuch_query_destroy(q);
		return query_fail(ix, st, query, error_r);
	}
	for (; notmuch_messages_valid(msgs); notmuch_messages_move_to_next(msgs)) {
		notmuch_message_t *msg = notmuch_messages_get(msgs);

		ids = xreallocarray(ids, n_ids + 1, sizeof(*ids));
		ids[n_ids++] = xstrdup(notmuch_message_get_message_id(msg));
		notmuch_message_destroy(msg);
	}
	notmuch_messages_destroy(msgs);
	notmuch_query_destroy(q);

	for (size_t i = 0; i < n_ids && ret == 0; i++) {
		notmuch_message_t *msg = NULL;
		bool differs = false;

		if (notmuch_database_find_message(ix->db, ids[i], &msg) != 0 || msg == NULL)
			continue;
		ret = tag_msg(ix, msg, ids[i], add, n_add, remove, n_remove, &differs, error_r);
		changed += differs;
		notmuch_message_destroy(msg);
	}
	for (size_t i = 0; i < n_ids; i++)
		free(ids[i]);
	free(ids);
	if (changed_r)
		*changed_r = changed;
	return ret;
}
