/* `loft queue [list | show ID | flush | run | rm ID...]`, and mailq. */
#include "localmta/localmta.h"
#include "localmta/queue.h"
#include "localmta/transport.h"
#include "lib/clock.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static int show(const struct config *cfg, const char *id)
{
	struct queue *q;
	struct queue_env *env = NULL;
	struct sbuf msg = SBUF_INIT, env_text = SBUF_INIT, out = SBUF_INIT;
	const char *error, *end;
	uint64_t size;
	int status = EX_OK;

	if (transport_queue_open(cfg, &q, &error) < 0) {
		fprintf(stderr, "loft queue: %s\n", error);
		return EX_TEMPFAIL;
	}
	if (queue_read(q, id, &env, &size, &msg, &error) < 0) {
		fprintf(stderr, "loft queue: %s: %s\n", id, errno == ENOENT ? "no such queue entry" : error);
		status = errno == ENOENT ? EX_NOINPUT : EX_DATAERR;
		goto out;
	}
	queue_env_format(env, &env_text);
	end = strstr(msg.buf, "\n\n");
	/* The headers are the sender's bytes: sanitised for the terminal. */
	sbuf_addf(&out, "# %s/%s.env\n", queue_dir(q), id);
	sanitize_add(&out, env_text.buf, env_text.len, 0);
	sbuf_addf(&out, "\n# headers (%" PRIu64 " bytes in all)\n", size);
	sanitize_add(&out, msg.buf, end ? (size_t)(end - msg.buf) + 1 : msg.len, 0);
	fwrite(out.buf, 1, out.len, stdout);
out:
	queue_env_free(&env);
	sbuf_release(&msg);
	sbuf_release(&env_text);
	sbuf_release(&out);
	queue_free(&q);
	return status;
}

static int run(const struct config *cfg, unsigned flags)
{
	struct queue_run_stats st;

	if (transport_run(cfg, flags, &st) < 0)
		return EX_TEMPFAIL;
	printf("%u entr%s: %u delivered, %u deferred, %u failed, %u bounce%s sent%s\n",
	       st.entries, st.entries == 1 ? "y" : "ies", st.delivered, st.deferred, st.failed,
	       st.bounces, st.bounces == 1 ? "" : "s",
	       st.skipped_locked ? " (some entries were busy in another runner)" : "");
	return EX_OK;
}

static int rm(const struct config *cfg, int argc, char **argv)
{
	struct queue *q;
	const char *error;
	int status = EX_OK;

	if (argc < 1) {
		fprintf(stderr, "usage: loft queue rm ID...\n");
		return EX_USAGE;
	}
	if (transport_queue_open(cfg, &q, &error) < 0) {
		fprintf(stderr, "loft queue: %s\n", error);
		return EX_TEMPFAIL;
	}
	for (int i = 0; i < argc; i++) {
		if (queue_remove(q, argv[i], &error) < 0) {
			fprintf(stderr, "loft queue: %s: %s\n", argv[i], error);
			status = errno == ENOENT ? EX_NOINPUT : EX_TEMPFAIL;
		}
	}
	queue_free(&q);
	return status;
}

int cmd_queue(struct loft_ctx *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "list";

	/* mailq's own flags (-v, -Ac...) change nothing here. */
	if (strcmp(ctx->progname, "mailq") == 0 || strcmp(sub, "list") == 0)
		return transport_print_list(ctx->cfg, stdout);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return show(ctx->cfg, argv[2]);
	if (strcmp(sub, "flush") == 0 && argc == 2)
		return run(ctx->cfg, QUEUE_RUN_FORCE);
	if (strcmp(sub, "run") == 0 && argc == 2)
		return run(ctx->cfg, 0);
	if (strcmp(sub, "rm") == 0)
		return rm(ctx->cfg, argc - 2, argv + 2);
	fprintf(stderr, "usage: loft queue [list | show ID | flush | run | rm ID...]\n");
	return EX_USAGE;
}
