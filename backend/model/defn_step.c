/*
 * The "steps" and "results" arrays of a definition. Steps are read in
 * two passes because an argument may refer to a step defined after it:
 * the first pass reads everything and keeps reference texts in
 * defn_arg.lit, the second resolves them to indices.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "defn_int.h"

#define REF_KINDS "{\"from\": \"step\"} or {\"path\": \"step\"}"

static const char *const step_fields[] = {"id", "task", "args", "foreach", "on_failure", NULL};
static const char *const ref_fields[] = {"from", "path", NULL};
static const char *const param_fields[] = {"param", NULL};

/* {"from": "ref"} or {"path": "ref"}: sets *key and *ref. */
static int
ref_object(struct ctx *c, json_t *obj, const char **key, const char **ref)
{
	json_t *v;
	size_t old;

	if (defn_check_fields(c, obj, ref_fields) < 0)
		return -1;
	if (json_object_size(obj) != 1)
		return defn_fail(c, "expected %s, got %s", REF_KINDS,
				 json_object_size(obj) ? "both" : "an empty object");
	*key = json_object_get(obj, "from") != NULL ? "from" : "path";
	v = json_object_get(obj, *key);
	old = defn_path_key(c, *key);
	if (defn_want(c, v, JSON_STRING, "a step id") < 0)
		return -1;
	defn_path_pop(c, old);
	*ref = json_string_value(v);
	return 0;
}

/* {"param": "name"}: the value of a parameter the definition declares. */
static int
param_ref(struct ctx *c, json_t *obj, char **lit)
{
	const struct defn *d = c->d;
	char q[QUOTE_BUF];
	const char *name;
	json_t *v;
	size_t old;

	if (defn_check_fields(c, obj, param_fields) < 0)
		return -1;
	v = json_object_get(obj, "param");
	old = defn_path_key(c, "param");
	if (defn_want(c, v, JSON_STRING, "a parameter name") < 0)
		return -1;
	name = json_string_value(v);
	for (int i = 0; i < d->nparams; i++)
		if (strcmp(d->param_names[i], name) == 0) {
			defn_path_pop(c, old);
			return (*lit = defn_xstrdup(c, d->param_values[i])) != NULL ? 0 : -1;
		}
	return defn_fail(c, "unknown parameter %s: declare it in the definition's \"params\"",
			 defn_quote(q, name));
}

/* key, in args or foreach, must be one of the task's placeholders. */
static int
want_param(struct ctx *c, const struct defn_task *t, const char *key)
{
	char q[QUOTE_BUF], q2[QUOTE_BUF];

	if (defn_task_has_param(t, key))
		return 0;
	return defn_fail(c, "task %s has no argument %s", defn_quote(q, t->name),
			 defn_quote(q2, key));
}

static int
parse_args(struct ctx *c, struct defn_step *s, const struct defn_task *t, json_t *obj)
{
	struct defn_arg *a;
	const char *key, *kind, *ref;
	json_t *v;
	size_t old;
	int rc;

	if (defn_want_object(c, obj, NULL) < 0)
		return -1;
	if ((s->args = defn_xcalloc(c, json_object_size(obj), sizeof(*s->args))) == NULL)
		return -1;
	json_object_foreach(obj, key, v)
	{
		a = &s->args[s->nargs++];
		a->step = a->output = -1;
		old = defn_path_key(c, key);
		if (want_param(c, t, key) < 0)
			return -1;
		if ((a->name = defn_xstrdup(c, key)) == NULL)
			return -1;
		if (json_is_object(v) && json_object_get(v, "param") != NULL) {
			a->kind = ARG_LIT;
			rc = param_ref(c, v, &a->lit);
		} else if (json_is_object(v)) {
			/* Resolved to indices once every step id is known. */
			if ((rc = ref_object(c, v, &kind, &ref)) == 0) {
				a->kind = kind[0] == 'f' ? ARG_FROM : ARG_PATH;
				rc = (a->lit = defn_xstrdup(c, ref)) != NULL ? 0 : -1;
			}
		} else if ((rc = defn_literal(c, v, &a->lit)) > 0) {
			rc = defn_fail(c, "expected a string, number, boolean, %s, got %s",
				       REF_KINDS, defn_got(c, v));
		}
		if (rc < 0)
			return -1;
		defn_path_pop(c, old);
	}
	return 0;
}

static int
parse_foreach(struct ctx *c, struct defn_step *s, const struct defn_task *t, json_t *obj,
	      json_t *args)
{
	char q[QUOTE_BUF];
	const char *key;
	json_t *list, *v;
	size_t old, item, n, k;
	int i = 0;

	if (defn_want_object(c, obj, NULL) < 0)
		return -1;
	if (json_object_size(obj) == 0)
		return defn_fail(c, "expected at least one list");
	s->fe_names = defn_xcalloc(c, json_object_size(obj), sizeof(char *));
	s->fe_values = defn_xcalloc(c, json_object_size(obj), sizeof(char **));
	if (s->fe_names == NULL || s->fe_values == NULL)
		return -1;
	s->nfe = (int)json_object_size(obj);
	json_object_foreach(obj, key, list)
	{
		old = defn_path_key(c, key);
		if (want_param(c, t, key) < 0)
			return -1;
		if (args != NULL && json_object_get(args, key) != NULL)
			return defn_fail(c, "argument %s is given in both args and foreach",
					 defn_quote(q, key));
		if (!json_is_array(list) || json_array_size(list) == 0)
			return defn_fail(c, "expected a non-empty array, got %s",
					 defn_got(c, list));
		n = json_array_size(list);
		if (n > DEFN_MAX_TASKRUNS)
			return defn_fail(c, "%zu items; the limit is %d task runs", n,
					 DEFN_MAX_TASKRUNS);
		if (i > 0 && n != (size_t)s->ncopies)
			return defn_fail(c,
					 "%zu items, but %s has %d: the lists are zipped, so they "
					 "must have the same length",
					 n, defn_quote(q, s->fe_names[0]), s->ncopies);
		if ((s->fe_names[i] = defn_xstrdup(c, key)) == NULL ||
		    (s->fe_values[i] = defn_xcalloc(c, n + 1, sizeof(char *))) == NULL)
			return -1;
		json_array_foreach(list, k, v)
		{
			item = defn_path_index(c, k);
			if (defn_literal(c, v, &s->fe_values[i][k]) > 0)
				return defn_fail(c, "expected a string, number or boolean, got %s",
						 defn_got(c, v));
			if (s->fe_values[i][k] == NULL)
				return -1;
			defn_path_pop(c, item);
		}
		s->ncopies = (int)n;
		defn_path_pop(c, old);
		i++;
	}
	return 0;
}

static int
parse_step(struct ctx *c, int idx, json_t *obj)
{
	struct defn *d = c->d;
	struct defn_step *s = &d->steps[idx];
	const struct defn_task *t;
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	json_t *v, *ix, *args, *fe;
	const char *id, *p;
	size_t old;
	int i;

	if (defn_want_object(c, obj, step_fields) < 0)
		return -1;
	if ((v = defn_required(c, obj, "id", &old)) == NULL ||
	    defn_want(c, v, JSON_STRING, "a string") < 0)
		return -1;
	id = json_string_value(v);
	if (defn_check_id(c, id, "id") < 0)
		return -1;
	if (json_object_get(c->step_ix, id) != NULL)
		return defn_fail(c, "duplicate id %s", defn_quote(q, id));
	if ((s->id = defn_xstrdup(c, id)) == NULL)
		return -1;
	if (json_object_set_new(c->step_ix, id, json_integer(idx)) < 0)
		return defn_oom(c);
	defn_path_pop(c, old);

	if ((v = defn_required(c, obj, "task", &old)) == NULL ||
	    defn_want(c, v, JSON_STRING, "a string") < 0)
		return -1;
	if ((ix = json_object_get(c->task_ix, json_string_value(v))) == NULL)
		return defn_fail(c, "unknown task %s", defn_quote(q, json_string_value(v)));
	s->task = (int)json_integer_value(ix);
	t = &d->tasks[s->task];
	defn_path_pop(c, old);

	if ((args = json_object_get(obj, "args")) != NULL) {
		old = defn_path_key(c, "args");
		if (parse_args(c, s, t, args) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	s->keep_going = d->keep_going;
	if ((v = json_object_get(obj, "on_failure")) != NULL) {
		old = defn_path_key(c, "on_failure");
		if ((s->keep_going = defn_on_failure(c, v)) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((fe = json_object_get(obj, "foreach")) != NULL) {
		old = defn_path_key(c, "foreach");
		if (parse_foreach(c, s, t, fe, args) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	for (i = 0; i < t->nparams; i++) {
		p = t->params[i];
		if ((args == NULL || json_object_get(args, p) == NULL) &&
		    (fe == NULL || json_object_get(fe, p) == NULL))
			return defn_fail(c, "missing argument %s for task %s", defn_quote(q, p),
					 defn_quote(q2, t->name));
	}
	return 0;
}

/* "step" is that step's first output; else "step.output", where step ids
 * and output names may both hold dots: every split is tried, rightmost
 * first, and the first naming a step and one of its outputs wins. */
static int
resolve(struct ctx *c, const char *ref, int *step, int *output)
{
	struct defn *d = c->d;
	const struct defn_task *t;
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	const char *dot, *name = NULL;
	json_t *ix;
	int k, first = -1;

	if ((ix = json_object_get(c->step_ix, ref)) != NULL) {
		*step = (int)json_integer_value(ix);
		*output = 0;
		return 0;
	}
	for (dot = strrchr(ref, '.'); dot != NULL; dot = memrchr(ref, '.', (size_t)(dot - ref))) {
		if ((ix = json_object_getn(c->step_ix, ref, (size_t)(dot - ref))) == NULL)
			continue;
		*step = (int)json_integer_value(ix);
		t = &d->tasks[d->steps[*step].task];
		for (k = 0; k < t->noutputs; k++) {
			if (strcmp(t->outputs[k], dot + 1) == 0) {
				*output = k;
				return 0;
			}
		}
		if (first < 0) {
			first = *step;
			name = dot + 1;
		}
	}
	if (first >= 0)
		return defn_fail(c, "step %s has no output %s", defn_quote(q, d->steps[first].id),
				 defn_quote(q2, name));
	return defn_fail(c, "unknown step %s", defn_quote(q, ref));
}

int
defn_parse_steps(struct ctx *c, json_t *arr)
{
	struct defn *d = c->d;
	struct defn_arg *a;
	json_t *v;
	size_t i, old;
	int64_t runs = 0;
	int k;

	if (defn_want(c, arr, JSON_ARRAY, "an array") < 0)
		return -1;
	if (json_array_size(arr) == 0)
		return defn_fail(c, "expected at least one step");
	if (json_array_size(arr) > DEFN_MAX_TASKRUNS)
		return defn_fail(c, "%zu steps; the limit is %d task runs", json_array_size(arr),
				 DEFN_MAX_TASKRUNS);
	if ((d->steps = defn_xcalloc(c, json_array_size(arr), sizeof(*d->steps))) == NULL)
		return -1;
	d->nsteps = (int)json_array_size(arr);
	for (k = 0; k < d->nsteps; k++)
		d->steps[k].ncopies = -1;
	json_array_foreach(arr, i, v)
	{
		old = defn_path_index(c, i);
		if (parse_step(c, (int)i, v) < 0)
			return -1;
		defn_path_pop(c, old);
		runs += d->steps[i].ncopies < 0 ? 1 : d->steps[i].ncopies;
	}
	if (runs > DEFN_MAX_TASKRUNS)
		return defn_fail(c, "%lld task runs after fan-out; the limit is %d",
				 (long long)runs, DEFN_MAX_TASKRUNS);
	d->ntaskruns = (int)runs;
	old = c->plen;
	if (defn_check_copies(c) < 0)
		return -1;
	for (i = 0; i < (size_t)d->nsteps; i++) {
		for (k = 0; k < d->steps[i].nargs; k++) {
			a = &d->steps[i].args[k];
			if (a->kind == ARG_LIT)
				continue;
			defn_path_index(c, i);
			defn_path_key(c, "args");
			defn_path_key(c, a->name);
			if (resolve(c, a->lit, &a->step, &a->output) < 0)
				return -1;
			defn_path_pop(c, old);
			free(a->lit);
			a->lit = NULL;
		}
	}
	return defn_sort_steps(c);
}

int
defn_parse_results(struct ctx *c, json_t *arr)
{
	struct defn *d = c->d;
	struct defn_result *r;
	const char *key, *ref;
	json_t *v;
	size_t i, old;

	if (defn_want(c, arr, JSON_ARRAY, "an array") < 0)
		return -1;
	if ((d->results = defn_xcalloc(c, json_array_size(arr), sizeof(*d->results))) == NULL)
		return -1;
	d->nresults = (int)json_array_size(arr);
	json_array_foreach(arr, i, v)
	{
		r = &d->results[i];
		old = defn_path_index(c, i);
		if (defn_want(c, v, JSON_OBJECT, REF_KINDS) < 0 ||
		    ref_object(c, v, &key, &ref) < 0 || resolve(c, ref, &r->step, &r->output) < 0)
			return -1;
		r->by_path = key[0] == 'p';
		defn_path_pop(c, old);
	}
	return 0;
}
