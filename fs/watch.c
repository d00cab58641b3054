#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "log.h"
#include "watch.h"

struct parked {
	struct parked *next;
	int64_t run;
	fuse_req_t req;
	struct fh *fh;
	size_t size;
	serve_fn serve;
	int run_state_only;
};

struct poller {
	struct poller *next;
	int64_t run;
	struct fh *fh;
	struct fuse_pollhandle *ph;
};

struct change {
	struct change *next;
	int64_t run;
	int run_state; /* the run itself changed state (not one of its tasks) */
};

/* Lock order: mu, then the backend's store (serve reads the store). The
 * feed takes only qmu, under the store's lock. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct parked *parked;
static struct poller *pollers;
static int nparked;
/* Parked reads and pollers that a task's change concerns (not the
 * run-state-only wait readers). With none, feed() leaves task changes out:
 * a fan-out of 10,000 tasks would wake the notifier 20,000 times for no
 * one. Counted before a watcher's last look at the store, so a change
 * either finds it counted or is there for that look to see. */
static atomic_int task_watchers;

/* A parked read comes or goes: counted unless it wants run states only. */
static void
watching(int run_state_only, int delta)
{
	if (!run_state_only)
		atomic_fetch_add(&task_watchers, delta);
}

static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct change *queue, **queue_tail = &queue;
static int stopping;
static pthread_t notifier;
static int started;
static struct backend *backend;
static char *mnt;

/*
 * inotify, best effort: changes made inside a FUSE daemon raise no inotify
 * event, but a setattr through the mount does (the kernel's VFS reports it
 * as IN_ATTRIB). So, from this thread, which no request handler waits on,
 * each change of a run's state touches its status file through the mount.
 * Only run states: a task's change would cost a round trip per task.
 */
static void
touch_status(int64_t run)
{
	struct run_rec r = {0};
	char path[PATH_MAX_];

	if (mnt == NULL || backend_run_brief(backend, run, &r) != RF_OK)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/runs/%s/status", mnt, r.id) < sizeof(path) &&
	    utimensat(AT_FDCWD, path, NULL, 0) < 0 && errno != ENOENT && errno != ENOTCONN)
		log_debug("touch %s: %s", path, strerror(errno));
	run_rec_free(&r);
}

/* Called by the backend for every recorded change, store locked. */
static void
feed(const struct event_rec *ev, void *arg)
{
	struct change *c;

	(void)arg;
	if (ev->task_idx >= 0 && atomic_load(&task_watchers) == 0)
		return;
	if ((c = malloc(sizeof(*c))) == NULL) {
		log_warnx("watch: out of memory; a change is not announced");
		return;
	}
	c->run = ev->run_seq;
	c->run_state = ev->task_idx < 0;
	c->next = NULL;
	pthread_mutex_lock(&qmu);
	*queue_tail = c;
	queue_tail = &c->next;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qmu);
}

/* Answers what can be answered for one run; mu held. */
static void
changed(int64_t run, int run_state)
{
	for (struct parked **pp = &parked; *pp;) {
		struct parked *p = *pp;
		/* 200 wait readers need not look at each of 20,000 task changes. */
		if (p->run == run && (run_state || !p->run_state_only) &&
		    p->serve(p->req, p->fh, p->size)) {
			*pp = p->next;
			nparked--;
			watching(p->run_state_only, -1);
			free(p);
		} else {
			pp = &p->next;
		}
	}
	for (struct poller **pp = &pollers; *pp;) {
		struct poller *p = *pp;
		if (p->run != run) {
			pp = &p->next;
			continue;
		}
		/* One notification per handle: the kernel polls again, with a
		 * new handle, if the reader is still waiting. */
		fuse_lowlevel_notify_poll(p->ph);
		fuse_pollhandle_destroy(p->ph);
		p->fh->polled = 0;
		*pp = p->next;
		atomic_fetch_sub(&task_watchers, 1);
		free(p);
	}
}

static void *
notify_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&qmu);
	for (;;) {
		struct change *c;

		while (queue == NULL && !stopping)
			pthread_cond_wait(&qcond, &qmu);
		if (queue == NULL && stopping)
			break;
		c = queue;
		queue = NULL;
		queue_tail = &queue;
		pthread_mutex_unlock(&qmu);
		pthread_mutex_lock(&mu);
		/* A burst of changes to one run is answered once. */
		for (struct change *x = c; x; x = x->next) {
			int first = 1, run_state = 0;
			for (struct change *y = c; y != x && first; y = y->next)
				first = y->run != x->run;
			for (struct change *y = x; first && y; y = y->next)
				run_state |= y->run == x->run && y->run_state;
			if (first)
				changed(x->run, run_state);
		}
		pthread_mutex_unlock(&mu);
		for (struct change *x = c; x; x = x->next) {
			int seen = 0;
			for (struct change *y = c; y != x && !seen; y = y->next)
				seen = y->run == x->run && y->run_state;
			if (x->run_state && !seen)
				touch_status(x->run);
		}
		while (c) {
			struct change *next = c->next;
			free(c);
			c = next;
		}
		pthread_mutex_lock(&qmu);
	}
	pthread_mutex_unlock(&qmu);
	return NULL;
}

int
watch_start(struct backend *b, const char *mountpoint)
{
	backend = b;
	/* Under valgrind (tests/tools/valgrind-runfs), utimensat runs holding
	 * valgrind's global lock, and waits on this very daemon: deadlock. */
	if (getenv("RUNFS_VALGRIND") != NULL)
		log_info("RUNFS_VALGRIND is set: inotify events are off");
	else if ((mnt = realpath(mountpoint, NULL)) == NULL)
		log_warn("realpath %s: inotify events are off", mountpoint);
	if (pthread_create(&notifier, NULL, notify_main, NULL) != 0)
		return -1;
	started = 1;
	backend_set_feed(b, feed, NULL);
	return 0;
}

void
watch_stop(struct backend *b)
{
	if (!started)
		return;
	backend_set_feed(b, NULL, NULL);
	pthread_mutex_lock(&qmu);
	stopping = 1;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qmu);
	pthread_join(notifier, NULL);
	pthread_mutex_lock(&mu);
	if (nparked)
		log_info("answering %d blocked reads: the mount is going away", nparked);
	while (parked) {
		struct parked *p = parked;
		parked = p->next;
		fuse_reply_err(p->req, EIO);
		free(p);
	}
	while (pollers) {
		struct poller *p = pollers;
		pollers = p->next;
		fuse_pollhandle_destroy(p->ph);
		free(p);
	}
	nparked = 0;
	atomic_store(&task_watchers, 0);
	pthread_mutex_unlock(&mu);
	while (queue) {
		struct change *c = queue;
		queue = c->next;
		free(c);
	}
	free(mnt);
	mnt = NULL;
}

/* Ctrl-C on a blocked reader: forget its request, answer EINTR. The
 * request is matched by pointer only; a parked entry is never touched
 * once another thread has answered and freed it. */
static void
interrupted(fuse_req_t req, void *data)
{
	struct parked *found = NULL;

	(void)data;
	pthread_mutex_lock(&mu);
	for (struct parked **pp = &parked; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req) {
			found = *pp;
			*pp = found->next;
			nparked--;
			watching(found->run_state_only, -1);
			break;
		}
	}
	pthread_mutex_unlock(&mu);
	if (found) {
		log_info("a blocked read was interrupted and is forgotten (%d still wait)",
			 watch_parked());
		fuse_reply_err(req, EINTR);
		free(found);
	}
}

void
watch_park(int64_t run, fuse_req_t req, struct fh *fh, size_t size, serve_fn serve,
	   int run_state_only)
{
	struct parked *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	*p = (struct parked){NULL, run, req, fh, size, serve, run_state_only};
	/* Registered first: an interrupt that comes before we hold mu marks
	 * the request, and we see the mark below. */
	fuse_req_interrupt_func(req, interrupted, NULL);
	pthread_mutex_lock(&mu);
	if (fuse_req_interrupted(req)) {
		pthread_mutex_unlock(&mu);
		free(p);
		fuse_reply_err(req, EINTR);
		return;
	}
	/* Serve once more under mu: a change between the caller's look and
	 * now has already passed the notifier. */
	watching(run_state_only, 1);
	if (serve(req, fh, size)) {
		watching(run_state_only, -1);
		pthread_mutex_unlock(&mu);
		free(p);
		return;
	}
	p->next = parked;
	parked = p;
	nparked++;
	pthread_mutex_unlock(&mu);
}

void
watch_poll(struct fh *fh, struct fuse_pollhandle *ph)
{
	struct poller *p;

	pthread_mutex_lock(&mu);
	for (p = pollers; p && p->fh != fh; p = p->next)
		;
	if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
		p->fh = fh;
		p->run = fh->node.run;
		p->next = pollers;
		pollers = p;
		atomic_fetch_add(&task_watchers, 1);
	} else if (p) {
		fuse_pollhandle_destroy(p->ph);
	}
	if (p) {
		p->ph = ph;
		fh->polled = 1;
	} else {
		fuse_pollhandle_destroy(ph);
	}
	pthread_mutex_unlock(&mu);
}

void
watch_forget(struct fh *fh)
{
	pthread_mutex_lock(&mu);
	for (struct poller **pp = &pollers; *pp; pp = &(*pp)->next) {
		if ((*pp)->fh == fh) {
			struct poller *p = *pp;
			*pp = p->next;
			atomic_fetch_sub(&task_watchers, 1);
			fuse_pollhandle_destroy(p->ph);
			free(p);
			break;
		}
	}
	pthread_mutex_unlock(&mu);
}

int
watch_parked(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nparked;
	pthread_mutex_unlock(&mu);
	return n;
}
