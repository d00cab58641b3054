/* What the files of the FUSE operations share (ops.c, attr.c, dir.c,
 * file.c, follow.c); nothing outside them includes it. */
#ifndef RUNFS_OPS_INT_H
#define RUNFS_OPS_INT_H

#include <sys/stat.h>

#include "node.h"

/* How long the kernel may keep a name or an attribute that never changes. */
#define ENTRY_TIMEOUT 3600.0

extern uid_t fs_owner_uid;
extern gid_t fs_owner_gid;

/* ops.c */
const struct kind_ops *ops_of(const struct node *n);
int is_dir(const struct kind_ops *o);
/* The node of ino; replies ENOENT itself and returns it when there is none. */
int decode(fuse_req_t req, fuse_ino_t ino, struct node *n);

/* attr.c */
void set_time(struct stat *st, int64_t ms);
/* The attributes of a node; 0 or an errno value. */
int node_stat(const struct node *n, struct stat *st);
double attr_timeout(const struct node *n);
/* What a lookup of n answers; 0 or an errno value. */
int node_entry(const struct node *n, struct fuse_entry_param *e);
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readlink(fuse_req_t req, fuse_ino_t ino);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi);

/* dir.c */
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	       const char *newname, unsigned int flags);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);

/* file.c */
/* The run's change counter (its latest event), 0 for nodes of no run. */
int64_t run_changes(const struct node *n);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph);
void op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
	      struct fuse_file_info *fi);
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* follow.c */
/* Notes whether fh's file may be replaced by a longer one (kind_ops.follows). */
void note_shared(struct fh *fh, const struct kind_ops *o);
/* The size to read of a shared file; swaps in the file's own copy once
 * there is one. */
size_t follow(struct fh *fh, const struct kind_ops *o, size_t size, off_t off);
/* Opens a file of the data directory that did not exist at open; 0 or -1. */
int reopen(struct fh *fh, const struct kind_ops *o);
/* Replies with size bytes of fd from off, spliced where it can be. */
void reply_from_fd(fuse_req_t req, int fd, size_t size, off_t off);

#endif
