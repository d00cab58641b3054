/*
 * A definition's task runs as the records a new run starts with: ids,
 * parents, commands with their literal arguments filled in, inputs known
 * at submit. Submitting a run and taking one up from another machine's
 * record (runtime/slurm_share.c) build them here, so both agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bind.h"
#include "plan.h"
#include "records.h"
#include "util.h"

struct subst_ctx {
	const struct defn *d;
	const struct defn_step *step;
	int copy;
};

/* Literal arguments are known at submit; references stay as placeholders
 * until the task run starts. */
static const char *
lookup_literal(const char *name, size_t len, void *arg)
{
	struct subst_ctx *c = arg;
	struct binding b;
	char key[NAME_MAX_];

	if (len >= sizeof(key))
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	return bind_param(c->step, c->copy, key, &b) == 0 ? b.value : NULL;
}

static int
fill_task(const struct defn *d, const struct plan *p, int i, struct task_rec *t)
{
	const struct defn_step *step = &d->steps[p->tr_step[i]];
	const struct defn_task *task = &d->tasks[step->task];
	struct subst_ctx c = {d, step, p->tr_copy[i]};
	int parents[d->nsteps + 1], np = defn_step_parents(d, p->tr_step[i], parents);
	json_t *cmd = json_array();
	const char *literals[task->nparams + 1];
	struct buf par = {0}, outs = {0};
	char id[TASK_ID_MAX];
	int rc = -1;

	t->idx = i;
	plan_tr_id(d, p, i, t->id, sizeof(t->id));
	snprintf(t->step, sizeof(t->step), "%s", step->id);
	snprintf(t->task, sizeof(t->task), "%s", task->name);
	t->state = ST_WAITING;
	t->max_attempts = task->retries + 1;
	for (int j = 0; j < np; j++)
		for (int k = 0; k < p->step_count[parents[j]]; k++) {
			plan_tr_id(d, p, p->step_first[parents[j]] + k, id, sizeof(id));
			if (buf_printf(&par, "%s\n", id) < 0)
				goto out;
		}
	for (int j = 0; j < task->argc; j++) {
		char *a = tmpl_subst(task->argv[j], lookup_literal, &c);
		if (a == NULL || json_array_append_new(cmd, json_string(a)) < 0) {
			free(a);
			goto out;
		}
		free(a);
	}
	for (int j = 0; j < task->nparams; j++) {
		struct binding bound;
		literals[j] =
		    bind_param(step, c.copy, task->params[j], &bound) == 0 ? bound.value : NULL;
	}
	for (int j = 0; j < task->noutputs; j++)
		if (buf_printf(&outs, "%s\n", task->outputs[j]) < 0)
			goto out;
	t->parents = buf_steal(&par);
	t->outputs = buf_steal(&outs);
	t->command = json_dumps(cmd, JSON_COMPACT);
	t->inputs = bind_inputs_json(task, literals);
	t->message = strdup("");
	if (t->parents && t->outputs && t->command && t->inputs && t->message)
		rc = 0;
out:
	buf_free(&par);
	buf_free(&outs);
	json_decref(cmd);
	return rc;
}

struct task_rec *
plan_task_recs(const struct defn *d, const struct plan *p)
{
	struct task_rec *tasks = calloc((size_t)p->ntr + 1, sizeof(*tasks));

	for (int i = 0; tasks && i < p->ntr; i++)
		if (fill_task(d, p, i, &tasks[i]) < 0) {
			plan_task_recs_free(tasks, i + 1);
			return NULL;
		}
	return tasks;
}

void
plan_task_recs_free(struct task_rec *tasks, int n)
{
	for (int i = 0; tasks && i < n; i++)
		task_rec_free(&tasks[i]);
	free(tasks);
}
