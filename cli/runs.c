/* runfs submit and runfs runs: clients of a mount's submit and runs/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "state.h"
#include "util.h"

#define SUBMIT_USAGE "runfs submit FILE [--config NAME] [--mount DIR]"
#define RUNS_USAGE   "runfs runs [--state STATE]... [--limit N] [--max-age 1d2h3m4s] [--mount DIR]"

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cli_submit(int argc, char **argv)
{
	const char *file = NULL, *config = NULL, *mount = NULL;
	char mnt[PATH_MAX], path[PATH_MAX + 16], answer[512], *text = NULL;
	size_t len;
	ssize_t n;
	int fd, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--mount") && i + 1 < argc)
			mount = argv[++i];
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return cli_usage(SUBMIT_USAGE, "unexpected argument %s", argv[i]);
	}
	if (file == NULL)
		return cli_usage(SUBMIT_USAGE, "submit needs a definition file");
	if (cli_find_mount(mount, mnt, sizeof(mnt)) < 0) {
		fprintf(stderr, "runfs: no runfs mount%s%s; mount one first\n", mount ? " at " : "",
			mount ? mount : "");
		return 1;
	}
	if (read_file(file, 64 * 1024 * 1024, &text, &len) < 0) {
		fprintf(stderr, "runfs: %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (config) {
		/* --config wins over the definition's own "config". */
		json_error_t je;
		json_t *d = json_loadb(text, len, 0, &je);
		free(text);
		if (!json_is_object(d)) {
			fprintf(stderr, "runfs: %s: line %d, column %d: %s\n", file, je.line,
				je.column, d ? "expected an object" : je.text);
			json_decref(d);
			return 1;
		}
		json_object_set_new(d, "config", json_string(config));
		text = json_dumps(d, JSON_COMPACT);
		len = text ? strlen(text) : 0;
		json_decref(d);
	}
	snprintf(path, sizeof(path), "%s/submit", mnt);
	if ((fd = open(path, O_RDWR)) < 0) {
		fprintf(stderr, "runfs: %s: %s\n", path, strerror(errno));
		free(text);
		return 1;
	}
	/* A refused definition fails the write; the reason is read back. */
	(void)write_all(fd, text ? text : "", len);
	if ((n = read(fd, answer, sizeof(answer) - 1)) <= 0) {
		fprintf(stderr, "runfs: no answer from %s\n", path);
	} else {
		answer[n] = '\0';
		if (strncmp(answer, "error: ", 7) == 0) {
			fprintf(stderr, "runfs: %s", answer + 7);
		} else {
			fputs(answer, stdout);
			rc = 0;
		}
	}
	close(fd);
	free(text);
	return rc;
}

/* "1d2h3m4s" in seconds, or -1. */
static long
parse_age(const char *s)
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

struct row {
	char id[256], state[16], config[64], created[40];
	int done, total;
};

static int
newest_first(const void *a, const void *b)
{
	return strcmp(((const struct row *)b)->created, ((const struct row *)a)->created);
}

int
cli_runs(int argc, char **argv)
{
	const char *mount = NULL, *states[ST_COUNT];
	int nstates = 0, limit = -1;
	long max_age = -1;
	char mnt[PATH_MAX], dir[PATH_MAX + 8], cutoff[40] = "";
	struct row *rows = NULL;
	size_t nrows = 0;
	struct dirent *e;
	DIR *d;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return cli_usage(RUNS_USAGE, "%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--state") && nstates < ST_COUNT) {
			if (state_parse(argv[++i]) < 0)
				return cli_usage(RUNS_USAGE, "no state %s", argv[i]);
			states[nstates++] = argv[i];
		} else if (!strcmp(argv[i], "--limit")) {
			char *end;
			limit = (int)strtol(argv[++i], &end, 10);
			if (*end || limit < 0)
				return cli_usage(RUNS_USAGE, "--limit takes a count");
		} else if (!strcmp(argv[i], "--max-age")) {
			if ((max_age = parse_age(argv[++i])) < 0)
				return cli_usage(RUNS_USAGE,
						 "--max-age takes a duration like 3d6h");
		} else if (!strcmp(argv[i], "--mount")) {
			mount = argv[++i];
		} else {
			return cli_usage(RUNS_USAGE, "unexpected argument %s", argv[i]);
		}
	}
	if (cli_find_mount(mount, mnt, sizeof(mnt)) < 0) {
		fprintf(stderr, "runfs: no runfs mount; mount one first\n");
		return 1;
	}
	if (max_age >= 0)
		iso8601(now_ms() - (int64_t)max_age * 1000, cutoff, sizeof(cutoff));
	snprintf(dir, sizeof(dir), "%s/runs", mnt);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "runfs: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX + 300];
		json_t *j, *t;
		struct row r = {0}, *nr;
		int keep = nstates == 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status.json", dir, e->d_name);
		if ((j = json_load_file(path, 0, NULL)) == NULL)
			continue;
		snprintf(r.id, sizeof(r.id), "%s", e->d_name);
		snprintf(r.state, sizeof(r.state), "%s",
			 json_string_value(json_object_get(j, "state")) ?: "");
		snprintf(r.config, sizeof(r.config), "%s",
			 json_string_value(json_object_get(j, "config")) ?: "");
		snprintf(r.created, sizeof(r.created), "%s",
			 json_string_value(json_object_get(j, "created")) ?: "");
		t = json_object_get(j, "tasks");
		r.total = (int)json_integer_value(json_object_get(t, "total"));
		for (int s = 0; s < ST_COUNT; s++)
			if (state_completed(s))
				r.done +=
				    (int)json_integer_value(json_object_get(t, state_name(s)));
		json_decref(j);
		for (int s = 0; s < nstates; s++)
			keep |= strcmp(states[s], r.state) == 0;
		if (!keep || (*cutoff && strcmp(r.created, cutoff) < 0))
			continue;
		if ((nr = realloc(rows, (nrows + 1) * sizeof(*rows))) == NULL)
			break;
		rows = nr;
		rows[nrows++] = r;
	}
	closedir(d);
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), newest_first);
	printf("%-32s %-10s %-12s %-24s %s\n", "ID", "STATE", "CONFIG", "CREATED", "DONE/TOTAL");
	for (size_t i = 0; i < nrows && (limit < 0 || (int)i < limit); i++)
		printf("%-32s %-10s %-12s %-24s %d/%d\n", rows[i].id, rows[i].state, rows[i].config,
		       rows[i].created, rows[i].done, rows[i].total);
	free(rows);
	return 0;
}
