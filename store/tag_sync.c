/* tag_sync: notmuch tags <-> store keywords (the contract is in
 * tag_sync.h).  One pass: find what changed on either side since the last
 * pass, merge each message found once, write the marks. */
#include "store/tag_sync.h"
#include "store/index-private.h"
#include "store/tag_sync-private.h"
#include "store/store-private.h"
#include "lib/atomic.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* The agreed set: one value per keyword (a Xapian term holds at most 245
 * bytes, so the set is not one value), and AGREED, which no keyword can
 * be, so that an agreed empty set is told from none. */
#define PROP "loft.keyword"
#define AGREED "\\"
#define STATE_NAME "tag-sync"
#define STATE_MAGIC "loft-tag-sync 1"
#define TS_WRITE_GROUP 256		/* messages merged between keyword writes */

/* Tags that are flags, or that notmuch and loft set by themselves. */
static const char *const not_keywords[] = {
	"unread", "replied", "flagged", "draft", "passed", "deleted",
	"inbox", "new", "attachment", "signed", "encrypted", "$Forwarded",
};

bool tag_sync_is_keyword(const char *tag, size_t len)
{
	if (len == 0 || len > TAG_SYNC_KEYWORD_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tag[i];

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	for (size_t i = 0; i < sizeof(not_keywords) / sizeof(not_keywords[0]); i++)
		if (strlen(not_keywords[i]) == len && strncasecmp(not_keywords[i], tag, len) == 0)
			return false;
	return true;
}

/* Steps through a space-separated list: the next word's length (0 at the
 * end), *p moved to it. */
static size_t next_word(const char **p)
{
	*p += strspn(*p, " ");
	return strcspn(*p, " ");
}

static void add_word(struct sbuf *out, const char *w, size_t n)
{
	if (store_keywords_has(out->buf, w, n))
		return;
	if (out->len > 0)
		sbuf_addch(out, ' ');
	sbuf_add(out, w, n);
}

static bool keep_word(const char *base, const char *const *sides, const bool *known, size_t n,
		      const char *w, size_t len)
{
	if (base == NULL || !store_keywords_has(base, w, len)) {
		for (size_t s = 0; s < n; s++)
			if (store_keywords_has(sides[s], w, len))
				return true;
		return false;
	}
	for (size_t s = 0; s < n; s++)
		if (known[s] && !store_keywords_has(sides[s], w, len))
			return false;
	return true;
}

char *tag_sync_merge(const char *base, const char *const *sides, const bool *known, size_t n)
{
	struct sbuf out = SBUF_INIT;

	sbuf_addstr(&out, "");
	for (size_t s = 0; s <= n; s++) {
		const char *p = s < n ? sides[s] : base;
		size_t len;

		for (p = p != NULL ? p : ""; (len = next_word(&p)) > 0; p += len)
			if (keep_word(base, sides, known, n, p, len))
				add_word(&out, p, len);
	}
	return sbuf_detach(&out, NULL);
}

/* Whether every word of a is in b and back. */
static bool same_set(const char *a, const char *b)
{
	size_t len;

	for (const char *p = a; (len = next_word(&p)) > 0; p += len)
		if (!store_keywords_has(b, p, len))
			return false;
	for (const char *p = b; (len = next_word(&p)) > 0; p += len)
		if (!store_keywords_has(a, p, len))
			return false;
	return true;
}

/* ---- the pass ---- */

/* A file's key (loc_key) in the snapshot, found once: the strings are the
 * folder's (arena), valid until it is closed. */
struct ts_key {
	const char *key;
	size_t len, idx;
};

struct ts_folder {
	char *name;
	char *dir;			/* its directory under the root: the name, or
					 * ".A.B" for a Maildir++ folder "A/B" */
	struct store_folder *f;		/* NULL until opened */
	bool saved;			/* the last pass saw it */
	uint32_t s_uidvalidity, s_uidnext;	/* as the last pass saw it */
	uint64_t s_modseq;
	uint32_t uidvalidity, uidnext;	/* what this pass saves */
	uint64_t modseq;
	struct ts_key *by_key;		/* the snapshot's file keys, sorted */
	bool open_failed;
};

struct ts {
	struct store *store;
	struct index *ix;
	bool full;
	char uuid[64];
	char stamp[96];			/* the database's, as the last pass began */
	unsigned long rev;		/* the last pass's revision */
	struct ts_folder *folders;
	size_t n_folders;
	char **ids;			/* messages to merge */
	size_t n_ids, ids_alloc;
	char **new_tags;		/* the database's new.tags */
	size_t n_new_tags;
	struct tag_sync_result *res;
	struct ts_writes writes;	/* store keyword changes not applied yet */
};

/* A tag carried as a keyword in this database. */
static bool carried(const struct ts *ts, const char *w, size_t len)
{
	if (!tag_sync_is_keyword(w, len))
		return false;
	for (size_t i = 0; i < ts->n_new_tags; i++)
		if (strlen(ts->new_tags[i]) == len && strncasecmp(ts->new_tags[i], w, len) == 0)
			return false;
	return true;
}

/* The carried words of a store keyword list (malloc'd). */
static char *carried_words(const struct ts *ts, const char *list)
{
	struct sbuf out = SBUF_INIT;
	size_t len;

	sbuf_addstr(&out, "");
	for (const char *p = list != NULL ? list : ""; (len = next_word(&p)) > 0; p += len)
		if (carried(ts, p, len))
			add_word(&out, p, len);
	return sbuf_detach(&out, NULL);
}

static struct ts_folder *folder_named(struct ts *ts, const char *name, size_t len)
{
	for (size_t i = 0; i < ts->n_folders; i++)
		if (strlen(ts->folders[i].name) == len && strncmp(ts->folders[i].name, name, len) == 0)
			return &ts->folders[i];
	return NULL;
}

static struct ts_folder *folder_in(struct ts *ts, const char *dir, size_t len)
{
	for (size_t i = 0; i < ts->n_folders; i++)
		if (strlen(ts->folders[i].dir) == len && strncmp(ts->folders[i].dir, dir, len) == 0)
			return &ts->folders[i];
	return NULL;
}

static struct ts_folder *folder_add(struct ts *ts, const char *name, size_t len)
{
	struct ts_folder *tf;

	ts->folders = xreallocarray(ts->folders, ts->n_folders + 1, sizeof(*ts->folders));
	tf = &ts->folders[ts->n_folders++];
	memset(tf, 0, sizeof(*tf));
	tf->name = xstrndup(name, len);
	tf->dir = xstrndup(name, len);
	return tf;
}

/* "A/B" lives in ROOT/.A.B (as store_resolve() finds it). */
static void set_maildirpp(struct ts_folder *tf)
{
	free(tf->dir);
	tf->dir = xasprintf(".%s", tf->name);
	for (char *p = tf->dir; *p; p++)
		if (*p == '/')
			*p = '.';
}

/* ---- the marks file ---- */

static char *state_path(const struct ts *ts)
{
	return xasprintf("%s/" STATE_NAME, ts->store->state_dir);
}

/* Reads the marks; a missing or garbled file leaves ts->full set. */
static void load_marks(struct ts *ts)
{
	char *path = state_path(ts), *line = NULL;
	FILE *fp = fopen(path, "r");
	size_t cap = 0;
	ssize_t n;
	bool ok = false;

	free(path);
	if (fp == NULL)
		return;
	if (getline(&line, &cap, fp) > 0 && strcmp(line, STATE_MAGIC "\n") == 0 &&
	    (n = getline(&line, &cap, fp)) > 0 &&
	    sscanf(line, "rev %63s %lu", ts->uuid, &ts->rev) == 2)
		ok = true;
	while (ok && (n = getline(&line, &cap, fp)) > 0) {
		uint32_t uv, next;
		uint64_t ms;
		int off = 0;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "db ", 3) == 0) {
			snprintf(ts->stamp, sizeof(ts->stamp), "%s", line + 3);
			continue;
		}
		if (sscanf(line, "f %" SCNu32 " %" SCNu32 " %" SCNu64 " %n", &uv, &next, &ms, &off) < 3 ||
		    off == 0 || line[off] == '\0') {
			ok = false;
			break;
		}
		struct ts_folder *tf = folder_add(ts, line + off, strlen(line + off));

		tf->saved = true;
		tf->s_uidvalidity = tf->uidvalidity = uv;
		tf->s_uidnext = tf->uidnext = next;
		tf->s_modseq = tf->modseq = ms;
	}
	free(line);
	fclose(fp);
	ts->full = !ok;
	if (!ok)
		for (size_t i = 0; i < ts->n_folders; i++)
			ts->folders[i].saved = false;
}

static bool same_file(const char *path, const struct sbuf *sb)
{
	char *buf = xmalloc(sb->len + 1);
	FILE *fp = fopen(path, "r");
	bool same = fp != NULL && fread(buf, 1, sb->len + 1, fp) == sb->len &&
		    memcmp(buf, sb->buf, sb->len) == 0;

	if (fp != NULL)
		fclose(fp);
	free(buf);
	return same;
}

static int save_marks(struct ts *ts, const char *uuid, unsigned long rev, const char *stamp,
		      const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	char *path = state_path(ts);
	const char *why;
	int ret = 0;

	sbuf_addf(&sb, STATE_MAGIC "\nrev %s %lu\n", uuid, rev);
	if (stamp[0] != '\0')
		sbuf_addf(&sb, "db %s\n", stamp);
	for (size_t i = 0; i < ts->n_folders; i++) {
		const struct ts_folder *tf = &ts->folders[i];

		if (tf->uidvalidity != 0)
			sbuf_addf(&sb, "f %" PRIu32 " %" PRIu32 " %" PRIu64 " %s\n", tf->uidvalidity,
				  tf->uidnext, tf->modseq, tf->name);
	}
	/* Unchanged marks are not written again: a pass that found nothing
	 * costs no fsync (loft sync of an unchanged store). */
	if (!same_file(path, &sb) && atomic_write_file(path, sb.buf, sb.len, 0600, &why) < 0)
		ret = store_fail_errno(ts->store, error_r, "%s: %s", path, why);
	sbuf_release(&sb);
	free(path);
	return ret;
}

/* ---- folders ---- */

/* The unique part of a location's file name (before ":2,"). */
static const char *loc_key(const char *location, size_t *len_r)
{
	const char *base = strrchr(location, '/');
	const char *info;

	base = base != NULL ? base + 1 : location;
	info = strstr(base, ":2,");
	*len_r = info != NULL ? (size_t)(info - base) : strlen(base);
	return base;
}

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : (an > bn) - (an < bn);
}

static int by_key_cmp(const void *x, const void *y)
{
	const struct ts_key *a = x, *b = y;

	return key_cmp(a->key, a->len, b->key, b->len);
}

static int open_folder(struct ts *ts, struct ts_folder *tf, const char **error_r)
{
	if (tf->f != NULL)
		return 0;
	if (tf->open_failed || store_folder_open(ts->store, tf->name, &tf->f, error_r) < 0) {
		tf->open_failed = true;
		return -1;
	}
	if (store_folder_kind(tf->f) != STORE_MAILDIR) {
		store_folder_close(&tf->f);
		tf->open_failed = true;
		return -1;
	}
	return 0;
}

/* The snapshot entry of the file named base in tf's folder, or NULL. */
static const struct store_msg *folder_msg(struct ts_folder *tf, const char *base)
{
	size_t n = tf->f->count, lo = 0, hi = n, len;
	const char *key = loc_key(base, &len);

	if (tf->by_key == NULL) {
		tf->by_key = xreallocarray(NULL, n ? n : 1, sizeof(*tf->by_key));
		for (size_t i = 0; i < n; i++) {
			tf->by_key[i].key = loc_key(tf->f->msgs[i].location, &tf->by_key[i].len);
			tf->by_key[i].idx = i;
		}
		qsort(tf->by_key, n, sizeof(*tf->by_key), by_key_cmp);
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct store_msg *m = &tf->f->msgs[tf->by_key[mid].idx];
		int c = key_cmp(key, len, tf->by_key[mid].key, tf->by_key[mid].len);

		if (c == 0)
			return m;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void want_id(struct ts *ts, const char *id)
{
	if (ts->n_ids == ts->ids_alloc) {
		ts->ids_alloc = ts->ids_alloc ? 2 * ts->ids_alloc : 64;
		ts->ids = xreallocarray(ts->ids, ts->ids_alloc, sizeof(*ts->ids));
	}
	ts->ids[ts->n_ids++] = xstrdup(id);
}

/* The message ids of the records of tf that changed since the last pass
 * (or, for a folder the last pass did not see, that have a keyword). */
static void changed_records(struct ts *ts, struct ts_folder *tf)
{
	bool known = !ts->full && tf->saved && tf->s_uidvalidity == tf->f->uidvalidity;

	for (size_t i = 0; i < tf->f->count; i++) {
		const struct store_msg *m = &tf->f->msgs[i];
		notmuch_message_t *msg = NULL;

		if (known ? m->uid < tf->s_uidnext && m->modseq <= tf->s_modseq
			  : m->keywords[0] == '\0')
			continue;
		char *path = xasprintf("%s/%s", tf->f->path, m->location);

		if (notmuch_database_find_message_by_filename(ts->ix->db, path, &msg) == 0 && msg) {
			want_id(ts, notmuch_message_get_message_id(msg));
			notmuch_message_destroy(msg);
		} else if (m->threadkey != NULL) {
			/* Renamed by a flag change the index has not seen yet:
			 * found by its Message-ID (the thread key's second
			 * field), and its copy by the file's unique part. */
			const char *id = m->threadkey + strlen(m->threadkey) + 1;
			size_t len;

			id += strspn(id, " \t<");
			len = strcspn(id, " \t>");
			if (len > 0) {
				char *bare = xstrndup(id, len);

				want_id(ts, bare);
				free(bare);
			}
		}
		free(path);
	}
}

/* Every folder: unchanged ones (by their state header) are passed over;
 * the others are opened and their changed records' messages listed. */
static int scan_folders(struct ts *ts, const char **error_r)
{
	struct store_folder_info *list;
	size_t n;

	if (store_folder_list(ts->store, &list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct ts_folder *tf;
		uint32_t uv, next;
		uint64_t ms;
		const char *err;

		if (list[i].kind != STORE_MAILDIR)
			continue;
		tf = folder_named(ts, list[i].name, strlen(list[i].name));
		if (tf == NULL)
			tf = folder_add(ts, list[i].name, strlen(list[i].name));
		if (list[i].maildirpp)
			set_maildirpp(tf);
		if (!ts->full && tf->saved &&
		    store_folder_peek(ts->store, tf->name, &uv, &next, &ms, &err) == 1 &&
		    uv == tf->s_uidvalidity && ms == tf->s_modseq && next == tf->s_uidnext)
			continue;
		if (open_folder(ts, tf, &err) < 0)
			continue;	/* not a folder loft can open: nothing to carry */
		tf->uidvalidity = tf->f->uidvalidity;
		tf->uidnext = tf->f->uidnext;
		tf->modseq = tf->f->highestmodseq;
		changed_records(ts, tf);
	}
	store_folder_list_free(list, n);
	return 0;
}

/* The messages whose tags changed since the last pass (a full pass: every
 * message with a carried tag). */
static int changed_messages(struct ts *ts, unsigned long rev_now, const char **error_r)
{
	struct sbuf q = SBUF_INIT;
	notmuch_query_t *query = NULL;
	notmuch_messages_t *msgs;
	notmuch_status_t st;
	int ret = 0;

	if (ts->full) {
		notmuch_tags_t *tags = notmuch_database_get_all_tags(ts->ix->db);

		for (; tags && notmuch_tags_valid(tags); notmuch_tags_move_to_next(tags)) {
			const char *t = notmuch_tags_get(tags);

			if (carried(ts, t, strlen(t)))
				sbuf_addf(&q, "%stag:\"%s\"", q.len ? " OR " : "", t);
		}
		if (tags)
			notmuch_tags_destroy(tags);
	} else if (rev_now > ts->rev) {
		sbuf_addf(&q, "lastmod:%lu..%lu", ts->rev + 1, rev_now);
	}
	if (q.len == 0)
		goto out;
	st = notmuch_query_create_with_syntax(ts->ix->db, q.buf, NOTMUCH_QUERY_SYNTAX_XAPIAN, &query);
	if (st == 0)
		st = notmuch_query_search_messages(query, &msgs);
	if (st != 0) {
		ret = store_fail(ts->store, error_r, "tags: %s: %s", q.buf,
				 notmuch_status_to_string(st));
		goto out;
	}
	for (; notmuch_messages_valid(msgs); notmuch_messages_move_to_next(msgs)) {
		notmuch_message_t *msg = notmuch_messages_get(msgs);

		want_id(ts, notmuch_message_get_message_id(msg));
		notmuch_message_destroy(msg);
	}
	notmuch_messages_destroy(msgs);
out:
	if (query)
		notmuch_query_destroy(query);
	sbuf_release(&q);
	return ret;
}

/* ---- one message ---- */

struct ts_copy {
	struct ts_folder *tf;
	uint32_t uid;
	char *words;			/* its carried keywords */
	bool known;
};

/* The copies of msg in the store's maildir folders. */
static size_t copies_of(struct ts *ts, notmuch_message_t *msg, struct ts_copy **cv_r)
{
	size_t root_len = strlen(ts->store->root), n = 0;
	struct ts_copy *cv = NULL;
	notmuch_filenames_t *fn;

	for (fn = notmuch_message_get_filenames(msg); notmuch_filenames_valid(fn);
	     notmuch_filenames_move_to_next(fn)) {
		const char *path = notmuch_filenames_get(fn), *base = strrchr(path, '/'), *err;
		struct ts_folder *tf;
		const struct store_msg *m;
		size_t name_len;

		/* ROOT/NAME/cur/BASE or ROOT/NAME/new/BASE */
		if (strncmp(path, ts->store->root, root_len) != 0 || path[root_len] != '/' ||
		    base == NULL || base - path < (ptrdiff_t)root_len + 6 ||
		    (strncmp(base - 4, "/cur", 4) != 0 && strncmp(base - 4, "/new", 4) != 0))
			continue;
		name_len = (size_t)(base - 4 - (path + root_len + 1));
		tf = folder_in(ts, path + root_len + 1, name_len);
		if (tf == NULL)
			tf = folder_add(ts, path + root_len + 1, name_len);
		if (open_folder(ts, tf, &err) < 0 || (m = folder_msg(tf, base + 1)) == NULL)
			continue;
		cv = xreallocarray(cv, n + 1, sizeof(*cv));
		cv[n].tf = tf;
		cv[n].uid = m->uid;
		cv[n].words = carried_words(ts, m->keywords);
		cv[n].known = !ts->full && tf->saved && tf->s_uidvalidity == tf->f->uidvalidity &&
			      m->uid < tf->s_uidnext;
		n++;
	}
	notmuch_filenames_destroy(fn);
	*cv_r = cv;
	return n;
}

/* The tags of msg carried as keywords. */
static char *carried_tags(struct ts *ts, notmuch_message_t *msg)
{
	struct sbuf out = SBUF_INIT;
	notmuch_tags_t *tags;

	sbuf_addstr(&out, "");
	for (tags = notmuch_message_get_tags(msg); notmuch_tags_valid(tags);
	     notmuch_tags_move_to_next(tags)) {
		const char *t = notmuch_tags_get(tags);

		if (carried(ts, t, strlen(t)))
			add_word(&out, t, strlen(t));
	}
	notmuch_tags_destroy(tags);
	return sbuf_detach(&out, NULL);
}

/* Tags to the merged set: words of merged added, carried tags not in it
 * removed, in one atomic section; then the agreed set as the property. */
static notmuch_status_t write_tags(struct ts *ts, notmuch_message_t *msg, const char *tags,
				   const char *merged, const char *base)
{
	notmuch_status_t st = notmuch_database_begin_atomic(ts->ix->db), st2;
	struct sbuf drop = SBUF_INIT;
	notmuch_tags_t *tv;
	size_t len;

	if (st != 0)
		return st;
	sbuf_addstr(&drop, "");
	if ((st = notmuch_message_freeze(msg)) != 0)
		goto out;
	for (const char *p = merged; st == 0 && (len = next_word(&p)) > 0; p += len) {
		if (!store_keywords_has(tags, p, len)) {
			char *t = xstrndup(p, len);

			st = notmuch_message_add_tag(msg, t);
			free(t);
		}
	}
	/* Collected first: removing while walking the tags would move them. */
	for (tv = notmuch_message_get_tags(msg); notmuch_tags_valid(tv);
	     notmuch_tags_move_to_next(tv)) {
		const char *t = notmuch_tags_get(tv);

		if (carried(ts, t, strlen(t)) && !store_keywords_has(merged, t, strlen(t)))
			sbuf_addf(&drop, "%s ", t);
	}
	notmuch_tags_destroy(tv);
	for (const char *p = drop.buf; st == 0 && (len = next_word(&p)) > 0; p += len) {
		char *t = xstrndup(p, len);

		st = notmuch_message_remove_tag(msg, t);
		free(t);
	}
	if (st == 0 && (base == NULL || !same_set(base, merged))) {
		st = notmuch_message_remove_all_properties(msg, PROP);
		if (st == 0)
			st = notmuch_message_add_property(msg, PROP, AGREED);
		for (const char *p = merged; st == 0 && (len = next_word(&p)) > 0; p += len) {
			char *w = xstrndup(p, len);

			st = notmuch_message_add_property(msg, PROP, w);
			free(w);
		}
	}
	st2 = notmuch_message_thaw(msg);
	if (st == 0)
		st = st2;
out:
	st2 = notmuch_database_end_atomic(ts->ix->db);
	sbuf_release(&drop);
	return st != 0 ? st : st2;
}

/* The words of a not in b, space-separated (malloc'd). */
static char *minus(const char *a, const char *b)
{
	struct sbuf out = SBUF_INIT;
	size_t len;

	sbuf_addstr(&out, "");
	for (const char *p = a; (len = next_word(&p)) > 0; p += len)
		if (!store_keywords_has(b, p, len))
			add_word(&out, p, len);
	return sbuf_detach(&out, NULL);
}

/* Gathers the change of a copy's keywords to merged (applied in groups:
 * tag_sync-private.h). */
static void write_copy(struct ts *ts, const struct ts_copy *c, const char *merged)
{
	char *add = minus(merged, c->words), *del = minus(c->words, merged);

	if (add[0] == '\0' && del[0] == '\0') {
		free(add);
		free(del);
		return;
	}
	ts_writes_add(&ts->writes, c->tf->f, c->uid, add, del);
	ts->res->keywords_changed++;
}

/* The agreed set kept with msg (malloc'd), or NULL when there is none. */
static char *agreed_set(notmuch_message_t *msg)
{
	notmuch_message_properties_t *pv = notmuch_message_get_properties(msg, PROP, true);
	struct sbuf sb = SBUF_INIT;
	bool agreed = false;

	sbuf_addstr(&sb, "");
	for (; pv && notmuch_message_properties_valid(pv);
	     notmuch_message_properties_move_to_next(pv)) {
		const char *v = notmuch_message_properties_value(pv);

		if (strcmp(v, AGREED) == 0)
			agreed = true;
		else
			add_word(&sb, v, strlen(v));
	}
	if (pv)
		notmuch_message_properties_destroy(pv);
	if (!agreed) {
		sbuf_release(&sb);
		return NULL;
	}
	return sbuf_detach(&sb, NULL);
}

static int merge_message(struct ts *ts, const char *id, const char **error_r)
{
	notmuch_message_t *msg = NULL;
	struct ts_copy *cv = NULL;
	char *tags, *merged, *base;
	size_t n;
	int ret = 0;

	if (notmuch_database_find_message(ts->ix->db, id, &msg) != 0 || msg == NULL)
		return 0;	/* gone meanwhile */
	ts->res->messages++;
	tags = carried_tags(ts, msg);
	base = agreed_set(msg);
	n = copies_of(ts, msg, &cv);

	const char **sides = xreallocarray(NULL, n + 1, sizeof(*sides));
	bool *known = xreallocarray(NULL, n + 1, sizeof(*known));

	sides[0] = tags;
	known[0] = base != NULL;
	for (size_t i = 0; i < n; i++) {
		sides[i + 1] = cv[i].words;
		known[i + 1] = cv[i].known && base != NULL;
	}
	merged = tag_sync_merge(base, sides, known, n + 1);
	/* With nothing on any side, no agreed set is recorded: the first
	 * change from empty is an addition, which the union (no agreed set)
	 * and the three-way merge (an empty one) decide alike; and writing a
	 * property rewrites the message's whole notmuch document, once per
	 * new message after a first sync. */
	bool empty = merged[0] == '\0' && base == NULL && same_set(tags, merged);

	if (!empty && (!same_set(tags, merged) || base == NULL || !same_set(base, merged))) {
		notmuch_status_t st = write_tags(ts, msg, tags, merged, base);

		if (st != 0)
			ret = store_fail(ts->store, error_r, "tags of %s: %s", id,
					 notmuch_status_to_string(st));
		else if (!same_set(tags, merged))
			ts->res->tags_changed++;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		if (!same_set(cv[i].words, merged))
			write_copy(ts, &cv[i], merged);
	for (size_t i = 0; i < n; i++)
		free(cv[i].words);
	free(cv);
	free(sides);
	free(known);
	free(merged);
	free(tags);
	free(base);
	notmuch_message_destroy(msg);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_new_tags(struct ts *ts)
{
	notmuch_config_values_t *v;

	for (v = notmuch_config_get_values(ts->ix->db, NOTMUCH_CONFIG_NEW_TAGS);
	     v && notmuch_config_values_valid(v); notmuch_config_values_move_to_next(v)) {
		ts->new_tags = xreallocarray(ts->new_tags, ts->n_new_tags + 1, sizeof(char *));
		ts->new_tags[ts->n_new_tags++] = xstrdup(notmuch_config_values_get(v));
	}
	if (v)
		notmuch_config_values_destroy(v);
}

/* Which commit the database is at, as the file system shows it: Xapian
 * replaces its version file (iamglass) at each commit, and leaves it alone
 * when a writer commits nothing.  "" when it cannot be read. */
static void db_stamp(const struct store *store, char *buf, size_t size)
{
	/* The layouts of index_open(): DB_DIR/xapian, or ROOT/.notmuch/xapian. */
	char *path = store->notmuch_db != NULL && store->notmuch_db[0] != '\0'
			     ? xasprintf("%s/xapian/iamglass", store->notmuch_db)
			     : xasprintf("%s/.notmuch/xapian/iamglass", store->root);
	struct stat st;

	buf[0] = '\0';
	if (stat(path, &st) == 0)
		snprintf(buf, size, "%ju %jd %jd.%09ld", (uintmax_t)st.st_ino, (intmax_t)st.st_size,
			 (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	free(path);
}

static void ts_free(struct ts *ts)
{
	for (size_t i = 0; i < ts->n_folders; i++) {
		store_folder_close(&ts->folders[i].f);
		free(ts->folders[i].by_key);
		free(ts->folders[i].name);
		free(ts->folders[i].dir);
	}
	free(ts->folders);
	for (size_t i = 0; i < ts->n_ids; i++)
		free(ts->ids[i]);
	free(ts->ids);
	for (size_t i = 0; i < ts->n_new_tags; i++)
		free(ts->new_tags[i]);
	free(ts->new_tags);
	ts_writes_clear(&ts->writes);
}

int tag_sync_run(struct store *store, struct index *ix, struct tag_sync_result *result_r,
		 const char **error_r)
{
	struct tag_sync_result res = { 0 };
	struct ts ts = { .store = store, .ix = ix, .full = true, .res = &res };
	const char *uuid = NULL;
	unsigned long rev_now;
	char *uuid_now, stamp[sizeof(ts.stamp)];
	int ret = -1;

	db_stamp(store, stamp, sizeof(stamp));	/* before the revision: see above */
	rev_now = notmuch_database_get_revision(ix->db, &uuid);
	uuid_now = xstrdup(uuid != NULL ? uuid : "");
	load_marks(&ts);
	if (strcmp(ts.uuid, uuid_now) != 0 || rev_now < ts.rev)
		ts.full = true;
	res.full = ts.full;
	load_new_tags(&ts);
	if (scan_folders(&ts, error_r) < 0 || changed_messages(&ts, rev_now, error_r) < 0)
		goto out;
	if (ts.n_ids > 1)	/* qsort(NULL, 0) is undefined */
		qsort(ts.ids, ts.n_ids, sizeof(*ts.ids), cmp_str);
	/* The store's keywords are written every TS_WRITE_GROUP messages:
	 * a commit per group of equal changes, and a kill leaves at most that
	 * many messages' tags written ahead of their keywords. */
	for (size_t i = 0; i < ts.n_ids; i++) {
		if ((i == 0 || strcmp(ts.ids[i], ts.ids[i - 1]) != 0) &&
		    merge_message(&ts, ts.ids[i], error_r) < 0)
			goto out;
		if ((i + 1) % TS_WRITE_GROUP == 0 && ts_writes_flush(&ts.writes, error_r) < 0)
			goto out;
	}
	if (ts_writes_flush(&ts.writes, error_r) < 0)
		goto out;
	/* The marks are those read before this pass wrote: what it wrote is
	 * looked at once more by the next pass, which finds it agreed. */
	ret = save_marks(&ts, uuid_now, rev_now, stamp, error_r);
out:
	ts_free(&ts);
	free(uuid_now);
	if (result_r != NULL)
		*result_r = res;
	return ret;
}

/* Whether neither side changed since the last pass: the database at the
 * same commit, every maildir folder as the marks say (its state header). */
static bool nothing_changed(struct store *store)
{
	struct ts ts = { .store = store, .full = true };
	struct store_folder_info *list;
	char stamp[sizeof(ts.stamp)];
	const char *err;
	size_t n = 0;
	bool same;

	load_marks(&ts);
	db_stamp(store, stamp, sizeof(stamp));
	same = !ts.full && stamp[0] != '\0' && strcmp(stamp, ts.stamp) == 0 &&
	       store_folder_list(store, &list, &n, &err) == 0;
	for (size_t i = 0; same && i < n; i++) {
		struct ts_folder *tf = folder_named(&ts, list[i].name, strlen(list[i].name));
		uint32_t uv, next;
		uint64_t ms;

		same = list[i].kind != STORE_MAILDIR ||
		       (tf != NULL && store_folder_peek(store, tf->name, &uv, &next, &ms, &err) == 1 &&
			uv == tf->s_uidvalidity && ms == tf->s_modseq && next == tf->s_uidnext);
	}
	if (n > 0)
		store_folder_list_free(list, n);
	ts_free(&ts);
	return same;
}

int tag_sync_store(struct store *store, struct tag_sync_result *result_r, const char **error_r)
{
	struct index *ix = NULL;
	const char *err;
	int ret;

	/* loft sync of an unchanged store loads no notmuch. */
	if (nothing_changed(store)) {
		if (result_r != NULL)
			*result_r = (struct tag_sync_result){ .quick = true };
		return 0;
	}
	if (index_open(store->root, store->notmuch_db, true, &ix, &err) < 0)
		return store_fail(store, error_r, "%s", err);
	ret = tag_sync_run(store, ix, result_r, error_r);
	if (ret == 0 && index_commit(ix, &err) < 0)
		ret = store_fail(store, error_r, "%s", err);
	index_close(&ix);
	return ret;
}

int tag_sync_notify_fd(struct store *store, const char **error_r)
{
	/* The layouts of index_open(): DB_DIR/xapian, or ROOT/.notmuch/xapian. */
	char *dir = store->notmuch_db != NULL && store->notmuch_db[0] != '\0'
			    ? xasprintf("%s/xapian", store->notmuch_db)
			    : xasprintf("%s/.notmuch/xapian", store->root);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0 || inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		store_fail_errno(store, error_r, "%s: inotify", dir);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(dir);
	return fd;
}
