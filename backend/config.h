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
 * half a file. in_process and local (alias ray) are built in and can be
 * neither saved over nor removed.
 */
#ifndef RUNFS_CONFIG_H
#define RUNFS_CONFIG_H

#include <jansson.h>

#include "rerr.h"

#define CONFIG_VERSION	1
#define CONFIG_NAME_MAX 64

/* The config file's path for this user; 0, or -1 when neither
 * XDG_CONFIG_HOME nor HOME is set. */
int config_path(char *out, size_t n);

/* 1 for in_process, local and ray. */
int config_builtin(const char *name);

/*
 * Loads the file (a missing file is an empty one). *out is the whole
 * document; free with json_decref. On error returns RF_INVAL or RF_IO with
 * a malloc'd reason in *err.
 */
enum rerr config_load(const char *path, json_t **out, char **err);

/*
 * Checks a remote configuration as a user wrote it (JSON text): an object
 * with uri (http or https, checked with curl's URL parser) and token, and
 * optional user, partition, workdir, api_version, account, qos; nothing
 * else. On success *out is the normalized object (runtime "slurm",
 * api_version defaulted to v0.0.38). Reasons never quote the token.
 */
enum rerr config_parse(const char *text, size_t len, json_t **out, char **err);

/* The name a remote configuration gets by default: the first label of the
 * URI's host ("https://hpc.example.org:6820" -> "hpc"). malloc'd. */
char *config_auto_name(const char *uri, char **err);

/* Saves (or, with conf NULL, removes) configuration `name` under the lock.
 * RF_PERM for a built-in name, RF_NOENT when removing an unknown one. */
enum rerr config_store(const char *path, const char *name, json_t *conf, char **err);
/* Sets the default configuration's name (it must exist). */
enum rerr config_set_default(const char *path, const char *name, char **err);

/* The configuration as shown to people: JSON with the token as "***".
 * malloc'd, with a trailing newline. */
char *config_show(const char *name, json_t *conf);

#endif
