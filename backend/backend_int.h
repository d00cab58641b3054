/* What backend.c, control.c and query.c share. */
#ifndef RUNFS_BACKEND_INT_H
#define RUNFS_BACKEND_INT_H

#include <pthread.h>

#include "backend.h"
#include "defn.h"
#include "plan.h"
#include "runtime.h"

struct backend {
	struct store *st;
	char *datadir;
	char *config;
	struct runtime rt[RUNTIME_MAX]; /* one per entry of runtime_table */
	int nopen;			/* how many of them are open (started) */
	struct follow *follow;		/* hands other processes' events to the feed */
	/* The last run whose definition was parsed for its results: results/
	 * is read file by file, so one parse serves a whole cat of results. */
	pthread_mutex_t cache_mu;
	int64_t cache_seq;
	struct defn *cache_d;
	struct plan cache_plan;
	/* configurations (configs.c): config is the mount's default */
	pthread_mutex_t config_mu;
	/* One control verb, rerun or delete at a time: FUSE answers on many
	 * threads, and a start must not meet a delete of the same run. */
	pthread_mutex_t control_mu;
	char config_file[4096]; /* "" when HOME and XDG_CONFIG_HOME are unset */
};

/* configs.c: whether a run can use the configuration (it exists), and
 * whether one can be submitted with it now (its token has not expired). */
enum rerr config_check(struct backend *b, const char *name, char **err);
enum rerr config_check_submit(struct backend *b, const char *name, char **err);

/* delete.c: finishes the deletes a killed process left half done. */
void backend_delete_leftovers(struct backend *b);

/* The runtime executing runs of this configuration in this process. */
struct runtime *runtime_for(struct backend *b, const char *config);

#endif
