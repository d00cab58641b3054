/*
 * wakelat wait|poll FILE STAMP: blocks on FILE (a read of wait, or poll()
 * on status), then prints the microseconds from the time written in STAMP
 * (a task's "date +%s%N" just before it exits) to the wake-up. Used by
 * scripts/bench for the wake-up latency; exits 2 on error.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	char buf[256];
	long long woke, stamp;
	FILE *f;
	int fd;

	if (argc != 4 || (strcmp(argv[1], "wait") && strcmp(argv[1], "poll"))) {
		fprintf(stderr, "usage: wakelat wait|poll FILE STAMP\n");
		return 2;
	}
	if ((fd = open(argv[2], O_RDONLY)) < 0) {
		perror(argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "wait") == 0) {
		if (read(fd, buf, sizeof(buf)) < 0) {
			perror("read");
			return 2;
		}
	} else {
		struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI};
		if (read(fd, buf, sizeof(buf)) < 0 || poll(&p, 1, 60000) != 1) {
			perror("poll");
			return 2;
		}
	}
	woke = now_ns();
	if ((f = fopen(argv[3], "r")) == NULL || fscanf(f, "%lld", &stamp) != 1) {
		fprintf(stderr, "wakelat: no stamp in %s\n", argv[3]);
		return 2;
	}
	fclose(f);
	printf("%lld\n", (woke - stamp) / 1000);
	return 0;
}
