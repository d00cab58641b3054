/* The kernel's cache of settled runs (kcache.c). */
#ifndef RUNFS_KCACHE_H
#define RUNFS_KCACHE_H

#include "node.h"

/* How long the kernel keeps a settled run's attributes (s): how long a
 * change to it may take to show in `stat`. */
#define SETTLED_TIMEOUT 1.0

/* Whether n belongs to a run that has ended and that nothing executes:
 * the kernel may keep its attributes a moment, its listings and the
 * contents of its files until the run changes. */
int kcache_settled(const struct node *n);
/* The same, with the run's change counters (last event, updated) in key
 * when it is settled. */
int kcache_settled_key(const struct node *n, int64_t key[2]);
/* The attribute timeout for such a node, 0 for any other. */
double kcache_attr_timeout(const struct node *n);

#endif
