/*
 * Where a run's files live under the data directory. Everything a user may
 * want with the mount down is a plain file here:
 *   DATA/runs/<run>/definition.json
 *   DATA/runs/<run>/logs                         all tasks, "<task-id> | line"
 *   DATA/runs/<run>/logs.d/<task>.log            every attempt, stdout+stderr
 *   DATA/runs/<run>/logs.d/<task>.system         what the runtime itself said
 *                                                (a Slurm job's own output)
 *   DATA/runs/<run>/logs.d/<task>.cache          its cache key, what went into
 *                                                it, where a hit came from
 *   DATA/runs/<run>/logs.d/<task>.<n>.stdout     attempt n's standard output
 *   DATA/runs/<run>/logs.d/<task>.<n>.stderr
 *   DATA/runs/<run>/logs.d/<task>.<n>.stdin      what attempt n read
 *   DATA/runs/<run>/outputs/<task>.<n>/          $RUNFS_OUTPUTS
 *   DATA/runs/<run>/work/<task>.<n>/             the working directory
 * The folders are flat on purpose: making a directory is the dearest thing
 * runfs asks of the filesystem per task (ext4 searches for a free inode),
 * so a task run costs one mkdir (its working directory) and files that
 * appear only when written. Names cannot collide: each is the task id
 * followed by a suffix of a fixed shape. Ids were validated at submit, so
 * they are safe path components.
 */
#ifndef RUNFS_LAYOUT_H
#define RUNFS_LAYOUT_H

#include <stddef.h>

#define PATH_MAX_ 4096

/* Each writes into out (PATH_MAX_ bytes) and returns 0, or -1 when too long. */
int path_run(char *out, const char *datadir, const char *run);
/* file: "definition.json", "logs", or one of the folders "logs.d",
 * "outputs", "work". */
int path_run_file(char *out, const char *datadir, const char *run, const char *file);
/* The task run's combined log (every attempt). */
int path_task_log(char *out, const char *datadir, const char *run, const char *task);
/* What the runtime said of the task run's jobs (Slurm's job output). */
int path_task_system(char *out, const char *datadir, const char *run, const char *task);
/* One of the task run's own files in logs.d: <task>.<what>. */
int path_task_file(char *out, const char *datadir, const char *run, const char *task,
		   const char *what);
/* file is "stdout", "stderr", "stdin", "outputs" or "work". */
int path_attempt_file(char *out, const char *datadir, const char *run, const char *task, int n,
		      const char *file);
/* The file holding output `name` of attempt n ("stdout" is the stdout file). */
int path_output(char *out, const char *datadir, const char *run, const char *task, int n,
		const char *name);

#endif
