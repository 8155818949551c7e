/* thread_add: a few new messages added to threads already built, giving
 * exactly what thread_build() would give for all of them, without the
 * inputs of the old messages (a reopen of a 100,000-message IMAP folder
 * with one new message then neither reads 100,000 thread keys nor
 * threads them again).
 *
 * What the old messages' inputs would be needed for is kept beside the
 * threads as bytes (thread_ids_make): the 64-bit hashes of their ids
 * (present or only referenced, and whether a new message's References
 * could still set a present one's parent), each message's date, and the
 * subjects of the tops.  thread_add follows thread_build's rules for the
 * new messages and answers NULL whenever one could change an old
 * message's place (its id was referenced, it repeats an id, it would
 * lead a subject's thread, ...): the caller then builds the whole. */
#ifndef LOFT_CLIENT_THREAD_ADD_H
#define LOFT_CLIENT_THREAD_ADD_H

#include "client/thread.h"

struct sbuf;

/* Appends to out the bytes thread_add needs about the t->n messages t was
 * built from with opt (NULL: defaults), their input read through fn
 * (thread_build_fn's contract; once per message, every field).  Pure
 * but for fn; O(n log n). */
void thread_ids_make(const struct thread *t, thread_input_fn *fn, void *ctx,
		     const struct thread_options *opt, struct sbuf *out);

/* t (built from n messages, ids its thread_ids_make bytes, read in
 * place: any alignment) with in_new[0..k) added as messages n..n+k-1: a
 * new thread (thread_free) equal to thread_build() of all n + k, or NULL
 * when that cannot be told without the old inputs (or ids do not fit t).
 * Pure; O(n + k log n), reading only the few entries of ids it looks up
 * besides the dates. */
struct thread *thread_add(const struct thread *t, const void *ids, size_t ids_len,
			  const struct thread_input *in_new, size_t k,
			  const struct thread_options *opt);
/* Appends to out the bytes thread_ids_make would make for the n + k
 * messages of a thread_add that answered a thread (the same ids of the
 * n, in_new and opt), so the caller can keep them later than it draws.
 * 0, or -1 (out unchanged) when thread_add would answer NULL.  Pure;
 * O(n + k log n). */
int thread_add_ids(const void *ids, size_t ids_len, size_t n, const struct thread_input *in_new,
		   size_t k, const struct thread_options *opt, struct sbuf *out);

#endif
