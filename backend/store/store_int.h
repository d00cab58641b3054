/*
 * What store.c (the connection and transactions), store_schema.c,
 * store_write.c and store_read.c (row readers, lookups and lists) share.
 */
#ifndef RUNFS_STORE_INT_H
#define RUNFS_STORE_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include <sqlite3.h>

#include "state.h"
#include "store.h"

/* The prepared statements, by id; their text is in store.c. */
enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_RUN_INS,
	S_DEFN_INS,
	S_TASK_INS,
	S_EVENT_INS,
	S_RUN_BY_ID,
	S_RUN_BY_SEQ,
	S_RUN_LIST,
	S_RUN_LIST_STATE,
	S_RUN_NEWEST,
	S_RUN_ACTIVE,
	S_RUN_DEFN,
	S_RUN_NORMAL,
	S_RUN_STATE,
	S_RUN_UPD,
	S_COUNTS,
	S_TASK_GET,
	S_TASK_FIND,
	S_TASK_LIST,
	S_TASK_BRIEF,
	S_TASK_STATE,
	S_TASK_UPD,
	S_ATT_PUT,
	S_ATT_LIST,
	S_RUN_USAGE,
	S_EVENT_LIST,
	S_EVENT_LINES,
	S_EVENT_FOREIGN,
	S_EVENT_LAST,
	S_EVENT_LATEST,
	S_REQ_INS,
	S_REQ_LIST,
	S_REQ_DEL,
	S_REQ_CANCEL,
	S_REQ_PENDING,
	S_RUN_NOTE,
	S_CKEY_PUT,
	S_CKEY_GET,
	S_COUNT
};

struct store {
	pthread_mutex_t mu;
	sqlite3 *db;
	sqlite3_stmt *s[S_COUNT];
	int pending; /* writes in the open transaction */
	store_feed_fn feed;
	void *feed_arg;
	int origin;	  /* this process: events.origin */
	int nudge;	  /* NUDGE_*: what the open transaction records for others */
	int nudge_fd;	  /* DATA/nudge/<pid>, touched after such a commit */
	char *nudge_file; /* its path, removed at close */
	int nudge_req_fd; /* DATA/nudge/<pid>.r, touched after a request */
	int64_t followed; /* the latest event store_follow handed on */
};

enum { NUDGE_EVENTS = 1, NUDGE_REQUESTS = 2 };

/* Whether state is one a record may hold. */
static inline int
store_state_ok(int state)
{
	return state >= 0 && state < ST_COUNT;
}

/* store.c */

/* Logs SQLite's last error for what; RF_IO. */
enum rerr store_db_fail(struct store *st, const char *what);
/* Hands a statement back clean: no open cursor (which would pin a read
 * snapshot) and no bindings pointing at the caller's memory. */
void store_done(sqlite3_stmt *s);
/*
 * Binds parameters 1.. by type: i int, I int64_t, s string (NULL binds "").
 * Strings are bound SQLITE_STATIC: store_done() drops them before the
 * caller's memory can go.
 */
void store_vbind(sqlite3_stmt *s, const char *types, va_list ap);
void store_bind(struct store *st, int which, const char *types, ...);

/* Steps a statement that returns no rows and resets it; SQLite's code. */
int store_step_done(struct store *st, int which, const char *what);
/* The result for a statement's SQLite code: locked and full apart from I/O. */
enum rerr store_rerr(int rc);
/* Opens the write transaction unless one is open. */
enum rerr store_write_begin(struct store *st);
/*
 * Takes st->mu (always: the caller unlocks) and opens the write
 * transaction; with fresh, commits what is batched first. Waits for another
 * process's lock in slices of BUSY_SLICE_MS with st->mu released between,
 * so that reads keep being answered, up to this thread's patience.
 */
enum rerr store_write_lock(struct store *st, int fresh);
/* Commits the open transaction, if any, and then nudges the other
 * processes when it recorded events or requests. */
enum rerr store_commit(struct store *st);
/* Records an event (store_write.c), nudging the other processes at the
 * commit, and hands it to this process's feed; the lock is held. */
enum rerr store_event_add(struct store *st, int64_t run_seq, int task_idx, int state, int64_t t,
			  struct event_rec *ev);
void store_feed(struct store *st, const struct event_rec *ev);
/* Ends a batched write (the lock held): commits every so many. */
enum rerr store_write_end(struct store *st);
void store_rollback(struct store *st);

/* store_schema.c */

/* Runs SQL text (several statements); 0, or -1 after logging why. */
int exec_sql(struct store *st, const char *text);
/* A one-row pragma, read as text into out; 0 or -1. */
int pragma(struct store *st, const char *text, char *out, size_t n);
/* Creates the schema, or upgrades it to the current version; -1 (logged)
 * for a store of a newer runfs. */
int store_schema_init(struct store *st);

/* store_read.c */

/* Copies a text column into dst (NULL reads as ""), truncating to n. */
void store_col_copy(char *dst, size_t n, sqlite3_stmt *s, int col);

#endif
