/*
 * sd_notify(3) without libsystemd: systemd passes a unix datagram
 * socket's address in $NOTIFY_SOCKET, a path or, starting with '@', an
 * abstract address; each datagram holds newline-separated assignments.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

static struct sockaddr_un addr;
static socklen_t addr_len; /* 0: no socket */

void
sdnotify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (e == NULL)
		return;
	n = strlen(e);
	/* Only what a unix socket can be: systemd's vsock: addresses (for
	 * virtual machines) are not for a process on the same host. */
	if ((e[0] == '/' || e[0] == '@') && n >= 2 && n < sizeof(addr.sun_path)) {
		addr.sun_family = AF_UNIX;
		memcpy(addr.sun_path, e, n);
		if (e[0] == '@')
			addr.sun_path[0] = '\0';
		/* An abstract address is exactly its n bytes, with no NUL after. */
		addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
	}
	unsetenv("NOTIFY_SOCKET");
}

int
sdnotify(const char *state)
{
	int fd, saved;
	ssize_t n;

	if (addr_len == 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
	saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 1;
}
