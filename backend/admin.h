/*
 * The seam the command line uses outside a mount: the default data
 * directory, saved configurations, and the local runtime daemon of a data
 * directory (runfs up, down, status). cli/ reaches runtimes only through
 * here and backend.h, as fs/ does.
 */
#ifndef RUNFS_ADMIN_H
#define RUNFS_ADMIN_H

#include <stdint.h>

#include <jansson.h>

#include "rerr.h"

/* The default data directory: $XDG_DATA_HOME/runfs or ~/.local/share/runfs
 * (malloc'd), NULL when neither variable is set. */
char *admin_default_datadir(void);

/* The user's configuration file (config.h); 0, or -1 with no HOME. */
int admin_config_path(char *out, size_t n);
/* The saved configurations' document (config.h's format). */
enum rerr admin_config_load(const char *path, json_t **doc, char **err);
/* The default configuration's name in doc (the default of defaults when
 * the file names none). */
const char *admin_config_default(json_t *doc);
/* Saves conf as name (NULL: removes it); RF_PERM for a built-in name. */
enum rerr admin_config_store(const char *path, const char *name, json_t *conf, char **err);
/* Makes name (saved or built in; an alias is taken as its runtime) the
 * default. */
enum rerr admin_config_set_default(const char *path, const char *name, char **err);
/* The i-th built-in configuration's name (static), NULL past the last. */
const char *admin_builtin_config(int i);
/* How `runfs config show` and configs/<name> show a configuration:
 * malloc'd JSON text with a newline, secrets as "***"; NULL when there is
 * no such configuration (or no memory). */
char *admin_config_show(json_t *doc, const char *name);
/* A login: the fields given (uri, token and the optional ones) laid over
 * the saved entry of that name, if there is one, so that a login again
 * with a new token keeps the rest; checked by the runtime of saved
 * configurations, tried on the server, and saved as name (NULL: named
 * after the URI's host). *saved is the name used; *line what the server
 * said (a warning unless *accepted); both malloc'd. */
enum rerr admin_login(const char *path, json_t *fields, const char *name, char **saved, char **line,
		      int *accepted, char **err);

/* The local runtime daemon of datadir (absolute): its pid, 0 when none
 * runs, -1 on error. */
int admin_local_pid(const char *datadir);
/* Starts it in the background unless it runs; *already says which. */
enum rerr admin_local_up(const char *datadir, int jobs, int grace_ms, int *pid, int *already,
			 char **err);
/* Asks it to end (drain: once its runs have finished) and waits at most
 * timeout_ms (< 0: as long as it takes); *pid 0 when none ran. */
enum rerr admin_local_down(const char *datadir, int drain, int timeout_ms, int *pid, char **err);
/* Serves as the daemon in this process until asked to end; the exit
 * status. */
int admin_local_serve(const char *datadir, int jobs, int grace_ms);

/* The cache of task runs of datadir (engine/cache.c): its entries, their
 * bytes, and the hits, misses and saves noted so far. */
struct admin_cache {
	long entries;
	long long bytes;
	long hits, misses, saves;
};
enum rerr admin_cache_stats(const char *datadir, struct admin_cache *out);
/* Removes entries older than max_age_ms, then the oldest while all are
 * over max_size bytes (< 0: no limit); each is told of each one. */
typedef void (*admin_cache_fn)(const char *key, long long bytes, int64_t created, void *arg);
int admin_cache_prune(const char *datadir, int64_t max_age_ms, long long max_size, int dry,
		      admin_cache_fn each, void *arg);

#endif
