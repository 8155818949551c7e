/* ui: loft's curses mail client (the index, the pager, compose, folders).
 *
 * The one public header of ui/; only client/main.c includes it. */
#ifndef LOFT_UI_UI_H
#define LOFT_UI_UI_H

#include "lib/command.h"
#include "lib/config.h"

/* `loft [-f MAILBOX]`: runs the mail client until the user quits.
 * argv may hold "-f MAILBOX" (a maildir path, an mbox file, +Folder, or
 * search:QUERY).  Returns an exit status (sysexits.h): 0, EX_USAGE,
 * EX_CONFIG for an unusable store, EX_SOFTWARE without a terminal. */
loft_cmd_fn cmd_ui;

/* The client's action names, key syntax and pattern checker, for
 * config_set_ui_checks() (lib/config.h). */
extern const struct config_ui_checks ui_config_checks;

#endif
