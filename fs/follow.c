/*
 * Files of the data directory read through the mount: a task's log that
 * shares stdout's file until it gets its own, a file that did not exist
 * at open, and replies spliced from the file without a copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "fsops.h"
#include "ops_int.h"

/* A file whose name may come to hold another (kind_ops.follows): follow
 * looks at it on every read. */
void
note_shared(struct fh *fh, const struct kind_ops *o)
{
	fh->shared = o->follows && o->follows(&fh->node);
}

/*
 * A task's log shares stdout's file (a second name, a hard link) until it
 * gets a copy of its own, renamed over that name, which begins with every
 * byte the shared file held. A reader of the shared file goes on in the
 * copy at the same offset: dup3 swaps the file under the descriptor, for
 * reads on other threads too. While the file is still shared, a read is
 * cut at the size seen here: bytes written after a rename that comes
 * between this look and the read are stdout's alone, not the log's.
 * Returns the size to read. A file opened just after the rename is
 * caught by the same look: its name no longer names it.
 */
size_t
follow(struct fh *fh, const struct kind_ops *o, size_t size, off_t off)
{
	char path[PATH_MAX_];
	struct stat st, at;
	int64_t mtime;
	int fd;

	pthread_mutex_lock(&fh->mu);
	if (!fh->shared || fstat(fh->fd, &st) < 0)
		goto out;
	if (st.st_nlink > 1) {
		if (off >= st.st_size)
			size = 0;
		else if ((off_t)size > st.st_size - off)
			size = (size_t)(st.st_size - off);
		goto out;
	}
	/* One name left: the log's, or stdout's once the log has its copy. */
	if (o->path(&fh->node, path, &mtime) != 0 || stat_nolinks(path, &at) < 0)
		goto out; /* looked at again on the next read */
	if (at.st_ino == st.st_ino && at.st_dev == st.st_dev) {
		fh->shared = 0;
	} else if ((fd = open_nolinks(path, O_RDONLY)) >= 0) {
		if (dup3(fd, fh->fd, O_CLOEXEC) >= 0)
			fh->shared = 0;
		else
			log_warn("following a task's log into its own file");
		close(fd);
	}
out:
	pthread_mutex_unlock(&fh->mu);
	return size;
}

/* A file of the data directory that did not exist at open (a log before
 * its task printed): opened when it appears, so tail -f sees it grow. */
int
reopen(struct fh *fh, const struct kind_ops *o)
{
	char path[PATH_MAX_];
	int64_t mtime;
	int fd;

	if (o->path(&fh->node, path, &mtime) != 0 || (fd = open_nolinks(path, O_RDONLY)) < 0)
		return -1;
	pthread_mutex_lock(&fh->mu);
	if (fh->fd < 0) {
		fh->fd = fd;
		note_shared(fh, o);
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&fh->mu);
	return 0;
}

/*
 * A file of the data directory (a log, an output): the bytes go from the
 * file to the kernel by splice(2) where it can, never through our memory,
 * which reads a 1 GiB log through the mount about a tenth faster than a
 * copy (scripts/bench). Reads are at most FS_READ_MAX, so that a reply
 * fits the pipe libfuse splices through; libfuse copies by itself when
 * it cannot splice.
 */
void
reply_from_fd(fuse_req_t req, int fd, size_t size, off_t off)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
	int rc;

	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = fd;
	bv.buf[0].pos = off;
	if ((rc = fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE)) < 0 && rc != -ENOENT)
		log_warnx("read: replying from a file: %s", strerror(-rc));
}
