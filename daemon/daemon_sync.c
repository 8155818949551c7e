/* The daemon's upstream sync: one task child per account whose sync is not
 * off, restarted when it dies (daemon_sync_* below, in the parent), and
 * what each task does (sync_task, in the child).
 *
 * A task runs a full sync (remote_sync_mirror or remote_sync_pull) at
 * start and every sync_interval, and between them waits on:
 *   - IDLE on the server's INBOX (when sync_folders selects INBOX), on a
 *     connection of its own: an EXISTS, EXPUNGE or FETCH syncs INBOX at
 *     once.  The sync opens its own connection and the IDLE goes on, so
 *     news that comes during a sync is read after it and syncs again.
 *     A server without IDLE gets a NOOP every sync_poll instead.
 *   - mirror mode: the store's notify fd of each synced local folder; a
 *     change syncs that folder once no change came for 1 s (a burst of
 *     flag changes is one sync).  What changes while a sync of ours runs
 *     is taken to be its own doing and dropped, so a change made here
 *     during a sync waits for the next one.
 *   - the server's other synced folders: polled every sync_poll on the
 *     IDLE connection (DONE, one LIST-STATUS, IDLE again; libetpan has no
 *     NOTIFY), each whose UIDNEXT, MESSAGES, UNSEEN, UIDVALIDITY or
 *     HIGHESTMODSEQ moved since the last poll synced, a new one by a full
 *     sync.  Each new IDLE connection polls at once; the task's first
 *     poll only takes note, so a change between the first full sync and
 *     it waits for the next full sync.  INBOX: a new connection whose
 *     SELECT differs from the last one's (news that came while none
 *     idled, as during a renewal) syncs it.
 * Errors: the next try comes after 1 s, doubling up to sync_interval, and
 * the count starts again after a success; no IDLE connection is made
 * while trying again.  The IDLE connection is checked every 5 minutes
 * (DONE and IDLE again, each answer within imap_timeout, so a dead
 * connection is noticed; RFC 2177 asks for a new IDLE within 29 minutes),
 * made anew imap_oauth_renew after it logged in when
 * imap_oauth_token_command is set (every login runs the command again, so
 * it gets a token the provider has not expired yet), and dropped with a
 * full sync at once when the wall clock moved a minute more or less than
 * the monotonic clock (a suspend, a clock set).
 *
 * The parent restarts a task that died after 1 s, doubling up to
 * sync_interval while it keeps dying within 10 minutes.  SIGHUP: every
 * task is stopped and started again with the new settings.  SIGTERM: a
 * task waiting stops at once; one in the middle of a sync ends it first
 * (each wait bounded by imap_timeout; lib/server kills it at
 * shutdown_timeout). */
#include "daemon/daemon-private.h"
#include "remote/remote.h"
#include "remote/sync.h"
#include "store/store.h"
#include "store/tag_sync.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/server.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CHECK_EVERY_MS (5 * 60 * 1000)		/* DONE + IDLE on the IDLE connection */
#define DEBOUNCE_MS 1000			/* local changes: quiet this long first */
#define CLOCK_JUMP_S 60				/* wall against monotonic: a suspend */
#define WAKE_EVERY_MS (30 * 1000)		/* to look at the clocks */
#define RESTART_RESET_S 600			/* a task that lived this long restarts at once */

/* ---- the parent ---- */

static int sync_task(void *ctx);

static bool sync_on(const struct config *cfg, const char *account)
{
	const char *mode = config_account_get(cfg, account, "sync");

	return mode != NULL && strcmp(mode, "off") != 0;
}

static struct daemon_sync_task *find_task(struct daemon *d, const char *account)
{
	for (size_t i = 0; i < d->n_sync; i++)
		if (strcmp(d->sync[i].account, account) == 0)
			return &d->sync[i];
	return NULL;
}

static void spawn(struct daemon *d, struct daemon_sync_task *t)
{
	pid_t pid;

	t->d = d;
	t->started = clock_monotonic_ms();
	pid = server_spawn_task(d->srv, sync_task, t);
	t->pid = pid > 0 ? pid : 0;
	if (pid > 0)
		log_info("account %s: sync task started, pid %d", t->account, (int)pid);
}

void daemon_sync_setup(struct daemon *d)
{
	for (size_t i = 0; i < config_account_count(d->cfg); i++) {
		const char *name = config_account_name(d->cfg, i);
		struct daemon_sync_task *t = find_task(d, name);

		if (!sync_on(d->cfg, name) || (t != NULL && t->pid != 0))
			continue;
		if (t == NULL) {
			d->sync = xreallocarray(d->sync, d->n_sync + 1, sizeof(*d->sync));
			t = &d->sync[d->n_sync++];
			*t = (struct daemon_sync_task){ .account = xstrdup(name) };
		}
		spawn(d, t);
	}
}

void daemon_sync_reload(struct daemon *d)
{
	for (size_t i = 0; i < d->n_sync; i++) {
		d->sync[i].delay_s = 0;
		d->sync[i].restart = d->sync[i].pid != 0;
		if (d->sync[i].pid != 0)
			kill(d->sync[i].pid, SIGTERM);
	}
	/* Accounts new or not running start now; the others when their old
	 * task has ended (daemon_sync_task_done). */
	daemon_sync_setup(d);
}

bool daemon_sync_task_done(struct daemon *d, pid_t pid)
{
	struct daemon_sync_task *t = NULL;
	int interval;

	for (size_t i = 0; i < d->n_sync && t == NULL; i++)
		if (d->sync[i].pid == pid)
			t = &d->sync[i];
	if (t == NULL)
		return false;
	t->pid = 0;
	if (!config_account_exists(d->cfg, t->account) || !sync_on(d->cfg, t->account))
		return true;
	if (t->restart) {
		t->restart = false;
	} else {
		interval = (int)config_account_int(d->cfg, t->account, "sync_interval");
		if (clock_monotonic_ms() - t->started >= RESTART_RESET_S * 1000)
			t->delay_s = 0;
		t->delay_s = t->delay_s == 0 ? 1 : t->delay_s * 2 > interval ? interval
									  : t->delay_s * 2;
		log_warning("account %s: the sync task ended; starting it again in %d s",
			    t->account, t->delay_s);
	}
	spawn(d, t);
	return true;
}

void daemon_sync_deinit(struct daemon *d)
{
	for (size_t i = 0; i < d->n_sync; i++)
		free(d->sync[i].account);
	free(d->sync);
	d->sync = NULL;
	d->n_sync = 0;
}

/* ---- the task ---- */

/* SIGTERM: a task that waits ends at once; one in a sync (or writing the
 * store's state) ends after it. */
static volatile sig_atomic_t busy, stop_asked;

static void on_term(int sig)
{
	(void)sig;
	if (!busy)
		_exit(0);
	stop_asked = 1;
}

static void leave_busy(void)
{
	busy = 0;
	if (stop_asked)
		_exit(0);
}

/* A synced folder of the store, watched for local changes (mirror mode);
 * or (name NULL, f NULL) the notmuch database, whose commits may be tag
 * changes to pass on as keywords: a full sync. */
struct watch {
	char *name;
	struct store_folder *f;
	int fd;
	bool dirty;
};

/* What the last poll saw of a synced folder of the server. */
struct polled {
	char *name;
	uint32_t uidvalidity, uidnext, messages, unseen;
	uint64_t modseq;
};

struct task {
	const struct config *cfg;
	const char *account;
	bool mirror;
	int64_t interval_ms;
	int64_t poll_ms;		/* sync_poll */
	int64_t renew_ms;		/* imap_oauth_renew */
	int64_t backoff_s;		/* 0: the last try went well */
	struct remote_account acc;
	bool idle_inbox;		/* INBOX is synced: IDLE on it */
	struct remote_conn *conn;	/* the IDLE (or NOOP) connection, or NULL */
	bool idling;
	int64_t conn_made, conn_checked;	/* monotonic ms */
	bool others;			/* the last poll found synced folders but INBOX */
	bool polled;			/* t->seen holds a first poll */
	struct polled *seen;
	size_t n_seen;
	char **pending;			/* folders the last poll found changed */
	size_t n_pending;
	bool pending_full;		/* ... or a new folder: a full sync */
	uint32_t inbox_exists, inbox_uidnext;	/* at the last SELECT; 0: none */
	struct store *store;		/* mirror mode: the watches' */
	struct watch *w;
	size_t n_w;
};

static void note_line(void *ctx, const char *line)
{
	(void)ctx;
	log_info("%s", line);
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void drop_conn(struct task *t)
{
	busy = 1;
	remote_close(&t->conn);
	t->idling = false;
	leave_busy();
}

static void failed(struct task *t)
{
	int64_t max = t->interval_ms / 1000;

	t->backoff_s = t->backoff_s == 0 ? 1 : t->backoff_s * 2 > max ? max : t->backoff_s * 2;
	drop_conn(t);
}

/* Syncs folder (NULL: every one).  0, or -1 (logged; backoff raised). */
static int sync_now(struct task *t, const char *folder)
{
	struct remote_sync_options opt = { .note = note_line, .folder = folder };
	struct remote_sync_stats st = { 0 };
	int64_t start = clock_monotonic_ms();
	char *error = NULL;
	enum remote_sync_result r;

	busy = 1;
	r = t->mirror ? remote_sync_mirror(t->cfg, t->account, &opt, &st, &error)
		      : remote_sync_pull(t->cfg, t->account, &opt, &st, &error);
	/* What our own sync changed in the store is not news. */
	for (size_t i = 0; i < t->n_w; i++)
		drain(t->w[i].fd);
	leave_busy();
	/* A full sync is logged every time (one line per sync_interval), a
	 * folder's only when it did something. */
	if (folder == NULL || r != REMOTE_SYNC_OK ||
	    st.downloaded + st.uploaded + st.flags_local + st.flags_remote +
	    st.expunged_local + st.expunged_remote > 0)
		log_info("%s: %zu down, %zu up, %zu flags here, %zu flags there, "
			 "%zu expunged here, %zu expunged there in %lld ms",
			 folder ? folder : "all folders", st.downloaded, st.uploaded,
			 st.flags_local, st.flags_remote, st.expunged_local, st.expunged_remote,
			 (long long)(clock_monotonic_ms() - start));
	if (r == REMOTE_SYNC_OK) {
		t->backoff_s = 0;
		return 0;
	}
	failed(t);
	log_warning("%s; trying again in %lld s", error, (long long)t->backoff_s);
	free(error);
	return -1;
}

/* Mirror mode: watches the synced folders of the store not watched yet
 * (a full sync may have created some). */
static void watch_folders(struct task *t)
{
	const char *patterns = config_account_get(t->cfg, t->account, "sync_folders"), *err;
	struct store_folder_info *list = NULL;
	size_t n = 0;

	if (!t->mirror || t->store == NULL)
		return;
	busy = 1;
	if (store_folder_list(t->store, &list, &n, &err) < 0) {
		log_warning("cannot list the store's folders: %s", err);
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_folder *f;
		bool known = false;
		int fd;

		for (size_t k = 0; k < t->n_w && !known; k++)
			known = t->w[k].name != NULL && strcmp(t->w[k].name, list[i].name) == 0;
		if (known || !remote_sync_folder_wanted(patterns, list[i].name))
			continue;
		if (store_folder_open(t->store, list[i].name, &f, &err) < 0) {
			log_warning("%s: %s: local changes wait for the next full sync",
				    list[i].name, err);
			continue;
		}
		if ((fd = store_folder_notify_fd(f)) < 0) {
			store_folder_close(&f);
			continue;
		}
		t->w = xreallocarray(t->w, t->n_w + 1, sizeof(*t->w));
		t->w[t->n_w++] = (struct watch){ .name = xstrdup(list[i].name), .f = f, .fd = fd };
	}
	store_folder_list_free(list, n);
	/* Once the first sync has made the database: `notmuch tag` by hand
	 * reaches the provider without waiting for sync_interval. */
	bool nm = false;

	for (size_t k = 0; k < t->n_w && !nm; k++)
		nm = t->w[k].name == NULL;
	if (!nm) {
		int fd = tag_sync_notify_fd(t->store, &err);

		if (fd >= 0) {
			t->w = xreallocarray(t->w, t->n_w + 1, sizeof(*t->w));
			t->w[t->n_w++] = (struct watch){ .fd = fd };
		}
	}
	leave_busy();
}

static void drop_pending(struct task *t)
{
	while (t->n_pending > 0)
		free(t->pending[--t->n_pending]);
}

static int full_sync(struct task *t)
{
	/* It syncs what a poll found, and may bring folders to poll. */
	drop_pending(t);
	t->others = true;
	if (sync_now(t, NULL) < 0)
		return -1;
	watch_folders(t);
	return 0;
}

static void add_pending(struct task *t, const char *folder)
{
	t->pending = xreallocarray(t->pending, t->n_pending + 1, sizeof(*t->pending));
	t->pending[t->n_pending++] = xstrdup(folder);
}

static struct polled *find_polled(struct task *t, const char *name)
{
	for (size_t i = 0; i < t->n_seen; i++)
		if (strcmp(t->seen[i].name, name) == 0)
			return &t->seen[i];
	return NULL;
}

/* The STATUS of every synced folder but INBOX (one LIST-STATUS where
 * offered) against the last poll's: a folder that moved goes to
 * t->pending, a new one sets t->pending_full.  0, or -1 with *error_r. */
static int poll_folders(struct task *t, char **error_r)
{
	const char *patterns = config_account_get(t->cfg, t->account, "sync_folders");
	struct remote_folder *list = NULL;
	size_t n = 0;

	if (remote_list_folders(t->conn, &list, &n, error_r) < 0)
		return -1;
	t->others = false;
	for (size_t i = 0; i < n; i++) {
		const struct remote_folder *f = &list[i];
		struct polled *p;

		if (f->noselect || !f->has_counts || strcasecmp(f->name, "INBOX") == 0 ||
		    !remote_sync_folder_wanted(patterns, f->name))
			continue;
		t->others = true;
		if ((p = find_polled(t, f->name)) == NULL) {
			t->seen = xreallocarray(t->seen, t->n_seen + 1, sizeof(*t->seen));
			p = &t->seen[t->n_seen++];
			*p = (struct polled){ .name = xstrdup(f->name) };
			t->pending_full |= t->polled;
		} else if (p->uidvalidity != f->uidvalidity || p->uidnext != f->uidnext ||
			   p->messages != f->messages || p->unseen != f->unseen ||
			   p->modseq != f->highestmodseq) {
			add_pending(t, f->name);
		}
		p->uidvalidity = f->uidvalidity;
		p->uidnext = f->uidnext;
		p->messages = f->messages;
		p->unseen = f->unseen;
		p->modseq = f->highestmodseq;
	}
	t->polled = true;
	remote_folders_free(list, n);
	return 0;
}

/* Connects, selects INBOX, polls the other folders and starts IDLE (or
 * NOOP polling).  0, or -1 (logged). */
static int open_conn(struct task *t)
{
	struct remote_idle_news news = { 0 };
	uint32_t exists = 0, uidnext = 0;
	char *error = NULL;

	busy = 1;
	t->conn = remote_connect(&t->acc, &error);
	if (t->conn == NULL ||
	    remote_select(t->conn, "INBOX", &exists, NULL, &uidnext, &error) < 0)
		goto fail;
	/* What came while no connection idled (a renewal's new login) is
	 * news too. */
	if (t->inbox_uidnext != 0 && (exists != t->inbox_exists || uidnext != t->inbox_uidnext))
		add_pending(t, "INBOX");
	t->inbox_exists = exists;
	t->inbox_uidnext = uidnext;
	if (t->others && poll_folders(t, &error) < 0)
		goto fail;
	if (remote_has_cap(t->conn, "IDLE")) {
		if (remote_idle_start(t->conn, &news, &error) < 0)
			goto fail;
		t->idling = true;
	}
	t->conn_made = t->conn_checked = clock_monotonic_ms();
	leave_busy();
	return 0;
fail:
	leave_busy();
	log_warning("INBOX: %s", error);
	free(error);
	failed(t);
	return -1;
}

/* How long after the last check the next one is due. */
static int64_t check_every(const struct task *t)
{
	if (!t->idling)
		return t->poll_ms;
	return t->others && t->poll_ms < CHECK_EVERY_MS ? t->poll_ms : CHECK_EVERY_MS;
}

/* The check every check_every(): DONE (or the NOOP of a server without
 * IDLE), the poll of the other folders, IDLE again.  1 when INBOX has
 * news, 0 when not, -1 when the connection failed (logged). */
static int check_conn(struct task *t)
{
	struct remote_idle_news news = { 0 };
	char *error = NULL;
	int r;

	busy = 1;
	r = t->idling ? remote_idle_done(t->conn, &news, &error)
		      : remote_noop(t->conn, &news, &error);
	if (r == 0 && t->others)
		r = poll_folders(t, &error);
	if (r == 0 && t->idling)
		r = remote_idle_start(t->conn, &news, &error);
	t->conn_checked = clock_monotonic_ms();
	leave_busy();
	if (r < 0) {
		log_warning("INBOX: %s", error);
		free(error);
		return -1;
	}
	return news.exists || news.expunge || news.fetch;
}

/* Reads what the IDLE connection has: 1 news, 0 nothing, -1 failed. */
static int read_news(struct task *t)
{
	struct remote_idle_news news = { 0 };
	char *error = NULL;
	int r;

	busy = 1;
	/* 1 ms, not 0: remote_idle_wait polls only while time is left, and
	 * the bytes may still be in the socket, not in its buffer. */
	r = remote_idle_wait(t->conn, 1, &news, &error);
	leave_busy();
	if (r < 0) {
		log_warning("INBOX: %s", error);
		free(error);
		return -1;
	}
	return news.exists || news.expunge || news.fetch;
}

static int64_t earlier(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* One wait for whatever comes first; returns after handling it. */
static void wait_once(struct task *t, int64_t *next_full, int64_t *debounce)
{
	int64_t now = clock_monotonic_ms();
	int64_t wake = earlier(*next_full, now + WAKE_EVERY_MS);
	struct pollfd *pf = xcalloc(t->n_w + 1, sizeof(*pf));
	size_t n = 0;
	int r;

	if (*debounce != 0)
		wake = earlier(wake, *debounce);
	if (t->conn != NULL) {
		wake = earlier(wake, t->conn_checked + check_every(t));
		if (t->acc.oauth_token_command != NULL)
			wake = earlier(wake, t->conn_made + t->renew_ms);
		pf[n++] = (struct pollfd){ .fd = remote_fd(t->conn), .events = POLLIN };
	}
	for (size_t i = 0; i < t->n_w; i++)
		pf[n++] = (struct pollfd){ .fd = t->w[i].fd, .events = POLLIN };
	if (t->conn != NULL && remote_idle_pending(t->conn))
		wake = now;
	r = poll(pf, n, wake > now ? (int)(wake - now) : 0);
	if (r < 0 && errno != EINTR)
		log_warning("poll: %s", strerror(errno));
	now = clock_monotonic_ms();
	size_t k = 0;

	if (t->conn != NULL) {
		bool readable = r > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;

		k = 1;
		if (readable || remote_idle_pending(t->conn)) {
			int news = read_news(t);

			if (news < 0) {
				/* Dead: a sync tells whether the server is there. */
				drop_conn(t);
				*next_full = now;
			} else if (news > 0 && sync_now(t, "INBOX") < 0) {
				*next_full = clock_monotonic_ms() + t->backoff_s * 1000;
			}
		}
	}
	for (size_t i = 0; i < t->n_w; i++, k++) {
		if (r > 0 && (pf[k].revents & POLLIN)) {
			drain(t->w[i].fd);
			t->w[i].dirty = true;
			*debounce = now + DEBOUNCE_MS;
		}
	}
	free(pf);
}

static void task_loop(struct task *t)
{
	int64_t next_full = 0, debounce = 0;
	/* time(), not clock_now(): a suspend moves the real clock only. */
	int64_t wall_ref = time(NULL), mono_ref = clock_monotonic_ms();

	for (;;) {
		int64_t now = clock_monotonic_ms();
		int64_t jump = (time(NULL) - wall_ref) - (now - mono_ref) / 1000;

		if (jump > CLOCK_JUMP_S || jump < -CLOCK_JUMP_S) {
			log_info("the clock moved %lld s beside the monotonic clock (a suspend?): "
				 "connecting again", (long long)jump);
			drop_conn(t);
			next_full = now;
			wall_ref = time(NULL);
			mono_ref = now;
		}
		if (now >= next_full) {
			next_full = clock_monotonic_ms() +
				    (full_sync(t) == 0 ? t->interval_ms : t->backoff_s * 1000);
			continue;
		}
		if (debounce != 0 && now >= debounce) {
			debounce = 0;
			for (size_t i = 0; i < t->n_w; i++) {
				if (!t->w[i].dirty)
					continue;
				t->w[i].dirty = false;
				if (sync_now(t, t->w[i].name) < 0) {
					next_full = clock_monotonic_ms() + t->backoff_s * 1000;
					break;
				}
			}
			continue;
		}
		if (t->conn == NULL && t->idle_inbox && t->backoff_s == 0 && open_conn(t) < 0) {
			next_full = clock_monotonic_ms() + t->backoff_s * 1000;
			continue;
		}
		if (t->pending_full) {
			t->pending_full = false;
			next_full = now;
			continue;
		}
		if (t->n_pending > 0) {
			char *name = t->pending[--t->n_pending];
			int r = sync_now(t, name);

			free(name);
			if (r < 0) {
				next_full = clock_monotonic_ms() + t->backoff_s * 1000;
				drop_pending(t);
			}
			continue;
		}
		if (t->conn != NULL && t->acc.oauth_token_command != NULL &&
		    now - t->conn_made >= t->renew_ms) {
			log_info("INBOX: logging in again with a new OAuth token");
			drop_conn(t);
			continue;
		}
		if (t->conn != NULL && now - t->conn_checked >= check_every(t)) {
			int news = check_conn(t);

			if (news < 0) {
				drop_conn(t);
				next_full = now;
			} else if (news > 0 && sync_now(t, "INBOX") < 0) {
				next_full = clock_monotonic_ms() + t->backoff_s * 1000;
			}
			continue;
		}
		wait_once(t, &next_full, &debounce);
	}
}

static int sync_task(void *ctx)
{
	struct daemon_sync_task *dt = ctx;
	struct sigaction sa = { .sa_handler = on_term };
	struct config *own = NULL;
	struct task t = { .account = dt->account };
	char context[64], *error = NULL;
	const char *err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(context, sizeof(context), "sync %s", dt->account);
	log_set_context(context);
	if (dt->delay_s > 0)
		poll(NULL, 0, dt->delay_s * 1000);
	busy = 1;
	t.cfg = daemon_child_config(dt->d, &own);
	const char *mode = config_account_get(t.cfg, t.account, "sync");

	if (mode == NULL || strcmp(mode, "off") == 0) {
		/* The mailrc changed under us; the SIGHUP that follows settles it. */
		log_warning("account %s is gone or its sync is off: the task ends", t.account);
		config_free(&own);
		return 0;
	}
	t.mirror = strcmp(mode, "mirror") == 0;
	t.interval_ms = config_account_int(t.cfg, t.account, "sync_interval") * 1000;
	t.poll_ms = config_account_int(t.cfg, t.account, "sync_poll") * 1000;
	t.renew_ms = config_account_int(t.cfg, t.account, "imap_oauth_renew") * 1000;
	const char *pop3 = config_account_get(t.cfg, t.account, "pop3_url");

	/* POP3 has no IDLE: the full sync every sync_interval is all. */
	t.idle_inbox = (pop3 == NULL || *pop3 == '\0') &&
		       remote_sync_folder_wanted(config_account_get(t.cfg, t.account,
								    "sync_folders"), "INBOX");
	if (t.idle_inbox && remote_account_load(t.cfg, t.account, &t.acc, &error) < 0) {
		log_error("%s: the daemon does not sync it", error);
		free(error);
		config_free(&own);
		return 0;
	}
	struct store_settings set = {
		.root = config_get(t.cfg, "folder"),
		.state_dir = config_get(t.cfg, "state_dir"),
		.notmuch_db = config_get(t.cfg, "notmuch_database"),
	};

	if (t.mirror && store_open(&set, STORE_OPEN_CREATE, &t.store, &err) < 0)
		log_warning("the store: %s: local changes wait for the full sync", err);
	leave_busy();
	task_loop(&t);
	return 0;
}
