#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "follow.h"
#include "log.h"
#include "store.h"
#include "util.h"

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

int
nudge_drain(int fd, int requests)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char self[16];
	int foreign = 0;
	ssize_t n;

	snprintf(self, sizeof(self), "%d", (int)getpid());
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			size_t n = e->len ? strlen(e->name) : 0;
			int req = n > 2 && strcmp(e->name + n - 2, ".r") == 0;
			size_t base = n - (size_t)(2 * req);
			int own = base == strlen(self) && strncmp(e->name, self, base) == 0;
			if (n > 0 && req == requests && !own)
				foreign = 1;
			p += sizeof(*e) + e->len;
		}
	}
	return foreign;
}

static void *
follow_main(void *arg)
{
	struct follow *f = arg;
	struct pollfd p[2] = {{.fd = f->quit, .events = POLLIN}, {.fd = f->ino, .events = POLLIN}};
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (int64_t last = mono_ms();;) {
		int foreign = 0;
		if (poll(p, 2, FOLLOW_FALLBACK_MS) < 0 && errno != EINTR)
			log_warn("follow: poll");
		if (p[0].revents)
			break;
		if (p[1].revents)
			foreign = nudge_drain(f->ino, 0);
		if (foreign || mono_ms() - last >= FOLLOW_FALLBACK_MS) {
			f->fn(f->arg);
			last = mono_ms();
		}
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
