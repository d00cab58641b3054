/* The binding of parameters (bind.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bind.h"

int
bind_param(const struct defn_step *st, int copy, const char *name, struct binding *out)
{
	*out = (struct binding){0};
	for (int j = 0; j < st->nfe; j++)
		if (strcmp(st->fe_names[j], name) == 0) {
			out->value = st->fe_values[j][copy];
			return 0;
		}
	for (int j = 0; j < st->nargs; j++)
		if (strcmp(st->args[j].name, name) == 0) {
			if (st->args[j].kind == ARG_LIT)
				out->value = st->args[j].lit;
			else
				out->ref = &st->args[j];
			return 0;
		}
	return -1;
}

int
bind_ref_piece(struct buf *v, int k, const char *data, size_t len)
{
	while (len > 0 && data[len - 1] == '\n')
		len--;
	if (k > 0 && buf_add(v, "\n", 1) < 0)
		return -1;
	return len > 0 ? buf_add(v, data, len) : 0;
}

int
bind_ref_file(struct buf *v, int k, const char *path, int by_path, size_t max)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (by_path)
		return bind_ref_piece(v, k, path, strlen(path));
	/* Files are made on first write: none means nothing was printed. */
	if (read_file(path, max, &data, &len) < 0 && errno != ENOENT)
		return -1;
	rc = bind_ref_piece(v, k, data ? data : "", len);
	free(data);
	if (rc < 0)
		errno = ENOMEM;
	return rc;
}

char *
bind_inputs_json(const struct defn_task *task, const char *const *values)
{
	json_t *o = json_object();
	char *s;

	for (int i = 0; o && i < task->nparams; i++)
		json_object_set_new(o, task->params[i],
				    values[i] ? json_bytes(values[i], strlen(values[i]))
					      : json_null());
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}
