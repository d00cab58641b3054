/*
 * The in_process runtime: the mount daemon runs the tasks itself with the
 * shared scheduler. Its runs cannot outlive it, so at start-up every run
 * that an in_process daemon was executing and whose daemon is gone is
 * recorded KILLED, with the task runs that were running.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "recover.h"
#include "runtime.h"
#include "util.h"

static int
owner_alive(int pid)
{
	/* Our own pid can only be a stale record: this process runs nothing yet. */
	return pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH);
}

static int
inproc_open(struct runtime *rt)
{
	struct sched_opts o = {
	    .st = rt->st, .datadir = rt->datadir, .jobs = rt->jobs, .grace_ms = rt->grace_ms};
	struct sched *s;
	struct run_rec *runs = NULL;
	int n = store_run_list_active(rt->st, &runs);

	for (int i = 0; i < n; i++) {
		if (strcmp(runs[i].config, "in_process") == 0 && !runs[i].prepared &&
		    !owner_alive(runs[i].owner))
			recover_run(rt->st, &runs[i],
				    "the runfs daemon ended while the run was executing");
		run_rec_free(&runs[i]);
	}
	free(runs);
	if (store_flush(rt->st) != RF_OK || sched_start(&o, &s) < 0)
		return -1;
	rt->priv = s;
	return 0;
}

static void
inproc_close(struct runtime *rt)
{
	if (rt->priv)
		sched_stop(rt->priv);
	rt->priv = NULL;
}

static enum rerr
inproc_launch(struct runtime *rt, int64_t seq)
{
	return sched_launch(rt->priv, seq);
}

static enum rerr
inproc_signal(struct runtime *rt, int64_t seq, enum sched_verb v)
{
	return sched_signal(rt->priv, seq, v);
}

static int
inproc_executing(struct runtime *rt, int64_t seq)
{
	return sched_executing(rt->priv, seq);
}

const struct runtime_ops inproc_ops = {
    .name = "in_process",
    .builtin = 1,
    .admit = runtime_admit_local,
    .open = inproc_open,
    .close = inproc_close,
    .launch = inproc_launch,
    .signal = inproc_signal,
    .executing = inproc_executing,
};
