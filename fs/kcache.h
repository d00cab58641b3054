/* The kernel's cache of settled runs (kcache.c). */
#ifndef RUNFS_KCACHE_H
#define RUNFS_KCACHE_H

#include "node.h"

/* Whether n belongs to a run that has ended and that nothing executes:
 * the kernel may then keep its attributes and contents until the run
 * changes (it is remembered, to be invalidated then). */
int kcache_settled(const struct node *n);
/* The same, with the run's change counters (last event, updated) in key
 * when it is settled. */
int kcache_settled_key(const struct node *n, int64_t key[2]);
/* The attribute timeout for such a node, 0 for any other. */
double kcache_attr_timeout(const struct node *n);
/* The store recorded a change of run seq (called under the store's lock:
 * only queues). */
void kcache_changed(int64_t seq);
/* Waits (a bounded moment) for the invalidations that changes have
 * queued: a write to a ctl file has acted by the time its write returns,
 * and so must the kernel's cache have let go. */
void kcache_sync(void);
/* The invalidation thread, for the session's life. 0 or -1. */
int kcache_start(struct fuse_session *se);
void kcache_stop(void);

#endif
