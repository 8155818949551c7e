/* daemon: `loft daemon`, the long-running process that composes the
 * listeners of the other layers (SMTP and the queue runner from localmta/,
 * IMAP from imapd/) on lib/server.  The one public header of the
 * directory; only client/main.c includes it. */
#ifndef LOFT_DAEMON_DAEMON_H
#define LOFT_DAEMON_DAEMON_H

#include "lib/command.h"

/* `loft daemon [--detach] [--pidfile FILE]` (daemon/daemon.c): the
 * listeners and the queue runner; runs until SIGTERM, exits 0 then;
 * EX_CONFIG, EX_OSERR... when it cannot start. */
loft_cmd_fn cmd_daemon;

#endif
