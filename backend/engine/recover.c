/*
 * What an executor that died leaves behind: runs still marked as executing
 * by a process that is gone. Both executors (the in_process mount daemon
 * and the local runtime daemon) clean up their own at start-up.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "recover.h"
#include "util.h"

void
recover_run(struct store *st, struct run_rec *r, const char *why)
{
	struct task_rec page[256];
	int got;

	for (int from = 0; (got = store_task_list(st, r->seq, from, 256, page)) > 0; from += got) {
		for (int i = 0; i < got; i++) {
			if (page[i].state == ST_RUNNING) {
				page[i].state = ST_KILLED;
				free(page[i].message);
				page[i].message = strdup(why);
				if (store_task_update(st, &page[i]) != RF_OK)
					log_warnx("run %s: task %s not recorded KILLED", r->id,
						  page[i].id);
			}
			task_rec_free(&page[i]);
		}
	}
	r->owner = 0;
	/* A FAILED run whose other task runs were finishing stays FAILED. */
	if (!state_completed(r->state)) {
		r->state = ST_KILLED;
		free(r->message);
		r->message = strdup(why);
	}
	if (r->ended == 0)
		r->ended = now_ms();
	if (store_run_update(st, r) != RF_OK)
		log_warnx("run %s: not recorded KILLED", r->id);
	else
		log_info("run %s recorded %s: %s", r->id, state_name(r->state), why);
}
