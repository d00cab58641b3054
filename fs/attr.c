/*
 * Attributes: what stat, ls -l and find see of a node (its mode, size,
 * mtime and inode number), and the lookups and getattrs that give them.
 * Attributes are asked afresh every time, but for the kinds that say they
 * never change (kind_ops.fixed_attr) and the nodes of settled runs
 * (kcache.c).
 */
#include <errno.h>
#include <string.h>

#include "fsops.h"
#include "kcache.h"
#include "ops_int.h"

void
set_time(struct stat *st, int64_t ms)
{
	st->st_mtim.tv_sec = ms / 1000;
	st->st_mtim.tv_nsec = (ms % 1000) * 1000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

/* The attributes of a node; 0 or an errno value. */
int
node_stat(const struct node *n, struct stat *st)
{
	const struct kind_ops *o = ops_of(n);
	int64_t mtime = fs_start_ms;
	int err = 0;

	memset(st, 0, sizeof(*st));
	st->st_ino = node_ino(n);
	st->st_uid = fs_owner_uid;
	st->st_gid = fs_owner_gid;
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
			int64_t key[2];
			int settled = kcache_settled_key(n, key);
			if (!settled || !memo_size(st->st_ino, key, &st->st_size, &mtime)) {
				err = o->render(n, &b, &mtime);
				st->st_size = (off_t)b.len;
				buf_free(&b);
				if (settled && err == 0)
					memo_size_put(st->st_ino, key, st->st_size, mtime);
			}
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

/* Attributes are asked afresh every time, but for nodes whose attributes
 * never change (a run's folder: its mtime is its creation), and those of
 * settled runs, kept a moment (kcache.c). */
double
attr_timeout(const struct node *n)
{
	return ops_of(n)->fixed_attr ? ENTRY_TIMEOUT : kcache_attr_timeout(n);
}

int
node_entry(const struct node *n, struct fuse_entry_param *e)
{
	int err;

	memset(e, 0, sizeof(*e));
	if ((err = node_stat(n, &e->attr)) != 0)
		return err;
	e->ino = e->attr.st_ino;
	e->attr_timeout = attr_timeout(n);
	/* Attributes are always asked afresh; a name that keeps its node
	 * is remembered, so that `ls -l` or `find` over 10,000 task runs
	 * does not look up the run's id for every one of them. */
	e->entry_timeout = ops_of(n)->transient ? 0 : ENTRY_TIMEOUT;
	return 0;
}

static void
reply_entry(fuse_req_t req, const struct node *n)
{
	struct fuse_entry_param e;
	int err;

	if ((err = node_entry(n, &e)) != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void
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
	node_memo_begin();
	reply_entry(req, &child);
	node_memo_end();
}

void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int err;

	(void)fi;
	if (decode(req, ino, &n))
		return;
	/* Its run read once, for the attributes and whether it is settled. */
	node_memo_begin();
	if ((err = node_stat(&n, &st)) != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
	node_memo_end();
}

void
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
void
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
