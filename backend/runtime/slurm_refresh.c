/*
 * Following runs on Slurm: one GET /jobs per configuration and refresh,
 * with update_time, mapped back to task runs (a job, or an element of a
 * job array), their states, exit codes and attempts, and the runs'.
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
#include "rollup.h"
#include "rest.h"
#include "runtime.h"
#include "slurm_int.h"
#include "util.h"

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

/* Why Slurm itself ended a job, in words; NULL when the job ended on its
 * own (its exit status says why). */
static const char *
slurm_ending(const char *js)
{
	static const char *const why[][2] = {
	    {"TIMEOUT", "time limit reached"},
	    {"OUT_OF_MEMORY", "out of memory"},
	    {"NODE_FAIL", "node failure"},
	    {"BOOT_FAIL", "node failed to boot"},
	    {"DEADLINE", "deadline reached"},
	    {"PREEMPTED", "preempted"},
	    {"CANCELLED", "cancelled outside runfs"},
	};

	for (size_t i = 0; i < sizeof(why) / sizeof(*why); i++)
		if (strcmp(js, why[i][0]) == 0)
			return why[i][1];
	return NULL;
}

/* The message of a task run whose job ended without succeeding. */
static char *
job_message(long job, const char *js, const char *reason, int exit_code)
{
	const char *ending = slurm_ending(js);

	if (ending)
		return errf("Slurm ended job %ld: %s (%s%s%s; see system)", job, ending, js,
			    reason && *reason && strcmp(reason, "None") ? ", reason " : "",
			    reason && *reason && strcmp(reason, "None") ? reason : "");
	return errf("Slurm job %ld %s (%s, exit code %d)", job, js, reason ? reason : "",
		    exit_code);
}

/* "1m2.50s" (what sh's times prints) in seconds; -1 when it is not that. */
static double
sh_seconds(const char *s)
{
	double min, sec;

	return sscanf(s, "%lfm%lfs", &min, &sec) == 2 ? min * 60 + sec : -1;
}

/*
 * tasks/<t>/usage of a Slurm job: what its script measured of itself
 * (wall time in seconds, the CPU time of the task from the children line
 * of `times`); where that file cannot be read, the wall time Slurm gives.
 * Slurm without accounting says nothing of memory: max_rss_bytes is null.
 */
static char *
job_usage(const char *workdir, const char *run, const struct task_rec *t, int64_t start,
	  int64_t end, int exit_code)
{
	char path[PATH_MAX_], *data = NULL, user[32], sys[32];
	long long s0, s1;
	size_t len;
	json_t *o;
	char *text;

	o = json_pack("{s:I, s:n, s:n, s:n, s:i, s:s}", "wall_s", (json_int_t)(end - start),
		      "user_s", "system_s", "max_rss_bytes", "exit_status", exit_code,
		      "measured_by", "slurm");
	if (workdir && path_attempt_file(path, workdir, run, t->id, t->attempts, "usage") == 0 &&
	    read_file(path, 4096, &data, &len) == 0 &&
	    sscanf(data, "%lld %lld %*s %*s %31s %31s", &s0, &s1, user, sys) == 4 &&
	    sh_seconds(user) >= 0 && sh_seconds(sys) >= 0) {
		json_object_set_new(o, "wall_s", json_integer(s1 - s0));
		json_object_set_new(o, "user_s", json_real(sh_seconds(user)));
		json_object_set_new(o, "system_s", json_real(sh_seconds(sys)));
		json_object_set_new(o, "measured_by", json_string("job script"));
	}
	free(data);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* Applies what Slurm says of task run i's job to its record. */
static void
apply_job(struct slurm *s, struct srm *m, int i, json_t *job, const char *workdir)
{
	const char *js = json_string_value(json_object_get(job, "job_state"));
	const char *reason = json_string_value(json_object_get(job, "state_reason"));
	int64_t start = json_integer_value(json_object_get(job, "start_time"));
	int64_t end = json_integer_value(json_object_get(job, "end_time"));
	int status = (int)json_integer_value(json_object_get(job, "exit_code")), active, state, was;
	struct task_rec t;

	m->seen[i] = 1;
	if (js == NULL || store_task_get(s->st, m->seq, i, &t) != RF_OK)
		return;
	was = t.state;
	/* A job cancelled by a stop from another machine: its record may say
	 * so before this mount's scan has seen it. */
	if (!m->stopping && workdir && (!strcmp(js, "CANCELLED") || !strcmp(js, "FAILED")))
		share_stopping(s, m, workdir);
	state = map_state(js, m->stopping, reason, &active);
	m->active[i] = active;
	if (state == ST_RUNNING && t.started == 0)
		t.started = start * 1000;
	if (state != ST_WAITING)
		t.attempts = m->attempt[i];
	if (!active && state != ST_WAITING) {
		struct attempt_rec a = {m->attempt[i], state,	   1,  0,
					start * 1000,  end * 1000, "", NULL};
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
				? strdup(ROLLUP_STOPPED)
				: job_message(m->job[i], js, reason, t.exit_code);
		a.message = t.message;
		a.usage = job_usage(workdir, m->id, &t, start, end, t.exit_code);
		store_attempt_put(s->st, m->seq, i, &a);
		free(a.usage);
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
	/* Once: a full listing shows ended jobs again. */
	if (state == ST_SUCCEEDED && !active && was != ST_SUCCEEDED)
		slurm_cache_keep(s, m, i, workdir);
}

/* What a task run that never ran says when it depends on one that failed
 * in a step that goes on: "not run: X failed", X the first that failed.
 * NULL when none of its parents is such. */
static char *
not_run_because(struct slurm *s, struct srm *m, const struct task_rec *t)
{
	char id[TASK_ID_MAX];
	char *why = NULL;

	for (const char *p = t->parents; p && *p && why == NULL;) {
		size_t n = strcspn(p, "\n");
		struct task_rec pt;
		snprintf(id, sizeof(id), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (store_task_find(s->st, m->seq, id, &pt) != RF_OK)
			continue;
		if (pt.state == ST_FAILED && m->keep[pt.idx])
			why = errf("not run: %s failed", pt.id);
		else if (pt.state == ST_TERMINATED && strncmp(pt.message, "not run: ", 9) == 0)
			why = strdup(pt.message);
		task_rec_free(&pt);
	}
	return why;
}

/*
 * The failures of a run: *first the first task run that failed (-1 when
 * none, its message into r), *keep whether all failed in steps that go
 * on. Their dependants, whose jobs Slurm cancelled, then end TERMINATED
 * "not run" (task runs come parents first). 1 when one changed.
 */
static int
failures(struct slurm *s, struct srm *m, struct run_rec *r, int *first, int *keep)
{
	char msg[768];
	int changed = 0;
	struct task_rec t;

	*first = -1;
	*keep = 1;
	for (int i = 0; i < m->ntasks; i++) {
		char *why;
		if (store_task_get(s->st, m->seq, i, &t) != RF_OK)
			continue;
		if (t.state == ST_FAILED) {
			*keep &= m->keep[i];
			if (*first < 0) {
				*first = i;
				rollup_failed_message(msg, sizeof(msg), t.id, t.message);
				replace(&r->message, strdup(msg));
			}
		} else if (t.state == ST_WAITING && !m->active[i] &&
			   (why = not_run_because(s, m, &t)) != NULL) {
			t.state = ST_TERMINATED;
			replace(&t.message, why);
			store_task_update(s->st, &t);
			changed = 1;
		}
		task_rec_free(&t);
	}
	return changed;
}

/* The run's state from its task runs; 1 when nothing of it is active. */
static int
settle_run(struct slurm *s, struct srm *m)
{
	struct run_rec r;
	struct rollup up = {.stopping = m->stopping};
	int active = 0, failed = -1, keep = 0;

	if (store_run_get_seq(s->st, m->seq, &r) != RF_OK)
		return 1;
	for (int i = 0; i < m->ntasks; i++)
		active |= m->active[i];
	if (r.counts[ST_FAILED] > 0 && failures(s, m, &r, &failed, &keep)) {
		/* Counts again, with the task runs that will not run. */
		char *msg = strdup(r.message);
		run_rec_free(&r);
		if (store_run_get_seq(s->st, m->seq, &r) != RF_OK) {
			free(msg);
			return 1;
		}
		replace(&r.message, msg);
	}
	/* UNKNOWN: purged before we saw its end; FAILED without a failed
	 * task run: cancelled outside runfs. */
	up.ntasks = r.ntasks;
	memcpy(up.counts, r.counts, sizeof(up.counts));
	up.failed = failed >= 0;
	up.keep_going = keep;
	up.active = active;
	r.state = rollup_state(&up);
	if (r.state == ST_RUNNING && r.started == 0)
		r.started = now_ms();
	if (state_completed(r.state) && !active && r.ended == 0)
		r.ended = now_ms();
	if (failed < 0 && (m->stale || r.state == ST_SUCCEEDED || r.state == ST_RUNNING)) {
		free(r.message);
		r.message = strdup(r.state == ST_TERMINATED ? ROLLUP_STOPPED : "");
	}
	m->stale = 0;
	store_run_update(s->st, &r);
	run_rec_free(&r);
	if (store_run_brief(s->st, m->seq, &r) == RF_OK) {
		m->last_event = r.last_event;
		run_rec_free(&r);
	}
	return !active;
}

/* The record for other machines, when something changed since it was
 * written: their mounts take the states of runs whose jobs are gone from
 * it. */
static void
share_states(struct slurm *s, struct srm *m)
{
	struct rest rest;
	const char *workdir;
	json_t *doc = NULL;
	char *err = NULL;
	int lock;

	if (m->last_event == m->saved_event ||
	    slurm_connect(s, m->config, &doc, &rest, &workdir, &err) != RF_OK)
		goto out;
	lock = share_lock(workdir, m->id);
	share_sync(s, m, workdir);
	share_save(s, m, workdir, 0);
	share_unlock(lock);
out:
	free(err);
	json_decref(doc);
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
					apply_job(s, m, i, job, NULL);
		q = end + strcspn(end, ",");
		q += *q == ',';
	}
}

/*
 * After a full listing: a job Slurm no longer lists was purged (MinJobAge
 * passed while nobody followed it). What became of it cannot be known.
 */
static void
forget_purged(struct slurm *s, const char *config)
{
	struct task_rec t;

	for (struct srm *m = s->runs; m; m = m->next) {
		for (int i = 0; !strcmp(m->config, config) && i < m->ntasks; i++) {
			if (m->active[i] && !m->seen[i] &&
			    store_task_get(s->st, m->seq, i, &t) == RF_OK) {
				m->active[i] = 0;
				t.state = ST_UNKNOWN;
				replace(&t.message, errf("Slurm no longer knows job %ld (purged): "
							 "what became of it is unknown",
							 m->job[i]));
				store_task_update(s->st, &t);
				task_rec_free(&t);
			}
			m->seen[i] = 0;
		}
	}
}

/* One GET /jobs per configuration in use, for all its runs. */
void
slurm_refresh(struct slurm *s)
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
		if (slurm_connect(s, m->config, &doc, &rest, &workdir, &err) == RF_OK &&
		    rest_call(&rest, "GET", path, NULL, &reply, &errnum, &err) == RF_OK) {
			json_array_foreach(json_object_get(reply, "jobs"), k, job)
			{
				int i;
				struct srm *o = find_job(s, job, &i);
				if (o && !strcmp(o->config, m->config))
					apply_job(s, o, i, job, workdir);
				else if (o == NULL &&
					 json_is_null(json_object_get(job, "array_task_id")))
					apply_pending(s, job, m->config);
			}
			if (since == 0)
				forget_purged(s, m->config);
			s->refreshed = now_ms();
		} else {
			iso8601(s->refreshed, when, sizeof(when));
			snprintf(msg, sizeof(msg), "state as of the last refresh (%s); now: %s",
				 s->refreshed ? when : "none yet", err ? err : "error");
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
				slurm_resubmit(s, m, i);
			}
	for (struct srm **pp = &s->runs; *pp;) {
		struct srm *m = *pp;
		int over = m->stale != 2 && settle_run(s, m);
		share_states(s, m);
		/* Unless the record brought new jobs of it. */
		for (int i = 0; over && i < m->ntasks; i++)
			over = !m->active[i];
		if (over) {
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
