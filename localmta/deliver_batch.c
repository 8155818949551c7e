/* deliver batch: deliver_message() with the store appends gathered per
 * folder and published together (deliver_batch.h). */
#include "localmta/deliver_batch.h"

#include "store/batch.h"
#include "store/store.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct batch_folder {
	char *name;
	struct store_folder *folder;
	struct store_batch *batch;
};

struct deliver_batch {
	struct deliver *agent;
	struct batch_folder *folders;
	size_t n_folders;
	char **msgids;			/* for the duplicate log at the commit */
	size_t n_msgids;
	size_t count;
};

struct deliver_batch *deliver_batch_begin(struct deliver *agent)
{
	struct deliver_batch *b = xcalloc(1, sizeof(*b));

	b->agent = agent;
	deliver_set_batch(agent, b);
	return b;
}

size_t deliver_batch_count(const struct deliver_batch *b)
{
	return b->count;
}

size_t deliver_batch_bytes(const struct deliver_batch *b)
{
	size_t bytes = 0;

	for (size_t i = 0; i < b->n_folders; i++)
		bytes += store_batch_bytes(b->folders[i].batch);
	return bytes;
}

enum deliver_status deliver_batch_add(struct deliver_batch *b, const struct deliver_request *req,
				      char **answer_r)
{
	enum deliver_status st = deliver_message(b->agent, req, answer_r);

	if (st == DELIVER_OK)
		b->count++;
	return st;
}

/* The open folder and batch for name, opening them on first use. */
static struct batch_folder *folder_of(struct deliver_batch *b, struct store *store,
				      const char *name, bool create, const char **error_r)
{
	struct store_folder *f;

	for (size_t i = 0; i < b->n_folders; i++)
		if (strcmp(b->folders[i].name, name) == 0)
			return &b->folders[i];
	if (store_folder_open_append(store, name, &f, error_r) < 0) {
		if (!create || store_folder_create(store, name, error_r) < 0 ||
		    store_folder_open_append(store, name, &f, error_r) < 0)
			return NULL;
	}
	b->folders = xreallocarray(b->folders, b->n_folders + 1, sizeof(*b->folders));
	struct batch_folder *bf = &b->folders[b->n_folders++];

	bf->name = xstrdup(name);
	bf->folder = f;
	bf->batch = store_batch_new(f);
	return bf;
}

int deliver_batch_store(struct deliver_batch *b, struct store *store, const char *folder,
			bool create, const char *data, size_t len, uint32_t flags,
			const char *keywords, const char **error_r)
{
	struct batch_folder *bf = folder_of(b, store, folder, create, error_r);

	if (bf == NULL)
		return -1;
	return store_batch_add(bf->batch, data, len, flags, keywords, 0, error_r);
}

void deliver_batch_dup(struct deliver_batch *b, const char *msgid)
{
	b->msgids = xreallocarray(b->msgids, b->n_msgids + 1, sizeof(*b->msgids));
	b->msgids[b->n_msgids++] = xstrdup(msgid);
}

static void batch_free(struct deliver_batch *b)
{
	for (size_t i = 0; i < b->n_folders; i++) {
		store_batch_abort(&b->folders[i].batch);
		store_folder_close(&b->folders[i].folder);
		free(b->folders[i].name);
	}
	for (size_t i = 0; i < b->n_msgids; i++)
		free(b->msgids[i]);
	free(b->msgids);
	free(b->folders);
	deliver_set_batch(b->agent, NULL);
	free(b);
}

int deliver_batch_commit(struct deliver_batch **bp, char **error_r)
{
	struct deliver_batch *b = *bp;
	const char *err;
	int ret = 0;

	for (size_t i = 0; i < b->n_folders && ret == 0; i++) {
		if (store_batch_commit(&b->folders[i].batch, NULL, &err) < 0) {
			*error_r = xasprintf("cannot store in %s: %s", b->folders[i].name, err);
			ret = -1;
		}
	}
	for (size_t i = 0; i < b->n_msgids && ret == 0; i++)
		deliver_record_dup(b->agent, b->msgids[i]);
	batch_free(b);
	*bp = NULL;
	return ret;
}

void deliver_batch_abort(struct deliver_batch **bp)
{
	if (*bp == NULL)
		return;
	batch_free(*bp);
	*bp = NULL;
}
