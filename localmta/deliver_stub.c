/* Placeholder for local delivery until localmta/deliver.c lands.
 *
 * Wiring local delivery into the queue is this one function: when
 * deliver.c defines localmta_deliver_local() (contract in queue.h, struct
 * queue_handlers; ctx is the const struct config *), delete this file.
 * Until then every local recipient stays queued with an honest answer. */
#include "localmta/sendmail-private.h"
#include "lib/xalloc.h"

enum queue_result localmta_deliver_local(void *ctx, const struct queue_delivery *d,
					 char **answer_r)
{
	*answer_r = xstrdup("local delivery not available yet (no delivery agent built in)");
	return QUEUE_TEMPFAIL;
}
