/* Mounting the tree: what cli/main.c calls for `runfs [opts] CONFIG DIR`. */
#ifndef RUNFS_MOUNT_H
#define RUNFS_MOUNT_H

/* The exit status of a usage error: the caller prints the usage. */
#define FS_MOUNT_USAGE 2

/* Mounts with argv as runfs was given it, serves until unmounted, and
 * returns the exit status. Everything that can fail is checked before
 * the daemon goes to the background, so that the command itself exits
 * non-zero with the reason. */
int fs_mount(int argc, char **argv);

#endif
