/* batchtool: delivers every file named on stdin (one path a line) through
 * localmta/deliver_batch.h, BATCH messages per commit, for bench/pull.sh.
 * Not part of loft.
 *
 *   batchtool [-F MAILRC] [-b BATCH] < paths
 * Prints "delivered N batches B".  Exit 0, or 1 on the first failure. */
#include "localmta/deliver_batch.h"
#include "store/message.h"

#include "lib/config.h"
#include "lib/sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int commit(struct deliver_batch **b)
{
	char *error = NULL;

	if (deliver_batch_commit(b, &error) < 0) {
		fprintf(stderr, "batchtool: %s\n", error);
		free(error);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *rc = getenv("LOFTRC"), *err;
	struct config *cfg = config_new();
	struct deliver *agent;
	struct deliver_batch *b;
	size_t batch = 100, n = 0, batches = 0;
	char *error = NULL, line[4096];
	int c;

	while ((c = getopt(argc, argv, "F:b:")) != -1) {
		if (c == 'F')
			rc = optarg;
		else if (c == 'b')
			batch = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (rc && config_load(cfg, rc, &err) < 0) {
		fprintf(stderr, "batchtool: %s\n", err);
		return 1;
	}
	if (deliver_open(cfg, NULL, false, &agent, &error) < 0) {
		fprintf(stderr, "batchtool: %s\n", error);
		return 1;
	}
	b = deliver_batch_begin(agent);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct sbuf data = SBUF_INIT;
		char *answer = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (sbuf_read_file(&data, line, 64 << 20) < 0) {
			perror(line);
			return 1;
		}
		struct deliver_request req = { .data = data.buf, .len = data.len };

		if (deliver_batch_add(b, &req, &answer) != DELIVER_OK) {
			fprintf(stderr, "batchtool: %s: %s\n", line, answer ? answer : "failed");
			return 1;
		}
		free(answer);
		sbuf_release(&data);
		if (++n % batch == 0) {
			if (commit(&b) < 0)
				return 1;
			batches++;
			b = deliver_batch_begin(agent);
		}
	}
	if (deliver_batch_count(b) > 0)
		batches++;
	if (commit(&b) < 0)
		return 1;
	deliver_close(&agent);
	config_free(&cfg);
	message_deinit();
	printf("delivered %zu batches %zu\n", n, batches);
	return 0;
}
