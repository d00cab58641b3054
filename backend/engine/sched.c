/*
 * The scheduler loop. One thread owns every active run: it loads a run from
 * the store when told to launch it (sched_load.c), starts ready task runs
 * FIFO within the core budget, and sleeps in poll() on an eventfd
 * (commands, and processes the launcher has started), the pidfds of running
 * attempts and their log pipes, with a timeout for the nearest deadline
 * (task timeouts, the grace period of a stop, a batch of changes to
 * commit). Other threads only queue commands and launches; so nothing here
 * needs a lock but those queues.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "rollup.h"
#include "sched_int.h"
#include "util.h"

/* How long an ending daemon keeps trying to record what it holds. */
#define FINAL_SAVE_MS 15000
#define NOPIDFD_MS    20

void
sched_set_message(char **dst, const char *msg)
{
	char *m = strdup(msg);

	if (m == NULL)
		return;
	free(*dst);
	*dst = m;
}

void
sched_ready_push(struct sched *s, struct stask *t)
{
	if (t->queued)
		return;
	if (s->ready_head + s->ready_len == s->ready_cap) {
		/* Slide to the front before growing: the queue drains from the head. */
		if (s->ready_len)
			memmove(s->ready, s->ready + s->ready_head,
				s->ready_len * sizeof(*s->ready));
		s->ready_head = 0;
		if (s->ready_len == s->ready_cap) {
			size_t cap = s->ready_cap ? s->ready_cap * 2 : 256;
			struct stask **q = realloc(s->ready, cap * sizeof(*q));
			if (q == NULL) {
				log_warnx("out of memory queueing %s", t->rec.id);
				return;
			}
			s->ready = q;
			s->ready_cap = cap;
		}
	}
	s->ready[s->ready_head + s->ready_len++] = t;
	t->queued = 1;
}

int
sched_running_add(struct sched *s, struct stask *t)
{
	if (s->nrunning == s->running_cap) {
		size_t cap = s->running_cap ? s->running_cap * 2 : 16;
		struct stask **p = realloc(s->running, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		s->running = p;
		s->running_cap = cap;
	}
	s->running[s->nrunning++] = t;
	t->running = 1;
	t->run->nrunning++;
	s->used += t->cost;
	return 0;
}

void
sched_running_remove(struct sched *s, struct stask *t)
{
	if (!t->running)
		return;
	for (size_t i = 0; i < s->nrunning; i++) {
		if (s->running[i] == t) {
			s->running[i] = s->running[--s->nrunning];
			break;
		}
	}
	t->running = 0;
	t->run->nrunning--;
	s->used -= t->cost;
}

void
sched_maybe_finish_run(struct sched *s, struct srun *r)
{
	struct srun **pp;
	size_t k = 0;

	if (r->nrunning > 0)
		return;
	if (!r->failed && !r->stopping && r->nsucceeded + r->nfailed + r->nskipped < r->ntasks)
		return;
	r->rec.state = rollup_state(&(struct rollup){.ntasks = r->ntasks,
						     .counts[ST_SUCCEEDED] = r->nsucceeded,
						     .failed = r->failed || r->nfailed > 0,
						     .stopping = r->stopping});
	if (r->rec.state == ST_TERMINATED)
		sched_set_message(&r->rec.message, ROLLUP_STOPPED);
	r->rec.ended = now_ms();
	r->rec.owner = 0;
	sched_run_update(s, r);
	/* Drop its queued and delayed task runs before they point at freed
	 * memory. */
	for (size_t i = 0; i < s->ready_len; i++) {
		struct stask *t = s->ready[s->ready_head + i];
		if (t->run != r)
			s->ready[s->ready_head + k++] = t;
	}
	s->ready_len = k;
	k = 0;
	for (size_t i = 0; i < s->ndelayed; i++)
		if (s->delayed[i]->run != r)
			s->delayed[k++] = s->delayed[i];
	s->ndelayed = k;
	pthread_mutex_lock(&s->mu);
	for (pp = &s->runs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	r->next = s->ended;
	s->ended = r;
	pthread_mutex_unlock(&s->mu);
	log_info("run %s %s", r->rec.id, state_name(r->rec.state));
}

void
sched_task_succeeded(struct sched *s, struct stask *t)
{
	struct srun *r = t->run;
	int step = r->plan.tr_step[t->rec.idx];

	t->rec.state = ST_SUCCEEDED;
	if (!t->cached)
		sched_set_message(&t->rec.message, "");
	sched_task_update(s, t);
	r->nsucceeded++;
	for (int c = 0; c < r->plan.step_nchildren[step]; c++) {
		int cs = r->plan.step_children[step][c];
		int first = r->plan.step_first[cs], n = r->plan.step_count[cs];
		for (int k = 0; k < n; k++) {
			struct stask *ch = &r->t[first + k];
			if (--ch->npending == 0 && ch->rec.state == ST_WAITING && !r->failed &&
			    !r->stopping) {
				/* t's success, written above, is in the next commit. */
				ch->start_after = s->commits + 1;
				sched_ready_push(s, ch);
			}
		}
	}
	sched_maybe_finish_run(s, r);
}

/* Called with s->launching == seq; clears it in the same critical section
 * that makes the run visible in s->runs (or once it failed), so the run is
 * never missing from both for sched_count, sched_signal_all or a stop. */
static void
launch(struct sched *s, int64_t seq)
{
	struct srun *r;

	if ((r = sched_load_run(s, seq)) == NULL) {
		struct run_rec rec = {0};
		/* Leave no run looking as if it waited for something. */
		if (store_run_get_seq(s->st, seq, &rec) == RF_OK) {
			rec.state = ST_FAILED;
			rec.ended = now_ms();
			sched_set_message(&rec.message,
					  "runfs could not load the run for execution");
			store_run_update(s->st, &rec);
			run_rec_free(&rec);
		}
		pthread_mutex_lock(&s->mu);
		s->launching = 0;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	pthread_mutex_lock(&s->mu);
	r->next = s->runs;
	s->runs = r;
	s->launching = 0;
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < r->ntasks; i++)
		if (r->t[i].rec.state == ST_WAITING && r->t[i].npending == 0)
			sched_ready_push(s, &r->t[i]);
	sched_maybe_finish_run(s, r);
}

static void
stop_run(struct sched *s, struct srun *r, int verb)
{
	if (r->stopping == VERB_KILL || (r->stopping == VERB_STOP && verb == VERB_STOP))
		return;
	r->stopping = verb;
	r->kill_at = verb == VERB_STOP ? mono_ms() + s->grace_ms : 0;
	for (size_t i = 0; i < s->nrunning; i++)
		if (s->running[i]->run == r)
			exec_signal(&s->running[i]->proc, verb == VERB_STOP ? SIGTERM : SIGKILL);
	sched_maybe_finish_run(s, r);
}

/* One command at a time, oldest first: a stop queued right after a launch
 * finds its run, and a launch stays visible (as s->launching) between
 * leaving the queue and joining s->runs. */
static void
run_commands(struct sched *s)
{
	struct cmd *c;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		if ((c = s->cmds) != NULL) {
			if ((s->cmds = c->next) == NULL)
				s->cmds_tail = &s->cmds;
			if (c->verb == VERB_LAUNCH)
				s->launching = c->seq;
		}
		pthread_mutex_unlock(&s->mu);
		if (c == NULL)
			return;
		if (c->verb == VERB_LAUNCH) {
			launch(s, c->seq);
		} else {
			for (struct srun *r = s->runs; r; r = r->next)
				if (r->rec.seq == c->seq) {
					stop_run(s, r, c->verb);
					break;
				}
		}
		free(c);
	}
}

static void
start_ready(struct sched *s)
{
	while (s->ready_len > 0) {
		struct stask *t = s->ready[s->ready_head];

		if (!t->run->failed && !t->run->stopping &&
		    ((s->used > 0 && s->used + t->cost > s->capacity) || !sched_saved_for(s, t)))
			break;
		s->ready_head++;
		s->ready_len--;
		t->queued = 0;
		if (t->run->failed || t->run->stopping)
			continue;
		attempt_start(s, t);
	}
	if (s->ready_len == 0)
		s->ready_head = 0;
}

/* Applies deadlines; returns the poll timeout until the next one. */
static int
check_deadlines(struct sched *s)
{
	int64_t now = mono_ms(), next = -1;

	for (size_t i = 0; i < s->ndelayed;) {
		struct stask *t = s->delayed[i];
		if (t->not_before <= now || t->run->failed || t->run->stopping) {
			s->delayed[i] = s->delayed[--s->ndelayed];
			t->not_before = 0;
			sched_ready_push(s, t);
			next = now; /* started in the next turn, at once */
			continue;
		}
		if (next < 0 || t->not_before < next)
			next = t->not_before;
		i++;
	}

	for (size_t i = 0; i < s->nrunning; i++) {
		struct stask *t = s->running[i];
		int64_t d = t->deadline;

		if (t->run->stopping == VERB_STOP && t->run->kill_at && t->run->kill_at <= now) {
			exec_signal(&t->proc, SIGKILL);
		} else if (t->run->stopping == VERB_STOP && t->run->kill_at) {
			if (next < 0 || t->run->kill_at < next)
				next = t->run->kill_at;
		}
		if (d == 0 || t->timed_out)
			continue;
		if (d <= now) {
			t->timed_out = 1;
			exec_signal(&t->proc, SIGKILL);
		} else if (next < 0 || d < next) {
			next = d;
		}
	}
	/* A retry_delay may be longer than poll()'s int of milliseconds. */
	return next < 0 ? -1 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void
poll_once(struct sched *s, int timeout)
{
	size_t n = s->nrunning, nfds = 1 + 3 * n;
	struct pollfd *fds = calloc(nfds, sizeof(*fds));
	struct stask **tasks = calloc(n + 1, sizeof(*tasks));
	uint64_t v;

	if (fds == NULL || tasks == NULL) {
		free(fds);
		free(tasks);
		usleep(10000);
		return;
	}
	fds[0] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
	for (size_t i = 0; i < n; i++) {
		struct stask *t = s->running[i];
		tasks[i] = t;
		fds[1 + 3 * i] = (struct pollfd){.fd = t->proc.pidfd, .events = POLLIN};
		fds[2 + 3 * i] = (struct pollfd){.fd = t->out.fd, .events = POLLIN};
		fds[3 + 3 * i] = (struct pollfd){.fd = t->err.fd, .events = POLLIN};
	}
	if (poll(fds, nfds, timeout) < 0 && errno != EINTR)
		log_warn("scheduler poll");
	if (fds[0].revents && read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("scheduler wake-up");
	for (size_t i = 0; i < n; i++) {
		struct stask *t = tasks[i];
		struct log_sink sink = {&t->tlog, t->run->log_fd, &t->run->log_err, t->rec.id};
		if (fds[2 + 3 * i].revents)
			pump_read(&t->out, &sink);
		if (fds[3 + 3 * i].revents)
			pump_read(&t->err, &sink);
	}
	/* Exits last: finishing an attempt may free its whole run. */
	for (size_t i = 0; i < n; i++)
		if (fds[1 + 3 * i].revents ||
		    (!tasks[i]->launch && tasks[i]->proc.pidfd < 0 && exec_exited(&tasks[i]->proc)))
			attempt_finish(s, tasks[i]);
	free(fds);
	free(tasks);
}

/* Goes on with the attempts whose process the launcher has started (or
 * failed to); with block set, waits until none is left being launched. */
static void
launched(struct sched *s, int block)
{
	do {
		struct launch *j = launcher_done(s->launcher, block && s->nlaunching > 0);
		while (j) {
			struct launch *next = j->next;
			attempt_launched(s, j);
			j = next;
		}
	} while (block && s->nlaunching > 0);
}

/* The daemon is going away: nothing it runs may outlive it. */
static void
kill_all(struct sched *s)
{
	launched(s, 1);
	while (s->runs) {
		struct srun *r = s->runs;
		for (size_t i = 0; i < s->nrunning;) {
			if (s->running[i]->run != r) {
				i++;
				continue;
			}
			attempt_abandon(s, s->running[i], ST_KILLED, "the runfs daemon ended");
		}
		r->rec.state = ST_KILLED;
		r->rec.ended = now_ms();
		r->rec.owner = 0;
		sched_set_message(&r->rec.message,
				  "the runfs daemon ended while the run was executing");
		sched_run_update(s, r);
		pthread_mutex_lock(&s->mu);
		s->runs = r->next;
		r->next = s->ended;
		s->ended = r;
		pthread_mutex_unlock(&s->mu);
	}
	s->ready_len = 0;
}

static void *
sched_main(void *arg)
{
	struct sched *s = arg;
	sigset_t all;

	/* Signals belong to the FUSE loop's thread, not to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Never wait long for another process's lock: sched_save.c holds the
	 * changes and retries, and meanwhile tasks keep being served. */
	store_patience(0);
	for (;;) {
		int quit, timeout, save, mem;

		pthread_mutex_lock(&s->mu);
		quit = s->quit;
		pthread_mutex_unlock(&s->mu);
		if (quit)
			break;
		run_commands(s);
		launched(s, 0);
		start_ready(s);
		timeout = check_deadlines(s);
		mem = sched_check_memory(s);
		if (mem >= 0 && (timeout < 0 || mem < timeout))
			timeout = mem;
		save = sched_save(s);
		if (save >= 0 && (timeout < 0 || save < timeout))
			timeout = save;
		/* Processes without a pidfd are looked at every NOPIDFD_MS. */
		if (s->nrunning && exec_no_pidfd() && (timeout < 0 || timeout > NOPIDFD_MS))
			timeout = NOPIDFD_MS;
		poll_once(s, timeout);
	}
	kill_all(s);
	sched_save_final(s, FINAL_SAVE_MS);
	return NULL;
}

int
sched_start(const struct sched_opts *o, struct sched **out)
{
	struct sched *s = calloc(1, sizeof(*s));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (s == NULL)
		return -1;
	s->st = o->st;
	s->datadir = strdup(o->datadir);
	s->capacity = 1000 * (o->jobs > 0 ? o->jobs : (cores > 0 ? (int)cores : 1));
	s->grace_ms = o->grace_ms > 0 ? o->grace_ms : 5000;
	s->batch_ms = o->batch_ms > 0 ? o->batch_ms : BATCH_MS;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->cmds_tail = &s->cmds;
	pthread_mutex_init(&s->mu, NULL);
	if (s->datadir == NULL || s->wake_fd < 0 || launcher_start(s->wake_fd, &s->launcher) < 0 ||
	    pthread_create(&s->thread, NULL, sched_main, s)) {
		log_warn("scheduler start");
		if (s->launcher)
			launcher_stop(s->launcher);
		if (s->wake_fd >= 0)
			close(s->wake_fd);
		free(s->datadir);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
sched_stop(struct sched *s)
{
	uint64_t one = 1;
	struct cmd *c;

	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_mutex_unlock(&s->mu);
	if (write(s->wake_fd, &one, sizeof(one)) < 0)
		log_warn("scheduler wake-up");
	pthread_join(s->thread, NULL);
	launcher_stop(s->launcher);
	while ((c = s->cmds)) {
		s->cmds = c->next;
		free(c);
	}
	close(s->wake_fd);
	workdir_free(s);
	free(s->ready);
	free(s->delayed);
	free(s->running);
	free(s->datadir);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
