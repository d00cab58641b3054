/*
 * The local runtime daemon (runfs up). It executes the runs whose
 * configuration is local with the same scheduler the in_process runtime
 * uses, so that they outlive any mount. Mounts and the CLI hand it runs
 * and stop or kill requests through the store's queue; it learns of them
 * when the store is nudged (follow.h). Everything it does is recorded in
 * the store, where every mount reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "follow.h"
#include "guard.h"
#include "localrt.h"
#include "log.h"
#include "recover.h"
#include "scheduler.h"
#include "sdnotify.h"
#include "store.h"
#include "util.h"

enum { RUNNING, DRAINING, STOPPING };

struct daemon {
	const struct localrt_opts *o;
	struct store *st;
	struct sched *s;
	int state;
};

/* Takes DATA/local.pid: its fd (kept open for life), or -1 with *other
 * set when another daemon holds it. */
static int
take_pidfile(const char *datadir, int *other)
{
	char path[PATH_MAX], text[32];
	int fd, n;

	*other = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/local.pid", datadir) >= sizeof(path) ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		if (errno == EWOULDBLOCK)
			*other = localrt_pid(datadir);
		return -1;
	}
	n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Holding the pid file proves that no other daemon runs: every local run
 * still owned by a process was owned by one that died (kill -9, a crash).
 * Those are recorded KILLED; runs handed over while no daemon ran are
 * launched, in case their request was lost with a mount that died.
 */
static int
reconcile(struct daemon *d)
{
	struct run_rec *runs = NULL;
	int n = store_run_list_active(d->st, &runs);

	for (int i = 0; i < n; i++) {
		struct run_rec *r = &runs[i];
		if (strcmp(r->config, "local") == 0 && !r->prepared) {
			if (r->owner != 0)
				recover_run(d->st, r,
					    "the local runtime ended while the run was executing");
			else if (r->state == ST_WAITING && sched_launch(d->s, r->seq) != RF_OK)
				log_warnx("run %s: cannot be launched", r->id);
		}
		run_rec_free(r);
	}
	free(runs);
	return n < 0 || store_flush(d->st) != RF_OK ? -1 : 0;
}

/* Carries out what mounts asked for since the last call. */
static void
take_requests(struct daemon *d)
{
	struct request_rec q[64];
	struct run_rec r;
	int n;

	while ((n = store_request_take(d->st, 64, q)) > 0) {
		for (int i = 0; i < n; i++) {
			if (store_run_brief(d->st, q[i].run_seq, &r) != RF_OK)
				continue;
			if (q[i].verb == REQ_LAUNCH) {
				/* Stopped, or launched already, since it was asked. */
				if (strcmp(r.config, "local") == 0 && r.state == ST_WAITING &&
				    !r.prepared && r.owner == 0)
					sched_launch(d->s, r.seq);
			} else if (sched_signal(d->s, r.seq,
						q[i].verb == REQ_KILL ? VERB_KILL : VERB_STOP) !=
				   RF_OK) {
				log_info("run %s: not executing here; request ignored", r.id);
			}
			run_rec_free(&r);
		}
		if (n < 64)
			break;
	}
	if (n < 0)
		log_warnx("cannot read the request queue");
}

static void
on_signal(struct daemon *d, int sigfd)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1 && d->state == RUNNING) {
			log_info("asked to end once its %d runs finish", sched_count(d->s));
			sdnotify("STOPPING=1\nSTATUS=letting its runs finish");
			d->state = DRAINING;
		} else if (si.ssi_signo != SIGUSR1 && si.ssi_signo != SIGHUP &&
			   d->state != STOPPING) {
			log_info("asked to end: stopping its %d runs", sched_count(d->s));
			sdnotify("STOPPING=1\nSTATUS=stopping its runs");
			sched_signal_all(d->s, VERB_STOP);
			d->state = STOPPING;
		}
	}
}

static void
serve(struct daemon *d, int sigfd, int nudge)
{
	struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = nudge, .events = POLLIN}};
	int64_t last = 0;
	int foreign = 1;

	for (;;) {
		/* Draining or stopping, new runs wait in the queue for the
		 * next daemon. Its own commits (every scheduler turn) hold no
		 * request: only another process's nudge, or the fallback, may. */
		if (d->state == RUNNING && (foreign || mono_ms() - last >= FOLLOW_FALLBACK_MS)) {
			take_requests(d);
			last = mono_ms();
		} else if (d->state != RUNNING && sched_count(d->s) == 0) {
			break;
		}
		if (poll(p, 2, d->state == RUNNING ? FOLLOW_FALLBACK_MS : 100) < 0 &&
		    errno != EINTR)
			log_warn("poll");
		if (p[0].revents)
			on_signal(d, sigfd);
		foreign = p[1].revents ? nudge_drain(nudge, 1) : 0;
	}
}

/* The ready line's "error TEXT": to whoever started the daemon
 * (ready_fd), or in the foreground (-1), TEXT to standard error. */
static void __attribute__((format(printf, 2, 3))) report(int ready_fd, const char *fmt, ...)
{
	char text[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ready_fd >= 0)
		dprintf(ready_fd, "%s\n", text);
	else
		log_warnx("%s", text + 6);
}

int
localrt_serve(const struct localrt_opts *o, int ready_fd)
{
	struct daemon d = {o, NULL, NULL, RUNNING};
	struct sched_opts so = {.datadir = o->datadir, .jobs = o->jobs, .grace_ms = o->grace_ms};
	int pidfd, other, sigfd = -1, nudge = -1, rc = 1;
	sigset_t sigs;

	log_init("runfs-local", 0);
	/* Started by a task of some daemon, it must not die with that task. */
	unsetenv(GUARD_ENV);
	/* Before the guard's fork and any thread: it changes the environment. */
	sdnotify_init();
	if ((pidfd = take_pidfile(o->datadir, &other)) < 0) {
		if (other > 0 && ready_fd >= 0) {
			dprintf(ready_fd, "running %d\n", other);
			return 0; /* runfs up: done already */
		}
		if (other > 0) {
			/* In the foreground (systemd's runfs-local@), this
			 * process would serve nothing: a failure. */
			log_warnx("the local runtime of %s already runs (pid %d)", o->datadir,
				  other);
			return 1;
		}
		report(ready_fd, "error cannot take %s/local.pid: %s", o->datadir, strerror(errno));
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	/* The guard is forked before any thread starts. */
	if (guard_start() < 0 || sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    store_open(o->datadir, &d.st) != RF_OK || (nudge = nudge_watch(o->datadir)) < 0) {
		report(ready_fd, "error cannot start in %s: %s", o->datadir, strerror(errno));
		goto out;
	}
	so.st = d.st;
	if (sched_start(&so, &d.s) < 0 || reconcile(&d) < 0) {
		report(ready_fd, "error cannot start the scheduler in %s", o->datadir);
		goto out;
	}
	log_info("serving %s (pid %d)", o->datadir, (int)getpid());
	if (ready_fd >= 0) {
		dprintf(ready_fd, "ok %d\n", (int)getpid());
		close(ready_fd);
	}
	sdnotify("READY=1\nSTATUS=serving");
	serve(&d, sigfd, nudge);
	rc = 0;
out:
	if (d.s)
		sched_stop(d.s);
	store_close(d.st);
	if (nudge >= 0)
		close(nudge);
	if (sigfd >= 0)
		close(sigfd);
	/* Empty, so that nobody reads a dead daemon's pid; the lock goes
	 * with the descriptor. */
	if (ftruncate(pidfd, 0) < 0)
		log_warn("local.pid");
	close(pidfd);
	log_info("ended");
	return rc;
}
