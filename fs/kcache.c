/*
 * The kernel's cache of settled runs. A run that has ended and that no
 * runtime executes any more does not change until someone acts on it
 * (retry, rerun, delete, or another machine's mount doing so): its
 * nodes' attributes may be kept by the kernel for long, and its files'
 * contents kept in the page cache, so that a second `ls -l`, `find` or
 * `cat` of it asks the daemon nothing. Everything else is asked afresh,
 * as before.
 *
 * What was handed out is remembered per run (its seq and id). The first
 * change recorded for such a run (the store's feed) invalidates the run's
 * name in runs/, which drops every name below it that nothing holds, and
 * the inodes of the run's own files and folders (a shell whose working
 * folder is the run's holds its names); files are then reopened without
 * keep_cache, which drops their pages. A reply may have been built from
 * the state just before the change and reach the kernel after the
 * invalidation: it is made again AGAIN_MS later, three times.
 *
 * Only the invalidation thread talks to the kernel: an invalidation
 * waits for the lock of runs/, which a lookup holds while it waits for a
 * worker thread; a worker that invalidated itself could wait for ever.
 * A write to a ctl waits (a bounded moment) for the thread instead.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcache.h"
#include "log.h"
#include "ops_int.h"

/* When the invalidation is made again after the first (ms). */
static const int again_ms[] = {200, 1000, 5000};
#define NAGAIN ((int)(sizeof(again_ms) / sizeof(again_ms[0])))
/* How long a write waits for the thread's first invalidations. */
#define SYNC_WAIT_MS 100
/* Past this many runs remembered, new ones are not cached (memory). */
#define MAX_RUNS (1 << 18)

struct slot {
	int64_t seq; /* 0 = free */
	char *id;
};

struct pending {
	struct pending *next;
	char *id;
	int64_t seq;
	int64_t due; /* mono ms */
	int passes;  /* invalidations made so far */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t passed = PTHREAD_COND_INITIALIZER; /* a pass is done */
static struct slot *slots;
static size_t nslots, nused;
static struct pending *queue;
static struct fuse_session *session;
static pthread_t thread;
static int running, stopping;

static size_t
hash(int64_t seq, size_t n)
{
	return (size_t)((uint64_t)seq * 0x9E3779B97F4A7C15ULL >> 20) & (n - 1);
}

/* The slot of seq, or the free one where it would go; mu held. */
static struct slot *
find(int64_t seq)
{
	size_t i = hash(seq, nslots);

	while (slots[i].seq && slots[i].seq != seq)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* Doubles the table; 0 or -1. mu held. */
static int
grow(void)
{
	size_t n = nslots ? nslots * 2 : 1024;
	struct slot *old = slots, *s;
	size_t oldn = nslots;

	if ((slots = calloc(n, sizeof(*slots))) == NULL) {
		slots = old;
		return -1;
	}
	nslots = n;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].seq) {
			s = find(old[i].seq);
			*s = old[i];
		}
	free(old);
	return 0;
}

/* Remembers that the kernel may cache nodes of run r; 0 when it may not
 * (not settled, or too many remembered). */
static int
remember(const struct run_rec *r)
{
	struct slot *s;
	int ok = 0;

	if (!run_rec_ended(r) || r->owner != 0)
		return 0;
	pthread_mutex_lock(&mu);
	if (!running || stopping)
		goto out;
	if ((nused + 1) * 2 > nslots && (nused >= MAX_RUNS || grow() < 0))
		goto out;
	s = find(r->seq);
	if (s->seq == 0) {
		if ((s->id = strdup(r->id)) == NULL)
			goto out;
		s->seq = r->seq;
		nused++;
	}
	ok = 1;
out:
	pthread_mutex_unlock(&mu);
	return ok;
}

/* Takes seq out of the table (open addressing: the ones after it move
 * up); its id, or NULL when it was not there. mu held. */
static char *
forget(int64_t seq)
{
	struct slot *s;
	char *id;
	size_t i, j;

	if (nslots == 0 || (s = find(seq))->seq == 0)
		return NULL;
	id = s->id;
	*s = (struct slot){0};
	i = (size_t)(s - slots);
	nused--;
	for (j = (i + 1) & (nslots - 1); slots[j].seq; j = (j + 1) & (nslots - 1)) {
		struct slot moved = slots[j];
		slots[j] = (struct slot){0};
		*find(moved.seq) = moved;
	}
	return id;
}

int
kcache_settled_key(const struct node *n, int64_t key[2])
{
	struct run_rec r = {0};
	int ok;

	if (!n->run || node_run_brief(n, &r) != 0)
		return 0;
	if ((ok = remember(&r))) {
		key[0] = r.last_event;
		key[1] = r.updated;
	}
	run_rec_free(&r);
	return ok;
}

int
kcache_settled(const struct node *n)
{
	int64_t key[2];

	return kcache_settled_key(n, key);
}

double
kcache_attr_timeout(const struct node *n)
{
	return kcache_settled(n) ? ENTRY_TIMEOUT : 0;
}

static int64_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
kcache_changed(int64_t seq)
{
	struct pending *p;
	char *id;

	pthread_mutex_lock(&mu);
	if ((id = forget(seq)) != NULL) {
		if ((p = malloc(sizeof(*p))) == NULL) {
			/* Cannot happen quietly: the kernel would show old data. */
			log_warnx("kcache: out of memory; run %s may read stale for an hour", id);
			free(id);
		} else {
			*p = (struct pending){queue, id, seq, 0, 0};
			queue = p;
			pthread_cond_signal(&cond);
		}
	}
	pthread_mutex_unlock(&mu);
}

/* Tells the kernel to drop what it keeps of run seq (named id). */
static void
invalidate(fuse_ino_t parent, int64_t seq, const char *id)
{
	struct node nodes[RUN_NODES_MAX + 1];
	int n = run_nodes(seq, nodes);

	fuse_lowlevel_notify_inval_entry(session, parent, id, strlen(id));
	nodes[n++] = (struct node){.kind = K_RUN, .run = seq};
	for (int i = 0; i < n; i++)
		fuse_lowlevel_notify_inval_inode(session, node_ino(&nodes[i]), 0, 0);
}

/* The due invalidations, made outside the lock from copies: entries are
 * added and freed meanwhile. */
struct due {
	int64_t seq;
	char *id;
};

static void *
kcache_main(void *arg)
{
	struct node runs = {.kind = K_RUNS};
	fuse_ino_t parent = node_ino(&runs);
	struct due *due = NULL;
	size_t cap = 0;

	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stopping) {
		int64_t now = mono_now(), next = 0;
		size_t n = 0;

		for (struct pending **pp = &queue, *p; (p = *pp) != NULL;) {
			if (p->due > now) {
				next = next && next < p->due ? next : p->due;
				pp = &p->next;
				continue;
			}
			if (n == cap) {
				struct due *more =
				    realloc(due, (cap ? cap * 2 : 16) * sizeof(*due));
				if (more == NULL)
					break; /* the rest waits for the next pass */
				due = more;
				cap = cap ? cap * 2 : 16;
			}
			due[n].seq = p->seq;
			if ((due[n].id = strdup(p->id)) == NULL)
				break;
			n++;
			if (p->passes < NAGAIN) {
				p->due = now + again_ms[p->passes++];
				next = next && next < p->due ? next : p->due;
				pp = &p->next;
			} else {
				*pp = p->next;
				free(p->id);
				free(p);
			}
		}
		if (n > 0) {
			pthread_mutex_unlock(&mu);
			for (size_t i = 0; i < n; i++) {
				invalidate(parent, due[i].seq, due[i].id);
				free(due[i].id);
			}
			pthread_mutex_lock(&mu);
			pthread_cond_broadcast(&passed);
			continue;
		}
		if (next) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (next - now) / 1000;
			ts.tv_nsec += (long)((next - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&cond, &mu, &ts);
		} else {
			pthread_cond_wait(&cond, &mu);
		}
	}
	pthread_mutex_unlock(&mu);
	free(due);
	return NULL;
}

/* Whether a first invalidation is still to be made; mu held. */
static int
first_pending(void)
{
	for (struct pending *p = queue; p; p = p->next)
		if (p->passes == 0)
			return 1;
	return 0;
}

void
kcache_sync(void)
{
	struct timespec ts;

	pthread_mutex_lock(&mu);
	if (running && !stopping && first_pending()) {
		pthread_cond_signal(&cond);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SYNC_WAIT_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (first_pending() && !stopping &&
		       pthread_cond_timedwait(&passed, &mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&mu);
}

int
kcache_start(struct fuse_session *se)
{
	session = se;
	if (pthread_create(&thread, NULL, kcache_main, NULL) != 0)
		return -1;
	pthread_mutex_lock(&mu);
	running = 1;
	pthread_mutex_unlock(&mu);
	return 0;
}

void
kcache_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	while (queue) {
		struct pending *p = queue;
		queue = p->next;
		free(p->id);
		free(p);
	}
	for (size_t i = 0; i < nslots; i++)
		if (slots[i].seq)
			free(slots[i].id);
	free(slots);
	slots = NULL;
	nslots = nused = 0;
	running = 0;
}
