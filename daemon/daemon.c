/* loft daemon: the long-running process.
 *
 *   loft daemon [--detach] [--pidfile FILE]
 *
 * Binds the SMTP listeners (daemon_smtp.c) on lib/server's fork-per-
 * connection machinery, runs one sync task child per account whose sync is
 * not off (daemon_sync.c), runs the queue runner as a task child every
 * queue_interval and as soon as a connection child queued mail, reloads the
 * mailrc on SIGHUP (listeners whose address changed are rebound; open
 * connections keep the settings they started with), and on SIGTERM stops
 * accepting, lets connections finish (shutdown_timeout), waits for a
 * running queue runner, removes the pid file and exits 0.
 *
 * Privileges: started as root, every child switches to the owner of the
 * mail root (`folder`) before it reads a byte; the parent keeps root only
 * to bind listeners again on reload. */
#include "daemon/auth_cache.h"
#include "daemon/daemon-private.h"
#include "daemon/daemon.h"
#include "localmta/localmta.h"
#include "localmta/queue.h"
#include "localmta/transport.h"
#include "localmta/auth.h"
#include "store/message.h"
#include "store/store.h"
#include "lib/atomic.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/server.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

static const struct daemon_smtp_listener listener_defs[DAEMON_SMTP_LISTENERS] = {
	{ .name = "smtp", .setting = "smtp_listen", .mode = SMTP_MODE_SUBMISSION },
	{ .name = "smtps", .setting = "smtps_listen", .mode = SMTP_MODE_SUBMISSION,
	  .implicit_tls = true },
	{ .name = "smtp-inbound", .setting = "smtp_inbound_listen", .mode = SMTP_MODE_INBOUND },
};

/* SIGTERM in the runner (lib/server sends it when the daemon stops): end
 * the pass after the entry in hand.  A relay stuck beyond shutdown_timeout
 * is killed by the parent; its entry stays queued, marked in flight. */
static void on_runner_term(int sig)
{
	queue_run_interrupt();
}

const struct config *daemon_child_config(const struct daemon *d, struct config **own_r)
{
	const char *error;

	/* After a privilege drop, "~" in the settings must be the user's home
	 * (the Sieve script...), not root's: read the mailrc again as the user.
	 * Errors in lines were logged at start-up (errno 0): the good lines
	 * count all the same.  A file gone unreadable keeps the parent's. */
	*own_r = config_new();
	if (d->config_path == NULL || config_load(*own_r, d->config_path, &error) == 0 ||
	    errno == 0)
		return *own_r;
	return d->cfg;
}

static int run_queue(void *ctx)
{
	struct daemon *d = ctx;
	struct queue_run_stats st = { 0 };

	struct config *own = NULL;
	int ret;

	struct sigaction sa = { .sa_handler = on_runner_term };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	log_set_context("runner");
	ret = transport_run(daemon_child_config(d, &own), 0, &st);
	config_free(&own);
	if (ret < 0)
		return 1;
	if (st.entries > 0)
		log_info("queue run: %u entries, %u delivered, %u deferred, %u failed",
			 st.entries, st.delivered, st.deferred, st.failed);
	return 0;
}

/* One runner at a time: queue entries are locked anyway, but two runners
 * would only fight over them.  Mail queued while one runs makes it start
 * again when it ends. */
static void start_runner(struct daemon *d)
{
	pid_t pid;

	if (d->runner != 0) {
		d->runner_again = true;
		return;
	}
	d->runner_again = false;
	pid = server_spawn_task(d->srv, run_queue, d);
	d->runner = pid > 0 ? pid : 0;
}

/* The TLS context of the listeners; logs the fingerprint devices pin. */
static SSL_CTX *load_tls(struct config *cfg, char **fp_r)
{
	char *err = NULL;
	SSL_CTX *ctx = tls_server_ctx_from_config(cfg, fp_r, &err);

	if (ctx == NULL) {
		log_error("TLS: %s", err);
		free(err);
		return NULL;
	}
	log_info("TLS certificate SHA-256 fingerprint %s", *fp_r);
	return ctx;
}

/* A setting of a feature not built yet does nothing: say so once, at
 * start, instead of leaving the user to wait for an IMAP server that is not
 * there. */
static void warn_unbuilt(const struct config *cfg)
{
	const char *name, *account, *file;
	unsigned long line;
	size_t pos = 0;

	while ((name = config_next_unbuilt(cfg, &pos, &account, &file, &line)) != NULL)
		log_warning("%s:%lu: %s%s%s%s is not built yet in this version of loft: ignored", file,
			    line, account ? "account " : "", account ? account : "", account ? ": " : "",
			    name);
}

static void apply_settings(struct daemon *d)
{
	server_set_max_children(d->srv, (unsigned)config_int(d->cfg, "max_connections"));
	server_set_max_per_ip(d->srv, (unsigned)config_int(d->cfg, "max_connections_per_ip"));
	server_set_drain(d->srv, (int)config_int(d->cfg, "shutdown_timeout"));
	server_set_timer(d->srv, (int)config_int(d->cfg, "queue_interval"));
	free(d->passwd_path);
	d->passwd_path = auth_passwd_path(d->cfg);
	/* A reload starts the logins cache afresh (the password file may be
	 * another one now). */
	int64_t ttl_ms = (int64_t)config_int(d->cfg, "imap_auth_cache_ttl") * 1000;

	if (d->auth_cache == NULL)
		d->auth_cache = auth_cache_new(ttl_ms);
	else
		auth_cache_reset(d->auth_cache, ttl_ms);
}

/* SIGHUP: a new config replaces the old one only when it loads, its TLS
 * context builds and its queue opens; otherwise the daemon goes on as it
 * was (a typo in the mailrc must not take mail service down). */
static void reload(struct daemon *d)
{
	struct config *cfg = config_new();
	struct queue *q = NULL;
	const char *error;
	char *fp = NULL;
	SSL_CTX *tls = NULL;

	log_info("reloading %s", d->config_path ? d->config_path : "(defaults)");
	if (d->config_path && config_load(cfg, d->config_path, &error) < 0) {
		log_error("reload: %s; keeping the old settings", error);
		goto fail;
	}
	if ((tls = load_tls(cfg, &fp)) == NULL)
		goto fail;
	if (transport_queue_open(cfg, &q, &error) < 0) {
		log_error("reload: queue: %s", error);
		goto fail;
	}
	config_free(&d->cfg);
	queue_free(&d->queue);
	SSL_CTX_free(d->tls);
	free(d->fingerprint);
	d->cfg = cfg;
	d->queue = q;
	d->tls = tls;
	d->fingerprint = fp;
	apply_settings(d);
	daemon_smtp_setup(d);
	daemon_imap_setup(d);
	daemon_sync_reload(d);
	log_info("reloaded");
	return;
fail:
	SSL_CTX_free(tls);
	free(fp);
	config_free(&cfg);
}

/* A connection child's news: a login checked (auth_cache.h). */
static void on_message(void *ctx, struct server *srv, const void *data, size_t len)
{
	struct daemon *d = ctx;

	if (!auth_cache_receive(d->auth_cache, data, len, clock_monotonic_ms()))
		log_warning("a connection sent an unknown message (%zu bytes)", len);
}

static void on_event(void *ctx, struct server *srv, enum server_event ev)
{
	struct daemon *d = ctx;

	switch (ev) {
	case SERVER_EV_TIMER:
	case SERVER_EV_POKE:
		start_runner(d);
		break;
	case SERVER_EV_TASK_DONE:
		if (daemon_sync_task_done(d, server_task_done_pid(srv)))
			break;
		d->runner = 0;
		if (d->runner_again)
			start_runner(d);
		break;
	case SERVER_EV_RELOAD:
		reload(d);
		break;
	}
}

/* The state the children write (queue) or read (logins) must be theirs:
 * the parent, as root, may just have created the directories.  Only what
 * root owns is handed over; nothing is taken from another user. */
static void hand_over(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_uid == 0 && lchown(path, uid, gid) < 0)
		log_warning("%s: cannot give it to uid %u: %s", path, (unsigned)uid, strerror(errno));
}

/* Whom children run as: the owner of the mail root, when we are root. */
static void choose_user(struct daemon *d)
{
	const char *folder = config_get(d->cfg, "folder");
	struct stat st;

	if (geteuid() != 0)
		return;
	if (stat(folder, &st) < 0) {
		log_warning("%s: %s; connections run as root", folder, strerror(errno));
		return;
	}
	if (st.st_uid == 0) {
		log_warning("%s belongs to root: connections run as root", folder);
		return;
	}
	server_set_user(d->srv, st.st_uid, st.st_gid);
	const char *state = config_get(d->cfg, "state_dir");
	char *state_dir = state ? xstrdup(state) : xasprintf("%s/.loft", folder);
	char *queue_dir_path = xasprintf("%s/queue", state_dir);

	hand_over(state_dir, st.st_uid, st.st_gid);
	hand_over(queue_dir_path, st.st_uid, st.st_gid);
	hand_over(d->passwd_path, st.st_uid, st.st_gid);
	free(queue_dir_path);
	free(state_dir);
	log_info("connections run as uid %u, gid %u (owner of %s)", (unsigned)st.st_uid,
		 (unsigned)st.st_gid, folder);
}

/* --detach: the classic double fork.  The first process waits until the
 * daemon wrote its pid file, so `loft daemon --detach && kill $(cat F)`
 * works; the listeners are bound already (errors showed on the terminal). */
static int detach(int *ready_fd_r)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : EX_OSERR);
	}
	close(p[0]);
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(EX_OSERR);
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	*ready_fd_r = p[1];
	return 0;
}

static int write_pidfile(const char *path)
{
	char buf[32];
	const char *step;
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (atomic_write_file(path, buf, (size_t)n, 0644, &step) < 0) {
		log_error("pid file %s: %s: %s", path, step, strerror(errno));
		return -1;
	}
	return 0;
}

/* STATE_DIR/daemon.lock (beside the queue directory), flocked for the
 * daemon's life: the mail client runs the queue itself only while no
 * daemon holds it.  Returns the fd to keep open, or -1 (logged; the
 * daemon runs anyway). */
static int hold_lock(const struct queue *q)
{
	char *path = xasprintf("%s/../daemon.lock", queue_dir(q));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_warning("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: loft daemon [--detach] [--pidfile FILE]\n");
	return EX_USAGE;
}

int cmd_daemon(struct loft_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .config_path = ctx->config_path };
	struct server_callbacks cb = { .ctx = &d, .event = on_event, .message = on_message };
	const char *error, *pidfile = NULL;
	char *pid_abs = NULL;
	bool detach_opt = false;
	int c, ready_fd = -1, lock_fd = -1, ret = EX_OK;

	while ((c = getopt_long(argc, argv, "dp:", opts, NULL)) != -1) {
		if (c == 'd')
			detach_opt = true;
		else if (c == 'p')
			pidfile = optarg;
		else
			return usage();
	}
	if (optind != argc)
		return usage();
	/* Paths the daemon keeps must survive a chdir of the caller. */
	if (pidfile != NULL) {
		char cwd[PATH_MAX];

		pid_abs = pidfile[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL
			? xstrdup(pidfile) : xasprintf("%s/%s", cwd, pidfile);
	}
	/* Connection events are the daemon's business: info unless the
	 * mailrc asks for less (error). */
	if (log_level_parse(config_get(ctx->cfg, "log_level")) == LOG_LEVEL_WARNING)
		log_set_level(LOG_LEVEL_INFO);
	/* The daemon owns its copy of the config: a reload replaces it. */
	d.cfg = config_new();
	/* main.c logged the mailrc's errors; the listeners run all the same
	 * on the good lines.  Only a file that cannot be read stops here. */
	if (d.config_path && config_load(d.cfg, d.config_path, &error) < 0 && errno != 0) {
		fprintf(stderr, "loft: daemon: %s\n", error);
		config_free(&d.cfg);
		free(pid_abs);
		return EX_CONFIG;
	}
	warn_unbuilt(d.cfg);
	if (transport_queue_open(d.cfg, &d.queue, &error) < 0) {
		fprintf(stderr, "loft: daemon: queue: %s\n", error);
		ret = EX_TEMPFAIL;
		goto out;
	}
	if ((d.tls = load_tls(d.cfg, &d.fingerprint)) == NULL) {
		ret = EX_CONFIG;
		goto out;
	}
	/* GMime is loaded on first use (store/gmime_lazy.h): load it here,
	 * once, rather than in every forked connection that parses. */
	message_init();
	/* Likewise the charset modules a SELECT loads (store_gconv_pin):
	 * ~10 ms of dlopen per connection otherwise. */
	store_gconv_pin();
	d.srv = server_new(&cb);
	memcpy(d.smtp, listener_defs, sizeof(d.smtp));
	apply_settings(&d);
	choose_user(&d);
	int smtp_ok = daemon_smtp_setup(&d), imap_ok = daemon_imap_setup(&d);

	if (smtp_ok < 0 || imap_ok < 0 || server_listener_count(d.srv) == 0) {
		fprintf(stderr, "loft: daemon: %s\n", server_listener_count(d.srv) == 0 ?
			"no listener could be opened" : "a listener could not be opened");
		ret = EX_OSERR;
		goto out;
	}
	if (detach_opt && detach(&ready_fd) < 0) {
		log_error("cannot detach: %s", strerror(errno));
		ret = EX_OSERR;
		goto out;
	}
	lock_fd = hold_lock(d.queue);
	if (pid_abs && write_pidfile(pid_abs) < 0) {
		ret = EX_CANTCREAT;
		goto out;
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) < 0)
			log_warning("the starting process is gone");
		close(ready_fd);
	}
	log_info("started, pid %d", (int)getpid());
	start_runner(&d);	/* mail left from before */
	daemon_sync_setup(&d);
	if (server_run(d.srv) < 0)
		ret = EX_OSERR;
	if (pid_abs)
		unlink(pid_abs);
out:
	server_free(&d.srv);
	daemon_smtp_deinit(&d);
	daemon_sync_deinit(&d);
	SSL_CTX_free(d.tls);
	free(d.fingerprint);
	free(d.passwd_path);
	auth_cache_free(&d.auth_cache);
	queue_free(&d.queue);
	config_free(&d.cfg);
	free(pid_abs);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}
