/*
 * The definition parser: jansson reads the JSON, this file applies the
 * rules of DESIGN.md "Definition format (version 1)". It stops at the
 * first error, whose text starts with the JSON path of the bad field.
 *
 * Steps are read in two passes because an argument may refer to a step
 * defined after it: the first pass reads everything and keeps reference
 * texts in defn_arg.lit, the second resolves them to indices.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "util.h"

#define QUOTE_MAX   64			/* bytes of a user's string shown in an error */
#define QUOTE_BUF   (QUOTE_MAX * 4 + 8) /* every byte may become \xNN */
#define CPU_MAX	    1000000.0		/* cores */
#define BYTES_MAX   ((int64_t)1 << 60)	/* 1 EiB: far beyond any machine, far below overflow */
#define GPU_MAX	    1024
#define TIMEOUT_MAX 10000000 /* seconds: 115 days */

#define STR_(x) #x
#define STR(x)	STR_(x)

#define ID_RULE                                                                                    \
	"use 1 to " STR(DEFN_MAX_ID) " characters from A-Z a-z 0-9 _ . - (not \".\" or \"..\")"
#define REF_KINDS "{\"from\": \"step\"} or {\"path\": \"step\"}"
#define MEM_HINT  "use bytes or a number with Ki, Mi, Gi, Ti, K, M, G or T, like \"256Mi\""
#define CPU_HINT  "use a number of cores greater than 0, like 2, 0.5 or \"500m\""

struct ctx {
	struct defn *d;
	char *err;
	json_t *task_ix; /* task name -> index */
	json_t *step_ix; /* step id -> index */
	char scratch[64];
	size_t plen;
	char path[18432]; /* up to 65 components (check_depth) of <= 270 bytes */
};

static const char *const top_fields[] = {"version", "name",    "config", "tasks",
					 "steps",   "results", NULL};
static const char *const task_fields[] = {"command", "stdin",	"env",	   "resources",
					  "retries", "timeout", "outputs", NULL};
static const char *const res_fields[] = {"cpu", "memory", "disk", "gpu", NULL};
static const char *const step_fields[] = {"id", "task", "args", "foreach", NULL};
static const char *const ref_fields[] = {"from", "path", NULL};

static int
set_err(struct ctx *c, char *msg)
{
	if (c->err == NULL)
		c->err = msg != NULL ? msg : strdup("out of memory");
	else
		free(msg);
	return -1;
}

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return set_err(c, NULL);
	if (asprintf(&full, "%s: %s", c->plen ? c->path : "definition", msg) < 0)
		full = NULL;
	free(msg);
	return set_err(c, full);
}

static int
oom(struct ctx *c)
{
	return set_err(c, NULL);
}

/* Quotes s for an error text: escaped so the text stays one printable line,
 * cut after QUOTE_MAX bytes (at a character boundary; jansson checked UTF-8). */
static const char *
quote(char *out, const char *s)
{
	size_t n = strnlen(s, QUOTE_MAX), o = 0, i;
	int cut = s[n] != '\0';

	if (cut)
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o++] = '"';
	strcpy(out + o, cut ? "..." : "");
	return out;
}

static int
plain_key(const char *k)
{
	size_t n;

	for (n = 0; k[n] != '\0'; n++)
		if (!((k[n] >= 'a' && k[n] <= 'z') || (k[n] >= 'A' && k[n] <= 'Z') ||
		      (k[n] >= '0' && k[n] <= '9') || k[n] == '_' || k[n] == '-'))
			return 0;
	return n > 0 && n <= DEFN_MAX_ID;
}

static void
path_add(struct ctx *c, const char *fmt, const char *s, size_t i)
{
	size_t room = sizeof(c->path) - c->plen;
	int n;

	n = s != NULL ? snprintf(c->path + c->plen, room, fmt, s)
		      : snprintf(c->path + c->plen, room, fmt, i);
	if (n > 0 && (size_t)n < room)
		c->plen += (size_t)n;
	else
		c->path[c->plen] = '\0';
}

/* Appends ".key", or ["key"] when the key would be unreadable after a dot;
 * returns the old length for path_pop(). */
static size_t
path_key(struct ctx *c, const char *key)
{
	size_t old = c->plen;
	char q[QUOTE_BUF];

	if (plain_key(key))
		path_add(c, c->plen ? ".%s" : "%s", key, 0);
	else
		path_add(c, "[%s]", quote(q, key), 0);
	return old;
}

static size_t
path_index(struct ctx *c, size_t i)
{
	size_t old = c->plen;

	path_add(c, "[%zu]", NULL, i);
	return old;
}

static void
path_pop(struct ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* Numbers as JSON text. jansson keeps no source text, so reals are
 * written in the shortest form that reads back the same, and whole
 * reals without an exponent: 1e8 gives "100000000", 2.50 gives "2.5". */
static void
num_text(const json_t *v, char *buf, size_t sz)
{
	double x;
	int prec;

	if (json_is_integer(v)) {
		snprintf(buf, sz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	}
	x = json_real_value(v);
	if (x > -1e15 && x < 1e15 && x == (double)(int64_t)x) {
		snprintf(buf, sz, "%.0f", x);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sz, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
}

/* What a value is, for "expected X, got Y"; numbers show themselves. */
static const char *
got(struct ctx *c, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return json_object_size(v) ? "an object" : "an empty object";
	case JSON_ARRAY:
		return json_array_size(v) ? "an array" : "an empty array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		num_text(v, c->scratch, sizeof(c->scratch));
		return c->scratch;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

static int
want(struct ctx *c, const json_t *v, json_type type, const char *what)
{
	if (json_typeof(v) == type)
		return 0;
	return fail(c, "expected %s, got %s", what, got(c, v));
}

static int
check_fields(struct ctx *c, json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	int i;

	json_object_foreach(obj, key, v)
	{
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			path_key(c, key);
			return fail(c, "unknown field");
		}
	}
	return 0;
}

/* calloc that never returns NULL for zero elements, so NULL means ENOMEM. */
static void *
xcalloc(struct ctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		oom(c);
	return p;
}

static char *
xstrdup(struct ctx *c, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom(c);
	return p;
}

/* A literal: strings as written, numbers and booleans as their JSON text.
 * Returns 1 (and no error) when v is not a literal. */
static int
literal(struct ctx *c, const json_t *v, char **out)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		*out = xstrdup(c, json_string_value(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		num_text(v, num, sizeof(num));
		*out = xstrdup(c, num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		*out = xstrdup(c, json_is_true(v) ? "true" : "false");
		break;
	default:
		return 1;
	}
	return *out != NULL ? 0 : -1;
}

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

static int
parse_cpu(struct ctx *c, const json_t *v, int *milli)
{
	char q[QUOTE_BUF];
	const char *s, *end;
	double cores = -1;

	if (json_is_number(v)) {
		cores = json_number_value(v);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if ((end = decimal(s, &cores)) == NULL)
			cores = -1;
		else if (strcmp(end, "m") == 0)
			cores /= 1000;
		else if (*end != '\0')
			cores = -1;
	} else {
		return fail(c, "expected a number or a string like \"500m\", got %s", got(c, v));
	}
	if (!(cores > 0) || cores > CPU_MAX)
		return fail(c, "bad CPU quantity %s: %s",
			    json_is_string(v) ? quote(q, json_string_value(v)) : got(c, v),
			    CPU_HINT);
	*milli = (int)(cores * 1000 + 0.5);
	if (*milli < 1)
		*milli = 1;
	return 0;
}

static int
parse_bytes(struct ctx *c, const json_t *v, const char *what, int64_t *out)
{
	static const struct {
		const char *sfx;
		double mult;
	} sfx[] = {
	    {"", 1},
	    {"K", 1e3},
	    {"k", 1e3},
	    {"M", 1e6},
	    {"G", 1e9},
	    {"T", 1e12},
	    {"Ki", 1024.0},
	    {"Mi", 1048576.0},
	    {"Gi", 1073741824.0},
	    {"Ti", 1099511627776.0},
	};
	char q[QUOTE_BUF];
	const char *end;
	double x = -1;
	size_t i;

	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (json_is_string(v)) {
		if ((end = decimal(json_string_value(v), &x)) != NULL) {
			for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
				if (strcmp(end, sfx[i].sfx) == 0)
					break;
			x = i < sizeof(sfx) / sizeof(sfx[0]) ? x * sfx[i].mult : -1;
		}
	} else {
		return fail(c, "expected a number or a string like \"256Mi\", got %s", got(c, v));
	}
	if (x < 0 || x > (double)BYTES_MAX)
		return fail(c, "bad %s quantity %s: %s", what,
			    json_is_string(v) ? quote(q, json_string_value(v)) : got(c, v),
			    x < 0 ? MEM_HINT : "the limit is 1 EiB");
	*out = (int64_t)x;
	if ((double)*out < x) /* round a fraction of a byte up */
		(*out)++;
	return 0;
}

static int
parse_resources(struct ctx *c, struct defn_task *t, json_t *obj)
{
	json_t *v;
	int64_t ignored;
	size_t old;

	if (want(c, obj, JSON_OBJECT, "an object") < 0 || check_fields(c, obj, res_fields) < 0)
		return -1;
	if ((v = json_object_get(obj, "cpu")) != NULL) {
		old = path_key(c, "cpu");
		if (parse_cpu(c, v, &t->cpu_milli) < 0)
			return -1;
		path_pop(c, old);
	}
	if ((v = json_object_get(obj, "memory")) != NULL) {
		old = path_key(c, "memory");
		if (parse_bytes(c, v, "memory", &t->memory_bytes) < 0)
			return -1;
		path_pop(c, old);
	}
	/* disk and gpu are checked so a typo fails at submit, but no runtime
	 * enforces them yet: defn_task has no field for them. */
	if ((v = json_object_get(obj, "disk")) != NULL) {
		old = path_key(c, "disk");
		if (parse_bytes(c, v, "disk", &ignored) < 0)
			return -1;
		path_pop(c, old);
	}
	if ((v = json_object_get(obj, "gpu")) != NULL) {
		old = path_key(c, "gpu");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > GPU_MAX)
			return fail(c, "expected an integer from 0 to %d, got %s", GPU_MAX,
				    got(c, v));
		path_pop(c, old);
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

	if (want(c, obj, JSON_OBJECT, "an object") < 0)
		return -1;
	t->env_names = xcalloc(c, json_object_size(obj), sizeof(char *));
	t->env_values = xcalloc(c, json_object_size(obj), sizeof(char *));
	if (t->env_names == NULL || t->env_values == NULL)
		return -1;
	t->nenv = (int)json_object_size(obj);
	json_object_foreach(obj, key, v)
	{
		old = path_key(c, key);
		if (!env_name_ok(key))
			return fail(c, "bad variable name: use A-Z a-z 0-9 _, not starting "
				       "with a digit");
		if (strncmp(key, "RUNFS_", 6) == 0)
			return fail(c, "names starting with RUNFS_ are reserved for runfs");
		if (want(c, v, JSON_STRING, "a string") < 0)
			return -1;
		t->env_names[i] = xstrdup(c, key);
		t->env_values[i] = xstrdup(c, json_string_value(v));
		if (t->env_names[i] == NULL || t->env_values[i] == NULL)
			return -1;
		i++;
		path_pop(c, old);
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
		return fail(c, "expected a non-empty array of %s, got %s", what, got(c, arr));
	if ((*out = xcalloc(c, json_array_size(arr) + 1, sizeof(char *))) == NULL)
		return -1;
	*n = (int)json_array_size(arr);
	if (ids && (seen = json_object()) == NULL)
		return oom(c);
	json_array_foreach(arr, i, v)
	{
		old = path_index(c, i);
		if (want(c, v, JSON_STRING, "a string") < 0)
			goto out;
		if (ids && !defn_valid_id(json_string_value(v))) {
			fail(c, "bad output name %s: %s", quote(q, json_string_value(v)), ID_RULE);
			goto out;
		}
		if (ids && json_object_get(seen, json_string_value(v)) != NULL) {
			fail(c, "duplicate output %s", quote(q, json_string_value(v)));
			goto out;
		}
		if (ids && json_object_set_new(seen, json_string_value(v), json_null()) < 0) {
			oom(c);
			goto out;
		}
		if (((*out)[i] = xstrdup(c, json_string_value(v))) == NULL)
			goto out;
		path_pop(c, old);
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
	return ns.oom ? oom(c) : 0;
}

static int
parse_task(struct ctx *c, struct defn_task *t, json_t *obj)
{
	json_t *v;
	size_t old;

	if (want(c, obj, JSON_OBJECT, "an object") < 0 || check_fields(c, obj, task_fields) < 0)
		return -1;
	old = path_key(c, "command");
	if ((v = json_object_get(obj, "command")) == NULL)
		return fail(c, "required field is missing");
	if (string_array(c, v, "strings", 0, &t->argv, &t->argc) < 0)
		return -1;
	path_pop(c, old);
	if ((v = json_object_get(obj, "stdin")) != NULL) {
		old = path_key(c, "stdin");
		if (want(c, v, JSON_STRING, "a string") < 0 ||
		    (t->stdin_tmpl = xstrdup(c, json_string_value(v))) == NULL)
			return -1;
		path_pop(c, old);
	}
	if ((v = json_object_get(obj, "env")) != NULL) {
		old = path_key(c, "env");
		if (parse_env(c, t, v) < 0)
			return -1;
		path_pop(c, old);
	}
	t->cpu_milli = 1000;
	if ((v = json_object_get(obj, "resources")) != NULL) {
		old = path_key(c, "resources");
		if (parse_resources(c, t, v) < 0)
			return -1;
		path_pop(c, old);
	}
	if ((v = json_object_get(obj, "retries")) != NULL) {
		old = path_key(c, "retries");
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100)
			return fail(c, "expected an integer from 0 to 100, got %s", got(c, v));
		t->retries = (int)json_integer_value(v);
		path_pop(c, old);
	}
	if ((v = json_object_get(obj, "timeout")) != NULL) {
		old = path_key(c, "timeout");
		if (!json_is_number(v) || !(json_number_value(v) > 0) ||
		    json_number_value(v) > TIMEOUT_MAX)
			return fail(c,
				    "expected a number of seconds greater than 0 and at most "
				    "10000000, got %s",
				    got(c, v));
		t->timeout = json_number_value(v);
		path_pop(c, old);
	}
	old = path_key(c, "outputs");
	if ((v = json_object_get(obj, "outputs")) != NULL) {
		if (string_array(c, v, "output names", 1, &t->outputs, &t->noutputs) < 0)
			return -1;
	} else {
		if ((t->outputs = xcalloc(c, 2, sizeof(char *))) == NULL ||
		    (t->outputs[0] = xstrdup(c, "stdout")) == NULL)
			return -1;
		t->noutputs = 1;
	}
	path_pop(c, old);
	return collect_params(c, t);
}

static int
parse_tasks(struct ctx *c, json_t *obj)
{
	struct defn *d = c->d;
	const char *key;
	json_t *v;
	size_t old;
	int i = 0;

	if (want(c, obj, JSON_OBJECT, "an object") < 0)
		return -1;
	if (json_object_size(obj) == 0)
		return fail(c, "expected at least one task");
	if ((d->tasks = xcalloc(c, json_object_size(obj), sizeof(*d->tasks))) == NULL)
		return -1;
	d->ntasks = (int)json_object_size(obj);
	json_object_foreach(obj, key, v)
	{
		old = path_key(c, key);
		if (!defn_valid_id(key))
			return fail(c, "bad task name: %s", ID_RULE);
		if ((d->tasks[i].name = xstrdup(c, key)) == NULL)
			return -1;
		if (parse_task(c, &d->tasks[i], v) < 0)
			return -1;
		if (json_object_set_new(c->task_ix, key, json_integer(i)) < 0)
			return oom(c);
		path_pop(c, old);
		i++;
	}
	return 0;
}

static int
is_param(const struct defn_task *t, const char *name)
{
	if (t->nparams == 0)
		return 0;
	return bsearch(&name, t->params, (size_t)t->nparams, sizeof(char *), cmp_str) != NULL;
}

/* {"from": "ref"} or {"path": "ref"}: sets *key and *ref. */
static int
ref_object(struct ctx *c, json_t *obj, const char **key, const char **ref)
{
	json_t *v;
	size_t old;

	if (check_fields(c, obj, ref_fields) < 0)
		return -1;
	if (json_object_size(obj) != 1)
		return fail(c, "expected %s, got %s", REF_KINDS,
			    json_object_size(obj) ? "both" : "an empty object");
	*key = json_object_get(obj, "from") != NULL ? "from" : "path";
	v = json_object_get(obj, *key);
	old = path_key(c, *key);
	if (want(c, v, JSON_STRING, "a step id") < 0)
		return -1;
	path_pop(c, old);
	*ref = json_string_value(v);
	return 0;
}

static int
parse_args(struct ctx *c, struct defn_step *s, const struct defn_task *t, json_t *obj)
{
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	struct defn_arg *a;
	const char *key, *kind, *ref;
	json_t *v;
	size_t old;
	int rc;

	if (want(c, obj, JSON_OBJECT, "an object") < 0)
		return -1;
	if ((s->args = xcalloc(c, json_object_size(obj), sizeof(*s->args))) == NULL)
		return -1;
	json_object_foreach(obj, key, v)
	{
		a = &s->args[s->nargs++];
		a->step = a->output = -1;
		old = path_key(c, key);
		if (!is_param(t, key))
			return fail(c, "task %s has no argument %s", quote(q, t->name),
				    quote(q2, key));
		if ((a->name = xstrdup(c, key)) == NULL)
			return -1;
		if (json_is_object(v)) {
			/* Resolved to indices once every step id is known. */
			if ((rc = ref_object(c, v, &kind, &ref)) == 0) {
				a->kind = kind[0] == 'f' ? ARG_FROM : ARG_PATH;
				rc = (a->lit = xstrdup(c, ref)) != NULL ? 0 : -1;
			}
		} else if ((rc = literal(c, v, &a->lit)) > 0) {
			rc = fail(c, "expected a string, number, boolean, %s, got %s", REF_KINDS,
				  got(c, v));
		}
		if (rc < 0)
			return -1;
		path_pop(c, old);
	}
	return 0;
}

static int
parse_foreach(struct ctx *c, struct defn_step *s, const struct defn_task *t, json_t *obj,
	      json_t *args)
{
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	const char *key;
	json_t *list, *v;
	size_t old, item, n, k;
	int i = 0;

	if (want(c, obj, JSON_OBJECT, "an object") < 0)
		return -1;
	if (json_object_size(obj) == 0)
		return fail(c, "expected at least one list");
	s->fe_names = xcalloc(c, json_object_size(obj), sizeof(char *));
	s->fe_values = xcalloc(c, json_object_size(obj), sizeof(char **));
	if (s->fe_names == NULL || s->fe_values == NULL)
		return -1;
	s->nfe = (int)json_object_size(obj);
	json_object_foreach(obj, key, list)
	{
		old = path_key(c, key);
		if (!is_param(t, key))
			return fail(c, "task %s has no argument %s", quote(q, t->name),
				    quote(q2, key));
		if (args != NULL && json_object_get(args, key) != NULL)
			return fail(c, "argument %s is given in both args and foreach",
				    quote(q, key));
		if (!json_is_array(list) || json_array_size(list) == 0)
			return fail(c, "expected a non-empty array, got %s", got(c, list));
		n = json_array_size(list);
		if (n > DEFN_MAX_TASKRUNS)
			return fail(c, "%zu items; the limit is %d task runs", n,
				    DEFN_MAX_TASKRUNS);
		if (i > 0 && n != (size_t)s->ncopies)
			return fail(c,
				    "%zu items, but %s has %d: the lists are zipped, so they "
				    "must have the same length",
				    n, quote(q, s->fe_names[0]), s->ncopies);
		if ((s->fe_names[i] = xstrdup(c, key)) == NULL ||
		    (s->fe_values[i] = xcalloc(c, n + 1, sizeof(char *))) == NULL)
			return -1;
		json_array_foreach(list, k, v)
		{
			item = path_index(c, k);
			if (literal(c, v, &s->fe_values[i][k]) > 0)
				return fail(c, "expected a string, number or boolean, got %s",
					    got(c, v));
			if (s->fe_values[i][k] == NULL)
				return -1;
			path_pop(c, item);
		}
		s->ncopies = (int)n;
		path_pop(c, old);
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

	if (want(c, obj, JSON_OBJECT, "an object") < 0 || check_fields(c, obj, step_fields) < 0)
		return -1;
	old = path_key(c, "id");
	if ((v = json_object_get(obj, "id")) == NULL)
		return fail(c, "required field is missing");
	if (want(c, v, JSON_STRING, "a string") < 0)
		return -1;
	id = json_string_value(v);
	if (!defn_valid_id(id))
		return fail(c, "bad id %s: %s", quote(q, id), ID_RULE);
	if (json_object_get(c->step_ix, id) != NULL)
		return fail(c, "duplicate id %s", quote(q, id));
	if ((s->id = xstrdup(c, id)) == NULL)
		return -1;
	if (json_object_set_new(c->step_ix, id, json_integer(idx)) < 0)
		return oom(c);
	path_pop(c, old);

	old = path_key(c, "task");
	if ((v = json_object_get(obj, "task")) == NULL)
		return fail(c, "required field is missing");
	if (want(c, v, JSON_STRING, "a string") < 0)
		return -1;
	if ((ix = json_object_get(c->task_ix, json_string_value(v))) == NULL)
		return fail(c, "unknown task %s", quote(q, json_string_value(v)));
	s->task = (int)json_integer_value(ix);
	t = &d->tasks[s->task];
	path_pop(c, old);

	if ((args = json_object_get(obj, "args")) != NULL) {
		old = path_key(c, "args");
		if (parse_args(c, s, t, args) < 0)
			return -1;
		path_pop(c, old);
	}
	if ((fe = json_object_get(obj, "foreach")) != NULL) {
		old = path_key(c, "foreach");
		if (parse_foreach(c, s, t, fe, args) < 0)
			return -1;
		path_pop(c, old);
	}
	for (i = 0; i < t->nparams; i++) {
		p = t->params[i];
		if ((args == NULL || json_object_get(args, p) == NULL) &&
		    (fe == NULL || json_object_get(fe, p) == NULL))
			return fail(c, "missing argument %s for task %s", quote(q, p),
				    quote(q2, t->name));
	}
	return 0;
}

/* Copy k of foreach step "a" is task run "a.k": a plain step may not take
 * that id, or two task runs would share one directory. */
static int
check_copies(struct ctx *c)
{
	struct defn *d = c->d;
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	const char *id, *k;
	json_t *ix;
	int i, j;

	for (i = 0; i < d->nsteps; i++) {
		id = d->steps[i].id;
		if (d->steps[i].ncopies >= 0 || (k = strrchr(id, '.')) == NULL)
			continue;
		k++;
		if (*k == '\0' || strspn(k, "0123456789") != strlen(k) || strlen(k) > 6 ||
		    (k[0] == '0' && k[1] != '\0'))
			continue;
		ix = json_object_getn(c->step_ix, id, (size_t)(k - 1 - id));
		if (ix == NULL)
			continue;
		j = (int)json_integer_value(ix);
		if (atoi(k) >= d->steps[j].ncopies)
			continue;
		if (i > j) {
			path_index(c, (size_t)i);
			path_key(c, "id");
			return fail(
			    c, "duplicate id %s: foreach step %s makes a task run with that id",
			    quote(q, id), quote(q2, d->steps[j].id));
		}
		path_index(c, (size_t)j);
		path_key(c, "foreach");
		return fail(c, "duplicate id %s: copy %d of this step has the id of steps[%d]",
			    quote(q, id), atoi(k), i);
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
		return fail(c, "step %s has no output %s", quote(q, d->steps[first].id),
			    quote(q2, name));
	return fail(c, "unknown step %s", quote(q, ref));
}

enum { WHITE, GRAY, BLACK };

struct frame {
	int step;
	int next; /* the next argument to follow */
};

static int
cycle_error(struct ctx *c, const struct frame *stack, int top, int p)
{
	struct defn *d = c->d;
	struct buf b = {0};
	int pos, i, rc;

	for (pos = top - 1; stack[pos].step != p; pos--)
		;
	/* Each frame takes from the one above it; print the cycle the way
	 * data flows, as graph.dot draws edges. */
	rc = buf_adds(&b, d->steps[p].id);
	for (i = top - 1; i > pos && rc == 0; i--) {
		if (top - 1 - i == 16) {
			rc = buf_adds(&b, " -> ...");
			break;
		}
		rc = buf_printf(&b, " -> %s", d->steps[stack[i].step].id);
	}
	if (rc < 0 || buf_printf(&b, " -> %s", d->steps[p].id) < 0) {
		buf_free(&b);
		return oom(c);
	}
	path_index(c, (size_t)p);
	fail(c, "cycle: %s", b.p);
	buf_free(&b);
	return -1;
}

/* Depth-first, parents before children, roots in definition order: a
 * definition already in topological order keeps its order. Iterative,
 * since a chain may be DEFN_MAX_TASKRUNS steps long. */
static int
sort_steps(struct ctx *c)
{
	struct defn *d = c->d;
	struct frame *stack, *f;
	const struct defn_arg *a;
	char *color;
	int i, top, n = 0, rc = -1;

	d->order = xcalloc(c, (size_t)d->nsteps, sizeof(int));
	stack = xcalloc(c, (size_t)d->nsteps, sizeof(*stack));
	color = xcalloc(c, (size_t)d->nsteps, 1);
	if (d->order == NULL || stack == NULL || color == NULL)
		goto out;
	for (i = 0; i < d->nsteps; i++) {
		if (color[i] != WHITE)
			continue;
		color[i] = GRAY;
		stack[0] = (struct frame){i, 0};
		top = 1;
		while (top > 0) {
			f = &stack[top - 1];
			if (f->next == d->steps[f->step].nargs) {
				color[f->step] = BLACK;
				d->order[n++] = f->step;
				top--;
				continue;
			}
			a = &d->steps[f->step].args[f->next++];
			if (a->kind == ARG_LIT || color[a->step] == BLACK)
				continue;
			if (color[a->step] == GRAY) {
				cycle_error(c, stack, top, a->step);
				goto out;
			}
			color[a->step] = GRAY;
			stack[top++] = (struct frame){a->step, 0};
		}
	}
	rc = 0;
out:
	free(stack);
	free(color);
	return rc;
}

static int
parse_steps(struct ctx *c, json_t *arr)
{
	struct defn *d = c->d;
	struct defn_arg *a;
	json_t *v;
	size_t i, old;
	int64_t runs = 0;
	int k;

	if (want(c, arr, JSON_ARRAY, "an array") < 0)
		return -1;
	if (json_array_size(arr) == 0)
		return fail(c, "expected at least one step");
	if (json_array_size(arr) > DEFN_MAX_TASKRUNS)
		return fail(c, "%zu steps; the limit is %d task runs", json_array_size(arr),
			    DEFN_MAX_TASKRUNS);
	if ((d->steps = xcalloc(c, json_array_size(arr), sizeof(*d->steps))) == NULL)
		return -1;
	d->nsteps = (int)json_array_size(arr);
	for (k = 0; k < d->nsteps; k++)
		d->steps[k].ncopies = -1;
	json_array_foreach(arr, i, v)
	{
		old = path_index(c, i);
		if (parse_step(c, (int)i, v) < 0)
			return -1;
		path_pop(c, old);
		runs += d->steps[i].ncopies < 0 ? 1 : d->steps[i].ncopies;
	}
	if (runs > DEFN_MAX_TASKRUNS)
		return fail(c, "%lld task runs after fan-out; the limit is %d", (long long)runs,
			    DEFN_MAX_TASKRUNS);
	d->ntaskruns = (int)runs;
	old = c->plen;
	if (check_copies(c) < 0)
		return -1;
	for (i = 0; i < (size_t)d->nsteps; i++) {
		for (k = 0; k < d->steps[i].nargs; k++) {
			a = &d->steps[i].args[k];
			if (a->kind == ARG_LIT)
				continue;
			path_index(c, i);
			path_key(c, "args");
			path_key(c, a->name);
			if (resolve(c, a->lit, &a->step, &a->output) < 0)
				return -1;
			path_pop(c, old);
			free(a->lit);
			a->lit = NULL;
		}
	}
	return sort_steps(c);
}

static int
parse_results(struct ctx *c, json_t *arr)
{
	struct defn *d = c->d;
	struct defn_result *r;
	const char *key, *ref;
	json_t *v;
	size_t i, old;

	if (want(c, arr, JSON_ARRAY, "an array") < 0)
		return -1;
	if ((d->results = xcalloc(c, json_array_size(arr), sizeof(*d->results))) == NULL)
		return -1;
	d->nresults = (int)json_array_size(arr);
	json_array_foreach(arr, i, v)
	{
		r = &d->results[i];
		old = path_index(c, i);
		if (want(c, v, JSON_OBJECT, REF_KINDS) < 0 || ref_object(c, v, &key, &ref) < 0 ||
		    resolve(c, ref, &r->step, &r->output) < 0)
			return -1;
		r->by_path = key[0] == 'p';
		path_pop(c, old);
	}
	return 0;
}

static int
name_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
		      s[n] == '-'))
			return 0;
	return n > 0 && n <= DEFN_MAX_NAME;
}

/* Every nesting level is checked here, before the rules, so code that
 * walks the definition later (the fs, the store) never meets a deep one. */
static int
check_depth(struct ctx *c, json_t *v, int depth)
{
	const char *key;
	json_t *e;
	size_t i, old;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > DEFN_MAX_DEPTH)
		return fail(c, "nested deeper than %d levels", DEFN_MAX_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
		{
			old = path_key(c, key);
			if (check_depth(c, e, depth + 1) < 0)
				return -1;
			path_pop(c, old);
		}
	} else {
		json_array_foreach(v, i, e)
		{
			old = path_index(c, i);
			if (check_depth(c, e, depth + 1) < 0)
				return -1;
			path_pop(c, old);
		}
	}
	return 0;
}

static int
parse_top(struct ctx *c, json_t *root)
{
	struct defn *d = c->d;
	char q[QUOTE_BUF];
	json_t *v;
	size_t old;

	if (check_fields(c, root, top_fields) < 0)
		return -1;
	if ((v = json_object_get(root, "version")) != NULL) {
		old = path_key(c, "version");
		if (!json_is_integer(v))
			return fail(c, "expected 1, got %s", got(c, v));
		if (json_integer_value(v) != 1)
			return fail(c, "unsupported version %s; this runfs reads version 1",
				    got(c, v));
		path_pop(c, old);
	}
	old = path_key(c, "name");
	if ((v = json_object_get(root, "name")) == NULL)
		return fail(c, "required field is missing");
	if (want(c, v, JSON_STRING, "a string") < 0)
		return -1;
	if (!name_ok(json_string_value(v)))
		return fail(c, "bad name %s: use 1 to %d characters from a-z 0-9 _ -",
			    quote(q, json_string_value(v)), DEFN_MAX_NAME);
	if ((d->name = xstrdup(c, json_string_value(v))) == NULL)
		return -1;
	path_pop(c, old);
	if ((v = json_object_get(root, "config")) != NULL) {
		old = path_key(c, "config");
		if (want(c, v, JSON_STRING, "a string") < 0)
			return -1;
		if (!defn_valid_id(json_string_value(v)))
			return fail(c, "bad configuration name %s: %s",
				    quote(q, json_string_value(v)), ID_RULE);
		if ((d->config = xstrdup(c, json_string_value(v))) == NULL)
			return -1;
		path_pop(c, old);
	}
	old = path_key(c, "tasks");
	if ((v = json_object_get(root, "tasks")) == NULL)
		return fail(c, "required field is missing");
	if (parse_tasks(c, v) < 0)
		return -1;
	path_pop(c, old);
	old = path_key(c, "steps");
	if ((v = json_object_get(root, "steps")) == NULL)
		return fail(c, "required field is missing");
	if (parse_steps(c, v) < 0)
		return -1;
	path_pop(c, old);
	if ((v = json_object_get(root, "results")) != NULL) {
		old = path_key(c, "results");
		if (parse_results(c, v) < 0)
			return -1;
		path_pop(c, old);
	}
	return 0;
}

/* jansson's text quotes the input near the error; keep the message one line. */
static char *
syntax_error(const json_error_t *e)
{
	char *msg;
	size_t i;

	if (e->line > 0) {
		if (asprintf(&msg, "line %d, column %d: %s", e->line, e->column, e->text) < 0)
			return NULL;
	} else if ((msg = strdup(e->text)) == NULL) {
		return NULL;
	}
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	return msg;
}

int
defn_parse(const char *text, size_t len, struct defn **out, char **err)
{
	struct ctx *c;
	json_error_t jerr;
	json_t *root = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	*err = NULL;
	if (len > DEFN_MAX_BYTES) {
		if (asprintf(err, "definition is %zu bytes; the limit is %d", len, DEFN_MAX_BYTES) <
		    0)
			*err = NULL;
		return -1;
	}
	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
			break;
	if (i == len) {
		*err = strdup("definition is empty");
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*err = strdup("out of memory");
		return -1;
	}
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		set_err(c, syntax_error(&jerr));
		goto out;
	}
	c->d = calloc(1, sizeof(*c->d));
	c->task_ix = json_object();
	c->step_ix = json_object();
	if (c->d == NULL || c->task_ix == NULL || c->step_ix == NULL) {
		oom(c);
		goto out;
	}
	if (want(c, root, JSON_OBJECT, "an object") < 0 || check_depth(c, root, 1) < 0 ||
	    parse_top(c, root) < 0)
		goto out;
	*out = c->d;
	c->d = NULL;
	rc = 0;
out:
	if (rc < 0)
		*err = c->err;
	json_decref(c->step_ix);
	json_decref(c->task_ix);
	json_decref(root);
	defn_free(c->d);
	free(c);
	return rc;
}

static void
free_strv(char **v, int n)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
defn_free(struct defn *d)
{
	struct defn_task *t;
	struct defn_step *s;
	int i, j, k;

	if (d == NULL)
		return;
	for (i = 0; i < d->ntasks; i++) {
		t = &d->tasks[i];
		free(t->name);
		free_strv(t->argv, t->argc);
		free(t->stdin_tmpl);
		free_strv(t->env_names, t->nenv);
		free_strv(t->env_values, t->nenv);
		free_strv(t->outputs, t->noutputs);
		free_strv(t->params, t->nparams);
	}
	for (i = 0; i < d->nsteps; i++) {
		s = &d->steps[i];
		free(s->id);
		for (j = 0; j < s->nargs; j++) {
			free(s->args[j].name);
			free(s->args[j].lit);
		}
		free(s->args);
		for (j = 0; j < s->nfe; j++) {
			free(s->fe_names[j]);
			/* NULL-terminated: a list cut short by an error has fewer
			 * than ncopies items. */
			for (k = 0; s->fe_values != NULL && s->fe_values[j] != NULL &&
				    s->fe_values[j][k] != NULL;
			     k++)
				free(s->fe_values[j][k]);
			if (s->fe_values != NULL)
				free(s->fe_values[j]);
		}
		free(s->fe_names);
		free(s->fe_values);
	}
	free(d->tasks);
	free(d->steps);
	free(d->results);
	free(d->order);
	free(d->name);
	free(d->config);
	free(d);
}

int
defn_step_parents(const struct defn *d, int step, int *parents)
{
	const struct defn_step *s = &d->steps[step];
	int i, j, n = 0;

	for (i = 0; i < s->nargs; i++) {
		if (s->args[i].kind == ARG_LIT)
			continue;
		for (j = 0; j < n && parents[j] != s->args[i].step; j++)
			;
		if (j == n)
			parents[n++] = s->args[i].step;
	}
	return n;
}
