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
	int err = 0;

	(void)n;
	pthread_mutex_lock(&fh->mu);
	if (fh->submitted)
		err = EINVAL; /* one definition per open */
	else if (fh->data.len + len > DEFN_MAX_BYTES)
		err = EFBIG;
	else if (buf_add(&fh->data, data, len) < 0)
		err = ENOMEM;
	pthread_mutex_unlock(&fh->mu);
	return err;
}

/* close() (and every dup's close) flushes: submit what was written once. */
static int
submit_flush(const struct node *n, struct fh *fh)
{
	int err;

	(void)n;
	pthread_mutex_lock(&fh->mu);
	if (!fh->submitted && fh->data.len > 0)
		do_submit(fh);
	err = fh->submitted ? fh->rejected : 0;
	pthread_mutex_unlock(&fh->mu);
	return err;
}

static int
submit_open(const struct node *n, struct fh *fh)
{
	(void)n;
	(void)fh;
	return 0;
}

static void
submit_read(fuse_req_t req, struct fh *fh, size_t size)
{
	char copy[RUN_ID_MAX + 4096];
	size_t left;

	pthread_mutex_lock(&fh->mu);
	if (!fh->submitted) {
		if (fh->data.len == 0) {
			pthread_mutex_unlock(&fh->mu);
			fuse_reply_buf(req, NULL, 0); /* nothing written, nothing to say */
			return;
		}
		do_submit(fh);
	}
	left = fh->reply ? strlen(fh->reply) - fh->reply_off : 0;
	if (size > left)
		size = left;
	if (size > sizeof(copy))
		size = sizeof(copy);
	/* A copy, and the offset moved before the reply goes out: the reader's
	 * next read, or its close freeing fh, may come on another thread. */
	if (size)
		memcpy(copy, fh->reply + fh->reply_off, size);
	fh->reply_off += size;
	pthread_mutex_unlock(&fh->mu);
	fuse_reply_buf(req, copy, size);
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
