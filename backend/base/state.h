/* Run and task run states, as DESIGN.md lists them. */
#ifndef RUNFS_STATE_H
#define RUNFS_STATE_H

enum state {
	ST_WAITING = 0,
	ST_RUNNING,
	ST_SUCCEEDED,
	ST_FAILED,
	ST_TERMINATED,
	ST_KILLED,
	ST_UNKNOWN,
	ST_COUNT
};

const char *state_name(int st);
/* Returns the state for an upper-case name, or -1. */
int state_parse(const char *name);
int state_completed(int st);

#endif
