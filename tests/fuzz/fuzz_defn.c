/*
 * libFuzzer target: the definition parser (defn_parse), everything a write
 * into submit reaches before anything is recorded. A parse that succeeds
 * also has its graph walked, as submit does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "defn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct defn *d = NULL;
	char *err = NULL;

	if (defn_parse((const char *)data, size, &d, &err) == 0 && d) {
		int *parents = calloc((size_t)d->nsteps + 1, sizeof(*parents));
		for (int i = 0; parents && i < d->nsteps; i++)
			defn_step_parents(d, i, parents);
		free(parents);
	}
	defn_free(d);
	free(err);
	return 0;
}
