/*
 * Where a run's files live under the data directory. Everything a user may
 * want with the mount down is a plain file here:
 *   DATA/runs/<run>/definition.json
 *   DATA/runs/<run>/logs                      all tasks, "<task-id> | line"
 *   DATA/runs/<run>/tasks/<task>/logs         every attempt, stdout+stderr
 *   DATA/runs/<run>/tasks/<task>/<n>/stdout   attempt n's standard output
 *   DATA/runs/<run>/tasks/<task>/<n>/stderr
 *   DATA/runs/<run>/tasks/<task>/<n>/stdin    what attempt n read
 *   DATA/runs/<run>/tasks/<task>/<n>/outputs/ $RUNFS_OUTPUTS
 *   DATA/runs/<run>/tasks/<task>/<n>/work/    the working directory
 * Ids were validated at submit, so they are safe path components.
 */
#ifndef RUNFS_PATHS_H
#define RUNFS_PATHS_H

#include <stddef.h>

#define PATH_MAX_ 4096

/* Each writes into out (PATH_MAX_ bytes) and returns 0, or -1 when too long. */
int path_run(char *out, const char *datadir, const char *run);
int path_run_file(char *out, const char *datadir, const char *run, const char *file);
int path_task(char *out, const char *datadir, const char *run, const char *task);
int path_task_file(char *out, const char *datadir, const char *run, const char *task,
		   const char *file);
/* file is "stdout", "stderr", "stdin", "outputs", "work" or "outputs/<name>". */
int path_attempt_file(char *out, const char *datadir, const char *run, const char *task, int n,
		      const char *file);
/* The file holding output `name` of attempt n ("stdout" is the stdout file). */
int path_output(char *out, const char *datadir, const char *run, const char *task, int n,
		const char *name);

#endif
