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
 * that a later mount takes up the tracking of a run still on the cluster,
 * and in the run's record in the work directory, so that a mount on any
 * machine finds the run (slurm_share.c).
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
#include "plan.h"
#include "rest.h"
#include "runtime.h"
#include "slurm_config.h"
#include "slurm_int.h"
#include "util.h"

/* The saved configuration `name` as a REST client; doc holds its strings. */
enum rerr
slurm_connect(struct slurm *s, const char *name, json_t **doc, struct rest *r, const char **workdir,
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
	*workdir = json_string_value(json_object_get(c, "workdir"));
	if (*workdir == NULL || **workdir != '/') {
		*err = errf("configuration \"%s\" has no absolute workdir (the cluster's shared "
			    "folder for job files)",
			    name);
		return RF_INVAL;
	}
	return RF_OK;
}

void
srm_free(struct srm *m)
{
	free(m->job);
	free(m->attempt);
	free(m->active);
	free(m->copy);
	free(m->again);
	free(m->seen);
	free(m->keep);
	plan_free(&m->p);
	if (m->d)
		defn_free(m->d);
	free(m);
}

/* Which task runs' steps go on when they fail: read once, from the
 * run's recorded definition, which is kept when the cache needs it. */
static int
load_keep(struct slurm *s, struct srm *m)
{
	struct defn *d = NULL;
	struct plan p = {0};
	char *text = NULL, *err = NULL;
	int normal, rc = -1;

	if (store_run_normal(s->st, m->seq, &text, &normal) == RF_OK &&
	    defn_load_run(text, normal, &d, &err) == 0 && plan_build(d, &p) == 0 &&
	    p.ntr == m->ntasks) {
		for (int i = 0; i < m->ntasks; i++)
			m->keep[i] = (unsigned char)d->steps[p.tr_step[i]].keep_going;
		rc = 0;
		for (int i = 0; i < d->ntasks; i++)
			if (d->tasks[i].cache) {
				m->d = d;
				m->p = p;
				d = NULL;
				p = (struct plan){0};
				break;
			}
	}
	plan_free(&p);
	if (d)
		defn_free(d);
	free(text);
	free(err);
	return rc;
}

struct srm *
srm_new(struct slurm *s, const struct run_rec *r)
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
	m->seen = calloc(n, sizeof(*m->seen));
	m->keep = calloc(n, sizeof(*m->keep));
	if (m->job == NULL || m->attempt == NULL || m->active == NULL || m->copy == NULL ||
	    m->again == NULL || m->seen == NULL || m->keep == NULL || load_keep(s, m) < 0) {
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

void
slurm_save_jobs(struct slurm *s, struct srm *m)
{
	json_t *a = json_array(), *o;
	char path[PATH_MAX_], *text;

	for (int i = 0; i < m->ntasks; i++)
		json_array_append_new(
		    a, json_pack("[I,i,i]", (json_int_t)m->job[i], m->attempt[i], m->copy[i]));
	o = json_pack("{s:i, s:o}", "generation", m->gen, "jobs", a);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL || jobs_path(s, m->id, path) < 0 ||
	    write_file(path, text, strlen(text), 0600) < 0)
		log_warnx("run %s: cannot record its Slurm jobs", m->id);
	free(text);
	json_decref(o);
}

struct srm *
slurm_load_jobs(struct slurm *s, const struct run_rec *r)
{
	char path[PATH_MAX_];
	json_error_t je;
	json_t *o, *a;
	struct srm *m;

	if (jobs_path(s, r->id, path) < 0 || (o = json_load_file(path, 0, &je)) == NULL)
		return NULL;
	/* Mounts before the shared record wrote the bare list of jobs. */
	a = json_is_array(o) ? o : json_object_get(o, "jobs");
	if ((m = srm_new(s, r)) != NULL) {
		m->gen = (int)json_integer_value(json_object_get(o, "generation"));
		for (int i = 0; i < m->ntasks; i++) {
			json_t *e = json_array_get(a, (size_t)i);
			m->job[i] = (long)json_integer_value(json_array_get(e, 0));
			m->attempt[i] = (int)json_integer_value(json_array_get(e, 1));
			m->copy[i] = (int)json_integer_value(json_array_get(e, 2));
			m->active[i] = m->job[i] != 0;
		}
	}
	json_decref(o);
	return m;
}

static void
signal_run(struct slurm *s, int64_t seq, int verb)
{
	struct rest rest = {0};
	const char *workdir;
	json_t *doc = NULL;
	char *err = NULL;

	for (struct srm *m = s->runs; m; m = m->next) {
		int lock = -1;
		if (m->seq != seq)
			continue;
		m->stopping = 1;
		if (slurm_connect(s, m->config, &doc, &rest, &workdir, &err) == RF_OK) {
			/* Jobs another machine submitted since are cancelled too,
			 * and it learns of the stop before their ends. */
			lock = share_lock(workdir, m->id);
			share_sync(s, m, workdir);
			m->stopping = 1;
			share_save(s, m, workdir, 1);
		}
		if (err || slurm_cancel(s, m, &rest, verb) > 0)
			log_warnx("run %s: %s", m->id,
				  err ? err : "some jobs could not be cancelled");
		share_unlock(lock);
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
				slurm_submit_run(s, c->seq);
			else
				signal_run(s, c->seq, c->verb);
			free(c);
			c = next;
		}
		slurm_discover(s);
		if (s->runs)
			slurm_refresh(s);
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
		if (!runtime_builtin(runs[i].config) && !runs[i].prepared &&
		    (m = slurm_load_jobs(s, &runs[i])) != NULL) {
			m->next = s->runs;
			s->runs = m;
		}
		run_rec_free(&runs[i]);
	}
	free(runs);
}

static void
free_runs(struct slurm *s)
{
	while (s->runs) {
		struct srm *m = s->runs;
		s->runs = m->next;
		srm_free(m);
	}
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
		log_warnx("slurm: cannot start its thread");
		free_runs(s);
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->mu);
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
	free_runs(s);
	json_decref(s->newest);
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

	if (store_run_get_seq(rt->st, seq, &r) == RF_OK) {
		yes = !r.prepared && (!state_completed(r.state) || r.counts[ST_RUNNING] > 0);
		run_rec_free(&r);
	}
	return yes;
}

static char *
slurm_default_name(json_t *conf, char **err)
{
	return config_auto_name(json_string_value(json_object_get(conf, "uri")), err);
}

const struct runtime_ops slurm_ops = {
    .name = "slurm",
    .config_parse = config_parse,
    .default_name = slurm_default_name,
    .login_check = slurm_login_check,
    .usable = slurm_usable,
    .open = slurm_open,
    .close = slurm_close,
    .launch = slurm_launch,
    .signal = slurm_signal,
    .executing = slurm_executing,
    .forget = slurm_forget,
};
