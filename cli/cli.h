/* Commands of the runfs program other than mounting: clients of a mount. */
#ifndef RUNFS_CLI_H
#define RUNFS_CLI_H

#include <stddef.h>
#include <time.h>

/* One command of the runfs program (the table is in main.c). */
struct cli_command {
	const char *name;  /* NULL: the mount, what no command names */
	const char *usage; /* written once, here in the table */
	int (*fn)(const struct cli_command *c, int argc, char **argv);
};

/* runfs watch RUN: a live progress view; exit 0 only for SUCCEEDED. */
int cli_watch(const struct cli_command *c, int argc, char **argv);
/* runfs login URL --token T [...]: save a remote configuration. */
int cli_login(const struct cli_command *c, int argc, char **argv);
/* runfs config list | show NAME | rm NAME | default [NAME] */
int cli_config(const struct cli_command *c, int argc, char **argv);
/* runfs submit FILE [--config NAME] [--mount DIR]: print the run id. */
int cli_submit(const struct cli_command *c, int argc, char **argv);
/* runfs runs [--state S]... [--limit N] [--max-age 1d2h] [--tsv] [--mount DIR] */
int cli_runs(const struct cli_command *c, int argc, char **argv);
/* runfs graph RUN [--mount DIR]: the run's graph.dot on stdout. */
int cli_graph(const struct cli_command *c, int argc, char **argv);

/* runfs rm RUN... and runfs prune [...]: delete ended runs (cli/delete.c). */
int cli_rm(const struct cli_command *c, int argc, char **argv);
int cli_prune(const struct cli_command *c, int argc, char **argv);

/* The mount's index (cli/index.c): one row of six tab-separated fields
 * per run, oldest first. The rows point into *text. 0, or -1 said. */
enum { F_ID, F_STATE, F_CONFIG, F_STARTED, F_ENDED, F_DONE, NFIELDS };
struct index_row {
	char *f[NFIELDS];
};
int cli_index_read(const char *mnt, char **text, struct index_row **rows, size_t *n);
/* When run id was made (its folder's mtime); 0, or -1. */
int cli_run_created(const char *mnt, const char *id, time_t *when);
/* "1d2h3m4s" in seconds, or -1. */
long cli_parse_age(const char *s);

/* runfs cache [prune ...]: the cache of task runs (cli/cache.c). */
int cli_cache(const struct cli_command *c, int argc, char **argv);
/* The data directory given (--data) or the default, made and absolute
 * (malloc'd); NULL after saying why. */
char *cli_data_dir(const char *given);

/* runfs up | down | status: the local runtime daemon (cli/runtime.c). */
int cli_up(const struct cli_command *c, int argc, char **argv);
int cli_down(const struct cli_command *c, int argc, char **argv);
int cli_status(const struct cli_command *c, int argc, char **argv);

/* A usage error: one line saying what is wrong, then c's usage; exit 2. */
int cli_usage(const struct cli_command *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The mount to use: want when given (it must be a runfs mount), else the
 * first runfs mount of this process's namespace. 0, or -1 when none. */
int cli_find_mount(const char *want, char *out, size_t n);
/* The first runfs mount (fuse.runfs in mountinfo) in which rel exists. */
int cli_mount_having(const char *rel, char *out, size_t n);
/* The first runfs mount that has run id; 0 or -1. */
int cli_mount_having_run(const char *id, char *out, size_t n);
/* The folder of run id in the first runfs mount that has it; 0 or -1. */
int cli_run_dir(const char *id, char *out, size_t n);
/* The folder of run `run`: in the mount given, else in the first runfs
 * mount that has it. 0, or the exit status after saying why (2 for a
 * usage error). */
int cli_locate_run(const struct cli_command *c, const char *run, const char *mount, char *dir,
		   size_t n);
/* runfs tasks RUN [--state S]... [--task NAME] [--tsv] [--mount DIR] */
int cli_tasks(const struct cli_command *c, int argc, char **argv);
/* Whether path exists, giving up after timeout_ms (a hung mount). */
int cli_exists(const char *path, int timeout_ms);

#endif
