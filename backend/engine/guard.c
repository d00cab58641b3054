#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"

/* Kills the processes whose environment says they are tasks of daemon;
 * returns how many it signalled. */
static int
kill_tasks(pid_t daemon)
{
	char mark[64], path[64], env[65536];
	int mlen = snprintf(mark, sizeof(mark), GUARD_ENV "=%d", (int)daemon), n = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t len;
		int fd;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, env, sizeof(env) - 1);
		close(fd);
		for (ssize_t i = 0; len > 0 && i < len; i += (ssize_t)strlen(env + i) + 1) {
			env[len] = '\0';
			if (strncmp(env + i, mark, (size_t)mlen) == 0 && env[i + mlen] == '\0') {
				kill(pid, SIGKILL);
				n++;
				break;
			}
		}
	}
	closedir(d);
	return n;
}

int
guard_start(void)
{
	pid_t daemon = getpid(), pid;
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[0]); /* the daemon keeps the write end until it ends */
		return 0;
	}
	/* The guard: out of the terminal's reach, holding nothing but its pipe. */
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	close(p[1]);
	if (p[0] != 3) {
		dup2(p[0], 3);
		close(p[0]);
	}
	close_range(4, ~0U, 0);
	while (read(3, &c, 1) < 0 && errno == EINTR)
		;
	/* The daemon is gone. A task may fork while we look: look again
	 * until a pass finds none (bounded). */
	for (int pass = 0; pass < 50 && kill_tasks(daemon) > 0; pass++)
		usleep(20000);
	_exit(0);
}
