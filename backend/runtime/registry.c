/* The one table of runtimes (runtime.h). */
#include <string.h>

#include "runtime.h"

extern const struct runtime_ops inproc_ops, local_ops, slurm_ops;

const struct runtime_ops *const runtime_table[] = {&inproc_ops, &local_ops, &slurm_ops, NULL};

const struct runtime_ops *
runtime_named(const char *name)
{
	for (int i = 0; runtime_table[i]; i++) {
		const struct runtime_ops *o = runtime_table[i];
		if (strcmp(o->name, name) == 0)
			return o;
		for (int k = 0; o->aliases && o->aliases[k]; k++)
			if (strcmp(o->aliases[k], name) == 0)
				return o;
	}
	return NULL;
}

int
runtime_index(const struct runtime_ops *ops)
{
	for (int i = 0; runtime_table[i]; i++)
		if (runtime_table[i] == ops)
			return i;
	return -1;
}

const char *
runtime_canonical(const char *name)
{
	const struct runtime_ops *o = runtime_named(name);

	return o && o->builtin ? o->name : name;
}

int
runtime_builtin(const char *name)
{
	const struct runtime_ops *o = runtime_named(name);

	return o != NULL && o->builtin;
}

const char *
runtime_builtin_at(int i)
{
	for (int k = 0; runtime_table[k]; k++)
		if (runtime_table[k]->builtin && i-- == 0)
			return runtime_table[k]->name;
	return NULL;
}

const struct runtime_ops *
runtime_saved_default(void)
{
	for (int i = 0; runtime_table[i]; i++)
		if (!runtime_table[i]->builtin)
			return runtime_table[i];
	return NULL;
}
