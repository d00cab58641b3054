/*
 * The executor: starts one attempt of a task run as its own process group
 * (no shell), with stdout and stderr on pipes that the scheduler pumps into
 * files, and hands back a pidfd so the scheduler can poll for its exit.
 */
#ifndef RUNFS_EXEC_H
#define RUNFS_EXEC_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "util.h"

struct exec_req {
	char *const *argv;
	char *const *envp;
	const char *cwd;
	const char *stdin_path; /* NULL: /dev/null */
};

struct exec_proc {
	pid_t pid; /* also the process group id */
	int pidfd;
	int out_fd; /* read ends, non-blocking */
	int err_fd;
};

/* 1 when the process has exited (not reaped: exec_reap does that); for a
 * process without a pidfd, which poll() cannot watch. */
int exec_exited(const struct exec_proc *p);
/* 1 once pidfd_open was found missing (Linux before 5.3, valgrind 3.19):
 * processes started since have no pidfd. */
int exec_no_pidfd(void);
/* 0, or -1 with a one-line reason in err ("command not found: foo"). */
int exec_start(const struct exec_req *r, struct exec_proc *p, char *err, size_t errsz);
/* execpath.c: the file that execvpe would run for name (a search of the
 * daemon's PATH, made once a moment); 0, or -1 when the child has to
 * search. */
int exec_resolve(const char *name, char *out, size_t n);
/* Reaps the (exited) leader: 0 with *code = exit status, or -signal; the
 * second also gives in *ru what it and its reaped children used. */
int exec_reap(struct exec_proc *p, int *code);
int exec_reap_usage(struct exec_proc *p, int *code, struct rusage *ru);
/* Signals the whole process group. */
void exec_signal(const struct exec_proc *p, int sig);
void exec_close(struct exec_proc *p);

/*
 * A file made on first write: most tasks print nothing, and on this
 * workload creating empty files costs more than running the task.
 */
struct lazy_file {
	int fd;
	char *path; /* malloc'd; the file is opened O_APPEND */
	/* errno of the first open or write that failed, or 0. A file that
	 * missed a write is not written again: it would have a hole. */
	int err;
};

int lazy_file_set(struct lazy_file *f, const char *path);
/* The descriptor, opening the file if needed; -1 on error (logged). */
int lazy_file_fd(struct lazy_file *f);
void lazy_file_close(struct lazy_file *f);

struct pump {
	int fd;		       /* pipe read end */
	struct lazy_file file; /* stdout or stderr */
	struct buf partial;
	/* How many bytes at the start of partial the task log already has
	 * (it took them from stdout's file when it stopped sharing it). */
	size_t logged;
	int64_t bytes; /* read from the pipe so far */
	/* Up to keep_max bytes of the output, kept for the caller; kept_cut
	 * once there was more (kept is then empty). */
	size_t keep_max;
	struct buf kept;
	int kept_cut;
};

/*
 * A task run's combined log (tasks/<id>/logs, tasklog.c). While the attempt
 * has printed on stdout only, the log is stdout's own file under a second
 * name (a hard link): most tasks print on stdout alone, and on this
 * workload each file created costs about as much as running the task.
 * Anything else (a stderr line, a note, the next attempt's first line)
 * first gives the log a file of its own, a copy that begins with every
 * byte the shared one held, so that a reader keeps its place.
 */
struct task_log {
	struct lazy_file file;
	struct pump *out; /* the attempt's stdout */
	int shared;	  /* the file is out->file's */
};

void task_log_set(struct task_log *l, const char *path, struct pump *out);
/* Called when out's file has just been made: shares it if the log has no
 * file yet. */
void task_log_share(struct task_log *l);
/* A descriptor for anything but stdout's bytes: the log's own file. */
int task_log_fd(struct task_log *l);
/* After each read of stdout: a shared log that has grown past
 * TASK_LOG_SHARE_MAX gets its own file. */
#define TASK_LOG_SHARE_MAX (64 << 20)
void task_log_check(struct task_log *l);
void task_log_close(struct task_log *l);

/*
 * A pump copies one pipe into its own file (stdout or stderr) verbatim and,
 * line by line, into the task's combined log and the run's log (there with a
 * "<task-id> | " prefix). Whole lines keep the two streams and concurrent
 * tasks from tearing each other's lines.
 */
struct log_sink {
	struct task_log *task_log; /* tasks/<id>/logs */
	int run_fd;		   /* runs/<id>/logs, O_APPEND */
	int *run_err;		   /* as lazy_file.err, for run_fd */
	const char *task_id;
};

/* Reads what the pipe holds: 1 when it read data, 0 at end of file,
 * -1 when nothing is ready (EAGAIN) or on error. */
int pump_read(struct pump *p, const struct log_sink *s);
/* Reads to end of file without blocking, writes out a last partial line,
 * and closes the pipe and the file. */
void pump_finish(struct pump *p, const struct log_sink *s);

#endif
