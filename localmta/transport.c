/* Glue between the config and the queue: where the queue lives, submitting,
 * running it with the real handlers, the detached runner, the listing. */
#include "localmta/deliver.h"
#include "localmta/transport.h"
#include "localmta/relay-private.h"
#include "localmta/sendmail-private.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

int transport_queue_open(const struct config *cfg, struct queue **q_r, const char **error_r)
{
	static char err[512];
	const char *state = config_get(cfg, "state_dir");
	const char *folder = config_get(cfg, "folder");
	char *state_dir = state ? xstrdup(state) : path_join(folder, ".loft");
	char *dir = path_join(state_dir, "queue");
	char *domain = config_mail_domain(cfg);
	const char *from = config_get(cfg, "from");
	struct queue_settings set = {
		.dir = dir,
		.retry_min = config_int(cfg, "queue_retry_min"),
		.retry_max = config_int(cfg, "queue_retry_max"),
		.lifetime = config_int(cfg, "queue_lifetime"),
		.local_domains = config_get(cfg, "local_domains"),
		.local_addresses = config_get(cfg, "local_addresses"),
		.owner = NULL,
		.domain = domain,
	};
	struct addr_list owner = { 0 };
	const char *perr;
	int ret = -1;

	*q_r = NULL;
	if (from != NULL && addr_list_parse(from, &owner, &perr) == 0 && owner.n == 1)
		set.owner = owner.addrs[0];
	/* The folder and the state directory may not exist on a first run. */
	if (!state)
		mkdir(folder, 0700);
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, sizeof(err), "%s: %s", state_dir, strerror(errno));
		*error_r = err;
	} else if (queue_open(&set, q_r, &perr) < 0) {
		snprintf(err, sizeof(err), "%s: %s", dir, perr);
		*error_r = err;
	} else {
		ret = 0;
	}
	addr_list_free(&owner);
	free(domain);
	free(dir);
	free(state_dir);
	return ret;
}

int transport_submit(struct queue *q, struct sendmail_msg *m, const char *raw, size_t len)
{
	const char *error;
	int status = sendmail_prepare(m, raw, len);

	if (status != EX_OK)
		return status;
	if (queue_add_account(q, m->id, m->account, m->env_sender,
			      (const char *const *)m->rcpts.addrs, m->rcpts.n, m->out.buf,
			      m->out.len, m->now, &error) < 0) {
		m->error = error;
		return EX_TEMPFAIL;
	}
	return EX_OK;
}

/* What the runner's handlers share: the delivery agent and the relay
 * (which keeps its smarthost session across the entries of one pass). */
struct transport_handlers {
	const struct config *cfg;
	struct deliver *agent;
	struct relay *relay;		/* the global smarthost's, or NULL */
	struct account_relay {		/* accounts' own, made when first needed */
		char *name;
		struct relay *relay;
	} *accounts;
	size_t n_accounts;
};

/* The relay of account (NULL: the global one), or NULL: no smarthost. */
static struct relay *relay_of(struct transport_handlers *th, const char *account)
{
	struct account_relay *a;

	if (account == NULL)
		return th->relay;
	for (size_t i = 0; i < th->n_accounts; i++)
		if (strcmp(th->accounts[i].name, account) == 0)
			return th->accounts[i].relay;
	th->accounts = xreallocarray(th->accounts, th->n_accounts + 1, sizeof(*th->accounts));
	a = &th->accounts[th->n_accounts++];
	a->name = xstrdup(account);
	a->relay = relay_new(th->cfg, account);
	return a->relay;
}

/* The queue's local handler: one recipient through the delivery agent. */
static enum queue_result deliver_local(void *ctx, const struct queue_delivery *d,
				       char **answer_r)
{
	struct transport_handlers *th = ctx;
	struct deliver_request req = {
		.data = d->data, .len = d->len, .sender = d->sender, .rcpt = d->rcpt,
		.token = d->token, .maybe_delivered = d->maybe_delivered,
	};

	switch (deliver_message(th->agent, &req, answer_r)) {
	case DELIVER_OK:
		return QUEUE_OK;
	case DELIVER_ALREADY:
		return QUEUE_ALREADY;
	case DELIVER_PERMFAIL:
		return QUEUE_PERMFAIL;
	case DELIVER_TEMPFAIL:
		break;
	}
	return QUEUE_TEMPFAIL;
}

static void relay(void *ctx, const struct queue_delivery *d, const char *const *rcpts, size_t n,
		  enum queue_result *results, char **answers)
{
	struct transport_handlers *th = ctx;
	struct relay *r = relay_of(th, d->account);

	if (r != NULL) {
		relay_send(r, d, rcpts, n, results, answers);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		results[i] = QUEUE_TEMPFAIL;
		answers[i] = xstrdup("no relay configured (smarthost unset)");
	}
}

int transport_run(const struct config *cfg, unsigned flags, struct queue_run_stats *st)
{
	struct queue_handlers h = { .deliver_local = deliver_local };
	struct transport_handlers th = { 0 };
	struct deliver *agent = NULL;
	struct queue *q;
	const char *error;
	char *derr;
	int ret;

	if (transport_queue_open(cfg, &q, &error) < 0) {
		log_error("queue: %s", error);
		return -1;
	}
	if (deliver_open(cfg, q, false, &agent, &derr) < 0) {
		/* Local recipients wait in the queue until the store opens. */
		log_error("delivery: %s", derr);
		free(derr);
		h.deliver_local = NULL;
	}
	th.cfg = cfg;
	th.agent = agent;
	th.relay = relay_new(cfg, NULL);
	/* An account may have a smarthost where the global one is unset. */
	if (th.relay != NULL || config_account_count(cfg) > 0)
		h.relay = relay;
	h.ctx = &th;
	ret = queue_run(q, &h, clock_now(), flags, st);
	/* Sieve redirects queued during the run go out in the same run. */
	if (ret == 0 && agent && deliver_queued(agent))
		ret = queue_run(q, &h, clock_now(), flags, NULL);
	/* The end of the pass: QUIT to the smarthost. */
	relay_free(&th.relay);
	for (size_t i = 0; i < th.n_accounts; i++) {
		relay_free(&th.accounts[i].relay);
		free(th.accounts[i].name);
	}
	free(th.accounts);
	deliver_close(&agent);
	queue_free(&q);
	return ret;
}

void transport_spawn_runner(const struct config *cfg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		/* The message is queued: the next run delivers it. */
		log_warning("cannot start a queue runner: %s", strerror(errno));
		return;
	}
	if (pid > 0)
		return;
	/* The child: its own session, away from the caller's terminal and
	 * pipes (git and cron wait for their pipes to close). */
	setsid();
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	transport_run(cfg, 0, NULL);
	_exit(0);
}

static void print_age(FILE *out, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		fprintf(out, "%4" PRId64 "s", secs);
	else if (secs < 7200)
		fprintf(out, "%4" PRId64 "m", secs / 60);
	else if (secs < 2 * 86400)
		fprintf(out, "%4" PRId64 "h", secs / 3600);
	else
		fprintf(out, "%4" PRId64 "d", secs / 86400);
}

int transport_print_list(const struct config *cfg, FILE *out)
{
	struct queue *q;
	char **ids;
	size_t n, shown = 0;
	const char *error;
	int64_t now = clock_now();

	if (transport_queue_open(cfg, &q, &error) < 0 || queue_list(q, &ids, &n, &error) < 0) {
		fprintf(stderr, "loft queue: %s\n", error);
		queue_free(&q);
		return EX_TEMPFAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct queue_env *env;
		uint64_t size;

		if (queue_read(q, ids[i], &env, &size, NULL, &error) < 0) {
			if (errno != ENOENT)
				fprintf(stderr, "loft queue: %s\n", error);
			continue;
		}
		if (shown++ == 0)
			fprintf(out, "%-23s %8s  %5s  %s\n", "-Queue ID-", "-Size-", "-Age-",
				"-Sender/Recipient-------");
		fprintf(out, "%-23s %8" PRIu64 "  ", ids[i], size);
		print_age(out, now - env->created);
		fprintf(out, "  <%s>%s\n", env->sender, env->hold != NULL ? " (held)" : "");
		for (size_t k = 0; k < env->n_rcpts; k++) {
			const struct queue_rcpt *r = &env->rcpts[k];

			fprintf(out, "%43s<%s> %s", "", r->addr, queue_rcpt_state_name(r->state));
			if (r->state == QUEUE_RCPT_PENDING && r->attempts > 0) {
				fprintf(out, ", %u attempt%s, next in", r->attempts, r->attempts == 1 ? "" : "s");
				print_age(out, r->next_attempt - now);
			}
			fputc('\n', out);
			if (r->answer != NULL)
				fprintf(out, "%45s(%s)\n", "", r->answer);
		}
		fputc('\n', out);
		queue_env_free(&env);
	}
	if (shown == 0)
		fprintf(out, "Mail queue is empty\n");
	else
		fprintf(out, "-- %zu request%s.\n", shown, shown == 1 ? "" : "s");
	queue_ids_free(&ids);
	queue_free(&q);
	return EX_OK;
}
