/*
 * The cache of task runs (engine/cache.c) on Slurm. Before a run's jobs
 * are submitted, each task run with "cache" whose inputs are known by
 * then (literals, params, and outputs of task runs that succeeded before
 * or were hits themselves) is looked up, and a hit ends SUCCEEDED with
 * no job ever sent. A task run that needs the output of a job about to
 * be submitted cannot be decided before it exists: it runs, as it would
 * without the cache. A task run that succeeds on Slurm is kept in the
 * cache when the mount sees its job end.
 *
 * The entries are the mount's (DATA/cache, or -o cache_dir); the task
 * runs' files are in the work directory, which must be visible here: an
 * entry is made of links to them (copies across filesystems).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "cache.h"
#include "layout.h"
#include "log.h"
#include "slurm_int.h"
#include "util.h"

struct keyed {
	const struct defn *d;
	const struct plan *p;
	const char *workdir;
	const unsigned char *want; /* task runs about to be submitted, or NULL */
};

/* The value a reference stands for, read from the work directory. -1
 * when it is not known yet (a parent about to run, or one that did not
 * succeed) or cannot be read. */
static int
ref_value(struct slurm *s, struct srm *m, const struct keyed *k, const struct defn_arg *a,
	  struct buf *v)
{
	const struct defn_step *ps = &k->d->steps[a->step];
	const char *oname = k->d->tasks[ps->task].outputs[a->output];
	char id[TASK_ID_MAX], path[PATH_MAX_];
	struct task_rec t;

	for (int j = 0; j < k->p->step_count[a->step]; j++) {
		int pi = k->p->step_first[a->step] + j, rc;
		if (k->want && k->want[pi])
			return -1;
		if (store_task_get(s->st, m->seq, pi, &t) != RF_OK)
			return -1;
		plan_tr_id(k->d, k->p, pi, id, sizeof(id));
		rc = t.state == ST_SUCCEEDED &&
			     path_output(path, k->workdir, m->id, id, t.attempts, oname) == 0 &&
			     bind_ref_file(v, j, path, a->kind == ARG_PATH, BIND_VALUE_MAX) == 0
			 ? 0
			 : -1;
		task_rec_free(&t);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Task run i's key, when all its inputs are known: 0, else -1. */
static int
key_of(struct slurm *s, struct srm *m, const struct keyed *k, int i, char key[65], json_t **made_of)
{
	const struct defn_step *st = &k->d->steps[k->p->tr_step[i]];
	const struct defn_task *task = &k->d->tasks[st->task];
	char **values = calloc((size_t)task->nparams + 1, sizeof(char *));
	int rc = -1;

	*made_of = NULL;
	if (values == NULL)
		return -1;
	for (int j = 0; j < task->nparams; j++) {
		struct binding b;
		struct buf v = {0};
		if (bind_param(st, k->p->tr_copy[i], task->params[j], &b) == 0) {
			if (b.value && buf_adds(&v, b.value) < 0)
				goto out;
			if (b.ref && ref_value(s, m, k, b.ref, &v) < 0) {
				buf_free(&v);
				goto out;
			}
		}
		if ((values[j] = buf_steal(&v)) == NULL)
			goto out;
	}
	rc = cache_key(task, st, k->p->tr_copy[i], values, key, made_of);
out:
	for (int j = 0; j < task->nparams; j++)
		free(values[j]);
	free(values);
	return rc;
}

/* Task run i took an entry: SUCCEEDED without an attempt. */
static void
note_hit(struct slurm *s, struct srm *m, int i, const char *from)
{
	struct task_rec t;

	if (store_task_get(s->st, m->seq, i, &t) != RF_OK)
		return;
	t.state = ST_SUCCEEDED;
	t.attempts = 0;
	t.has_exit = 1;
	t.exit_code = 0;
	t.started = t.ended = now_ms();
	replace(&t.message, errf("cached: from %s", from));
	store_task_update(s->st, &t);
	task_rec_free(&t);
}

int
slurm_cache_lookup(struct slurm *s, struct srm *m, const struct defn *d, const struct plan *p,
		   const char *workdir, unsigned char *want)
{
	struct keyed k = {d, p, workdir, want};
	char key[65], id[TASK_ID_MAX], from[RUN_ID_MAX + TASK_ID_MAX + 16], dir[PATH_MAX_];
	json_t *made_of;
	int hits = 0;

	/* Not visible here: nothing can be taken (submit_step says so). */
	if (access(workdir, W_OK) < 0 || path_run_file(dir, workdir, m->id, "logs.d") < 0 ||
	    mkdir_p(dir, 0700) < 0)
		return 0;
	/* In the task runs' order, which is topological: a hit makes its
	 * dependants' inputs known. */
	for (int i = 0; i < m->ntasks; i++) {
		const struct defn_task *task = &d->tasks[d->steps[p->tr_step[i]].task];
		int hit;
		if (!want[i] || !task->cache || key_of(s, m, &k, i, key, &made_of) < 0)
			continue;
		plan_tr_id(d, p, i, id, sizeof(id));
		hit = cache_take(s->datadir, workdir, key, m->id, task, id, from, sizeof(from));
		cache_note(s->datadir, hit ? "hit" : "miss", key);
		cache_record(s->st, m->seq, i, key, made_of, hit ? from : NULL);
		json_decref(made_of);
		if (!hit)
			continue;
		note_hit(s, m, i, from);
		want[i] = 0;
		m->attempt[i] = 0;
		hits++;
	}
	return hits;
}

void
slurm_cache_keep(struct slurm *s, struct srm *m, int i, const char *workdir)
{
	struct keyed k = {m->d, &m->p, workdir, NULL};
	const struct defn_task *task;
	char key[65], id[TASK_ID_MAX];
	json_t *made_of;

	if (m->d == NULL || workdir == NULL)
		return;
	task = &m->d->tasks[m->d->steps[m->p.tr_step[i]].task];
	if (!task->cache)
		return;
	if (key_of(s, m, &k, i, key, &made_of) < 0) {
		log_warnx("run %s: task run %d: its inputs cannot be read: not cached", m->id, i);
		return;
	}
	plan_tr_id(m->d, &m->p, i, id, sizeof(id));
	cache_record(s->st, m->seq, i, key, made_of, NULL);
	json_decref(made_of);
	cache_save(s->datadir, workdir, key, m->id, task, id, m->attempt[i]);
}
