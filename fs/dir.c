/*
 * Folders: listing (readdir, and the kernel's cache of a folder whose
 * entries never change), and the calls that would make, remove or rename
 * names: configs/ takes them, and runs/ takes rmdir (deleting a run).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsops.h"
#include "kcache.h"
#include "log.h"
#include "ops_int.h"

struct dirfill {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	int plus; /* readdirplus: entries with their attributes */
};

/*
 * One entry. With readdirplus, a folder or a link comes with its
 * attributes, as a lookup would give them, so that `ls -l` or `find`
 * need no lookup for it; a file's attributes would cost rendering it (a
 * status.json to know its size), so it comes without (inode 0: the
 * kernel looks it up when it needs it).
 */
static int
fill(void *ctx, const char *name, const struct node *child, off_t next)
{
	struct dirfill *d = ctx;
	const struct kind_ops *o = ops_of(child);
	struct fuse_entry_param e = {.attr.st_ino = node_ino(child)};
	size_t need;

	e.attr.st_mode = is_dir(o) ? S_IFDIR : o->readlink ? S_IFLNK : S_IFREG;
	/* Offsets 0 and 1 are "." and "..": a node's own cookies start at 2. */
	if (!d->plus) {
		need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name, &e.attr,
					 next + 2);
	} else {
		/* "." and ".." are never looked up by their entries. */
		int dots = name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
		if (!dots && (is_dir(o) || o->readlink) && node_entry(child, &e) != 0) {
			mode_t type = e.attr.st_mode & S_IFMT;
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = node_ino(child);
			e.attr.st_mode = type;
		}
		need = fuse_add_direntry_plus(d->req, d->buf + d->used, d->size - d->used, name, &e,
					      next + 2);
	}
	if (need > d->size - d->used)
		return 1;
	d->used += need;
	return 0;
}

static void
list_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	struct dirfill d = {.req = req, .size = size, .plus = plus};
	struct node n, parent;
	int err = 0;

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
	node_memo_begin();
	err = ops_of(&n)->list(&n, off >= 2 ? off - 2 : 0, fill, &d);
	node_memo_end();
done:
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	list_dir(req, ino, size, off, 0);
}

void
op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	list_dir(req, ino, size, off, 1);
}

/*
 * A directory whose entries never change (a run's folder, tasks/, a task
 * run's folder) may be listed from the kernel's cache: a second find over
 * 100,000 runs then asks nothing of them. The kernel would cache every
 * directory if opendir were left out, trusting the mtime to tell a change,
 * which a name added within the same millisecond would not. A settled
 * run's folders are kept too: the first opendir after it changed drops
 * them (kcache.c).
 */
void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int64_t key[2];

	if (decode(req, ino, &n))
		return;
	fi->cache_readdir = fi->keep_cache =
	    ops_of(&n)->fixed_list || (kcache_settled_key(&n, key) && memo_cache_kept(ino, key));
	fuse_reply_open(req, fi);
}

/* Nothing in the tree can be created, removed or renamed. */
void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EROFS);
}

void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EROFS);
}

/*
 * A name inside a run: its files go only with the run (rmdir runs/<id>).
 * Removing one of an ended run succeeds and changes nothing, so that
 * rm -r, find -delete and shutil.rmtree, which empty a folder before
 * removing it, can delete a run; in a run not ended it is EBUSY, as the
 * run's own rmdir is.
 */
static int
remove_in_run(const struct node *dir, const char *name)
{
	struct node child;
	struct run_rec r = {0};
	int err;

	if (ops_of(dir)->lookup == NULL)
		return ENOTDIR;
	if ((err = ops_of(dir)->lookup(dir, name, &child)) != 0 || (err = node_run_brief(dir, &r)))
		return err;
	err = run_rec_ended(&r) || (r.prepared && r.state == ST_WAITING) ? 0 : EBUSY;
	run_rec_free(&r);
	return err;
}

void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node dir;

	if (decode(req, parent, &dir))
		return;
	if (ops_of(&dir)->unlink)
		fuse_reply_err(req, ops_of(&dir)->unlink(&dir, name));
	else
		fuse_reply_err(req, dir.run ? remove_in_run(&dir, name) : EPERM);
}

void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node dir;
	char *why = NULL;
	int err;

	if (decode(req, parent, &dir))
		return;
	if (dir.kind == K_RUNS) {
		err = rerr_errno(backend_delete(fs_backend, name, &why));
		if (err && why)
			log_info("rmdir runs/%s: %s", name, why);
		free(why);
	} else {
		err = dir.run ? remove_in_run(&dir, name) : EPERM;
	}
	fuse_reply_err(req, err);
}

void
op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EROFS);
}

void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	  const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EROFS);
}

void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EROFS);
}

/* Only configs/ makes files: the new file is a request stream whose
 * close saves it (it exists once saved). */
void
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
	e.attr.st_uid = fs_owner_uid;
	e.attr.st_gid = fs_owner_gid;
	set_time(&e.attr, now_ms());
	fi->fh = (uintptr_t)fh;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		fh_free(fh);
}
