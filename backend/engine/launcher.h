/*
 * The launcher: one thread that starts task processes for the scheduler.
 * Starting a process means waiting in vfork() until the child has called
 * exec, a few hundred microseconds on a busy machine; on the launcher's
 * thread that wait no longer holds up the scheduler, which meanwhile ends
 * other attempts, records them and pumps their output.
 */
#ifndef RUNFS_LAUNCHER_H
#define RUNFS_LAUNCHER_H

#include "exec.h"

struct launch {
	struct launch *next;
	void *arg; /* the caller's */
	struct exec_req req;
	/* the outcome, once the launch is done */
	int rc; /* exec_start's */
	struct exec_proc proc;
	char err[512];
};

struct launcher;

/* wake_fd (an eventfd) is written to each time a launch is done. */
int launcher_start(int wake_fd, struct launcher **out);
/* Queues j; j->req must stay valid until launcher_done hands j back. */
void launcher_push(struct launcher *l, struct launch *j);
/* The launches done since the last call, oldest first; with block set,
 * waits for at least one. */
struct launch *launcher_done(struct launcher *l, int block);
/* Ends the thread once its queue is empty. The processes it started get
 * their PR_SET_PDEATHSIG when it ends: stop it only when none should run. */
void launcher_stop(struct launcher *l);

#endif
