/*
 * runfs: the program. Its first argument names a command of the table
 * below; anything else is a mount (fs/mount.c), as sshfs takes a host.
 * Each command's usage is written here once: `runfs --help` prints them
 * all, and a command's usage error prints its own.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mount.h"
/* Written by the build (cmake/commit.cmake), not a file of the tree. */
#include <runfs_commit.h>

static int
mount_command(const struct cli_command *c, int argc, char **argv)
{
	(void)c;
	return fs_mount(argc, argv);
}

static const struct cli_command commands[] = {
    {NULL,
     "runfs [-f] [-d] [-o "
     "data_dir=DIR,jobs=N,grace=SECONDS,gpus=N,cache_dir=DIR,no_autostart,allow_other] "
     "CONFIG "
     "MOUNTPOINT",
     mount_command},
    {"login",
     "runfs login URL|NAME [--token-file FILE | --token - | --token TOKEN] [--user U] "
     "[--partition P] [--workdir DIR] [--account A] [--qos Q] [--api-version V] [--name NAME]",
     cli_login},
    {"config", "runfs config list | show NAME | rm NAME | default [NAME]", cli_config},
    {"submit", "runfs submit FILE [--param NAME=VALUE]... [--config NAME] [--mount DIR]",
     cli_submit},
    {"runs", "runfs runs [--state S]... [--limit N] [--max-age 1d2h3m4s] [--tsv] [--mount DIR]",
     cli_runs},
    {"graph", "runfs graph RUN [--mount DIR]", cli_graph},
    {"rm", "runfs rm RUN... [--mount DIR]", cli_rm},
    {"cache",
     "runfs cache [--data DIR] | runfs cache prune [--max-age 30d] [--max-size 10G] [--dry-run] "
     "[--data DIR]",
     cli_cache},
    {"prune", "runfs prune [--max-age 30d] [--state S]... [--keep N] [--dry-run] [--mount DIR]",
     cli_prune},
    {"tasks", "runfs tasks RUN [--state S]... [--task NAME] [--tsv] [--mount DIR]", cli_tasks},
    {"watch", "runfs watch RUN   (a run id, or a path under a run)", cli_watch},
    {"up", "runfs up [--data DIR] [--jobs N] [--grace SECONDS] [--foreground]", cli_up},
    {"down", "runfs down [--data DIR] [--wait] [--timeout SECONDS]", cli_down},
    {"status", "runfs status [--data DIR]", cli_status},
};
#define NCOMMANDS (sizeof(commands) / sizeof(*commands))

static void
usage(FILE *f)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "%s %s\n", i == 0 ? "usage:" : "      ", commands[i].usage);
	fprintf(f, "       runfs --help | --version\n"
		   "CONFIG is in_process, local (ray is local) or a configuration saved by runfs "
		   "login;\nsee runfs(1) and docs/TREE.md.\n");
}

int
main(int argc, char *argv[])
{
	int rc;

	for (size_t i = 1; argc > 1 && i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(&commands[i], argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("runfs %s (commit %s)\n", RUNFS_VERSION, RUNFS_COMMIT);
			return 0;
		}
	}
	if ((rc = commands[0].fn(&commands[0], argc, argv)) == FS_MOUNT_USAGE)
		usage(stderr);
	return rc;
}
