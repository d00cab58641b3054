/*
 * The seam between fs/ and everything behind the tree (DESIGN.md, "The seam
 * between fs/ and backend/"). fs/ includes this header, store.h's record
 * types, state.h, rerr.h and layout.h, and nothing else from backend/.
 * Every call is thread-safe.
 */
#ifndef RUNFS_BACKEND_H
#define RUNFS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "rerr.h"
#include "state.h"
#include "records.h"

struct backend;

struct backend_opts {
	const char *datadir;   /* created 0700 when missing */
	const char *config;    /* the default configuration for submit */
	int jobs;	       /* in_process: cores to use; 0 = all */
	int grace_ms;	       /* stop: SIGTERM, then SIGKILL after this; 0 = 5000 */
	int no_autostart;      /* local: never start the runtime daemon */
	int gpus;	       /* the GPUs this machine offers tasks (in_process, local) */
	const char *cache_dir; /* the cache of task runs, when not DATA/cache */
};

/* Checks everything that can fail, starting nothing (a mount calls it
 * before it goes to the background); then backend_start starts the
 * threads. backend_open does both. On failure *err (malloc'd) says why. */
enum rerr backend_check(const struct backend_opts *o, struct backend **out, char **err);
enum rerr backend_start(struct backend *b, char **err);
enum rerr backend_open(const struct backend_opts *o, struct backend **out, char **err);
/* Ends what this process runs (after backend_check alone: frees it): task processes are killed and
 * their runs recorded KILLED, then the store is closed. Runs on the local runtime go on in its
 * daemon. */
void backend_close(struct backend *b);
const char *backend_datadir(struct backend *b);

/* Records a run and hands it to its runtime. start=0 leaves it WAITING
 * (prepared) until control(..., "start"). On RF_INVAL, *err is a malloc'd
 * one-line reason naming the JSON path; nothing was recorded. */
enum rerr backend_submit(struct backend *b, const char *text, size_t len, int start,
			 char run_id[RUN_ID_MAX], char **err);

/* The largest definition backend_submit takes, in bytes. */
size_t backend_submit_max(void);
/* Whether text, whose latest write was last, is a whole document (a
 * definition, or a configuration) in its format: a stream answers then. */
int backend_write_completes(const char *text, size_t len, const char *last, size_t lastlen);

/* verb: start | stop | kill | retry. RF_INVAL for an unknown verb, RF_BUSY
 * when it does not apply now; *err (malloc'd) says why. */
enum rerr backend_control(struct backend *b, const char *run_id, const char *verb, char **err);
/* The verbs accepted now, space-separated (static string). */
const char *backend_verbs(const struct run_rec *r);

/* Snapshots (free the records with run_rec_free / task_rec_free).
 * backend_run finds a run by id, without counts[] (a path lookup). */
enum rerr backend_run(struct backend *b, const char *run_id, struct run_rec *out);
enum rerr backend_run_seq(struct backend *b, int64_t seq, struct run_rec *out);
/* Without counts[]: cheap whatever the run's size. */
enum rerr backend_run_brief(struct backend *b, int64_t seq, struct run_rec *out);
/* Runs in creation order after seq `after` (counts[] left zero; done set). */
int backend_runs(struct backend *b, int64_t after, int limit, struct run_rec *out);
/* The same, only runs now in state. */
int backend_runs_in(struct backend *b, int state, int64_t after, int limit, struct run_rec *out);
/* When the newest run was created (ms, 0 when none, -1 on error). */
int64_t backend_newest_run(struct backend *b);
/* The change counter of all runs (the latest event's seq, -1 on error),
 * and in *time when that change happened. */
int64_t backend_last_change(struct backend *b, int64_t *time);
enum rerr backend_task(struct backend *b, int64_t run_seq, int idx, struct task_rec *out);
/* What the task run's latest attempt used (JSON, malloc'd; NULL before an
 * attempt has ended), and the run's sums of them. */
enum rerr backend_task_usage(struct backend *b, int64_t run_seq, int idx, char **json);
enum rerr backend_run_usage(struct backend *b, int64_t run_seq, struct usage_sum *out);
/* The cache's record of a task run with "cache" (engine/cache.c): JSON
 * {"key", "made_of", "from"}, malloc'd; RF_NOENT when it has none. */
enum rerr backend_task_cache(struct backend *b, const struct run_rec *r, const struct task_rec *t,
			     char **json);
enum rerr backend_task_find(struct backend *b, int64_t run_seq, const char *id,
			    struct task_rec *out);
int backend_tasks(struct backend *b, int64_t run_seq, int from, int limit, struct task_rec *out);
/* Without message, command, inputs and outputs (empty): for listings. */
int backend_tasks_brief(struct backend *b, int64_t run_seq, int from, int limit,
			struct task_rec *out);
enum rerr backend_definition(struct backend *b, int64_t run_seq, char **text);
/* How many of its task runs took an earlier run's outputs (cache hits). */
int backend_run_cached(struct backend *b, int64_t run_seq);
/* The parameter values the run was submitted with, as a JSON object
 * ("{}" when it declares none); malloc'd. */
/* Deletes an ended run: its rows, its files, and whatever its runtime
 * keeps elsewhere (delete.c). RF_BUSY while it is not ended. */
/* Runs the named task runs of an ended run again (task run ids, or step
 * ids for all their task runs), with everything downstream of them; the
 * rest keep their states (control.c). */
enum rerr backend_rerun(struct backend *b, const char *run_id, char *const *names, int n,
			char **err);
enum rerr backend_delete(struct backend *b, const char *id, char **err);
enum rerr backend_params(struct backend *b, int64_t run_seq, char **text);

/*
 * Results: the number of results the definition lists, and result i.
 * RF_AGAIN while the run has not succeeded (not completed yet), RF_FAILED
 * when it completed otherwise; *err then says why. On RF_OK either *path is
 * set (a file to read: the output of one task run) or *content and *len (a
 * composed value: a fan-out's outputs one per line, or a path).
 */
enum rerr backend_nresults(struct backend *b, int64_t run_seq, int *n);
enum rerr backend_result(struct backend *b, int64_t run_seq, int i, char **path, char **content,
			 size_t *len, char **err);
/* Where the files of runs on `config` are (layout.h under it): the data
 * directory, or a remote configuration's work directory. buf holds the
 * latter (n bytes); the result is one of the two. */
const char *backend_files(struct backend *b, const char *config, char *buf, size_t n);
/* For a file of a remote run that is missing because the cluster's work
 * directory is not visible here: the one line its content is instead
 * (malloc'd). NULL when the file is merely not written yet. */
char *backend_unseen(struct backend *b, const char *path);
/* The file holding output `name` of a task run (its latest attempt);
 * RF_AGAIN while the task run may still succeed, RF_FAILED once it will
 * not (it failed, or its run ended without it). */
enum rerr backend_output_path(struct backend *b, const struct run_rec *r, const struct task_rec *t,
			      const char *name, char *path);

/*
 * Configurations: the built-ins (in_process, local) and the saved ones of
 * the user's config file, read afresh on every call so that changes made
 * by the CLI show at once.
 */
/* The names, built-ins first; *names and each name are malloc'd. */
int backend_config_list(struct backend *b, char ***names);
void backend_config_list_free(char **names, int n);
/* 1 for the built-ins (in_process, local, ray), which cannot change. */
int backend_config_builtin(const char *name);
/* JSON text describing it (tokens as "***"), malloc'd, newline-ended. */
enum rerr backend_config_json(struct backend *b, const char *name, char **json);
/* Saves a remote configuration from JSON text, after validation. */
enum rerr backend_config_save(struct backend *b, const char *name, const char *text, size_t len,
			      char **err);
enum rerr backend_config_remove(struct backend *b, const char *name, char **err);
/* The configuration submit uses (malloc'd), and setting it (this mount's,
 * and the config file's default). */
char *backend_config_default(struct backend *b);
enum rerr backend_config_set_default(struct backend *b, const char *name, char **err);

/* Events of a run (state changes, in order) with seq > after. */
int backend_events(struct backend *b, int64_t run_seq, int64_t after, int limit,
		   struct event_line *out);

/* The change feed: fn sees every event recorded by this process, in order,
 * with internal locks held (it must only queue work, not call back). */
void backend_set_feed(struct backend *b, store_feed_fn fn, void *arg);

#endif
