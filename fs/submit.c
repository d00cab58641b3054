/*
 * submit and prepare: a stream per open file. Writes collect a definition;
 * the first read (or the close) submits it, and reads then return the run
 * id or "error: <reason>" whatever the offset, so a shell can
 *   exec 3<>submit; cat def.json >&3; read -r id <&3
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "fsops.h"
#include "log.h"

static void
do_submit(struct fh *fh)
{
	char id[RUN_ID_MAX], *err = NULL;
	enum rerr e;
	struct buf reply = {0};

	fh->submitted = 1;
	e = backend_submit(fs_backend, fh->data.p ? fh->data.p : "", fh->data.len,
			   fh->node.kind == K_SUBMIT, id, &err);
	if (e == RF_OK) {
		buf_printf(&reply, "%s\n", id);
		log_info("submitted %s", id);
	} else {
		fh->rejected = e == RF_TOOBIG ? EFBIG : EINVAL;
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
	if (fh->submitted)
		return EINVAL; /* one definition per open */
	if (fh->data.len + len > DEFN_MAX_BYTES)
		return EFBIG;
	return buf_add(&fh->data, data, len) < 0 ? ENOMEM : 0;
}

/* close() (and every dup's close) flushes: submit what was written once. */
static int
submit_flush(const struct node *n, struct fh *fh)
{
	(void)n;
	if (!fh->submitted && fh->data.len > 0)
		do_submit(fh);
	return fh->submitted ? fh->rejected : 0;
}

static int
submit_open(const struct node *n, struct fh *fh)
{
	(void)n;
	(void)fh;
	return 0;
}

void
submit_read(fuse_req_t req, struct fh *fh, size_t size)
{
	size_t left;

	if (!fh->submitted) {
		if (fh->data.len == 0) {
			fuse_reply_buf(req, NULL, 0); /* nothing written, nothing to say */
			return;
		}
		do_submit(fh);
	}
	left = fh->reply ? strlen(fh->reply) - fh->reply_off : 0;
	if (size > left)
		size = left;
	fuse_reply_buf(req, fh->reply ? fh->reply + fh->reply_off : NULL, size);
	fh->reply_off += size;
}

const struct kind_ops submit_ops = {
    .mode = 0644, .open = submit_open, .write = submit_write, .flush = submit_flush};
const struct kind_ops prepare_ops = {
    .mode = 0644, .open = submit_open, .write = submit_write, .flush = submit_flush};
