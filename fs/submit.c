/* submit and prepare: request streams (stream.c) whose request is a
 * workflow definition and whose answer is the new run's id. */
#include <errno.h>
#include <stdlib.h>

#include "fsops.h"
#include "log.h"

static void
do_submit(struct fh *fh)
{
	char id[RUN_ID_MAX], *err = NULL;
	enum rerr e;
	struct buf reply = {0};

	e = backend_submit(fs_backend, fh->data.p ? fh->data.p : "", fh->data.len,
			   fh->node.kind == K_SUBMIT, id, &err);
	if (e == RF_OK) {
		buf_printf(&reply, "%s\n", id);
		log_info("submitted %s", id);
	} else {
		fh->rejected = rerr_errno_request(e);
		buf_printf(&reply, "error: %s\n", err ? err : rerr_str(e));
		log_info("submit rejected: %s", err ? err : rerr_str(e));
	}
	free(err);
	buf_free(&fh->data);
	fh->reply = buf_steal(&reply);
}

static int
submit_write(const struct node *n, struct fh *fh, const char *data, size_t len)
{
	(void)n;
	return stream_write(fh, data, len, backend_submit_max(), do_submit);
}

static int
submit_flush(const struct node *n, struct fh *fh)
{
	(void)n;
	return stream_flush(fh, do_submit);
}

static int
submit_open(const struct node *n, struct fh *fh)
{
	(void)n;
	fh->stream = 1;
	return 0;
}

static void
submit_read(fuse_req_t req, struct fh *fh, size_t size)
{
	stream_read(req, fh, size, do_submit);
}

const struct kind_ops submit_ops = {.mode = 0644,
				    .open = submit_open,
				    .write = submit_write,
				    .flush = submit_flush,
				    .read = submit_read};
const struct kind_ops prepare_ops = {.mode = 0644,
				     .open = submit_open,
				     .write = submit_write,
				     .flush = submit_flush,
				     .read = submit_read};
