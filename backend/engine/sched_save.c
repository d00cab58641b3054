/*
 * Recording the scheduler's state changes, and keeping them until they are.
 *
 * The scheduler's memory is the truth about the runs it executes; the store
 * is what everyone else reads. Writes are batched: a run's change is
 * committed at the end of the turn that made it, a task run's may wait
 * BATCH_MS (sched_int.h) for others to share its commit (committed a turn at a time, a
 * layered graph wrote 15 WAL pages for each of its tasks). In this process
 * the change shows at once all the same: its readers share the connection
 * and its feed runs on the write. A failure (the store locked by another
 * process past the busy timeout, a full disk) can take a whole batch with
 * it. Nothing is lost for that: every task run, run and attempt written
 * since the last good commit stays listed here, and until a commit succeeds
 * the list is written again every RETRY_MS. Ended runs are freed only then,
 * since the list points into them. During an outage the scheduler writes
 * nothing between retries, so a locked store costs one busy timeout per
 * retry, not one per change.
 *
 * What an outage can cost is detail, never an outcome: a state the store
 * missed entirely (RUNNING, then SUCCEEDED before the store came back) is
 * recorded as its last value, with the time of the retry on its event.
 *
 * Nor can a crash cost an outcome that something was built on: a task run
 * starts only once the successes of its parents are committed
 * (sched_saved_for). Were a parent's success lost to a kill -9 after its
 * child had taken its output, retry would run the parent again, and the
 * run's results would mix the outputs of two runs of it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sched_int.h"
#include "util.h"

#define RETRY_MS 500

struct unsaved {
	struct srun *r;
	struct stask *t;       /* NULL: the run itself */
	struct attempt_rec *a; /* a copy; t is NULL then too */
	int64_t run_seq;
	int idx;
};

static void
attempt_free(struct attempt_rec *a)
{
	if (a == NULL)
		return;
	free(a->message);
	free(a->usage);
	free(a);
}

static int
push(struct sched *s, struct unsaved u)
{
	if (s->nunsaved == s->unsaved_cap) {
		size_t cap = s->unsaved_cap ? 2 * s->unsaved_cap : 256;
		struct unsaved *v = realloc(s->unsaved, cap * sizeof(*v));
		if (v == NULL) {
			log_warnx("out of memory: a state change may not be recorded");
			return -1;
		}
		s->unsaved = v;
		s->unsaved_cap = cap;
	}
	s->unsaved[s->nunsaved++] = u;
	return 0;
}

/* Writes one listed change; a failure starts (or continues) an outage. */
static void
write_one(struct sched *s, const struct unsaved *u)
{
	enum rerr e;

	if (u->a)
		e = store_attempt_put(s->st, u->run_seq, u->idx, u->a);
	else if (u->t)
		e = store_task_update(s->st, &u->t->rec);
	else
		e = store_run_update(s->st, &u->r->rec);
	if (e != RF_OK) {
		s->save_failed = 1;
		s->save_err = e;
	}
}

/* Lists a change and writes it, unless an outage holds writes back. */
static void
record(struct sched *s, struct unsaved u, int *listed)
{
	if (s->nunsaved == 0)
		s->save_due = mono_ms() + s->batch_ms;
	if (*listed == 0 && push(s, u) == 0)
		*listed = 1;
	if (!s->save_failed)
		write_one(s, &u);
}

void
sched_task_update(struct sched *s, struct stask *t)
{
	record(s, (struct unsaved){.r = t->run, .t = t}, &t->unsaved);
}

void
sched_run_update(struct sched *s, struct srun *r)
{
	s->save_now = 1;
	record(s, (struct unsaved){.r = r}, &r->unsaved);
}

void
sched_attempt_put(struct sched *s, struct stask *t, const struct attempt_rec *a)
{
	struct attempt_rec *c = malloc(sizeof(*c));
	int listed = 0;
	struct unsaved u = {.a = c, .run_seq = t->run->rec.seq, .idx = t->rec.idx};

	if (c == NULL || (*c = *a, c->message = strdup(a->message ? a->message : "")) == NULL ||
	    (a->usage && (c->usage = strdup(a->usage)) == NULL)) {
		if (c)
			free(c->message);
		free(c);
		/* Unlisted (out of memory), it is at least written. */
		u.a = (struct attempt_rec *)a;
		listed = 1;
		record(s, u, &listed);
		return;
	}
	record(s, u, &listed);
	if (!listed)
		attempt_free(c);
}

/* mu is taken here: sched_count and executing_locked read s->ended. */
static void
free_ended(struct sched *s)
{
	struct srun *r;

	pthread_mutex_lock(&s->mu);
	r = s->ended;
	s->ended = NULL;
	pthread_mutex_unlock(&s->mu);
	while (r) {
		struct srun *next = r->next;
		sched_run_free(r);
		r = next;
	}
}

static void
forget_all(struct sched *s)
{
	for (size_t i = 0; i < s->nunsaved; i++) {
		struct unsaved *u = &s->unsaved[i];
		if (u->a)
			attempt_free(u->a);
		else if (u->t)
			u->t->unsaved = 0;
		else
			u->r->unsaved = 0;
	}
	s->nunsaved = 0;
}

int
sched_save(struct sched *s)
{
	int64_t now = mono_ms();

	if (s->save_failed) {
		if (now < s->retry_at)
			return (int)(s->retry_at - now);
		s->save_failed = 0;
		s->save_now = 1;
		/* Stop at the first failure: each can wait a busy timeout. */
		for (size_t i = 0; i < s->nunsaved && !s->save_failed; i++)
			write_one(s, &s->unsaved[i]);
	}
	if (!s->save_failed && !s->save_now && s->nunsaved && now < s->save_due)
		return (int)(s->save_due - now);
	s->save_now = 0;
	if (!s->save_failed && (s->save_err = store_flush(s->st)) != RF_OK)
		s->save_failed = 1;
	if (!s->save_failed) {
		s->commits++;
		if (s->outage) {
			log_info("store: writable again; %zu held changes recorded", s->nunsaved);
			s->outage = 0;
		}
		forget_all(s);
		free_ended(s);
		return -1;
	}
	/* A batch that was partly written is rolled back whole, and written
	 * whole again at the next retry. */
	store_discard(s->st);
	if (!s->outage) {
		log_warnx("store: state changes not recorded (%s); %zu kept in memory, "
			  "retrying every %d ms",
			  rerr_str(s->save_err), s->nunsaved, RETRY_MS);
		s->outage = 1;
	}
	s->retry_at = now + RETRY_MS;
	return RETRY_MS;
}

/* 1 when t may start: the successes that made it ready are committed, now
 * if need be. 0 during an outage: it waits for the store to come back. */
int
sched_saved_for(struct sched *s, const struct stask *t)
{
	if (t->start_after <= s->commits)
		return 1;
	s->save_now = 1;
	sched_save(s);
	return t->start_after <= s->commits;
}

/* The daemon is ending: a last chance, bounded, for what is still held. */
void
sched_save_final(struct sched *s, int64_t budget_ms)
{
	int64_t until = mono_ms() + budget_ms;

	s->retry_at = 0;
	while (sched_save(s) >= 0 && mono_ms() < until)
		usleep(RETRY_MS * 1000);
	if (s->nunsaved)
		log_warnx("store: %zu state changes could not be recorded before exit",
			  s->nunsaved);
	for (size_t i = 0; i < s->nunsaved; i++)
		if (s->unsaved[i].a)
			attempt_free(s->unsaved[i].a);
	s->nunsaved = 0;
	free(s->unsaved);
	s->unsaved = NULL;
	free_ended(s);
}
