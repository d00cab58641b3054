/* runfs tasks RUN: a table of the run's task runs, from its status.json. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "state.h"
#include "util.h"

static const char *
str_or_dash(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "-";
}

static void
print_task(json_t *t, int tsv, int idw, int taskw)
{
	char exit[16] = "-";
	json_t *code = json_object_get(t, "exit_code");
	const char *id = str_or_dash(json_object_get(t, "id"));
	const char *state = str_or_dash(json_object_get(t, "state"));
	const char *task = str_or_dash(json_object_get(t, "task"));
	const char *started = str_or_dash(json_object_get(t, "started"));
	const char *ended = str_or_dash(json_object_get(t, "ended"));
	long long attempts = (long long)json_integer_value(json_object_get(t, "attempts"));

	if (json_is_integer(code))
		snprintf(exit, sizeof(exit), "%lld", (long long)json_integer_value(code));
	if (tsv)
		printf("%s\t%s\t%s\t%lld\t%s\t%s\t%s\n", id, state, task, attempts, started, ended,
		       exit);
	else
		printf("%-*s  %-10s  %-*s  %8lld  %-24s  %-24s  %s\n", idw, id, state, taskw, task,
		       attempts, started, ended, exit);
}

int
cli_tasks(const struct cli_command *c, int argc, char **argv)
{
	const char *run = NULL, *mount = NULL, *task = NULL;
	int want[ST_COUNT] = {0}, any = 1, tsv = 0, idw = 2, taskw = 4, rc, st;
	char dir[2 * PATH_MAX], path[2 * PATH_MAX + 16];
	json_error_t je;
	json_t *doc, *list, *t;
	size_t i;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--tsv"))
			tsv = 1;
		else if (!strcmp(argv[k], "--state") && k + 1 < argc) {
			if ((st = state_parse(argv[++k])) < 0)
				return cli_usage(c, "no state %s", argv[k]);
			want[st] = 1;
			any = 0;
		} else if (!strcmp(argv[k], "--task") && k + 1 < argc)
			task = argv[++k];
		else if (!strcmp(argv[k], "--mount") && k + 1 < argc)
			mount = argv[++k];
		else if (argv[k][0] != '-' && run == NULL)
			run = argv[k];
		else
			return cli_usage(c, "unexpected argument %s", argv[k]);
	}
	if (run == NULL)
		return cli_usage(c, "tasks needs a run id");
	if ((rc = cli_locate_run(c, run, mount, dir, sizeof(dir))) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/status.json", dir);
	if ((doc = json_load_file(path, 0, &je)) == NULL) {
		fprintf(stderr, "runfs: %s: %s\n", path, je.text);
		return 1;
	}
	list = json_object_get(doc, "task_runs");
	json_array_foreach(list, i, t)
	{
		size_t idl = strlen(str_or_dash(json_object_get(t, "id")));
		size_t tl = strlen(str_or_dash(json_object_get(t, "task")));
		idw = idl > (size_t)idw ? (int)idl : idw;
		taskw = tl > (size_t)taskw ? (int)tl : taskw;
	}
	if (!tsv)
		printf("%-*s  %-10s  %-*s  %8s  %-24s  %-24s  %s\n", idw, "ID", "STATE", taskw,
		       "TASK", "ATTEMPTS", "STARTED", "ENDED", "EXIT");
	json_array_foreach(list, i, t)
	{
		int s = state_parse(str_or_dash(json_object_get(t, "state")));
		if ((!any && (s < 0 || !want[s])) ||
		    (task && strcmp(task, str_or_dash(json_object_get(t, "task")))))
			continue;
		print_task(t, tsv, idw, taskw);
	}
	json_decref(doc);
	return fflush(stdout) == 0 ? 0 : 1;
}
