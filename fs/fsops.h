/* The FUSE operations table and what the node files share with it. */
#ifndef RUNFS_FSOPS_H
#define RUNFS_FSOPS_H

#include "node.h"

/* The operations; they serve fs_backend, set before the loop starts. */
const struct fuse_lowlevel_ops *fs_ops(void);
void fh_free(struct fh *fh);
/* submit.c: a read on submit or prepare (submits first if needed). */
void submit_read(fuse_req_t req, struct fh *fh, size_t size);

#endif
