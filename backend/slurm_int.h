/* What the Slurm runtime's files share (slurm.c, slurm_script.c). */
#ifndef RUNFS_SLURM_INT_H
#define RUNFS_SLURM_INT_H

#include "defn.h"
#include "plan.h"
#include "store.h"

struct script_ctx {
	const struct defn *d;
	const struct plan *p;
	int idx; /* the task run */
	int attempt;
	const int *attempts; /* every task run's latest attempt (its parents') */
	const char *run_id;
	const char *workdir;
};

/* The job script of one attempt of a task run; malloc'd, NULL on ENOMEM. */
char *slurm_script(const struct script_ctx *c);

#endif
