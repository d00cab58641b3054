/*
 * pollwait FILE TIMEOUT_MS: a small poll() client for runfs files.
 *
 * Opens FILE, reads it to the end (a stream: one read) and prints what it read, then poll()s the
 * same open file for POLLIN|POLLPRI for up to TIMEOUT_MS milliseconds (-1
 * waits for ever). On a wake-up it seeks back to 0, reads the file to the
 * end and prints it again. A file that cannot seek (a stream) is not read
 * again from the start: one read() takes what is new and prints it.
 *
 * Exit status: 0 on a wake-up, 1 on timeout, 2 on error (usage, open, read,
 * poll, or a wake-up that reports POLLERR/POLLNVAL).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "pollwait";

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies one read()'s worth of fd to stdout: returns the bytes read (0 at
 * end-of-file) or -1. */
static ssize_t
dump_once(int fd, const char *path)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: read %s: %s\n", prog, path, strerror(errno));
			return -1;
		}
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
			fprintf(stderr, "%s: write: %s\n", prog, strerror(errno));
			return -1;
		}
		return n;
	}
}

/* Reads fd to end-of-file and copies it to stdout. */
static int
dump(int fd, const char *path)
{
	ssize_t n;

	while ((n = dump_once(fd, path)) > 0)
		;
	return n < 0 ? -1 : 0;
}

static int
parse_timeout(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < -1 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct pollfd pfd;
	long long deadline = 0, left;
	int fd, timeout, rc;

	if (argc != 3 || parse_timeout(argv[2], &timeout) < 0) {
		fprintf(stderr, "usage: %s FILE TIMEOUT_MS\n", prog);
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "%s: open %s: %s\n", prog, argv[1], strerror(errno));
		return 2;
	}
	/* A stream (events) blocks at its end: take one read's worth. */
	if (lseek(fd, 0, SEEK_CUR) < 0 && errno == ESPIPE ? dump_once(fd, argv[1]) < 0
							  : dump(fd, argv[1]) < 0)
		return 2;
	if (timeout >= 0)
		deadline = now_ms() + timeout;
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN | POLLPRI;
		pfd.revents = 0;
		left = -1;
		if (timeout >= 0) {
			left = deadline - now_ms();
			if (left < 0)
				left = 0;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll %s: %s\n", prog, argv[1], strerror(errno));
			return 2;
		}
		if (rc == 0) {
			close(fd);
			return 1;
		}
		break;
	}
	if (pfd.revents & (POLLERR | POLLNVAL)) {
		fprintf(stderr, "%s: poll %s: revents 0x%x\n", prog, argv[1],
			(unsigned)pfd.revents);
		return 2;
	}
	if (lseek(fd, 0, SEEK_SET) == 0)
		rc = dump(fd, argv[1]);
	else if (errno == ESPIPE)
		rc = dump_once(fd, argv[1]);
	else {
		fprintf(stderr, "%s: seek %s: %s\n", prog, argv[1], strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		return 2;
	close(fd);
	return 0;
}
