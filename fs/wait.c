/*
 * runs/<id>/wait and runs/<id>/events: streams whose reads block until
 * there is something to say. A read that must wait is parked (watch.c) and
 * answered from the notifier thread, so a thousand blocked readers hold no
 * worker thread.
 *
 *   wait    the final state word, once the run has completed; then EOF
 *   events  "<iso8601> <task-id|-> <STATE>[ cached]" per change, history
 *           first;
 *           EOF once the run has ended and every line was read
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"

/* Replies with the unread part of fh->data and unlocks fh->mu. The reply
 * goes out last, from a copy: once the reader has its bytes it may close,
 * and the release (on another thread) frees fh. Returns 1 (answered). */
static int
reply_pending(fuse_req_t req, struct fh *fh, size_t size)
{
	size_t left = fh->data.len - fh->reply_off;
	char *copy;

	if (size > left)
		size = left;
	if ((copy = malloc(size ? size : 1)) == NULL) {
		pthread_mutex_unlock(&fh->mu);
		fuse_reply_err(req, ENOMEM);
		return 1;
	}
	if (size)
		memcpy(copy, fh->data.p + fh->reply_off, size);
	fh->reply_off += size;
	if (fh->reply_off == fh->data.len) {
		fh->data.len = 0;
		fh->reply_off = 0;
	}
	pthread_mutex_unlock(&fh->mu);
	fuse_reply_buf(req, copy, size);
	free(copy);
	return 1;
}

static int
wait_serve(fuse_req_t req, struct fh *fh, size_t size)
{
	struct run_rec r = {0};

	pthread_mutex_lock(&fh->mu);
	if (!fh->submitted) { /* "submitted": the answer is known */
		if (node_run_brief(&fh->node, &r) != 0) {
			pthread_mutex_unlock(&fh->mu);
			fuse_reply_err(req, ENOENT);
			return 1;
		}
		if (state_completed(r.state) &&
		    buf_printf(&fh->data, "%s\n", state_name(r.state)) == 0)
			fh->submitted = 1;
		run_rec_free(&r);
	}
	if (fh->submitted) {
		if (fh->data.len == 0) { /* all of it was read: end of file */
			pthread_mutex_unlock(&fh->mu);
			fuse_reply_buf(req, NULL, 0);
			return 1;
		}
		return reply_pending(req, fh, size);
	}
	pthread_mutex_unlock(&fh->mu);
	return 0;
}

static void
wait_read(fuse_req_t req, struct fh *fh, size_t size)
{
	if (!wait_serve(req, fh, size))
		watch_park(fh->node.run, req, fh, size, wait_serve, 1);
}

/* Appends the lines of the run's events after *cursor to out; returns
 * how many (0 when none are new), moving *cursor on. */
static int
event_lines(int64_t run, int64_t *cursor, struct buf *out)
{
	struct event_line ev[256];
	int n = backend_events(fs_backend, run, *cursor, 256, ev);

	for (int i = 0; i < n; i++) {
		char when[40];

		iso8601(ev[i].ev.time, when, sizeof(when));
		if (buf_printf(out, "%s %s %s%s\n", when, ev[i].task, state_name(ev[i].ev.state),
			       ev[i].cached ? " cached" : "") < 0)
			return i;
		*cursor = ev[i].ev.seq;
	}
	return n < 0 ? 0 : n;
}

/* All of a run's event lines, for the size of a finished run's events. */
static int
all_events(const struct node *n, struct buf *out, int64_t *mtime)
{
	int64_t cursor = 0;

	(void)mtime; /* stream_size sets it */
	while (event_lines(n->run, &cursor, out) > 0)
		;
	return 0;
}

/*
 * The whole content of an ended run's wait or events, or EAGAIN while the
 * run goes on. The lines of events are rendered once for the stat, open
 * and read that follow each other.
 */
static int
ended_content(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec r = {0};
	int64_t ignored;
	int err = 0;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	*mtime = run_mtime(&r);
	if (!run_rec_ended(&r)) {
		err = EAGAIN;
	} else if (n->kind == K_WAIT) {
		err = buf_printf(out, "%s\n", state_name(r.state)) < 0 ? ENOMEM : 0;
	} else {
		int64_t key[2] = {r.last_event, r.updated};
		err = memo_render(n, key, all_events, out, &ignored);
	}
	run_rec_free(&r);
	return err;
}

/*
 * Until its run has ended, a stream has no length to tell (size 0). Then
 * it is an ordinary file with its exact size, so that `cp -r`, `tar` and
 * `rsync` of a finished run copy wait and events whole.
 */
static int
stream_size(const struct node *n, off_t *size, int64_t *mtime)
{
	struct buf all = {0};
	int err = ended_content(n, &all, mtime);

	*size = (off_t)all.len;
	buf_free(&all);
	return err == EAGAIN ? 0 : err;
}

/* Opened once its run has ended, it is an ordinary file, read at any
 * offset (tar, head's seek back); before, a stream of what comes. */
static int
stream_open(const struct node *n, struct fh *fh)
{
	int64_t mtime;
	int err = ended_content(n, &fh->data, &mtime);

	if (err == EAGAIN) {
		fh->data.len = 0;
		fh->stream = 1;
		err = 0;
	}
	return err;
}

const struct kind_ops wait_ops = {
    .mode = 0444, .size = stream_size, .open = stream_open, .read = wait_read};

/* fh->mu held. */
static int
fetch_events(struct fh *fh)
{
	return event_lines(fh->node.run, &fh->cursor, &fh->data);
}

static int
events_serve(fuse_req_t req, struct fh *fh, size_t size)
{
	struct run_rec r = {0};
	int ended;

	pthread_mutex_lock(&fh->mu);
	/* The run first, then its events: when it has ended, its last event
	 * is already recorded, so no new line means the end. */
	if (node_run_brief(&fh->node, &r) != 0) {
		pthread_mutex_unlock(&fh->mu);
		fuse_reply_err(req, ENOENT);
		return 1;
	}
	ended = run_rec_ended(&r);
	run_rec_free(&r);
	/* As many lines as were asked for and are known: a read comes back
	 * short only when nothing more is recorded yet, or at the end. */
	while (fh->data.len - fh->reply_off < size && fetch_events(fh) > 0)
		;
	if (fh->data.len > fh->reply_off)
		return reply_pending(req, fh, size);
	pthread_mutex_unlock(&fh->mu);
	if (!ended)
		return 0;
	fuse_reply_buf(req, NULL, 0);
	return 1;
}

static int
events_ready(struct fh *fh)
{
	struct run_rec r = {0};
	int ready;

	pthread_mutex_lock(&fh->mu);
	ready = fh->data.len > fh->reply_off;
	if (!ready && node_run_brief(&fh->node, &r) == 0) {
		ready = run_rec_ended(&r);
		run_rec_free(&r);
	}
	if (!ready)
		ready = fetch_events(fh) > 0;
	pthread_mutex_unlock(&fh->mu);
	return ready;
}

static void
events_read(fuse_req_t req, struct fh *fh, size_t size)
{
	if (!events_serve(req, fh, size))
		watch_park(fh->node.run, req, fh, size, events_serve, 0);
}

const struct kind_ops events_ops = {.mode = 0444,
				    .size = stream_size,
				    .open = stream_open,
				    .read = events_read,
				    .ready = events_ready};
