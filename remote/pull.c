/* Pull mode of `loft sync` (fetchmail's role): not built yet.  The
 * engineer building it replaces this file. */
#include "remote/sync.h"
#include "lib/xalloc.h"

#include <string.h>

enum remote_sync_result remote_sync_pull(const struct config *cfg, const char *account,
					 const struct remote_sync_options *opt,
					 struct remote_sync_stats *stats_r, char **error_r)
{
	(void)cfg;
	(void)opt;
	if (stats_r != NULL)
		memset(stats_r, 0, sizeof(*stats_r));
	*error_r = xasprintf("account %s: pull mode is not built yet", account);
	return REMOTE_SYNC_UNAVAILABLE;
}
