#include <stdio.h>
#include <stdlib.h>

#include "plan.h"

void
plan_free(struct plan *p)
{
	for (int s = 0; p->step_children && s < p->nsteps; s++)
		free(p->step_children[s]);
	free(p->step_children);
	p->step_children = NULL;
	free(p->tr_step);
	free(p->tr_copy);
	free(p->step_first);
	free(p->step_count);
	free(p->step_nchildren);
	p->tr_step = p->tr_copy = p->step_first = p->step_count = p->step_nchildren = NULL;
}

static int
build_children(const struct defn *d, struct plan *p)
{
	int *parents = calloc((size_t)d->nsteps + 1, sizeof(int));
	int rc = -1;

	p->step_children = calloc((size_t)d->nsteps + 1, sizeof(int *));
	p->step_nchildren = calloc((size_t)d->nsteps + 1, sizeof(int));
	if (parents == NULL || p->step_children == NULL || p->step_nchildren == NULL)
		goto out;
	for (int s = 0; s < d->nsteps; s++) {
		int np = defn_step_parents(d, s, parents);
		for (int j = 0; j < np; j++) {
			int par = parents[j];
			int *c = realloc(p->step_children[par],
					 sizeof(int) * (size_t)(p->step_nchildren[par] + 1));
			if (c == NULL)
				goto out;
			c[p->step_nchildren[par]++] = s;
			p->step_children[par] = c;
		}
	}
	rc = 0;
out:
	free(parents);
	return rc;
}

int
plan_build(const struct defn *d, struct plan *p)
{
	int i = 0;

	*p = (struct plan){0};
	p->ntr = d->ntaskruns;
	p->nsteps = d->nsteps;
	p->tr_step = calloc((size_t)p->ntr + 1, sizeof(int));
	p->tr_copy = calloc((size_t)p->ntr + 1, sizeof(int));
	p->step_first = calloc((size_t)d->nsteps + 1, sizeof(int));
	p->step_count = calloc((size_t)d->nsteps + 1, sizeof(int));
	if (!p->tr_step || !p->tr_copy || !p->step_first || !p->step_count)
		goto fail;
	for (int o = 0; o < d->nsteps; o++) {
		int s = d->order[o];
		int n = d->steps[s].ncopies < 0 ? 1 : d->steps[s].ncopies;

		p->step_first[s] = i;
		p->step_count[s] = n;
		for (int k = 0; k < n; k++, i++) {
			p->tr_step[i] = s;
			p->tr_copy[i] = d->steps[s].ncopies < 0 ? -1 : k;
		}
	}
	if (build_children(d, p) < 0)
		goto fail;
	return 0;
fail:
	plan_free(p);
	return -1;
}

void
plan_tr_id(const struct defn *d, const struct plan *p, int i, char *out, size_t n)
{
	const char *step = d->steps[p->tr_step[i]].id;

	if (p->tr_copy[i] < 0)
		snprintf(out, n, "%s", step);
	else
		snprintf(out, n, "%s.%d", step, p->tr_copy[i]);
}
