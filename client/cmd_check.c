/* loft check: the configuration was loaded (and checked) by main.c before
 * any command runs, so all that is left is to show what it amounts to:
 * the sender address, then every setting. */
#include "client/commands.h"
#include "lib/config.h"
#include "lib/sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

int cmd_check(struct loft_ctx *ctx, int argc, char **argv)
{
	struct sbuf out = SBUF_INIT;
	int ret = 0;

	if (argc > 1) {
		fprintf(stderr, "%s check: unexpected argument '%s'\nusage: %s check\n",
			ctx->progname, argv[1], ctx->progname);
		return EX_USAGE;
	}
	if (ctx->config_path != NULL)
		sbuf_addf(&out, "# loft check: %s is valid\n", ctx->config_path);
	else
		sbuf_addstr(&out, "# loft check: no mailrc, embedded defaults\n");
	/* What the settings amount to where people are surprised most. */
	char *sender = config_sender(ctx->cfg);
	sbuf_addf(&out, "# sender (From of mail you write, from `from` or USER@DOMAIN): %s\n",
		  sender);
	free(sender);
	config_dump(ctx->cfg, &out);
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		perror("loft: stdout");
		ret = EX_IOERR;
	}
	sbuf_release(&out);
	return ret;
}
