/* Cleaning up after an executor that died (recover.c). */
#ifndef RUNFS_RECOVER_H
#define RUNFS_RECOVER_H

#include "store.h"

/* Records r's RUNNING task runs KILLED, then r itself KILLED unless it
 * had completed (FAILED with task runs still finishing), no longer owned.
 * The caller flushes. */
void recover_run(struct store *st, struct run_rec *r, const char *why);

#endif
