/* `loft sync` mirror mode: the driver over one account's folder pairs. */
#include "remote/sync.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <string.h>

enum remote_sync_result remote_sync_mirror(const struct config *cfg, const char *account,
					   const struct remote_sync_options *opt,
					   struct remote_sync_stats *stats_r, char **error_r)
{
	(void)opt;
	if (stats_r != NULL)
		memset(stats_r, 0, sizeof(*stats_r));
	(void)config_account_get(cfg, account, "sync_folders");
	(void)config_account_get(cfg, account, "sync_expunge");
	*error_r = xasprintf("account %s: mirror mode is not built yet", account);
	return REMOTE_SYNC_UNAVAILABLE;
}

enum remote_sync_result remote_sync_status(const struct config *cfg, const char *account,
					   struct sbuf *out, char **error_r)
{
	(void)cfg;
	(void)error_r;
	sbuf_addf(out, "%s: never synced\n", account);
	return REMOTE_SYNC_OK;
}
