/*
 * runfs up | down | status: the local runtime daemon of a data directory
 * (backend/admin.h). up and down are idempotent: they exit 0 when the
 * daemon already is as asked; status exits 0 when it runs and 1 when not.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "admin.h"
#include "log.h"
#include "util.h"

struct args {
	const char *data;
	int jobs, grace_ms, foreground, wait, timeout_s;
};

/* A whole number in [lo, hi], or -1. */
static int
number(const char *s, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < lo || v > hi ? -1 : (int)v;
}

/* Whether usage names option opt whole ("--d" is not "--data"). */
static int
named_in(const char *usage, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = strstr(usage, opt); p; p = strstr(p + 1, opt))
		if ((p == usage || p[-1] == '[' || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ']'))
			return 1;
	return 0;
}

/* Parses the options usage allows (those named in it, and hidden, an
 * option for runfs's own use); 0, or 2 after printing the usage error. */
static int
parse(const struct cli_command *c, int argc, char **argv, const char *hidden, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = strcmp(opt, "--foreground") && strcmp(opt, "--wait");

		if (strncmp(opt, "--", 2) ||
		    !(named_in(c->usage, opt) || (hidden && !strcmp(opt, hidden))))
			return cli_usage(c, "unexpected argument %s", opt);
		if (takes && val == NULL)
			return cli_usage(c, "%s needs a value", opt);
		if (!strcmp(opt, "--data"))
			a->data = val;
		else if (!strcmp(opt, "--jobs") && (a->jobs = number(val, 0, 4096)) < 0)
			return cli_usage(c, "--jobs takes 0 to 4096");
		else if (!strcmp(opt, "--grace") && (a->grace_ms = number(val, 0, 86400)) < 0)
			return cli_usage(c, "--grace takes 0 to 86400 seconds");
		else if (!strcmp(opt, "--grace"))
			a->grace_ms *= 1000;
		else if (!strcmp(opt, "--grace-ms") && (a->grace_ms = number(val, 0, 86400000)) < 0)
			return cli_usage(c, "--grace-ms takes 0 to 86400000");
		else if (!strcmp(opt, "--timeout") && (a->timeout_s = number(val, 1, 86400)) < 0)
			return cli_usage(c, "--timeout takes 1 to 86400 seconds");
		else if (!strcmp(opt, "--foreground"))
			a->foreground = 1;
		else if (!strcmp(opt, "--wait"))
			a->wait = 1;
		i += takes;
	}
	return 0;
}

/* The data directory, absolute (the daemon works from "/"); NULL after
 * saying why. */
char *
cli_data_dir(const char *given)
{
	char *dir = given ? strdup(given) : admin_default_datadir(), *abs;

	if (dir == NULL) {
		fprintf(stderr, "runfs: no data directory: set HOME or XDG_DATA_HOME, or give "
				"--data DIR\n");
		return NULL;
	}
	if (mkdir_p(dir, 0700) < 0 || (abs = realpath(dir, NULL)) == NULL) {
		fprintf(stderr, "runfs: data directory %s: %s\n", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	free(dir);
	return abs;
}

int
cli_up(const struct cli_command *c, int argc, char **argv)
{
	struct args a = {0};
	char *err = NULL, *dir;
	int rc, pid, already;

	/* --grace-ms is how a mount passes its grace on; not in the usage. */
	if ((rc = parse(c, argc, argv, "--grace-ms", &a)) != 0)
		return rc;
	if ((dir = cli_data_dir(a.data)) == NULL)
		return 1;
	if (a.foreground) {
		rc = admin_local_serve(dir, a.jobs, a.grace_ms);
	} else if (admin_local_up(dir, a.jobs, a.grace_ms, &pid, &already, &err) != RF_OK) {
		fprintf(stderr, "runfs: %s\n", err ? err : "cannot start the local runtime");
		rc = 1;
	} else {
		printf("local runtime %s (pid %d, data %s, log %s/local.log)\n",
		       already ? "already running" : "started", pid, dir, dir);
		rc = 0;
	}
	free(err);
	free(dir);
	return rc;
}

int
cli_down(const struct cli_command *c, int argc, char **argv)
{
	struct args a = {0};
	char *dir, *err = NULL;
	int rc, pid;

	if ((rc = parse(c, argc, argv, NULL, &a)) != 0)
		return rc;
	if ((dir = cli_data_dir(a.data)) == NULL)
		return 1;
	if (a.wait)
		printf("waiting for the local runtime's runs to finish\n");
	fflush(stdout);
	if (admin_local_down(dir, a.wait, a.timeout_s ? a.timeout_s * 1000 : -1, &pid, &err) !=
	    RF_OK) {
		fprintf(stderr, "runfs: %s\n", err ? err : "cannot stop the local runtime");
		rc = 1;
	} else if (pid == 0) {
		printf("local runtime not running (data %s)\n", dir);
	} else {
		printf("local runtime stopped (pid %d)\n", pid);
	}
	free(err);
	free(dir);
	return rc;
}

int
cli_status(const struct cli_command *c, int argc, char **argv)
{
	struct args a = {0};
	char *dir;
	int rc, pid;

	if ((rc = parse(c, argc, argv, NULL, &a)) != 0)
		return rc;
	if ((dir = cli_data_dir(a.data)) == NULL)
		return 2;
	if ((pid = admin_local_pid(dir)) < 0) {
		fprintf(stderr, "runfs: cannot read %s/local.pid: %s\n", dir, strerror(errno));
		rc = 2;
	} else if (pid == 0) {
		printf("local runtime not running (data %s)\n", dir);
		rc = 1;
	} else {
		printf("local runtime running (pid %d, data %s, log %s/local.log)\n", pid, dir,
		       dir);
		rc = 0;
	}
	free(dir);
	return rc;
}
