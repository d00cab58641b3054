/*
 * The roll-up of task runs' states into their run's state (DESIGN.md,
 * "States"), and the messages that go with it: one place for every
 * runtime, whether its scheduler knows each change as it happens
 * (engine/sched.c) or reads the states off a cluster (runtime/slurm_refresh.c).
 */
#ifndef RUNFS_ROLLUP_H
#define RUNFS_ROLLUP_H

#include <stddef.h>

#include "state.h"

struct rollup {
	int ntasks;
	int counts[ST_COUNT]; /* task runs per state (only SUCCEEDED, RUNNING
			       * and UNKNOWN are looked at) */
	int failed;	      /* a task run has failed for good */
	int stopping;	      /* stop or kill was asked */
	int active;	      /* a task run runs, or may still start */
	int keep_going;	      /* every failure was in a step that goes on */
};

/*
 * A run is FAILED as soon as one task run fails for good (running ones may
 * finish; no new one starts), or, when every failure was in a step that
 * goes on (on_failure "continue"), once nothing is active; else, while something is active, RUNNING
 * once any task run has started and WAITING before; once nothing is: TERMINATED when stopped on
 * request, SUCCEEDED when every task run succeeded, UNKNOWN when some ended out of sight (a cluster
 * forgot them), FAILED otherwise.
 */
int rollup_state(const struct rollup *r);

/* The message of a run that a task run failed, and of one that was
 * stopped on request. */
#define ROLLUP_STOPPED "stopped on request"
void rollup_failed_message(char *out, size_t n, const char *task_id, const char *why);

#endif
