/* secret_cmd: a password or token printed by a command the user names in
 * the mailrc (smarthost_password_command, imap_password_command,
 * imap_oauth_token_command), e.g. `pass show mail`.
 *
 * Blocks for at most the timeout given; a command still running then is
 * killed.  Nothing prints. */
#ifndef LOFT_LIB_SECRET_CMD_H
#define LOFT_LIB_SECRET_CMD_H

/* Runs cmd with /bin/sh -c (stdin /dev/null), waiting at most timeout_s;
 * the first line of its output (without the line end) is the secret,
 * *secret_r malloc'd (the caller frees it, best after explicit_bzero).
 * setting names the command in errors.  0, or -1 with *error_r malloc'd
 * (never containing the output). */
int secret_cmd_run(const char *setting, const char *cmd, int timeout_s, char **secret_r,
		   char **error_r);

#endif
