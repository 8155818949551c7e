/* The inside of `loft daemon` (daemon.c: process, config, queue runner;
 * daemon_smtp.c: the SMTP listeners plugged into lib/server). */
#ifndef LOFT_DAEMON_DAEMON_PRIVATE_H
#define LOFT_DAEMON_DAEMON_PRIVATE_H

#include "localmta/smtp_server.h"

#include <stdbool.h>
#include <sys/types.h>

struct config;
struct queue;
struct server;

/* One SMTP listener: its setting and how it talks. */
struct daemon_smtp_listener {
	const char *name;		/* "smtp", "smtps", "smtp-inbound" */
	const char *setting;		/* the address setting */
	enum smtp_mode mode;
	bool implicit_tls;
	struct smtp_server_config scfg;	/* live while the config is */
	bool scfg_set;
};

#define DAEMON_SMTP_LISTENERS 3

/* Everything the parent keeps; children get a copy by fork(). */
struct daemon {
	struct config *cfg;		/* owned; replaced on reload */
	const char *config_path;	/* NULL: defaults only */
	struct server *srv;
	struct queue *queue;		/* owned; reopened on reload */
	SSL_CTX *tls;			/* owned; shared by the listeners */
	char *fingerprint;		/* of tls's certificate, malloc'd */
	char *passwd_path;		/* malloc'd */
	struct daemon_smtp_listener smtp[DAEMON_SMTP_LISTENERS];
	pid_t runner;			/* running queue runner, or 0 */
	bool runner_again;		/* mail was queued while it ran */
};

/* (Re)binds the SMTP listeners of d->cfg with d->tls; builds their server
 * configs (the old ones are freed).  Returns 0 when every configured
 * listener is open, -1 (logged) when one failed to bind; the others stay. */
int daemon_smtp_setup(struct daemon *d);
/* Frees the listeners' server configs. */
void daemon_smtp_deinit(struct daemon *d);

#endif
