/*
 * The launcher's thread (launcher.h). It is also the parent of every task
 * process, so it lives as long as the scheduler: PR_SET_PDEATHSIG fires
 * when the thread that forked a task ends, not the process.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "launcher.h"
#include "log.h"

/* A FIFO of launches. */
struct queue {
	struct launch *head, **tail;
};

struct launcher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t todo_cv, done_cv;
	struct queue todo, done;
	int quit;
	int wake_fd;
};

static void
queue_append(struct queue *q, struct launch *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
}

/* Takes the oldest, or NULL. */
static struct launch *
queue_pop(struct queue *q)
{
	struct launch *j = q->head;

	if (j && (q->head = j->next) == NULL)
		q->tail = &q->head;
	return j;
}

/* Takes the whole queue, oldest first. */
static struct launch *
queue_take(struct queue *q)
{
	struct launch *j = q->head;

	q->head = NULL;
	q->tail = &q->head;
	return j;
}

static void
launcher_free(struct launcher *l)
{
	pthread_cond_destroy(&l->done_cv);
	pthread_cond_destroy(&l->todo_cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static void *
launcher_main(void *arg)
{
	struct launcher *l = arg;
	uint64_t one = 1;
	sigset_t all;

	/* Every signal but SIGCHLD: the kernel drops a child's SIGCHLD only when
	 * its parent thread does not block it (the default action is to
	 * ignore it); blocked, it wakes another thread to be discarded there,
	 * a context switch for each task that ends. */
	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct launch *j;

		while (l->todo.head == NULL && !l->quit)
			pthread_cond_wait(&l->todo_cv, &l->mu);
		if ((j = queue_pop(&l->todo)) == NULL)
			break;
		pthread_mutex_unlock(&l->mu);
		j->rc = exec_start(&j->req, &j->proc, j->err, sizeof(j->err));
		pthread_mutex_lock(&l->mu);
		queue_append(&l->done, j);
		pthread_cond_signal(&l->done_cv);
		if (write(l->wake_fd, &one, sizeof(one)) < 0)
			log_warn("launcher wake-up");
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int
launcher_start(int wake_fd, struct launcher **out)
{
	struct launcher *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -1;
	l->wake_fd = wake_fd;
	l->todo.tail = &l->todo.head;
	l->done.tail = &l->done.head;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->todo_cv, NULL);
	pthread_cond_init(&l->done_cv, NULL);
	if (pthread_create(&l->thread, NULL, launcher_main, l) != 0) {
		launcher_free(l);
		return -1;
	}
	*out = l;
	return 0;
}

void
launcher_push(struct launcher *l, struct launch *j)
{
	pthread_mutex_lock(&l->mu);
	queue_append(&l->todo, j);
	pthread_cond_signal(&l->todo_cv);
	pthread_mutex_unlock(&l->mu);
}

struct launch *
launcher_done(struct launcher *l, int block)
{
	struct launch *j;

	pthread_mutex_lock(&l->mu);
	while (block && l->done.head == NULL)
		pthread_cond_wait(&l->done_cv, &l->mu);
	j = queue_take(&l->done);
	pthread_mutex_unlock(&l->mu);
	return j;
}

void
launcher_stop(struct launcher *l)
{
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	pthread_cond_signal(&l->todo_cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	launcher_free(l);
}
