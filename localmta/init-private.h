/* `loft init`, the first set-up: the answers (cmd_init.c asks for them or
 * takes them from flags) and the steps that act on them (init_setup.c).
 *
 * cmd_init lives in localmta/ because what it sets up is the transport:
 * the smarthost URL is checked by the relay's own parser, the device login
 * is made by auth.c, the daemon is the one `loft daemon` runs; below it
 * are only the store and lib/tls, which localmta may include anyway.
 *
 * Strings in struct init_answers are malloc'd and owned by the struct
 * (init_answers_release frees them); NULL means "not given". */
#ifndef LOFT_LOCALMTA_INIT_PRIVATE_H
#define LOFT_LOCALMTA_INIT_PRIVATE_H

#include <stdbool.h>

struct config;
struct sbuf;

struct init_answers {
	char *name;			/* realname; "" for none */
	char *address;			/* from */
	char *provider;			/* the provider's label, for the texts */
	char *smarthost;		/* URL, "" for none */
	char *smarthost_user;		/* "" for no AUTH */
	char *password_command;
	char *folder;			/* NULL: ~/Mail */
	int devices;			/* -1 not answered yet, 0 no, 1 yes */
	char *listen;			/* smtp_listen when devices */
	char *imap_listen;		/* imap_listen when devices */
	char *device;			/* the first device's login name */
};

void init_answers_release(struct init_answers *a);

/* What the set-up did, for the summary. */
struct init_result {
	char *mailrc;			/* path written */
	char *backup;			/* the old mailrc kept as, or NULL */
	char *folder;			/* the store's root, expanded */
	bool store_created;		/* its root did not exist before */
	char *cert;			/* TLS certificate path */
	char *fingerprint;		/* its SHA-256, "AB:CD:..." */
	char *password;			/* a new device password, or NULL */
	bool login_kept;		/* the device login existed and was kept */
	char *unit;			/* systemd unit written, or NULL */
	bool unit_enabled;		/* systemctl enabled it (else reported) */
	char *loft_cmd;			/* "loft", or "loft -F MAILRC" when the
					 * mailrc is not the one found by default */
};

void init_result_release(struct init_result *r);

/* Appends the commented mailrc for a to out. */
void init_mailrc_text(const struct init_answers *a, struct sbuf *out);
/* The imap_listen that goes with a device smtp_listen: its host, port 1143
 * ("0.0.0.0:1587" -> "0.0.0.0:1143").  Caller frees. */
char *init_imap_listen(const char *smtp_listen);

/* Writes text to path atomically (mode 0600, directories made 0700).  An
 * existing file is first kept by a hard link as PATH.bak (or PATH.bak.N
 * when that is taken; no backup is ever overwritten): *backup_r gets its
 * malloc'd name, or NULL when there was no old file.  0, or -1 with
 * *error_r malloc'd. */
int init_write_mailrc(const char *path, const char *text, char **backup_r, char **error_r);

/* Creates the store (INBOX, Sent, Drafts, Trash) under cfg's folder;
 * r->store_created tells whether its root was made now. */
int init_make_store(const struct config *cfg, struct init_result *r, char **error_r);
/* Makes (or finds) the servers' TLS certificate: r->cert, r->fingerprint. */
int init_make_cert(const struct config *cfg, struct init_result *r, char **error_r);
/* Makes a->device's login with a new random password (r->password) unless
 * that login exists (r->login_kept: a re-run must not lock a phone out). */
int init_make_login(const struct config *cfg, const struct init_answers *a,
		    struct init_result *r, char **error_r);
/* Appends the welcome message (from, subject, body) to INBOX. */
int init_welcome(const struct config *cfg, const char *from, const char *subject,
		 const char *body, char **error_r);
/* Each: 0, or -1 with *error_r malloc'd. */

/* Writes ~/.config/systemd/user/loft-daemon.service (XDG_CONFIG_HOME is
 * honoured) to run this binary's `loft -F MAILRC daemon`, then runs
 * `systemctl --user enable --now` on it; a failure of systemctl is
 * printed on stderr and recorded in r->unit_enabled, not returned.
 * 0, or -1 with *error_r malloc'd when the file cannot be written. */
int init_systemd(const char *mailrc, struct init_result *r, char **error_r);

/* The text that tells what was set up and what to type into a phone or
 * Thunderbird; with_password adds a new device password (shown on the
 * terminal once, never stored in mail). */
void init_summary(const struct init_answers *a, const struct init_result *r,
		  bool with_password, struct sbuf *out);

#endif
