/* The fork-per-connection parent: listeners, children, tasks, signals.
 *
 * Signals are turned into bytes on a self-pipe so the main loop handles
 * them in ordinary code, between polls: a signal handler only writes one
 * byte.  Children get their own dispositions back right after fork(), so a
 * SIGHUP meant for the parent never reaches a session half-way. */
#include "lib/server.h"
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

struct child {
	pid_t pid;
	unsigned long id;
	bool task;
};

struct server {
	struct server_callbacks cb;
	struct listener *ls;
	size_t n_ls;
	struct child *kids;
	size_t n_kids, kids_alloc;
	unsigned max_children, n_conns, n_tasks;
	int drain_s, timer_s;
	bool have_user, stopping, killed_term, killed_kill;
	uid_t uid;
	gid_t gid;
	unsigned long next_id;
	int sig_pipe[2], poke_pipe[2];
	int64_t next_timer_ms, deadline_ms;
	char err[256];
};

static int sig_write_fd = -1;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(sig_write_fd, &b, 1) < 0) {
		/* The pipe is full: enough wake-ups are pending already. */
	}
	errno = saved;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct server *server_new(const struct server_callbacks *cb)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct sigaction sa = { .sa_handler = on_signal };

	srv->cb = *cb;
	srv->max_children = 20;
	srv->drain_s = 30;
	srv->next_id = 1;
	if (pipe2(srv->sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(srv->poke_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		abort();	/* no fds at start: nothing sensible to do */
	sig_write_fd = srv->sig_pipe[1];
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

void server_set_drain(struct server *srv, int seconds)
{
	srv->drain_s = seconds < 0 ? 0 : seconds;
}

void server_set_timer(struct server *srv, int seconds)
{
	srv->timer_s = seconds;
	srv->next_timer_ms = seconds > 0 ? now_ms() + (int64_t)seconds * 1000 : 0;
}

void server_set_user(struct server *srv, uid_t uid, gid_t gid)
{
	srv->have_user = true;
	srv->uid = uid;
	srv->gid = gid;
}

unsigned server_tasks_running(const struct server *srv) { return srv->n_tasks; }
unsigned server_children(const struct server *srv) { return srv->n_conns; }
bool server_stopping(const struct server *srv) { return srv->stopping; }

void server_poke(struct server *srv)
{
	if (write(srv->poke_pipe[1], "p", 1) < 0) {
		/* EAGAIN: the parent has pokes unread, which is all it needs. */
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

static void add_child(struct server *srv, pid_t pid, unsigned long id, bool task)
{
	if (srv->n_kids == srv->kids_alloc) {
		srv->kids_alloc = srv->kids_alloc ? 2 * srv->kids_alloc : 16;
		srv->kids = xreallocarray(srv->kids, srv->kids_alloc, sizeof(*srv->kids));
	}
	srv->kids[srv->n_kids++] = (struct child){ pid, id, task };
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
	add_child(srv, pid, 0, true);
	return pid;
}

static void accept_one(struct server *srv, struct listener *l)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char ip[64], id[32];
	int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	pid_t pid;

	if (fd < 0)
		return;	/* EAGAIN (another wake-up took it), ECONNABORTED... */
	net_addr_str((struct sockaddr *)&peer, ip, sizeof(ip));
	snprintf(id, sizeof(id), "c%lu", srv->next_id++);
	if (srv->n_conns >= srv->max_children) {
		/* Accept and refuse, rather than leave it in the backlog: the
		 * client learns at once that it should come back later. */
		log_warning("%s: %s: refused from %s: %u connections already", id, l->name, ip,
			    srv->n_conns);
		if (l->busy != NULL && send(fd, l->busy, strlen(l->busy), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* A client that cannot take 40 bytes gets nothing. */
		}
		close(fd);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("%s: cannot fork: %s", id, strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		child_setup(srv, -1);
		log_set_context(id);
		_exit(l->handler(l->ctx, fd, (struct sockaddr *)&peer, id));
	}
	close(fd);
	add_child(srv, pid, srv->next_id - 1, false);
	log_info("%s: %s: connection from %s, pid %d", id, l->name, ip, (int)pid);
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
			if (k.task) {
				srv->n_tasks--;
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					log_warning("task %d ended with status %d", (int)pid, status);
				if (!srv->stopping)
					srv->cb.event(srv->cb.ctx, srv, SERVER_EV_TASK_DONE);
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

static void signal_children(struct server *srv, int sig)
{
	for (size_t i = 0; i < srv->n_kids; i++)
		if (!srv->kids[i].task)
			kill(srv->kids[i].pid, sig);
}

static void begin_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->deadline_ms = now_ms() + (int64_t)srv->drain_s * 1000;
	for (size_t i = 0; i < srv->n_ls; i++)
		listener_close(&srv->ls[i]);
	log_info("stopping: %u connection(s) and %u task(s) to finish", srv->n_conns, srv->n_tasks);
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

/* The drain deadline: SIGTERM to the connections still open, SIGKILL
 * after a grace period.  Tasks (the queue runner) are waited for. */
static void check_deadline(struct server *srv, int64_t now)
{
	if (!srv->killed_term && now >= srv->deadline_ms && srv->n_conns > 0) {
		log_warning("stopping: %u connection(s) still open after %d s, terminating them",
			    srv->n_conns, srv->drain_s);
		signal_children(srv, SIGTERM);
		srv->killed_term = true;
	}
	if (!srv->killed_kill && now >= srv->deadline_ms + KILL_GRACE_MS && srv->n_conns > 0) {
		signal_children(srv, SIGKILL);
		srv->killed_kill = true;
	}
}

int server_run(struct server *srv)
{
	struct pollfd *p = NULL;

	for (;;) {
		int64_t now = now_ms(), wait = -1;
		size_t np = 0;

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
		p = xreallocarray(p, srv->n_ls + 2, sizeof(*p));
		p[np++] = (struct pollfd){ .fd = srv->sig_pipe[0], .events = POLLIN };
		p[np++] = (struct pollfd){ .fd = srv->poke_pipe[0], .events = POLLIN };
		for (size_t i = 0; i < srv->n_ls; i++)
			p[np++] = (struct pollfd){ .fd = srv->ls[i].fd, .events = POLLIN };
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
		/* Listeners may have been rebound by a reload above: only
		 * the fds polled are looked at, by position. */
		for (size_t i = 0; i + 2 < np && i < srv->n_ls; i++)
			if ((p[i + 2].revents & POLLIN) && srv->ls[i].fd == p[i + 2].fd &&
			    srv->ls[i].fd >= 0)
				accept_one(srv, &srv->ls[i]);
	}
	free(p);
	log_info("stopped");
	return 0;
}
