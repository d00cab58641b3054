/*
 * A task run's combined log, and when it is stdout's file under a second
 * name (see struct task_log in exec.h).
 *
 * The link is made when stdout's file is; it is given up for a file of the
 * log's own, by copy and rename, the first time something other than
 * stdout's bytes is to be written: a stderr line, a note of a failure, or
 * the "runfs: attempt N" line of a retry (the log then still shares the
 * previous attempt's stdout, which must not change). The copy ends with a
 * newline, as a line cut short in the log does, so that what follows starts
 * a line; the stdout bytes of that cut line are then not written twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "layout.h"
#include "log.h"

void
task_log_set(struct task_log *l, const char *path, struct pump *out)
{
	if (lazy_file_set(&l->file, path) < 0)
		l->file.err = ENOMEM;
	l->out = out;
	l->shared = 0;
}

void
task_log_share(struct task_log *l)
{
	struct stat a, b;

	if (l->file.fd >= 0 || l->file.path == NULL || l->file.err || l->out->file.path == NULL)
		return;
	if (link(l->out->file.path, l->file.path) == 0)
		l->shared = 1;
	/* Already linked: this attempt ran before a crash and runs again. */
	else if (errno == EEXIST && stat(l->out->file.path, &a) == 0 &&
		 stat(l->file.path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		l->shared = 1;
	/* Else (a file system without links, say) the log gets its own file
	 * with the first line, as any log does. */
}

void
task_log_check(struct task_log *l)
{
	/* Past this, one stderr line would have the scheduler copy all of
	 * stdout at once: better a bounded copy now and lines as they come. */
	if (l->shared && l->out->bytes > TASK_LOG_SHARE_MAX)
		task_log_fd(l);
}

/* Copies all of src into dst (at its offset); 0 or -1 (errno set). */
static int
copy_all(int src, int dst)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = copy_file_range(src, NULL, dst, NULL, (size_t)1 << 30, 0);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			break;
	}
	if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
		return -1;
	while ((n = read(src, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(dst, buf, (size_t)n) != n)
			return -1;
	}
	return 0;
}

/*
 * Gives the log a file of its own: a copy of the shared one, ending with a
 * newline, renamed over the log's name. Returns the new file's descriptor,
 * or -1 (errno set).
 */
static int
unshare(struct task_log *l)
{
	char tmp[PATH_MAX_], last = '\n';
	struct stat st;
	int src = -1, fd = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", l->file.path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The log's descriptor is write-only: the bytes are read through
	 * the name, which is still the shared file's. */
	if ((src = open(l->file.path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(src, &st) < 0)
		goto fail;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		goto fail;
	if (copy_all(src, fd) < 0 || (st.st_size > 0 && pread(src, &last, 1, st.st_size - 1) != 1))
		goto fail;
	if (last != '\n' && write(fd, "\n", 1) != 1)
		goto fail;
	if (rename(tmp, l->file.path) < 0)
		goto fail;
	/* The bytes of stdout not yet written out as lines (a cut line's
	 * start) are in the copy: they are not written again. */
	if (l->shared)
		l->out->logged = l->out->partial.len;
	close(src);
	return fd;
fail:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	close(src);
	return -1;
}

int
task_log_fd(struct task_log *l)
{
	struct stat st;
	int fd, rc;

	if (l->file.fd >= 0 || l->file.err)
		return l->file.fd;
	if (lazy_file_fd(&l->file) < 0)
		return -1;
	/* Still a stdout file's (this attempt's, or the last one's when this
	 * is a retry's first line): never written through this name. When
	 * that cannot be told, it is not written at all. */
	rc = fstat(l->file.fd, &st);
	if (rc < 0 || l->shared || st.st_nlink > 1) {
		if ((fd = rc < 0 ? -1 : unshare(l)) < 0) {
			l->file.err = errno;
			log_warn("task log %s: cannot give it a file of its own", l->file.path);
		}
		close(l->file.fd);
		l->file.fd = fd;
	}
	l->shared = 0;
	return l->file.fd;
}

void
task_log_close(struct task_log *l)
{
	lazy_file_close(&l->file);
	l->shared = 0;
	l->out = NULL;
}
