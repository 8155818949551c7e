/* hcache_env: the header cache's directory and its one LMDB environment
 * per directory in a process (hcache_dir, hcache_open, hcache_close; see
 * remote/hcache.h). */
#include "remote/hcache-private.h"
#include "lib/config.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAP_SIZE ((size_t)4 << 30)	/* virtual; the file grows as used */

/* The caches open in this process, one per directory. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hcache *open_list;

char *hcache_dir(const struct config *cfg, const char *account)
{
	const char *state = config_get(cfg, "state_dir");
	struct sbuf b = SBUF_INIT;

	if (state != NULL)
		sbuf_addf(&b, "%s/hcache/", state);
	else
		sbuf_addf(&b, "%s/.loft/hcache/", config_get(cfg, "folder"));
	for (const char *p = account; *p != '\0'; p++) {
		if (*p == '/' || *p == '%' || (*p == '.' && p == account))
			sbuf_addf(&b, "%%%02X", (unsigned char)*p);
		else
			sbuf_addch(&b, *p);
	}
	return sbuf_detach(&b, NULL);
}

static void env_close(struct hcache *hc)
{
	if (hc->env != NULL)
		mdb_env_close(hc->env);
	free(hc->dir);
	free(hc);
}

struct hcache *hcache_open(const char *dir, char **error_r)
{
	struct hcache *hc;
	MDB_txn *txn;
	int rc, dead;

	pthread_mutex_lock(&open_lock);
	for (hc = open_list; hc != NULL; hc = hc->next)
		if (strcmp(hc->dir, dir) == 0) {
			hc->refs++;
			pthread_mutex_unlock(&open_lock);
			return hc;
		}
	hc = xcalloc(1, sizeof(*hc));
	hc->dir = xstrdup(dir);
	if (path_mkdirs(dir, 0700) < 0) {
		*error_r = xasprintf("header cache %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((rc = mdb_env_create(&hc->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(hc->env, MAP_SIZE)) != 0 ||
	    /* A copy of what the server says needs no durable meta page:
	     * a crash may undo the last commit, never mix two (one fsync a
	     * commit instead of two). */
	    (rc = mdb_env_open(hc->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0600)) != 0) {
		hcache_mdb_fail(error_r, hc, "open", rc);
		goto fail;
	}
	/* Reader slots of processes that died would pin old pages. */
	mdb_reader_check(hc->env, &dead);
	if ((rc = mdb_txn_begin(hc->env, NULL, 0, &txn)) != 0) {
		hcache_mdb_fail(error_r, hc, "transaction", rc);
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &hc->dbi)) != 0) {
		mdb_txn_abort(txn);
		hcache_mdb_fail(error_r, hc, "open", rc);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		hcache_mdb_fail(error_r, hc, "open", rc);
		goto fail;
	}
	hc->refs = 1;
	hc->next = open_list;
	open_list = hc;
	pthread_mutex_unlock(&open_lock);
	return hc;
fail:
	env_close(hc);
	pthread_mutex_unlock(&open_lock);
	return NULL;
}

void hcache_close(struct hcache **hcp)
{
	struct hcache *hc = *hcp;

	if (hc == NULL)
		return;
	*hcp = NULL;
	pthread_mutex_lock(&open_lock);
	if (--hc->refs == 0) {
		for (struct hcache **p = &open_list; *p != NULL; p = &(*p)->next)
			if (*p == hc) {
				*p = hc->next;
				break;
			}
		env_close(hc);
	}
	pthread_mutex_unlock(&open_lock);
}
