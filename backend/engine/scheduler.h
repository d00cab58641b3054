/*
 * The scheduler: one thread that starts each task run once its parents
 * succeeded, within a budget of cores, watches the processes (pidfds and
 * log pipes in one poll loop), applies retries, timeouts, stop and kill,
 * and records every change in the store. Its in-memory state covers only
 * the runs it is executing; everything else is read from the store, so the
 * in_process runtime and the local runtime daemon share this one copy.
 */
#ifndef RUNFS_SCHED_H
#define RUNFS_SCHED_H

#include <stdint.h>

#include "rerr.h"
#include "store.h"

struct sched;

struct sched_opts {
	struct store *st;
	const char *datadir;
	int jobs;     /* cores; 0 = all */
	int grace_ms; /* stop: SIGTERM, then SIGKILL after this */
	int batch_ms; /* how long a task run's change may wait for its commit;
		       * 0 = BATCH_MS (sched_int.h) */
};

enum sched_verb { VERB_START, VERB_STOP, VERB_KILL, VERB_RETRY };

int sched_start(const struct sched_opts *o, struct sched **out);
/* Kills every task process, records the runs it was executing as KILLED,
 * and joins the thread. */
void sched_stop(struct sched *s);
/* Begins executing a recorded run (new, started after prepare, or retried).
 * RF_BUSY when this scheduler already executes it. */
enum rerr sched_launch(struct sched *s, int64_t run_seq);
/* Stop or kill: RF_BUSY when this scheduler does not execute the run. */
enum rerr sched_signal(struct sched *s, int64_t run_seq, enum sched_verb v);
int sched_executing(struct sched *s, int64_t run_seq);
/* How many runs it executes or is about to. */
int sched_count(struct sched *s);
/* Stop or kill every run it executes or is about to. */
void sched_signal_all(struct sched *s, enum sched_verb v);

#endif
