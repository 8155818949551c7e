/* The sub-commands that live in localmta/ (the shape is in lib/command.h),
 * dispatched by client/main.c.  Each branch adds its own block. */
#ifndef LOFT_LOCALMTA_LOCALMTA_H
#define LOFT_LOCALMTA_LOCALMTA_H

#include "lib/command.h"

/* ---- smtpd: logins for devices (localmta/cmd_passwd.c) ---- */
loft_cmd_fn cmd_passwd;

#endif
