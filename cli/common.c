/* What the CLI commands share: usage errors and finding a mount. */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

int
cli_usage(const struct cli_command *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "runfs: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", c->usage);
	return 2;
}

/*
 * Whether path exists, asked in a child with a deadline: a mount whose
 * daemon is stopped or gone would hang the caller in stat() forever, and
 * only a fatal signal ends a process waiting on FUSE.
 */
int
cli_exists(const char *path, int timeout_ms)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return access(path, F_OK) == 0;
	if (pid == 0)
		_exit(access(path, F_OK) == 0 ? 0 : 1);
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0;
}

int
cli_run_dir(const char *id, char *out, size_t n)
{
	char mnt[PATH_MAX];

	if (cli_mount_having_run(id, mnt, sizeof(mnt)) < 0)
		return -1;
	return (size_t)snprintf(out, n, "%.3000s/runs/%.250s", mnt, id) < n ? 0 : -1;
}

int
cli_mount_having(const char *rel, char *out, size_t n)
{
	FILE *f;
	char line[4096], mnt[PATH_MAX], type[256], probe[PATH_MAX + 256];
	int found = -1;

	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    sscanf(sep + 3, "%255s", type) == 1 && strcmp(type, "fuse.runfs") == 0 &&
		    strlen(mnt) < n &&
		    (size_t)snprintf(probe, sizeof(probe), "%s/%.200s", mnt, rel) < sizeof(probe) &&
		    cli_exists(probe, 2000)) {
			snprintf(out, n, "%s", mnt);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int
cli_find_mount(const char *want, char *out, size_t n)
{
	if (want == NULL)
		return cli_mount_having("submit", out, n);
	if ((size_t)snprintf(out, n, "%s/submit", want) >= n || !cli_exists(out, 5000))
		return -1;
	snprintf(out, n, "%s", want);
	return 0;
}

int
cli_mount_having_run(const char *id, char *out, size_t n)
{
	char rel[256];

	if (strchr(id, '/') || (size_t)snprintf(rel, sizeof(rel), "runs/%s", id) >= sizeof(rel))
		return -1;
	return cli_mount_having(rel, out, n);
}

int
cli_locate_run(const struct cli_command *c, const char *run, const char *mount, char *dir, size_t n)
{
	char mnt[PATH_MAX];
	int found = -1;

	if (strchr(run, '/') || strlen(run) > 200)
		return cli_usage(c, "%s is not a run id", run);
	if (mount && (found = cli_find_mount(mount, mnt, sizeof(mnt))) == 0)
		found = (size_t)snprintf(dir, n, "%s/runs/%s", mnt, run) < n ? 0 : -1;
	else if (!mount)
		found = cli_run_dir(run, dir, n);
	if (found < 0) {
		fprintf(stderr, "runfs: no runfs mount%s has run %s\n",
			mount ? " at the given path" : "", run);
		return 1;
	}
	return 0;
}
