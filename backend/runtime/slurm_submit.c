/*
 * Handing a run to Slurm: one batch job per step (a job array for a
 * foreach step) in topological order, parents as afterok dependencies;
 * again for a task run that failed with attempts left; and cancelling.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "layout.h"
#include "log.h"
#include "rest.h"
#include "runtime.h"
#include "slurm_int.h"
#include "util.h"

/*
 * Cancels every job of m that may still run; how many it could not. A
 * plain cancel is Slurm's own stop: SIGTERM, then SIGKILL after KillWait.
 * kill sends SIGKILL to running jobs at once (a signal does not cancel,
 * so pending ones are cancelled too). Dependants first: none may start
 * when its parent goes. A job already gone (2017) needs nothing.
 */
int
slurm_cancel(struct slurm *s, struct srm *m, struct rest *rest, int verb)
{
	char path[96], *err = NULL;
	struct task_rec t;
	json_t *reply;
	int errnum, failed = 0, running;
	long last = 0;

	for (int i = m->ntasks - 1; i >= 0; i--) {
		/* A job array's elements share its id: one cancel ends them all. */
		if (!m->job[i] || !m->active[i] || m->job[i] == last)
			continue;
		last = m->job[i];
		running = m->copy[i] < 0 && store_task_get(s->st, m->seq, i, &t) == RF_OK &&
			  t.state == ST_RUNNING;
		if (m->copy[i] < 0)
			task_rec_free(&t);
		snprintf(path, sizeof(path), "job/%ld%s", m->job[i],
			 verb == VERB_KILL && running ? "?signal=SIGKILL" : "");
		if (rest_call(rest, "DELETE", path, NULL, &reply, &errnum, &err) != RF_OK &&
		    errnum != 2017) {
			log_warnx("run %s: cannot cancel job %ld: %s", m->id, m->job[i], err);
			failed++;
		}
		free(err);
		err = NULL;
		json_decref(reply);
	}
	return failed;
}

static json_t *
job_desc(const struct defn_task *t, const char *name, const char *cwd, const char *out,
	 const char *deps, json_t *conf)
{
	json_t *j =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s}}", "name", name, "current_working_directory",
		      cwd, "standard_output", out, "standard_error", out, "open_mode", "append",
		      "environment", "PATH", "/usr/local/bin:/usr/bin:/bin");
	static const char *const copied[] = {"partition", "account", "qos"};

	if (j == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(copied) / sizeof(*copied); i++)
		if (json_object_get(conf, copied[i]))
			json_object_set(j, copied[i], json_object_get(conf, copied[i]));
	json_object_set_new(j, "cpus_per_task", json_integer((t->cpu_milli + 999) / 1000));
	if (t->memory_bytes > 0)
		json_object_set_new(j, "memory_per_node",
				    json_integer((t->memory_bytes + (1 << 20) - 1) >> 20));
	if (t->timeout > 0)
		json_object_set_new(j, "time_limit", json_integer(((long)t->timeout + 59) / 60));
	/* GPUs as the generic resource gpu, disk as the node's temporary
	 * disk (MB): the fields API v0.0.37 and v0.0.38 both take. */
	if (t->gpus > 0)
		json_object_set_new(j, "gres", json_sprintf("gpu:%d", t->gpus));
	if (t->disk_bytes > 0)
		json_object_set_new(j, "temporary_disk_per_node",
				    json_integer((t->disk_bytes + (1 << 20) - 1) >> 20));
	if (*deps) {
		json_object_set_new(j, "dependency", json_string(deps));
		json_object_set_new(j, "kill_on_invalid_dependency", json_true());
	}
	return j;
}

/*
 * Where a job's own output goes (Slurm's words: a time limit, an
 * out-of-memory kill, errors of the job script itself; the task's output
 * the script keeps apart): the task run's system file, which a job array
 * names by its element (%a is the copy, as in the task run's id), each
 * attempt's job appending. slurmd opens it before the script runs, so its
 * folder must exist: made here when the work directory is visible, else
 * the output is dropped as before. 0, or -1 when the path is too long.
 */
static int
system_output(const struct script_ctx *c, int step, char *out, size_t n)
{
	char dir[PATH_MAX_], task[TASK_ID_MAX];

	if (path_run_file(dir, c->workdir, c->run_id, "logs.d") < 0)
		return -1;
	snprintf(task, sizeof(task), "%s%s", c->d->steps[step].id,
		 c->d->steps[step].ncopies >= 0 ? ".%a" : "");
	if (mkdir_p(dir, 0700) < 0 || path_task_system(out, c->workdir, c->run_id, task) < 0)
		snprintf(out, n, "/dev/null");
	return 0;
}

/* "0,3,7": the copies of a job array. */
static void
array_spec(const struct script_ctx *c, struct buf *b)
{
	for (int k = 0; k < c->nmembers; k++)
		buf_printf(b, "%s%d", k ? "," : "", c->p->tr_copy[c->members[k]]);
}

/* Submits the job (or job array) of one step's members; its id, or 0
 * with *err. */
static long
submit_step(struct srm *m, const struct script_ctx *c, json_t *conf, struct rest *rest, char **err)
{
	int step = c->p->tr_step[c->members[0]];
	const struct defn_task *t = &c->d->tasks[c->d->steps[step].task];
	int parents[c->d->nsteps + 1], np = defn_step_parents(c->d, step, parents);
	char name[RUN_ID_MAX + TASK_ID_MAX], out[PATH_MAX_];
	struct buf deps = {0}, arr = {0};
	char *script = slurm_script(c);
	json_t *body = NULL, *reply = NULL, *job;
	long id = 0, last = 0;
	int errnum;

	snprintf(name, sizeof(name), "%s.%s", m->id, c->d->steps[step].id);
	/* afterok on a job array waits for all its elements. */
	for (int j = 0; j < np; j++)
		for (int k = 0; k < c->p->step_count[parents[j]]; k++) {
			long pj = m->job[c->p->step_first[parents[j]] + k];
			if (pj && pj != last)
				buf_printf(&deps, "%s%ld", deps.len ? ":" : "afterok:", pj);
			last = pj ? pj : last;
		}
	if (script == NULL || system_output(c, step, out, sizeof(out)) < 0 ||
	    (job = job_desc(t, name, "/", out, deps.p ? deps.p : "", conf)) == NULL) {
		*err = errf("cannot write the job script of step %s", c->d->steps[step].id);
		goto out;
	}
	/* Relative, as sbatch --begin takes it: both API versions parse it. */
	if (c->begin_in > 0)
		json_object_set_new(job, "begin_time", json_sprintf("now+%d", c->begin_in));
	if (c->d->steps[step].ncopies >= 0) {
		array_spec(c, &arr);
		json_object_set_new(job, "array", json_string(arr.p ? arr.p : ""));
	}
	body = json_pack("{s:s,s:o}", "script", script, "job", job);
	if (body && rest_call(rest, "POST", "job/submit", body, &reply, &errnum, err) == RF_OK)
		id = (long)json_integer_value(json_object_get(reply, "job_id"));
	if (id == 0 && *err == NULL)
		*err = errf("slurmrestd gave no job id for step %s", c->d->steps[step].id);
out:
	free(script);
	buf_free(&deps);
	buf_free(&arr);
	json_decref(body);
	json_decref(reply);
	return id;
}

void
slurm_note_run(struct slurm *s, int64_t seq, int state, const char *msg)
{
	struct run_rec r;

	if (store_run_brief(s->st, seq, &r) != RF_OK)
		return;
	r.state = state;
	if (state_completed(state) && r.ended == 0)
		r.ended = now_ms();
	free(r.message);
	r.message = strdup(msg);
	store_run_update(s->st, &r);
	run_rec_free(&r);
}

void
slurm_note_submitted(struct slurm *s, struct srm *m, int i)
{
	struct task_rec t;

	if (store_task_get(s->st, m->seq, i, &t) != RF_OK)
		return;
	/* attempts counts once the job starts (apply_job). */
	t.state = ST_WAITING;
	t.has_exit = 0;
	t.started = t.ended = 0;
	if (m->copy[i] >= 0)
		replace(&t.message, errf("Slurm job %ld_%d", m->job[i], m->copy[i]));
	else
		replace(&t.message, errf("Slurm job %ld", m->job[i]));
	store_task_update(s->st, &t);
	task_rec_free(&t);
}

/* What submitting jobs for one run takes. */
struct job_set {
	struct run_rec r;
	struct defn *d;
	struct plan p;
	json_t *doc, *conf;
	struct rest rest;
	const char *workdir;
	int delayed, delay_s; /* task run delayed (retry_delay) by delay_s; -1 none */
};

static void
set_close(struct job_set *js)
{
	json_decref(js->doc);
	plan_free(&js->p);
	if (js->d)
		defn_free(js->d);
	run_rec_free(&js->r);
}

static enum rerr
set_open(struct slurm *s, int64_t seq, struct job_set *js, char **err)
{
	char *text = NULL;
	enum rerr e = RF_NOMEM;
	int normal;

	memset(js, 0, sizeof(*js));
	js->delayed = -1;
	if ((e = store_run_get_seq(s->st, seq, &js->r)) != RF_OK ||
	    (e = store_run_normal(s->st, seq, &text, &normal)) != RF_OK ||
	    (e = slurm_connect(s, js->r.config, &js->doc, &js->rest, &js->workdir, err)) != RF_OK)
		goto out;
	e = RF_INVAL;
	if (defn_load_run(text, normal, &js->d, err) < 0 || plan_build(js->d, &js->p) < 0)
		goto out;
	js->conf = json_object_get(json_object_get(js->doc, "configs"), js->r.config);
	e = RF_OK;
out:
	free(text);
	return e;
}

/* Submits the task runs want marks, step by step in topological order
 * (the task runs' order): one job per step, or one job array for a
 * foreach step. How many, or -1 with *err. */
static int
submit_marked(struct slurm *s, struct srm *m, struct job_set *js, const unsigned char *want,
	      char **err)
{
	const struct plan *p = &js->p;
	int *members = calloc((size_t)m->ntasks + 1, sizeof(*members)), n = 0;

	if (members == NULL)
		return -1;
	for (int first = 0; first < m->ntasks; first += p->step_count[p->tr_step[first]]) {
		int step = p->tr_step[first];
		struct script_ctx c = {js->d, p, members, 0, m->attempt, m->id, js->workdir, 0};
		long job;

		for (int i = first; i < first + p->step_count[step]; i++) {
			m->copy[i] = p->tr_copy[i];
			if (want[i]) {
				members[c.nmembers++] = i;
				m->attempt[i]++;
				if (i == js->delayed)
					c.begin_in = js->delay_s;
			}
		}
		if (c.nmembers == 0)
			continue;
		if ((job = submit_step(m, &c, js->conf, &js->rest, err)) == 0) {
			n = -1;
			break;
		}
		for (int k = 0; k < c.nmembers; k++) {
			int i = members[k];
			m->job[i] = job;
			m->active[i] = 1;
			n++;
			slurm_note_submitted(s, m, i);
		}
	}
	s->calls += js->rest.calls;
	js->rest.calls = 0;
	free(members);
	return n;
}

/* A rerun's task runs that need one that stays as it failed: not run. */
static void
skip_unrunnable(struct slurm *s, struct srm *m, const struct job_set *js, unsigned char *want)
{
	const struct plan *p = &js->p;
	int parents[js->d->nsteps + 1];
	struct task_rec t, pt;

	for (int i = 0; i < m->ntasks; i++) {
		int np = want[i] ? defn_step_parents(js->d, p->tr_step[i], parents) : 0;
		char *why = NULL;
		for (int j = 0; j < np && why == NULL; j++)
			for (int k = 0; k < p->step_count[parents[j]] && why == NULL; k++) {
				int pi = p->step_first[parents[j]] + k;
				if (want[pi] || store_task_get(s->st, m->seq, pi, &pt) != RF_OK)
					continue;
				if (pt.state != ST_SUCCEEDED)
					why = strncmp(pt.message, "not run: ", 9) == 0
						  ? strdup(pt.message)
						  : errf("not run: %s failed", pt.id);
				task_rec_free(&pt);
			}
		if (why == NULL || store_task_get(s->st, m->seq, i, &t) != RF_OK) {
			free(why);
			continue;
		}
		want[i] = 0;
		t.state = ST_TERMINATED;
		replace(&t.message, why);
		store_task_update(s->st, &t);
		task_rec_free(&t);
	}
}

void
slurm_submit_run(struct slurm *s, int64_t seq)
{
	struct job_set js = {0};
	struct srm *m = NULL, *before = NULL;
	unsigned char *want = NULL;
	struct task_rec t;
	char *err = NULL, msg[512];
	int n = -1, lock = -1, rerun, hits;

	/* Read once and cleared at once: whatever becomes of this launch, a
	 * later retry is not a rerun. */
	if ((rerun = store_run_rerun(s->st, seq)))
		store_run_set_rerun(s->st, seq, 0);
	/* Jobs of it are still on Slurm (a retry waiting out its delay in a
	 * FAILED run): submitting again would run them twice. The next
	 * refresh settles the run's state again. */
	for (struct srm *o = s->runs; o; o = o->next)
		if (o->seq == seq) {
			log_warnx("run %lld: not relaunched: jobs of it are still on Slurm",
				  (long long)seq);
			store_run_note(
			    s->st, seq,
			    "not relaunched: jobs of it are still on Slurm; stop it first");
			return;
		}
	if (set_open(s, seq, &js, &err) != RF_OK || (m = srm_new(s, &js.r)) == NULL ||
	    (want = calloc((size_t)m->ntasks + 1, 1)) == NULL)
		goto fail;
	if ((before = slurm_load_jobs(s, &js.r)) != NULL) /* a retry */
		m->gen = before->gen;
	lock = share_lock(js.workdir, js.r.id);
	if (share_sync(s, m, js.workdir)) {
		/* Another machine relaunched it first: its jobs are followed. */
		slurm_note_run(s, seq, ST_WAITING, "relaunched from another machine");
		goto follow;
	}
	/* A retry leaves out the task runs that succeeded: their outputs stay;
	 * a rerun runs only those it chose (WAITING). */
	for (int i = 0; i < m->ntasks; i++) {
		if (store_task_get(s->st, seq, i, &t) != RF_OK)
			goto fail;
		m->attempt[i] = t.attempts;
		want[i] = rerun ? t.state == ST_WAITING : t.state != ST_SUCCEEDED;
		task_rec_free(&t);
	}
	if (rerun)
		skip_unrunnable(s, m, &js, want);
	hits = slurm_cache_lookup(s, m, js.d, &js.p, js.workdir, want);
	if ((n = submit_marked(s, m, &js, want, &err)) < 0)
		goto fail;
	if (hits)
		snprintf(msg, sizeof(msg), "%d task runs submitted to %s (%d cached)", n,
			 js.r.config, hits);
	else
		snprintf(msg, sizeof(msg), "%d task runs submitted to %s", n, js.r.config);
	slurm_note_run(s, seq, ST_WAITING, msg);
	share_save(s, m, js.workdir, 1);
follow:
	m->next = s->runs;
	s->runs = m;
	s->since = 0;
	m = NULL;
	goto out;
fail:
	log_warnx("run %s: not submitted: %s", js.r.id, err ? err : "out of memory");
	if (m) {
		slurm_cancel(s, m, &js.rest, VERB_KILL);
		srm_free(m);
	}
	snprintf(msg, sizeof(msg), "could not be submitted to Slurm: %s", err ? err : "error");
	slurm_note_run(s, seq, ST_FAILED, msg);
out:
	share_unlock(lock);
	if (before)
		srm_free(before);
	store_flush(s->st);
	set_close(&js);
	free(want);
	free(err);
}

/* The retry_delay after attempt n of task run i failed, in whole seconds
 * (Slurm's begin time has no finer grain). */
static int
retry_delay_s(const struct job_set *js, int i, int n)
{
	const struct defn_task *t = &js->d->tasks[js->d->steps[js->p.tr_step[i]].task];
	double d;

	if (t->nretry_delay == 0 || n < 1)
		return 0;
	d = t->retry_delay[n < t->nretry_delay ? n - 1 : t->nretry_delay - 1];
	return d > 0 ? (int)(d + 0.999) : 0;
}

/* The task run waits for its begin time: its message says until when. */
static void
note_delay(struct slurm *s, struct srm *m, int i, int delay_s)
{
	struct task_rec t;
	char when[40];

	if (store_task_get(s->st, m->seq, i, &t) != RF_OK)
		return;
	iso8601(now_ms() + (int64_t)delay_s * 1000, when, sizeof(when));
	replace(&t.message, errf("attempt %d failed; next attempt at %s (retry_delay %d s, "
				 "Slurm job %ld)",
				 t.attempts, when, delay_s, m->job[i]));
	store_task_update(s->st, &t);
	task_rec_free(&t);
}

/* Task run i failed with attempts left: it and the task runs that depend
 * on it (Slurm cancels their jobs) are submitted again. */
void
slurm_resubmit(struct slurm *s, struct srm *m, int i)
{
	struct job_set js = {0};
	unsigned char *want = calloc((size_t)m->ntasks + 1, 1);
	char *err = NULL;
	int n = -1, lock = -1;

	if (want == NULL || set_open(s, m->seq, &js, &err) != RF_OK)
		goto out;
	lock = share_lock(js.workdir, m->id);
	/* Another machine following the run resubmitted it first. */
	if (share_sync(s, m, js.workdir)) {
		n = 0;
		goto out;
	}
	want[i] = 1;
	/* Descendants come after their parents in the task runs' order. */
	for (int j = 0; j < m->ntasks; j++) {
		int st = js.p.tr_step[j];
		if (!want[j] || (j > 0 && js.p.tr_step[j - 1] == st && want[j - 1] && j != i))
			continue;
		for (int c = 0; c < js.p.step_nchildren[st]; c++) {
			int cs = js.p.step_children[st][c];
			for (int k = 0; k < js.p.step_count[cs]; k++)
				want[js.p.step_first[cs] + k] = 1;
		}
	}
	for (int j = 0; j < m->ntasks; j++) {
		struct task_rec t;
		if (!want[j] || j == i)
			continue;
		m->active[j] = 0; /* their old jobs no longer count */
		if (store_task_get(s->st, m->seq, j, &t) == RF_OK) {
			m->attempt[j] = t.attempts; /* they never started */
			task_rec_free(&t);
		}
	}
	js.delayed = i;
	js.delay_s = retry_delay_s(&js, i, m->attempt[i]);
	n = submit_marked(s, m, &js, want, &err);
	if (n > 0 && js.delay_s > 0)
		note_delay(s, m, i, js.delay_s);
	share_save(s, m, js.workdir, 1);
out:
	share_unlock(lock);
	if (n < 0) {
		log_warnx("run %s: cannot retry: %s", m->id, err ? err : "out of memory");
		slurm_note_run(s, m->seq, ST_FAILED, err ? err : "could not be retried on Slurm");
	}
	set_close(&js);
	free(want);
	free(err);
}
