/*
 * The records of runs, task runs, attempts and events: the vocabulary every
 * layer shares. The store fills them, the engine changes them, the face
 * shows them. Strings marked malloc'd belong to the record; free them with
 * the matching _free.
 */
#ifndef RUNFS_RECORDS_H
#define RUNFS_RECORDS_H

#include <stdint.h>

#include "state.h"

#define RUN_ID_MAX  96
#define TASK_ID_MAX 160
#define NAME_MAX_   136
#define CONFIG_MAX  64

struct run_rec {
	int64_t seq; /* rowid: stable, small, used for inode numbers */
	char id[RUN_ID_MAX];
	char name[NAME_MAX_];
	char config[CONFIG_MAX];
	int state;
	int prepared;				  /* 1 while WAITING for "start" */
	int owner;				  /* pid of the process executing it, 0 when none */
	int64_t created, started, ended, updated; /* ms since epoch, 0 = unset */
	char *message;				  /* malloc'd, "" when none */
	int ntasks;
	int done;	      /* task runs completed */
	int counts[ST_COUNT]; /* task runs per state */
	int64_t last_event;   /* seq of its latest event: grows on every change */
};

struct task_rec {
	int64_t run_seq;
	int idx; /* 0..ntasks-1, in the run's topological order */
	char id[TASK_ID_MAX];
	char step[TASK_ID_MAX];
	char task[NAME_MAX_];
	int state;
	int has_exit;  /* exit_code is meaningful */
	int exit_code; /* >= 0: exit status; < 0: killed by signal -exit_code */
	int attempts;  /* attempts made so far (the latest is attempt N) */
	int max_attempts;
	int64_t started, ended, updated;
	char *message; /* malloc'd, "" when none */
	char *parents; /* malloc'd: parent task run ids, one per line ("" none) */
	char *command; /* malloc'd: the argv as a JSON array */
	char *inputs;  /* malloc'd: JSON object arg name -> value, resolved so far */
	char *outputs; /* malloc'd: the task's output names, one per line */
};

struct attempt_rec {
	int n; /* 1-based */
	int state;
	int has_exit;
	int exit_code;
	int64_t started, ended;
	char *message;
	/* What the attempt used, as tasks/<t>/usage shows it (JSON, malloc'd
	 * when read from the store; NULL when nothing was measured). */
	char *usage;
};

struct event_rec {
	int64_t seq; /* global, increasing */
	int64_t run_seq;
	int task_idx; /* -1 for the run itself */
	int state;
	int64_t time;
};

/* An event with the id of its task run ("-" for the run itself). */
struct event_line {
	struct event_rec ev;
	char task[TASK_ID_MAX];
	int cached; /* a SUCCEEDED that was a cache hit */
};

/* What a run's task runs used, their latest attempts summed (status.json);
 * measured is how many attempts were measured. */
struct usage_sum {
	int measured;
	double wall_s, user_s, system_s;
	int max_rss_known;
	int64_t max_rss_bytes; /* the largest of them */
};

/* The store calls it for every event recorded, in order, with its lock
 * held: the callee must not call back into the store. Updates report
 * their events before store_flush commits them. */
typedef void (*store_feed_fn)(const struct event_rec *ev, void *arg);

/* Completed, and its end recorded: nothing of it changes any more (a run
 * FAILED while other task runs finish is completed, not ended). */
int run_rec_ended(const struct run_rec *r);

void run_rec_free(struct run_rec *r);
void task_rec_free(struct task_rec *t);
void attempt_list_free(struct attempt_rec *a, int n);

#endif
