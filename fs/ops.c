/*
 * The FUSE low-level operations: decode the inode, dispatch on the node's
 * kind through kind_table, and reply. Nothing here knows what a run is.
 * The operations live by concern: attributes (attr.c), folders (dir.c),
 * open files (file.c) and following a growing file (follow.c).
 */
#include <stdlib.h>
#include <unistd.h>

#include "fsops.h"
#include "ops_int.h"

uid_t fs_owner_uid;
gid_t fs_owner_gid;
int64_t fs_start_ms;

const struct kind_ops *
ops_of(const struct node *n)
{
	return kind_table[n->kind];
}

int
is_dir(const struct kind_ops *o)
{
	return o->list != NULL;
}

int
decode(fuse_req_t req, fuse_ino_t ino, struct node *n)
{
	int err = node_from_ino(ino, n);

	if (err)
		fuse_reply_err(req, err);
	return err;
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

static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .opendir = op_opendir,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .readlink = op_readlink,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
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
	fs_owner_uid = getuid();
	fs_owner_gid = getgid();
	fs_start_ms = now_ms();
	return &ops;
}
