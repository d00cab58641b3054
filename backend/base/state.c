#include <string.h>

#include "rerr.h"
#include "state.h"

static const char *const names[ST_COUNT] = {
    "WAITING", "RUNNING", "SUCCEEDED", "FAILED", "TERMINATED", "KILLED", "UNKNOWN",
};

const char *
state_name(int st)
{
	if (st < 0 || st >= ST_COUNT)
		return "UNKNOWN";
	return names[st];
}

int
state_parse(const char *name)
{
	/* NULL too: a field missing from a record read back is no state. */
	for (int i = 0; name && i < ST_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
state_completed(int st)
{
	return st == ST_SUCCEEDED || st == ST_FAILED || st == ST_TERMINATED || st == ST_KILLED;
}

static const char *const rerr_names[RF_COUNT] = {
    "ok",
    "not found",
    "invalid",
    "not available yet",
    "busy",
    "failed",
    "exists",
    "too big",
    "out of memory",
    "I/O error",
    "permission denied",
    "the store is locked by another process (try again)",
    "no space left in the data directory",
};

const char *
rerr_str(enum rerr e)
{
	if (e < 0 || e >= RF_COUNT)
		return "error";
	return rerr_names[e];
}
