/* The shape of a loft sub-command, shared by every layer that provides
 * commands (client/, localmta/, imapd/...); client/main.c dispatches them.
 *
 * A command gets the loaded configuration and its own arguments (argv[0] is
 * the command's name) and returns the process exit status, from sysexits.h
 * where one fits (EX_USAGE for bad arguments, EX_CONFIG for a bad mailrc,
 * EX_NOINPUT for a missing file...).  Commands may print to stdout/stderr;
 * the library code below them never does. */
#ifndef LOFT_LIB_COMMAND_H
#define LOFT_LIB_COMMAND_H

struct config;

struct loft_ctx {
	struct config *cfg;		/* loaded mailrc (or the defaults); owned by main */
	const char *config_path;	/* the file read, or NULL when none was */
	const char *progname;		/* how loft was invoked: "loft", "sendmail"... */
};

typedef int loft_cmd_fn(struct loft_ctx *ctx, int argc, char **argv);

#endif
