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
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define SCHEMA_VERSION 1
/* Bounds the WAL and what a crash can lose when nobody flushes. */
#define MAX_PENDING  4096
#define COMMIT_TRIES 10

/*
 * tasks keeps its rowid: its rows carry commands and resolved inputs that
 * easily outgrow the small rows WITHOUT ROWID suits. attempts rows are
 * small and only ever reached by their key. definition is the last column
 * of runs so that reading the others never walks its overflow pages.
 */
static const char schema[] =
    "CREATE TABLE runs(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, config TEXT NOT NULL, state INTEGER NOT NULL,"
    " prepared INTEGER NOT NULL, owner INTEGER NOT NULL, created INTEGER NOT NULL,"
    " started INTEGER NOT NULL, ended INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " message TEXT, ntasks INTEGER NOT NULL, definition TEXT);"
    "CREATE INDEX runs_state ON runs(state);"
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
    " task_idx INTEGER NOT NULL, state INTEGER NOT NULL, time INTEGER NOT NULL);"
    "CREATE INDEX events_run ON events(run_seq, seq);"
    "PRAGMA user_version = 1;";

#define RUN_COLS                                                                                   \
	"seq, id, name, config, state, prepared, owner, created, started, ended, updated, "        \
	"message, ntasks"
#define TASK_COLS                                                                                  \
	"run_seq, idx, id, step, task, state, has_exit, exit_code, attempts, max_attempts, "       \
	"started, ended, updated, message, parents, command, inputs, outputs"

enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_RUN_INS,
	S_TASK_INS,
	S_EVENT_INS,
	S_RUN_BY_ID,
	S_RUN_BY_SEQ,
	S_RUN_LIST,
	S_RUN_ACTIVE,
	S_RUN_DEFN,
	S_RUN_STATE,
	S_RUN_UPD,
	S_COUNTS,
	S_TASK_GET,
	S_TASK_FIND,
	S_TASK_LIST,
	S_TASK_STATE,
	S_TASK_UPD,
	S_ATT_PUT,
	S_ATT_LIST,
	S_EVENT_LIST,
	S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_RUN_INS] = "INSERT INTO runs(id, name, config, state, prepared, owner, created, started,"
		  " ended, updated, message, ntasks, definition)"
		  " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_TASK_INS] = "INSERT INTO tasks(" TASK_COLS ")"
		   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_EVENT_INS] = "INSERT INTO events(run_seq, task_idx, state, time) VALUES(?, ?, ?, ?)",
    [S_RUN_BY_ID] = "SELECT " RUN_COLS " FROM runs WHERE id = ?",
    [S_RUN_BY_SEQ] = "SELECT " RUN_COLS " FROM runs WHERE seq = ?",
    [S_RUN_LIST] = "SELECT " RUN_COLS " FROM runs WHERE seq > ? ORDER BY seq LIMIT ?",
    [S_RUN_ACTIVE] = "SELECT " RUN_COLS " FROM runs WHERE state IN (?, ?, ?) ORDER BY seq",
    [S_RUN_DEFN] = "SELECT definition FROM runs WHERE seq = ?",
    [S_RUN_STATE] = "SELECT state FROM runs WHERE seq = ?",
    [S_RUN_UPD] = "UPDATE runs SET state = ?, prepared = ?, owner = ?, started = ?, ended = ?,"
		  " updated = ?, message = ? WHERE seq = ?",
    [S_COUNTS] = "SELECT state, count(*) FROM tasks WHERE run_seq = ? GROUP BY state",
    [S_TASK_GET] = "SELECT " TASK_COLS " FROM tasks WHERE run_seq = ? AND idx = ?",
    [S_TASK_FIND] = "SELECT " TASK_COLS " FROM tasks WHERE run_seq = ? AND id = ?",
    [S_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks WHERE run_seq = ? AND idx >= ?"
		    " ORDER BY idx LIMIT ?",
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
};

struct store {
	pthread_mutex_t mu;
	sqlite3 *db;
	sqlite3_stmt *s[S_COUNT];
	int pending; /* writes in the open transaction */
	store_feed_fn feed;
	void *feed_arg;
};

static enum rerr
db_fail(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return RF_IO;
}

/* Hands a statement back clean: no open cursor (which would pin a read
 * snapshot) and no bindings pointing at the caller's memory. */
static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no rows, then resets it. */
static int
step_done(struct store *st, int which, const char *what)
{
	int rc = sqlite3_step(st->s[which]);

	if (rc != SQLITE_DONE)
		db_fail(st, what);
	done(st->s[which]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
col_copy(char *dst, size_t n, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	snprintf(dst, n, "%s", v ? (const char *)v : "");
}

static char *
col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	return strdup(v ? (const char *)v : "");
}

static void
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	/* SQLITE_STATIC: done() drops the binding before the caller's string can go. */
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

static enum rerr
commit(struct store *st)
{
	int rc = SQLITE_DONE;

	if (sqlite3_get_autocommit(st->db)) {
		st->pending = 0;
		return RF_OK;
	}
	for (int i = 0; i < COMMIT_TRIES; i++) {
		rc = sqlite3_step(st->s[S_COMMIT]);
		sqlite3_reset(st->s[S_COMMIT]);
		/* busy_timeout has already waited; a reader that outlasted it may
		 * still be checkpointing, so give it a little more. */
		if (rc != SQLITE_BUSY)
			break;
		usleep(20000);
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "commit");
		if (sqlite3_get_autocommit(st->db)) {
			log_warnx("store: %d writes lost", st->pending);
			st->pending = 0;
		}
		return RF_IO;
	}
	st->pending = 0;
	return RF_OK;
}

static enum rerr
write_begin(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return RF_OK;
	st->pending = 0;
	return step_done(st, S_BEGIN, "begin") == 0 ? RF_OK : RF_IO;
}

static enum rerr
write_end(struct store *st)
{
	if (++st->pending <= MAX_PENDING)
		return RF_OK;
	return commit(st);
}

static void
rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		step_done(st, S_ROLLBACK, "rollback");
	st->pending = 0;
}

static enum rerr
event_add(struct store *st, int64_t run_seq, int task_idx, int state, int64_t t,
	  struct event_rec *ev)
{
	sqlite3_stmt *s = st->s[S_EVENT_INS];

	sqlite3_bind_int64(s, 1, run_seq);
	sqlite3_bind_int(s, 2, task_idx);
	sqlite3_bind_int(s, 3, state);
	sqlite3_bind_int64(s, 4, t);
	if (step_done(st, S_EVENT_INS, "record event") < 0)
		return RF_IO;
	ev->seq = sqlite3_last_insert_rowid(st->db);
	ev->run_seq = run_seq;
	ev->task_idx = task_idx;
	ev->state = state;
	ev->time = t;
	return RF_OK;
}

static void
feed(struct store *st, const struct event_rec *ev)
{
	if (st->feed)
		st->feed(ev, st->feed_arg);
}

static int
exec_sql(struct store *st, const char *text, const char *what)
{
	if (sqlite3_exec(st->db, text, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(st, what);
		return -1;
	}
	return 0;
}

/* One-row pragma or query, read as text into out. */
static int
query_text(struct store *st, const char *text, char *out, size_t n)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		db_fail(st, text);
		goto out;
	}
	col_copy(out, n, s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int
schema_init(struct store *st)
{
	char v[32];

	if (query_text(st, "PRAGMA user_version", v, sizeof(v)) < 0)
		return -1;
	if (atoi(v) == 0) {
		/* Another process may be creating it too: decide under the write lock. */
		if (exec_sql(st, "BEGIN IMMEDIATE", "begin") < 0)
			return -1;
		if (query_text(st, "PRAGMA user_version", v, sizeof(v)) < 0 ||
		    (atoi(v) == 0 && exec_sql(st, schema, "create schema") < 0) ||
		    exec_sql(st, "COMMIT", "commit schema") < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		snprintf(v, sizeof(v), "%d", SCHEMA_VERSION);
	}
	if (atoi(v) > SCHEMA_VERSION) {
		log_warnx("store: database schema %s is newer than this runfs (%d)", v,
			  SCHEMA_VERSION);
		return -1;
	}
	/* Migrations from older versions go here. */
	return 0;
}

int
store_open(const char *datadir, struct store **out)
{
	struct store *st = NULL;
	char path[PATH_MAX], mode[16];
	int fd, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	enum rerr e = RF_IO;

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
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return RF_NOMEM;
	if (pthread_mutex_init(&st->mu, NULL) != 0) {
		free(st);
		return RF_NOMEM;
	}
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		if (st->db == NULL) {
			e = RF_NOMEM;
			goto fail;
		}
		db_fail(st, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK ||
	    query_text(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) < 0 ||
	    exec_sql(st, "PRAGMA synchronous = NORMAL", "synchronous") < 0 || schema_init(st) < 0)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		log_warnx("store: %s: journal mode is %s, not wal", path, mode);
		goto fail;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->s[i],
				       NULL) != SQLITE_OK) {
			db_fail(st, sql[i]);
			goto fail;
		}
	}
	*out = st;
	return RF_OK;
fail:
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->s[i]);
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st);
	return e;
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
	if (commit(st) != RF_OK)
		rollback(st);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->s[i]);
	if (sqlite3_close(st->db) != SQLITE_OK)
		db_fail(st, "close");
	pthread_mutex_unlock(&st->mu);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

enum rerr
store_flush(struct store *st)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	e = commit(st);
	pthread_mutex_unlock(&st->mu);
	return e;
}

static enum rerr
task_insert(struct store *st, int64_t run_seq, const struct task_rec *t, int64_t now)
{
	sqlite3_stmt *s = st->s[S_TASK_INS];
	int rc;

	sqlite3_bind_int64(s, 1, run_seq);
	sqlite3_bind_int(s, 2, t->idx);
	bind_str(s, 3, t->id);
	bind_str(s, 4, t->step);
	bind_str(s, 5, t->task);
	sqlite3_bind_int(s, 6, t->state);
	sqlite3_bind_int(s, 7, t->has_exit);
	sqlite3_bind_int(s, 8, t->exit_code);
	sqlite3_bind_int(s, 9, t->attempts);
	sqlite3_bind_int(s, 10, t->max_attempts);
	sqlite3_bind_int64(s, 11, t->started);
	sqlite3_bind_int64(s, 12, t->ended);
	sqlite3_bind_int64(s, 13, now);
	bind_str(s, 14, t->message);
	bind_str(s, 15, t->parents);
	bind_str(s, 16, t->command);
	bind_str(s, 17, t->inputs);
	bind_str(s, 18, t->outputs);
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		db_fail(st, "insert task");
	done(s);
	if (rc == SQLITE_DONE)
		return RF_OK;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? RF_INVAL : RF_IO;
}

enum rerr
store_run_create(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
		 const char *definition)
{
	sqlite3_stmt *s = st->s[S_RUN_INS];
	struct event_rec ev;
	int64_t now = now_ms(), seq;
	enum rerr e;
	int rc;

	if (run->state < 0 || run->state >= ST_COUNT || ntasks < 0)
		return RF_INVAL;
	pthread_mutex_lock(&st->mu);
	/* Whatever is pending goes out with this commit anyway. */
	if ((e = write_begin(st)) != RF_OK)
		goto out;
	bind_str(s, 1, run->id);
	bind_str(s, 2, run->name);
	bind_str(s, 3, run->config);
	sqlite3_bind_int(s, 4, run->state);
	sqlite3_bind_int(s, 5, run->prepared);
	sqlite3_bind_int(s, 6, run->owner);
	sqlite3_bind_int64(s, 7, run->created);
	sqlite3_bind_int64(s, 8, run->started);
	sqlite3_bind_int64(s, 9, run->ended);
	sqlite3_bind_int64(s, 10, now);
	bind_str(s, 11, run->message);
	sqlite3_bind_int(s, 12, ntasks);
	bind_str(s, 13, definition);
	rc = sqlite3_step(s);
	done(s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		e = RF_EXIST;
		goto undo;
	}
	if (rc != SQLITE_DONE) {
		e = db_fail(st, "insert run");
		goto undo;
	}
	seq = sqlite3_last_insert_rowid(st->db);
	for (int i = 0; i < ntasks; i++) {
		if (tasks[i].idx != i || tasks[i].state < 0 || tasks[i].state >= ST_COUNT) {
			log_warnx("store: run %s: bad task record %d", run->id, i);
			e = RF_INVAL;
			goto undo;
		}
		if ((e = task_insert(st, seq, &tasks[i], now)) != RF_OK)
			goto undo;
	}
	if ((e = event_add(st, seq, -1, run->state, now, &ev)) != RF_OK)
		goto undo;
	if ((e = commit(st)) != RF_OK)
		goto undo;
	run->seq = seq;
	run->updated = now;
	run->ntasks = ntasks;
	for (int i = 0; i < ntasks; i++)
		tasks[i].run_seq = seq;
	feed(st, &ev);
	goto out;
undo:
	/* This also drops writes batched before us: they were meant to be
	 * committed here, and an error this deep means the database is sick. */
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

static void
counts_zero(struct run_rec *r)
{
	memset(r->counts, 0, sizeof(r->counts));
}

/* Fills r from a row of RUN_COLS; 0 or -1 on ENOMEM. */
static int
run_row(sqlite3_stmt *s, struct run_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(s, 0);
	col_copy(r->id, sizeof(r->id), s, 1);
	col_copy(r->name, sizeof(r->name), s, 2);
	col_copy(r->config, sizeof(r->config), s, 3);
	r->state = sqlite3_column_int(s, 4);
	r->prepared = sqlite3_column_int(s, 5);
	r->owner = sqlite3_column_int(s, 6);
	r->created = sqlite3_column_int64(s, 7);
	r->started = sqlite3_column_int64(s, 8);
	r->ended = sqlite3_column_int64(s, 9);
	r->updated = sqlite3_column_int64(s, 10);
	r->ntasks = sqlite3_column_int(s, 12);
	return (r->message = col_dup(s, 11)) ? 0 : -1;
}

static enum rerr
run_counts(struct store *st, struct run_rec *r)
{
	sqlite3_stmt *s = st->s[S_COUNTS];
	int rc, state;

	counts_zero(r);
	sqlite3_bind_int64(s, 1, r->seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = sqlite3_column_int(s, 0);
		if (state >= 0 && state < ST_COUNT)
			r->counts[state] = sqlite3_column_int(s, 1);
	}
	if (rc != SQLITE_DONE)
		db_fail(st, "count tasks");
	done(s);
	return rc == SQLITE_DONE ? RF_OK : RF_IO;
}

/* The statement is bound to select one run; fills out with counts. */
static enum rerr
run_get(struct store *st, sqlite3_stmt *s, struct run_rec *out)
{
	enum rerr e = RF_OK;
	int rc = sqlite3_step(s);

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_DONE)
		e = RF_NOENT;
	else if (rc != SQLITE_ROW)
		e = db_fail(st, "get run");
	else if (run_row(s, out) < 0)
		e = RF_NOMEM;
	done(s);
	if (e == RF_OK && (e = run_counts(st, out)) != RF_OK)
		run_rec_free(out);
	return e;
}

enum rerr
store_run_get(struct store *st, const char *id, struct run_rec *out)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	bind_str(st->s[S_RUN_BY_ID], 1, id);
	e = run_get(st, st->s[S_RUN_BY_ID], out);
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_run_get_seq(struct store *st, int64_t seq, struct run_rec *out)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(st->s[S_RUN_BY_SEQ], 1, seq);
	e = run_get(st, st->s[S_RUN_BY_SEQ], out);
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_run_definition(struct store *st, int64_t seq, char **text)
{
	sqlite3_stmt *s = st->s[S_RUN_DEFN];
	enum rerr e = RF_OK;
	int rc;

	*text = NULL;
	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(s, 1, seq);
	if ((rc = sqlite3_step(s)) == SQLITE_DONE)
		e = RF_NOENT;
	else if (rc != SQLITE_ROW)
		e = db_fail(st, "get definition");
	else if ((*text = col_dup(s, 0)) == NULL)
		e = RF_NOMEM;
	done(s);
	pthread_mutex_unlock(&st->mu);
	return e;
}

int
store_run_list(struct store *st, int64_t after, int limit, struct run_rec *out)
{
	sqlite3_stmt *s = st->s[S_RUN_LIST];
	int n = 0, rc;

	if (limit <= 0)
		return 0;
	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit);
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (run_row(s, &out[n]) < 0) {
			run_rec_free(&out[n]);
			goto fail;
		}
		n++;
	}
	if (n < limit && rc != SQLITE_DONE) {
		db_fail(st, "list runs");
		goto fail;
	}
	done(s);
	pthread_mutex_unlock(&st->mu);
	return n;
fail:
	done(s);
	pthread_mutex_unlock(&st->mu);
	while (n > 0)
		run_rec_free(&out[--n]);
	return -1;
}

int
store_run_list_active(struct store *st, struct run_rec **out)
{
	sqlite3_stmt *s = st->s[S_RUN_ACTIVE];
	struct run_rec *v = NULL, *nv;
	int n = 0, cap = 0, rc;

	*out = NULL;
	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int(s, 1, ST_WAITING);
	sqlite3_bind_int(s, 2, ST_RUNNING);
	sqlite3_bind_int(s, 3, ST_UNKNOWN);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, (size_t)cap, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		if (run_row(s, &v[n]) < 0) {
			run_rec_free(&v[n]);
			goto fail;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "list active runs");
		goto fail;
	}
	done(s);
	/* Few runs are active, and recovery wants their counts. */
	for (int i = 0; i < n; i++)
		if (run_counts(st, &v[i]) != RF_OK)
			goto fail;
	pthread_mutex_unlock(&st->mu);
	*out = v;
	return n;
fail:
	done(s);
	pthread_mutex_unlock(&st->mu);
	while (n > 0)
		run_rec_free(&v[--n]);
	free(v);
	return -1;
}

/* Fills t from a row of TASK_COLS; 0 or -1 on ENOMEM (t then freed). */
static int
task_row(sqlite3_stmt *s, struct task_rec *t)
{
	memset(t, 0, sizeof(*t));
	t->run_seq = sqlite3_column_int64(s, 0);
	t->idx = sqlite3_column_int(s, 1);
	col_copy(t->id, sizeof(t->id), s, 2);
	col_copy(t->step, sizeof(t->step), s, 3);
	col_copy(t->task, sizeof(t->task), s, 4);
	t->state = sqlite3_column_int(s, 5);
	t->has_exit = sqlite3_column_int(s, 6);
	t->exit_code = sqlite3_column_int(s, 7);
	t->attempts = sqlite3_column_int(s, 8);
	t->max_attempts = sqlite3_column_int(s, 9);
	t->started = sqlite3_column_int64(s, 10);
	t->ended = sqlite3_column_int64(s, 11);
	t->updated = sqlite3_column_int64(s, 12);
	if ((t->message = col_dup(s, 13)) == NULL || (t->parents = col_dup(s, 14)) == NULL ||
	    (t->command = col_dup(s, 15)) == NULL || (t->inputs = col_dup(s, 16)) == NULL ||
	    (t->outputs = col_dup(s, 17)) == NULL) {
		task_rec_free(t);
		return -1;
	}
	return 0;
}

static enum rerr
task_get(struct store *st, sqlite3_stmt *s, struct task_rec *out)
{
	enum rerr e = RF_OK;
	int rc = sqlite3_step(s);

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_DONE)
		e = RF_NOENT;
	else if (rc != SQLITE_ROW)
		e = db_fail(st, "get task");
	else if (task_row(s, out) < 0)
		e = RF_NOMEM;
	done(s);
	return e;
}

enum rerr
store_task_get(struct store *st, int64_t run_seq, int idx, struct task_rec *out)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(st->s[S_TASK_GET], 1, run_seq);
	sqlite3_bind_int(st->s[S_TASK_GET], 2, idx);
	e = task_get(st, st->s[S_TASK_GET], out);
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_task_find(struct store *st, int64_t run_seq, const char *id, struct task_rec *out)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(st->s[S_TASK_FIND], 1, run_seq);
	bind_str(st->s[S_TASK_FIND], 2, id);
	e = task_get(st, st->s[S_TASK_FIND], out);
	pthread_mutex_unlock(&st->mu);
	return e;
}

int
store_task_list(struct store *st, int64_t run_seq, int from, int limit, struct task_rec *out)
{
	sqlite3_stmt *s = st->s[S_TASK_LIST];
	int n = 0, rc;

	if (limit <= 0)
		return 0;
	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(s, 1, run_seq);
	sqlite3_bind_int(s, 2, from);
	sqlite3_bind_int(s, 3, limit);
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (task_row(s, &out[n]) < 0)
			goto fail;
		n++;
	}
	if (n < limit && rc != SQLITE_DONE) {
		db_fail(st, "list tasks");
		goto fail;
	}
	done(s);
	pthread_mutex_unlock(&st->mu);
	return n;
fail:
	done(s);
	pthread_mutex_unlock(&st->mu);
	while (n > 0)
		task_rec_free(&out[--n]);
	return -1;
}

int
store_attempt_list(struct store *st, int64_t run_seq, int idx, struct attempt_rec **out)
{
	sqlite3_stmt *s = st->s[S_ATT_LIST];
	struct attempt_rec *v = NULL, *nv, *a;
	int n = 0, cap = 0, rc;

	*out = NULL;
	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(s, 1, run_seq);
	sqlite3_bind_int(s, 2, idx);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			if ((nv = reallocarray(v, (size_t)cap, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		a = &v[n];
		a->n = sqlite3_column_int(s, 0);
		a->state = sqlite3_column_int(s, 1);
		a->has_exit = sqlite3_column_int(s, 2);
		a->exit_code = sqlite3_column_int(s, 3);
		a->started = sqlite3_column_int64(s, 4);
		a->ended = sqlite3_column_int64(s, 5);
		if ((a->message = col_dup(s, 6)) == NULL)
			goto fail;
		n++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "list attempts");
		goto fail;
	}
	done(s);
	pthread_mutex_unlock(&st->mu);
	*out = v;
	return n;
fail:
	done(s);
	pthread_mutex_unlock(&st->mu);
	attempt_list_free(v, n);
	return -1;
}

/* Reads the stored state of one row: RF_OK, RF_NOENT or RF_IO. */
static enum rerr
old_state(struct store *st, int which, int *state)
{
	sqlite3_stmt *s = st->s[which];
	enum rerr e = RF_OK;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*state = sqlite3_column_int(s, 0);
	else if (rc == SQLITE_DONE)
		e = RF_NOENT;
	else
		e = db_fail(st, "read state");
	done(s);
	return e;
}

enum rerr
store_run_update(struct store *st, const struct run_rec *run)
{
	sqlite3_stmt *s = st->s[S_RUN_UPD];
	struct event_rec ev;
	int64_t now = now_ms();
	enum rerr e;
	int old;

	if (run->state < 0 || run->state >= ST_COUNT)
		return RF_INVAL;
	pthread_mutex_lock(&st->mu);
	if ((e = write_begin(st)) != RF_OK)
		goto out;
	sqlite3_bind_int64(st->s[S_RUN_STATE], 1, run->seq);
	if ((e = old_state(st, S_RUN_STATE, &old)) != RF_OK)
		goto out;
	sqlite3_bind_int(s, 1, run->state);
	sqlite3_bind_int(s, 2, run->prepared);
	sqlite3_bind_int(s, 3, run->owner);
	sqlite3_bind_int64(s, 4, run->started);
	sqlite3_bind_int64(s, 5, run->ended);
	sqlite3_bind_int64(s, 6, now);
	bind_str(s, 7, run->message);
	sqlite3_bind_int64(s, 8, run->seq);
	e = RF_IO;
	if (step_done(st, S_RUN_UPD, "update run") < 0)
		goto out;
	if (old != run->state) {
		if (event_add(st, run->seq, -1, run->state, now, &ev) != RF_OK)
			goto out;
		feed(st, &ev);
	}
	e = write_end(st);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_task_update(struct store *st, const struct task_rec *t)
{
	sqlite3_stmt *s = st->s[S_TASK_UPD];
	struct event_rec ev;
	int64_t now = now_ms();
	enum rerr e;
	int old;

	if (t->state < 0 || t->state >= ST_COUNT)
		return RF_INVAL;
	pthread_mutex_lock(&st->mu);
	if ((e = write_begin(st)) != RF_OK)
		goto out;
	sqlite3_bind_int64(st->s[S_TASK_STATE], 1, t->run_seq);
	sqlite3_bind_int(st->s[S_TASK_STATE], 2, t->idx);
	if ((e = old_state(st, S_TASK_STATE, &old)) != RF_OK)
		goto out;
	sqlite3_bind_int(s, 1, t->state);
	sqlite3_bind_int(s, 2, t->has_exit);
	sqlite3_bind_int(s, 3, t->exit_code);
	sqlite3_bind_int(s, 4, t->attempts);
	sqlite3_bind_int(s, 5, t->max_attempts);
	sqlite3_bind_int64(s, 6, t->started);
	sqlite3_bind_int64(s, 7, t->ended);
	sqlite3_bind_int64(s, 8, now);
	bind_str(s, 9, t->message);
	bind_str(s, 10, t->command);
	bind_str(s, 11, t->inputs);
	sqlite3_bind_int64(s, 12, t->run_seq);
	sqlite3_bind_int(s, 13, t->idx);
	e = RF_IO;
	if (step_done(st, S_TASK_UPD, "update task") < 0)
		goto out;
	if (old != t->state) {
		if (event_add(st, t->run_seq, t->idx, t->state, now, &ev) != RF_OK)
			goto out;
		feed(st, &ev);
	}
	e = write_end(st);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_attempt_put(struct store *st, int64_t run_seq, int idx, const struct attempt_rec *a)
{
	sqlite3_stmt *s = st->s[S_ATT_PUT];
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	if ((e = write_begin(st)) != RF_OK)
		goto out;
	sqlite3_bind_int64(s, 1, run_seq);
	sqlite3_bind_int(s, 2, idx);
	sqlite3_bind_int(s, 3, a->n);
	sqlite3_bind_int(s, 4, a->state);
	sqlite3_bind_int(s, 5, a->has_exit);
	sqlite3_bind_int(s, 6, a->exit_code);
	sqlite3_bind_int64(s, 7, a->started);
	sqlite3_bind_int64(s, 8, a->ended);
	bind_str(s, 9, a->message);
	if (step_done(st, S_ATT_PUT, "put attempt") < 0)
		e = RF_IO;
	else
		e = write_end(st);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

int
store_event_list(struct store *st, int64_t run_seq, int64_t after, int limit, struct event_rec *out)
{
	sqlite3_stmt *s = st->s[S_EVENT_LIST];
	int n = 0, rc = SQLITE_DONE;

	if (limit <= 0)
		return 0;
	pthread_mutex_lock(&st->mu);
	sqlite3_bind_int64(s, 1, run_seq);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit);
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		out[n].seq = sqlite3_column_int64(s, 0);
		out[n].run_seq = sqlite3_column_int64(s, 1);
		out[n].task_idx = sqlite3_column_int(s, 2);
		out[n].state = sqlite3_column_int(s, 3);
		out[n].time = sqlite3_column_int64(s, 4);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_fail(st, "list events");
		n = -1;
	}
	done(s);
	pthread_mutex_unlock(&st->mu);
	return n;
}

void
run_rec_free(struct run_rec *r)
{
	free(r->message);
	r->message = NULL;
}

void
task_rec_free(struct task_rec *t)
{
	free(t->message);
	free(t->parents);
	free(t->command);
	free(t->inputs);
	free(t->outputs);
	t->message = t->parents = t->command = t->inputs = t->outputs = NULL;
}

void
attempt_list_free(struct attempt_rec *a, int n)
{
	for (int i = 0; a && i < n; i++)
		free(a[i].message);
	free(a);
}
