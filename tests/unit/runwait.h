/* Waiting for a run in the unit tests that drive a backend. */
#ifndef RUNFS_RUNWAIT_H
#define RUNFS_RUNWAIT_H

#include <unistd.h>

#include "backend.h"

/* Polls until the run completes (at most 20 s); returns its last state,
 * or -1 when it cannot be read. */
static inline int
wait_completed(struct backend *b, int64_t seq)
{
	struct run_rec r = {0};
	int state = -1;

	for (int i = 0; i < 2000; i++) {
		if (backend_run_seq(b, seq, &r) != RF_OK)
			return -1;
		state = r.state;
		run_rec_free(&r);
		if (state_completed(state))
			break;
		usleep(10000);
	}
	return state;
}

#endif
