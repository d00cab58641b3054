/* The FUSE operations table and what the node files share with it. */
#ifndef RUNFS_FSOPS_H
#define RUNFS_FSOPS_H

#include "node.h"

/* The operations; they serve fs_backend, set before the loop starts. */
const struct fuse_lowlevel_ops *fs_ops(void);
void fh_free(struct fh *fh);

#endif
