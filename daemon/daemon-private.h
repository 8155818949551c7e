/* The inside of `loft daemon` (daemon.c: process, config, queue runner;
 * daemon_smtp.c: the SMTP listeners and daemon_imap.c: the IMAP listeners,
 * plugged into lib/server). */
#ifndef LOFT_DAEMON_DAEMON_PRIVATE_H
#define LOFT_DAEMON_DAEMON_PRIVATE_H

#include "imapd/imapd.h"
#include "localmta/smtp_server.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct auth_cache;
struct config;
struct conn;
struct queue;
struct server;
struct sockaddr;

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
#define DAEMON_IMAP_LISTENERS 2

/* The sync task of one account (daemon_sync.c). */
struct daemon_sync_task {
	char *account;			/* malloc'd */
	struct daemon *d;
	pid_t pid;			/* running task, or 0 */
	int delay_s;			/* the task waits this long first (restart backoff) */
	int64_t started;		/* monotonic ms */
	bool restart;			/* stopped for a reload: start again at once */
};

/* Everything the parent keeps; children get a copy by fork(). */
struct daemon {
	struct config *cfg;		/* owned; replaced on reload */
	const char *config_path;	/* NULL: defaults only */
	struct server *srv;
	struct queue *queue;		/* owned; reopened on reload */
	SSL_CTX *tls;			/* owned; shared by the listeners */
	char *fingerprint;		/* of tls's certificate, malloc'd */
	char *passwd_path;		/* malloc'd */
	/* Logins verified lately (imap_auth_cache_ttl); a child checks
	 * against the copy fork() gave it. */
	struct auth_cache *auth_cache;
	struct daemon_smtp_listener smtp[DAEMON_SMTP_LISTENERS];
	pid_t runner;			/* running queue runner, or 0 */
	bool runner_again;		/* mail was queued while it ran */
	struct daemon_sync_task *sync;	/* one per account synced, malloc'd */
	size_t n_sync;
};

/* A task child's config: the mailrc read again as the user the child runs
 * as (so "~" is theirs), into *own_r (config_free it), or the parent's
 * when the file cannot be read now. */
const struct config *daemon_child_config(const struct daemon *d, struct config **own_r);

/* Starts the sync task of each account whose sync is not off and that has
 * none running. */
void daemon_sync_setup(struct daemon *d);
/* SIGHUP, after d->cfg was replaced: stops every task; each starts again
 * on the new settings once it ended. */
void daemon_sync_reload(struct daemon *d);
/* SERVER_EV_TASK_DONE for pid: false when pid is no sync task; else it is
 * started again (with backoff) unless its account is gone or off. */
bool daemon_sync_task_done(struct daemon *d, pid_t pid);
/* Frees the task list (the tasks were stopped by lib/server). */
void daemon_sync_deinit(struct daemon *d);

/* (Re)binds the SMTP listeners of d->cfg with d->tls; builds their server
 * configs (the old ones are freed).  Returns 0 when every configured
 * listener is open, -1 (logged) when one failed to bind; the others stay. */
int daemon_smtp_setup(struct daemon *d);
/* Frees the listeners' server configs. */
void daemon_smtp_deinit(struct daemon *d);

/* (Re)binds imap_listen and imaps_listen of d->cfg.  0, or -1 (logged)
 * when one failed to bind; the other stays. */
int daemon_imap_setup(struct daemon *d);

/* What an IMAP session needs from the settings; strings point into the
 * config. */
struct daemon_imap_config {
	struct store_settings store;
	struct imapd_settings imapd;
	unsigned max_failures;		/* failed logins before the session ends */
	int failure_delay_ms;		/* times the failures so far */
	SSL_CTX *tls;			/* NULL: no STARTTLS */
	bool implicit_tls;
};

/* One IMAP connection, in its child. */
struct daemon_imap_conn {
	struct daemon_imap_config cfg;
	struct conn *conn;		/* the caller's */
	struct server *srv;		/* NULL: nobody to tell about logins */
	const char *passwd_path;
	/* This child's copy of the daemon's verified logins (auth_cache.h);
	 * NULL: every login is checked in full. */
	struct auth_cache *cache;
	/* set by daemon_imap_serve */
	char peer[64];
	bool loopback;
	unsigned failures;
	int session_fd;			/* the login's record (auth_session_begin) */
};

/* Fills out from cfg (which must outlive it). */
void daemon_imap_config(const struct config *cfg, SSL_CTX *tls, bool implicit_tls,
			struct daemon_imap_config *out);
/* Serves one IMAP session on ic->conn from peer (TLS first when
 * implicit), with the store of ic->cfg and the logins of ic->passwd_path.
 * Blocks for the session; 0 after LOGOUT or the peer closing, -1 after an
 * error (logged).  Exposed for the unit test of the login rules. */
int daemon_imap_serve(struct daemon_imap_conn *ic, const struct sockaddr *peer);

#endif
