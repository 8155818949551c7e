/* localmta: the local mail transport — sendmail front end, queue, delivery
 * with Sieve, SMTP server, relay.  The one public header of the directory:
 * client/main.c includes it to dispatch the commands (shape and exit codes
 * in lib/command.h).  Everything else here is private to localmta/. */
#ifndef LOFT_LOCALMTA_LOCALMTA_H
#define LOFT_LOCALMTA_LOCALMTA_H

#include "lib/command.h"

/* cmd_sendmail (localmta/sendmail_cmd.c): `loft sendmail`, argv[0]
 *   sendmail, and mailq; exits 0 only once the message is queued durably.
 * cmd_queue (localmta/cmd_queue.c): `loft queue [list|show|flush|run|rm]`. */
loft_cmd_fn cmd_sendmail, cmd_queue;

/* `loft sieve check FILE` and `loft sieve test FILE MESSAGE [-f sender]
 * [-a rcpt]` (localmta/cmd_sieve.c). */
loft_cmd_fn cmd_sieve;

/* `loft deliver [-f sender] [-a rcpt] [-m folder]` (localmta/cmd_deliver.c):
 * the MDA; exits 0 once stored (fsynced), 75 on a temporary failure, 65 for
 * a message that cannot be accepted. */
loft_cmd_fn cmd_deliver;

/* `loft passwd [NAME] | --list | --remove NAME`: logins for devices
 * (localmta/cmd_passwd.c). */
loft_cmd_fn cmd_passwd;

/* `loft init [--name ... --yes]` (localmta/cmd_init.c): the first set-up
 * (mailrc, store, TLS certificate, first device login, systemd unit).
 * main.c runs it without loading the mailrc: ctx->config_path is the file
 * to write (-F, $LOFTRC) or NULL for the per-user one. */
loft_cmd_fn cmd_init;

#endif
