/*
 * What processes sharing one store tell each other. Mounts hand runs of
 * the local runtime to its daemon through the requests table, and learn
 * of changes made elsewhere from the events other processes record (see
 * store_event_foreign). Both are read when DATA/changed is touched, which
 * every commit recording events or requests does after it lands.
 */
#include <stdio.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_nudge_path(const char *datadir, char *path, size_t n)
{
	return (size_t)snprintf(path, n, "%s/changed", datadir) < n ? 0 : -1;
}

enum rerr
store_request_put(struct store *st, int64_t run_seq, int verb)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	/* What is batched commits on its own: a failure here must not
	 * roll the scheduler's changes back with it. */
	if ((e = store_commit(st)) == RF_OK && (e = store_write_begin(st)) == RF_OK) {
		store_bind(st, S_REQ_INS, "Ii", run_seq, verb);
		if (store_step_done(st, S_REQ_INS, "queue request") == SQLITE_DONE) {
			st->nudge = 1;
			e = store_commit(st);
		} else {
			store_rollback(st);
			e = RF_IO;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return e;
}

/* Reads up to limit queued requests; the count or -1. Lock held. */
static int
list_requests(struct store *st, int limit, struct request_rec *out)
{
	sqlite3_stmt *s = st->s[S_REQ_LIST];
	int n = 0, rc = SQLITE_DONE;

	store_bind(st, S_REQ_LIST, "i", limit);
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		out[n].seq = sqlite3_column_int64(s, 0);
		out[n].run_seq = sqlite3_column_int64(s, 1);
		out[n].verb = sqlite3_column_int(s, 2);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_db_fail(st, "list requests");
		n = -1;
	}
	store_done(s);
	return n;
}

int
store_request_take(struct store *st, int limit, struct request_rec *out)
{
	int n;

	pthread_mutex_lock(&st->mu);
	/* Mostly there are none: find that out without the write lock. */
	if ((n = list_requests(st, limit, out)) <= 0)
		goto out;
	/* Read again under the write lock: a mount may have withdrawn one. */
	if (store_commit(st) != RF_OK || store_write_begin(st) != RF_OK ||
	    (n = list_requests(st, limit, out)) < 0)
		goto fail;
	if (n > 0) {
		store_bind(st, S_REQ_DEL, "I", out[n - 1].seq);
		if (store_step_done(st, S_REQ_DEL, "take requests") != SQLITE_DONE)
			goto fail;
	}
	if (store_commit(st) != RF_OK)
		goto fail;
out:
	pthread_mutex_unlock(&st->mu);
	return n;
fail:
	store_rollback(st);
	pthread_mutex_unlock(&st->mu);
	return -1;
}

int
store_request_cancel(struct store *st, int64_t run_seq, int verb)
{
	int n = -1;

	pthread_mutex_lock(&st->mu);
	if (store_commit(st) == RF_OK && store_write_begin(st) == RF_OK) {
		store_bind(st, S_REQ_CANCEL, "Ii", run_seq, verb);
		if (store_step_done(st, S_REQ_CANCEL, "withdraw request") == SQLITE_DONE) {
			n = sqlite3_changes(st->db) > 0;
			if (store_commit(st) != RF_OK)
				n = -1;
		} else {
			store_rollback(st);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return n;
}

int
store_follow(struct store *st)
{
	sqlite3_stmt *s = st->s[S_EVENT_FOREIGN];
	struct event_rec ev;
	int n = 0, rc;

	pthread_mutex_lock(&st->mu);
	do {
		/* Pages of 512 keep the lock's hold short under a burst. */
		int page = 0;
		store_bind(st, S_EVENT_FOREIGN, "Iii", st->followed, st->origin, 512);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			ev.seq = sqlite3_column_int64(s, 0);
			ev.run_seq = sqlite3_column_int64(s, 1);
			ev.task_idx = sqlite3_column_int(s, 2);
			ev.state = sqlite3_column_int(s, 3);
			ev.time = sqlite3_column_int64(s, 4);
			st->followed = ev.seq;
			if (st->feed)
				st->feed(&ev, st->feed_arg);
			page++;
		}
		if (rc != SQLITE_DONE) {
			store_db_fail(st, "follow events");
			n = -1;
		} else {
			n += page;
		}
		store_done(s);
		if (page < 512)
			break;
		pthread_mutex_unlock(&st->mu);
		pthread_mutex_lock(&st->mu);
	} while (n >= 0);
	pthread_mutex_unlock(&st->mu);
	return n;
}

enum rerr
store_run_note(struct store *st, int64_t run_seq, const char *message)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	if ((e = store_commit(st)) == RF_OK && (e = store_write_begin(st)) == RF_OK) {
		store_bind(st, S_RUN_NOTE, "sII", message, now_ms(), run_seq);
		if (store_step_done(st, S_RUN_NOTE, "note") == SQLITE_DONE) {
			e = store_commit(st);
		} else {
			store_rollback(st);
			e = RF_IO;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return e;
}
