/* What the Slurm runtime's files share (slurm.c, slurm_script.c). */
#ifndef RUNFS_SLURM_INT_H
#define RUNFS_SLURM_INT_H

#include "defn.h"
#include "plan.h"
#include "store.h"

struct script_ctx {
	const struct defn *d;
	const struct plan *p;
	const int *members;  /* the task runs of one step this job runs */
	int nmembers;	     /* 1, or a foreach step's job array */
	const int *attempts; /* every task run's attempt (theirs, and their parents') */
	const char *run_id;
	const char *workdir;
};

/* The job script of one attempt of a task run, or of a job array's
 * task runs (one step's copies); malloc'd, NULL on ENOMEM. */
char *slurm_script(const struct script_ctx *c);

#endif
