/*
 * Loading a run for execution: the in-memory run the scheduler works on,
 * built from the store (for a new run, a started one, or a retry), and
 * freed again once its end is recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "log.h"
#include "sched_int.h"
#include "util.h"

static const char *const run_dirs[] = {"logs.d", "outputs", "work"};

static int
is_stdout(const struct defn *d, int step, int output)
{
	return strcmp(d->tasks[d->steps[step].task].outputs[output], "stdout") == 0;
}

/*
 * How each step's stdout is passed on: by_path, whether someone receives
 * it as a path ({"path"} arguments and results), so that the file must
 * exist even when empty; readers, how many task runs take each copy's by
 * {"from"} (a fan-in takes every copy's).
 */
static int
stdout_uses(struct srun *r)
{
	const struct defn *d = r->d;

	r->stdout_by_path = calloc((size_t)d->nsteps + 1, 1);
	r->stdout_readers = calloc((size_t)d->nsteps + 1, sizeof(int));
	if (r->stdout_by_path == NULL || r->stdout_readers == NULL)
		return -1;
	for (int s = 0; s < d->nsteps; s++) {
		for (int i = 0; i < d->steps[s].nargs; i++) {
			const struct defn_arg *a = &d->steps[s].args[i];
			if (a->kind == ARG_LIT || !is_stdout(d, a->step, a->output))
				continue;
			if (a->kind == ARG_PATH)
				r->stdout_by_path[a->step] = 1;
			else
				r->stdout_readers[a->step] += r->plan.step_count[s];
		}
	}
	for (int i = 0; i < d->nresults; i++) {
		const struct defn_result *res = &d->results[i];
		if (res->by_path && is_stdout(d, res->step, res->output))
			r->stdout_by_path[res->step] = 1;
	}
	return 0;
}

/* Builds the in-memory run from the store. A task run that has not
 * succeeded starts over (retry); one that succeeded keeps its outputs. */
struct srun *
sched_load_run(struct sched *s, int64_t seq)
{
	struct srun *r = calloc(1, sizeof(*r));
	char *text = NULL, *err = NULL, path[PATH_MAX_];
	int got, normal, rerun;

	if (r == NULL)
		return NULL;
	r->log_fd = -1;
	if (store_run_get_seq(s->st, seq, &r->rec) != RF_OK ||
	    store_run_normal(s->st, seq, &text, &normal) != RF_OK)
		goto fail;
	if (defn_load_run(text, normal, &r->d, &err) < 0) {
		log_warnx("run %s: %s", r->rec.id, err);
		goto fail;
	}
	if (plan_build(r->d, &r->plan) < 0 || r->plan.ntr != r->rec.ntasks)
		goto fail;
	r->ntasks = r->rec.ntasks;
	if (stdout_uses(r) < 0)
		goto fail;
	r->t = calloc((size_t)r->ntasks + 1, sizeof(*r->t));
	if (r->t == NULL)
		goto fail;
	for (int from = 0; from < r->ntasks; from += got) {
		struct task_rec page[256];
		got = store_task_list(s->st, seq, from, 256, page);
		if (got <= 0)
			goto fail;
		for (int i = 0; i < got; i++)
			r->t[from + i].rec = page[i];
	}
	/* What can fail comes before the first task update: those are queued
	 * for saving (sched_save.c) and point into r. */
	/* The run's flat folders (layout.h), made once for all its tasks. */
	for (size_t i = 0; i < sizeof(run_dirs) / sizeof(run_dirs[0]); i++) {
		if (path_run_file(path, s->datadir, r->rec.id, run_dirs[i]) < 0 ||
		    (mkdir(path, 0700) < 0 && errno != EEXIST)) {
			log_warn("run %s: %s", r->rec.id, run_dirs[i]);
			goto fail;
		}
	}
	if (path_run_file(path, s->datadir, r->rec.id, "logs") < 0 ||
	    (r->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		log_warn("run %s: open logs", r->rec.id);
		goto fail;
	}
	rerun = store_run_rerun(s->st, seq);
	for (int i = 0; i < r->ntasks; i++) {
		struct stask *t = &r->t[i];
		const struct defn_task *task = &r->d->tasks[r->d->steps[r->plan.tr_step[i]].task];
		int cap = s->capacity;

		t->run = r;
		t->tlog.file.fd = -1;
		t->cost = task->cpu_milli < 1 ? 1 : (task->cpu_milli > cap ? cap : task->cpu_milli);
		if (t->rec.state == ST_SUCCEEDED) {
			r->nsucceeded++;
			continue;
		}
		/* A rerun leaves what was not chosen as it ended. */
		if (rerun && t->rec.state != ST_WAITING) {
			if (t->rec.state == ST_FAILED)
				r->nfailed++;
			else
				r->nskipped++;
			continue;
		}
		if (t->rec.state != ST_WAITING || t->rec.max_attempts <= t->rec.attempts) {
			t->rec.state = ST_WAITING;
			t->rec.max_attempts = t->rec.attempts + task->retries + 1;
			sched_set_message(&t->rec.message, "");
			sched_task_update(s, t);
		}
	}
	for (int i = 0; i < r->ntasks; i++) {
		int step = r->plan.tr_step[i];
		for (int c = 0; c < r->plan.step_nchildren[step]; c++) {
			int cs = r->plan.step_children[step][c];
			for (int k = 0; k < r->plan.step_count[cs]; k++)
				if (r->t[i].rec.state != ST_SUCCEEDED)
					r->t[r->plan.step_first[cs] + k].npending++;
		}
	}
	/* What a rerun chose but needs a task run that stays failed will
	 * not run. */
	for (int i = 0; rerun && i < r->ntasks; i++)
		if (r->t[i].rec.state != ST_SUCCEEDED && r->t[i].rec.state != ST_WAITING)
			sched_skip_dependants(s, &r->t[i]);
	if (rerun)
		store_run_set_rerun(s->st, seq, 0);
	r->rec.state = r->nsucceeded > 0 ? ST_RUNNING : ST_WAITING;
	r->rec.prepared = 0;
	r->rec.owner = getpid();
	r->rec.ended = 0;
	sched_set_message(&r->rec.message, "");
	sched_run_update(s, r);
	free(text);
	return r;
fail:
	log_warnx("run %lld: cannot be loaded for execution", (long long)seq);
	free(text);
	free(err);
	sched_run_free(r);
	return NULL;
}

void
sched_run_free(struct srun *r)
{
	for (int i = 0; r->t && i < r->ntasks; i++) {
		task_rec_free(&r->t[i].rec);
		free(r->t[i].value);
	}
	free(r->t);
	free(r->stdout_by_path);
	free(r->stdout_readers);
	plan_free(&r->plan);
	if (r->d)
		defn_free(r->d);
	if (r->log_fd >= 0)
		close(r->log_fd);
	run_rec_free(&r->rec);
	free(r);
}
