/* The mount's index, read once: runfs runs and runfs prune. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "util.h"

/* "1d2h3m4s" in seconds, or -1. */
long
cli_parse_age(const char *s)
{
	long total = 0;

	if (*s == '\0')
		return -1;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 0)
			return -1;
		switch (*end) {
		case 'd':
			total += v * 86400;
			break;
		case 'h':
			total += v * 3600;
			break;
		case 'm':
			total += v * 60;
			break;
		case 's':
			total += v;
			break;
		default:
			return -1;
		}
		s = end + 1;
	}
	return total;
}

/* One line of the mount's index: its six tab-separated fields. */

static int
split_line(char *line, char *f[NFIELDS])
{
	for (int i = 0; i < NFIELDS; i++)
		if ((f[i] = strsep(&line, "\t")) == NULL)
			return -1;
	return line == NULL ? 0 : -1;
}

/* When the run was made: its folder's mtime (see docs/TREE.md). */
int
cli_run_created(const char *mnt, const char *id, time_t *when)
{
	char path[PATH_MAX + 300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/runs/%s", mnt, id);
	if (stat(path, &st) < 0)
		return -1;
	*when = st.st_mtime;
	return 0;
}

int
cli_index_read(const char *mnt, char **text, struct index_row **rows, size_t *n)
{
	char path[PATH_MAX + 8];
	size_t len, cap = 0;

	*rows = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/index", mnt);
	if (read_file(path, (size_t)1 << 31, text, &len) < 0) {
		fprintf(stderr, "runfs: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (char *p = *text, *nl; p < *text + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(*text + len - p))) == NULL)
			break;
		*nl = '\0';
		if (*n == cap) {
			struct index_row *nr =
			    reallocarray(*rows, cap = cap ? 2 * cap : 64, sizeof(**rows));
			if (nr == NULL)
				goto oom;
			*rows = nr;
		}
		if (split_line(p, (*rows)[*n].f) < 0) {
			fprintf(stderr, "runfs: %s: line %zu is not six fields\n", path, *n + 1);
			goto fail;
		}
		(*n)++;
	}
	return 0;
oom:
	fprintf(stderr, "runfs: out of memory\n");
fail:
	free(*rows);
	free(*text);
	*rows = NULL;
	*text = NULL;
	return -1;
}
