/* What the Slurm runtime's files share (slurm*.c). */
#ifndef RUNFS_SLURM_INT_H
#define RUNFS_SLURM_INT_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "defn.h"
#include "plan.h"
#include "rest.h"
#include "store.h"

struct script_ctx {
	const struct defn *d;
	const struct plan *p;
	const int *members;  /* the task runs of one step this job runs */
	int nmembers;	     /* 1, or a foreach step's job array */
	const int *attempts; /* every task run's attempt (theirs, and their parents') */
	const char *run_id;
	const char *workdir;
	int begin_in; /* seconds before the job may start (retry_delay), 0 now */
};

/* The job script of one attempt of a task run, or of a job array's
 * task runs (one step's copies); malloc'd, NULL on ENOMEM. */
char *slurm_script(const struct script_ctx *c);

#define REFRESH_MS 1000

struct srm {
	struct srm *next;
	int64_t seq;
	char id[RUN_ID_MAX];
	char config[CONFIG_MAX];
	int ntasks;
	long *job;	     /* per task run; 0 when it has none (succeeded before) */
	int *attempt;	     /* the attempt its job runs */
	int *active;	     /* its job may still change */
	int *copy;	     /* its element in its step's job array, -1 for a plain job */
	int *again;	     /* it failed with attempts left: submit it again */
	int *seen;	     /* listed by the last full refresh */
	unsigned char *keep; /* its step goes on when it fails (on_failure) */
	int stopping;
	int stale;	     /* the message says the state is stale */
	int gen;	     /* the record's generation this mount last acted on or saw */
	int64_t last_event;  /* the run's last event, as settling it saw */
	int64_t saved_event; /* the same when its record was written */
	struct defn *d;	     /* its definition, kept when a task has "cache" */
	struct plan p;	     /* d's plan */
};

struct scmd {
	struct scmd *next;
	int64_t seq;
	int verb; /* -1 launch, else VERB_STOP / VERB_KILL */
};

struct slurm {
	struct store *st;
	const char *datadir;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct scmd *cmds; /* under mu */
	int quit;	   /* under mu */
	struct srm *runs;  /* the thread's only */
	int64_t since;	   /* update_time of the next refresh; 0 = all */
	long calls;
	int64_t refreshed;    /* when a listing last succeeded (ms), 0 = never */
	void *curl;	      /* the thread's connection, reused */
	int64_t scanned_mono; /* when the work directories were last scanned */
	json_t *newest;	      /* work directory -> newest record mtime seen (ms) */
};

/* slurm.c */
/* The saved configuration `name` as a REST client; doc holds its strings. */
enum rerr slurm_connect(struct slurm *s, const char *name, json_t **doc, struct rest *r,
			const char **workdir, char **err);
/* A run to follow; keep filled from its definition in s's store. */
struct srm *srm_new(struct slurm *s, const struct run_rec *r);
void srm_free(struct srm *m);
/* Records which job is which task run (DATA/runs/<run>/slurm.json). */
void slurm_save_jobs(struct slurm *s, struct srm *m);
/* What slurm_save_jobs recorded, or NULL. */
struct srm *slurm_load_jobs(struct slurm *s, const struct run_rec *r);

/* slurm_submit.c */
void slurm_submit_run(struct slurm *s, int64_t seq);
void slurm_resubmit(struct slurm *s, struct srm *m, int i);
/* Cancels every job of m that may still run; how many it could not. */
int slurm_cancel(struct slurm *s, struct srm *m, struct rest *rest, int verb);
void slurm_note_run(struct slurm *s, int64_t seq, int state, const char *msg);
/* Task run i of m has a new job: WAITING for it. */
void slurm_note_submitted(struct slurm *s, struct srm *m, int i);

/* slurm_share.c: the run's record in the work directory, for every
 * machine. An action on a run holds its lock: share_lock, then
 * share_sync (take up what others did), act, share_save(acted = 1). */
int share_lock(const char *workdir, const char *run);
void share_unlock(int fd);
int share_sync(struct slurm *s, struct srm *m, const char *workdir);
void share_save(struct slurm *s, struct srm *m, const char *workdir, int acted);
/* Whether m is being stopped, by this mount or, its record says, another. */
int share_stopping(struct slurm *s, struct srm *m, const char *workdir);
struct runtime;
/* Removes the run's record and files from the work directory. */
enum rerr slurm_forget(struct runtime *rt, const struct run_rec *r, char **err);
/* Takes up runs other machines submitted, and their changes. */
void slurm_discover(struct slurm *s);

/* slurm_cache.c: the cache (engine/cache.c) on Slurm. */
/* Before submission: the task runs of want with "cache" whose inputs are
 * known take an entry when there is one, and are taken out of want; how
 * many did. */
int slurm_cache_lookup(struct slurm *s, struct srm *m, const struct defn *d, const struct plan *p,
		       const char *workdir, unsigned char *want);
/* Task run i succeeded on Slurm: kept in the cache when its task has
 * "cache". */
void slurm_cache_keep(struct slurm *s, struct srm *m, int i, const char *workdir);

/* slurm_refresh.c */
void slurm_refresh(struct slurm *s);

static inline void
replace(char **dst, char *src)
{
	free(*dst);
	*dst = src ? src : strdup("");
}

#endif
