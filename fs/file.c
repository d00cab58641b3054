/*
 * Open files: open, read, write, flush, release and poll. Every file is
 * opened with direct_io, so the kernel asks us on each read: a status that
 * changes, a log that grows or a result that appears is seen at once by
 * cat, wc -c and tail -f; but the files of settled runs, which the page
 * cache may keep (kcache.c). Streams (kind_ops.read) answer reads
 * themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcache.h"
#include "watch.h"
#include "fsops.h"
#include "ops_int.h"

/* The run's change counter (its latest event), 0 for nodes of no run. */
int64_t
run_changes(const struct node *n)
{
	struct run_rec r = {0};
	int64_t v = 0;

	if (n->run && node_run_brief(n, &r) == 0) {
		v = r.last_event;
		run_rec_free(&r);
	}
	return v;
}

void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct kind_ops *o;
	struct fh *fh;
	struct node n;
	char path[PATH_MAX_];
	int64_t mtime;
	int err = 0, cached;
	int64_t key[2];

	if (decode(req, ino, &n))
		return;
	o = ops_of(&n);
	if (is_dir(o)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY && o->write == NULL) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if ((fh = fh_new()) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fh->node = n;
	fh->writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	/* The counter before the content: a change in between is then seen
	 * by poll() as new, never lost. */
	node_memo_begin(); /* its run read once: counter, settled, content */
	fh->seen = run_changes(&n);
	cached = !fh->writing && kcache_settled_key(&n, key);
	if (o->open)
		err = o->open(&n, fh);
	else if (o->render && cached && (n.kind == K_RUN_FILE || n.kind == K_TASK_FILE))
		fh->lazy = 1; /* the page cache may hold it all: rendered at a read */
	else if (o->render)
		err = o->render(&n, &fh->data, &mtime);
	else if (o->path && (err = o->path(&n, path, &mtime)) == 0)
		err = data_file_open(path, fh);
	node_memo_end();
	if (err) {
		fh_free(fh);
		fuse_reply_err(req, err);
		return;
	}
	if (fh->fd >= 0)
		note_shared(fh, o);
	fi->fh = (uintptr_t)fh;
	/* A settled run's files stay as they are until it changes: the page
	 * cache may serve them (kcache.c), if it was filled since the last
	 * change. */
	fi->keep_cache = cached && !fh->stream && memo_cache_kept(ino, key);
	fi->direct_io = !fi->keep_cache;
	/* Streams ignore offsets; a seek on them would only mislead. */
	fi->nonseekable = fh->stream;
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_free(fh); /* interrupted: release will not come */
}

void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	const struct kind_ops *o = ops_of(&fh->node);
	size_t len, n = 0;
	int64_t mtime;
	char *buf;

	(void)ino;
	if (fh->stream) {
		o->read(req, fh, size);
		return;
	}
	if (fh->fd < 0 && !o->render && o->path && fh->data.len == 0 && reopen(fh, o) < 0) {
		/* Still no file: it reads empty, as its size says. */
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (fh->fd >= 0) {
		/* A read from the start takes in the run's changes so far
		 * (poll() compares against them). */
		if (off == 0)
			fh->seen = run_changes(&fh->node);
		reply_from_fd(req, fh->fd, follow(fh, o, size, off), off);
		return;
	}
	/* Reply from a copy: once the reader has its bytes it may close, and
	 * release (on another thread) frees fh while writev returns. */
	if ((buf = malloc(size ? size : 1)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&fh->mu);
	/* Reading from the start again (after a poll() wake-up, say) reads
	 * the file as it is now. */
	if ((off == 0 && fh->read_once && o->render) || fh->lazy) {
		int64_t seen = run_changes(&fh->node);
		int err;
		fh->data.len = 0;
		if ((err = o->render(&fh->node, &fh->data, &mtime)) == 0)
			fh->seen = seen;
		else if (fh->lazy) {
			/* What the open would have said, had it rendered. */
			pthread_mutex_unlock(&fh->mu);
			free(buf);
			fuse_reply_err(req, err);
			return;
		}
		fh->lazy = 0;
	}
	fh->read_once = 1;
	len = fh->data.len;
	if ((size_t)off < len)
		n = len - (size_t)off < size ? len - (size_t)off : size;
	if (n)
		memcpy(buf, fh->data.p + off, n);
	pthread_mutex_unlock(&fh->mu);
	fuse_reply_buf(req, buf, n);
	free(buf);
}

/*
 * poll(): a file of a run is readable again, sysfs style, once the run has
 * changed since the file was opened or last read from its start; events is
 * readable when it has a line or its end to give. The handle is kept
 * before the check, so a change in between still wakes the poller.
 */
void
op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	unsigned revents = POLLIN;

	(void)ino;
	if (fh->node.run == 0) {
		fuse_pollhandle_destroy(ph);
		fuse_reply_poll(req, POLLIN);
		return;
	}
	if (ph)
		watch_poll(fh, ph);
	if (ops_of(&fh->node)->ready)
		revents = ops_of(&fh->node)->ready(fh) ? POLLIN | POLLPRI : 0;
	else if (run_changes(&fh->node) == fh->seen)
		revents = 0;
	else
		revents = POLLIN | POLLPRI;
	fuse_reply_poll(req, revents);
}

void
op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
	 struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	int err;

	(void)ino;
	(void)off; /* every writable file is a stream or takes one verb */
	err = ops_of(&fh->node)->write(&fh->node, fh, data, size);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	const struct kind_ops *o = ops_of(&fh->node);

	(void)ino;
	fuse_reply_err(req, o->flush ? o->flush(&fh->node, fh) : 0);
}

void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	watch_forget((struct fh *)(uintptr_t)fi->fh);
	fh_free((struct fh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/*
 * Every open file, so that the ones the kernel never releases (a mount
 * torn down under an open file: lazy unmount, or SIGTERM) are freed at
 * exit rather than leaked.
 */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fh *open_files;

struct fh *
fh_new(void)
{
	struct fh *fh = calloc(1, sizeof(*fh));

	if (fh == NULL)
		return NULL;
	fh->fd = -1;
	pthread_mutex_init(&fh->mu, NULL);
	pthread_mutex_lock(&open_mu);
	fh->next_open = open_files;
	if (open_files)
		open_files->prev_open = fh;
	open_files = fh;
	pthread_mutex_unlock(&open_mu);
	return fh;
}

void
fh_free_all(void)
{
	while (open_files)
		fh_free(open_files);
}

void
fh_free(struct fh *fh)
{
	if (fh == NULL)
		return;
	pthread_mutex_lock(&open_mu);
	if (fh->prev_open)
		fh->prev_open->next_open = fh->next_open;
	else
		open_files = fh->next_open;
	if (fh->next_open)
		fh->next_open->prev_open = fh->prev_open;
	pthread_mutex_unlock(&open_mu);
	if (fh->fd >= 0)
		close(fh->fd);
	buf_free(&fh->data);
	free(fh->reply);
	free(fh->name);
	pthread_mutex_destroy(&fh->mu);
	free(fh);
}
