#include <stdio.h>
#include <string.h>

#include "layout.h"

static int
fit(int n)
{
	return (n < 0 || n >= PATH_MAX_) ? -1 : 0;
}

int
path_run(char *out, const char *datadir, const char *run)
{
	return fit(snprintf(out, PATH_MAX_, "%s/runs/%s", datadir, run));
}

int
path_run_file(char *out, const char *datadir, const char *run, const char *file)
{
	return fit(snprintf(out, PATH_MAX_, "%s/runs/%s/%s", datadir, run, file));
}

int
path_task_log(char *out, const char *datadir, const char *run, const char *task)
{
	return fit(snprintf(out, PATH_MAX_, "%s/runs/%s/logs.d/%s.log", datadir, run, task));
}

int
path_task_system(char *out, const char *datadir, const char *run, const char *task)
{
	return path_task_file(out, datadir, run, task, "system");
}

int
path_task_file(char *out, const char *datadir, const char *run, const char *task, const char *what)
{
	return fit(snprintf(out, PATH_MAX_, "%s/runs/%s/logs.d/%s.%s", datadir, run, task, what));
}

int
path_attempt_file(char *out, const char *datadir, const char *run, const char *task, int n,
		  const char *file)
{
	if (strcmp(file, "outputs") == 0 || strcmp(file, "work") == 0)
		return fit(
		    snprintf(out, PATH_MAX_, "%s/runs/%s/%s/%s.%d", datadir, run, file, task, n));
	return fit(
	    snprintf(out, PATH_MAX_, "%s/runs/%s/logs.d/%s.%d.%s", datadir, run, task, n, file));
}

int
path_output(char *out, const char *datadir, const char *run, const char *task, int n,
	    const char *name)
{
	if (strcmp(name, "stdout") == 0)
		return path_attempt_file(out, datadir, run, task, n, "stdout");
	return fit(
	    snprintf(out, PATH_MAX_, "%s/runs/%s/outputs/%s.%d/%s", datadir, run, task, n, name));
}
