/* The ctl verbs: which apply in which state, and who carries them out. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_int.h"
#include "log.h"
#include "util.h"

/* How long start or retry waits for the runtime to let go of a run that
 * has ended. */
#define RELAUNCH_WAIT_MS 2000

static const struct {
	const char *name;
	enum sched_verb verb;
} verbs[] = {
    {"start", VERB_START},
    {"stop", VERB_STOP},
    {"kill", VERB_KILL},
    {"retry", VERB_RETRY},
};

const char *
backend_verbs(const struct run_rec *r)
{
	int running = r->counts[ST_RUNNING] > 0;

	if (r->state == ST_WAITING && r->prepared)
		return "start stop kill";
	if (!state_completed(r->state))
		return "stop kill";
	if (r->state == ST_SUCCEEDED)
		return "rerun";
	/* A FAILED run may still have task runs finishing. */
	return running ? "stop kill" : "retry rerun";
}

static int
verb_allowed(const struct run_rec *r, const char *verb)
{
	const char *v = backend_verbs(r);
	size_t n = strlen(verb);

	for (const char *p = strstr(v, verb); p; p = strstr(p + 1, verb))
		if ((p == v || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The verbs let only an ended run get here, but the runtime keeps a run
 * until its end is committed (sched_save.c): the rest of a turn, or a
 * retry when the store was locked. A verb written right after the run
 * ended must not fail for that. */
static enum rerr
wait_released(struct runtime *rt, int64_t seq)
{
	for (int i = 0; rt->ops->executing(rt, seq); i++) {
		if (i == RELAUNCH_WAIT_MS / 10)
			return RF_BUSY;
		usleep(10000);
	}
	return RF_OK;
}

/* Records the run as waiting again before the runtime picks it up, so that
 * a status read right after the write already shows it is not over. */
static enum rerr
relaunch(struct backend *b, struct runtime *rt, struct run_rec *r)
{
	enum rerr e;

	if ((e = wait_released(rt, r->seq)) != RF_OK)
		return e;
	r->state = ST_WAITING;
	r->prepared = 0;
	r->ended = 0;
	free(r->message);
	r->message = strdup("");
	if ((e = store_run_update(b->st, r)) != RF_OK || (e = store_flush(b->st)) != RF_OK)
		return e;
	return rt->ops->launch(rt, r->seq);
}

enum rerr
backend_control(struct backend *b, const char *run_id, const char *verb, char **err)
{
	struct run_rec r = {0};
	struct runtime *rt;
	enum rerr e;
	int v = -1;

	*err = NULL;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i].name) == 0)
			v = (int)verbs[i].verb;
	if (v < 0) {
		*err = errf("unknown verb \"%s\" (verbs: start stop kill retry)", verb);
		return RF_INVAL;
	}
	pthread_mutex_lock(&b->control_mu);
	if ((e = store_run_get(b->st, run_id, &r)) != RF_OK)
		goto out;
	rt = runtime_for(b, r.config);
	if (!verb_allowed(&r, verb)) {
		*err = errf("%s does not apply to a %s run (accepted now: %s)", verb,
			    state_name(r.state), *backend_verbs(&r) ? backend_verbs(&r) : "none");
		e = RF_BUSY;
		goto out;
	}
	switch (v) {
	case VERB_START:
	case VERB_RETRY:
		e = relaunch(b, rt, &r);
		break;
	case VERB_STOP:
	case VERB_KILL:
		if (rt->ops->executing(rt, r.seq))
			e = rt->ops->signal(rt, r.seq, (enum sched_verb)v);
		else if (r.state == ST_WAITING && r.prepared)
			e = run_end_unstarted(b->st, &r);
		else
			e = RF_BUSY;
		break;
	}
	if (e == RF_BUSY && *err == NULL && rt->ops->busy_reason)
		*err = errf("run %s %s", run_id, rt->ops->busy_reason);
	else if (e == RF_BUSY && *err == NULL)
		*err = errf("run %s is not executed by this daemon", run_id);
	if (e == RF_OK)
		log_info("run %s: %s", run_id, verb);
out:
	pthread_mutex_unlock(&b->control_mu);
	run_rec_free(&r);
	return e;
}

/* Marks task run i and, after it in the task runs' order, everything that
 * depends on it. */
static void
mark_downstream(const struct plan *p, unsigned char *want, int i)
{
	want[i] = 1;
	for (int j = i; j < p->ntr; j++) {
		int st = p->tr_step[j];
		if (!want[j])
			continue;
		for (int c = 0; c < p->step_nchildren[st]; c++) {
			int cs = p->step_children[st][c];
			for (int k = 0; k < p->step_count[cs]; k++)
				want[p->step_first[cs] + k] = 1;
		}
	}
}

/* names: task run ids, or step ids (all their task runs). */
static enum rerr
choose(const struct defn *d, const struct plan *p, char *const *names, int n, unsigned char *want,
       char **err)
{
	char id[TASK_ID_MAX];

	for (int k = 0; k < n; k++) {
		int found = 0;
		for (int i = 0; i < p->ntr; i++) {
			plan_tr_id(d, p, i, id, sizeof(id));
			if (strcmp(id, names[k]) == 0 ||
			    strcmp(d->steps[p->tr_step[i]].id, names[k]) == 0) {
				mark_downstream(p, want, i);
				found = 1;
			}
		}
		if (!found) {
			*err = errf("no task run or step \"%s\" in this run", names[k]);
			return RF_INVAL;
		}
	}
	return RF_OK;
}

enum rerr
backend_rerun(struct backend *b, const char *run_id, char *const *names, int n, char **err)
{
	struct run_rec r = {0};
	struct defn *d = NULL;
	struct plan p = {0};
	unsigned char *want = NULL;
	struct runtime *rt;
	char *text = NULL;
	int normal, count = 0;
	enum rerr e;

	*err = NULL;
	if (n == 0) {
		*err = errf("rerun needs the task runs to run again: rerun T1 T2");
		return RF_INVAL;
	}
	pthread_mutex_lock(&b->control_mu);
	if ((e = store_run_get(b->st, run_id, &r)) != RF_OK)
		goto out;
	rt = runtime_for(b, r.config);
	if (!verb_allowed(&r, "rerun") || wait_released(rt, r.seq) != RF_OK) {
		*err = errf("rerun applies to an ended run; %s is %s", run_id, state_name(r.state));
		e = RF_BUSY;
		goto out;
	}
	if ((e = store_run_normal(b->st, r.seq, &text, &normal)) != RF_OK)
		goto out;
	e = RF_NOMEM;
	if (defn_load_run(text, normal, &d, err) < 0 || plan_build(d, &p) < 0 ||
	    (want = calloc((size_t)p.ntr + 1, 1)) == NULL)
		goto out;
	if ((e = choose(d, &p, names, n, want, err)) != RF_OK)
		goto out;
	/* Attempts number on: the earlier attempts' files stay readable. */
	for (int i = 0; i < p.ntr && e == RF_OK; i++) {
		struct task_rec t;
		if (!want[i] || (e = store_task_get(b->st, r.seq, i, &t)) != RF_OK)
			continue;
		t.state = ST_WAITING;
		t.has_exit = 0;
		t.started = t.ended = 0;
		/* Its retries afresh, as a new run's. */
		t.max_attempts = t.attempts + d->tasks[d->steps[p.tr_step[i]].task].retries + 1;
		free(t.message);
		t.message = strdup("to run again (rerun)");
		e = store_task_update(b->st, &t);
		task_rec_free(&t);
		count++;
	}
	if (e == RF_OK && (e = store_run_set_rerun(b->st, r.seq, 1)) == RF_OK &&
	    (e = relaunch(b, rt, &r)) != RF_OK)
		/* Not launched: a later retry must not take it for a rerun. */
		store_run_set_rerun(b->st, r.seq, 0);
	if (e == RF_OK)
		log_info("run %s: rerun of %d task runs", run_id, count);
out:
	pthread_mutex_unlock(&b->control_mu);
	free(want);
	free(text);
	plan_free(&p);
	defn_free(d);
	run_rec_free(&r);
	return e;
}
