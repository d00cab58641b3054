/* Ending a run that never started (runtime.h). */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "util.h"

/* A run that never started has nothing to signal. */
enum rerr
run_end_unstarted(struct store *st, struct run_rec *r)
{
	enum rerr e;

	r->state = ST_TERMINATED;
	r->prepared = 0;
	r->ended = now_ms();
	free(r->message);
	r->message = strdup("stopped on request before it started");
	e = store_run_update(st, r);
	if (e == RF_OK)
		e = store_flush(st);
	return e;
}
