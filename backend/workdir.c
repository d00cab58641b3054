/*
 * Working directories. Every attempt gets a fresh, empty one, but most
 * tasks leave theirs empty, and on ext4 a mkdir is the dearest step of
 * starting a short task (the allocator searches for an inode that was not
 * freed recently). So an empty directory a finished task leaves behind is
 * renamed to be the next task's: a fresh empty directory all the same,
 * without allocating an inode. A directory with anything in it is kept.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "sched_int.h"

#define NSPARE ((int)(sizeof(((struct sched *)0)->spare) / sizeof(char *)))

int
workdir_make(struct sched *s, const char *path)
{
	while (s->nspare > 0) {
		char *old = s->spare[--s->nspare];
		int ok = rename(old, path) == 0;

		free(old);
		if (ok)
			return 0;
	}
	return mkdir(path, 0700);
}

static int
is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while (n <= 2 && (e = readdir(d)) != NULL)
		n++;
	closedir(d);
	return n == 2;
}

void
workdir_done(struct sched *s, const char *path)
{
	char *copy;

	if (s->nspare == NSPARE || !is_empty(path) || (copy = strdup(path)) == NULL)
		return;
	s->spare[s->nspare++] = copy;
}

void
workdir_free(struct sched *s)
{
	while (s->nspare > 0)
		free(s->spare[--s->nspare]);
}
