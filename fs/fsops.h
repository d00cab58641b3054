/* The FUSE operations table and what the node files share with it. */
#ifndef RUNFS_FSOPS_H
#define RUNFS_FSOPS_H

#include "node.h"

/*
 * The largest read the kernel sends us, and the block size files report,
 * which cat and cp take as their buffer size: a 1 GiB log then costs a
 * quarter of the round trips of cat's own 128 KiB. No larger: libfuse
 * splices a reply through a pipe of at most /proc/sys/fs/pipe-max-size
 * (1 MiB by default), and a 1 MiB read plus its header would not fit: it
 * falls back to a copy, three times slower. main.c passes it to the
 * kernel as the max_read mount option, and op_init to libfuse.
 */
#define FS_READ_MAX (512 * 1024)

/* The operations; they serve fs_backend, set before the loop starts. */
const struct fuse_lowlevel_ops *fs_ops(void);
struct fh *fh_new(void);
void fh_free(struct fh *fh);
/* At exit, once no request can come: frees the files never released. */
void fh_free_all(void);

/* stream.c: request streams (submit, prepare, saving a configuration). */
typedef void (*answer_fn)(struct fh *fh);
int stream_write(struct fh *fh, const char *data, size_t len, size_t max, answer_fn answer);
int stream_flush(struct fh *fh, answer_fn answer);
void stream_read(fuse_req_t req, struct fh *fh, size_t size, answer_fn answer);

#endif
