/* mapdrop: letting go of the pages of a read-only shared file map (an
 * LMDB environment's) that a walk touched.  They stay in the page cache,
 * so a later read faults them back in for the cost of a page table
 * entry; without it a walk over a 100,000-message database leaves the
 * whole file (~100 MB) counted in the process's resident size.  LMDB does
 * not tell where its map is (mdb_env_info only with MDB_FIXEDMAP): the
 * span is the one the values read so far lie in, all inside the one map.
 * Only for a map nobody writes through (no MDB_WRITEMAP).  Never fails. */
#ifndef LOFT_LIB_MAPDROP_H
#define LOFT_LIB_MAPDROP_H

#include <stddef.h>
#include <stdint.h>

struct map_span {
	uintptr_t lo, hi;	/* lo 0: empty */
};

/* Widens sp to cover p[0..len). */
void map_span_add(struct map_span *sp, const void *p, size_t len);
/* Lets go of the pages sp covers (sp stays as it is). */
void map_span_drop(const struct map_span *sp);
/* Lets go of the pages that hold p[0..len). */
void map_drop(const void *p, size_t len);

#endif
