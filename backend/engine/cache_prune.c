/*
 * The cache as a whole (runfs cache, runfs cache prune): its entries and
 * their bytes, the hits, misses and saves noted in DATA/cache/log, and
 * trimming by age and by total size, oldest first. Removing an entry
 * removes only its names: runs that took its files keep them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cache.h"
#include "layout.h"
#include "util.h"

void
cache_note(const char *datadir, const char *what, const char *key)
{
	char path[PATH_MAX_], dir[PATH_MAX_], line[128];
	int fd, n;

	if (snprintf(path, sizeof(path), "%s/cache/log", datadir) >= (int)sizeof(path))
		return;
	/* The folder is made once, not on every note: hits are many. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		snprintf(dir, sizeof(dir), "%s/cache", datadir);
		if (errno != ENOENT || mkdir_p(dir, 0700) < 0 ||
		    (fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
			return;
	}
	/* One short write per line: O_APPEND keeps lines of several
	 * processes whole. */
	n = snprintf(line, sizeof(line), "%lld %s %s\n", (long long)now_ms(), what, key);
	if (write(fd, line, (size_t)n) < 0) {
		/* A lost line only costs a count. */
	}
	close(fd);
}

struct entry {
	char key[65];
	int64_t created;
	long long bytes;
};

static int
by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->created < y->created ? -1 : x->created > y->created;
}

/* Every entry with a readable meta.json; count in *n, malloc'd. */
static struct entry *
entries(const char *datadir, size_t *n)
{
	char dir[PATH_MAX_], path[PATH_MAX_ + 300];
	struct entry *all = NULL, *more;
	size_t cap = 0;
	struct dirent *de;
	json_error_t je;
	json_t *meta, *f;
	const char *name;
	DIR *dp;

	*n = 0;
	if (snprintf(dir, sizeof(dir), "%s/cache", datadir) >= (int)sizeof(dir) ||
	    (dp = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(dp)) != NULL) {
		if (strlen(de->d_name) != 64)
			continue;
		snprintf(path, sizeof(path), "%s/%s/meta.json", dir, de->d_name);
		if ((meta = json_load_file(path, 0, &je)) == NULL)
			continue;
		if (*n == cap && (more = realloc(all, (cap = cap ? 2 * cap : 64) * sizeof(*all)))) {
			all = more;
		} else if (*n == cap) {
			json_decref(meta);
			break;
		}
		memcpy(all[*n].key, de->d_name, 65); /* 64 hex digits and the NUL */
		all[*n].created = json_integer_value(json_object_get(meta, "created"));
		all[*n].bytes = 0;
		json_object_foreach(json_object_get(meta, "files"), name, f) all[*n].bytes +=
		    json_integer_value(json_object_get(f, "size"));
		(*n)++;
		json_decref(meta);
	}
	closedir(dp);
	if (all)
		qsort(all, *n, sizeof(*all), by_age);
	return all;
}

int
cache_stats(const char *datadir, struct cache_stats *st)
{
	char path[PATH_MAX_], *log = NULL, what[16];
	struct entry *all;
	size_t n, len;

	memset(st, 0, sizeof(*st));
	all = entries(datadir, &n);
	for (size_t i = 0; i < n; i++)
		st->bytes += all[i].bytes;
	st->entries = (long)n;
	free(all);
	if (snprintf(path, sizeof(path), "%s/cache/log", datadir) < (int)sizeof(path) &&
	    read_file(path, (size_t)1 << 30, &log, &len) == 0) {
		for (char *p = log; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (sscanf(p, "%*s %15s", what) == 1) {
				st->hits += strcmp(what, "hit") == 0;
				st->misses += strcmp(what, "miss") == 0;
				st->saves += strcmp(what, "save") == 0;
			}
		free(log);
	}
	return 0;
}

int
cache_prune(const char *datadir, int64_t max_age_ms, long long max_size, int dry,
	    cache_prune_fn each, void *arg)
{
	char path[PATH_MAX_];
	struct entry *all;
	long long total = 0;
	int64_t cutoff = max_age_ms >= 0 ? now_ms() - max_age_ms : 0;
	size_t n;
	int removed = 0;

	all = entries(datadir, &n);
	for (size_t i = 0; i < n; i++)
		total += all[i].bytes;
	/* Oldest first: past the age, then while the whole is too big. */
	for (size_t i = 0; i < n; i++) {
		int old = max_age_ms >= 0 && all[i].created < cutoff;
		int big = max_size >= 0 && total > max_size;
		if (!old && !big)
			continue;
		snprintf(path, sizeof(path), "%s/cache/%s", datadir, all[i].key);
		if (!dry && remove_tree(path) < 0)
			continue;
		total -= all[i].bytes;
		removed++;
		if (each)
			each(all[i].key, all[i].bytes, all[i].created, arg);
	}
	free(all);
	return removed;
}
