/*
 * Backend result codes. backend/ never speaks errno to its callers; fs/
 * maps these through one table (fs/errmap.c) the way sshfs maps SFTP codes.
 */
#ifndef RUNFS_ERR_H
#define RUNFS_ERR_H

enum rerr {
	R_OK = 0,
	R_NOENT,  /* no such run, task, output or configuration */
	R_INVAL,  /* bad definition, verb or argument; an error text says why */
	R_AGAIN,  /* not available yet (results before the run succeeded) */
	R_BUSY,   /* the verb does not apply in the current state */
	R_FAILED, /* will never be available (results of a failed run) */
	R_EXIST,
	R_TOOBIG,
	R_NOMEM,
	R_IO,
	R_PERM,
	R_COUNT
};

const char *rerr_str(enum rerr e);

#endif
