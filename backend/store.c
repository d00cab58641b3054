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
 * This file holds the connection, the schema, transactions and batching,
 * the feed and every write; store_read.c the lookups and lists.
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

#define SCHEMA_VERSION 4
/* Bounds the WAL and what a crash can lose when nobody flushes. */
#define MAX_PENDING  4096
#define COMMIT_TRIES 10
/* SQLite's own busy wait holds st->mu: keep each short (store_write_lock). */
#define BUSY_SLICE_MS 100

static __thread int patience_ms = STORE_PATIENCE_MS;

/* The completed states as stored (state.h's numbers are the format). A
 * range, not an IN list: in a trigger, SQLite builds an IN list's lookup
 * table afresh on every row: that took nearly half of a task update's time. */
#define COMPLETED " BETWEEN 2 AND 5"
_Static_assert(ST_SUCCEEDED == 2 && ST_FAILED == 3 && ST_TERMINATED == 4 && ST_KILLED == 5,
	       "COMPLETED is the range of the completed states");

/*
 * runs.done counts the run's completed task runs, kept by triggers so that
 * no write path can forget it: the index lists every run with it without
 * a pass over any run's task runs.
 */
#define DONE_TRIGGERS                                                                              \
	"CREATE TRIGGER tasks_done AFTER UPDATE OF state ON tasks"                                 \
	" WHEN (new.state" COMPLETED ") != (old.state" COMPLETED ")"                               \
	" BEGIN UPDATE runs SET done = done + (CASE WHEN new.state" COMPLETED                      \
	" THEN 1 ELSE -1 END) WHERE seq = new.run_seq; END;"                                       \
	"CREATE TRIGGER tasks_done_new AFTER INSERT ON tasks WHEN new.state" COMPLETED             \
	" BEGIN UPDATE runs SET done = done + 1 WHERE seq = new.run_seq; END;"

/*
 * A new store gets the current schema at once; upgrades[v] takes a store
 * of version v to v + 1.
 *
 * tasks keeps its rowid: its rows carry commands and resolved inputs that
 * easily outgrow the small rows WITHOUT ROWID suits. attempts rows are
 * small and only ever reached by their key. A run's definition has a
 * table of its own: SQLite rewrites a whole row on any update, and a run's
 * row changes with every task run that completes (done), so a 1.5 MB
 * definition in it was copied ten thousand times over a large run.
 */
static const char schema[] =
    "CREATE TABLE runs(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, config TEXT NOT NULL, state INTEGER NOT NULL,"
    " prepared INTEGER NOT NULL, owner INTEGER NOT NULL, created INTEGER NOT NULL,"
    " started INTEGER NOT NULL, ended INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " message TEXT, ntasks INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX runs_state ON runs(state);"
    "CREATE TABLE definitions(run_seq INTEGER PRIMARY KEY, text TEXT NOT NULL);"
    "CREATE TABLE tasks(run_seq INTEGER NOT NULL, idx INTEGER NOT NULL, id TEXT NOT NULL,"
    " step TEXT, task TEXT, state INTEGER NOT NULL, has_exit INTEGER NOT NULL,"
    " exit_code INTEGER NOT NULL, attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL,"
    " started INTEGER NOT NULL, ended INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " message TEXT, parents TEXT, command TEXT, inputs TEXT, outputs TEXT,"
    " PRIMARY KEY(run_seq, idx));"
    "CREATE UNIQUE INDEX tasks_id ON tasks(run_seq, id);"
    "CREATE INDEX tasks_state ON tasks(run_seq, state);"
    "CREATE TABLE attempts(run_seq INTEGER NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL,"
    " state INTEGER NOT NULL, has_exit INTEGER NOT NULL, exit_code INTEGER NOT NULL,"
    " started INTEGER NOT NULL, ended INTEGER NOT NULL, message TEXT,"
    " PRIMARY KEY(run_seq, idx, n)) WITHOUT ROWID;"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, run_seq INTEGER NOT NULL,"
    " task_idx INTEGER NOT NULL, state INTEGER NOT NULL, time INTEGER NOT NULL,"
    " origin INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX events_run ON events(run_seq, seq);"
    "CREATE TABLE requests(seq INTEGER PRIMARY KEY,"
    " run_seq INTEGER NOT NULL, verb INTEGER NOT NULL);" DONE_TRIGGERS "PRAGMA user_version = 4;";

static const char *const upgrades[SCHEMA_VERSION] = {
    /*
     * Version 2: processes share the store (the local runtime, several
     * mounts). An event names the process that recorded it, so that each
     * process hands the others' events to its feed and not its own twice;
     * requests is the queue through which mounts hand runs to the runtime.
     */
    [1] = "ALTER TABLE events ADD COLUMN origin INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TABLE requests(seq INTEGER PRIMARY KEY,"
	  " run_seq INTEGER NOT NULL, verb INTEGER NOT NULL);"
	  "PRAGMA user_version = 2;",
    /* Version 3: runs.done (see DONE_TRIGGERS), definitions apart. */
    [2] = "ALTER TABLE runs ADD COLUMN done INTEGER NOT NULL DEFAULT 0;"
	  "UPDATE runs SET done = (SELECT count(*) FROM tasks t WHERE t.run_seq = runs.seq"
	  " AND t.state" COMPLETED ");"
	  "CREATE TABLE definitions(run_seq INTEGER PRIMARY KEY, text TEXT NOT NULL);"
	  "INSERT INTO definitions SELECT seq, ifnull(definition, '') FROM runs;"
	  "ALTER TABLE runs DROP COLUMN definition;" DONE_TRIGGERS "PRAGMA user_version = 3;",
    /* Version 4: the same triggers, cheaper to run (COMPLETED). */
    [3] = "DROP TRIGGER tasks_done; DROP TRIGGER tasks_done_new;" DONE_TRIGGERS
	  "PRAGMA user_version = 4;",
};

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
    [S_DEFN_INS] = "INSERT INTO definitions(run_seq, text) VALUES(?, ?)",
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
    [S_ATT_PUT] = "INSERT OR REPLACE INTO attempts(run_seq, idx, n, state, has_exit, exit_code,"
		  " started, ended, message) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_ATT_LIST] = "SELECT n, state, has_exit, exit_code, started, ended, message FROM attempts"
		   " WHERE run_seq = ? AND idx = ? ORDER BY n",
    [S_EVENT_LIST] = "SELECT seq, run_seq, task_idx, state, time FROM events"
		     " WHERE run_seq = ? AND seq > ? ORDER BY seq LIMIT ?",
    [S_EVENT_LINES] = "SELECT e.seq, e.run_seq, e.task_idx, e.state, e.time, t.id FROM events e"
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

static enum rerr
write_end(struct store *st)
{
	if (++st->pending <= MAX_PENDING)
		return RF_OK;
	return store_commit(st);
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		store_step_done(st, S_ROLLBACK, "rollback");
	st->pending = 0;
	st->nudge = 0;
}

static enum rerr
event_add(struct store *st, int64_t run_seq, int task_idx, int state, int64_t t,
	  struct event_rec *ev)
{
	int rc;

	store_bind(st, S_EVENT_INS, "IiiIi", run_seq, task_idx, state, t, st->origin);
	if ((rc = store_step_done(st, S_EVENT_INS, "record event")) != SQLITE_DONE)
		return store_rerr(rc);
	ev->seq = sqlite3_last_insert_rowid(st->db);
	st->nudge |= NUDGE_EVENTS;
	ev->run_seq = run_seq;
	ev->task_idx = task_idx;
	ev->state = state;
	ev->time = t;
	return RF_OK;
}

/* Hands an event to the feed, if any; the lock is held. */
static void
feed(struct store *st, const struct event_rec *ev)
{
	if (st->feed)
		st->feed(ev, st->feed_arg);
}

static int
exec_sql(struct store *st, const char *text)
{
	if (sqlite3_exec(st->db, text, NULL, NULL, NULL) != SQLITE_OK) {
		store_db_fail(st, text);
		return -1;
	}
	return 0;
}

/* A one-row pragma, read as text into out. */
static int
pragma(struct store *st, const char *text, char *out, size_t n)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		store_db_fail(st, text);
		goto out;
	}
	store_col_copy(out, n, s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int
user_version(struct store *st, int *v)
{
	char text[32];

	if (pragma(st, "PRAGMA user_version", text, sizeof(text)) < 0)
		return -1;
	*v = atoi(text);
	return 0;
}

/*
 * Creates the schema or upgrades it to SCHEMA_VERSION. Other processes may
 * be opening the same store: each step decides under the write lock, on
 * the version it reads there.
 */
static int
schema_init(struct store *st)
{
	int v, from;

	if (user_version(st, &from) < 0)
		return -1;
	if (from > SCHEMA_VERSION) {
		log_warnx("store: database schema %d is newer than this runfs (%d)", from,
			  SCHEMA_VERSION);
		return -1;
	}
	if (from == SCHEMA_VERSION)
		return 0;
	if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (user_version(st, &v) < 0)
		goto fail;
	if (v == 0 && exec_sql(st, schema) < 0)
		goto fail;
	for (; v > 0 && v < SCHEMA_VERSION; v++)
		if (exec_sql(st, upgrades[v]) < 0)
			goto fail;
	if (exec_sql(st, "COMMIT") < 0)
		goto fail;
	if (from > 0)
		log_info("store: schema upgraded from version %d to %d", from, SCHEMA_VERSION);
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
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
	if (sqlite3_busy_timeout(st->db, BUSY_SLICE_MS) != SQLITE_OK ||
	    pragma(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) < 0 ||
	    exec_sql(st, "PRAGMA synchronous = NORMAL") < 0 || schema_init(st) < 0)
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

static enum rerr
runs_insert(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
	    const char *definition, int64_t now, struct event_rec *ev)
{
	const struct task_rec *t;
	enum rerr e;
	int rc;

	store_bind(st, S_RUN_INS, "sssiiiIIIIsi", run->id, run->name, run->config, run->state,
		   run->prepared, run->owner, run->created, run->started, run->ended, now,
		   run->message, ntasks);
	if ((rc = store_step_done(st, S_RUN_INS, "insert run")) == SQLITE_CONSTRAINT_UNIQUE)
		return RF_EXIST;
	if (rc != SQLITE_DONE)
		return store_rerr(rc);
	run->seq = sqlite3_last_insert_rowid(st->db);
	store_bind(st, S_DEFN_INS, "Is", run->seq, definition);
	if ((rc = store_step_done(st, S_DEFN_INS, "insert definition")) != SQLITE_DONE)
		return store_rerr(rc);
	for (int i = 0; i < ntasks; i++) {
		t = &tasks[i];
		if (t->idx != i || !store_state_ok(t->state)) {
			log_warnx("store: run %s: bad task record %d", run->id, i);
			return RF_INVAL;
		}
		store_bind(st, S_TASK_INS, "IisssiiiiiIIIsssss", run->seq, t->idx, t->id, t->step,
			   t->task, t->state, t->has_exit, t->exit_code, t->attempts,
			   t->max_attempts, t->started, t->ended, now, t->message, t->parents,
			   t->command, t->inputs, t->outputs);
		if ((rc = store_step_done(st, S_TASK_INS, "insert task")) ==
		    SQLITE_CONSTRAINT_UNIQUE) {
			log_warnx("store: run %s: task id %s twice", run->id, t->id);
			return RF_INVAL;
		}
		if (rc != SQLITE_DONE)
			return store_rerr(rc);
	}
	if ((e = event_add(st, run->seq, -1, run->state, now, ev)) != RF_OK)
		return e;
	return store_commit(st);
}

enum rerr
store_run_create(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
		 const char *definition)
{
	struct event_rec ev;
	int64_t now = now_ms();
	enum rerr e;

	if (!store_state_ok(run->state) || ntasks < 0)
		return RF_INVAL;
	/* Commit what is batched on its own, so that a refused run cannot
	 * take it down with it. */
	if ((e = store_write_lock(st, 1)) != RF_OK)
		goto out;
	if ((e = runs_insert(st, run, tasks, ntasks, definition, now, &ev)) != RF_OK) {
		store_rollback(st);
		run->seq = 0;
		goto out;
	}
	run->updated = now;
	run->ntasks = ntasks;
	for (int i = 0; i < ntasks; i++)
		tasks[i].run_seq = run->seq;
	feed(st, &ev);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

/*
 * The row's state query (q) and its update (upd) are bound: reads the old
 * state, updates, and records an event when the state changed. Reading
 * the old state inside the write transaction makes the pair atomic even
 * against other processes.
 */
static enum rerr
change(struct store *st, int q, int upd, int64_t run_seq, int task_idx, int state, int64_t now)
{
	sqlite3_stmt *s = st->s[q];
	struct event_rec ev;
	enum rerr e;
	int rc, old = -1;

	if ((e = store_write_begin(st)) != RF_OK)
		goto out;
	e = RF_IO;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		old = sqlite3_column_int(s, 0);
	else if (rc == SQLITE_DONE)
		e = RF_NOENT;
	else
		store_db_fail(st, "read state");
	store_done(s);
	if (old < 0 || store_step_done(st, upd, "update") != SQLITE_DONE)
		goto out;
	if (old != state) {
		if (event_add(st, run_seq, task_idx, state, now, &ev) != RF_OK)
			goto out;
		feed(st, &ev);
	}
	e = write_end(st);
out:
	store_done(st->s[q]);
	store_done(st->s[upd]);
	return e;
}

enum rerr
store_run_update(struct store *st, const struct run_rec *r)
{
	int64_t now = now_ms();
	enum rerr e;

	if (!store_state_ok(r->state))
		return RF_INVAL;
	if ((e = store_write_lock(st, 0)) != RF_OK)
		goto out;
	store_bind(st, S_RUN_STATE, "I", r->seq);
	store_bind(st, S_RUN_UPD, "iiiIIIsI", r->state, r->prepared, r->owner, r->started, r->ended,
		   now, r->message, r->seq);
	e = change(st, S_RUN_STATE, S_RUN_UPD, r->seq, -1, r->state, now);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_task_update(struct store *st, const struct task_rec *t)
{
	int64_t now = now_ms();
	enum rerr e;

	if (!store_state_ok(t->state))
		return RF_INVAL;
	if ((e = store_write_lock(st, 0)) != RF_OK)
		goto out;
	store_bind(st, S_TASK_STATE, "Ii", t->run_seq, t->idx);
	store_bind(st, S_TASK_UPD, "iiiiiIIIsssIi", t->state, t->has_exit, t->exit_code,
		   t->attempts, t->max_attempts, t->started, t->ended, now, t->message, t->command,
		   t->inputs, t->run_seq, t->idx);
	e = change(st, S_TASK_STATE, S_TASK_UPD, t->run_seq, t->idx, t->state, now);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_attempt_put(struct store *st, int64_t run_seq, int idx, const struct attempt_rec *a)
{
	enum rerr e;

	if ((e = store_write_lock(st, 0)) == RF_OK) {
		store_bind(st, S_ATT_PUT, "IiiiiiIIs", run_seq, idx, a->n, a->state, a->has_exit,
			   a->exit_code, a->started, a->ended, a->message);
		if (store_step_done(st, S_ATT_PUT, "put attempt") == SQLITE_DONE)
			e = write_end(st);
		else
			e = RF_IO;
	}
	pthread_mutex_unlock(&st->mu);
	return e;
}
