/* The sub-commands of loft, one function each, dispatched by client/main.c.
 *
 * A command gets the loaded configuration and its own arguments (argv[0] is
 * the command's name) and returns the process exit status, from sysexits.h
 * where one fits (EX_USAGE for bad arguments, EX_CONFIG for a bad mailrc,
 * EX_NOINPUT for a missing file...).  Commands print to stdout/stderr; the
 * layers below them never do. */
#ifndef LOFT_CLIENT_COMMANDS_H
#define LOFT_CLIENT_COMMANDS_H

struct config;

struct loft_ctx {
	struct config *cfg;		/* loaded mailrc (or the defaults); owned by main */
	const char *config_path;	/* the file read, or NULL when none was */
	const char *progname;		/* how loft was invoked: "loft", "sendmail"... */
};

typedef int loft_cmd_fn(struct loft_ctx *ctx, int argc, char **argv);

loft_cmd_fn cmd_check;	/* client/cmd_check.c */
loft_cmd_fn cmd_show;	/* client/cmd_show.c */
loft_cmd_fn cmd_index, cmd_search, cmd_tag;	/* client/cmd_index.c */

#endif
