/*
 * Nodes of the tree and their inode numbers. An inode number encodes what
 * a node is (its kind, the run's seq, the task run's index and a small
 * sub-index), so numbers are stable for the life of the mount and the
 * daemon keeps no table that grows with the number of runs.
 *
 *   63..56 kind | 55..32 run seq | 31..12 task idx | 11..0 sub
 */
#ifndef RUNFS_NODE_H
#define RUNFS_NODE_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "backend.h"
#include "layout.h"
#include "util.h"

enum kind {
	K_NONE = 0,
	K_ROOT,
	K_SUBMIT,
	K_PREPARE,
	K_CONFIGS,
	K_CONFIG, /* sub = configuration index */
	K_CONFIG_DEFAULT,
	K_RUNS,
	K_RUN,
	K_RUN_FILE, /* sub = which generated file */
	K_RUN_LOGS,
	K_CTL,
	K_WAIT,
	K_EVENTS,
	K_RESULTS,
	K_RESULT, /* sub = result index */
	K_ARTIFACTS,
	K_ARTIFACT_DIR, /* task */
	K_ARTIFACT,	/* task, sub = output index */
	K_TASKS,
	K_TASK,	     /* task */
	K_TASK_FILE, /* task, sub = which generated file */
	K_TASK_LOG,  /* task, sub = stdout, stderr or logs */
	K_INPUTS,    /* task */
	K_INPUT,     /* task, sub = argument index */
	K_OUTPUTS,   /* task */
	K_OUTPUT,    /* task, sub = output index */
	K_INDEX,
	K_BY_STATE,
	K_STATE_DIR,  /* sub = state */
	K_STATE_LINK, /* run, sub = state */
	K_GRAPH,
	K_RUN_BY_STATE,	  /* run */
	K_RUN_STATE_DIR,  /* run, sub = state */
	K_RUN_STATE_LINK, /* run, task, sub = state */
	K_TASK_CTL,	  /* task */
	K_TASK_CACHED,	  /* task */
	K_TASK_KEY,	  /* task, sub = key or what went into it */
	K_COUNT
};

#define SUB_MAX	 4095
#define TASK_MAX ((1 << 20) - 1)
#define SEQ_MAX	 ((1 << 24) - 1)

struct node {
	enum kind kind;
	int64_t run;
	int task;
	int sub;
};

fuse_ino_t node_ino(const struct node *n);
int node_from_ino(fuse_ino_t ino, struct node *n);

/* An open file: a snapshot rendered at open, a file of the data directory,
 * or a stream (submit) with its own state. */
struct fh {
	struct buf data; /* rendered content, or what was written to submit */
	int fd;		 /* passthrough file, -1 when none */
	struct node node;
	/* submit and prepare: reads, writes and flushes of one open file may
	 * reach different worker threads (a dup'd descriptor, a fast reader) */
	pthread_mutex_t mu;
	char *reply;
	size_t reply_off;
	int submitted;
	int rejected;
	/* watching (watch.c, wait.c) */
	int polled;			  /* a poll handle is registered */
	int stream;			  /* reads go to the kind's read hook */
	int writing;			  /* opened for writing */
	char *name;			  /* a configuration being saved */
	int read_once;			  /* a later read at offset 0 renders afresh */
	int lazy;			  /* rendered at the first read (kcache.c) */
	int shared;			  /* fd is a file of two names (kind_ops.follows) */
	int64_t seen;			  /* the run's last event when last rendered */
	int64_t cursor;			  /* events: the last event delivered */
	struct fh *prev_open, *next_open; /* every open file (ops.c) */
};

/* What a directory adds for one entry; returns 1 when the reply is full. */
typedef int (*fill_fn)(void *ctx, const char *name, const struct node *child, off_t next);

/*
 * What each kind of node does. Directories have lookup and list; files
 * have either render (generated content) or path (a file of the data
 * directory), and optionally open (to refuse or prepare) and write.
 * Each returns 0 or an errno value.
 */
struct kind_ops {
	mode_t mode;
	int (*lookup)(const struct node *dir, const char *name, struct node *child);
	int (*list)(const struct node *dir, off_t from, fill_fn fill, void *ctx);
	int (*render)(const struct node *n, struct buf *out, int64_t *mtime);
	int (*path)(const struct node *n, char *path, int64_t *mtime);
	/* When neither render nor path tells the size cheaply. */
	int (*size)(const struct node *n, off_t *size, int64_t *mtime);
	int (*open)(const struct node *n, struct fh *fh);
	int (*write)(const struct node *n, struct fh *fh, const char *data, size_t len);
	int (*flush)(const struct node *n, struct fh *fh);
	/* Streams answer reads themselves, now or later (wait, events). */
	void (*read)(fuse_req_t req, struct fh *fh, size_t size);
	/* poll(): readable when it has something to give (events: a line or
	 * its end); without it, once the run has changed since the last read
	 * from the start. */
	int (*ready)(struct fh *fh);
	/* Directories where files can be made and removed (configs/). */
	int (*create)(const struct node *dir, const char *name, struct fh *fh);
	int (*unlink)(const struct node *dir, const char *name);
	/* Files of the data directory: the file may be replaced by a longer
	 * one that begins with the same bytes (a task's log that shared
	 * stdout's file, a hard link, until it needed one of its own). */
	int (*follows)(const struct node *n);
	/* When the mode depends on the node, not only on its kind. */
	mode_t (*mode_of)(const struct node *n);
	/* A directory's mtime, when it is not its run's last change. */
	int (*mtime_of)(const struct node *n, int64_t *mtime);
	/* Symbolic links: the target. */
	int (*readlink)(const struct node *n, struct buf *target, int64_t *mtime);
	/* The name may vanish or come to mean another node (a configuration
	 * removed by the CLI, a run leaving a state): the kernel must ask
	 * again on every path walk. Every other name, once found, keeps its
	 * node for the life of the mount, so the kernel may remember it. */
	int transient;
	/* Its attributes never change: the kernel may keep them. */
	int fixed_attr;
	/* A directory whose entries never change: the kernel may keep them. */
	int fixed_list;
};

extern struct backend *fs_backend;
extern int64_t fs_start_ms; /* when the mount started: the mtime of fixed nodes */
extern const struct kind_ops *const kind_table[K_COUNT];

/* Per-kind tables, one file each. */
extern const struct kind_ops root_ops, runs_ops, configs_ops, config_ops, config_default_ops;
extern const struct kind_ops submit_ops, prepare_ops;
extern const struct kind_ops run_ops, run_file_ops, run_logs_ops, ctl_ops, wait_ops, events_ops;
extern const struct kind_ops results_ops, result_ops, artifacts_ops, artifact_dir_ops, artifact_ops;
extern const struct kind_ops tasks_ops, task_ops, task_file_ops, task_log_ops, inputs_ops,
    input_ops, outputs_ops, output_ops;
extern const struct kind_ops index_ops, by_state_ops, state_dir_ops, state_link_ops, graph_ops;
extern const struct kind_ops run_by_state_ops, run_state_dir_ops, run_state_link_ops;
extern const struct kind_ops task_ctl_ops, task_cached_ops, task_key_ops;
/* run.c: rerun of task runs of run_id, its refusal logged; an errno. */
int ctl_rerun(const char *run_id, char *const *names, int n);

/* memo.c: renders n, or copies the rendering made moments ago for the
 * same node under the same change counters (key); see memo.c. */
typedef int (*render_fn)(const struct node *n, struct buf *out, int64_t *mtime);
int memo_render(const struct node *n, const int64_t key[2], render_fn render, struct buf *out,
		int64_t *mtime);
/* The size of a rendered file of a settled run, when known under key;
 * 1 if it is. */
int memo_size(fuse_ino_t ino, const int64_t key[2], off_t *size, int64_t *mtime);
void memo_size_put(fuse_ino_t ino, const int64_t key[2], off_t size, int64_t mtime);
/* Whether what the kernel caches of ino was filled under key (1), and
 * from now on it is. */
int memo_cache_kept(fuse_ino_t ino, const int64_t key[2]);
/* At exit. */
void memo_free_all(void);

/* errmap.c: the one table from backend results to errno. */
int rerr_errno(enum rerr e);
/* The errno of a refused request stream (submit, a configuration). */
int rerr_errno_request(enum rerr e);

/* Shared helpers (node.c). */
int node_run(const struct node *n, struct run_rec *r);
/* Without task counts: for a state, an id or the change counter. */
int node_run_brief(const struct node *n, struct run_rec *r);
/* Around one request that reads the same run many times (a listing):
 * node_run_brief reads it once. */
void node_memo_begin(void);
void node_memo_end(void);
int node_task(const struct node *n, struct task_rec *t);
/* Looks a name up in a fixed list of names; returns its index or -1. */
int name_index(const char *const *names, int count, const char *name);
/* Lists fixed names from `from`, each as the directory's lookup finds it. */
int list_names(const struct node *dir, const char *const *names, int count, off_t from,
	       fill_fn fill, void *ctx);
/* The folder that lists the folder dir (".." in a listing). */
void node_parent(const struct node *dir, struct node *parent);
/* The i-th line of a newline-separated list, copied into out; 0 or ENOENT. */
int nth_line(const char *lines, int i, char *out, size_t outsz);
int line_index(const char *lines, const char *name);
int64_t run_mtime(const struct run_rec *r);
/*
 * A file of the data directory (or of a remote run's work directory): opened
 * for fh without following links, and its size and mtime as that open will
 * show it. Not written yet, it reads as empty; where a remote run's work
 * directory cannot be seen, as one line that says so. 0 or an errno value.
 */
int data_file_open(const char *path, struct fh *fh);
void data_file_stat(const char *path, off_t *size, int64_t *mtime);
/* runs/ and by-state/<STATE>/: children of kind for the runs (those in
 * state, or all when state < 0), listed in pages whose cookie is the last
 * run's seq, so that a listing of thousands never repeats the work of the
 * pages before it; and looked up by id. */
int list_runs(int state, enum kind kind, off_t from, fill_fn fill, void *ctx);
int lookup_run(const char *name, int state, enum kind kind, struct node *child);
/* The last change of any run (a mount with no runs: its start). */
int64_t runs_changed(void);
/* One word written to a file (echo's newline and blanks around it are
 * fine) copied into out; 0, or EINVAL when it is not one short word. */
int written_word(const char *data, size_t len, char *out, size_t outsz);
/* The mtime of a node whose content follows its run's state: the run's
 * last change. 0 or an errno value. */
int node_run_mtime(const struct node *n, int64_t *mtime);
/* 1 when the node's run has ended: what is missing now will never come. */
int node_run_ended(const struct node *n);
/* When the node's run was made. */
int node_run_created(const struct node *n, int64_t *mtime);

#endif
