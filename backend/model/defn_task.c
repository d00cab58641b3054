/*
 * The "tasks" object of a definition: each task's command, stdin, env,
 * resources, retries, timeout and outputs, and the placeholders its
 * command and stdin use.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "defn_int.h"

#define CPU_MAX	    1000000.0	       /* cores */
#define BYTES_MAX   ((int64_t)1 << 60) /* 1 EiB: far beyond any machine, far below overflow */
#define GPU_MAX	    1024
#define RETRIES_MAX 100
#define TIMEOUT_MAX 10000000 /* seconds: 115 days */

#define MEM_HINT "use bytes or a number with Ki, Mi, Gi, Ti, K, M, G or T, like \"256Mi\""
#define CPU_HINT "use a number of cores greater than 0, like 2, 0.5 or \"500m\""

static const char *const task_fields[] = {"command", "stdin",	"env",	   "resources",
					  "retries", "timeout", "outputs", "retry_delay",
					  "cache",   NULL};
static const char *const res_fields[] = {"cpu", "memory", "disk", "gpu", NULL};

/* "<digits>[.<digits>]" at s, without strtod: it follows the locale. */
static const char *
decimal(const char *s, double *out)
{
	uint64_t mant = 0;
	double scale = 1;
	int digits = 0, frac = 0;

	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !frac && digits > 0); s++) {
		if (*s == '.') {
			frac = 1;
			if (s[1] < '0' || s[1] > '9')
				return NULL;
			continue;
		}
		if (++digits > 18)
			return NULL;
		mant = mant * 10 + (uint64_t)(*s - '0');
		if (frac)
			scale *= 10;
	}
	if (digits == 0)
		return NULL;
	*out = (double)mant / scale;
	return s;
}

struct unit {
	const char *sfx;
	double mult, div; /* x * mult / div: exact for div 1 and for mult 1 */
};

static const struct unit cpu_units[] = {
    {"", 1, 1},
    {"m", 1, 1000},
};

static const struct unit byte_units[] = {
    {"", 1, 1},
    {"K", 1e3, 1},
    {"k", 1e3, 1},
    {"M", 1e6, 1},
    {"G", 1e9, 1},
    {"T", 1e12, 1},
    {"Ki", 1024.0, 1},
    {"Mi", 1048576.0, 1},
    {"Gi", 1073741824.0, 1},
    {"Ti", 1099511627776.0, 1},
};

#define NUNITS(u) (sizeof(u) / sizeof((u)[0]))

/* A number as it is, or a string "<decimal><suffix>" scaled by its unit:
 * sets *x, to -1 for a string of another form. Fails for other types,
 * naming like as an example of the string form. */
static int
quantity(struct ctx *c, const json_t *v, const struct unit *units, size_t nunits, const char *like,
	 double *x)
{
	const char *end;
	size_t i;

	*x = -1;
	if (json_is_number(v)) {
		*x = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return defn_fail(c, "expected a number or a string like \"%s\", got %s", like,
				 defn_got(c, v));
	if ((end = decimal(json_string_value(v), x)) == NULL) {
		*x = -1;
		return 0;
	}
	for (i = 0; i < nunits; i++)
		if (strcmp(end, units[i].sfx) == 0)
			break;
	*x = i < nunits ? *x * units[i].mult / units[i].div : -1;
	return 0;
}

static int
bad_quantity(struct ctx *c, const json_t *v, const char *what, const char *hint)
{
	char q[QUOTE_BUF];

	return defn_fail(c, "bad %s quantity %s: %s", what,
			 json_is_string(v) ? defn_quote(q, json_string_value(v)) : defn_got(c, v),
			 hint);
}

static int
parse_cpu(struct ctx *c, const json_t *v, int *milli)
{
	double cores;

	if (quantity(c, v, cpu_units, NUNITS(cpu_units), "500m", &cores) < 0)
		return -1;
	if (!(cores > 0) || cores > CPU_MAX)
		return bad_quantity(c, v, "CPU", CPU_HINT);
	*milli = (int)(cores * 1000 + 0.5);
	if (*milli < 1)
		*milli = 1;
	return 0;
}

static int
parse_bytes(struct ctx *c, const json_t *v, const char *what, int64_t *out)
{
	double x;

	if (quantity(c, v, byte_units, NUNITS(byte_units), "256Mi", &x) < 0)
		return -1;
	if (x < 0 || x > (double)BYTES_MAX)
		return bad_quantity(c, v, what, x < 0 ? MEM_HINT : "the limit is 1 EiB");
	*out = (int64_t)x;
	if ((double)*out < x) /* round a fraction of a byte up */
		(*out)++;
	return 0;
}

/* An integer from 0 to max; sets *out unless out is NULL. */
static int
int_upto(struct ctx *c, const json_t *v, int max, int *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return defn_fail(c, "expected an integer from 0 to %d, got %s", max,
				 defn_got(c, v));
	if (out != NULL)
		*out = (int)json_integer_value(v);
	return 0;
}

static int
parse_resources(struct ctx *c, struct defn_task *t, json_t *obj)
{
	json_t *v;
	size_t old;

	if (defn_want_object(c, obj, res_fields) < 0)
		return -1;
	if ((v = json_object_get(obj, "cpu")) != NULL) {
		old = defn_path_key(c, "cpu");
		if (parse_cpu(c, v, &t->cpu_milli) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "memory")) != NULL) {
		old = defn_path_key(c, "memory");
		if (parse_bytes(c, v, "memory", &t->memory_bytes) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "disk")) != NULL) {
		old = defn_path_key(c, "disk");
		if (parse_bytes(c, v, "disk", &t->disk_bytes) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "gpu")) != NULL) {
		old = defn_path_key(c, "gpu");
		if (int_upto(c, v, GPU_MAX, &t->gpus) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	return 0;
}

static int
env_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i > 0;
}

static int
parse_env(struct ctx *c, struct defn_task *t, json_t *obj)
{
	const char *key;
	json_t *v;
	size_t old;
	int i = 0;

	if (defn_want_object(c, obj, NULL) < 0)
		return -1;
	t->env_names = defn_xcalloc(c, json_object_size(obj), sizeof(char *));
	t->env_values = defn_xcalloc(c, json_object_size(obj), sizeof(char *));
	if (t->env_names == NULL || t->env_values == NULL)
		return -1;
	t->nenv = (int)json_object_size(obj);
	json_object_foreach(obj, key, v)
	{
		old = defn_path_key(c, key);
		if (!env_name_ok(key))
			return defn_fail(c, "bad variable name: use A-Z a-z 0-9 _, not starting "
					    "with a digit");
		if (strncmp(key, "RUNFS_", 6) == 0)
			return defn_fail(c, "names starting with RUNFS_ are reserved for runfs");
		if (defn_want(c, v, JSON_STRING, "a string") < 0)
			return -1;
		t->env_names[i] = defn_xstrdup(c, key);
		t->env_values[i] = defn_xstrdup(c, json_string_value(v));
		if (t->env_names[i] == NULL || t->env_values[i] == NULL)
			return -1;
		i++;
		defn_path_pop(c, old);
	}
	return 0;
}

/* Reads an array of strings into *out (NULL-terminated, *n entries). With
 * ids set, each must be a unique valid id. */
static int
string_array(struct ctx *c, json_t *arr, const char *what, int ids, char ***out, int *n)
{
	char q[QUOTE_BUF];
	json_t *v, *seen = NULL;
	size_t i, old;
	int rc = -1;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return defn_fail(c, "expected a non-empty array of %s, got %s", what,
				 defn_got(c, arr));
	if ((*out = defn_xcalloc(c, json_array_size(arr) + 1, sizeof(char *))) == NULL)
		return -1;
	*n = (int)json_array_size(arr);
	if (ids && (seen = json_object()) == NULL)
		return defn_oom(c);
	json_array_foreach(arr, i, v)
	{
		old = defn_path_index(c, i);
		if (defn_want(c, v, JSON_STRING, "a string") < 0)
			goto out;
		if (ids && defn_check_id(c, json_string_value(v), "output name") < 0)
			goto out;
		if (ids && json_object_get(seen, json_string_value(v)) != NULL) {
			defn_fail(c, "duplicate output %s", defn_quote(q, json_string_value(v)));
			goto out;
		}
		if (ids && json_object_set_new(seen, json_string_value(v), json_null()) < 0) {
			defn_oom(c);
			goto out;
		}
		if (((*out)[i] = defn_xstrdup(c, json_string_value(v))) == NULL)
			goto out;
		defn_path_pop(c, old);
	}
	rc = 0;
out:
	json_decref(seen);
	return rc;
}

struct names {
	char **v;
	size_t n, cap;
	int oom;
};

static void
add_name(const char *name, size_t len, void *arg)
{
	struct names *ns = arg;
	char **v;

	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 8;
		if ((v = realloc(ns->v, ns->cap * sizeof(char *))) == NULL) {
			ns->oom = 1;
			ns->cap = ns->n;
			return;
		}
		ns->v = v;
	}
	if ((ns->v[ns->n] = strndup(name, len)) == NULL)
		ns->oom = 1;
	else
		ns->n++;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
collect_params(struct ctx *c, struct defn_task *t)
{
	struct names ns = {0};
	size_t i, n = 0;
	int k;

	for (k = 0; k < t->argc; k++)
		tmpl_params(t->argv[k], add_name, &ns);
	if (t->stdin_tmpl != NULL)
		tmpl_params(t->stdin_tmpl, add_name, &ns);
	if (ns.n > 0)
		qsort(ns.v, ns.n, sizeof(char *), cmp_str);
	for (i = 0; i < ns.n; i++) {
		if (n > 0 && strcmp(ns.v[n - 1], ns.v[i]) == 0)
			free(ns.v[i]);
		else
			ns.v[n++] = ns.v[i];
	}
	t->params = ns.v;
	t->nparams = (int)n;
	return ns.oom ? defn_oom(c) : 0;
}

/* "retry_delay": seconds, or a list of them (the last repeats). */
static int
parse_retry_delay(struct ctx *c, struct defn_task *t, json_t *v)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1, i, old;

	if (json_is_array(v) && (n == 0 || n > RETRIES_MAX))
		return defn_fail(c, "expected 1 to %d delays, got %zu", RETRIES_MAX, n);
	if ((t->retry_delay = defn_xcalloc(c, n, sizeof(double))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		old = json_is_array(v) ? defn_path_index(c, i) : c->plen;
		if (!json_is_number(e) || json_number_value(e) < 0 ||
		    json_number_value(e) > TIMEOUT_MAX)
			return defn_fail(c,
					 "expected seconds from 0 to 10000000, or a list of them, "
					 "got %s",
					 defn_got(c, e));
		t->retry_delay[i] = json_number_value(e);
		t->nretry_delay++;
		defn_path_pop(c, old);
	}
	return 0;
}

static int
parse_task(struct ctx *c, struct defn_task *t, json_t *obj)
{
	json_t *v;
	size_t old;

	if (defn_want_object(c, obj, task_fields) < 0)
		return -1;
	if ((v = defn_required(c, obj, "command", &old)) == NULL ||
	    string_array(c, v, "strings", 0, &t->argv, &t->argc) < 0)
		return -1;
	defn_path_pop(c, old);
	if ((v = json_object_get(obj, "stdin")) != NULL) {
		old = defn_path_key(c, "stdin");
		if (defn_want(c, v, JSON_STRING, "a string") < 0 ||
		    (t->stdin_tmpl = defn_xstrdup(c, json_string_value(v))) == NULL)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "env")) != NULL) {
		old = defn_path_key(c, "env");
		if (parse_env(c, t, v) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	t->cpu_milli = 1000;
	if ((v = json_object_get(obj, "resources")) != NULL) {
		old = defn_path_key(c, "resources");
		if (parse_resources(c, t, v) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "retries")) != NULL) {
		old = defn_path_key(c, "retries");
		if (int_upto(c, v, RETRIES_MAX, &t->retries) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	t->cache = c->d->cache;
	if ((v = json_object_get(obj, "cache")) != NULL) {
		old = defn_path_key(c, "cache");
		if ((t->cache = defn_bool(c, v)) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "retry_delay")) != NULL) {
		old = defn_path_key(c, "retry_delay");
		if (parse_retry_delay(c, t, v) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(obj, "timeout")) != NULL) {
		old = defn_path_key(c, "timeout");
		if (!json_is_number(v) || !(json_number_value(v) > 0) ||
		    json_number_value(v) > TIMEOUT_MAX)
			return defn_fail(c,
					 "expected a number of seconds greater than 0 and at most "
					 "10000000, got %s",
					 defn_got(c, v));
		t->timeout = json_number_value(v);
		defn_path_pop(c, old);
	}
	old = defn_path_key(c, "outputs");
	if ((v = json_object_get(obj, "outputs")) != NULL) {
		if (string_array(c, v, "output names", 1, &t->outputs, &t->noutputs) < 0)
			return -1;
	} else {
		if ((t->outputs = defn_xcalloc(c, 2, sizeof(char *))) == NULL ||
		    (t->outputs[0] = defn_xstrdup(c, "stdout")) == NULL)
			return -1;
		t->noutputs = 1;
	}
	defn_path_pop(c, old);
	return collect_params(c, t);
}

int
defn_parse_tasks(struct ctx *c, json_t *obj)
{
	struct defn *d = c->d;
	const char *key;
	json_t *v;
	size_t old;
	int i = 0;

	if (defn_want_object(c, obj, NULL) < 0)
		return -1;
	if (json_object_size(obj) == 0)
		return defn_fail(c, "expected at least one task");
	if ((d->tasks = defn_xcalloc(c, json_object_size(obj), sizeof(*d->tasks))) == NULL)
		return -1;
	d->ntasks = (int)json_object_size(obj);
	json_object_foreach(obj, key, v)
	{
		old = defn_path_key(c, key);
		if (!defn_valid_id(key))
			return defn_fail(c, "bad task name: %s", ID_RULE);
		if ((d->tasks[i].name = defn_xstrdup(c, key)) == NULL)
			return -1;
		if (parse_task(c, &d->tasks[i], v) < 0)
			return -1;
		if (json_object_set_new(c->task_ix, key, json_integer(i)) < 0)
			return defn_oom(c);
		defn_path_pop(c, old);
		i++;
	}
	return 0;
}

int
defn_task_has_param(const struct defn_task *t, const char *name)
{
	if (t->nparams == 0)
		return 0;
	return bsearch(&name, t->params, (size_t)t->nparams, sizeof(char *), cmp_str) != NULL;
}
