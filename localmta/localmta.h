/* localmta: the public header of the local MTA layer (sendmail front end,
 * queue, delivery + Sieve).  Only client/main.c includes it, to put these
 * commands in its dispatch table; the shape of a command is lib/command.h. */
#ifndef LOFT_LOCALMTA_LOCALMTA_H
#define LOFT_LOCALMTA_LOCALMTA_H

#include "lib/command.h"

/* `loft sieve check FILE` and `loft sieve test FILE MESSAGE [-f sender]
 * [-a rcpt]` (localmta/cmd_sieve.c). */
loft_cmd_fn cmd_sieve;

#endif
