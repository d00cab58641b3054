/*
 * The remote runtime: runs on a Slurm cluster through slurmrestd. Launch
 * hands the whole graph over at once, one batch job per task run in
 * topological order, parents as afterok dependencies, so the cluster runs
 * it without us. A background thread does all the talking: filesystem
 * requests only queue work and read the store, never wait on the network.
 * Each refresh is one GET /jobs (changes since the last one) for all the
 * runs of a configuration, however many jobs they have.
 *
 * Which job is which task run is kept in DATA/runs/<run>/slurm.json, so
 * that a later mount takes up the tracking of a run still on the cluster.
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

#define REFRESH_MS 1000

struct srm {
	struct srm *next;
	int64_t seq;
	char id[RUN_ID_MAX];
	char config[CONFIG_MAX];
	int ntasks;
	long *job;    /* per task run; 0 when it has none (succeeded before) */
	int *attempt; /* the attempt its job runs */
	int *active;  /* its job may still change */
	int *copy;    /* its element in its step's job array, -1 for a plain job */
	int *again;   /* it failed with attempts left: submit it again */
	int stopping;
	int stale; /* the message says the state is stale */
};

struct scmd {
	struct scmd *next;
	int64_t seq;
	int verb; /* -1 launch, else VERB_STOP / VERB_KILL */
};

struct slurm {
	struct store *st;
	const char *datadir;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct scmd *cmds; /* under mu */
	int quit;	   /* under mu */
	struct srm *runs;  /* the thread's only */
	int64_t since;	   /* update_time of the next refresh; 0 = all */
	long calls;
	void *curl; /* the thread's connection, reused */
};

/* The saved configuration `name` as a REST client; doc holds its strings. */
static enum rerr
connect_to(struct slurm *s, const char *name, json_t **doc, struct rest *r, const char **workdir,
	   char **err)
{
	char path[4096];
	json_t *c;
	enum rerr e;

	*doc = NULL;
	if (config_path(path, sizeof(path)) < 0) {
		*err = errf("no configuration file: set HOME or XDG_CONFIG_HOME");
		return RF_INVAL;
	}
	if ((e = config_load(path, doc, err)) != RF_OK)
		return e;
	c = json_object_get(json_object_get(*doc, "configs"), name);
	if (c == NULL) {
		*err = errf("configuration \"%s\" is no longer saved", name);
		return RF_NOENT;
	}
	memset(r, 0, sizeof(*r));
	r->curl = s->curl;
	r->uri = json_string_value(json_object_get(c, "uri"));
	r->api = json_string_value(json_object_get(c, "api_version"));
	r->user = json_string_value(json_object_get(c, "user"));
	r->token = json_string_value(json_object_get(c, "token"));
	if (r->api == NULL)
		r->api = "v0.0.38";
	if (r->user == NULL)
		r->user = getenv("USER") ? getenv("USER") : "root";
	*workdir = json_string_value(json_object_get(c, "workdir"));
	if (*workdir == NULL || **workdir != '/') {
		*err = errf("configuration \"%s\" has no absolute workdir (the cluster's shared "
			    "folder for job files)",
			    name);
		return RF_INVAL;
	}
	return RF_OK;
}

static void
srm_free(struct srm *m)
{
	free(m->job);
	free(m->attempt);
	free(m->active);
	free(m->copy);
	free(m->again);
	free(m);
}

static struct srm *
srm_new(const struct run_rec *r)
{
	struct srm *m = calloc(1, sizeof(*m));
	size_t n = (size_t)r->ntasks + 1;

	if (m == NULL)
		return NULL;
	m->seq = r->seq;
	snprintf(m->id, sizeof(m->id), "%s", r->id);
	snprintf(m->config, sizeof(m->config), "%s", r->config);
	m->ntasks = r->ntasks;
	m->job = calloc(n, sizeof(*m->job));
	m->attempt = calloc(n, sizeof(*m->attempt));
	m->active = calloc(n, sizeof(*m->active));
	m->copy = calloc(n, sizeof(*m->copy));
	m->again = calloc(n, sizeof(*m->again));
	if (m->job == NULL || m->attempt == NULL || m->active == NULL || m->copy == NULL ||
	    m->again == NULL) {
		srm_free(m);
		return NULL;
	}
	return m;
}

static int
jobs_path(struct slurm *s, const char *run, char *path)
{
	return path_run_file(path, s->datadir, run, "slurm.json");
}

static void
save_jobs(struct slurm *s, struct srm *m)
{
	json_t *a = json_array();
	char path[PATH_MAX_], *text;

	for (int i = 0; i < m->ntasks; i++)
		json_array_append_new(
		    a, json_pack("[I,i,i]", (json_int_t)m->job[i], m->attempt[i], m->copy[i]));
	text = json_dumps(a, JSON_COMPACT);
	if (text == NULL || jobs_path(s, m->id, path) < 0 ||
	    write_file(path, text, strlen(text), 0600) < 0)
		log_warnx("run %s: cannot record its Slurm jobs", m->id);
	free(text);
	json_decref(a);
}

static struct srm *
load_jobs(struct slurm *s, const struct run_rec *r)
{
	char path[PATH_MAX_];
	json_error_t je;
	json_t *a;
	struct srm *m;

	if (jobs_path(s, r->id, path) < 0 || (a = json_load_file(path, 0, &je)) == NULL)
		return NULL;
	if ((m = srm_new(r)) != NULL)
		for (int i = 0; i < m->ntasks; i++) {
			json_t *e = json_array_get(a, (size_t)i);
			m->job[i] = (long)json_integer_value(json_array_get(e, 0));
			m->attempt[i] = (int)json_integer_value(json_array_get(e, 1));
			m->copy[i] = (int)json_integer_value(json_array_get(e, 2));
			m->active[i] = m->job[i] != 0;
		}
	json_decref(a);
	return m;
}

/*
 * Cancels every job of m that may still run; how many it could not. A
 * plain cancel is Slurm's own stop: SIGTERM, then SIGKILL after KillWait.
 * kill sends SIGKILL to running jobs at once (a signal does not cancel,
 * so pending ones are cancelled too). Dependants first: none may start
 * when its parent goes. A job already gone (2017) needs nothing.
 */
static int
cancel_jobs(struct slurm *s, struct srm *m, struct rest *rest, int verb)
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
	    json_pack("{s:s,s:s,s:s,s:s,s:{s:s}}", "name", name, "current_working_directory", cwd,
		      "standard_output", out, "standard_error", out, "environment", "PATH",
		      "/usr/local/bin:/usr/bin:/bin");
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
	if (*deps) {
		json_object_set_new(j, "dependency", json_string(deps));
		json_object_set_new(j, "kill_on_invalid_dependency", json_true());
	}
	return j;
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
	char name[RUN_ID_MAX + TASK_ID_MAX];
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
	if (script == NULL ||
	    (job = job_desc(t, name, "/", "/dev/null", deps.p ? deps.p : "", conf)) == NULL) {
		*err = errf("cannot write the job script of step %s", c->d->steps[step].id);
		goto out;
	}
	if (c->d->steps[step].ncopies >= 0) {
		array_spec(c, &arr);
		json_object_set_new(job, "array", json_string(arr.p ? arr.p : ""));
	}
	/* The script keeps everything of the task in its own files; the
	 * job's output file would have to exist before the job starts. */
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

static void
note_run(struct slurm *s, int64_t seq, int state, const char *msg)
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

static void
replace(char **dst, char *src)
{
	free(*dst);
	*dst = src ? src : strdup("");
}

/* What submitting jobs for one run takes. */
struct job_set {
	struct run_rec r;
	struct defn *d;
	struct plan p;
	json_t *doc, *conf;
	struct rest rest;
	const char *workdir;
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

	memset(js, 0, sizeof(*js));
	if ((e = store_run_get_seq(s->st, seq, &js->r)) != RF_OK ||
	    (e = store_run_definition(s->st, seq, &text)) != RF_OK ||
	    (e = connect_to(s, js->r.config, &js->doc, &js->rest, &js->workdir, err)) != RF_OK)
		goto out;
	e = RF_INVAL;
	if (defn_parse(text, strlen(text), &js->d, err) < 0 || plan_build(js->d, &js->p) < 0)
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
	struct task_rec t;

	if (members == NULL)
		return -1;
	for (int first = 0; first < m->ntasks; first += p->step_count[p->tr_step[first]]) {
		int step = p->tr_step[first];
		struct script_ctx c = {js->d, p, members, 0, m->attempt, m->id, js->workdir};
		long job;

		for (int i = first; i < first + p->step_count[step]; i++) {
			m->copy[i] = p->tr_copy[i];
			if (want[i]) {
				members[c.nmembers++] = i;
				m->attempt[i]++;
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
			if (store_task_get(s->st, m->seq, i, &t) != RF_OK)
				continue;
			/* attempts counts once the job starts (apply_job). */
			t.state = ST_WAITING;
			t.has_exit = 0;
			t.started = t.ended = 0;
			if (p->tr_copy[i] >= 0)
				replace(&t.message, errf("Slurm job %ld_%d", job, p->tr_copy[i]));
			else
				replace(&t.message, errf("Slurm job %ld", job));
			store_task_update(s->st, &t);
			task_rec_free(&t);
		}
	}
	s->calls += js->rest.calls;
	js->rest.calls = 0;
	free(members);
	return n;
}

static void
launch(struct slurm *s, int64_t seq)
{
	struct job_set js = {0};
	struct srm *m = NULL;
	unsigned char *want = NULL;
	struct task_rec t;
	char *err = NULL, msg[512];
	int n = -1;

	if (set_open(s, seq, &js, &err) != RF_OK || (m = srm_new(&js.r)) == NULL ||
	    (want = calloc((size_t)m->ntasks + 1, 1)) == NULL)
		goto fail;
	/* A retry leaves out the task runs that succeeded: their outputs stay. */
	for (int i = 0; i < m->ntasks; i++) {
		if (store_task_get(s->st, seq, i, &t) != RF_OK)
			goto fail;
		m->attempt[i] = t.attempts;
		want[i] = t.state != ST_SUCCEEDED;
		task_rec_free(&t);
	}
	if ((n = submit_marked(s, m, &js, want, &err)) < 0)
		goto fail;
	save_jobs(s, m);
	snprintf(msg, sizeof(msg), "%d task runs submitted to %s", n, js.r.config);
	note_run(s, seq, ST_WAITING, msg);
	m->next = s->runs;
	s->runs = m;
	s->since = 0;
	m = NULL;
	goto out;
fail:
	log_warnx("run %s: not submitted: %s", js.r.id, err ? err : "out of memory");
	if (m) {
		cancel_jobs(s, m, &js.rest, VERB_KILL);
		srm_free(m);
	}
	snprintf(msg, sizeof(msg), "could not be submitted to Slurm: %s", err ? err : "error");
	note_run(s, seq, ST_FAILED, msg);
out:
	store_flush(s->st);
	set_close(&js);
	free(want);
	free(err);
}

/* Task run i failed with attempts left: it and the task runs that depend
 * on it (Slurm cancels their jobs) are submitted again. */
static void
resubmit(struct slurm *s, struct srm *m, int i)
{
	struct job_set js = {0};
	unsigned char *want = calloc((size_t)m->ntasks + 1, 1);
	char *err = NULL;
	int n = -1;

	if (want == NULL || set_open(s, m->seq, &js, &err) != RF_OK)
		goto out;
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
	n = submit_marked(s, m, &js, want, &err);
	save_jobs(s, m);
out:
	if (n < 0) {
		log_warnx("run %s: cannot retry: %s", m->id, err ? err : "out of memory");
		note_run(s, m->seq, ST_FAILED, err ? err : "could not be retried on Slurm");
	}
	set_close(&js);
	free(want);
	free(err);
}

/* A Slurm job state as a task run state; -1 while it has not ended. */
static int
map_state(const char *js, int stopping, const char *reason, int *active)
{
	static const char *const failed[] = {"FAILED",	  "TIMEOUT",  "OUT_OF_MEMORY", "NODE_FAIL",
					     "BOOT_FAIL", "DEADLINE", "PREEMPTED"};

	*active = 0;
	if (!strcmp(js, "COMPLETED"))
		return ST_SUCCEEDED;
	/* Stopped on request, however the job ended (a killed job FAILED). */
	if (stopping && (!strcmp(js, "CANCELLED") || !strcmp(js, "FAILED")))
		return ST_TERMINATED;
	for (size_t i = 0; i < sizeof(failed) / sizeof(*failed); i++)
		if (!strcmp(js, failed[i]))
			return ST_FAILED;
	if (!strcmp(js, "CANCELLED")) {
		/* A dependant of a failed task run never ran: it stays WAITING. */
		if (!stopping && reason && !strcmp(reason, "DependencyNeverSatisfied"))
			return ST_WAITING;
		return stopping ? ST_TERMINATED : ST_FAILED;
	}
	*active = 1;
	return !strcmp(js, "PENDING") ? ST_WAITING : ST_RUNNING;
}

/* Applies what Slurm says of task run i's job to its record. */
static void
apply_job(struct slurm *s, struct srm *m, int i, json_t *job)
{
	const char *js = json_string_value(json_object_get(job, "job_state"));
	const char *reason = json_string_value(json_object_get(job, "state_reason"));
	int64_t start = json_integer_value(json_object_get(job, "start_time"));
	int64_t end = json_integer_value(json_object_get(job, "end_time"));
	int status = (int)json_integer_value(json_object_get(job, "exit_code")), active, state;
	struct task_rec t;

	if (js == NULL || store_task_get(s->st, m->seq, i, &t) != RF_OK)
		return;
	state = map_state(js, m->stopping, reason, &active);
	m->active[i] = active;
	if (state == ST_RUNNING && t.started == 0)
		t.started = start * 1000;
	if (state != ST_WAITING)
		t.attempts = m->attempt[i];
	if (!active && state != ST_WAITING) {
		struct attempt_rec a = {m->attempt[i], state, 1, 0, start * 1000, end * 1000, ""};
		t.has_exit = 1;
		/* exit_code is the raw wait status. */
		t.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		a.exit_code = t.exit_code;
		t.ended = end * 1000;
		if (t.started == 0)
			t.started = start * 1000;
		free(t.message);
		t.message = state == ST_SUCCEEDED ? strdup("")
			    : state == ST_TERMINATED
				? strdup("stopped on request")
				: errf("Slurm job %ld %s (%s, exit code %d)", m->job[i], js,
				       reason ? reason : "", t.exit_code);
		a.message = t.message;
		store_attempt_put(s->st, m->seq, i, &a);
		if (state == ST_FAILED && t.attempts < t.max_attempts) {
			replace(&t.message,
				errf("attempt %d of %d failed (Slurm job %ld %s, exit code "
				     "%d); retrying",
				     t.attempts, t.max_attempts, m->job[i], js, t.exit_code));
			state = ST_WAITING;
			m->again[i] = 1;
		}
	} else if (state == ST_WAITING && !active) {
		free(t.message);
		t.message = strdup("never ran: a task run it depends on did not succeed");
	}
	t.state = state;
	store_task_update(s->st, &t);
	task_rec_free(&t);
}

/* The run's state from its task runs; 1 when nothing of it is active. */
static int
settle_run(struct slurm *s, struct srm *m)
{
	struct run_rec r;
	int active = 0, failed = -1, running = 0;

	if (store_run_get_seq(s->st, m->seq, &r) != RF_OK)
		return 1;
	for (int i = 0; i < m->ntasks; i++)
		active |= m->active[i];
	if (r.counts[ST_FAILED] > 0) {
		struct task_rec t;
		for (int i = 0; i < m->ntasks && failed < 0; i++)
			if (store_task_get(s->st, m->seq, i, &t) == RF_OK) {
				if (t.state == ST_FAILED) {
					failed = i;
					free(r.message);
					r.message = errf("task %s failed: %s", t.id, t.message);
				}
				task_rec_free(&t);
			}
	}
	running = r.counts[ST_RUNNING] + r.counts[ST_SUCCEEDED] > 0;
	if (failed >= 0)
		r.state = ST_FAILED;
	else if (!active && m->stopping)
		r.state = ST_TERMINATED;
	else if (!active && r.counts[ST_SUCCEEDED] == r.ntasks)
		r.state = ST_SUCCEEDED;
	else if (!active)
		r.state = ST_FAILED; /* cancelled outside runfs */
	else
		r.state = running ? ST_RUNNING : ST_WAITING;
	if (r.state == ST_RUNNING && r.started == 0)
		r.started = now_ms();
	if (state_completed(r.state) && !active && r.ended == 0)
		r.ended = now_ms();
	if (failed < 0 && (m->stale || r.state == ST_SUCCEEDED || r.state == ST_RUNNING)) {
		free(r.message);
		r.message = strdup(r.state == ST_TERMINATED ? "stopped on request" : "");
	}
	m->stale = 0;
	store_run_update(s->st, &r);
	run_rec_free(&r);
	return !active;
}

/* The task run a job entry of GET /jobs is about: a job, or one element
 * of a job array (array_job_id, array_task_id = the copy). */
static struct srm *
find_job(struct slurm *s, json_t *job, int *idx)
{
	long id = (long)json_integer_value(json_object_get(job, "job_id"));
	long array = (long)json_integer_value(json_object_get(job, "array_job_id"));
	json_t *copy = json_object_get(job, "array_task_id");

	for (struct srm *m = s->runs; m; m = m->next)
		for (int i = 0; i < m->ntasks; i++) {
			if (m->copy[i] < 0 ? m->job[i] == id
					   : m->job[i] == array && json_is_integer(copy) &&
						 json_integer_value(copy) == m->copy[i]) {
				*idx = i;
				return m;
			}
		}
	return NULL;
}

/* An array's entry for the elements not started yet ("3-5,9"): applies
 * its state to each of them. */
static void
apply_pending(struct slurm *s, json_t *job, const char *config)
{
	long array = (long)json_integer_value(json_object_get(job, "array_job_id"));
	const char *spec = json_string_value(json_object_get(job, "array_task_string"));
	char *end;

	for (const char *q = spec; q && *q;) {
		long lo = strtol(q, &end, 10), hi = lo;
		if (end == q)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (struct srm *m = s->runs; m; m = m->next)
			for (int i = 0; !strcmp(m->config, config) && i < m->ntasks; i++)
				if (m->job[i] == array && m->copy[i] >= lo && m->copy[i] <= hi)
					apply_job(s, m, i, job);
		q = end + strcspn(end, ",");
		q += *q == ',';
	}
}

/* One GET /jobs per configuration in use, for all its runs. */
static void
refresh(struct slurm *s)
{
	int64_t now = time(NULL), since = s->since;
	int failed = 0;

	for (struct srm *m = s->runs; m; m = m->next) {
		struct rest rest = {0};
		const char *workdir;
		json_t *doc = NULL, *reply = NULL, *job;
		char path[64], *err = NULL, when[32], msg[1024];
		int errnum, done = 0;
		size_t k;

		/* Once per configuration: a run of one already refreshed is done. */
		for (struct srm *o = s->runs; o != m; o = o->next)
			done |= !strcmp(o->config, m->config);
		if (done)
			continue;
		snprintf(path, sizeof(path), "jobs?update_time=%lld", (long long)since);
		if (connect_to(s, m->config, &doc, &rest, &workdir, &err) == RF_OK &&
		    rest_call(&rest, "GET", path, NULL, &reply, &errnum, &err) == RF_OK) {
			json_array_foreach(json_object_get(reply, "jobs"), k, job)
			{
				int i;
				struct srm *o = find_job(s, job, &i);
				if (o && !strcmp(o->config, m->config))
					apply_job(s, o, i, job);
				else if (o == NULL &&
					 json_is_null(json_object_get(job, "array_task_id")))
					apply_pending(s, job, m->config);
			}
		} else {
			iso8601(now_ms(), when, sizeof(when));
			snprintf(msg, sizeof(msg), "state as of the last refresh; at %s: %s", when,
				 err ? err : "error");
			/* Logged once per outage, noted on every run it leaves stale. */
			if (!m->stale)
				log_warnx("slurm %s: %s", m->config, err ? err : "refresh failed");
			for (struct srm *o = s->runs; o; o = o->next)
				if (!strcmp(o->config, m->config) &&
				    store_run_note(s->st, o->seq, msg) == RF_OK)
					o->stale = 2;
			failed = 1;
		}
		s->calls += rest.calls;
		free(err);
		json_decref(reply);
		json_decref(doc);
	}
	/* Retries before the runs settle: a run waiting for one is not over. */
	for (struct srm *m = s->runs; m; m = m->next)
		for (int i = 0; i < m->ntasks; i++)
			if (m->again[i]) {
				m->again[i] = 0;
				resubmit(s, m, i);
			}
	for (struct srm **pp = &s->runs; *pp;) {
		struct srm *m = *pp;
		if (m->stale != 2 && settle_run(s, m)) {
			*pp = m->next;
			log_info("run %s: no job of it is left on Slurm (%ld REST calls so far)",
				 m->id, s->calls);
			srm_free(m);
		} else {
			if (m->stale == 2)
				m->stale = 1;
			pp = &m->next;
		}
	}
	/* A job's change in the second of the last refresh is not lost, nor
	 * the changes made while a refresh failed. */
	if (!failed)
		s->since = now - 1;
	store_flush(s->st);
}

static void
signal_run(struct slurm *s, int64_t seq, int verb)
{
	struct rest rest = {0};
	const char *workdir;
	json_t *doc = NULL;
	char *err = NULL;

	for (struct srm *m = s->runs; m; m = m->next) {
		if (m->seq != seq)
			continue;
		m->stopping = 1;
		if (connect_to(s, m->config, &doc, &rest, &workdir, &err) != RF_OK ||
		    cancel_jobs(s, m, &rest, verb) > 0)
			log_warnx("run %s: %s", m->id,
				  err ? err : "some jobs could not be cancelled");
		s->calls += rest.calls;
		break;
	}
	free(err);
	json_decref(doc);
}

static void *
slurm_main(void *arg)
{
	struct slurm *s = arg;
	struct timespec until;
	struct scmd *c;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	s->curl = curl_easy_init();
	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (s->cmds == NULL && !s->quit) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += REFRESH_MS / 1000;
			pthread_cond_timedwait(&s->cond, &s->mu, &until);
		}
		c = s->cmds;
		s->cmds = NULL;
		if (s->quit) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		while (c) {
			struct scmd *next = c->next;
			if (c->verb < 0)
				launch(s, c->seq);
			else
				signal_run(s, c->seq, c->verb);
			free(c);
			c = next;
		}
		if (s->runs)
			refresh(s);
	}
	while (c) {
		struct scmd *next = c->next;
		free(c);
		c = next;
	}
	if (s->curl)
		curl_easy_cleanup(s->curl);
	return NULL;
}

/* Takes up the runs a previous mount left on the cluster. */
static void
adopt(struct slurm *s)
{
	struct run_rec *runs = NULL;
	int n = store_run_list_active(s->st, &runs);

	for (int i = 0; i < n; i++) {
		struct srm *m;
		if (!config_builtin(runs[i].config) && !runs[i].prepared &&
		    (m = load_jobs(s, &runs[i])) != NULL) {
			m->next = s->runs;
			s->runs = m;
		}
		run_rec_free(&runs[i]);
	}
	free(runs);
}

static int
slurm_open(struct runtime *rt)
{
	struct slurm *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	s->st = rt->st;
	s->datadir = rt->datadir;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	adopt(s);
	if (pthread_create(&s->thread, NULL, slurm_main, s) != 0) {
		free(s);
		return -1;
	}
	rt->priv = s;
	return 0;
}

static void
slurm_close(struct runtime *rt)
{
	struct slurm *s = rt->priv;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	while (s->runs) {
		struct srm *m = s->runs;
		s->runs = m->next;
		srm_free(m);
	}
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
	free(s);
	rt->priv = NULL;
}

static enum rerr
queue(struct slurm *s, int64_t seq, int verb)
{
	struct scmd *c = calloc(1, sizeof(*c)), **pp;

	if (c == NULL)
		return RF_NOMEM;
	c->seq = seq;
	c->verb = verb;
	pthread_mutex_lock(&s->mu);
	for (pp = &s->cmds; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
	return RF_OK;
}

static enum rerr
slurm_launch(struct runtime *rt, int64_t seq)
{
	return queue(rt->priv, seq, -1);
}

static enum rerr
slurm_signal(struct runtime *rt, int64_t seq, enum sched_verb v)
{
	return queue(rt->priv, seq, (int)v);
}

/* Whether its jobs may still run: the store says so (not completed, or
 * FAILED with task runs still running); the thread knows it exactly. */
static int
slurm_executing(struct runtime *rt, int64_t seq)
{
	struct run_rec r;
	int yes = 0;

	(void)rt;
	if (store_run_get_seq(rt->st, seq, &r) == RF_OK) {
		yes = !r.prepared && (!state_completed(r.state) || r.counts[ST_RUNNING] > 0);
		run_rec_free(&r);
	}
	return yes;
}

const struct runtime_ops slurm_ops = {
    .name = "slurm",
    .open = slurm_open,
    .close = slurm_close,
    .launch = slurm_launch,
    .signal = slurm_signal,
    .executing = slurm_executing,
};
