/*
 * A cache hit in the scheduler: a task with "cache" about to start is
 * looked up by its key (cache.c); on a hit it ends SUCCEEDED at once,
 * without a process or an attempt.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cache.h"
#include "layout.h"
#include "log.h"
#include "sched_int.h"
#include "util.h"

/*
 * A task with "cache": its key, kept for tasks/<t>/cache_key(.json); on a
 * hit the task run SUCCEEDED at once, without a process or an attempt,
 * with the outputs of the task run it came from (cache.c). 1 on a hit.
 */
int
cache_hit(struct sched *s, struct stask *t, const struct defn_task *task,
	  const struct defn_step *step, char *const *values)
{
	struct srun *r = t->run;
	char from[RUN_ID_MAX + TASK_ID_MAX + 16], msg[sizeof(from) + 16];
	json_t *made_of;
	int hit;

	if (cache_key(task, step, r->plan.tr_copy[t->rec.idx], values, t->cache_key, &made_of) <
	    0) {
		t->cache_key[0] = '\0';
		return 0;
	}
	hit = cache_take(s->datadir, s->datadir, t->cache_key, r->rec.id, task, t->rec.id, from,
			 sizeof(from));
	cache_note(s->datadir, hit ? "hit" : "miss", t->cache_key);
	cache_record(s->st, r->rec.seq, t->rec.idx, t->cache_key, made_of, hit ? from : NULL);
	json_decref(made_of);
	if (!hit)
		return 0;
	t->cached = 1;
	t->rec.attempts = 0;
	t->rec.has_exit = 1;
	t->rec.exit_code = 0;
	t->rec.started = t->rec.ended = now_ms();
	snprintf(msg, sizeof(msg), "cached: from %s", from);
	sched_set_message(&t->rec.message, msg);
	if (r->rec.state == ST_WAITING) {
		r->rec.state = ST_RUNNING;
		if (r->rec.started == 0)
			r->rec.started = now_ms();
		sched_run_update(s, r);
	}
	sched_task_succeeded(s, t);
	return 1;
}
