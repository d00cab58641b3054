/* Commands of the runfs program other than mounting: clients of a mount. */
#ifndef RUNFS_CLI_H
#define RUNFS_CLI_H

/* runfs watch RUN: a live progress view; exit 0 only for SUCCEEDED. */
int cli_watch(int argc, char **argv);

#endif
