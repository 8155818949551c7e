/* mapdrop; see mapdrop.h. */
#include "lib/mapdrop.h"

#include <sys/mman.h>
#include <unistd.h>

void map_span_add(struct map_span *sp, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	if (sp->lo == 0 || a < sp->lo)
		sp->lo = a;
	if (a + len > sp->hi)
		sp->hi = a + len;
}

void map_span_drop(const struct map_span *sp)
{
	map_drop((const void *)sp->lo, sp->hi - sp->lo);
}

void map_drop(const void *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)p;
	uintptr_t lo = a & ~(page - 1), hi = (a + len + page - 1) & ~(page - 1);

	if (a != 0 && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
