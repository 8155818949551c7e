/* The sub-commands that live in client/, one function each (the shape is
 * in lib/command.h), dispatched by client/main.c. */
#ifndef LOFT_CLIENT_COMMANDS_H
#define LOFT_CLIENT_COMMANDS_H

#include "lib/command.h"

loft_cmd_fn cmd_check;	/* client/cmd_check.c */
loft_cmd_fn cmd_show;	/* client/cmd_show.c */
loft_cmd_fn cmd_index, cmd_search, cmd_tag;	/* client/cmd_index.c */
loft_cmd_fn cmd_sync;	/* client/cmd_sync.c */

#endif
