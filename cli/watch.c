/*
 * runfs watch RUN: follows a run through a mount until it completes. On a
 * terminal it redraws one progress line; elsewhere it prints a line per
 * change, so a log or a pipe gets a readable history. It waits in poll()
 * on the run's status file, which wakes on every change of the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "state.h"

#define BAR 30

/* The run's folder for a path under it: ".../runs/<id>". */
static int
run_dir_of_path(const char *arg, char *out, size_t n)
{
	char *real = realpath(arg, NULL), *p, *end;

	if (real == NULL)
		return -1;
	p = strstr(real, "/runs/");
	if (p == NULL || p[6] == '\0') {
		free(real);
		return -1;
	}
	end = strchr(p + 6, '/');
	if (end)
		*end = '\0';
	snprintf(out, n, "%s", real);
	free(real);
	return 0;
}

static int
read_at0(int fd, char *buf, size_t n)
{
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) < 0 || (r = read(fd, buf, n - 1)) < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

/* One line describing the run now; returns its state or -1. */
static int
describe(const char *dir, char *line, size_t n)
{
	char path[PATH_MAX + 32];
	json_t *j, *tasks;
	int st, total, done = 0;
	size_t off;

	snprintf(path, sizeof(path), "%s/status.json", dir);
	if ((j = json_load_file(path, 0, NULL)) == NULL)
		return -1;
	st = state_parse(json_string_value(json_object_get(j, "state")) ?: "");
	tasks = json_object_get(j, "tasks");
	total = (int)json_integer_value(json_object_get(tasks, "total"));
	for (int s = 0; s < ST_COUNT; s++)
		if (state_completed(s))
			done += (int)json_integer_value(json_object_get(tasks, state_name(s)));
	off = (size_t)snprintf(line, n, "[");
	for (int i = 0; i < BAR && off < n; i++)
		line[off++] = total && i < BAR * done / total ? '#' : '.';
	off += (size_t)snprintf(line + off, n - off, "] %d/%d %s", done, total, state_name(st));
	for (int s = 0; s < ST_COUNT && off < n; s++) {
		int c = (int)json_integer_value(json_object_get(tasks, state_name(s)));
		if (c)
			off += (size_t)snprintf(line + off, n - off, "  %s %d", state_name(s), c);
	}
	json_decref(j);
	return st;
}

int
cli_watch(const struct cli_command *c, int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], line[512], last[512] = "", buf[64];
	int tty = isatty(STDOUT_FILENO), fd, st = -1;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage(c, "watch takes one run");
	if (strchr(argv[1], '/') ? run_dir_of_path(argv[1], dir, sizeof(dir)) < 0
				 : cli_run_dir(argv[1], dir, sizeof(dir)) < 0) {
		fprintf(stderr, "runfs watch: no run %s (no runfs mount has it)\n", argv[1]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/status", dir);
	if ((fd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "runfs watch: %s: %s\n", path, strerror(errno));
		return 2;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI};

		/* Reading status from its start re-arms poll() for the next change. */
		if (read_at0(fd, buf, sizeof(buf)) < 0 ||
		    (st = describe(dir, line, sizeof(line))) < 0) {
			fprintf(stderr, "runfs watch: %s: cannot read the run\n", dir);
			close(fd);
			return 2;
		}
		if (strcmp(line, last) != 0) {
			if (tty)
				printf("\r\033[K%s", line);
			else
				printf("%s\n", line);
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", line);
		}
		if (state_completed(st))
			break;
		/* The timeout only guards against a missed wake-up. */
		if (poll(&p, 1, 5000) < 0 && errno != EINTR)
			break;
	}
	if (tty)
		printf("\n");
	printf("%s\n", state_name(st));
	close(fd);
	return st == ST_SUCCEEDED ? 0 : 1;
}
