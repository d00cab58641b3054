/*
 * Watching: blocked reads and poll() without holding a worker thread.
 *
 * A read that has nothing to return yet (wait, events) is parked here with
 * its request and answered later, from the notifier thread, when the
 * backend's change feed reports a change to its run. poll() handles are
 * kept the same way and notified on every change of their run. The
 * backend calls the feed with its store locked, so the feed only queues;
 * the notifier does the work.
 */
#ifndef RUNFS_WATCH_H
#define RUNFS_WATCH_H

#include "node.h"

/* Tries to answer a parked read: returns 1 when it replied to req. */
typedef int (*serve_fn)(fuse_req_t req, struct fh *fh, size_t size);

/* mountpoint: where the notifier touches status files for inotify. */
int watch_start(struct backend *b, const char *mountpoint);
/* Answers what is still parked (EIO) and stops the notifier. */
void watch_stop(struct backend *b);
/* Parks req unless serve can answer it now, or it was interrupted.
 * run_state_only: only a change of the run's own state can answer it. */
void watch_park(int64_t run, fuse_req_t req, struct fh *fh, size_t size, serve_fn serve,
		int run_state_only);
/* Keeps ph (replacing fh's previous one) until the run changes. */
void watch_poll(struct fh *fh, struct fuse_pollhandle *ph);
/* The open file is going away: drop its poll handle. */
void watch_forget(struct fh *fh);
/* Parked reads right now (for tests and the log). */
int watch_parked(void);

#endif
