/*
 * One ops table for every runtime (DESIGN.md "Runtimes"). backend.c picks
 * the runtime from a run's configuration and knows nothing else of it.
 */
#ifndef RUNFS_RUNTIME_H
#define RUNFS_RUNTIME_H

#include <stdint.h>

#include "rerr.h"
#include "scheduler.h"
#include "store.h"

struct runtime;

struct runtime_ops {
	const char *name;
	/* Reconciles the store with what this runtime still runs, then starts. */
	int (*open)(struct runtime *rt);
	/* Ends what this process runs (runs it cut off end KILLED). */
	void (*close)(struct runtime *rt);
	enum rerr (*launch)(struct runtime *rt, int64_t run_seq);
	enum rerr (*signal)(struct runtime *rt, int64_t run_seq, enum sched_verb v);
	int (*executing)(struct runtime *rt, int64_t run_seq);
};

struct runtime {
	const struct runtime_ops *ops;
	struct store *st;
	const char *datadir;
	int jobs;
	int grace_ms;
	int autostart; /* local: start the runtime daemon when it is not running */
	void *priv;
};

extern const struct runtime_ops inproc_ops;
extern const struct runtime_ops local_ops;
extern const struct runtime_ops slurm_ops;

/* local.c: starts the local runtime daemon now unless it runs (or must not
 * be started: RF_AGAIN). */
enum rerr local_start(struct runtime *rt);

/* control.c: ends a run that never started (prepared, or queued for a
 * runtime that had not taken it yet) as TERMINATED. Commits. */
enum rerr run_end_unstarted(struct store *st, struct run_rec *r);

#endif
