/*
 * The kernel's cache of settled runs. A run that has ended and that no
 * runtime executes any more does not change until someone acts on it
 * (retry, rerun, delete, or another machine's mount doing so): its
 * nodes' attributes may be kept by the kernel for SETTLED_TIMEOUT, and
 * its files' contents kept in the page cache, so that a second `ls -l`,
 * `find` or `cat` soon after asks the daemon little or nothing.
 *
 * Nothing is invalidated: after a change, an attribute the kernel kept
 * is right again within SETTLED_TIMEOUT, and the next open of a file of
 * the run (no longer settled) drops its pages. Invalidating at once
 * (fuse_lowlevel_notify_inval_entry) was tried: the kernel takes the lock
 * of runs/ for it, uninterruptibly, and a request in flight that holds
 * that lock (an rmdir) waits for the daemon; a daemon killed then could
 * not die.
 */
#include "kcache.h"
#include "ops_int.h"

int
kcache_settled(const struct node *n)
{
	int64_t key[2];

	return kcache_settled_key(n, key);
}

int
kcache_settled_key(const struct node *n, int64_t key[2])
{
	struct run_rec r = {0};
	int ok;

	if (!n->run || node_run_brief(n, &r) != 0)
		return 0;
	if ((ok = run_rec_ended(&r) && r.owner == 0)) {
		key[0] = r.last_event;
		key[1] = r.updated;
	}
	run_rec_free(&r);
	return ok;
}

double
kcache_attr_timeout(const struct node *n)
{
	return kcache_settled(n) ? SETTLED_TIMEOUT : 0;
}
