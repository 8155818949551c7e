/* `loft deliver`: the MDA command — one message on stdin into the store,
 * through Sieve, with sysexits.h codes so that fetchmail, Postfix's
 * mailbox_command and procmail-style pipes retry on 75. */
#include "localmta/deliver.h"
#include "localmta/queue.h"
#include "localmta/transport.h"
#include "localmta/localmta.h"

#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: loft deliver [-f SENDER] [-a RECIPIENT] [-m FOLDER]\n", stderr);
	return EX_USAGE;
}

/* An mbox "From sender date" line on top (what fetchmail -m and procmail
 * pipes hand over) is not part of the message: drop it, remember the
 * sender.  Returns the offset of the message. */
static size_t skip_from_line(const struct sbuf *in, char **sender_r)
{
	const char *nl;

	if (in->len < 5 || memcmp(in->buf, "From ", 5) != 0)
		return 0;
	nl = memchr(in->buf, '\n', in->len);
	if (nl == NULL)
		return 0;
	const char *s = in->buf + 5, *e = memchr(s, ' ', (size_t)(nl - s));
	if (e == NULL)
		e = nl;
	*sender_r = xstrndup(s, (size_t)(e - s));
	return (size_t)(nl - in->buf) + 1;
}

int cmd_deliver(struct loft_ctx *ctx, int argc, char **argv)
{
	const char *sender = NULL, *rcpt = NULL, *folder = NULL;
	struct sbuf in = SBUF_INIT;
	struct deliver *agent = NULL;
	struct queue *q = NULL;
	char *from_line = NULL, *answer = NULL, *error = NULL;
	const char *qerr;
	int c, status;

	/* -d USER is dovecot-lda's spelling of the recipient. */
	while ((c = getopt(argc, argv, "+f:a:d:m:")) != -1) {
		switch (c) {
		case 'f':
			sender = optarg;
			break;
		case 'a':
		case 'd':
			rcpt = optarg;
			break;
		case 'm':
			folder = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();

	size_t max = (size_t)config_int(ctx->cfg, "max_message_size");
	if (sbuf_read_fd(&in, STDIN_FILENO, max) < 0) {
		int big = errno == EFBIG;

		fprintf(stderr, "loft: deliver: %s\n",
			big ? "message larger than max_message_size" : strerror(errno));
		sbuf_release(&in);
		return big ? EX_DATAERR : EX_TEMPFAIL;
	}
	size_t off = skip_from_line(&in, &from_line);
	if (sender == NULL)
		sender = from_line;
	if (rcpt == NULL)
		rcpt = getenv("USER");

	/* A queue for Sieve redirects; without one they are kept instead. */
	if (transport_queue_open(ctx->cfg, &q, &qerr) < 0)
		q = NULL;
	if (deliver_open(ctx->cfg, q, true, &agent, &error) < 0) {
		fprintf(stderr, "loft: deliver: %s\n", error);
		status = EX_TEMPFAIL;
		goto out;
	}
	struct deliver_request req = {
		.data = in.buf + off, .len = in.len - off, .sender = sender, .rcpt = rcpt,
		.folder = folder,
	};
	switch (deliver_message(agent, &req, &answer)) {
	case DELIVER_OK:
	case DELIVER_ALREADY:
		status = EX_OK;
		break;
	case DELIVER_PERMFAIL:
		status = EX_DATAERR;
		break;
	default:
		status = EX_TEMPFAIL;
		break;
	}
	if (status != EX_OK)
		fprintf(stderr, "loft: deliver: %s\n", answer ? answer : "failed");
	bool queued = deliver_queued(agent);

	/* Close the store (and the notmuch writer) before forking the runner:
	 * a child holding our notmuch lock would wait for itself forever. */
	deliver_close(&agent);
	if (queued)
		transport_spawn_runner(ctx->cfg);
out:
	deliver_close(&agent);
	queue_free(&q);
	free(answer);
	free(error);
	free(from_line);
	sbuf_release(&in);
	return status;
}
