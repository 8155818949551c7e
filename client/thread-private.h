/* thread-private: what client/thread.c shares with client/thread_add.c
 * (which adds messages to threads it built). */
#ifndef LOFT_CLIENT_THREAD_PRIVATE_H
#define LOFT_CLIENT_THREAD_PRIVATE_H

#include "client/thread.h"

/* Lays out t's rows over nodes (t->n of them) whose parent, first_child
 * and children's next_sibling links are made (children in display
 * order) and whose tops carry their thread's activity; roots[0..nroots)
 * are the tops in display order.  Sets first_root, the tops' next_sibling
 * chain, each node's row, depth, root, activity (its top's), THREAD_LAST
 * and subtree size (other flags kept), fills order, and makes t own
 * nodes and order (both in t's arena). */
void thread_lay_rows(struct thread *t, struct thread_node *nodes, uint32_t *order,
		     const int32_t *roots, size_t nroots);

#endif
