/*
 * What a failed attempt leads to: another attempt (at once, or after the
 * task's retry_delay, waiting in s->delayed), the task run FAILED and with
 * it the run (no new task run starts), or, in a step that goes on
 * (on_failure "continue"), the run going on while what needs the failed
 * task run ends TERMINATED "not run".
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "rollup.h"
#include "sched_int.h"
#include "util.h"

/* The next attempt of t waits out its task's retry_delay, if any: it
 * waits in s->delayed until then. */
static void
retry(struct sched *s, struct stask *t, const char *why)
{
	const struct defn_task *task = sched_task_def(t);
	double delay = 0;
	char msg[768], when[40];

	t->rec.state = ST_WAITING;
	if (task->nretry_delay > 0)
		delay = task->retry_delay[t->rec.attempts < task->nretry_delay
					      ? t->rec.attempts - 1
					      : task->nretry_delay - 1];
	if (delay <= 0) {
		snprintf(msg, sizeof(msg), "attempt %d of %d %s; retrying", t->rec.attempts,
			 t->rec.max_attempts, why);
		sched_set_message(&t->rec.message, msg);
		sched_ready_push(s, t);
		return;
	}
	iso8601(now_ms() + (int64_t)(delay * 1000), when, sizeof(when));
	snprintf(msg, sizeof(msg), "attempt %d of %d %s; next attempt at %s (retry_delay %g s)",
		 t->rec.attempts, t->rec.max_attempts, why, when, delay);
	sched_set_message(&t->rec.message, msg);
	t->not_before = mono_ms() + (int64_t)(delay * 1000);
	if (s->ndelayed == s->delayed_cap) {
		size_t cap = s->delayed_cap ? s->delayed_cap * 2 : 16;
		struct stask **d = realloc(s->delayed, cap * sizeof(*d));
		if (d == NULL) {
			log_warnx("out of memory delaying %s: it retries now", t->rec.id);
			sched_ready_push(s, t);
			return;
		}
		s->delayed = d;
		s->delayed_cap = cap;
	}
	s->delayed[s->ndelayed++] = t;
}

/* t failed for good in a step that goes on (or stays failed in a rerun):
 * what needs it will never run. Its WAITING dependants, and theirs, end
 * TERMINATED "not run: T failed". */
void
sched_skip_dependants(struct sched *s, struct stask *t)
{
	struct srun *r = t->run;
	int *stack = malloc(((size_t)r->ntasks + 1) * sizeof(int)), n = 0;
	char msg[TASK_ID_MAX + 32];

	if (stack == NULL)
		return;
	snprintf(msg, sizeof(msg), "not run: %s failed", t->rec.id);
	stack[n++] = t->rec.idx;
	while (n > 0) {
		int step = r->plan.tr_step[stack[--n]];
		for (int c = 0; c < r->plan.step_nchildren[step]; c++) {
			int cs = r->plan.step_children[step][c];
			for (int k = 0; k < r->plan.step_count[cs]; k++) {
				struct stask *ch = &r->t[r->plan.step_first[cs] + k];
				if (ch->rec.state != ST_WAITING)
					continue;
				ch->rec.state = ST_TERMINATED;
				sched_set_message(&ch->rec.message, msg);
				sched_task_update(s, ch);
				r->nskipped++;
				stack[n++] = ch->rec.idx;
			}
		}
	}
	free(stack);
}

void
sched_task_failed(struct sched *s, struct stask *t, const char *why)
{
	struct srun *r = t->run;
	char msg[768];
	int keep_going = r->d->steps[r->plan.tr_step[t->rec.idx]].keep_going;

	if (r->stopping) {
		t->rec.state = ST_TERMINATED;
		sched_set_message(&t->rec.message, ROLLUP_STOPPED);
	} else if (t->rec.attempts < t->rec.max_attempts && !r->failed) {
		retry(s, t, why);
	} else {
		t->rec.state = ST_FAILED;
		sched_set_message(&t->rec.message, why);
	}
	/* The task's change is recorded before the run's, so that events
	 * read in cause-then-effect order. */
	sched_task_update(s, t);
	if (t->rec.state == ST_FAILED && keep_going && !r->failed) {
		/* The run goes on; it says which failed first. */
		if (r->nfailed++ == 0) {
			rollup_failed_message(msg, sizeof(msg), t->rec.id, why);
			sched_set_message(&r->rec.message, msg);
			sched_run_update(s, r);
		}
		sched_skip_dependants(s, t);
	} else if (t->rec.state == ST_FAILED && !r->failed) {
		/* One failure fails the run at once; what runs may finish. */
		r->failed = 1;
		r->rec.state = rollup_state(&(struct rollup){.failed = 1});
		rollup_failed_message(msg, sizeof(msg), t->rec.id, why);
		sched_set_message(&r->rec.message, msg);
		sched_run_update(s, r);
	}
	sched_maybe_finish_run(s, r);
}
