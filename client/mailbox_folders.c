/* mailbox_folders: the folders beside the open mailbox, whatever its
 * kind (see mailbox.h).  A driver with folders of its own (an IMAP
 * account) answers through its table; the others, and no mailbox at all,
 * get the store's folders and the record/postponed settings. */
#include "client/mailbox-private.h"

#include "lib/config.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static int store_folders(const struct mailbox_env *env, bool counts,
			 const struct mailbox_count_hooks *hooks, struct mailbox_folder **v_r,
			 size_t *n_r, const char **error_r)
{
	struct store_folder_info *list;
	struct mailbox_folder *v;
	bool stopped = false;
	size_t n;

	if (store_folder_list(env->store, &list, &n, error_r) < 0)
		return -1;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *err;

		v[i].name = xstrdup(list[i].name);
		if (!counts || stopped)
			continue;
		if (hooks != NULL)
			hooks->begin(hooks->ctx, list[i].name);
		/* A folder that cannot be counted is listed with 0. */
		if (store_folder_status(env->store, list[i].name, &v[i].total, &v[i].unread,
					&err) < 0)
			v[i].total = v[i].unread = 0;
		if (hooks != NULL)
			stopped = hooks->end(hooks->ctx);
	}
	store_folder_list_free(list, n);
	*v_r = v;
	*n_r = n;
	return 0;
}

int mailbox_folders(struct mailbox *mb, const struct mailbox_env *env,
		    enum mailbox_folders_mode mode, bool counts,
		    const struct mailbox_count_hooks *hooks, struct mailbox_folder **v_r,
		    size_t *n_r, const char **error_r)
{
	*v_r = NULL;
	*n_r = 0;
	if (mb != NULL && mb->drv->folders != NULL)
		return mb->drv->folders(mb, mode, v_r, n_r, error_r);
	return store_folders(env, counts, hooks, v_r, n_r, error_r);
}

void mailbox_folders_free(struct mailbox_folder *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

char *mailbox_resolve(const struct mailbox *mb, const char *name, bool bare)
{
	char *s;

	if (mb != NULL && mb->drv->resolve != NULL)
		return mb->drv->resolve(mb, name, bare);
	s = xstrdup(name);
	/* mutt's '=' is loft's '+': a folder of the store. */
	if (s[0] == '=')
		s[0] = '+';
	return s;
}

const char *mailbox_folder(const struct mailbox *mb)
{
	return mb->drv->folder != NULL ? mb->drv->folder(mb) : mb->name;
}

const char *mailbox_role_setting(enum mailbox_role role)
{
	return role == MAILBOX_ROLE_SENT ? "record" : role == MAILBOX_ROLE_DRAFTS ? "postponed"
										  : "trash";
}

char *mailbox_role(struct mailbox *mb, const struct mailbox_env *env, enum mailbox_role role)
{
	const char *v;

	if (mb != NULL && mb->drv->role != NULL)
		return mb->drv->role(mb, role);
	v = config_get(env->cfg, mailbox_role_setting(role));
	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

const char *mailbox_account(const struct mailbox *mb)
{
	return mb != NULL && mb->drv->account != NULL ? mb->drv->account(mb) : NULL;
}

int mailbox_settle(struct mailbox *mb, const char **error_r)
{
	if (mb->drv->settle != NULL)
		return mb->drv->settle(mb, error_r);
	return 0;
}
