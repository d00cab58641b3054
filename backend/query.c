/* Answers to the filesystem's questions: snapshots, results, outputs and
 * configurations, all read from the store and the data directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_int.h"
#include "defn.h"
#include "bind.h"
#include "layout.h"
#include "util.h"

/* Results files are small but a fan-out result concatenates many outputs. */
#define RESULT_MAX (256 * 1024 * 1024)

enum rerr
backend_run(struct backend *b, const char *run_id, struct run_rec *out)
{
	return store_run_find(b->st, run_id, out);
}

enum rerr
backend_run_seq(struct backend *b, int64_t seq, struct run_rec *out)
{
	return store_run_get_seq(b->st, seq, out);
}

enum rerr
backend_run_brief(struct backend *b, int64_t seq, struct run_rec *out)
{
	return store_run_brief(b->st, seq, out);
}

int
backend_runs(struct backend *b, int64_t after, int limit, struct run_rec *out)
{
	return store_run_list(b->st, after, limit, out);
}

int
backend_runs_in(struct backend *b, int state, int64_t after, int limit, struct run_rec *out)
{
	return store_run_list_state(b->st, state, after, limit, out);
}

int64_t
backend_newest_run(struct backend *b)
{
	return store_run_newest(b->st);
}

int64_t
backend_last_change(struct backend *b, int64_t *time)
{
	return store_event_latest(b->st, time);
}

enum rerr
backend_task_usage(struct backend *b, int64_t run_seq, int idx, char **json)
{
	struct attempt_rec *a = NULL;
	int n = store_attempt_list(b->st, run_seq, idx, &a);

	*json = NULL;
	if (n < 0)
		return RF_IO;
	if (n > 0 && a[n - 1].usage) {
		*json = a[n - 1].usage;
		a[n - 1].usage = NULL;
	}
	attempt_list_free(a, n);
	return RF_OK;
}

enum rerr
backend_task_cache(struct backend *b, const struct run_rec *r, const struct task_rec *t,
		   char **json)
{
	char path[PATH_MAX_], dir[PATH_MAX_];
	enum rerr e = store_cache_key_get(b->st, r->seq, t->idx, json);
	size_t len;

	/* Runs recorded before the store kept it have logs.d/<task>.cache. */
	if (e == RF_NOENT &&
	    path_task_file(path, backend_files(b, r->config, dir, sizeof(dir)), r->id, t->id,
			   "cache") == 0 &&
	    read_file(path, 1 << 20, json, &len) == 0)
		e = RF_OK;
	return e;
}

enum rerr
backend_run_usage(struct backend *b, int64_t run_seq, struct usage_sum *out)
{
	return store_run_usage(b->st, run_seq, out);
}

enum rerr
backend_task(struct backend *b, int64_t run_seq, int idx, struct task_rec *out)
{
	return store_task_get(b->st, run_seq, idx, out);
}

enum rerr
backend_task_find(struct backend *b, int64_t run_seq, const char *id, struct task_rec *out)
{
	return store_task_find(b->st, run_seq, id, out);
}

int
backend_tasks(struct backend *b, int64_t run_seq, int from, int limit, struct task_rec *out)
{
	return store_task_list(b->st, run_seq, from, limit, out);
}

int
backend_tasks_brief(struct backend *b, int64_t run_seq, int from, int limit, struct task_rec *out)
{
	return store_task_list_brief(b->st, run_seq, from, limit, out);
}

enum rerr
backend_definition(struct backend *b, int64_t run_seq, char **text)
{
	return store_run_definition(b->st, run_seq, text);
}

int
backend_run_cached(struct backend *b, int64_t run_seq)
{
	return store_run_cached(b->st, run_seq);
}

enum rerr
backend_params(struct backend *b, int64_t run_seq, char **text)
{
	struct defn *d = NULL;
	char *defn = NULL, *err = NULL;
	enum rerr e;
	int normal;

	*text = NULL;
	if ((e = store_run_normal(b->st, run_seq, &defn, &normal)) != RF_OK)
		return e;
	e = RF_IO;
	if (defn_load_run(defn, normal, &d, &err) == 0)
		e = (*text = defn_params_json(d)) != NULL ? RF_OK : RF_NOMEM;
	defn_free(d);
	free(defn);
	free(err);
	return e;
}

int
backend_events(struct backend *b, int64_t run_seq, int64_t after, int limit, struct event_line *out)
{
	return store_event_lines(b->st, run_seq, after, limit, out);
}

void
backend_set_feed(struct backend *b, store_feed_fn fn, void *arg)
{
	store_set_feed(b->st, fn, arg);
}

/* Loads the run's definition into the one-entry cache; cache_mu held. */
static enum rerr
cached_defn(struct backend *b, int64_t seq)
{
	char *text = NULL, *err = NULL;
	struct defn *d = NULL;
	enum rerr e;
	int normal;

	if (b->cache_d && b->cache_seq == seq)
		return RF_OK;
	if ((e = store_run_normal(b->st, seq, &text, &normal)) != RF_OK)
		return e;
	if (defn_load_run(text, normal, &d, &err) < 0) {
		free(text);
		free(err);
		return RF_IO;
	}
	free(text);
	if (b->cache_d) {
		plan_free(&b->cache_plan);
		defn_free(b->cache_d);
		b->cache_d = NULL;
	}
	if (plan_build(d, &b->cache_plan) < 0) {
		defn_free(d);
		return RF_NOMEM;
	}
	b->cache_d = d;
	b->cache_seq = seq;
	return RF_OK;
}

enum rerr
backend_nresults(struct backend *b, int64_t run_seq, int *n)
{
	enum rerr e;

	pthread_mutex_lock(&b->cache_mu);
	e = cached_defn(b, run_seq);
	if (e == RF_OK)
		*n = b->cache_d->nresults;
	pthread_mutex_unlock(&b->cache_mu);
	return e;
}

enum rerr
backend_result(struct backend *b, int64_t run_seq, int i, char **path, char **content, size_t *len,
	       char **err)
{
	struct run_rec r = {0};
	struct buf out = {0};
	char file[PATH_MAX_], dir[PATH_MAX_];
	enum rerr e;
	int first, n, single, by_path;
	const char *oname, *files;

	*path = *content = *err = NULL;
	if ((e = store_run_get_seq(b->st, run_seq, &r)) != RF_OK)
		return e;
	if (r.state != ST_SUCCEEDED) {
		e = state_completed(r.state) ? RF_FAILED : RF_AGAIN;
		*err = errf("run %s is %s%s%s", r.id, state_name(r.state), *r.message ? ": " : "",
			    r.message);
		goto out;
	}
	pthread_mutex_lock(&b->cache_mu);
	if ((e = cached_defn(b, run_seq)) != RF_OK || i < 0 || i >= b->cache_d->nresults) {
		pthread_mutex_unlock(&b->cache_mu);
		e = e ? e : RF_NOENT;
		goto out;
	}
	{
		const struct defn_result *res = &b->cache_d->results[i];
		const struct defn_step *s = &b->cache_d->steps[res->step];
		first = b->cache_plan.step_first[res->step];
		n = b->cache_plan.step_count[res->step];
		single = s->ncopies < 0;
		by_path = res->by_path;
		oname = b->cache_d->tasks[s->task].outputs[res->output];
		snprintf(file, sizeof(file), "%s", oname); /* copy before unlocking */
		oname = file;
	}
	pthread_mutex_unlock(&b->cache_mu);
	/* Once, not per copy: for a saved configuration it reads the file. */
	files = backend_files(b, r.config, dir, sizeof(dir));
	for (int k = 0; k < n; k++) {
		struct task_rec t = {0};
		char p[PATH_MAX_];

		if ((e = store_task_get(b->st, run_seq, first + k, &t)) != RF_OK)
			goto out;
		if (path_output(p, files, r.id, t.id, t.attempts, oname) < 0)
			e = RF_IO;
		task_rec_free(&t);
		if (e == RF_OK && single && !by_path)
			*path = strdup(p);
		else if (e == RF_OK && bind_ref_file(&out, k, p, by_path, RESULT_MAX) < 0)
			e = errno == ENOMEM ? RF_NOMEM : RF_IO;
		if (e != RF_OK)
			goto out;
	}
	if (*path == NULL && n > 0 && buf_add(&out, "\n", 1) < 0)
		e = RF_NOMEM;
	if (*path == NULL && e == RF_OK) {
		*len = out.len;
		*content = buf_steal(&out);
		if (*content == NULL)
			e = RF_NOMEM;
	}
out:
	buf_free(&out);
	run_rec_free(&r);
	return e;
}

enum rerr
backend_output_path(struct backend *b, const struct run_rec *r, const struct task_rec *t,
		    const char *name, char *path)
{
	size_t n = strlen(name);
	char dir[PATH_MAX_];

	/* Not yet, or never: a task run that failed, or one that never ran
	 * in a run that has ended. */
	if (t->state != ST_SUCCEEDED)
		return state_completed(t->state) || run_rec_ended(r) ? RF_FAILED : RF_AGAIN;
	for (const char *p = t->outputs; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return path_output(path, backend_files(b, r->config, dir, sizeof(dir)),
					   r->id, t->id, t->attempts, name) < 0
				   ? RF_IO
				   : RF_OK;
		p = nl ? nl + 1 : p + len;
	}
	return RF_NOENT;
}
