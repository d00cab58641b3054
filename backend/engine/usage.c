/*
 * What a task run uses on the runtimes of this machine: the record of an
 * attempt (tasks/<t>/usage), and the watch on its memory.
 *
 * The memory a task run may use (resources.memory) on the runtimes of this
 * machine: the resident memory of its process group, sampled every
 * MEMWATCH_MS while such a task runs; over the limit, the group is killed
 * and the attempt ends "out of memory". At the end of an attempt, the
 * peak that wait4() reports catches what a sample missed. Not RLIMIT_AS:
 * that limits address space, which many programs reserve far beyond what
 * they use, and a program that meets it fails in its own way, which runfs
 * could not tell from any other failure.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched_int.h"
#include "util.h"

int64_t
task_memory_limit(const struct stask *t)
{
	return sched_task_def(t)->memory_bytes;
}

/* Adds each process's resident memory to the task whose process group it
 * is in: one pass over /proc for all the watched tasks. */
static void
sample(struct stask **w, int64_t *rss, size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	struct dirent *e;
	DIR *d = opendir("/proc");
	char path[64], buf[512];

	while (d && (e = readdir(d)) != NULL) {
		long pgrp, pages;
		const char *p;
		ssize_t len;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]) ||
		    snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name) >= (int)sizeof(path) ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		/* After the command's ")": state ppid pgrp ... and rss is the
		 * 22nd field from the state (proc(5)). */
		if (len <= 0 || (buf[len] = '\0', p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1,
			   " %*c %*d %ld %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			   "%*d %*d %*d %*u %*u %ld",
			   &pgrp, &pages) != 2)
			continue;
		for (size_t i = 0; i < n; i++)
			if (pgrp == (long)w[i]->proc.pid)
				rss[i] += (int64_t)pages * page;
	}
	if (d)
		closedir(d);
}

int
sched_check_memory(struct sched *s)
{
	struct stask *w[s->nrunning + 1];
	int64_t rss[s->nrunning + 1], now = mono_ms();
	size_t n = 0;

	for (size_t i = 0; i < s->nrunning; i++)
		if (s->running[i]->proc.pid > 0 && !s->running[i]->out_of_memory &&
		    task_memory_limit(s->running[i]) > 0)
			w[n++] = s->running[i];
	if (n == 0)
		return -1;
	/* Every loop turn may come here (each exit wakes it): look at most
	 * every MEMWATCH_MS. */
	if (now - s->mem_sampled < MEMWATCH_MS)
		return (int)(MEMWATCH_MS - (now - s->mem_sampled));
	s->mem_sampled = now;
	memset(rss, 0, sizeof(rss));
	sample(w, rss, n);
	for (size_t i = 0; i < n; i++)
		if (rss[i] > task_memory_limit(w[i])) {
			w[i]->out_of_memory = 1;
			exec_signal(&w[i]->proc, SIGKILL);
		}
	return MEMWATCH_MS;
}

/* tasks/<t>/usage of an attempt the engine ran: its wall time, and from
 * wait4() the CPU time of the task and of the children it waited for and
 * the largest resident set among them (malloc'd JSON; NULL without memory). */
char *
usage_json(const struct rusage *ru, int64_t wall_ms, int code, int64_t limit)
{
	json_t *o = json_pack("{s:f, s:f, s:f, s:I, s:i, s:s}", "wall_s", wall_ms / 1000.0,
			      "user_s", ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6,
			      "system_s", ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6,
			      "max_rss_bytes", (json_int_t)ru->ru_maxrss * 1024, "exit_status",
			      code < 0 ? 128 - code : code, "measured_by", "wait4");
	char *text;

	/* Which limit held the task, and how (below). */
	if (o && limit > 0)
		json_object_set_new(o, "memory_limit",
				    json_pack("{s:I, s:s}", "bytes", (json_int_t)limit, "by",
					      "runfs: the process group's resident memory, "
					      "sampled every 20 ms, and the peak wait4() gives"));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}
