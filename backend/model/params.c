/*
 * Parameters: a definition declares "params" with their defaults
 * (defn_parse_params reads them while parsing); a submission may wrap
 * it as {"definition": ..., "params": ...} to give other values. The
 * values used are written into the definition itself, so that
 * definition.json, the normalized form and every later reader see one
 * definition with no outside state.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "defn.h"
#include "defn_int.h"
#include "util.h"

static const char *const wrapper_fields[] = {"definition", "params"};

/* The declared names, for an error: "a, b", or "none". */
static char *
declared_names(json_t *declared)
{
	struct buf b = {0};
	const char *key;
	json_t *v;

	json_object_foreach(declared, key, v)
	{
		(void)v;
		buf_printf(&b, "%s%s", b.len ? ", " : "", key);
	}
	return b.len ? buf_steal(&b) : strdup("none");
}

static int
merge(json_t *def, json_t *given, char **err)
{
	json_t *declared = json_object_get(def, "params"), *v;
	const char *key;

	json_object_foreach(given, key, v)
	{
		if (json_object_get(declared, key) == NULL) {
			char *names = declared_names(declared);
			*err = errf("params.%s: unknown parameter \"%s\" (the definition declares: "
				    "%s)",
				    key, key, names ? names : "?");
			free(names);
			return -1;
		}
		if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v)) {
			*err = errf("params.%s: expected a string, number or boolean", key);
			return -1;
		}
		json_object_set(declared, key, v);
	}
	return 0;
}

int
defn_apply_params(const char *text, size_t len, char **out, char **err)
{
	json_t *root = json_loadb(text, len, 0, NULL), *def, *given;
	const char *key;
	json_t *v;
	int rc = -1;

	*out = NULL;
	*err = NULL;
	/* Not JSON, or not a wrapper: the definition is parsed as it is. */
	if (!json_is_object(root) || json_object_get(root, "definition") == NULL) {
		json_decref(root);
		return 0;
	}
	json_object_foreach(root, key, v)
	{
		(void)v;
		if (strcmp(key, wrapper_fields[0]) && strcmp(key, wrapper_fields[1])) {
			*err = errf("%s: unknown field of a submission (it takes \"definition\" "
				    "and \"params\")",
				    key);
			goto out;
		}
	}
	def = json_object_get(root, "definition");
	given = json_object_get(root, "params");
	if (!json_is_object(def)) {
		*err = errf("definition: expected an object");
		goto out;
	}
	if (given && !json_is_object(given)) {
		*err = errf("params: expected an object of name: value");
		goto out;
	}
	/* With no "params" declared, any name given is unknown. */
	if (given && merge(def, given, err) < 0)
		goto out;
	if ((*out = json_dumps(def, JSON_INDENT(2))) == NULL) {
		*err = errf("out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

char *
defn_params_json(const struct defn *d)
{
	json_t *o = json_object();
	char *text;

	for (int i = 0; i < d->nparams; i++)
		json_object_set_new(o, d->param_names[i], json_string(d->param_values[i]));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

/* "params": {"name": default, ...}, each a literal. */
int
defn_parse_params(struct ctx *c, json_t *obj)
{
	struct defn *d = c->d;
	const char *key;
	json_t *v;
	size_t old;

	if (defn_want_object(c, obj, NULL) < 0)
		return -1;
	d->param_names = defn_xcalloc(c, json_object_size(obj) + 1, sizeof(char *));
	d->param_values = defn_xcalloc(c, json_object_size(obj) + 1, sizeof(char *));
	if (d->param_names == NULL || d->param_values == NULL)
		return -1;
	json_object_foreach(obj, key, v)
	{
		int i = d->nparams, rc;
		old = defn_path_key(c, key);
		if (defn_check_id(c, key, "parameter name") < 0 ||
		    (d->param_names[i] = defn_xstrdup(c, key)) == NULL)
			return -1;
		d->nparams++;
		if ((rc = defn_literal(c, v, &d->param_values[i])) > 0)
			return defn_fail(c, "expected a string, number or boolean, got %s",
					 defn_got(c, v));
		if (rc < 0)
			return -1;
		defn_path_pop(c, old);
	}
	return 0;
}
