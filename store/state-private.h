/* state-private: what state.c (environment, reads) and state-txn.c (write
 * transactions) share.  Nothing outside store/state*.c includes this.
 *
 * Layout: one LMDB environment per folder (DIR/data.mdb, DIR/lock.mdb)
 * with four named databases:
 *   meta      "uidvalidity" -> u32, "uidnext" -> u32, "highestmodseq" -> u64,
 *             "unseen" -> u32: records whose flags lack STORE_SEEN (missing
 *             in states written before it: counted by the first write
 *             transaction, by a walk for reads until then)
 *             (little-endian values)
 *   msgs      UID (big-endian u32, so LMDB's memcmp order is UID order)
 *             -> record, see below
 *   keys      driver key (bytes, no NUL) -> UID (big-endian u32)
 *   expunged  MODSEQ (big-endian u64) -> UID (big-endian u32)
 *   tkeys, envs  headers read after the record was added (state-aux.c)
 *   cache     name -> bytes a caller derives from the folder (state-cache.c)
 *   modseqs   MODSEQ (big-endian u64) -> the UID whose record has it
 *             (state-modseq.c; meta "modseq_index": up to where it is exact)
 *
 * Record: version u8, flags u32, modseq u64, size u64, internal_date i64
 * (all little-endian), then six strings (key, location, keywords, envelope,
 * bodystructure, threadkey), each a u32 length and that many bytes plus a
 * NUL, or the length STATE_REC_NULL alone for a NULL string, then vsize
 * u64.  Version 1 records (written before the thread key existed) have the
 * first five strings only and are still read, with a NULL thread key;
 * version 2 ones have no vsize (read as 0); every write is version 3.  Keeping the NUL on disk
 * lets state_foreach() hand out pointers straight into the map without
 * copying; the decoder checks that every length fits and every NUL is
 * there, so garbled bytes give an error, never an out-of-bounds read. */
#ifndef LOFT_STORE_STATE_PRIVATE_H
#define LOFT_STORE_STATE_PRIVATE_H

#include "store/state.h"

#include <endian.h>
#include <lmdb.h>
#include <string.h>

/* Touched after every commit (state_commit), for other processes'
 * inotify watches (store/notify.c). */
#define STATE_CHANGED_FILE "changed"
/* flock()ed around loft's changes of the files (state_txn_lock_files). */
#define STATE_FILES_LOCK "files.lock"

#define STATE_REC_VERSION 3
#define STATE_REC_FIXED (1 + 4 + 8 + 8 + 8)
#define STATE_REC_NSTR 6
#define STATE_REC_NSTR_V1 5
#define STATE_REC_NULL 0xffffffffu

struct state {
	MDB_env *env;
	MDB_dbi dbi_meta, dbi_msgs, dbi_keys, dbi_exp;
	MDB_dbi dbi_tkeys, dbi_envs;	/* state-aux.c */
	MDB_dbi dbi_cache;		/* state-cache.c */
	MDB_dbi dbi_mods;		/* state-modseq.c */
	char *dir;
	char *path;			/* DIR/data.mdb, for messages */
	char *error;			/* the last error, owned */
	/* A read transaction kept reset between calls: renewing it reuses
	 * its reader slot without taking the reader-table mutex. */
	MDB_txn *rtxn;
	bool rtxn_busy;
	struct state_txn *wtxn;
	bool created;
	char *keep_file;		/* state_open_keep()'s, or NULL */
	int files_fd;			/* STATE_FILES_LOCK, -1 until used */
	bool files_locked;		/* held by this process */
	unsigned readers_cleared;
	size_t maxkeysize;
};

struct state_txn {
	struct state *st;
	MDB_txn *txn;
	uint32_t uidnext;
	uint64_t modseq;
	bool dirty;			/* uidnext/modseq to write at commit */
	uint32_t unseen;		/* the "unseen" counter as this txn has it */
	bool unseen_dirty;		/* to write at commit */
	bool no_wake;			/* state_txn_no_wake() */
	bool modidx_dirty;		/* the MODSEQ index changed: mark it */
};

/* The flag bit the "unseen" counter counts the absence of (STORE_SEEN). */
#define STATE_FLAG_SEEN 1u
/* Counts the records without STATE_FLAG_SEEN in txn (a walk).  0 or -1. */
int state_count_unseen(struct state *st, MDB_txn *txn, uint32_t *n_r, const char **error_r);
/* The "unseen" meta value: 1 found, 0 missing, -1 error. */
int state_read_unseen(struct state *st, MDB_txn *txn, uint32_t *n_r, const char **error_r);

/* Sets st->error to "PATH: message" and *error_r (if not NULL) to it;
 * returns -1. */
int state_fail(struct state *st, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "PATH: mdb_strerror(rc) (what)"; returns -1. */
int state_fail_mdb(struct state *st, const char **error_r, int rc, const char *what);

/* mdb_txn_begin(), adopting a map size grown by another process
 * (MDB_MAP_RESIZED) when no other transaction of ours is open.  0 or -1. */
int state_mdb_begin(struct state *st, unsigned flags, MDB_txn **txn_r, const char **error_r);
/* A read transaction for one call (the state's reused one unless a walk
 * holds it), and its end.  0 or -1. */
int state_rd_begin(struct state *st, MDB_txn **txn_r, const char **error_r);
void state_rd_end(struct state *st, MDB_txn *txn);
/* 1 with *hdr_r, 0 when there is no UIDVALIDITY yet, -1 on error. */
int state_read_header(struct state *st, MDB_txn *txn, struct state_header *hdr_r,
		      const char **error_r);
/* The stamps in txn (missing: 0), and writing them.  0 or -1. */
int state_read_stamps(struct state *st, MDB_txn *txn, uint64_t stamps_r[STATE_STAMPS],
		      const char **error_r);
int state_write_stamps(struct state *st, MDB_txn *txn, const uint64_t stamps[STATE_STAMPS],
		       const char **error_r);
/* Writes a 4- or 8-byte meta value.  0 or -1. */
int state_meta_put(struct state *st, MDB_txn *txn, const char *name, size_t size,
		   uint64_t value, const char **error_r);
/* uid's record in txn, decoded in place (valid while txn is and nothing is
 * written): 1, 0 not found, -1 error (a garbled record too). */
int state_get_in(struct state *st, MDB_txn *txn, uint32_t uid, struct state_rec *rec_r,
		 const char **error_r);
/* As state_lookup_key(), inside txn. */
int state_lookup_key_in(struct state *st, MDB_txn *txn, const char *key, uint32_t *uid_r,
			const char **error_r);
/* Copies rec's strings into one malloc'd buffer (*buf_r) and points rec at it. */
void state_rec_copy(struct state_rec *rec, char **buf_r);

/* ---- state-modseq.c: the records by MODSEQ ---- */

/* At the start of a write transaction: rebuilds the index when it is not
 * exact (a state from before it, or changed by an older loft).  0 or -1. */
int state_modidx_begin(struct state_txn *txn, const char **error_r);
/* uid's record went from old_modseq to new_modseq (0: none, for an add or
 * a removal).  0 or -1. */
int state_modidx_move(struct state_txn *txn, uint64_t old_modseq, uint64_t new_modseq,
		      uint32_t uid, const char **error_r);
/* At commit: marks the index exact up to the transaction's MODSEQ.  0 or -1. */
int state_modidx_commit(struct state_txn *txn, const char **error_r);
/* fn for every record whose MODSEQ is greater than modseq, in UID order,
 * found through the index: 1 done; 0 when it cannot be (the index is not
 * exact, or more than max records changed) and fn was not called: walk
 * instead; -1 on error (fn returning -1 too: "stopped"). */
int state_modidx_walk(struct state *st, MDB_txn *txn, uint64_t modseq, size_t max,
		      int (*fn)(const struct state_rec *rec, void *ctx), void *ctx,
		      const char **error_r);

/* ---- state-aux.c: headers read after the record was added ---- */

/* A record without its own thread key gets the one in tkeys (and the
 * vsize there when it has none), and with envelope its envelope from envs
 * when it has none; pointers into txn's pages.  0 or -1. */
int state_aux_merge(struct state *st, MDB_txn *txn, struct state_rec *rec, bool envelope,
		    const char **error_r);
/* The same for a walk in UID order, with one cursor for the whole walk.
 * *v_r gets the tkeys value used (size 0: none), for the walk's span. */
struct state_aux_walk {
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	bool started;
};
int state_aux_walk_open(struct state *st, MDB_txn *txn, struct state_aux_walk *w,
			const char **error_r);
int state_aux_walk_merge(struct state *st, struct state_aux_walk *w, struct state_rec *rec,
			 MDB_val *v_r, const char **error_r);
void state_aux_walk_close(struct state_aux_walk *w);
/* Drops uid's entries (a removed record).  0 or -1. */
int state_aux_del(struct state *st, MDB_txn *txn, uint32_t uid, const char **error_r);

/* Byte order: records and meta are little-endian, keys big-endian. */
static inline uint32_t state_get_le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline uint64_t state_get_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline unsigned char *state_put_le32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static inline unsigned char *state_put_le64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

static inline uint32_t state_get_be32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

#endif
