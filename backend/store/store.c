/*
 * The store on SQLite. One connection, opened without SQLite's own mutex:
 * our lock already serializes every call, and holding it across a whole
 * call keeps "read the old state, write the new one, record the event"
 * atomic for the feed.
 *
 * Writes go into one long-lived transaction (BEGIN IMMEDIATE, so the write
 * lock is taken up front and a later upgrade can never fail with
 * SQLITE_BUSY_SNAPSHOT); store_flush() commits it. Whether a transaction is
 * open is always asked of SQLite, since some errors roll it back behind us.
 *
 * This file holds the connection, transactions and batching;
 * store_schema.c the schema and its upgrades, store_write.c every write,
 * store_read.c the lookups and lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define COMMIT_TRIES 10
/* SQLite's own busy wait holds st->mu: keep each short (store_write_lock). */
#define BUSY_SLICE_MS 100

static __thread int patience_ms = STORE_PATIENCE_MS;

#define RUN_COLS                                                                                   \
	"seq, id, name, config, state, prepared, owner, created, started, ended, updated, "        \
	"message, ntasks, "                                                                        \
	"(SELECT ifnull(max(e.seq), 0) FROM events e WHERE e.run_seq = runs.seq), done"
#define TASK_COLS                                                                                  \
	"run_seq, idx, id, step, task, state, has_exit, exit_code, attempts, max_attempts, "       \
	"started, ended, updated, message, parents, command, inputs, outputs"

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_RUN_INS] = "INSERT INTO runs(id, name, config, state, prepared, owner, created, started,"
		  " ended, updated, message, ntasks) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_DEFN_INS] = "INSERT INTO definitions(run_seq, text, normal) VALUES(?, ?, nullif(?, ''))",
    [S_TASK_INS] = "INSERT INTO tasks(" TASK_COLS ")"
		   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_EVENT_INS] = "INSERT INTO events(run_seq, task_idx, state, time, origin)"
		    " VALUES(?, ?, ?, ?, ?)",
    [S_RUN_BY_ID] = "SELECT " RUN_COLS " FROM runs WHERE id = ?",
    [S_RUN_BY_SEQ] = "SELECT " RUN_COLS " FROM runs WHERE seq = ?",
    [S_RUN_LIST] = "SELECT " RUN_COLS " FROM runs WHERE seq > ? ORDER BY seq LIMIT ?",
    [S_RUN_LIST_STATE] = "SELECT " RUN_COLS " FROM runs WHERE state = ? AND seq > ?"
			 " ORDER BY seq LIMIT ?",
    [S_RUN_NEWEST] = "SELECT created FROM runs ORDER BY seq DESC LIMIT 1",
    /* owner != 0: a FAILED run may still have task runs executing. */
    [S_RUN_ACTIVE] = "SELECT " RUN_COLS " FROM runs WHERE state IN (?, ?, ?) OR owner != 0"
		     " ORDER BY seq",
    [S_RUN_DEFN] = "SELECT text FROM definitions WHERE run_seq = ?",
    [S_RUN_NORMAL] = "SELECT normal IS NOT NULL, ifnull(normal, text) FROM definitions"
		     " WHERE run_seq = ?",
    [S_RUN_STATE] = "SELECT state FROM runs WHERE seq = ?",
    [S_RUN_UPD] = "UPDATE runs SET state = ?, prepared = ?, owner = ?, started = ?, ended = ?,"
		  " updated = ?, message = ? WHERE seq = ?",
    [S_COUNTS] = "SELECT state, count(*) FROM tasks WHERE run_seq = ? GROUP BY state",
    [S_TASK_GET] = "SELECT " TASK_COLS " FROM tasks WHERE run_seq = ? AND idx = ?",
    [S_TASK_FIND] = "SELECT " TASK_COLS " FROM tasks WHERE run_seq = ? AND id = ?",
    [S_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks WHERE run_seq = ? AND idx >= ?"
		    " ORDER BY idx LIMIT ?",
    /* TASK_COLS without the long ones: what a listing of thousands needs. */
    [S_TASK_BRIEF] = "SELECT run_seq, idx, id, step, task, state, has_exit, exit_code, attempts,"
		     " max_attempts, started, ended, updated, NULL, parents, NULL, NULL, NULL"
		     " FROM tasks WHERE run_seq = ? AND idx >= ? ORDER BY idx LIMIT ?",
    [S_TASK_STATE] = "SELECT state FROM tasks WHERE run_seq = ? AND idx = ?",
    [S_TASK_UPD] = "UPDATE tasks SET state = ?, has_exit = ?, exit_code = ?, attempts = ?,"
		   " max_attempts = ?, started = ?, ended = ?, updated = ?, message = ?,"
		   " command = ?, inputs = ? WHERE run_seq = ? AND idx = ?",
    /* usage's figures are also kept as numbers, taken out of it once here,
     * so that status.json sums them without parsing thousands of texts. */
    [S_ATT_PUT] =
	"INSERT OR REPLACE INTO attempts(run_seq, idx, n, state, has_exit, exit_code,"
	" started, ended, message, usage, u_wall, u_user, u_sys, u_rss)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, ''),"
	" json_extract(nullif(?10, ''), '$.wall_s'), json_extract(nullif(?10, ''), '$.user_s'),"
	" json_extract(nullif(?10, ''), '$.system_s'),"
	" json_extract(nullif(?10, ''), '$.max_rss_bytes'))",
    [S_ATT_LIST] = "SELECT n, state, has_exit, exit_code, started, ended, message, usage"
		   " FROM attempts WHERE run_seq = ? AND idx = ? ORDER BY n",
    /* The sums of what every task run's latest attempt used. */
    [S_RUN_USAGE] = "SELECT count(a.usage), sum(a.u_wall), sum(a.u_user), sum(a.u_sys),"
		    " max(a.u_rss) FROM tasks t JOIN attempts a ON a.run_seq = t.run_seq"
		    " AND a.idx = t.idx AND a.n = t.attempts WHERE t.run_seq = ?",
    [S_EVENT_LIST] = "SELECT seq, run_seq, task_idx, state, time FROM events"
		     " WHERE run_seq = ? AND seq > ? ORDER BY seq LIMIT ?",
    [S_EVENT_LINES] = "SELECT e.seq, e.run_seq, e.task_idx, e.state, e.time, t.id, t.attempts"
		      " FROM events e"
		      " LEFT JOIN tasks t ON t.run_seq = e.run_seq AND t.idx = e.task_idx"
		      " WHERE e.run_seq = ? AND e.seq > ? ORDER BY e.seq LIMIT ?",
    [S_EVENT_FOREIGN] = "SELECT seq, run_seq, task_idx, state, time FROM events"
			" WHERE seq > ? AND origin != ? ORDER BY seq LIMIT ?",
    [S_EVENT_LAST] = "SELECT ifnull(max(seq), 0) FROM events",
    [S_EVENT_LATEST] = "SELECT seq, time FROM events ORDER BY seq DESC LIMIT 1",
    [S_REQ_INS] = "INSERT INTO requests(run_seq, verb) VALUES(?, ?)",
    [S_REQ_LIST] = "SELECT seq, run_seq, verb FROM requests ORDER BY seq LIMIT ?",
    [S_REQ_DEL] = "DELETE FROM requests WHERE seq <= ?",
    [S_REQ_CANCEL] = "DELETE FROM requests WHERE run_seq = ? AND verb = ?",
    [S_REQ_PENDING] = "SELECT count(*) FROM requests WHERE run_seq = ? AND verb = ?",
    /* Only while no executor owns the run: it would overwrite it anyway. */
    [S_RUN_NOTE] = "UPDATE runs SET message = ?, updated = ? WHERE seq = ? AND owner = 0",
    [S_CKEY_PUT] = "INSERT OR REPLACE INTO cache_keys(run_seq, idx, record) VALUES(?, ?, ?)",
    [S_CKEY_GET] = "SELECT record FROM cache_keys WHERE run_seq = ? AND idx = ?",
};

enum rerr
store_db_fail(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return RF_IO;
}

void
store_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

enum rerr
store_rerr(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_DONE:
	case SQLITE_OK:
		return RF_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return RF_LOCKED;
	case SQLITE_FULL:
		return RF_NOSPC;
	case SQLITE_NOMEM:
		return RF_NOMEM;
	default:
		return RF_IO;
	}
}

/* Steps a statement that returns no rows, then resets it; the SQLite code. */
int
store_step_done(struct store *st, int which, const char *what)
{
	int rc = sqlite3_step(st->s[which]);

	/* Locked and full are for the caller to report: they are retried
	 * (store_write_lock, sched_save.c), and a line per try would flood
	 * the log. */
	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_UNIQUE && store_rerr(rc) != RF_LOCKED &&
	    store_rerr(rc) != RF_NOSPC)
		store_db_fail(st, what);
	store_done(st->s[which]);
	return rc;
}

void
store_vbind(sqlite3_stmt *s, const char *types, va_list ap)
{
	const char *v;

	/* A wrong type string reads the wrong varargs: stop at once. */
	if ((int)strlen(types) != sqlite3_bind_parameter_count(s))
		fatalx("store: %d values for \"%s\"", (int)strlen(types), sqlite3_sql(s));
	for (int i = 1; *types; types++, i++) {
		if (*types == 'i') {
			sqlite3_bind_int(s, i, va_arg(ap, int));
		} else if (*types == 'I') {
			sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
		} else {
			v = va_arg(ap, const char *);
			sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
		}
	}
}

void
store_bind(struct store *st, int which, const char *types, ...)
{
	va_list ap;

	va_start(ap, types);
	store_vbind(st->s[which], types, ap);
	va_end(ap);
}

enum rerr
store_commit(struct store *st)
{
	int rc = SQLITE_DONE;

	for (int i = 0; !sqlite3_get_autocommit(st->db) && i < COMMIT_TRIES; i++) {
		/* On SQLITE_BUSY the transaction stays open, so trying again
		 * is safe; busy_timeout has usually waited already. */
		if ((rc = store_step_done(st, S_COMMIT, "commit")) != SQLITE_BUSY)
			break;
		usleep(20000);
	}
	if (rc == SQLITE_DONE || sqlite3_get_autocommit(st->db))
		st->pending = 0;
	/* After the commit, never before: a process woken by the nudge must
	 * find what it was woken for. */
	if (rc == SQLITE_DONE && (st->nudge & NUDGE_EVENTS) && futimens(st->nudge_fd, NULL) < 0)
		log_warn("store: nudge");
	if (rc == SQLITE_DONE && (st->nudge & NUDGE_REQUESTS) &&
	    futimens(st->nudge_req_fd, NULL) < 0)
		log_warn("store: nudge");
	if (sqlite3_get_autocommit(st->db))
		st->nudge = 0;
	return store_rerr(rc);
}

enum rerr
store_write_begin(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return RF_OK;
	st->pending = 0;
	return store_rerr(store_step_done(st, S_BEGIN, "begin"));
}

void
store_patience(int ms)
{
	patience_ms = ms;
}

enum rerr
store_write_lock(struct store *st, int fresh)
{
	int64_t until = mono_ms() + patience_ms;
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		if ((!fresh || (e = store_commit(st)) == RF_OK) &&
		    (e = store_write_begin(st)) == RF_OK)
			return RF_OK;
		if (e != RF_LOCKED || mono_ms() >= until)
			return e;
		pthread_mutex_unlock(&st->mu);
		usleep(20000);
		pthread_mutex_lock(&st->mu);
	}
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		store_step_done(st, S_ROLLBACK, "rollback");
	st->pending = 0;
	st->nudge = 0;
}

static void
nudge_files_close(struct store *st)
{
	char path[PATH_MAX];

	close(st->nudge_fd);
	if (st->nudge_req_fd >= 0)
		close(st->nudge_req_fd);
	snprintf(path, sizeof(path), "%s.r", st->nudge_file);
	unlink(st->nudge_file);
	unlink(path);
	free(st->nudge_file);
}

/* Finalizes every statement and closes the connection; SQLite's code. */
static int
db_close(struct store *st)
{
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->s[i]);
	return sqlite3_close(st->db);
}

int
store_open(const char *datadir, struct store **out)
{
	struct store *st = NULL;
	char path[PATH_MAX], mode[16];
	int fd, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	if (mkdir_p(datadir, 0700) < 0) {
		log_warn("store: %s", datadir);
		return RF_IO;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/runfs.db", datadir) >= sizeof(path)) {
		log_warnx("store: %s: path too long", datadir);
		return RF_INVAL;
	}
	/* Create the file ourselves: SQLite would use 0644, and gives the
	 * -wal and -shm files the mode of the database. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_warn("store: %s", path);
		return RF_IO;
	}
	close(fd);
	/* Each process touches a file of its own, so that it can tell its
	 * own nudges from the others' (follow.c). */
	if (store_nudge_path(datadir, path, sizeof(path)) < 0 ||
	    (mkdir(path, 0700) < 0 && errno != EEXIST) ||
	    (size_t)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%d",
			     (int)getpid()) >= sizeof(path) - strlen(path) ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_warn("store: %s", path);
		return RF_IO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL || pthread_mutex_init(&st->mu, NULL) != 0 ||
	    (st->nudge_file = strdup(path)) == NULL) {
		free(st);
		close(fd);
		unlink(path);
		return RF_NOMEM;
	}
	st->nudge_fd = fd;
	st->nudge_req_fd = -1;
	/* <pid>.r: a commit that queued a request (only the runtime cares). */
	strcat(path, ".r");
	if ((st->nudge_req_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_warn("store: %s", path);
		goto fail;
	}
	st->origin = (int)getpid();
	if ((size_t)snprintf(path, sizeof(path), "%s/runfs.db", datadir) >= sizeof(path))
		goto fail;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		if (st->db)
			store_db_fail(st, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* auto_vacuum first: it takes only while the file has no table, and
	 * WAL mode would write the file's first page (store_schema.c). */
	if (sqlite3_busy_timeout(st->db, BUSY_SLICE_MS) != SQLITE_OK ||
	    exec_sql(st, "PRAGMA auto_vacuum = INCREMENTAL") < 0 ||
	    pragma(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) < 0 ||
	    exec_sql(st, "PRAGMA synchronous = NORMAL") < 0 || store_schema_init(st) < 0)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		log_warnx("store: %s: journal mode is %s, not wal", path, mode);
		goto fail;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->s[i],
				       NULL) != SQLITE_OK) {
			store_db_fail(st, sql[i]);
			goto fail;
		}
	}
	/* Only what happens from now on is news. */
	if ((st->followed = store_event_last(st)) < 0)
		goto fail;
	*out = st;
	return RF_OK;
fail:
	db_close(st);
	nudge_files_close(st);
	pthread_mutex_destroy(&st->mu);
	free(st);
	return RF_IO;
}

void
store_set_feed(struct store *st, store_feed_fn fn, void *arg)
{
	pthread_mutex_lock(&st->mu);
	st->feed = fn;
	st->feed_arg = arg;
	pthread_mutex_unlock(&st->mu);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	if (store_commit(st) != RF_OK)
		store_rollback(st);
	if (db_close(st) != SQLITE_OK)
		store_db_fail(st, "close");
	nudge_files_close(st);
	pthread_mutex_unlock(&st->mu);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

enum rerr
store_flush(struct store *st)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	e = store_commit(st);
	pthread_mutex_unlock(&st->mu);
	return e;
}

void
store_discard(struct store *st)
{
	pthread_mutex_lock(&st->mu);
	store_rollback(st);
	pthread_mutex_unlock(&st->mu);
}
