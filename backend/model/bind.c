/* The binding of parameters (bind.h). */
#include <string.h>

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
