/* The Slurm runtime's saved configurations (slurm_config.c). */
#ifndef RUNFS_SLURM_CONFIG_H
#define RUNFS_SLURM_CONFIG_H

#include <jansson.h>

#include "rerr.h"

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

/* Asks slurmrestd whether it takes the token (GET .../ping): a line for
 * the user in *line (malloc'd); RF_OK when it does. */
enum rerr slurm_login_check(json_t *conf, char **line);

/* RF_PERM, with the reason, when the configuration's token has expired. */
enum rerr slurm_usable(json_t *conf, char **err);

#endif
