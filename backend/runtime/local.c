/*
 * The local runtime as a mount or the CLI sees it: runs are handed to the
 * runtime daemon (runtimed.c) through the store's request queue, and the
 * daemon is started when it is not running, unless the mount says not to.
 * This process executes none of them, so nothing here ends with it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "localrt.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

struct local {
	char exe[PATH_MAX]; /* runfs itself, to run `runfs up` */
	int autostart;
};

/* Starts the daemon unless it runs or must not be started; RF_OK when it
 * serves now. Why not is noted on the run (run_seq > 0) and logged. */
static enum rerr
ensure_up(struct runtime *rt, int64_t run_seq)
{
	struct local *l = rt->priv;
	struct localrt_opts o = {rt->datadir, rt->jobs, rt->grace_ms};
	char *err = NULL, *note = NULL;
	enum rerr e;

	if (localrt_pid(rt->datadir) > 0)
		return RF_OK;
	if (!l->autostart) {
		note = errf("waiting for the local runtime, which is not running: run `runfs up "
			    "--data %s`",
			    rt->datadir);
		e = RF_AGAIN;
	} else if ((e = localrt_spawn(l->exe, &o, &err)) != RF_OK) {
		log_warnx("cannot start the local runtime: %s", err ? err : rerr_str(e));
		note = errf("waiting for the local runtime, which could not be started (%s): run "
			    "`runfs up --data %s`",
			    err ? err : rerr_str(e), rt->datadir);
	} else {
		log_info("started the local runtime for %s", rt->datadir);
	}
	if (note && run_seq > 0 && store_run_note(rt->st, run_seq, note) != RF_OK)
		log_warnx("run %lld: cannot record why it waits", (long long)run_seq);
	free(err);
	free(note);
	return e;
}

static int
local_open(struct runtime *rt)
{
	struct local *l = calloc(1, sizeof(*l));
	ssize_t n;

	if (l == NULL)
		return -1;
	l->autostart = rt->autostart;
	if ((n = readlink("/proc/self/exe", l->exe, sizeof(l->exe) - 1)) < 0) {
		log_warn("/proc/self/exe");
		free(l);
		return -1;
	}
	l->exe[n] = '\0';
	rt->priv = l;
	return 0;
}

static void
local_close(struct runtime *rt)
{
	free(rt->priv);
	rt->priv = NULL;
}

static enum rerr
local_launch(struct runtime *rt, int64_t seq)
{
	enum rerr e = store_request_put(rt->st, seq, REQ_LAUNCH);

	if (e != RF_OK)
		return e;
	/* The run is queued either way: a daemon started later takes it. */
	ensure_up(rt, seq);
	return RF_OK;
}

static enum rerr
local_signal(struct runtime *rt, int64_t seq, enum sched_verb v)
{
	struct run_rec r = {0};
	enum rerr e;
	int n;

	/* Withdrawn before the daemon took it: it never started. */
	if ((n = store_request_cancel(rt->st, seq, REQ_LAUNCH)) != 0) {
		if (n < 0 || (e = store_run_get_seq(rt->st, seq, &r)) != RF_OK)
			return RF_IO;
		e = run_end_unstarted(rt->st, &r);
		run_rec_free(&r);
		return e;
	}
	if (localrt_pid(rt->datadir) <= 0)
		return RF_BUSY;
	return store_request_put(rt->st, seq, v == VERB_KILL ? REQ_KILL : REQ_STOP);
}

/* Queued for the daemon, or owned by the daemon that runs now. */
static int
local_executing(struct runtime *rt, int64_t seq)
{
	struct run_rec r;
	int owner = 0;

	if (store_request_pending(rt->st, seq, REQ_LAUNCH) > 0)
		return 1;
	if (store_run_brief(rt->st, seq, &r) == RF_OK) {
		owner = r.owner;
		run_rec_free(&r);
	}
	return owner != 0 && owner == localrt_pid(rt->datadir);
}

/* A mount of local starts the daemon at once (runs would keep waiting for
 * it otherwise, which each submit would say); before the mount goes to
 * the background, so that a failure is the mount's. */
static enum rerr
local_prepare(struct runtime *rt, char **err)
{
	struct localrt_opts o = {rt->datadir, rt->jobs, rt->grace_ms};
	char exe[PATH_MAX];
	ssize_t n;

	if (!rt->autostart || localrt_pid(rt->datadir) > 0)
		return RF_OK;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
		*err = errf("/proc/self/exe: %s", strerror(errno));
		return RF_IO;
	}
	exe[n] = '\0';
	return localrt_spawn(exe, &o, err);
}

/* "ray" is the seed system's name for the local runtime. */
static const char *const local_aliases[] = {"ray", NULL};

const struct runtime_ops local_ops = {
    .name = "local",
    .aliases = local_aliases,
    .builtin = 1,
    .prepare = local_prepare,
    .admit = runtime_admit_local,
    .busy_reason = "is on the local runtime, which is not running; `runfs up` records what "
		   "became of it",
    .open = local_open,
    .close = local_close,
    .launch = local_launch,
    .signal = local_signal,
    .executing = local_executing,
};
