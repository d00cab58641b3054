/*
 * What processes sharing one store tell each other. Mounts hand runs of
 * the local runtime to its daemon through the requests table, and learn
 * of changes made elsewhere from the events other processes record (see
 * store_event_foreign). Both are read when DATA/nudge/<pid> is touched, which
 * every commit recording events or requests does after it lands.
 */
#include <stdarg.h>
#include <stdio.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_nudge_path(const char *datadir, char *path, size_t n)
{
	return (size_t)snprintf(path, n, "%s/nudge", datadir) < n ? 0 : -1;
}

/*
 * Runs one writing statement in a transaction of its own and commits it;
 * the rows it changed, or -1. What is batched commits first, on its own:
 * a failure here must not roll the scheduler's changes back with it.
 */
static int
write_one(struct store *st, int which, int nudge, const char *types, ...)
{
	va_list ap;
	int n = -1;

	if (store_write_lock(st, 1) == RF_OK) {
		va_start(ap, types);
		store_vbind(st->s[which], types, ap);
		va_end(ap);
		if (store_step_done(st, which, sqlite3_sql(st->s[which])) == SQLITE_DONE) {
			n = sqlite3_changes(st->db);
			st->nudge |= nudge;
			if (store_commit(st) != RF_OK) {
				store_rollback(st);
				n = -1;
			}
		} else {
			store_rollback(st);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return n;
}

enum rerr
store_request_put(struct store *st, int64_t run_seq, int verb)
{
	return write_one(st, S_REQ_INS, NUDGE_REQUESTS, "Ii", run_seq, verb) < 0 ? RF_IO : RF_OK;
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

	/* Mostly there are none: find that out without the write lock. */
	pthread_mutex_lock(&st->mu);
	n = list_requests(st, limit, out);
	pthread_mutex_unlock(&st->mu);
	if (n <= 0)
		return n;
	/* Read again under the write lock: a mount may have withdrawn one. */
	if (store_write_lock(st, 1) != RF_OK || (n = list_requests(st, limit, out)) < 0)
		goto fail;
	if (n > 0) {
		store_bind(st, S_REQ_DEL, "I", out[n - 1].seq);
		if (store_step_done(st, S_REQ_DEL, "take requests") != SQLITE_DONE)
			goto fail;
	}
	if (store_commit(st) != RF_OK)
		goto fail;
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
	int n = write_one(st, S_REQ_CANCEL, 0, "Ii", run_seq, verb);

	return n < 0 ? -1 : n > 0;
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
	return write_one(st, S_RUN_NOTE, 0, "sII", message, now_ms(), run_seq) < 0 ? RF_IO : RF_OK;
}
