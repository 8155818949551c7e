/* server: the generic part of a fork-per-connection daemon (STYLE.md habit
 * 7), shared by the SMTP listeners and, later, the IMAP server.
 *
 * The parent process binds listeners, accepts, forks one child per
 * connection, caps the number of children, reaps them, and runs "tasks"
 * (background children that are not connections, e.g. the queue runner).
 * Everything else -- protocols, configuration, what a task does -- comes
 * from the caller through handlers and events:
 *
 *     struct server *srv = server_new(&cb);
 *     server_listen(srv, "smtp", "127.0.0.1:1587", smtp_handler, ctx, busy, &err);
 *     server_run(srv);          // until SIGTERM / SIGINT
 *     server_free(&srv);
 *
 * A connection child: drops privileges (server_set_user) BEFORE its handler
 * reads a byte, sets the log context to the connection id ("c12"), runs the
 * handler, and exits with its return value.
 *
 * Caps: max_children live connections in all, max_per_ip from one client
 * address.  A child is live until it reports SERVER_CHILD_CLOSING (or
 * exits): a protocol reports it before its last reply, so a client that
 * reconnects at once never finds its old slot still taken.  When a new
 * connection would pass a cap, the oldest live connection that has not
 * reported SERVER_CHILD_AUTHENTICATED (from the same address, for the
 * per-address cap) gets SIGTERM to make room -- so idle sockets never keep
 * out a client that logs in.  Only when all of them are logged in is the
 * new client accepted, sent the listener's busy reply, and closed at once.
 * A listener whose protocol has no login simply never reports it.
 *
 * Signals (handled in the parent only; children get default dispositions
 * back): SIGCHLD reaps; SIGHUP delivers SERVER_EV_RELOAD; SIGTERM/SIGINT
 * stop accepting (listeners closed) and send SIGTERM to the tasks (a task
 * that can stop cleanly catches it and stops at its next safe point), wait
 * for connection children until the drain deadline, then SIGTERM the
 * connections and SIGKILL the tasks still running, and make server_run
 * return 0 once every child is gone.
 *
 * Children may poke the parent (server_poke), e.g. "new mail was queued":
 * the parent gets SERVER_EV_POKE.  A periodic timer gives SERVER_EV_TIMER.
 *
 * Memory: strings given are copied.  Errors: -1 with *error_r static text
 * or text owned by the server (valid until the next call).  server_run
 * blocks in poll(); everything else returns at once.  Logs via lib/log.h. */
#ifndef LOFT_LIB_SERVER_H
#define LOFT_LIB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct server;

/* Runs in a connection child, already unprivileged.  fd: the accepted
 * socket (owned by the handler); peer: the client's address; id: the
 * connection id.  The return value becomes the child's exit status. */
typedef int server_handler_fn(void *ctx, int fd, const struct sockaddr *peer, const char *id);
/* Runs in a task child (unprivileged); its return value is the exit status. */
typedef int server_task_fn(void *ctx);

enum server_event {
	SERVER_EV_TIMER,	/* the interval set by server_set_timer elapsed */
	SERVER_EV_POKE,		/* a child called server_poke() */
	SERVER_EV_TASK_DONE,	/* a task child exited */
	SERVER_EV_RELOAD,	/* SIGHUP */
};

struct server_callbacks {
	void *ctx;
	/* Called in the parent for each event; may call server_listen,
	 * server_spawn_task, server_set_timer... */
	void (*event)(void *ctx, struct server *srv, enum server_event ev);
	/* Called in the parent with a message a connection child sent
	 * (server_child_message), before the parent accepts again: a
	 * child forked after it returned inherits what it did.  data is
	 * valid during the call only.  NULL: messages are dropped. */
	void (*message)(void *ctx, struct server *srv, const void *data, size_t len);
};

/* A server with no listener.  Never NULL.  Installs nothing yet. */
struct server *server_new(const struct server_callbacks *cb);
/* Closes the listeners; NULL-safe; sets *srvp NULL.  Children keep running. */
void server_free(struct server **srvp);

/* Adds listener `name`, or updates it: when address differs from the one
 * it has, it is rebound (the old socket is closed only once the new one is
 * bound, so a failed rebind keeps the old listener); an address of NULL or
 * "" closes it.  The handler, ctx and busy reply are replaced in any case
 * (children already running keep what they had).  busy: the bytes sent to
 * a client refused over the cap ("421 ...\r\n"), may be NULL.
 * 0, or -1 with *error_r (the listener is then unchanged). */
int server_listen(struct server *srv, const char *name, const char *address,
		  server_handler_fn *handler, void *ctx, const char *busy, const char **error_r);
/* The number of listeners open now. */
size_t server_listener_count(const struct server *srv);

/* The cap on live connection children at once (tasks do not count); >= 1. */
void server_set_max_children(struct server *srv, unsigned max);
/* The cap on live connection children from one client address; 0: none. */
void server_set_max_per_ip(struct server *srv, unsigned max);
/* Time connection children get to finish after SIGTERM, in seconds. */
void server_set_drain(struct server *srv, int seconds);
/* SERVER_EV_TIMER every interval seconds (0: never). */
void server_set_timer(struct server *srv, int seconds);
/* When the parent runs as root, children switch to uid/gid (setgroups to
 * none, setgid, setuid; HOME, USER and LOGNAME from the password entry)
 * before doing anything else; they exit 75 if that fails.  Without a call, children keep the parent's identity. */
void server_set_user(struct server *srv, uid_t uid, gid_t gid);

/* Forks a task child running fn(ctx) (privileges dropped first).  Returns
 * its pid, or -1 if fork failed.  SERVER_EV_TASK_DONE follows its exit. */
pid_t server_spawn_task(struct server *srv, server_task_fn *fn, void *ctx);
/* During SERVER_EV_TASK_DONE: the pid of the task that exited (0 else). */
pid_t server_task_done_pid(const struct server *srv);
/* Task children still running. */
unsigned server_tasks_running(const struct server *srv);

/* In a child: tells the parent something (SERVER_EV_POKE).  Never blocks;
 * several pokes before the parent looks are one event. */
void server_poke(struct server *srv);

enum server_child_state {
	SERVER_CHILD_AUTHENTICATED,	/* logged in: never evicted to make room */
	SERVER_CHILD_UNAUTHENTICATED,	/* logged out but still open: evictable again */
	SERVER_CHILD_CLOSING,		/* about to close: no longer counted */
};

/* In a connection child: tells the parent its state (see Caps above).
 * Never blocks; a no-op outside a connection child. */
void server_child_report(struct server *srv, enum server_child_state state);

/* The longest message server_child_message() sends. */
#define SERVER_MESSAGE_MAX 255

/* In a connection child: sends len bytes (1..SERVER_MESSAGE_MAX, else
 * nothing is sent) to the parent's message callback, in one write on the
 * child's status pipe, so that it arrives whole and before anything the
 * child does after the call can make a client connect again.  A no-op
 * outside a connection child; never blocks in practice (the pipe holds
 * 64 KB). */
void server_child_message(struct server *srv, const void *data, size_t len);

/* The main loop; returns 0 after a SIGTERM/SIGINT shutdown, -1 when poll
 * fails for good.  Not reentrant; one server per process. */
int server_run(struct server *srv);

#endif
