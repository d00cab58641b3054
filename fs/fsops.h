/* The FUSE operations table and what the node files share with it. */
#ifndef RUNFS_FSOPS_H
#define RUNFS_FSOPS_H

#include "node.h"

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
