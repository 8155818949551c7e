/* mailbox-private: what the drivers of client/mailbox.h share.  Only
 * client/mailbox*.c include it. */
#ifndef LOFT_CLIENT_MAILBOX_PRIVATE_H
#define LOFT_CLIENT_MAILBOX_PRIVATE_H

#include "client/mailbox.h"

/* The part every driver's mailbox starts with. */
struct mailbox {
	const struct mailbox_driver *drv;
	struct mailbox_env env;		/* a copy; the strings stay borrowed */
	char *name;			/* as opened; owned */
	char error[512];		/* an error kept past its source's life */
	/* Threads with rows added (client/mailbox_threads.c) wait to be kept
	 * until mailbox_threads_flush; NULL: nothing waits. */
	struct mailbox_kept_add *kept_add;
};

extern const struct mailbox_driver mailbox_store_driver;
extern const struct mailbox_driver mailbox_search_driver;
extern const struct mailbox_driver mailbox_imap_driver;

/* Fills the common part (name copied). */
void mailbox_base_init(struct mailbox *mb, const struct mailbox_driver *drv,
		       const struct mailbox_env *env, const char *name);
void mailbox_base_deinit(struct mailbox *mb);

/* Forgets threads waiting to be kept (client/mailbox_threads.c). */
void mailbox_threads_drop(struct mailbox *mb);

/* mailbox_copy between drivers: each message read from mb and appended
 * to dst.  Contract as mailbox_copy(). */
int mailbox_copy_through(struct mailbox *mb, const uint32_t *v, size_t n, struct mailbox *dst,
			 unsigned flags, const char **error_r);

/* The tag operation of the drivers whose messages are files: each file of
 * v[0..n) (mailbox_path) is tagged with index_tag_file() through one
 * writer; renamed (may be NULL) is told the file's new name.  Contract as
 * mailbox_tag(). */
int mailbox_files_tag(struct mailbox *mb, const uint32_t *v, size_t n, const char *const *add,
		      size_t n_add, const char *const *rm, size_t n_rm,
		      void (*renamed)(struct mailbox *mb, size_t i, const char *path),
		      size_t *done_r, const char **error_r);

#endif
