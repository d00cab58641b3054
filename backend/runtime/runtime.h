/*
 * The runtimes (DESIGN.md "Runtimes") and their registry: one table
 * (registry.c) of every runtime, each entry owning its name and aliases,
 * whether a configuration of its name is built in, the check of its saved
 * configurations' fields, its login check and its ops. Nothing outside a
 * runtime's own files names a runtime: the backend picks an entry from a
 * run's configuration and calls it.
 */
#ifndef RUNFS_RUNTIME_H
#define RUNFS_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "defn.h"
#include "rerr.h"
#include "scheduler.h"
#include "store.h"

struct runtime;

struct runtime_ops {
	const char *name;
	const char *const *aliases; /* other names of its configuration; NULL-ended, or NULL */
	/* A configuration of its own name always exists and cannot be
	 * saved over (in_process, local); else configurations of it are
	 * saved by the user. */
	int builtin;
	/* A saved configuration as a user wrote it (JSON text): its fields
	 * checked and normalized into *out; reasons never quote a secret.
	 * NULL for a built-in runtime. */
	enum rerr (*config_parse)(const char *text, size_t len, json_t **out, char **err);
	/* The name a saved configuration gets when the user gives none
	 * (malloc'd), NULL with *err when it cannot be named. */
	char *(*default_name)(json_t *conf, char **err);
	/* Whether the server takes the configuration's credentials: a line
	 * for the user in *line; RF_OK when it does. NULL: nothing to ask. */
	enum rerr (*login_check)(json_t *conf, char **line);
	/* Whether a run can be submitted with the saved configuration now
	 * (its token has not expired); else *err says why. NULL: always. */
	enum rerr (*usable)(json_t *conf, char **err);
	/* Called before a mount whose default it is goes to the background,
	 * in a process without threads (the local runtime starts its daemon
	 * here). NULL: nothing to do. */
	enum rerr (*prepare)(struct runtime *rt, char **err);
	/* Whether it can meet what the definition's tasks ask for (GPUs,
	 * disk); else RF_INVAL with the reason naming the field. NULL: it
	 * takes any (Slurm decides on the cluster). */
	enum rerr (*admit)(struct runtime *rt, const struct defn *d, char **err);
	/* Said of a run whose stop this process cannot act on (RF_BUSY). */
	const char *busy_reason;

	/* Reconciles the store with what this runtime still runs, then starts. */
	int (*open)(struct runtime *rt);
	/* Ends what this process runs (runs it cut off end KILLED). */
	void (*close)(struct runtime *rt);
	enum rerr (*launch)(struct runtime *rt, int64_t run_seq);
	enum rerr (*signal)(struct runtime *rt, int64_t run_seq, enum sched_verb v);
	int (*executing)(struct runtime *rt, int64_t run_seq);
	/* Removes what it keeps of an ended run outside the data directory
	 * (Slurm: its record and files in the work directory), before the run
	 * is deleted. NULL: nothing. */
	enum rerr (*forget)(struct runtime *rt, const struct run_rec *r, char **err);
};

struct runtime {
	const struct runtime_ops *ops;
	struct store *st;
	const char *datadir;
	int jobs;
	int grace_ms;
	int autostart; /* local: start the runtime daemon when it is not running */
	int gpus;      /* the GPUs this machine offers its tasks (-o gpus=N) */
	void *priv;
};

/* registry.c: the table, in the order `runfs config list` shows the
 * built-in ones; NULL-ended. The first entry is the default of defaults. */
extern const struct runtime_ops *const runtime_table[];
#define RUNTIME_MAX 8
/* The entry a configuration name names (its name or an alias), NULL when
 * none does (a saved configuration's name). */
const struct runtime_ops *runtime_named(const char *name);
/* The index of an entry in runtime_table. */
int runtime_index(const struct runtime_ops *ops);
/* A built-in configuration's canonical name ("ray" is "local"); any other
 * name as it is. */
const char *runtime_canonical(const char *name);
/* 1 when name (or an alias) is a built-in configuration. */
int runtime_builtin(const char *name);
/* The i-th built-in configuration's name, in table order; NULL past the
 * last. */
const char *runtime_builtin_at(int i);
/* The runtime saved configurations use when they do not say. */
const struct runtime_ops *runtime_saved_default(void);

/* admit.c: the admission of the runtimes of this machine (in_process,
 * local): GPUs up to rt->gpus, disk up to what the data directory's
 * filesystem has free. */
enum rerr runtime_admit_local(struct runtime *rt, const struct defn *d, char **err);

/* unstarted.c: ends a run that never started (prepared, or queued for a
 * runtime that had not taken it yet) as TERMINATED. Commits. */
enum rerr run_end_unstarted(struct store *st, struct run_rec *r);

#endif
