/* loft init, the steps: the commented mailrc, its backup, the store with a
 * welcome message, the TLS certificate, the first device login, the
 * systemd unit, and the summary of what to type into a phone. */
#include "localmta/init-private.h"
#include "localmta/auth.h"
#include "store/store.h"
#include "lib/atomic.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void init_answers_release(struct init_answers *a)
{
	free(a->name);
	free(a->address);
	free(a->provider);
	free(a->smarthost);
	free(a->smarthost_user);
	free(a->password_command);
	free(a->folder);
	free(a->listen);
	free(a->imap_listen);
	free(a->device);
}

void init_result_release(struct init_result *r)
{
	free(r->mailrc);
	free(r->backup);
	free(r->folder);
	free(r->cert);
	free(r->fingerprint);
	if (r->password != NULL)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->unit);
	free(r->loft_cmd);
}

/* ---- the mailrc ---- */

static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("@._+-/:,=%", c) != NULL;
}

/* v as one mailrc word: bare when every byte is plain, else in single
 * quotes (nothing inside is expanded), else -- it holds a quote -- in
 * double quotes with \ " $ ~ escaped.  A leading "~/" stays outside the
 * quotes so that a path still expands it. */
static void add_value(struct sbuf *out, const char *v)
{
	bool plain = true;

	if (strncmp(v, "~/", 2) == 0) {
		sbuf_addstr(out, "~/");
		v += 2;
	}
	for (const char *p = v; *p; p++)
		plain = plain && plain_byte((unsigned char)*p);
	if (plain && *v) {
		sbuf_addstr(out, v);
	} else if (strchr(v, '\'') == NULL) {
		sbuf_addf(out, "'%s'", v);
	} else {
		sbuf_addch(out, '"');
		for (const char *p = v; *p; p++) {
			if (strchr("\\\"$~", *p))
				sbuf_addch(out, '\\');
			sbuf_addch(out, *p);
		}
		sbuf_addch(out, '"');
	}
}

static void add_set(struct sbuf *out, const char *name, const char *value)
{
	sbuf_addf(out, "set %s=", name);
	add_value(out, value);
	sbuf_addch(out, '\n');
}

void init_mailrc_text(const struct init_answers *a, struct sbuf *out)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
	sbuf_addf(out,
		  "# loft's mailrc, written by `loft init` on %s.\n"
		  "# `loft check` validates it and prints every setting in effect;\n"
		  "# `loft help settings` and loft-mailrc(5) describe each one.\n"
		  "\n# --- Who you are ----------------------------------------------------------\n",
		  date);
	if (a->name[0])
		add_set(out, "realname", a->name);
	add_set(out, "from", a->address);

	sbuf_addstr(out, "\n# --- The store: one maildir per folder (INBOX, Sent, Drafts, Trash) ------\n");
	add_set(out, "folder", a->folder ? a->folder : "~/Mail");

	sbuf_addstr(out, "\n# --- Outgoing mail ---------------------------------------------------------\n");
	if (a->smarthost[0]) {
		sbuf_addf(out, "# Mail for other domains is handed to %s.\n", a->provider);
		add_set(out, "smarthost", a->smarthost);
		if (a->smarthost_user[0]) {
			add_set(out, "smarthost_user", a->smarthost_user);
			sbuf_addstr(out, "# The password is never kept here: this command prints it.\n");
			add_set(out, "smarthost_password_command", a->password_command);
		}
	} else {
		sbuf_addstr(out, "# No smarthost: mail for other domains waits in the queue (`loft queue`).\n"
				 "#set smarthost=smtp://HOST:587\n");
	}

	sbuf_addstr(out, "\n# --- Other devices ---------------------------------------------------------\n");
	if (a->devices == 1) {
		sbuf_addf(out, "# SMTP submission and IMAP (both STARTTLS, login required) for phones\n"
			       "# and laptops; each device has its own login: `loft passwd NAME`\n"
			       "# (\"%s\" was made).\n", a->device);
		add_set(out, "smtp_listen", a->listen);
		add_set(out, "imap_listen", a->imap_listen);
	} else {
		sbuf_addstr(out, "# SMTP submission and IMAP stay on loopback (the defaults,\n"
				 "# 127.0.0.1:1587 and 127.0.0.1:1143).\n"
				 "#set smtp_listen=0.0.0.0:1587\n"
				 "#set imap_listen=0.0.0.0:1143\n");
	}
}

char *init_imap_listen(const char *smtp_listen)
{
	const char *colon = strrchr(smtp_listen, ':');

	return xasprintf("%.*s:1143", colon ? (int)(colon - smtp_listen) : 0, smtp_listen);
}

/* Links path to the first free PATH.bak, PATH.bak.1, ...; link() fails on
 * an existing name, so no backup is ever replaced. */
static char *backup(const char *path, char **error_r)
{
	for (int i = 0; i < 100; i++) {
		char *name = i == 0 ? xasprintf("%s.bak", path) : xasprintf("%s.bak.%d", path, i);

		if (link(path, name) == 0)
			return name;
		free(name);
		if (errno != EEXIST) {
			*error_r = xasprintf("cannot keep a backup of %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	*error_r = xasprintf("cannot keep a backup of %s: %s.bak to .bak.99 all exist", path, path);
	return NULL;
}

/* mkdir -p of the directory holding path; what it makes gets mode 0700. */
static int make_parents(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

int init_write_mailrc(const char *path, const char *text, char **backup_r, char **error_r)
{
	const char *step;

	*backup_r = NULL;
	if (make_parents(path) < 0) {
		*error_r = xasprintf("cannot make the directory of %s: %s", path, strerror(errno));
		return -1;
	}
	if (access(path, F_OK) == 0 && (*backup_r = backup(path, error_r)) == NULL)
		return -1;
	if (atomic_write_file(path, text, strlen(text), 0600, &step) < 0) {
		*error_r = xasprintf("%s: %s: %s", path, step, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the store, the certificate, the login ---- */

static void store_settings_of(const struct config *cfg, struct store_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->root = config_get(cfg, "folder");
	set->state_dir = config_get(cfg, "state_dir");
	set->notmuch_db = config_get(cfg, "notmuch_database");
}

int init_make_store(const struct config *cfg, struct init_result *r, char **error_r)
{
	struct store_settings set;
	struct store *store;
	struct stat st;
	const char *err;

	store_settings_of(cfg, &set);
	r->folder = xstrdup(set.root);
	r->store_created = stat(set.root, &st) < 0;
	if (store_open(&set, STORE_OPEN_CREATE, &store, &err) < 0) {
		*error_r = xasprintf("cannot create the store: %s", err);
		return -1;
	}
	store_close(&store);
	return 0;
}

int init_make_cert(const struct config *cfg, struct init_result *r, char **error_r)
{
	const char *state = config_get(cfg, "state_dir");
	SSL_CTX *ctx = tls_server_ctx_from_config(cfg, &r->fingerprint, error_r);

	if (ctx == NULL)
		return -1;
	SSL_CTX_free(ctx);
	/* The path tls_server_ctx_from_config() used (lib/tls.h). */
	if (config_get(cfg, "tls_cert") != NULL)
		r->cert = xstrdup(config_get(cfg, "tls_cert"));
	else if (state != NULL)
		r->cert = xasprintf("%s/tls/cert.pem", state);
	else
		r->cert = xasprintf("%s/.loft/tls/cert.pem", config_get(cfg, "folder"));
	return 0;
}

int init_make_login(const struct config *cfg, const struct init_answers *a,
		    struct init_result *r, char **error_r)
{
	char *path = auth_passwd_path(cfg), **names;
	size_t n;
	int rc = -1;

	if (auth_passwd_list(path, &names, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		r->login_kept = r->login_kept || strcmp(names[i], a->device) == 0;
		free(names[i]);
	}
	free(names);
	if (!r->login_kept) {
		r->password = auth_generate_password();
		if (auth_passwd_set(path, a->device, r->password, error_r) < 0)
			goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

int init_welcome(const struct config *cfg, const char *from, const char *subject,
		 const char *body, char **error_r)
{
	struct store_settings set;
	struct store *store = NULL;
	struct store_folder *f = NULL;
	struct sbuf msg = SBUF_INIT;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	const char *err;
	uint32_t uid;
	int rc = -1;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	sbuf_addf(&msg, "From: loft <loft@localhost>\nTo: %s\nSubject: %s\nDate: %s\n"
			"Message-ID: <init.%ld.%ld@loft.localhost>\nMIME-Version: 1.0\n"
			"Content-Type: text/plain; charset=utf-8\n"
			"Content-Transfer-Encoding: 8bit\n\n%s",
		  from, subject, date, (long)now, (long)getpid(), body);
	store_settings_of(cfg, &set);
	if (store_open(&set, 0, &store, &err) < 0 ||
	    store_folder_open(store, "INBOX", &f, &err) < 0 ||
	    store_append(f, msg.buf, msg.len, 0, NULL, 0, &uid, &err) < 0)
		*error_r = xasprintf("cannot put the welcome message in INBOX: %s", err);
	else
		rc = 0;
	store_folder_close(&f);
	store_close(&store);
	sbuf_release(&msg);
	return rc;
}

/* ---- systemd ---- */

/* Runs systemctl --user enable --now UNIT; 0 when it succeeded.  Its own
 * messages go to our stderr, where the user sees why it failed. */
static int systemctl_enable(const char *unit)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		execlp("systemctl", "systemctl", "--user", "enable", "--now", unit, (char *)NULL);
		fprintf(stderr, "loft: init: systemctl: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int init_systemd(const char *mailrc, struct init_result *r, char **error_r)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME"), *step;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct sbuf unit = SBUF_INIT;
	int rc = -1;

	if (n <= 0) {
		*error_r = xasprintf("cannot find loft's own path: %s", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	r->unit = xdg && *xdg ? xasprintf("%s/systemd/user/loft-daemon.service", xdg) :
		xasprintf("%s/.config/systemd/user/loft-daemon.service", home ? home : "");
	/* systemd splits ExecStart on blanks and takes quotes: quote both paths. */
	sbuf_addf(&unit, "# Written by `loft init --systemd`.\n"
			 "[Unit]\n"
			 "Description=loft daemon: SMTP listeners and the mail queue runner\n"
			 "\n[Service]\n"
			 "ExecStart=\"%s\" -F \"%s\" daemon\n"
			 "ExecReload=/bin/kill -HUP $MAINPID\n"
			 "Restart=on-failure\n"
			 "\n[Install]\n"
			 "WantedBy=default.target\n", exe, mailrc);
	if (make_parents(r->unit) < 0 ||
	    atomic_write_file(r->unit, unit.buf, unit.len, 0644, &step) < 0) {
		*error_r = xasprintf("cannot write %s: %s", r->unit, strerror(errno));
		goto out;
	}
	r->unit_enabled = systemctl_enable("loft-daemon.service") == 0;
	rc = 0;
out:
	sbuf_release(&unit);
	return rc;
}

/* ---- the summary ---- */

static const char *listen_port(const char *hostport)
{
	const char *colon = strrchr(hostport, ':');

	return colon ? colon + 1 : hostport;
}

void init_summary(const struct init_answers *a, const struct init_result *r,
		  bool with_password, struct sbuf *out)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		strcpy(host, "this machine");
	sbuf_addf(out, "  mailrc     %s\n", r->mailrc);
	if (r->backup)
		sbuf_addf(out, "             (the old one is kept as %s)\n", r->backup);
	if (a->name[0])
		sbuf_addf(out, "  you        %s <%s>\n", a->name, a->address);
	else
		sbuf_addf(out, "  you        %s\n", a->address);
	sbuf_addf(out, "  store      %s (INBOX, Sent, Drafts, Trash)\n", r->folder);
	if (a->smarthost[0]) {
		sbuf_addf(out, "  sending    through %s, %s\n", a->provider, a->smarthost);
		if (a->smarthost_user[0])
			sbuf_addf(out, "             as %s, the password from `%s`\n",
				  a->smarthost_user, a->password_command);
	} else {
		sbuf_addstr(out, "  sending    no smarthost: mail for other domains waits in the queue\n"
				 "             (`loft queue`) until you set one (`loft init --force`)\n");
	}

	if (a->devices == 1) {
		sbuf_addf(out, "\nFor a phone or Thunderbird (the device login \"%s\"):\n"
			       "  Outgoing mail (SMTP)\n"
			       "    server       %s (or this machine's address on your network)\n"
			       "    port         %s\n"
			       "    security     STARTTLS\n"
			       "    user name    %s\n", a->device, host, listen_port(a->listen), a->device);
		if (r->password && with_password)
			sbuf_addf(out, "    password     %s\n"
				       "                 (made now and shown only this once; `loft passwd %s`\n"
				       "                 makes a new one)\n", r->password, a->device);
		else if (r->password)
			sbuf_addf(out, "    password     made by `loft init` and shown once on the terminal;\n"
				       "                 `loft passwd %s` makes a new one\n", a->device);
		else
			sbuf_addf(out, "    password     the one set before (kept; `loft passwd %s` makes a\n"
				       "                 new one)\n", a->device);
		sbuf_addf(out, "    certificate  self-signed: accept it when the device shows the\n"
			       "                 SHA-256 fingerprint\n"
			       "                 %s\n"
			       "                 (the file: %s)\n", r->fingerprint, r->cert);
	} else {
		sbuf_addf(out, "\nNo other device was set up: SMTP submission stays on 127.0.0.1.  Later:\n"
			       "`loft passwd NAME` makes a login and smtp_listen opens the port.\n"
			       "  certificate  %s\n"
			       "               SHA-256 fingerprint %s\n", r->cert, r->fingerprint);
	}
	if (a->devices == 1) {
		sbuf_addf(out, "  Incoming mail (IMAP)\n"
			       "    server       %s (the same)\n"
			       "    port         %s\n"
			       "    security     STARTTLS\n"
			       "    user name    %s, the same password and certificate\n",
			  host, listen_port(a->imap_listen), a->device);
	}

	sbuf_addstr(out, "\nThe daemon (the SMTP and IMAP listeners for other devices, retries of\n"
			 "deferred mail):\n");
	if (r->unit && r->unit_enabled)
		sbuf_addf(out, "  enabled and started as a systemd user unit (%s)\n", r->unit);
	else if (r->unit)
		sbuf_addf(out, "  %s is written but systemctl could not enable it (see above);\n"
			       "  `systemctl --user enable --now loft-daemon` once systemd runs, or start\n"
			       "  it yourself: %s daemon --detach --pidfile %s/.loft/daemon.pid\n",
			  r->unit, r->loft_cmd, r->folder);
	else
		sbuf_addf(out, "  start it with: %s daemon --detach --pidfile %s/.loft/daemon.pid\n"
			       "  (at every boot: `loft init --systemd`, or that line as @reboot in crontab)\n",
			  r->loft_cmd, r->folder);
	sbuf_addf(out, "\nRead and write mail: %s\n", r->loft_cmd);
}
