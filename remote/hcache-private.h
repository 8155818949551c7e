/* hcache-private: what remote/hcache*.c share (see remote/hcache.c for
 * the layout of the keys).  Only those files include it. */
#ifndef LOFT_REMOTE_HCACHE_PRIVATE_H
#define LOFT_REMOTE_HCACHE_PRIVATE_H

#include "remote/hcache.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

struct hcache {
	MDB_env *env;
	MDB_dbi dbi;
	char *dir;
	unsigned refs;		/* opens of dir in this process */
	struct hcache *next;
};

struct folder_rec {
	uint32_t id, uidvalidity, uidnext;
	uint64_t highestmodseq;
	uint32_t hot;		/* HOT_VERSION: the "R" records are complete;
				 * 0: not made yet (a cache written before) */
};
/* The size a folder record had before the hot field. */
#define FOLDER_REC_V1 offsetof(struct folder_rec, hot)

/* -1, with *error_r saying what failed (LMDB's rc). */
int hcache_mdb_fail(char **error_r, const struct hcache *hc, const char *what, int rc);
/* -1, with *error_r saying a record of what does not decode. */
int hcache_garbled(char **error_r, const struct hcache *hc, const char *what);
/* A transaction (flags: MDB_RDONLY or 0): 0, or -1. */
int hcache_begin(struct hcache *hc, unsigned flags, MDB_txn **txn, char **error_r);
int hcache_commit(struct hcache *hc, MDB_txn *txn, char **error_r);
/* folder's record in txn: 1 with *rec (an old one's hot field 0), 0 when
 * absent, -1. */
int hcache_folder_read(struct hcache *hc, MDB_txn *txn, const char *folder,
		       struct folder_rec *rec, char **error_r);
void hcache_put_be32(unsigned char *p, uint32_t v);

#endif
