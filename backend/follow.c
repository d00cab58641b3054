#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "follow.h"
#include "log.h"
#include "store.h"

struct follow {
	pthread_t thread;
	int ino;
	int quit; /* eventfd */
	void (*fn)(void *);
	void *arg;
};

int
nudge_watch(const char *datadir)
{
	char path[PATH_MAX];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -1;
	if (store_nudge_path(datadir, path, sizeof(path)) < 0 ||
	    inotify_add_watch(fd, path, IN_ATTRIB) < 0) {
		log_warn("watch %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

void
nudge_drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void *
follow_main(void *arg)
{
	struct follow *f = arg;
	struct pollfd p[2] = {{.fd = f->quit, .events = POLLIN}, {.fd = f->ino, .events = POLLIN}};
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		if (poll(p, 2, FOLLOW_FALLBACK_MS) < 0 && errno != EINTR)
			log_warn("follow: poll");
		if (p[0].revents)
			break;
		if (p[1].revents)
			nudge_drain(f->ino);
		f->fn(f->arg);
	}
	return NULL;
}

int
follow_start(const char *datadir, void (*fn)(void *), void *arg, struct follow **out)
{
	struct follow *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->fn = fn;
	f->arg = arg;
	f->quit = eventfd(0, EFD_CLOEXEC);
	f->ino = nudge_watch(datadir);
	if (f->quit < 0 || f->ino < 0 || pthread_create(&f->thread, NULL, follow_main, f) != 0) {
		if (f->quit >= 0)
			close(f->quit);
		if (f->ino >= 0)
			close(f->ino);
		free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void
follow_stop(struct follow *f)
{
	uint64_t one = 1;

	if (f == NULL)
		return;
	if (write(f->quit, &one, sizeof(one)) < 0)
		log_warn("follow: stop");
	pthread_join(f->thread, NULL);
	close(f->quit);
	close(f->ino);
	free(f);
}
