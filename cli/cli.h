/* Commands of the runfs program other than mounting: clients of a mount. */
#ifndef RUNFS_CLI_H
#define RUNFS_CLI_H

#include <stddef.h>

/* runfs watch RUN: a live progress view; exit 0 only for SUCCEEDED. */
int cli_watch(int argc, char **argv);
/* runfs login URL --token T [...]: save a remote configuration. */
int cli_login(int argc, char **argv);
/* runfs config list | show NAME | rm NAME | default [NAME] */
int cli_config(int argc, char **argv);
/* runfs submit FILE [--config NAME] [--mount DIR]: print the run id. */
int cli_submit(int argc, char **argv);
/* runfs runs [--state S]... [--limit N] [--max-age 1d2h] [--tsv] [--mount DIR] */
int cli_runs(int argc, char **argv);
/* runfs graph RUN [--mount DIR]: the run's graph.dot on stdout. */
int cli_graph(int argc, char **argv);

/* runfs up | down | status: the local runtime daemon (cli/runtime.c). */
int cli_up(int argc, char **argv);
int cli_down(int argc, char **argv);
int cli_status(int argc, char **argv);

/* The default data directory: $XDG_DATA_HOME/runfs or ~/.local/share/runfs
 * (malloc'd), NULL when neither variable is set. */
char *cli_data_dir(void);
/* A usage error: one line saying what is wrong, then the usage; exit 2. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The mount to use: want when given (it must be a runfs mount), else the
 * first runfs mount of this process's namespace. 0, or -1 when none. */
int cli_find_mount(const char *want, char *out, size_t n);
/* The first runfs mount (fuse.runfs in mountinfo) in which rel exists. */
int cli_mount_having(const char *rel, char *out, size_t n);
/* The folder of run id in the first runfs mount that has it; 0 or -1. */
int cli_run_dir(const char *id, char *out, size_t n);
/* Whether path exists, giving up after timeout_ms (a hung mount). */
int cli_exists(const char *path, int timeout_ms);

#endif
