/* The scheduler's internals, shared by sched.c (the loop) and attempt.c
 * (starting and ending one attempt of a task run). */
#ifndef RUNFS_SCHED_INT_H
#define RUNFS_SCHED_INT_H

#include <pthread.h>

#include "defn.h"
#include "exec.h"
#include "launcher.h"
#include "plan.h"
#include "scheduler.h"
#include "store.h"

/* How long a task run's change may wait for others to share its commit
 * (sched_save.c), unless sched_opts says otherwise. */
#define BATCH_MS 5

/* A command that launches a run (beside enum sched_verb's stop and kill). */
#define VERB_LAUNCH 100

struct srun;

struct unsaved;

struct stask {
	struct srun *run;
	struct task_rec rec; /* as recorded in the store */
	int npending;	     /* parents that have not succeeded */
	int cost;	     /* thousandths of a core */
	int queued;
	int unsaved; /* listed in sched->unsaved (sched_save.c) */
	/* while an attempt runs */
	int running;
	struct launch *launch; /* set until the launcher has started it */
	struct exec_proc proc;
	struct pump out, err;
	struct task_log tlog; /* tasks/<id>/logs */
	int64_t attempt_started;
	int64_t deadline; /* monotonic ms, 0 = no timeout */
	int timed_out;
	int out_of_memory; /* killed over resources.memory (usage.c) */
	/* A short stdout of the succeeded attempt, held until the task runs
	 * that take it by {"from"} have started: they need not read it back
	 * from its file. NULL: read the file. */
	char *value;
	size_t value_len;
	int readers; /* starts of task runs still to take it */
	/* It starts only once sched->commits has reached this: the commit
	 * holding its parents' successes (sched_save.c). */
	int64_t start_after;
	int64_t not_before; /* retry_delay: monotonic ms before which it waits */
	char cache_key[65]; /* its key (cache.c) once computed, "" when none */
	int cached;	    /* it took an earlier task run's outputs (a hit) */
};

struct srun {
	struct srun *next;
	struct run_rec rec;
	struct defn *d;
	struct plan plan;
	struct stask *t;
	int ntasks;
	int nrunning;
	int nsucceeded;
	int nfailed;  /* failed for good in a step that goes on (on_failure) */
	int nskipped; /* TERMINATED "not run": a task run they need failed */
	int failed;   /* no new task run starts: one failed in a step that stops */
	int stopping; /* 0, VERB_STOP or VERB_KILL */
	int64_t kill_at;
	int unsaved;	      /* listed in sched->unsaved (sched_save.c) */
	int log_fd;	      /* runs/<id>/logs */
	int log_err;	      /* as lazy_file.err, for log_fd */
	char *stdout_by_path; /* per step: its stdout is passed on by {"path"} */
	int *stdout_readers;  /* per step: task runs that take its stdout by {"from"} */
};

/* The task (of the definition) that t runs. */
static inline const struct defn_task *
sched_task_def(const struct stask *t)
{
	const struct defn *d = t->run->d;

	return &d->tasks[d->steps[t->run->plan.tr_step[t->rec.idx]].task];
}

struct cmd {
	struct cmd *next;
	int64_t seq;
	int verb;
};

struct sched {
	int64_t mem_sampled; /* when usage.c last looked (monotonic ms) */
	struct store *st;
	char *datadir;
	int capacity; /* thousandths of a core */
	int used;
	int grace_ms;
	pthread_t thread;
	int wake_fd; /* eventfd */
	/* under mu: the command queue (oldest first), the run being launched
	 * (taken off the queue, not yet in runs: 0 when none), the list of
	 * runs, quit */
	pthread_mutex_t mu;
	struct cmd *cmds, **cmds_tail;
	int64_t launching;
	struct srun *runs;
	struct srun *ended; /* ended, freed once all their changes are recorded */
	int quit;
	/* scheduler thread only */
	struct stask **ready;
	size_t ready_head, ready_len, ready_cap;
	/* Waiting out a retry_delay (not_before), in no order. */
	struct stask **delayed;
	size_t ndelayed, delayed_cap;
	/* Working directories that tasks left empty, to be renamed into the
	 * next task's: a rename allocates no inode, a mkdir does (workdir.c). */
	char *spare[64];
	int nspare;
	struct stask **running; /* including those being launched */
	size_t nrunning, running_cap;
	struct launcher *launcher;
	int nlaunching;
	/* sched_save.c: changes written since the last good commit */
	struct unsaved *unsaved;
	size_t nunsaved, unsaved_cap;
	int save_failed;    /* a write or commit failed: retry at retry_at */
	enum rerr save_err; /* why, for the log */
	int outage;	    /* logged once per outage */
	int64_t retry_at;
	int64_t save_due; /* when the batch written since the last commit is due */
	int save_now;	  /* a run changed: commit at the end of this turn */
	int batch_ms;	  /* BATCH_MS, or sched_opts's */
	int64_t commits;  /* good commits so far */
};

/* attempt.c */
void attempt_start(struct sched *s, struct stask *t);
void attempt_launched(struct sched *s, struct launch *j);
void attempt_finish(struct sched *s, struct stask *t);
void attempt_abandon(struct sched *s, struct stask *t, int state, const char *why);

/* workdir.c */
/* -1 with errno EEXIST when path exists: see workdir_reclaim. */
int workdir_make(struct sched *s, const char *path);
/* Removes the files of attempt n of a task run that an unrecorded earlier
 * start of the same attempt left. */
int workdir_reclaim(struct sched *s, const char *run, const char *task, int n);
void workdir_done(struct sched *s, const char *path);
void workdir_free(struct sched *s);

/* sched.c, for attempt.c */
void sched_ready_push(struct sched *s, struct stask *t);
void sched_task_succeeded(struct sched *s, struct stask *t);
void sched_task_failed(struct sched *s, struct stask *t, const char *why);
int sched_running_add(struct sched *s, struct stask *t);
void sched_running_remove(struct sched *s, struct stask *t);
void sched_set_message(char **dst, const char *msg);

/* sched_load.c */
/* The run as the store has it, its unfinished task runs made ready to run
 * (again); NULL when it cannot be loaded (logged). */
struct srun *sched_load_run(struct sched *s, int64_t seq);
void sched_run_free(struct srun *r);

/* sched_save.c */
void sched_run_update(struct sched *s, struct srun *r);
void sched_task_update(struct sched *s, struct stask *t);
void sched_attempt_put(struct sched *s, struct stask *t, const struct attempt_rec *a);
int sched_save(struct sched *s);
int sched_saved_for(struct sched *s, const struct stask *t);
void sched_save_final(struct sched *s, int64_t budget_ms);

/* usage.c: what an attempt used, as JSON (malloc'd, NULL without memory):
 * its wall time, wait4()'s rusage, its exit code, its memory limit. */
char *usage_json(const struct rusage *ru, int64_t wall_ms, int code, int64_t limit);
/* usage.c: the task's resources.memory (0: none); the check of every
 * running task that has one, killing those over it, and how soon to check
 * again (ms, or -1 when none runs). */
#define MEMWATCH_MS 20
int64_t task_memory_limit(const struct stask *t);
int sched_check_memory(struct sched *s);

/* cache_hit.c: t, about to start with its parameters bound to values,
 * took an earlier task run's outputs (1), or its key is noted for saving
 * its outputs once it succeeds (0). */
int cache_hit(struct sched *s, struct stask *t, const struct defn_task *task,
	      const struct defn_step *step, char *const *values);
/* sched.c: ends a run once nothing of it runs and nothing more will
 * start. */
void sched_maybe_finish_run(struct sched *s, struct srun *r);
/* sched_fail.c: t will not succeed; its WAITING dependants end TERMINATED
 * "not run: T failed" (nskipped counts them). */
void sched_skip_dependants(struct sched *s, struct stask *t);

#endif
