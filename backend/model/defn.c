/*
 * The definition parser: jansson reads the JSON, these files apply the
 * rules of DESIGN.md "Definition format (version 1)". It stops at the
 * first error, whose text starts with the JSON path of the bad field.
 *
 * This file holds the entry points, the top level and the helpers the
 * other parts share (defn_int.h); defn_task.c reads "tasks", defn_step.c
 * "steps" and "results", and defn_graph.c checks and orders the steps.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "defn_int.h"
#include "util.h"

static const char *const top_fields[] = {"version", "name",   "config",	    "tasks", "steps",
					 "results", "params", "on_failure", "cache", NULL};

static int
set_err(struct ctx *c, char *msg)
{
	if (c->err == NULL)
		c->err = msg != NULL ? msg : strdup("out of memory");
	else
		free(msg);
	return -1;
}

int
defn_fail(struct ctx *c, const char *fmt, ...)
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

int
defn_oom(struct ctx *c)
{
	return set_err(c, NULL);
}

/* Escaped so the text stays one printable line, cut after QUOTE_MAX bytes
 * (at a character boundary; jansson checked UTF-8). */
const char *
defn_quote(char *out, const char *s)
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
path_add(struct ctx *c, const char *before, const char *s, const char *after)
{
	size_t room = sizeof(c->path) - c->plen;
	int n;

	n = snprintf(c->path + c->plen, room, "%s%s%s", before, s, after);
	if (n > 0 && (size_t)n < room)
		c->plen += (size_t)n;
	else
		c->path[c->plen] = '\0';
}

/* Appends ".key", or ["key"] when the key would be unreadable after a dot;
 * returns the old length for defn_path_pop(). */
size_t
defn_path_key(struct ctx *c, const char *key)
{
	size_t old = c->plen;
	char q[QUOTE_BUF];

	if (plain_key(key))
		path_add(c, c->plen ? "." : "", key, "");
	else
		path_add(c, "[", defn_quote(q, key), "]");
	return old;
}

size_t
defn_path_index(struct ctx *c, size_t i)
{
	size_t old = c->plen;
	char num[24];

	snprintf(num, sizeof(num), "%zu", i);
	path_add(c, "[", num, "]");
	return old;
}

void
defn_path_pop(struct ctx *c, size_t old)
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

/* Numbers are written into c->scratch. */
const char *
defn_got(struct ctx *c, const json_t *v)
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

int
defn_want(struct ctx *c, const json_t *v, json_type type, const char *what)
{
	if (json_typeof(v) == type)
		return 0;
	return defn_fail(c, "expected %s, got %s", what, defn_got(c, v));
}

int
defn_check_fields(struct ctx *c, json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	int i;

	json_object_foreach(obj, key, v)
	{
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			defn_path_key(c, key);
			return defn_fail(c, "unknown field");
		}
	}
	return 0;
}

int
defn_want_object(struct ctx *c, json_t *obj, const char *const *known)
{
	if (defn_want(c, obj, JSON_OBJECT, "an object") < 0)
		return -1;
	return known != NULL ? defn_check_fields(c, obj, known) : 0;
}

json_t *
defn_required(struct ctx *c, json_t *obj, const char *key, size_t *old)
{
	json_t *v;

	*old = defn_path_key(c, key);
	if ((v = json_object_get(obj, key)) == NULL)
		defn_fail(c, "required field is missing");
	return v;
}

int
defn_check_id(struct ctx *c, const char *s, const char *what)
{
	char q[QUOTE_BUF];

	if (defn_valid_id(s))
		return 0;
	return defn_fail(c, "bad %s %s: %s", what, defn_quote(q, s), ID_RULE);
}

/* calloc that never returns NULL for zero elements, so NULL means ENOMEM. */
void *
defn_xcalloc(struct ctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		defn_oom(c);
	return p;
}

char *
defn_xstrdup(struct ctx *c, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		defn_oom(c);
	return p;
}

/* A literal: strings as written, numbers and booleans as their JSON text.
 * Returns 1 (and no error) when v is not a literal. */
int
defn_literal(struct ctx *c, const json_t *v, char **out)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		*out = defn_xstrdup(c, json_string_value(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		num_text(v, num, sizeof(num));
		*out = defn_xstrdup(c, num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		*out = defn_xstrdup(c, json_is_true(v) ? "true" : "false");
		break;
	default:
		return 1;
	}
	return *out != NULL ? 0 : -1;
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
		return defn_fail(c, "nested deeper than %d levels", DEFN_MAX_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
		{
			old = defn_path_key(c, key);
			if (check_depth(c, e, depth + 1) < 0)
				return -1;
			defn_path_pop(c, old);
		}
	} else {
		json_array_foreach(v, i, e)
		{
			old = defn_path_index(c, i);
			if (check_depth(c, e, depth + 1) < 0)
				return -1;
			defn_path_pop(c, old);
		}
	}
	return 0;
}

int
defn_bool(struct ctx *c, json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	return defn_fail(c, "expected true or false, got %s", defn_got(c, v));
}

int
defn_on_failure(struct ctx *c, json_t *v)
{
	if (json_is_string(v) && strcmp(json_string_value(v), "continue") == 0)
		return 1;
	if (json_is_string(v) && strcmp(json_string_value(v), "stop") == 0)
		return 0;
	return defn_fail(c, "expected \"stop\" or \"continue\", got %s", defn_got(c, v));
}

static int
parse_top(struct ctx *c, json_t *root)
{
	struct defn *d = c->d;
	char q[QUOTE_BUF];
	json_t *v;
	size_t old;

	if (defn_check_fields(c, root, top_fields) < 0)
		return -1;
	if ((v = json_object_get(root, "version")) != NULL) {
		old = defn_path_key(c, "version");
		if (!json_is_integer(v))
			return defn_fail(c, "expected 1, got %s", defn_got(c, v));
		if (json_integer_value(v) != 1)
			return defn_fail(c, "unsupported version %s; this runfs reads version 1",
					 defn_got(c, v));
		defn_path_pop(c, old);
	}
	if ((v = defn_required(c, root, "name", &old)) == NULL ||
	    defn_want(c, v, JSON_STRING, "a string") < 0)
		return -1;
	if (!name_ok(json_string_value(v)))
		return defn_fail(c, "bad name %s: use 1 to %d characters from a-z 0-9 _ -",
				 defn_quote(q, json_string_value(v)), DEFN_MAX_NAME);
	if ((d->name = defn_xstrdup(c, json_string_value(v))) == NULL)
		return -1;
	defn_path_pop(c, old);
	if ((v = json_object_get(root, "config")) != NULL) {
		old = defn_path_key(c, "config");
		if (defn_want(c, v, JSON_STRING, "a string") < 0 ||
		    defn_check_id(c, json_string_value(v), "configuration name") < 0)
			return -1;
		if ((d->config = defn_xstrdup(c, json_string_value(v))) == NULL)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(root, "params")) != NULL) {
		old = defn_path_key(c, "params");
		if (defn_parse_params(c, v) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(root, "on_failure")) != NULL) {
		old = defn_path_key(c, "on_failure");
		if ((d->keep_going = defn_on_failure(c, v)) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = json_object_get(root, "cache")) != NULL) {
		old = defn_path_key(c, "cache");
		if ((d->cache = defn_bool(c, v)) < 0)
			return -1;
		defn_path_pop(c, old);
	}
	if ((v = defn_required(c, root, "tasks", &old)) == NULL || defn_parse_tasks(c, v) < 0)
		return -1;
	defn_path_pop(c, old);
	if ((v = defn_required(c, root, "steps", &old)) == NULL || defn_parse_steps(c, v) < 0)
		return -1;
	defn_path_pop(c, old);
	if ((v = json_object_get(root, "results")) != NULL) {
		old = defn_path_key(c, "results");
		if (defn_parse_results(c, v) < 0)
			return -1;
		defn_path_pop(c, old);
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
defn_parse_json(const char *text, size_t len, struct defn **out, char **err)
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
		defn_oom(c);
		goto out;
	}
	if (defn_want_object(c, root, NULL) < 0 || check_depth(c, root, 1) < 0 ||
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
	for (i = 0; i < d->ntasks; i++)
		free(d->tasks[i].retry_delay);
	free_strv(d->param_names, d->nparams);
	free_strv(d->param_values, d->nparams);
	free(d->tasks);
	free(d->steps);
	free(d->results);
	free(d->order);
	free(d->name);
	free(d->config);
	free(d);
}
