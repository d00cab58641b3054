/* The cache of task runs across runs (cache.c). */
#ifndef RUNFS_CACHE_H
#define RUNFS_CACHE_H

#include <stdint.h>

#include <jansson.h>

#include "defn.h"

/* The key of copy `copy` of step's task run, its parameters bound to
 * values: hex SHA-256 into key, and what went into it in *made_of (a new
 * reference). 0, or -1 without memory. */
int cache_key(const struct defn_task *task, const struct defn_step *step, int copy,
	      char *const *values, char key[65], json_t **made_of);
/*
 * The cache is DATA/cache of datadir; a run's files are under files_dir
 * (the data directory, or a Slurm configuration's work directory), laid
 * out alike (layout.h).
 */
/* A sound entry of key: its files linked into the task run's attempt 0
 * (a hit runs no attempt), "run/task" it came from into from; 1. 0 on a
 * miss (a damaged entry is removed and misses). */
int cache_take(const char *datadir, const char *files_dir, const char *key, const char *run,
	       const struct defn_task *task, const char *task_id, char *from, size_t fromsz);
/* Keeps the files of the task run's attempt n, which succeeded, as the
 * entry of key. Failing only costs a later hit: logged. */
void cache_save(const char *datadir, const char *files_dir, const char *key, const char *run,
		const struct defn_task *task, const char *task_id, int n);
/* What tasks/<t>/cache_key(.json) and cached_from read, kept in the
 * store: the key, what went into it, and for a hit where it came from.
 * Failing is logged. */
struct store;
void cache_record(struct store *st, int64_t run_seq, int idx, const char *key, json_t *made_of,
		  const char *from);

/* -o cache_dir=DIR: DATA/cache becomes a link to DIR, which several data
 * directories may share (on another filesystem, entries are copies, not
 * links). Refused while DATA/cache is a folder of entries of its own.
 * 0, or -1 with *err. */
int cache_use_dir(const char *datadir, const char *dir, char **err);

/* cache_prune.c: the cache as a whole. */
struct cache_stats {
	long entries;
	long long bytes;	  /* of the entries' files */
	long hits, misses, saves; /* noted in DATA/cache/log */
};
/* Notes a hit, miss, save or damaged entry in DATA/cache/log. */
void cache_note(const char *datadir, const char *what, const char *key);
int cache_stats(const char *datadir, struct cache_stats *st);
/* Removes the entries older than max_age_ms (< 0: any age), then, oldest
 * first, while all of them are over max_size bytes (< 0: any size);
 * with dry only says which. each is told of every entry removed; the
 * count. */
typedef void (*cache_prune_fn)(const char *key, long long bytes, int64_t created, void *arg);
int cache_prune(const char *datadir, int64_t max_age_ms, long long max_size, int dry,
		cache_prune_fn each, void *arg);

#endif
