/*
 * The scheduler's commands, as other threads give them (scheduler.h):
 * launch, stop and kill a run, and ask what it executes. Each is queued
 * under the scheduler's lock and the scheduler thread is woken to carry it
 * out on its next turn.
 */
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "sched_int.h"

/* mu held. */
static enum rerr
queue_cmd(struct sched *s, int64_t seq, int verb)
{
	struct cmd *c = calloc(1, sizeof(*c));
	uint64_t one = 1;

	if (c == NULL)
		return RF_NOMEM;
	c->seq = seq;
	c->verb = verb;
	*s->cmds_tail = c;
	s->cmds_tail = &c->next;
	if (write(s->wake_fd, &one, sizeof(one)) < 0)
		log_warn("scheduler wake-up");
	return RF_OK;
}

/* mu held. */
static int
executing_locked(struct sched *s, int64_t seq)
{
	if (s->launching == seq)
		return 1;
	for (struct srun *r = s->ended; r; r = r->next)
		if (r->rec.seq == seq)
			return 1;
	for (struct srun *r = s->runs; r; r = r->next)
		if (r->rec.seq == seq)
			return 1;
	for (struct cmd *c = s->cmds; c; c = c->next)
		if (c->seq == seq && c->verb == VERB_LAUNCH)
			return 1;
	return 0;
}

int
sched_executing(struct sched *s, int64_t seq)
{
	int found;

	pthread_mutex_lock(&s->mu);
	found = executing_locked(s, seq);
	pthread_mutex_unlock(&s->mu);
	return found;
}

enum rerr
sched_launch(struct sched *s, int64_t seq)
{
	enum rerr e = RF_BUSY;

	/* Checked and queued under one lock: two "start" writes race here. */
	pthread_mutex_lock(&s->mu);
	if (!executing_locked(s, seq))
		e = queue_cmd(s, seq, VERB_LAUNCH);
	pthread_mutex_unlock(&s->mu);
	return e;
}

int
sched_count(struct sched *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->launching != 0;
	for (struct srun *r = s->runs; r; r = r->next)
		n++;
	/* Not yet recorded as ended: a draining daemon waits for these too. */
	for (struct srun *r = s->ended; r; r = r->next)
		n++;
	for (struct cmd *c = s->cmds; c; c = c->next)
		n += c->verb == VERB_LAUNCH;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
sched_signal_all(struct sched *s, enum sched_verb v)
{
	pthread_mutex_lock(&s->mu);
	if (s->launching)
		queue_cmd(s, s->launching, (int)v);
	for (struct srun *r = s->runs; r; r = r->next)
		queue_cmd(s, r->rec.seq, (int)v);
	for (struct cmd *c = s->cmds; c; c = c->next)
		if (c->verb == VERB_LAUNCH)
			queue_cmd(s, c->seq, (int)v);
	pthread_mutex_unlock(&s->mu);
}

enum rerr
sched_signal(struct sched *s, int64_t seq, enum sched_verb v)
{
	enum rerr e;

	pthread_mutex_lock(&s->mu);
	e = executing_locked(s, seq) ? queue_cmd(s, seq, (int)v) : RF_BUSY;
	pthread_mutex_unlock(&s->mu);
	return e;
}
