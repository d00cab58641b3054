/*
 * A definition's task runs: each step in topological order gives one task
 * run (id = step id) or, with foreach, one per item (id = "<step>.<k>").
 * The task run index is the position in this list, so parents always come
 * before their children. backend_submit records this list; the scheduler
 * rebuilds the same list from the recorded definition, so both agree on
 * every index without storing the graph twice.
 */
#ifndef RUNFS_PLAN_H
#define RUNFS_PLAN_H

#include "defn.h"
#include "records.h"

struct plan {
	int ntr;
	int nsteps;
	int *tr_step;	 /* step of task run i */
	int *tr_copy;	 /* item index, or -1 for a step without foreach */
	int *step_first; /* first task run of each step */
	int *step_count; /* its number of task runs */
	/* Child steps of each step (steps whose arguments refer to it). */
	int **step_children;
	int *step_nchildren;
};

int plan_build(const struct defn *d, struct plan *p);
void plan_free(struct plan *p);
/* Writes task run i's id ("<step>" or "<step>.<k>") into out (size n). */
void plan_tr_id(const struct defn *d, const struct plan *p, int i, char *out, size_t n);

/* The records a new run's task runs start with (taskrecs.c): malloc'd,
 * p->ntr of them, NULL on ENOMEM; free with plan_task_recs_free. */
struct task_rec *plan_task_recs(const struct defn *d, const struct plan *p);
void plan_task_recs_free(struct task_rec *tasks, int n);

#endif
