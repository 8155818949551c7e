/* mailbox: the front of the driver table — picking a driver by name, and
 * the answers for operations a driver leaves out (copy between drivers
 * through read + append; move as copy + expunge). */
#include "client/mailbox-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Tried in order; the last accepts every name. */
static const struct mailbox_driver *const drivers[] = {
	&mailbox_search_driver,
	&mailbox_imap_driver,
	&mailbox_store_driver,
};

void mailbox_base_init(struct mailbox *mb, const struct mailbox_driver *drv,
		       const struct mailbox_env *env, const char *name)
{
	mb->drv = drv;
	mb->env = *env;
	mb->name = xstrdup(name);
}

void mailbox_base_deinit(struct mailbox *mb)
{
	free(mb->name);
	mb->name = NULL;
	mailbox_threads_drop(mb);
}

int mailbox_open(const struct mailbox_env *env, const char *name, unsigned flags,
		 struct mailbox **mb_r, const char **error_r)
{
	*mb_r = NULL;
	for (size_t k = 0; k < sizeof(drivers) / sizeof(drivers[0]); k++)
		if (drivers[k]->accepts(name))
			return drivers[k]->open(env, name, flags, mb_r, error_r);
	*error_r = "no driver for this mailbox";
	return -1;
}

void mailbox_close(struct mailbox **mbp)
{
	if (*mbp == NULL)
		return;
	(*mbp)->drv->close(*mbp);
	*mbp = NULL;
}

const char *mailbox_name(const struct mailbox *mb)
{
	return mb->name;
}

unsigned mailbox_caps(const struct mailbox *mb)
{
	return mb->drv->caps(mb);
}

size_t mailbox_count(const struct mailbox *mb)
{
	return mb->drv->count(mb);
}

void mailbox_msg(const struct mailbox *mb, size_t i, struct mailbox_msg *m_r)
{
	mb->drv->msg(mb, i, m_r);
}

const char *mailbox_threadkey(const struct mailbox *mb, size_t i)
{
	return mb->drv->threadkey ? mb->drv->threadkey(mb, i) : NULL;
}

long mailbox_index_of(const struct mailbox *mb, uint32_t uid)
{
	return mb->drv->index_of(mb, uid);
}

int mailbox_envelope(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	return mb->drv->envelope(mb, i, out, error_r);
}

int mailbox_read(struct mailbox *mb, size_t i, struct sbuf *out, const char **error_r)
{
	return mb->drv->read(mb, i, out, error_r);
}

char *mailbox_path(const struct mailbox *mb, size_t i)
{
	return mb->drv->path ? mb->drv->path(mb, i) : NULL;
}

bool mailbox_same(const struct mailbox *a, const struct mailbox *b)
{
	return a->drv == b->drv && a->drv->same && a->drv->same(a, b);
}

int mailbox_sync(struct mailbox *mb, struct store_changes *ch_r, const char **error_r)
{
	if (mb->drv->sync)
		return mb->drv->sync(mb, ch_r, error_r);
	if (ch_r)
		memset(ch_r, 0, sizeof(*ch_r));
	return 0;
}

int mailbox_notify_fd(struct mailbox *mb)
{
	return mb->drv->notify_fd ? mb->drv->notify_fd(mb) : -1;
}

const char *mailbox_status(struct mailbox *mb)
{
	return mb->drv->status ? mb->drv->status(mb) : NULL;
}

int mailbox_step(struct mailbox *mb, size_t max)
{
	return mb->drv->step ? mb->drv->step(mb, max) : 0;
}

bool mailbox_pending(const struct mailbox *mb)
{
	return mb->drv->pending && mb->drv->pending(mb);
}

void mailbox_stop(struct mailbox *mb)
{
	if (mb->drv->stop)
		mb->drv->stop(mb);
}

static int read_only(const struct mailbox *mb, const char **error_r)
{
	*error_r = mailbox_caps(mb) & MAILBOX_CAP_VIRTUAL ? "search results are read-only"
							 : "the mailbox is read-only";
	return -1;
}

int mailbox_set_flags(struct mailbox *mb, const uint32_t *v, size_t n, enum store_flag_op op,
		      uint32_t flags, const char **error_r)
{
	if (mb->drv->set_flags == NULL)
		return read_only(mb, error_r);
	return n ? mb->drv->set_flags(mb, v, n, op, flags, error_r) : 0;
}

int mailbox_copy_through(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
			unsigned flags, const char **error_r)
{
	struct sbuf sb = SBUF_INIT;
	int ret = 0;

	for (size_t k = 0; k < n && ret == 0; k++) {
		struct mailbox_msg m;
		uint32_t fl;

		mailbox_msg(mb, v[k], &m);
		fl = m.flags & ~(uint32_t)STORE_RECENT;
		if (flags & MAILBOX_COPY_UNDELETE)
			fl &= ~(uint32_t)STORE_DELETED;
		sbuf_reset(&sb);
		if (mailbox_read(mb, v[k], &sb, error_r) < 0 ||
		    mailbox_append(dst, sb.buf, sb.len, fl, NULL, error_r) < 0)
			ret = -1;
	}
	sbuf_release(&sb);
	return ret;
}

int mailbox_copy(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		 unsigned flags, const char **error_r)
{
	if (n == 0)
		return 0;
	if (mb->drv == dst->drv && mb->drv->copy)
		return mb->drv->copy(mb, v, n, dst, flags, error_r);
	return mailbox_copy_through(mb, v, n, dst, flags, error_r);
}

int mailbox_move(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
		 const char **error_r)
{
	if (mb->drv->expunge == NULL)
		return read_only(mb, error_r);
	if (n == 0)
		return 0;
	if (mb->drv == dst->drv && mb->drv->move)
		return mb->drv->move(mb, v, n, dst, error_r);
	if (mailbox_copy(mb, v, n, dst, 0, error_r) < 0)
		return -1;
	return mailbox_expunge(mb, v, n, error_r);
}

int mailbox_expunge(struct mailbox *mb, const uint32_t *v, size_t n, const char **error_r)
{
	if (mb->drv->expunge == NULL)
		return read_only(mb, error_r);
	return n ? mb->drv->expunge(mb, v, n, error_r) : 0;
}

int mailbox_append(struct mailbox *mb, const char *data, size_t len, uint32_t flags,
		   uint32_t *uid_r, const char **error_r)
{
	uint32_t uid;

	if (mb->drv->append == NULL)
		return read_only(mb, error_r);
	return mb->drv->append(mb, data, len, flags, uid_r ? uid_r : &uid, error_r);
}

int mailbox_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		size_t n_add, const char *const *rm, size_t n_rm, size_t *done_r,
		const char **error_r)
{
	*done_r = 0;
	if (mb->drv->tag == NULL) {
		*error_r = "this mailbox has no tags";
		return -1;
	}
	return mb->drv->tag(mb, v, n, add, n_add, rm, n_rm, done_r, error_r);
}

int mailbox_search(struct mailbox *mb, const char *key, uint32_t **uids_r, size_t *n_r,
		   const char **error_r)
{
	if (mb->drv->search == NULL) {
		*error_r = "this mailbox has no server to search";
		return -1;
	}
	return mb->drv->search(mb, key, uids_r, n_r, error_r);
}

const char *mailbox_msg_tags(const struct mailbox *mb, size_t i)
{
	return mb->drv->msg_tags != NULL ? mb->drv->msg_tags(mb, i) : NULL;
}
