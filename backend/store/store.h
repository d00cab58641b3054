/*
 * The store: SQLite (WAL) in DATA/runfs.db, the single source of truth for
 * runs, task runs, attempts and every state change. Logs, inputs and
 * outputs are plain files under DATA/runs/<run-id>/ (see layout.h), readable
 * with the mount down.
 *
 * One connection per process, guarded by a mutex: every call locks for its
 * own duration only. Writes open a transaction on demand and leave it open;
 * store_flush() commits it. The scheduler flushes once per loop turn, so
 * thousands of state changes share one commit, and readers on the same
 * connection still see every change the moment it is made. Calls that must
 * be durable before they return (run creation) flush themselves.
 */
#ifndef RUNFS_STORE_H
#define RUNFS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"
#include "rerr.h"

struct store;

int store_open(const char *datadir, struct store **out);
void store_set_feed(struct store *st, store_feed_fn fn, void *arg);
void store_close(struct store *st);
/* Commits the open write transaction, if any. */
enum rerr store_flush(struct store *st);
/* How long this thread's writes wait for another process to release the
 * store (default STORE_PATIENCE_MS); then they fail with RF_LOCKED. */
#define STORE_PATIENCE_MS 5000
void store_patience(int ms);
/* Drops what is batched and not yet committed (after a failed write). */
void store_discard(struct store *st);

/* Creating a run: the run row and all its task rows in one commit.
 * run->seq is set. tasks[i].idx must be i.
 * Also sets run->updated and tasks[i].run_seq; commits whatever was
 * batched before it; RF_EXIST when the run id is taken. One event is
 * recorded for the run, none for its tasks. */
enum rerr store_run_create(struct store *st, struct run_rec *run, struct task_rec *tasks,
			   int ntasks, const char *definition);
/* The same, keeping the definition's normalized form too (NULL: none). */
enum rerr store_run_create_normal(struct store *st, struct run_rec *run, struct task_rec *tasks,
				  int ntasks, const char *definition, const char *normal);

/* Lookups fill the record; free with run_rec_free/task_rec_free. */
enum rerr store_run_get(struct store *st, const char *id, struct run_rec *out);
enum rerr store_run_get_seq(struct store *st, int64_t seq, struct run_rec *out);
/* The same without counts[] (they cost a pass over the run's task runs):
 * for the many callers that want a state, a name or the change counter. */
enum rerr store_run_brief(struct store *st, int64_t seq, struct run_rec *out);
enum rerr store_run_find(struct store *st, const char *id, struct run_rec *out);
enum rerr store_run_definition(struct store *st, int64_t seq, char **text);
/* The run's normalized definition (*normal 1) or, for a run recorded
 * before runs kept one, its text as submitted (*normal 0); malloc'd. */
enum rerr store_run_normal(struct store *st, int64_t seq, char **text, int *normal);
/* Runs in creation order, seq > after, at most limit; returns the count
 * (or -1). Pass the last seq back as after for the next page.
 * counts[] are left zero here (ntasks is set) to keep listing cheap. */
int store_run_list(struct store *st, int64_t after, int limit, struct run_rec *out);
/* The same, only runs in state. */
int store_run_list_state(struct store *st, int state, int64_t after, int limit,
			 struct run_rec *out);
/* When the newest run was created: ms since epoch, 0 when none, -1 on
 * error. */
int64_t store_run_newest(struct store *st);
/* The latest event's seq and, in *time, when it happened (0 and 0 when
 * there is none; -1 and -1 on error). */
int64_t store_event_latest(struct store *st, int64_t *time);
/* Runs whose state is not completed (for recovery at start-up).
 * *out is malloc'd (run_rec_free each, then free it), counts filled. */
int store_run_list_active(struct store *st, struct run_rec **out);

enum rerr store_task_get(struct store *st, int64_t run_seq, int idx, struct task_rec *out);
enum rerr store_task_find(struct store *st, int64_t run_seq, const char *id, struct task_rec *out);
/* Task runs of a run in idx order from idx >= from, at most limit. */
int store_task_list(struct store *st, int64_t run_seq, int from, int limit, struct task_rec *out);
/* The same with message, command, inputs and outputs left empty: the
 * few columns a listing of thousands of task runs needs. */
int store_task_list_brief(struct store *st, int64_t run_seq, int from, int limit,
			  struct task_rec *out);
int store_attempt_list(struct store *st, int64_t run_seq, int idx, struct attempt_rec **out);
/* How many of the run's task runs were cache hits (SUCCEEDED without an
 * attempt). */
int store_run_cached(struct store *st, int64_t run_seq);
/* The sums of what the run's task runs used (their latest attempts). */
enum rerr store_run_usage(struct store *st, int64_t run_seq, struct usage_sum *out);

/* Writes (batched until store_flush). Each records an event row when the
 * state changes, and bumps updated. */
enum rerr store_run_update(struct store *st, const struct run_rec *run);
enum rerr store_task_update(struct store *st, const struct task_rec *task);
enum rerr store_attempt_put(struct store *st, int64_t run_seq, int idx,
			    const struct attempt_rec *a);

/* Forgets the run: all its rows, committed, and their space given back
 * (store_delete.c); one event of the run in its last state says it went.
 * Its files are the caller's to remove. */
enum rerr store_run_forget(struct store *st, int64_t seq, int state);

/* A rerun (backend/rerun.c): the next launch of the run starts only its
 * WAITING task runs, the others keep their states. Set (batched with the
 * writes around it), and read. */
enum rerr store_run_set_rerun(struct store *st, int64_t seq, int on);
int store_run_rerun(struct store *st, int64_t seq);

/* Events of a run with seq > after, at most limit, in order. */
int store_event_list(struct store *st, int64_t run_seq, int64_t after, int limit,
		     struct event_rec *out);
/* The same with each task run's id. */
int store_event_lines(struct store *st, int64_t run_seq, int64_t after, int limit,
		      struct event_line *out);

/*
 * Sharing the store between processes (store_share.c): the local runtime
 * daemon and any number of mounts open the same data directory.
 */

/* Every commit that records events or requests touches the committing
 * process's file in this folder (DATA/nudge/<pid>) afterwards: inotify's
 * IN_ATTRIB on the folder wakes the other processes, and names who it
 * was. -1 when the path does not fit. */
int store_nudge_path(const char *datadir, char *path, size_t n);
/* Events recorded by other processes with seq > after, in order. */
int store_event_foreign(struct store *st, int64_t after, int limit, struct event_rec *out);
/* The latest event's seq (0 when none), or -1. */
int64_t store_event_last(struct store *st);

/* The queue through which a process asks the local runtime to act on a
 * run. Durable: requests made while the runtime is down wait for it. */
enum request_verb { REQ_LAUNCH = 1, REQ_STOP, REQ_KILL };
struct request_rec {
	int64_t seq;
	int64_t run_seq;
	int verb;
};
/* Each of these commits before it returns. */
enum rerr store_request_put(struct store *st, int64_t run_seq, int verb);
/* Takes (removes) the oldest requests, at most limit; the count or -1.
 * Only one process can take a given request. */
int store_request_take(struct store *st, int limit, struct request_rec *out);
/* Withdraws a queued request: 1 when one was withdrawn (so nobody took
 * it), 0 when none was queued, -1 on error. */
int store_request_cancel(struct store *st, int64_t run_seq, int verb);
/* Whether such a request is queued: 1, 0, or -1 on error. */
int store_request_pending(struct store *st, int64_t run_seq, int verb);
/* Hands the events other processes recorded since the last call (or since
 * store_open) to the feed; how many, or -1. */
int store_follow(struct store *st);
/* Sets the message of a run no executor owns (why it waits), leaving
 * everything else as it is. Commits. */
enum rerr store_run_note(struct store *st, int64_t run_seq, const char *message);

/* store_cachekey.c: the cache's record of a task run (JSON text), written
 * with the batch; read back malloc'd, RF_NOENT when it has none. */
enum rerr store_cache_key_put(struct store *st, int64_t run_seq, int idx, const char *record);
enum rerr store_cache_key_get(struct store *st, int64_t run_seq, int idx, char **record);

#endif
