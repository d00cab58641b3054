/*
 * Saved configurations: $XDG_CONFIG_HOME/runfs/config.json (or
 * ~/.config/runfs/config.json), mode 0600:
 *   {"version": 1, "default": "in_process",
 *    "configs": {"hpc": {"runtime": "slurm", "uri": "https://hpc.example.org:6820",
 *                        "token": "...", "user": "...", "partition": "...",
 *                        "workdir": "...", "api_version": "v0.0.38",
 *                        "account": "...", "qos": "..."}}}
 * Every change is a read-modify-write under an flock on config.json.lock,
 * written to a temporary file and renamed over the old one, so two
 * processes saving at once never lose an update and a reader never sees
 * half a file. What a configuration holds is its runtime's to check
 * (runtime.h); built-in ones are never saved here.
 */
#ifndef RUNFS_CONFIG_H
#define RUNFS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rerr.h"

#define CONFIG_VERSION	1
#define CONFIG_NAME_MAX 64

/* The config file's path for this user; 0, or -1 when neither
 * XDG_CONFIG_HOME nor HOME is set. */
int config_path(char *out, size_t n);

/*
 * Loads the file (a missing file is an empty one). *out is the whole
 * document; free with json_decref. On error returns RF_INVAL or RF_IO with
 * a malloc'd reason in *err.
 */
enum rerr config_load(const char *path, json_t **out, char **err);

/* Saves (or, with conf NULL, removes) configuration `name` under the lock;
 * RF_NOENT when removing an unknown one. Built-in names are the caller's
 * to refuse (the runtime registry knows them). */
enum rerr config_store(const char *path, const char *name, json_t *conf, char **err);
/* Sets the default configuration's name: a saved one, or a built-in one
 * (builtin 1; the caller knows). The file's "default" is absent until one
 * is set: the default of defaults is then the registry's first runtime. */
enum rerr config_set_default(const char *path, const char *name, int builtin, char **err);

/* When the configuration's token expires (a JWT's "exp" claim, read
 * without verifying the token, as ms since the epoch); 0, or -1 when the
 * token is no JWT or has no exp. */
int config_token_expiry(json_t *conf, int64_t *exp_ms);

/* The configuration as shown to people: JSON with the token as "***" and,
 * for a token, token_expires (ISO 8601 UTC, null when not known).
 * malloc'd, with a trailing newline. */
char *config_show(const char *name, json_t *conf);

#endif
