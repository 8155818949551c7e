/* `loft sync [--status] [--delete-folders] [ACCOUNT...]`: each account
 * (every one whose sync is not off when none is named) mirrored or pulled
 * by remote/sync.h; this file only picks the accounts, prints and maps
 * the outcome to an exit status. */
#include "client/commands.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "remote/sync.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static void print_note(void *ctx, const char *line)
{
	fprintf(stderr, "loft: sync: %s: %s\n", (const char *)ctx, line);
}

static int exit_status(enum remote_sync_result r)
{
	return r == REMOTE_SYNC_OK ? EX_OK : r == REMOTE_SYNC_TEMP ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

/* The worse of two statuses: unavailable beats temporary beats OK. */
static int worse(int a, int b)
{
	if (a == EX_UNAVAILABLE || b == EX_UNAVAILABLE)
		return EX_UNAVAILABLE;
	return a != EX_OK ? a : b;
}

static int sync_one(const struct loft_ctx *ctx, const char *account, bool status,
		    bool delete_folders)
{
	const char *mode = config_account_get(ctx->cfg, account, "sync");
	struct remote_sync_options opt = { .delete_folders = delete_folders, .note = print_note,
					   .ctx = (void *)account };
	struct remote_sync_stats st;
	enum remote_sync_result r;
	char *error = NULL;

	if (status) {
		struct sbuf out = SBUF_INIT;

		r = mode != NULL && strcmp(mode, "pull") == 0
			    ? remote_sync_pull_status(ctx->cfg, account, &out, &error)
			    : remote_sync_status(ctx->cfg, account, &out, &error);
		fwrite(out.buf, 1, out.len, stdout);
		sbuf_release(&out);
	} else if (mode == NULL || strcmp(mode, "off") == 0) {
		fprintf(stderr, "loft: sync: account %s: sync is off (set sync=mirror or sync=pull in its block)\n",
			account);
		return EX_UNAVAILABLE;
	} else {
		r = strcmp(mode, "pull") == 0
			    ? remote_sync_pull(ctx->cfg, account, &opt, &st, &error)
			    : remote_sync_mirror(ctx->cfg, account, &opt, &st, &error);
		printf("%s: %zu folders, %zu down, %zu up, %zu flags here, %zu flags there, "
		       "%zu expunged here, %zu expunged there\n",
		       account, st.folders, st.downloaded, st.uploaded, st.flags_local,
		       st.flags_remote, st.expunged_local, st.expunged_remote);
	}
	if (r != REMOTE_SYNC_OK)
		fprintf(stderr, "loft: sync: %s\n", error);
	free(error);
	return exit_status(r);
}

int cmd_sync(struct loft_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "status", no_argument, NULL, 's' },
		{ "delete-folders", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	bool status = false, delete_folders = false;
	int c, ret = EX_OK;
	size_t done = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 's')
			status = true;
		else if (c == 'd')
			delete_folders = true;
		else
			goto usage;
	}
	for (int i = optind; i < argc; i++) {
		if (!config_account_exists(ctx->cfg, argv[i])) {
			fprintf(stderr, "loft: sync: no account %s in the mailrc\n", argv[i]);
			return EX_USAGE;
		}
	}
	for (int i = optind; i < argc; i++)
		ret = worse(ret, sync_one(ctx, argv[i], status, delete_folders));
	if (optind < argc)
		return ret;
	for (size_t i = 0; i < config_account_count(ctx->cfg); i++) {
		const char *name = config_account_name(ctx->cfg, i);
		const char *mode = config_account_get(ctx->cfg, name, "sync");

		if (mode == NULL || strcmp(mode, "off") == 0)
			continue;
		ret = worse(ret, sync_one(ctx, name, status, delete_folders));
		done++;
	}
	if (done == 0) {
		fprintf(stderr, "loft: sync: no account has sync=mirror or sync=pull\n");
		return EX_UNAVAILABLE;
	}
	return ret;
usage:
	fprintf(stderr, "usage: loft sync [--status] [--delete-folders] [ACCOUNT...]\n");
	return EX_USAGE;
}
