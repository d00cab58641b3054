/* Freeing the records of records.h. */
#include <stdlib.h>

#include "records.h"

int
run_rec_ended(const struct run_rec *r)
{
	return state_completed(r->state) && r->ended != 0;
}

void
run_rec_free(struct run_rec *r)
{
	free(r->message);
	r->message = NULL;
}

void
task_rec_free(struct task_rec *t)
{
	free(t->message);
	free(t->parents);
	free(t->command);
	free(t->inputs);
	free(t->outputs);
	t->message = t->parents = t->command = t->inputs = t->outputs = NULL;
}

void
attempt_list_free(struct attempt_rec *a, int n)
{
	for (int i = 0; a && i < n; i++) {
		free(a[i].message);
		free(a[i].usage);
	}
	free(a);
}
