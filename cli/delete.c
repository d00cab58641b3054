/*
 * runfs rm and runfs prune: deleting ended runs is rmdir of runs/<id> in
 * a mount (fs/dir.c), so the CLI, rm -r and a script all go one way.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "state.h"
#include "util.h"

/* rmdir of one run, its error said as the state that caused it. */
static int
remove_run(const char *mnt, const char *id)
{
	char dir[PATH_MAX + 300], path[PATH_MAX + 320], *state = NULL;
	size_t len;

	snprintf(dir, sizeof(dir), "%s/runs/%s", mnt, id);
	if (rmdir(dir) == 0)
		return 0;
	if (errno == EBUSY) {
		snprintf(path, sizeof(path), "%s/status", dir);
		if (read_file(path, 64, &state, &len) == 0)
			state[strcspn(state, "\n")] = '\0';
		fprintf(stderr, "runfs: %s is %s: stop it first (echo stop > %s/ctl)\n", id,
			state ? state : "not ended", dir);
		free(state);
	} else {
		fprintf(stderr, "runfs: %s: %s\n", id,
			errno == ENOENT ? "no such run" : strerror(errno));
	}
	return -1;
}

int
cli_rm(const struct cli_command *c, int argc, char **argv)
{
	const char *mount = NULL;
	char mnt[PATH_MAX];
	int rc = 0, nruns = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mount") && i + 1 < argc)
			mount = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage(c, "unexpected argument %s", argv[i]);
		else if (strchr(argv[i], '/') || strlen(argv[i]) > 200)
			return cli_usage(c, "%s is not a run id", argv[i]);
		else
			nruns++;
	}
	if (nruns == 0)
		return cli_usage(c, "rm needs run ids");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mount")) {
			i++;
			continue;
		}
		/* Each run in the mount given, else in the first that has it. */
		if ((mount ? cli_find_mount(mount, mnt, sizeof(mnt))
			   : cli_mount_having_run(argv[i], mnt, sizeof(mnt))) < 0) {
			fprintf(stderr, "runfs: %s: no runfs mount has it\n", argv[i]);
			rc = 1;
		} else if (remove_run(mnt, argv[i]) < 0) {
			rc = 1;
		} else {
			printf("removed %s\n", argv[i]);
		}
	}
	return rc;
}

struct prune_opts {
	int want[ST_COUNT], any;
	long max_age; /* -1: any age */
	long keep;    /* the newest this many of those that match stay */
	int dry;
};

static int
prune_args(const struct cli_command *c, int argc, char **argv, struct prune_opts *o,
	   const char **mount)
{
	int st;

	*o = (struct prune_opts){.any = 1, .max_age = -1};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			o->dry = 1;
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage(c, "%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--state")) {
			if ((st = state_parse(argv[++i])) < 0 || !state_completed(st))
				return cli_usage(c, "%s is not the state of an ended run", argv[i]);
			o->want[st] = 1;
			o->any = 0;
		} else if (!strcmp(argv[i], "--max-age")) {
			if ((o->max_age = cli_parse_age(argv[++i])) < 0)
				return cli_usage(c, "--max-age takes a duration like 30d or 12h");
		} else if (!strcmp(argv[i], "--keep")) {
			char *end;
			o->keep = strtol(argv[++i], &end, 10);
			if (*end || *argv[i] == '\0' || o->keep < 0)
				return cli_usage(c, "--keep takes a count");
		} else if (!strcmp(argv[i], "--mount")) {
			*mount = argv[++i];
		} else {
			return cli_usage(c, "unexpected argument %s", argv[i]);
		}
	}
	return 0;
}

/* Removes the ended runs that match, newest first after the --keep newest
 * of them; with --dry-run only says which. */
int
cli_prune(const struct cli_command *c, int argc, char **argv)
{
	struct prune_opts o;
	struct index_row *rows = NULL;
	const char *mount = NULL;
	char mnt[PATH_MAX], *text = NULL;
	time_t cutoff = 0, made;
	size_t n = 0;
	long matched = 0;
	int rc, removed = 0, failed = 0;

	if ((rc = prune_args(c, argc, argv, &o, &mount)) != 0)
		return rc;
	if (cli_find_mount(mount, mnt, sizeof(mnt)) < 0) {
		fprintf(stderr, "runfs: no runfs mount; mount one first\n");
		return 1;
	}
	if (cli_index_read(mnt, &text, &rows, &n) < 0)
		return 1;
	if (o.max_age >= 0)
		cutoff = time(NULL) - (time_t)o.max_age;
	for (size_t i = n; i-- > 0;) {
		int st = state_parse(rows[i].f[F_STATE]);
		if (st < 0 || !state_completed(st) || (!o.any && !o.want[st]))
			continue;
		if (cutoff && (cli_run_created(mnt, rows[i].f[F_ID], &made) < 0 || made >= cutoff))
			continue;
		if (++matched <= o.keep)
			continue;
		if (o.dry) {
			printf("would remove %s (%s)\n", rows[i].f[F_ID], rows[i].f[F_STATE]);
			removed++;
		} else if (remove_run(mnt, rows[i].f[F_ID]) == 0) {
			printf("removed %s (%s)\n", rows[i].f[F_ID], rows[i].f[F_STATE]);
			removed++;
		} else {
			failed++;
		}
	}
	fprintf(stderr, "runfs: %s %d run%s%s\n", o.dry ? "would remove" : "removed", removed,
		removed == 1 ? "" : "s", failed ? " (some could not be removed)" : "");
	free(rows);
	free(text);
	return failed ? 1 : 0;
}
