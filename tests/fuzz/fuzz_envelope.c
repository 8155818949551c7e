/* Fuzz target for the queue's envelope files (localmta/queue_env.c).
 *
 * Whatever parses must format back to exactly the input (the format has
 * one spelling per value), and parse again to the same thing.  A
 * disagreement aborts, so libFuzzer reports it like a crash. */
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
	const char *error;

	if (queue_env_parse((const char *)data, size, &env, &error) < 0) {
		if (error == NULL)
			abort();
		return 0;
	}
	queue_env_format(env, &out);
	/* Escapes are canonical (upper-case hex, only where needed) except
	 * that the parser also takes lower-case hex and escaped printable
	 * bytes: compare on the second round. */
	if (queue_env_parse(out.buf, out.len, &again, &error) < 0)
		abort();
	queue_env_format(again, &out2);
	if (out.len != out2.len || memcmp(out.buf, out2.buf, out.len) != 0)
		abort();
	if (again->n_rcpts != env->n_rcpts || strcmp(again->sender, env->sender) != 0)
		abort();
	queue_env_free(&env);
	queue_env_free(&again);
	sbuf_release(&out);
	sbuf_release(&out2);
	return 0;
}
