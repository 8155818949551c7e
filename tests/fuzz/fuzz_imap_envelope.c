/* Fuzz target for the client's reader of an IMAP server's ENVELOPE
 * strings (client/envelope.c): the bytes come from any server.
 *
 * envelope_parse either gives an envelope or a reason; envelope_thread_key
 * either appends a key of five NUL-terminated fields or leaves the buffer
 * as it was.  A broken promise aborts, so libFuzzer reports it like a
 * crash. */
#include "client/envelope.h"
#include "lib/sbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope *env;
	struct sbuf key = SBUF_INIT;
	const char *error = NULL;
	size_t nuls = 0;

	env = envelope_parse((const char *)data, size, &error);
	if (env == NULL && error == NULL)
		abort();
	envelope_free(&env);
	sbuf_addstr(&key, "x");
	if (envelope_thread_key((const char *)data, size, &key) < 0) {
		if (key.len != 1)
			abort();
	} else {
		for (size_t i = 1; i < key.len; i++)
			nuls += key.buf[i] == '\0';
		if (nuls != 5)
			abort();
	}
	sbuf_release(&key);
	return 0;
}
