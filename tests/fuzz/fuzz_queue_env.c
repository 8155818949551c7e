/* Fuzz target for the queue's envelope file parser (queue_env_parse): the
 * queue directory is read back after crashes and by other loft versions,
 * so a damaged file must be refused, never misread.
 *
 * A refusal must come with a reason.  An input that parses must format to
 * text that parses again and formats the same (the input itself may differ:
 * "%41" and "A" are one value), so what the queue rewrites after a retry is
 * what it read.  A disagreement aborts, so libFuzzer reports it like a
 * crash. */
#include "localmta/queue.h"
#include "lib/sbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env *env = NULL, *again = NULL;
	struct sbuf out = SBUF_INIT, out2 = SBUF_INIT;
	const char *error = NULL;

	if (queue_env_parse((const char *)data, size, &env, &error) < 0) {
		if (env != NULL || error == NULL)
			abort();
		return 0;
	}
	queue_env_format(env, &out);
	if (queue_env_parse(out.buf, out.len, &again, &error) < 0)
		abort();
	queue_env_format(again, &out2);
	if (out.len != out2.len || memcmp(out.buf, out2.buf, out.len) != 0)
		abort();
	queue_env_free(&again);
	queue_env_free(&env);
	sbuf_release(&out);
	sbuf_release(&out2);
	return 0;
}
