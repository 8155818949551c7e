/* transport: the queue as the configuration places and runs it (transport.c),
 * for the commands (sendmail, deliver, queue) and the daemon.  Submitting a
 * message is sendmail's business (sendmail-private.h: transport_submit). */
#ifndef LOFT_LOCALMTA_TRANSPORT_H
#define LOFT_LOCALMTA_TRANSPORT_H

#include <stdio.h>

struct config;
struct queue;
struct queue_run_stats;

/* Opens STATE_DIR/queue (state_dir, else FOLDER/.loft), creating both.
 * 0 and *q_r (the caller frees it: queue.h), or -1 with *error_r and
 * *q_r NULL (queue_free accepts it). */
int transport_queue_open(const struct config *cfg, struct queue **q_r, const char **error_r);
/* Runs the queue once in this process with the real handlers (deliver,
 * relay).  Blocks for the whole run.  0, or -1 when the queue cannot be
 * opened or run (logged). */
int transport_run(const struct config *cfg, unsigned flags, struct queue_run_stats *st);
/* Forks a detached runner (setsid, stdio on /dev/null) that runs the queue
 * once and exits; returns at once. */
void transport_spawn_runner(const struct config *cfg);
/* Prints the queue as mailq does. Returns a sysexits code. */
int transport_print_list(const struct config *cfg, FILE *out);

#endif
