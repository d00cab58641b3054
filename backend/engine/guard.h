/*
 * The guard: a small process that outlives the daemon by a moment to kill
 * every task process it left behind. PR_SET_PDEATHSIG reaches only a task's
 * leader; what the leader started (a shell's children) would live on after
 * a daemon killed with SIGKILL. Every task carries RUNFS_DAEMON=<pid> in its
 * environment; when the daemon's end closes the guard's pipe, the guard
 * kills every process that carries it.
 */
#ifndef RUNFS_GUARD_H
#define RUNFS_GUARD_H

#define GUARD_ENV "RUNFS_DAEMON"

/* Starts the guard for this process; call while single-threaded. */
int guard_start(void);

#endif
