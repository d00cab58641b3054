/*
 * A definition's normalized form: what defn_parse made of it, written out
 * once at submit and kept by the store beside the text as submitted, so
 * that loading a run to execute it, answering a read of its results and
 * submitting it to Slurm read back the validated structure instead of
 * parsing and checking the definition again. It is runfs's own JSON, read
 * only by this file: every index is one defn_parse resolved and checked.
 *
 *   {"v":1, "name", "config", "tasks":[{"name","argv","stdin","env":[[n,v]],
 *    "cpu","mem","retries","timeout","outputs","params","delay":[s...],"cache"}],
 *    "steps":[{"id","task","args":[[name,kind,lit,step,output]],
 *    "fe":[[name,[items]]],"ncopies","keep"}], "results":[[step,output,by_path]],
 *    "order":[...], "ntaskruns", "params":[[name,value]]}
 * Fields added later ("delay", "cache", "keep", "params") are optional on reading:
 * runs recorded before them read back as they were submitted.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "defn.h"
#include "util.h"

#define NORMAL_VERSION 1

static json_t *
strv(char *const *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
dump_task(const struct defn_task *t)
{
	json_t *env = json_array(), *delay = json_array();

	for (int i = 0; i < t->nenv; i++)
		json_array_append_new(env, json_pack("[ss]", t->env_names[i], t->env_values[i]));
	for (int i = 0; i < t->nretry_delay; i++)
		json_array_append_new(delay, json_real(t->retry_delay[i]));
	return json_pack("{s:s, s:o, s:o, s:o, s:i, s:I, s:I, s:i, s:i, s:f, s:o, s:o, s:o, s:i}",
			 "name", t->name, "argv", strv(t->argv, t->argc), "stdin",
			 str_or_null(t->stdin_tmpl), "env", env, "cpu", t->cpu_milli, "mem",
			 (json_int_t)t->memory_bytes, "disk", (json_int_t)t->disk_bytes, "gpu",
			 t->gpus, "retries", t->retries, "timeout", t->timeout, "outputs",
			 strv(t->outputs, t->noutputs), "params", strv(t->params, t->nparams),
			 "delay", delay, "cache", t->cache);
}

static json_t *
dump_step(const struct defn_step *s)
{
	json_t *args = json_array(), *fe = json_array();

	for (int i = 0; i < s->nargs; i++) {
		const struct defn_arg *a = &s->args[i];
		json_array_append_new(args, json_pack("[s, i, o, i, i]", a->name, (int)a->kind,
						      str_or_null(a->lit), a->step, a->output));
	}
	for (int i = 0; i < s->nfe; i++)
		json_array_append_new(
		    fe, json_pack("[s, o]", s->fe_names[i], strv(s->fe_values[i], s->ncopies)));
	return json_pack("{s:s, s:i, s:o, s:o, s:i, s:i}", "id", s->id, "task", s->task, "args",
			 args, "fe", fe, "ncopies", s->ncopies, "keep", s->keep_going);
}

char *
defn_normal_dump(const struct defn *d)
{
	json_t *o, *tasks = json_array(), *steps = json_array(), *results = json_array(),
		   *order = json_array(), *params = json_array();
	char *text;

	for (int i = 0; i < d->nparams; i++)
		json_array_append_new(params,
				      json_pack("[ss]", d->param_names[i], d->param_values[i]));

	for (int i = 0; i < d->ntasks; i++)
		json_array_append_new(tasks, dump_task(&d->tasks[i]));
	for (int i = 0; i < d->nsteps; i++) {
		json_array_append_new(steps, dump_step(&d->steps[i]));
		json_array_append_new(order, json_integer(d->order[i]));
	}
	for (int i = 0; i < d->nresults; i++)
		json_array_append_new(results,
				      json_pack("[i, i, i]", d->results[i].step,
						d->results[i].output, d->results[i].by_path));
	o = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:i}", "v", NORMAL_VERSION,
		      "name", d->name, "config", str_or_null(d->config), "tasks", tasks, "steps",
		      steps, "results", results, "order", order, "ntaskruns", d->ntaskruns,
		      "params", params, "keep", d->keep_going);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* Loading: every allocation checked; on any failure the partly built
 * definition is freed by defn_free, which takes NULL members. */

static char *
dup_or_null(json_t *s)
{
	return json_is_string(s) ? strdup(json_string_value(s)) : NULL;
}

/* A NULL-terminated copy of an array of strings; its length in *n. */
static char **
load_strv(json_t *a, int *n)
{
	size_t len = json_array_size(a);
	char **v = calloc(len + 1, sizeof(char *));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if ((v[i] = dup_or_null(json_array_get(a, i))) == NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return NULL;
		}
	if (n)
		*n = (int)len;
	return v;
}

static int
load_task(json_t *o, struct defn_task *t)
{
	json_t *argv, *stdin_tmpl, *env, *outputs, *params, *name, *delay = NULL;
	json_int_t mem, disk;
	int nenv;

	if (json_unpack(o, "{s:o, s:o, s:o, s:o, s:i, s:I, s:I, s:i, s:i, s:F, s:o, s:o, s?o, s?i}",
			"name", &name, "argv", &argv, "stdin", &stdin_tmpl, "env", &env, "cpu",
			&t->cpu_milli, "mem", &mem, "disk", &disk, "gpu", &t->gpus, "retries",
			&t->retries, "timeout", &t->timeout, "outputs", &outputs, "params", &params,
			"delay", &delay, "cache", &t->cache) < 0)
		return -1;
	if ((t->retry_delay = calloc(json_array_size(delay) + 1, sizeof(double))) == NULL)
		return -1;
	for (size_t i = 0; i < json_array_size(delay); i++)
		t->retry_delay[t->nretry_delay++] = json_number_value(json_array_get(delay, i));
	t->memory_bytes = (int64_t)mem;
	t->disk_bytes = (int64_t)disk;
	t->name = dup_or_null(name);
	t->argv = load_strv(argv, &t->argc);
	t->stdin_tmpl = dup_or_null(stdin_tmpl);
	t->outputs = load_strv(outputs, &t->noutputs);
	t->params = load_strv(params, &t->nparams);
	nenv = (int)json_array_size(env);
	t->env_names = calloc((size_t)nenv + 1, sizeof(char *));
	t->env_values = calloc((size_t)nenv + 1, sizeof(char *));
	if (!t->name || !t->argv || (json_is_string(stdin_tmpl) && !t->stdin_tmpl) || !t->outputs ||
	    !t->params || !t->env_names || !t->env_values)
		return -1;
	t->nenv = nenv;
	for (int i = 0; i < nenv; i++) {
		json_t *pair = json_array_get(env, (size_t)i);
		t->env_names[i] = dup_or_null(json_array_get(pair, 0));
		t->env_values[i] = dup_or_null(json_array_get(pair, 1));
		if (!t->env_names[i] || !t->env_values[i])
			return -1;
	}
	return 0;
}

static int
load_step(json_t *o, struct defn_step *s)
{
	json_t *args, *fe, *id;
	int nargs, nfe;

	if (json_unpack(o, "{s:o, s:i, s:o, s:o, s:i, s?i}", "id", &id, "task", &s->task, "args",
			&args, "fe", &fe, "ncopies", &s->ncopies, "keep", &s->keep_going) < 0)
		return -1;
	s->id = dup_or_null(id);
	nargs = (int)json_array_size(args);
	nfe = (int)json_array_size(fe);
	s->args = calloc((size_t)nargs + 1, sizeof(*s->args));
	s->fe_names = calloc((size_t)nfe + 1, sizeof(char *));
	s->fe_values = calloc((size_t)nfe + 1, sizeof(char **));
	if (!s->id || !s->args || !s->fe_names || !s->fe_values)
		return -1;
	s->nargs = nargs;
	s->nfe = nfe;
	for (int i = 0; i < nargs; i++) {
		json_t *a = json_array_get(args, (size_t)i), *name, *lit;
		struct defn_arg *arg = &s->args[i];
		int kind;
		if (json_unpack(a, "[o, i, o, i, i]", &name, &kind, &lit, &arg->step,
				&arg->output) < 0)
			return -1;
		arg->kind = (enum arg_kind)kind;
		arg->name = dup_or_null(name);
		arg->lit = dup_or_null(lit);
		if (!arg->name || (json_is_string(lit) && !arg->lit))
			return -1;
	}
	for (int i = 0; i < nfe; i++) {
		json_t *pair = json_array_get(fe, (size_t)i);
		s->fe_names[i] = dup_or_null(json_array_get(pair, 0));
		s->fe_values[i] = load_strv(json_array_get(pair, 1), NULL);
		if (!s->fe_names[i] || !s->fe_values[i])
			return -1;
	}
	return 0;
}

static int
load_params(json_t *params, struct defn *d)
{
	size_t n = json_array_size(params);

	d->param_names = calloc(n + 1, sizeof(char *));
	d->param_values = calloc(n + 1, sizeof(char *));
	if (d->param_names == NULL || d->param_values == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *pair = json_array_get(params, i);
		d->param_names[i] = dup_or_null(json_array_get(pair, 0));
		d->param_values[i] = dup_or_null(json_array_get(pair, 1));
		d->nparams++;
		if (!d->param_names[i] || !d->param_values[i])
			return -1;
	}
	return 0;
}

int
defn_normal_load(const char *text, struct defn **out, char **err)
{
	json_t *o = json_loads(text, 0, NULL), *name, *config, *tasks, *steps, *results, *order,
	       *params = NULL;
	struct defn *d = calloc(1, sizeof(*d));
	int v = 0, rc = -1;

	*out = NULL;
	*err = NULL;
	if (o == NULL || d == NULL ||
	    json_unpack(o, "{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s?o, s?i}", "v", &v, "name",
			&name, "config", &config, "tasks", &tasks, "steps", &steps, "results",
			&results, "order", &order, "ntaskruns", &d->ntaskruns, "params", &params,
			"keep", &d->keep_going) < 0 ||
	    v != NORMAL_VERSION || load_params(params, d) < 0)
		goto out;
	d->name = dup_or_null(name);
	d->config = dup_or_null(config);
	/* Counts are set once their arrays exist: defn_free walks them. */
	d->tasks = calloc(json_array_size(tasks) + 1, sizeof(*d->tasks));
	d->steps = calloc(json_array_size(steps) + 1, sizeof(*d->steps));
	d->results = calloc(json_array_size(results) + 1, sizeof(*d->results));
	d->order = calloc(json_array_size(steps) + 1, sizeof(int));
	if (!d->name || !d->tasks || !d->steps || !d->results || !d->order ||
	    json_array_size(order) != json_array_size(steps))
		goto out;
	d->ntasks = (int)json_array_size(tasks);
	d->nsteps = (int)json_array_size(steps);
	d->nresults = (int)json_array_size(results);
	for (int i = 0; i < d->ntasks; i++)
		if (load_task(json_array_get(tasks, (size_t)i), &d->tasks[i]) < 0)
			goto out;
	for (int i = 0; i < d->nsteps; i++) {
		if (load_step(json_array_get(steps, (size_t)i), &d->steps[i]) < 0)
			goto out;
		d->order[i] = (int)json_integer_value(json_array_get(order, (size_t)i));
	}
	for (int i = 0; i < d->nresults; i++)
		if (json_unpack(json_array_get(results, (size_t)i), "[i, i, i]",
				&d->results[i].step, &d->results[i].output,
				&d->results[i].by_path) < 0)
			goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc < 0) {
		defn_free(d);
		*err = errf("the run's recorded definition cannot be read back");
	} else {
		*out = d;
	}
	return rc;
}

int
defn_load_run(const char *text, int normal, struct defn **out, char **err)
{
	return normal ? defn_normal_load(text, out, err) : defn_parse(text, strlen(text), out, err);
}
