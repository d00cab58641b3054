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
	void *priv;
};

extern const struct runtime_ops inproc_ops;

#endif
