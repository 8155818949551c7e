/* The fork-per-connection parent: listeners, children, tasks, signals.
 *
 * Signals are turned into bytes on a self-pipe so the main loop handles
 * them in ordinary code, between polls: a signal handler only writes one
 * byte.  Children get their own dispositions back right after fork(), so a
 * SIGHUP meant for the parent never reaches a session half-way. */
#include "lib/server.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG 64
#define KILL_GRACE_MS 5000	/* after the SIGTERM to children, before SIGKILL */

struct listener {
	char *name, *address, *busy;
	int fd;
	server_handler_fn *handler;
	void *ctx;
};

/* A connection child also has a pipe on which it reports its state
 * (server_child_report): the parent reads it to know which children are
 * logged in and which are already on their way out. */
struct child {
	pid_t pid;
	unsigned long id;
	bool task;
	int status_fd;		/* read end; -1 once closed (and for tasks) */
	bool authenticated;
	bool done;		/* closing, evicted or gone: no longer counted */
	int64_t started_ms;
	char ip[64];
	/* A message being read (server_child_message): 'M', its length,
	 * then that many bytes, possibly over several reads. */
	unsigned char msg[2 + SERVER_MESSAGE_MAX];
	size_t msg_have;
};

struct server {
	struct server_callbacks cb;
	struct listener *ls;
	size_t n_ls;
	struct child *kids;
	size_t n_kids, kids_alloc;
	unsigned max_children, max_per_ip, n_conns, n_tasks;
	pid_t done_pid;		/* the task SERVER_EV_TASK_DONE is about */
	int drain_s, timer_s;
	bool have_user, stopping, killed_term, killed_kill;
	uid_t uid;
	gid_t gid;
	unsigned long next_id;
	int sig_pipe[2], poke_pipe[2];
	int report_fd;		/* in a connection child: its status pipe */
	int64_t next_timer_ms, deadline_ms;
	char err[256];
};

static int sig_write_fd = -1;
static pid_t sig_parent;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	/* A child forked a moment ago runs this until child_setup() resets
	 * the handlers; the pipe is shared, so writing would tell the parent
	 * a signal it never got (an evicted child's SIGTERM stopping the
	 * daemon).  Do what the default would do instead. */
	if (getpid() != sig_parent) {
		if (sig == SIGTERM || sig == SIGINT) {
			signal(sig, SIG_DFL);
			raise(sig);	/* delivered when the handler returns */
		}
		errno = saved;
		return;
	}
	if (write(sig_write_fd, &b, 1) < 0) {
		/* The pipe is full: enough wake-ups are pending already. */
	}
	errno = saved;
}

struct server *server_new(const struct server_callbacks *cb)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct sigaction sa = { .sa_handler = on_signal };

	srv->cb = *cb;
	srv->max_children = 20;
	srv->drain_s = 30;
	srv->next_id = 1;
	srv->report_fd = -1;
	if (pipe2(srv->sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(srv->poke_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		abort();	/* no fds at start: nothing sensible to do */
	sig_write_fd = srv->sig_pipe[1];
	sig_parent = getpid();
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return srv;
}

static void listener_close(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void server_free(struct server **srvp)
{
	struct server *srv = *srvp;

	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->n_ls; i++) {
		listener_close(&srv->ls[i]);
		free(srv->ls[i].name);
		free(srv->ls[i].address);
		free(srv->ls[i].busy);
	}
	free(srv->ls);
	for (size_t i = 0; i < srv->n_kids; i++)
		if (srv->kids[i].status_fd >= 0)
			close(srv->kids[i].status_fd);
	free(srv->kids);
	close(srv->sig_pipe[0]);
	close(srv->sig_pipe[1]);
	close(srv->poke_pipe[0]);
	close(srv->poke_pipe[1]);
	sig_write_fd = -1;
	free(srv);
	*srvp = NULL;
}

int server_listen(struct server *srv, const char *name, const char *address,
		  server_handler_fn *handler, void *ctx, const char *busy, const char **error_r)
{
	struct listener *l = NULL;
	const char *err;
	int fd = -1;

	for (size_t i = 0; i < srv->n_ls; i++)
		if (strcmp(srv->ls[i].name, name) == 0)
			l = &srv->ls[i];
	if (address != NULL && *address == '\0')
		address = NULL;
	bool same = l != NULL && l->fd >= 0 && address != NULL && strcmp(l->address, address) == 0;

	if (address != NULL && !same) {
		fd = net_listen(address, BACKLOG, &err);
		if (fd < 0) {
			snprintf(srv->err, sizeof(srv->err), "%s %s: %s", name, address, err);
			*error_r = srv->err;
			return -1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	if (l == NULL) {
		srv->ls = xreallocarray(srv->ls, srv->n_ls + 1, sizeof(*srv->ls));
		l = &srv->ls[srv->n_ls++];
		*l = (struct listener){ .name = xstrdup(name), .fd = -1 };
	}
	if (!same) {
		if (l->fd >= 0)
			log_info("%s: no longer listening on %s", name, l->address);
		listener_close(l);
		free(l->address);
		l->address = address ? xstrdup(address) : NULL;
		l->fd = fd;
		if (fd >= 0)
			log_info("%s: listening on %s", name, address);
	}
	l->handler = handler;
	l->ctx = ctx;
	free(l->busy);
	l->busy = busy ? xstrdup(busy) : NULL;
	return 0;
}

size_t server_listener_count(const struct server *srv)
{
	size_t n = 0;

	for (size_t i = 0; i < srv->n_ls; i++)
		n += srv->ls[i].fd >= 0;
	return n;
}

void server_set_max_children(struct server *srv, unsigned max)
{
	srv->max_children = max ? max : 1;
}

void server_set_max_per_ip(struct server *srv, unsigned max)
{
	srv->max_per_ip = max;
}

void server_set_drain(struct server *srv, int seconds)
{
	srv->drain_s = seconds < 0 ? 0 : seconds;
}

void server_set_timer(struct server *srv, int seconds)
{
	srv->timer_s = seconds;
	srv->next_timer_ms = seconds > 0 ? clock_monotonic_ms() + (int64_t)seconds * 1000 : 0;
}

void server_set_user(struct server *srv, uid_t uid, gid_t gid)
{
	srv->have_user = true;
	srv->uid = uid;
	srv->gid = gid;
}

unsigned server_tasks_running(const struct server *srv) { return srv->n_tasks; }
pid_t server_task_done_pid(const struct server *srv) { return srv->done_pid; }

void server_poke(struct server *srv)
{
	if (write(srv->poke_pipe[1], "p", 1) < 0) {
		/* EAGAIN: the parent has pokes unread, which is all it needs. */
	}
}

void server_child_report(struct server *srv, enum server_child_state state)
{
	char b = state == SERVER_CHILD_AUTHENTICATED ? 'A'
		 : state == SERVER_CHILD_UNAUTHENTICATED ? 'U' : 'C';

	if (srv->report_fd >= 0 && write(srv->report_fd, &b, 1) < 0) {
		/* The parent is gone or not reading: nothing to tell anyone. */
	}
}

void server_child_message(struct server *srv, const void *data, size_t len)
{
	unsigned char buf[2 + SERVER_MESSAGE_MAX];

	if (srv->report_fd < 0 || len == 0 || len > SERVER_MESSAGE_MAX)
		return;
	buf[0] = 'M';
	buf[1] = (unsigned char)len;
	memcpy(buf + 2, data, len);
	/* At most PIPE_BUF bytes: one write, never interleaved. */
	if (write(srv->report_fd, buf, len + 2) < 0) {
		/* The parent is gone or not reading: nothing to tell anyone. */
	}
}

/* In a fresh child: back to default signals, no parent-only fds, and the
 * unprivileged identity.  Exits 75 (EX_TEMPFAIL) when the drop fails:
 * running on as root by accident is never the better choice. */
static void child_setup(struct server *srv, int keep_fd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	signal(SIGHUP, SIG_IGN);
	for (size_t i = 0; i < srv->n_ls; i++)
		if (srv->ls[i].fd != keep_fd)
			listener_close(&srv->ls[i]);
	close(srv->sig_pipe[0]);
	close(srv->sig_pipe[1]);
	close(srv->poke_pipe[0]);
	for (size_t i = 0; i < srv->n_kids; i++)
		if (srv->kids[i].status_fd >= 0)
			close(srv->kids[i].status_fd);
	srv->n_kids = 0;
	if (srv->have_user && geteuid() == 0) {
		if (setgroups(0, NULL) < 0 || setgid(srv->gid) < 0 || setuid(srv->uid) < 0 ||
		    setuid(0) == 0) {
			log_error("cannot drop privileges to uid %u: %s", (unsigned)srv->uid,
				  strerror(errno));
			_exit(75);
		}
		/* Libraries look in $HOME (notmuch's config): the user's, not root's. */
		struct passwd *pw = getpwuid(srv->uid);

		if (pw != NULL) {
			setenv("HOME", pw->pw_dir, 1);
			setenv("USER", pw->pw_name, 1);
			setenv("LOGNAME", pw->pw_name, 1);
		}
	}
}

static void add_child(struct server *srv, pid_t pid, unsigned long id, bool task,
		      int status_fd, const char *ip)
{
	struct child *k;

	if (srv->n_kids == srv->kids_alloc) {
		srv->kids_alloc = srv->kids_alloc ? 2 * srv->kids_alloc : 16;
		srv->kids = xreallocarray(srv->kids, srv->kids_alloc, sizeof(*srv->kids));
	}
	k = &srv->kids[srv->n_kids++];
	*k = (struct child){ .pid = pid, .id = id, .task = task, .status_fd = status_fd,
			     .started_ms = clock_monotonic_ms() };
	snprintf(k->ip, sizeof(k->ip), "%s", ip ? ip : "");
	if (task)
		srv->n_tasks++;
	else
		srv->n_conns++;
}

pid_t server_spawn_task(struct server *srv, server_task_fn *fn, void *ctx)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("cannot fork a task: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		child_setup(srv, -1);
		_exit(fn(ctx));
	}
	add_child(srv, pid, 0, true, -1, NULL);
	return pid;
}

/* Live connections (not closing, not evicted), from ip only when not NULL. */
static unsigned count_live(const struct server *srv, const char *ip)
{
	unsigned n = 0;

	for (size_t i = 0; i < srv->n_kids; i++) {
		const struct child *k = &srv->kids[i];

		n += !k->task && !k->done && (ip == NULL || strcmp(k->ip, ip) == 0);
	}
	return n;
}

/* Over a cap, the oldest connection not logged in (from ip, when not NULL)
 * is ended to make room, as Dovecot's login processes do: idle sockets,
 * however many, can then never keep out a client that logs in.  Returns
 * false when every counted connection is logged in. */
static bool evict_oldest(struct server *srv, const char *ip, const char *why)
{
	struct child *victim = NULL;
	int64_t now = clock_monotonic_ms();

	for (size_t i = 0; i < srv->n_kids; i++) {
		struct child *k = &srv->kids[i];

		if (k->task || k->done || k->authenticated || (ip != NULL && strcmp(k->ip, ip) != 0))
			continue;
		if (victim == NULL || k->started_ms < victim->started_ms)
			victim = k;
	}
	if (victim == NULL)
		return false;
	log_warning("c%lu: closed to make room (%s): not logged in after %lld ms", victim->id, why,
		    (long long)(now - victim->started_ms));
	kill(victim->pid, SIGTERM);
	victim->done = true;
	return true;
}

static void read_status(struct server *srv, struct child *k);
static void reap(struct server *srv);

/* NULL when the new connection from ip may have a child, else why not. */
static const char *make_room(struct server *srv, const char *ip)
{
	/* At a cap, first take the news not read yet: a child may have said
	 * it is closing after the poll that woke us. */
	if ((srv->max_per_ip > 0 && count_live(srv, ip) >= srv->max_per_ip) ||
	    count_live(srv, NULL) >= srv->max_children) {
		reap(srv);
		for (size_t i = 0; i < srv->n_kids; i++)
			if (srv->kids[i].status_fd >= 0)
				read_status(srv, &srv->kids[i]);
	}
	if (srv->max_per_ip > 0 && count_live(srv, ip) >= srv->max_per_ip &&
	    !evict_oldest(srv, ip, "max_connections_per_ip"))
		return "max_connections_per_ip logged-in connections from this address";
	if (count_live(srv, NULL) >= srv->max_children &&
	    !evict_oldest(srv, NULL, "max_connections"))
		return "max_connections logged-in connections";
	return NULL;
}

static void accept_one(struct server *srv, struct listener *l)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char ip[64], id[32];
	int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC), st[2];
	const char *full;
	pid_t pid;

	if (fd < 0)
		return;	/* EAGAIN (another wake-up took it), ECONNABORTED... */
	net_addr_str((struct sockaddr *)&peer, ip, sizeof(ip));
	snprintf(id, sizeof(id), "c%lu", srv->next_id++);
	full = make_room(srv, ip);
	if (full != NULL) {
		/* Accept and refuse, rather than leave it in the backlog: the
		 * client learns at once that it should come back later. */
		log_warning("%s: %s: refused from %s: %s", id, l->name, ip, full);
		if (l->busy != NULL && send(fd, l->busy, strlen(l->busy), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* A client that cannot take 40 bytes gets nothing. */
		}
		close(fd);
		return;
	}
	if (pipe2(st, O_CLOEXEC) < 0) {
		log_error("%s: cannot make a status pipe: %s", id, strerror(errno));
		close(fd);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("%s: cannot fork: %s", id, strerror(errno));
		close(fd);
		close(st[0]);
		close(st[1]);
		return;
	}
	if (pid == 0) {
		close(st[0]);
		child_setup(srv, -1);
		srv->report_fd = st[1];
		log_set_context(id);
		_exit(l->handler(l->ctx, fd, (struct sockaddr *)&peer, id));
	}
	close(fd);
	close(st[1]);
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	add_child(srv, pid, srv->next_id - 1, false, st[0], ip);
	log_info("%s: %s: connection from %s, pid %d", id, l->name, ip, (int)pid);
}

/* One byte of a child's status pipe: a state letter, or part of a
 * message ('M', length, bytes), handed to the callback once whole. */
static void status_byte(struct server *srv, struct child *k, unsigned char b)
{
	if (k->msg_have > 0) {
		k->msg[k->msg_have++] = b;
		if (k->msg_have >= 2 && k->msg_have == 2 + (size_t)k->msg[1]) {
			if (srv->cb.message != NULL && k->msg[1] > 0)
				srv->cb.message(srv->cb.ctx, srv, k->msg + 2, k->msg[1]);
			k->msg_have = 0;
		}
		return;
	}
	if (b == 'M')
		k->msg[k->msg_have++] = b;
	else if (b == 'A' || b == 'U')
		k->authenticated = b == 'A';
	else if (b == 'C')
		k->done = true;
}

/* What a connection child reported; its end of stream means it is gone. */
static void read_status(struct server *srv, struct child *k)
{
	unsigned char buf[512];
	ssize_t n;

	while ((n = read(k->status_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			status_byte(srv, k, buf[i]);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(k->status_fd);
		k->status_fd = -1;
		k->done = true;
	}
}

static void reap(struct server *srv)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < srv->n_kids; i++) {
			struct child k = srv->kids[i];

			if (k.pid != pid)
				continue;
			srv->kids[i] = srv->kids[--srv->n_kids];
			if (k.status_fd >= 0)
				close(k.status_fd);
			if (k.task) {
				srv->n_tasks--;
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					log_warning("task %d ended with status %d", (int)pid, status);
				if (!srv->stopping) {
					srv->done_pid = pid;
					srv->cb.event(srv->cb.ctx, srv, SERVER_EV_TASK_DONE);
					srv->done_pid = 0;
				}
			} else {
				srv->n_conns--;
				if (WIFSIGNALED(status))
					log_warning("c%lu: closed, killed by signal %d", k.id, WTERMSIG(status));
				else
					log_info("c%lu: closed, status %d", k.id, WEXITSTATUS(status));
			}
			break;
		}
	}
}

static void signal_children(struct server *srv, int sig, bool tasks)
{
	for (size_t i = 0; i < srv->n_kids; i++)
		if (srv->kids[i].task == tasks)
			kill(srv->kids[i].pid, sig);
}

static void begin_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->deadline_ms = clock_monotonic_ms() + (int64_t)srv->drain_s * 1000;
	for (size_t i = 0; i < srv->n_ls; i++)
		listener_close(&srv->ls[i]);
	log_info("stopping: %u connection(s) and %u task(s) to finish", srv->n_conns, srv->n_tasks);
	/* Tasks stop at their next safe point (server.h); connections get
	 * the drain time to finish what they are doing. */
	signal_children(srv, SIGTERM, true);
}

static void handle_signals(struct server *srv)
{
	unsigned char buf[64];
	ssize_t n;

	while ((n = read(srv->sig_pipe[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == SIGTERM || buf[i] == SIGINT)
				begin_stop(srv);
			else if (buf[i] == SIGHUP && !srv->stopping)
				srv->cb.event(srv->cb.ctx, srv, SERVER_EV_RELOAD);
		}
	}
	reap(srv);
}

/* The drain deadline: SIGTERM to the connections still open and SIGKILL
 * to tasks still running (they had their SIGTERM when the stop began; what
 * they write is crash-safe), SIGKILL to connections after a grace period. */
static void check_deadline(struct server *srv, int64_t now)
{
	if (!srv->killed_term && now >= srv->deadline_ms && srv->n_conns + srv->n_tasks > 0) {
		log_warning("stopping: %u connection(s) and %u task(s) still running after %d s, "
			    "terminating them", srv->n_conns, srv->n_tasks, srv->drain_s);
		signal_children(srv, SIGTERM, false);
		signal_children(srv, SIGKILL, true);
		srv->killed_term = true;
	}
	if (!srv->killed_kill && now >= srv->deadline_ms + KILL_GRACE_MS && srv->n_conns > 0) {
		signal_children(srv, SIGKILL, false);
		srv->killed_kill = true;
	}
}

int server_run(struct server *srv)
{
	struct pollfd *p = NULL;

	/* The caller may have forked since server_new (loft daemon --detach). */
	sig_parent = getpid();
	for (;;) {
		int64_t now = clock_monotonic_ms(), wait = -1;
		size_t np = 0, n_ls = srv->n_ls;

		if (srv->stopping) {
			if (srv->n_conns == 0 && srv->n_tasks == 0)
				break;
			check_deadline(srv, now);
			wait = 200;
		} else if (srv->timer_s > 0) {
			if (now >= srv->next_timer_ms) {
				srv->next_timer_ms = now + (int64_t)srv->timer_s * 1000;
				srv->cb.event(srv->cb.ctx, srv, SERVER_EV_TIMER);
			}
			wait = srv->next_timer_ms - now;
		}
		p = xreallocarray(p, srv->n_ls + srv->n_kids + 2, sizeof(*p));
		p[np++] = (struct pollfd){ .fd = srv->sig_pipe[0], .events = POLLIN };
		p[np++] = (struct pollfd){ .fd = srv->poke_pipe[0], .events = POLLIN };
		for (size_t i = 0; i < srv->n_ls; i++)
			p[np++] = (struct pollfd){ .fd = srv->ls[i].fd, .events = POLLIN };
		for (size_t i = 0; i < srv->n_kids; i++)
			if (srv->kids[i].status_fd >= 0)
				p[np++] = (struct pollfd){ .fd = srv->kids[i].status_fd, .events = POLLIN };
		if (poll(p, np, (int)(wait > INT32_MAX ? INT32_MAX : wait)) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			free(p);
			return -1;
		}
		if (p[0].revents)
			handle_signals(srv);
		if (p[1].revents) {
			char buf[64];

			while (read(srv->poke_pipe[0], buf, sizeof(buf)) > 0)
				;
			if (!srv->stopping)
				srv->cb.event(srv->cb.ctx, srv, SERVER_EV_POKE);
		}
		/* Status before accepting: a child that said it is closing
		 * (before its last reply) no longer counts against the caps.
		 * Children reaped above closed their fd: match by fd. */
		for (size_t j = 2 + n_ls; j < np; j++)
			for (size_t i = 0; p[j].revents && i < srv->n_kids; i++)
				if (srv->kids[i].status_fd == p[j].fd)
					read_status(srv, &srv->kids[i]);
		/* Listeners may have been rebound by a reload above: only
		 * the fds polled are looked at, by position. */
		for (size_t i = 0; i + 2 < np && i < n_ls && i < srv->n_ls; i++)
			if ((p[i + 2].revents & POLLIN) && srv->ls[i].fd == p[i + 2].fd &&
			    srv->ls[i].fd >= 0)
				accept_one(srv, &srv->ls[i]);
	}
	free(p);
	log_info("stopped");
	return 0;
}
