/*
 * The local runtime daemon: one per data directory, holding an exclusive
 * flock on DATA/local.pid (which also holds its pid) for as long as it
 * runs, so that a stale pid file can never pass for a live daemon.
 * It executes the runs whose configuration is local with the shared
 * scheduler, taking them from the store's request queue (store.h).
 */
#ifndef RUNFS_LOCALRT_H
#define RUNFS_LOCALRT_H

#include "rerr.h"

struct localrt_opts {
	const char *datadir; /* absolute */
	int jobs;	     /* cores; 0 = all */
	int grace_ms;	     /* stop: SIGTERM, then SIGKILL after this; 0 = 5000 */
};

/* The pid of the daemon serving datadir, 0 when none does, -1 on error. */
int localrt_pid(const char *datadir);

/* Starts the daemon in the background (fork, setsid; its output goes to
 * DATA/local.log) and waits until it serves. Only from a single-threaded
 * process. *already is 1 when one was running; *pid is the daemon's. */
enum rerr localrt_up(const struct localrt_opts *o, int *pid, int *already, char **err);
/* The same from a multi-threaded process (the mount): runs `exe up` and
 * waits for it, with RUNFS_DAEMON taken out of its environment so that
 * no guard ever takes the daemon for a task of its parent. */
enum rerr localrt_spawn(const char *exe, const struct localrt_opts *o, char **err);
/* Asks the daemon to end and waits (timeout_ms < 0: as long as it takes).
 * drain: it takes no new runs, lets the ones it executes finish, then
 * ends; otherwise its task runs are stopped and their runs end
 * TERMINATED. *pid is the daemon's, 0 when none ran (RF_OK). */
enum rerr localrt_down(const char *datadir, int drain, int timeout_ms, int *pid, char **err);

/* The daemon itself (runtimed.c), in this process until it is asked to
 * end. ready_fd (or -1) gets one line once it serves, or why it cannot:
 * "ok PID", "running PID" (another daemon serves datadir) or "error TEXT".
 * Returns the exit status. */
int localrt_serve(const struct localrt_opts *o, int ready_fd);

#endif
