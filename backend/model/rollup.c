/* The roll-up of task run states (rollup.h). */
#include <stdio.h>

#include "rollup.h"

int
rollup_state(const struct rollup *r)
{
	if (r->failed && !(r->keep_going && r->active))
		return ST_FAILED;
	if (r->active)
		return r->counts[ST_RUNNING] + r->counts[ST_SUCCEEDED] > 0 ? ST_RUNNING
									   : ST_WAITING;
	if (r->stopping)
		return ST_TERMINATED;
	if (r->counts[ST_SUCCEEDED] == r->ntasks)
		return ST_SUCCEEDED;
	if (r->counts[ST_UNKNOWN] > 0)
		return ST_UNKNOWN;
	return ST_FAILED;
}

void
rollup_failed_message(char *out, size_t n, const char *task_id, const char *why)
{
	snprintf(out, n, "task %s failed: %s", task_id, why);
}
