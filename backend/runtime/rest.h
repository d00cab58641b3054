/*
 * A small client for slurmrestd: one call, JSON in and out, the user and
 * token in slurmrestd's own headers (X-SLURM-USER-NAME/-TOKEN; it answers
 * "Authorization: Bearer" with 401). TLS is verified (curl's default).
 * Messages never carry the token.
 */
#ifndef RUNFS_REST_H
#define RUNFS_REST_H

#include <jansson.h>

#include "rerr.h"

struct rest {
	const char *uri;  /* "https://host:6820" */
	const char *api;  /* "v0.0.38" when NULL */
	const char *user; /* $USER, else root, when NULL */
	const char *token;
	long timeout_ms;
	long calls; /* calls made, for the benchmark */
	void *curl; /* a CURL handle to reuse (its connection stays open), or NULL */
};

/*
 * method GET, POST or DELETE of <uri>/slurm/<api>/<path> (path may hold a
 * query). body may be NULL. On RF_OK *reply is the parsed answer. Any
 * failure (unreachable, HTTP error, slurmrestd's errors[], bad JSON) gives
 * an error code and a one-line *err; *errnum is slurmrestd's error_number
 * when it gave one (-1: the token was refused; 2017: no such job).
 */
enum rerr rest_call(struct rest *r, const char *method, const char *path, json_t *body,
		    json_t **reply, int *errnum, char **err);

#endif
