/*
 * Backend result codes. backend/ never speaks errno to its callers; fs/
 * maps these through one table (fs/errmap.c) the way sshfs maps SFTP codes.
 */
#ifndef RUNFS_ERR_H
#define RUNFS_ERR_H

enum rerr {
	RF_OK = 0,
	RF_NOENT,  /* no such run, task, output or configuration */
	RF_INVAL,  /* bad definition, verb or argument; an error text says why */
	RF_AGAIN,  /* not available yet (results before the run succeeded) */
	RF_BUSY,   /* the verb does not apply in the current state */
	RF_FAILED, /* will never be available (results of a failed run) */
	RF_EXIST,
	RF_TOOBIG,
	RF_NOMEM,
	RF_IO,
	RF_PERM,
	RF_LOCKED, /* the store is locked by another process past the busy timeout */
	RF_NOSPC,  /* the data directory's disk is full */
	RF_COUNT
};

const char *rerr_str(enum rerr e);

#endif
