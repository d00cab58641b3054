/*
 * Starting, finding and stopping the local runtime daemon from outside it
 * (runfs up/down/status, and a mount that starts it on demand).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "localrt.h"
#include "log.h"
#include "util.h"

#define READY_TIMEOUT_MS 30000

extern char **environ;

int
localrt_pid(const char *datadir)
{
	char path[PATH_MAX], text[32];
	int fd, pid = 0;
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/local.pid", datadir) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		close(fd); /* nobody holds it: a stale file */
		return 0;
	}
	/* Locked: the daemon writes its pid right after taking the lock. */
	for (int i = 0; i < 1000 && pid <= 0; i++) {
		if ((n = pread(fd, text, sizeof(text) - 1, 0)) > 0) {
			text[n] = '\0';
			pid = atoi(text);
		}
		if (pid <= 0)
			usleep(1000);
	}
	close(fd);
	return pid > 0 ? pid : -1;
}

/* Reads the daemon's one ready line from fd, bounded. */
static enum rerr
await_ready(int fd, int *pid, int *already, char **err)
{
	char line[512];
	size_t len = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t until = mono_ms() + READY_TIMEOUT_MS;
	ssize_t n;

	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		int left = (int)(until - mono_ms());
		if (left <= 0 || poll(&p, 1, left) == 0) {
			*err = errf("the local runtime did not report ready within %d s",
				    READY_TIMEOUT_MS / 1000);
			return RF_AGAIN;
		}
		if ((n = read(fd, line + len, sizeof(line) - 1 - len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "ok %d", pid) == 1 || sscanf(line, "running %d", pid) == 1) {
		*already = line[0] == 'r';
		return RF_OK;
	}
	*err =
	    errf("%s", strncmp(line, "error ", 6) == 0 ? line + 6
						       : "the local runtime ended as it started");
	return RF_FAILED;
}

/* In the child: the daemon's standard files, then the daemon. */
static void
become_daemon(const struct localrt_opts *o, int ready)
{
	char path[PATH_MAX];
	int fd;

	setsid();
	if ((size_t)snprintf(path, sizeof(path), "%s/local.log", o->datadir) >= sizeof(path) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		dprintf(ready, "error cannot open %s/local.log: %s\n", o->datadir, strerror(errno));
		exit(1);
	}
	if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || (fd = open("/dev/null", O_RDONLY)) < 0 ||
	    dup2(fd, 0) < 0) {
		dprintf(ready, "error cannot set up the daemon's files: %s\n", strerror(errno));
		exit(1);
	}
	if (ready != 3 && (dup2(ready, 3) < 0 || close(ready) < 0))
		exit(1);
	/* Nothing of the starting process (a mount's /dev/fuse) stays open. */
	close_range(4, ~0U, 0);
	if (chdir("/") < 0)
		exit(1);
	exit(localrt_serve(o, 3));
}

enum rerr
localrt_up(const struct localrt_opts *o, int *pid, int *already, char **err)
{
	int p[2], status;
	pid_t child;
	enum rerr e;

	*err = NULL;
	*already = 0;
	if ((*pid = localrt_pid(o->datadir)) > 0) {
		*already = 1;
		return RF_OK;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		*err = errf("cannot start the local runtime: %s", strerror(errno));
		return RF_IO;
	}
	if ((child = fork()) < 0) {
		*err = errf("cannot start the local runtime: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return RF_IO;
	}
	if (child == 0) {
		close(p[0]);
		become_daemon(o, p[1]);
	}
	close(p[1]);
	e = await_ready(p[0], pid, already, err);
	close(p[0]);
	/* A daemon that failed has exited: reap it. A live one is ours until
	 * we exit, and then init's. */
	if (e != RF_OK || *already)
		waitpid(child, &status, e == RF_AGAIN ? WNOHANG : 0);
	return e;
}

enum rerr
localrt_spawn(const char *exe, const struct localrt_opts *o, char **err)
{
	char jobs[16], grace[16], **env = NULL;
	char *argv[] = {"runfs",      "up",  "--data", (char *)o->datadir, "--jobs", jobs,
			"--grace-ms", grace, NULL};
	posix_spawn_file_actions_t fa;
	size_t n = 0, k = 0;
	pid_t pid;
	int rc, status;

	*err = NULL;
	snprintf(jobs, sizeof(jobs), "%d", o->jobs);
	snprintf(grace, sizeof(grace), "%d", o->grace_ms);
	while (environ[n])
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return RF_NOMEM;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], GUARD_ENV "=", sizeof(GUARD_ENV)) != 0)
			env[k++] = environ[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, exe, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (rc != 0) {
		*err = errf("cannot run %s up: %s", exe, strerror(rc));
		return RF_IO;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			*err = errf("runfs up: %s", strerror(errno));
			return RF_IO;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return RF_OK;
	*err = errf("runfs up failed (status %d); see %s/local.log", status, o->datadir);
	return RF_FAILED;
}

/* Without pidfd_open (Linux before 5.3, valgrind 3.19): signal the pid and
 * look every 50 ms whether it is still there. */
static enum rerr
down_by_pid(pid_t pid, int drain, int timeout_ms, char **err)
{
	if (kill(pid, drain ? SIGUSR1 : SIGTERM) < 0) {
		*err = errf("cannot signal the local runtime (pid %d): %s", pid, strerror(errno));
		return RF_IO;
	}
	for (int waited = 0; kill(pid, 0) == 0; waited += 50) {
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			*err = errf("the local runtime (pid %d) is still running after %d s", pid,
				    timeout_ms / 1000);
			return RF_AGAIN;
		}
		usleep(50000);
	}
	return RF_OK;
}

enum rerr
localrt_down(const char *datadir, int drain, int timeout_ms, int *pid, char **err)
{
	struct pollfd p = {.events = POLLIN};
	int rc;

	*err = NULL;
	if ((*pid = localrt_pid(datadir)) <= 0) {
		if (*pid < 0)
			*err = errf("cannot read %s/local.pid: %s", datadir, strerror(errno));
		return *pid < 0 ? RF_IO : RF_OK;
	}
	/* A pidfd: the pid cannot be recycled under us while we wait. */
	if ((p.fd = pidfd_open(*pid, 0)) < 0 && errno == ENOSYS)
		return down_by_pid(*pid, drain, timeout_ms, err);
	if (p.fd < 0 || pidfd_send_signal(p.fd, drain ? SIGUSR1 : SIGTERM, NULL, 0) < 0) {
		*err = errf("cannot signal the local runtime (pid %d): %s", *pid, strerror(errno));
		if (p.fd >= 0)
			close(p.fd);
		return RF_IO;
	}
	while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	close(p.fd);
	if (rc == 0) {
		*err = errf("the local runtime (pid %d) is still running after %d s", *pid,
			    timeout_ms / 1000);
		return RF_AGAIN;
	}
	return RF_OK;
}
