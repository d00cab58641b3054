/*
 * Working directories. Every attempt gets a fresh, empty one, but most
 * tasks leave theirs empty, and on ext4 a mkdir is the dearest step of
 * starting a short task (the allocator searches for an inode that was not
 * freed recently). So an empty directory a finished task leaves behind is
 * renamed to be the next task's: a fresh empty directory all the same,
 * without allocating an inode. A directory with anything in it is kept.
 *
 * An attempt's directory that exists already was made by the same attempt
 * before the daemon was killed, too soon for the store to record its start
 * (sched_save.c batches it). Retry gives that attempt's number again, so
 * workdir_make reports it (EEXIST), and workdir_reclaim removes what the
 * lost attempt left: its files would otherwise mix with the new ones (its
 * stdout is appended to) or keep the new attempt from starting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "log.h"
#include "sched_int.h"
#include "util.h"

#define NSPARE ((int)(sizeof(((struct sched *)0)->spare) / sizeof(char *)))

int
workdir_make(struct sched *s, const char *path)
{
	while (s->nspare > 0) {
		char *old = s->spare[s->nspare - 1];

		/* rename() would silently replace an empty directory. */
		if (renameat2(AT_FDCWD, old, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
			s->nspare--;
			free(old);
			return 0;
		}
		if (errno == EEXIST)
			return -1;
		s->nspare--;
		free(old);
	}
	return mkdir(path, 0700);
}

int
workdir_reclaim(struct sched *s, const char *run, const char *task, int n)
{
	static const char *const dirs[] = {"work", "outputs"};
	static const char *const files[] = {"stdout", "stderr", "stdin"};
	char path[PATH_MAX_];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (path_attempt_file(path, s->datadir, run, task, n, dirs[i]) < 0 ||
		    remove_tree(path) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (path_attempt_file(path, s->datadir, run, task, n, files[i]) < 0 ||
		    (unlink(path) < 0 && errno != ENOENT))
			return -1;
	log_info("run %s: task %s: attempt %d began before the runtime ended and was not "
		 "recorded; its files are replaced",
		 run, task, n);
	return 0;
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
