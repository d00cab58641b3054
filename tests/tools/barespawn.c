/*
 * barespawn N P [COMMAND ARG...]: starts COMMAND (default: true) N times,
 * at most P at a time, with posix_spawnp and waitpid, and does nothing
 * else: the most tasks per second this machine can start and reap, the
 * baseline scripts/bench measures every runner against. Its output goes
 * to /dev/null, as a runner's would go to a file. Exits 1 when a process
 * could not be started or did not exit 0.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
main(int argc, char **argv)
{
	static char *dflt[] = {"true", NULL};
	char **cmd = argc > 3 ? argv + 3 : dflt;
	long n = argc > 2 ? atol(argv[1]) : 0, p = argc > 2 ? atol(argv[2]) : 0, started = 0;
	posix_spawn_file_actions_t fa;
	int status, failed = 0, running = 0;
	pid_t pid;

	if (n <= 0 || p <= 0) {
		fprintf(stderr, "usage: barespawn N P [COMMAND ARG...]\n");
		return 2;
	}
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0)
		return 1;
	while (started < n || running > 0) {
		if (started < n && running < p) {
			if (posix_spawnp(&pid, cmd[0], &fa, NULL, cmd, environ) != 0) {
				perror(cmd[0]);
				return 1;
			}
			started++;
			running++;
			continue;
		}
		if ((pid = waitpid(-1, &status, 0)) < 0) {
			perror("waitpid");
			return 1;
		}
		running--;
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	return failed;
}
