/*
 * Request streams: files that take a request and answer it on the same
 * open file (submit, prepare, a configuration being saved). Writes collect
 * the request; the first read or the close hands it to `answer`, which
 * sets fh->reply and, when it refuses, fh->rejected (an errno the close
 * returns). A write that completes a document (the backend tells) is
 * answered at once.
 * Reads then return the reply whatever the offset, so a shell
 * can write and read back on one descriptor:
 *   exec 3<>submit; cat def.json >&3; read -r id <&3
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsops.h"

static int
blank(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", data[i]) || data[i] == '\0')
			return 0;
	return 1;
}

/*
 * A write that completes the request answers it at once, so a refusal
 * fails the write itself: `echo ... > submit` then says so, where a
 * failing close would go unseen (shells do not report it).
 */
int
stream_write(struct fh *fh, const char *data, size_t len, size_t max, answer_fn answer)
{
	int err = 0;

	pthread_mutex_lock(&fh->mu);
	if (fh->submitted && blank(data, len))
		err = fh->rejected; /* `{ cat def; echo; } > submit`: the echo */
	else if (fh->submitted)
		err = EINVAL; /* one request per open */
	else if (fh->data.len + len > max)
		err = EFBIG;
	else if (buf_add(&fh->data, data, len) < 0)
		err = ENOMEM;
	else if (backend_write_completes(fh->data.p, fh->data.len, data, len)) {
		fh->submitted = 1;
		answer(fh);
		err = fh->rejected;
	}
	pthread_mutex_unlock(&fh->mu);
	return err;
}

/* close() (and every dup's close) flushes: the request is answered once. */
int
stream_flush(struct fh *fh, answer_fn answer)
{
	int err;

	pthread_mutex_lock(&fh->mu);
	if (!fh->submitted && fh->data.len > 0) {
		fh->submitted = 1;
		answer(fh);
	}
	err = fh->submitted ? fh->rejected : 0;
	pthread_mutex_unlock(&fh->mu);
	return err;
}

void
stream_read(fuse_req_t req, struct fh *fh, size_t size, answer_fn answer)
{
	char copy[8192];
	size_t left;

	pthread_mutex_lock(&fh->mu);
	if (!fh->submitted) {
		if (fh->data.len == 0) {
			pthread_mutex_unlock(&fh->mu);
			fuse_reply_buf(req, NULL, 0); /* nothing written, nothing to say */
			return;
		}
		fh->submitted = 1;
		answer(fh);
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
