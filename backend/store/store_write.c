/*
 * The store's writes: a run with its task runs, and each change of a run,
 * a task run or an attempt. Each records an event when a state changes and
 * hands it to the feed; they share the open transaction (store.c), which
 * commits every MAX_PENDING writes if nobody flushes sooner.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/* Bounds the WAL and what a crash can lose when nobody flushes. */
#define MAX_PENDING 4096

enum rerr
store_write_end(struct store *st)
{
	if (++st->pending <= MAX_PENDING)
		return RF_OK;
	return store_commit(st);
}

enum rerr
store_event_add(struct store *st, int64_t run_seq, int task_idx, int state, int64_t t,
		struct event_rec *ev)
{
	int rc;

	store_bind(st, S_EVENT_INS, "IiiIi", run_seq, task_idx, state, t, st->origin);
	if ((rc = store_step_done(st, S_EVENT_INS, "record event")) != SQLITE_DONE)
		return store_rerr(rc);
	ev->seq = sqlite3_last_insert_rowid(st->db);
	st->nudge |= NUDGE_EVENTS;
	ev->run_seq = run_seq;
	ev->task_idx = task_idx;
	ev->state = state;
	ev->time = t;
	return RF_OK;
}

void
store_feed(struct store *st, const struct event_rec *ev)
{
	if (st->feed)
		st->feed(ev, st->feed_arg);
}

static enum rerr
runs_insert(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
	    const char *definition, const char *normal, int64_t now, struct event_rec *ev)
{
	const struct task_rec *t;
	enum rerr e;
	int rc;

	store_bind(st, S_RUN_INS, "sssiiiIIIIsi", run->id, run->name, run->config, run->state,
		   run->prepared, run->owner, run->created, run->started, run->ended, now,
		   run->message, ntasks);
	if ((rc = store_step_done(st, S_RUN_INS, "insert run")) == SQLITE_CONSTRAINT_UNIQUE)
		return RF_EXIST;
	if (rc != SQLITE_DONE)
		return store_rerr(rc);
	run->seq = sqlite3_last_insert_rowid(st->db);
	store_bind(st, S_DEFN_INS, "Iss", run->seq, definition, normal);
	if ((rc = store_step_done(st, S_DEFN_INS, "insert definition")) != SQLITE_DONE)
		return store_rerr(rc);
	for (int i = 0; i < ntasks; i++) {
		t = &tasks[i];
		if (t->idx != i || !store_state_ok(t->state)) {
			log_warnx("store: run %s: bad task record %d", run->id, i);
			return RF_INVAL;
		}
		store_bind(st, S_TASK_INS, "IisssiiiiiIIIsssss", run->seq, t->idx, t->id, t->step,
			   t->task, t->state, t->has_exit, t->exit_code, t->attempts,
			   t->max_attempts, t->started, t->ended, now, t->message, t->parents,
			   t->command, t->inputs, t->outputs);
		if ((rc = store_step_done(st, S_TASK_INS, "insert task")) ==
		    SQLITE_CONSTRAINT_UNIQUE) {
			log_warnx("store: run %s: task id %s twice", run->id, t->id);
			return RF_INVAL;
		}
		if (rc != SQLITE_DONE)
			return store_rerr(rc);
	}
	if ((e = store_event_add(st, run->seq, -1, run->state, now, ev)) != RF_OK)
		return e;
	return store_commit(st);
}

enum rerr
store_run_create(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
		 const char *definition)
{
	return store_run_create_normal(st, run, tasks, ntasks, definition, NULL);
}

enum rerr
store_run_create_normal(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
			const char *definition, const char *normal)
{
	struct event_rec ev;
	int64_t now = now_ms();
	enum rerr e;

	if (!store_state_ok(run->state) || ntasks < 0)
		return RF_INVAL;
	/* Commit what is batched on its own, so that a refused run cannot
	 * take it down with it. */
	if ((e = store_write_lock(st, 1)) != RF_OK)
		goto out;
	if ((e = runs_insert(st, run, tasks, ntasks, definition, normal, now, &ev)) != RF_OK) {
		store_rollback(st);
		run->seq = 0;
		goto out;
	}
	run->updated = now;
	run->ntasks = ntasks;
	for (int i = 0; i < ntasks; i++)
		tasks[i].run_seq = run->seq;
	store_feed(st, &ev);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

/*
 * The row's state query (q) and its update (upd) are bound: reads the old
 * state, updates, and records an event when the state changed. Reading
 * the old state inside the write transaction makes the pair atomic even
 * against other processes.
 */
static enum rerr
change(struct store *st, int q, int upd, int64_t run_seq, int task_idx, int state, int64_t now)
{
	sqlite3_stmt *s = st->s[q];
	struct event_rec ev;
	enum rerr e;
	int rc, old = -1;

	if ((e = store_write_begin(st)) != RF_OK)
		goto out;
	e = RF_IO;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		old = sqlite3_column_int(s, 0);
	else if (rc == SQLITE_DONE)
		e = RF_NOENT;
	else
		store_db_fail(st, "read state");
	store_done(s);
	if (old < 0 || store_step_done(st, upd, "update") != SQLITE_DONE)
		goto out;
	if (old != state) {
		if (store_event_add(st, run_seq, task_idx, state, now, &ev) != RF_OK)
			goto out;
		store_feed(st, &ev);
	}
	e = store_write_end(st);
out:
	store_done(st->s[q]);
	store_done(st->s[upd]);
	return e;
}

enum rerr
store_run_update(struct store *st, const struct run_rec *r)
{
	int64_t now = now_ms();
	enum rerr e;

	if (!store_state_ok(r->state))
		return RF_INVAL;
	if ((e = store_write_lock(st, 0)) != RF_OK)
		goto out;
	store_bind(st, S_RUN_STATE, "I", r->seq);
	store_bind(st, S_RUN_UPD, "iiiIIIsI", r->state, r->prepared, r->owner, r->started, r->ended,
		   now, r->message, r->seq);
	e = change(st, S_RUN_STATE, S_RUN_UPD, r->seq, -1, r->state, now);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_task_update(struct store *st, const struct task_rec *t)
{
	int64_t now = now_ms();
	enum rerr e;

	if (!store_state_ok(t->state))
		return RF_INVAL;
	if ((e = store_write_lock(st, 0)) != RF_OK)
		goto out;
	store_bind(st, S_TASK_STATE, "Ii", t->run_seq, t->idx);
	store_bind(st, S_TASK_UPD, "iiiiiIIIsssIi", t->state, t->has_exit, t->exit_code,
		   t->attempts, t->max_attempts, t->started, t->ended, now, t->message, t->command,
		   t->inputs, t->run_seq, t->idx);
	e = change(st, S_TASK_STATE, S_TASK_UPD, t->run_seq, t->idx, t->state, now);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_attempt_put(struct store *st, int64_t run_seq, int idx, const struct attempt_rec *a)
{
	enum rerr e;

	if ((e = store_write_lock(st, 0)) == RF_OK) {
		store_bind(st, S_ATT_PUT, "IiiiiiIIss", run_seq, idx, a->n, a->state, a->has_exit,
			   a->exit_code, a->started, a->ended, a->message, a->usage);
		if (store_step_done(st, S_ATT_PUT, "put attempt") == SQLITE_DONE)
			e = store_write_end(st);
		else
			e = RF_IO;
	}
	pthread_mutex_unlock(&st->mu);
	return e;
}
