/* mailbox_search: the driver for a notmuch query across the whole store,
 * a virtual folder of files read in steps (mailbox_step), so the caller
 * can show the first screen before the whole result is in.
 *
 * Rows keep notmuch's order (newest first) and are appended as they
 * come; nothing is parsed but the file names (flags come from the maildir
 * suffix): envelopes are read only when asked for.  The rows are
 * read-only, except for their tags (which may rename the files). */
#include "client/mailbox-private.h"

#include "store/index.h"
#include "store/message.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEARCH_PREFIX "search:"

struct search_mailbox {
	struct mailbox mb;
	struct index *ix;		/* while results arrive */
	struct index_search *search;	/* NULL once all are in (or stopped) */
	char **paths;			/* one file per row */
	uint32_t *flags;
	size_t n, alloc;
};

#define QMB(m) ((struct search_mailbox *)(m))
#define CQMB(m) ((const struct search_mailbox *)(m))

/* Maildir flags from a file name's ":2," suffix. */
static uint32_t flags_of_path(const char *path)
{
	const char *info = strstr(path, ":2,");
	uint32_t fl = 0;

	if (info == NULL)
		return strstr(path, "/new/") ? STORE_RECENT : 0;
	for (const char *p = info + 3; *p && *p != '/'; p++)
		switch (*p) {
		case 'S': fl |= STORE_SEEN; break;
		case 'R': fl |= STORE_ANSWERED; break;
		case 'F': fl |= STORE_FLAGGED; break;
		case 'T': fl |= STORE_DELETED; break;
		case 'D': fl |= STORE_DRAFT; break;
		case 'P': fl |= STORE_PASSED; break;
		}
	return fl;
}

static bool search_accepts(const char *name)
{
	return strncmp(name, SEARCH_PREFIX, strlen(SEARCH_PREFIX)) == 0;
}

/* The query's errors come from here, before anything is read. */
static int search_open(const struct mailbox_env *env, const char *name, unsigned flags,
		       struct mailbox **mb_r, const char **error_r)
{
	struct search_mailbox *s;
	struct index *ix = NULL;
	struct index_search *q = NULL;

	(void)flags;
	/* Mail `loft deliver` left for the index is scanned in first, as
	 * `loft search` does, so a search folder shows it. */
	if (env->store != NULL &&
	    index_catch_up(env->root, env->notmuch_db, store_state_dir(env->store), error_r) < 0)
		return -1;
	if (index_open(env->root, env->notmuch_db, false, &ix, error_r) < 0)
		return -1;
	if (index_search_begin(ix, name + strlen(SEARCH_PREFIX), &q, error_r) < 0) {
		/* The index owns the text, and it closes here. */
		static char why[512];

		snprintf(why, sizeof(why), "%s", *error_r);
		*error_r = why;
		index_close(&ix);
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	mailbox_base_init(&s->mb, &mailbox_search_driver, env, name);
	s->ix = ix;
	s->search = q;
	*mb_r = &s->mb;
	return 0;
}

static void search_stop(struct mailbox *mb)
{
	index_search_end(&QMB(mb)->search);
	index_close(&QMB(mb)->ix);
}

static void search_close(struct mailbox *mb)
{
	struct search_mailbox *s = QMB(mb);

	search_stop(mb);
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->flags);
	mailbox_base_deinit(mb);
	free(s);
}

static unsigned search_caps(const struct mailbox *mb)
{
	(void)mb;
	return MAILBOX_CAP_VIRTUAL;
}

static size_t search_count(const struct mailbox *mb)
{
	return CQMB(mb)->n;
}

/* The size a maildir name carries (",S=123"), else the file's.  Asked
 * only for drawn rows (and a sort by size). */
static uint64_t size_of_path(const char *path)
{
	const char *base = strrchr(path, '/'), *s;
	struct stat st;

	s = strstr(base ? base : path, ",S=");
	if (s && s[3] >= '0' && s[3] <= '9')
		return strtoull(s + 3, NULL, 10);
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void search_msg(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r)
{
	const struct search_mailbox *s = CQMB(mb);

	m_r->uid = (uint32_t)i + 1;
	m_r->flags = s->flags[i];
	m_r->size = size_of_path(s->paths[i]);
	m_r->internal_date = 0;
	m_r->threadkey = NULL;
}

static long search_index_of(const struct mailbox *mb, uint32_t uid)
{
	return uid >= 1 && uid <= CQMB(mb)->n ? (long)uid - 1 : -1;
}

/* The file's header block through GMime. */
static int search_envelope(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	struct message *m = message_parse_file(QMB(mb)->paths[i], NULL, NULL, error_r);

	if (m == NULL)
		return 0;
	message_imap_envelope(m, out);
	message_free(&m);
	return 1;
}

static int search_read(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	if (sbuf_read_file(out, QMB(mb)->paths[i], 0) < 0) {
		snprintf(mb->error, sizeof(mb->error), "cannot read the message: %s",
			 strerror(errno));
		*error_r = mb->error;
		return -1;
	}
	return 0;
}

static char *search_path(const struct mailbox *mb, size_t i)
{
	return i < CQMB(mb)->n ? xstrdup(CQMB(mb)->paths[i]) : NULL;
}

/* Appends one row. */
static int add_file(void *vctx, const char *path)
{
	struct search_mailbox *s = vctx;

	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 1024;
		s->paths = xreallocarray(s->paths, s->alloc, sizeof(*s->paths));
		s->flags = xreallocarray(s->flags, s->alloc, sizeof(*s->flags));
	}
	s->paths[s->n] = xstrdup(path);
	s->flags[s->n] = flags_of_path(path);
	s->n++;
	return 0;
}

static int search_step(struct mailbox *mb, size_t max)
{
	struct search_mailbox *s = QMB(mb);

	if (s->search == NULL)
		return 0;
	if (index_search_next(s->search, max, add_file, s) == 0)
		search_stop(mb);
	return s->search != NULL;
}

static bool search_pending(const struct mailbox *mb)
{
	return CQMB(mb)->search != NULL;
}

static void renamed(struct mailbox *mb, size_t i, const char *path)
{
	struct search_mailbox *s = QMB(mb);

	free(s->paths[i]);
	s->paths[i] = xstrdup(path);
	s->flags[i] = flags_of_path(path);
}

static int search_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		      size_t n_add, const char *const *rm, size_t n_rm, size_t *done_r,
		      const char **error_r)
{
	return mailbox_files_tag(mb, v, n, add, n_add, rm, n_rm, renamed, done_r, error_r);
}

const struct mailbox_driver mailbox_search_driver = {
	.name = "search",
	.accepts = search_accepts,
	.open = search_open,
	.close = search_close,
	.caps = search_caps,
	.count = search_count,
	.msg = search_msg,
	.index_of = search_index_of,
	.envelope = search_envelope,
	.read = search_read,
	.path = search_path,
	.step = search_step,
	.pending = search_pending,
	.stop = search_stop,
	.tag = search_tag,
};
