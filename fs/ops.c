/*
 * The FUSE low-level operations: decode the inode, dispatch on the node's
 * kind through kind_table, and reply. Nothing here knows what a run is.
 *
 * Every file is opened with direct_io and attributes are never cached, so
 * the kernel asks us each time: a status that changes, a log that grows or
 * a result that appears is seen at once by cat, wc -c and tail -f.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsops.h"
#include "log.h"
#include "watch.h"
#include "node.h"

#define ENTRY_TIMEOUT 3600.0

static uid_t owner_uid;
static gid_t owner_gid;
int64_t fs_start_ms;

static const struct kind_ops *
ops_of(const struct node *n)
{
	return kind_table[n->kind];
}

static int
is_dir(const struct kind_ops *o)
{
	return o->list != NULL;
}

static void
set_time(struct stat *st, int64_t ms)
{
	st->st_mtim.tv_sec = ms / 1000;
	st->st_mtim.tv_nsec = (ms % 1000) * 1000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

/* The run's change counter (its latest event), 0 for nodes of no run. */
static int64_t
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

/* The attributes of a node; 0 or an errno value. */
static int
node_stat(const struct node *n, struct stat *st)
{
	const struct kind_ops *o = ops_of(n);
	int64_t mtime = fs_start_ms;
	int err = 0;

	memset(st, 0, sizeof(*st));
	st->st_ino = node_ino(n);
	st->st_uid = owner_uid;
	st->st_gid = owner_gid;
	st->st_blksize = FS_READ_MAX;
	if (is_dir(o)) {
		st->st_mode = S_IFDIR | o->mode;
		st->st_nlink = 2;
		if (o->mtime_of)
			err = o->mtime_of(n, &mtime);
		else if (n->run)
			err = node_run_mtime(n, &mtime);
		if (err)
			return err;
	} else if (o->readlink) {
		struct buf b = {0};
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		err = o->readlink(n, &b, &mtime);
		st->st_size = (off_t)b.len;
		buf_free(&b);
		if (err)
			return err;
	} else {
		st->st_mode = S_IFREG | (o->mode_of ? o->mode_of(n) : o->mode);
		st->st_nlink = 1;
		if (o->size) {
			err = o->size(n, &st->st_size, &mtime);
		} else if (o->render) {
			struct buf b = {0};
			err = o->render(n, &b, &mtime);
			st->st_size = (off_t)b.len;
			buf_free(&b);
		} else if (o->path) {
			char path[PATH_MAX_];
			if ((err = o->path(n, path, &mtime)) == 0)
				data_file_stat(path, &st->st_size, &mtime);
		}
		/*
		 * Unavailable content (a result too early, an output of a task
		 * run that failed) still exists, with nothing in it, and is
		 * readable by its owner only: GNU tar never opens an empty file
		 * that everyone may read, and would archive it as empty without
		 * a word, where cp, rsync and shutil open it and report the
		 * error that open gives (docs/TREE.md, "Copying a run").
		 */
		if (err == EAGAIN || err == ENODATA) {
			st->st_mode &= ~(mode_t)(S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH);
			err = 0;
		}
	}
	st->st_blocks = (st->st_size + 511) / 512;
	set_time(st, mtime);
	return err;
}

static int
decode(fuse_req_t req, fuse_ino_t ino, struct node *n)
{
	int err = node_from_ino(ino, n);

	if (err)
		fuse_reply_err(req, err);
	return err;
}

/* Attributes are asked afresh every time, but for nodes whose attributes
 * never change (a run's folder: its mtime is its creation). */
static double
attr_timeout(const struct node *n)
{
	return ops_of(n)->fixed_attr ? ENTRY_TIMEOUT : 0;
}

static void
reply_entry(fuse_req_t req, const struct node *n)
{
	struct fuse_entry_param e;
	int err;

	memset(&e, 0, sizeof(e));
	if ((err = node_stat(n, &e.attr)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	e.ino = e.attr.st_ino;
	e.attr_timeout = attr_timeout(n);
	/* Attributes are always asked afresh; a name that keeps its node
	 * is remembered, so that `ls -l` or `find` over 10,000 task runs
	 * does not look up the run's id for every one of them. */
	e.entry_timeout = ops_of(n)->transient ? 0 : ENTRY_TIMEOUT;
	fuse_reply_entry(req, &e);
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node dir, child;
	const struct kind_ops *o;
	int err;

	if (decode(req, parent, &dir))
		return;
	o = ops_of(&dir);
	if (o->lookup == NULL) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if ((err = o->lookup(&dir, name, &child)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	reply_entry(req, &child);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int err;

	(void)fi;
	if (decode(req, ino, &n))
		return;
	if ((err = node_stat(&n, &st)) != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct buf b = {0};
	struct node n;
	int64_t mtime;
	int err;

	if (decode(req, ino, &n))
		return;
	if (ops_of(&n)->readlink == NULL)
		err = EINVAL;
	else
		err = ops_of(&n)->readlink(&n, &b, &mtime);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_readlink(req, b.p ? b.p : "");
	buf_free(&b);
}

/* O_TRUNC on a writable file (echo verb > ctl) arrives as a size change. */
static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int err;

	(void)attr;
	(void)fi;
	if (decode(req, ino, &n))
		return;
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	/* touch (and the notifier's inotify nudge) may set times: they are
	 * always the last change, so the request changes nothing. */
	if ((to_set & FUSE_SET_ATTR_SIZE) == 0 && ops_of(&n)->write == NULL) {
		if ((err = node_stat(&n, &st)) != 0)
			fuse_reply_err(req, err);
		else
			fuse_reply_attr(req, &st, attr_timeout(&n));
		return;
	}
	if (ops_of(&n)->write == NULL) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if ((err = node_stat(&n, &st)) != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
}

struct dirfill {
	fuse_req_t req;
	char *buf;
	size_t size, used;
};

static int
fill(void *ctx, const char *name, const struct node *child, off_t next)
{
	struct dirfill *d = ctx;
	struct stat st = {.st_ino = node_ino(child)};
	size_t need;

	st.st_mode = is_dir(ops_of(child)) ? S_IFDIR : ops_of(child)->readlink ? S_IFLNK : S_IFREG;
	/* Offsets 0 and 1 are "." and "..": a node's own cookies start at 2. */
	need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name, &st, next + 2);
	if (need > d->size - d->used)
		return 1;
	d->used += need;
	return 0;
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dirfill d = {.req = req, .size = size};
	struct node n, parent;
	int err = 0;

	(void)fi;
	if (decode(req, ino, &n))
		return;
	if (!is_dir(ops_of(&n))) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if ((d.buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	node_parent(&n, &parent);
	if (off == 0 && fill(&d, ".", &n, -1))
		goto done;
	if (off <= 1 && fill(&d, "..", &parent, 0))
		goto done;
	err = ops_of(&n)->list(&n, off >= 2 ? off - 2 : 0, fill, &d);
done:
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

/* A file whose name may come to hold another (kind_ops.follows): follow
 * looks at it on every read. */
static void
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
static size_t
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

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct kind_ops *o;
	struct fh *fh;
	struct node n;
	char path[PATH_MAX_];
	int64_t mtime;
	int err = 0;

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
	fh->seen = run_changes(&n);
	if (o->open)
		err = o->open(&n, fh);
	else if (o->render)
		err = o->render(&n, &fh->data, &mtime);
	else if (o->path && (err = o->path(&n, path, &mtime)) == 0)
		err = data_file_open(path, fh);
	if (err) {
		fh_free(fh);
		fuse_reply_err(req, err);
		return;
	}
	if (fh->fd >= 0)
		note_shared(fh, o);
	fi->fh = (uintptr_t)fh;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	/* Streams ignore offsets; a seek on them would only mislead. */
	fi->nonseekable = fh->stream;
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_free(fh); /* interrupted: release will not come */
}

/* A file of the data directory that did not exist at open (a log before
 * its task printed): opened when it appears, so tail -f sees it grow. */
static int
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
static void
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

static void
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
	if (off == 0 && fh->read_once && o->render) {
		int64_t seen = run_changes(&fh->node);
		fh->data.len = 0;
		if (o->render(&fh->node, &fh->data, &mtime) == 0)
			fh->seen = seen;
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
static void
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
	if (fh->node.kind == K_EVENTS)
		revents = events_ready(fh) ? POLLIN | POLLPRI : 0;
	else if (run_changes(&fh->node) == fh->seen)
		revents = 0;
	else
		revents = POLLIN | POLLPRI;
	fuse_reply_poll(req, revents);
}

static void
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

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	const struct kind_ops *o = ops_of(&fh->node);

	(void)ino;
	fuse_reply_err(req, o->flush ? o->flush(&fh->node, fh) : 0);
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	watch_forget((struct fh *)(uintptr_t)fi->fh);
	fh_free((struct fh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* Nothing in the tree can be created, removed or renamed. */
static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EROFS);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EROFS);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node dir;

	if (decode(req, parent, &dir))
		return;
	fuse_reply_err(req, ops_of(&dir)->unlink ? ops_of(&dir)->unlink(&dir, name) : EROFS);
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EROFS);
}

static void
op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EROFS);
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	  const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EROFS);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EROFS);
}

/* Only configs/ makes files: the new file is a request stream whose
 * close saves it (it exists once saved). */
static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	  struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct node dir;
	struct fh *fh;
	int err;

	(void)mode;
	if (decode(req, parent, &dir))
		return;
	if (ops_of(&dir)->create == NULL) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if ((fh = fh_new()) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((err = ops_of(&dir)->create(&dir, name, fh)) != 0) {
		fh_free(fh);
		fuse_reply_err(req, err);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = node_ino(&fh->node);
	e.attr.st_ino = e.ino;
	e.attr.st_mode = S_IFREG | 0600;
	e.attr.st_nlink = 1;
	e.attr.st_uid = owner_uid;
	e.attr.st_gid = owner_gid;
	set_time(&e.attr, now_ms());
	fi->fh = (uintptr_t)fh;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		fh_free(fh);
}

/* Reads of at most FS_READ_MAX (fsops.h), as the mount option says.
 * Splice file contents into replies (reply_from_fd). Not under valgrind
 * (RUNFS_VALGRIND, tests/tools/valgrind-runfs): there the splice into
 * /dev/fuse fails with EINVAL, and a reply that fails leaves its reader
 * blocked for good; libfuse copies instead. */
static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_read = FS_READ_MAX;
	if (getenv("RUNFS_VALGRIND") != NULL)
		return;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
}

/*
 * A directory whose entries never change (a run's folder, tasks/, a task
 * run's folder) may be listed from the kernel's cache: a second find over
 * 100,000 runs then asks nothing of them. The kernel would cache every
 * directory if opendir were left out, trusting the mtime to tell a change,
 * which a name added within the same millisecond would not.
 */
static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;

	if (decode(req, ino, &n))
		return;
	fi->cache_readdir = fi->keep_cache = ops_of(&n)->fixed_list ? 1 : 0;
	fuse_reply_open(req, fi);
}

static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .opendir = op_opendir,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .readlink = op_readlink,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .poll = op_poll,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .create = op_create,
};

const struct fuse_lowlevel_ops *
fs_ops(void)
{
	owner_uid = getuid();
	owner_gid = getgid();
	fs_start_ms = now_ms();
	return &ops;
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
