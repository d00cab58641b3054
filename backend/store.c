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
#include <stdarg.h>
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
	"message, ntasks, "                                                                        \
	"(SELECT ifnull(max(e.seq), 0) FROM events e WHERE e.run_seq = runs.seq)"
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

/* Steps a statement that returns no rows, then resets it; the SQLite code. */
static int
step_done(struct store *st, int which, const char *what)
{
	int rc = sqlite3_step(st->s[which]);

	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_UNIQUE)
		db_fail(st, what);
	done(st->s[which]);
	return rc;
}

/*
 * Binds parameters 1.. by type: i int, I int64_t, s string (NULL binds "").
 * Strings are bound SQLITE_STATIC: done() drops them before the caller's
 * memory can go.
 */
static void
vbind(sqlite3_stmt *s, const char *types, va_list ap)
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

static void
bind(struct store *st, int which, const char *types, ...)
{
	va_list ap;

	va_start(ap, types);
	vbind(st->s[which], types, ap);
	va_end(ap);
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

static enum rerr
commit(struct store *st)
{
	int rc = SQLITE_DONE;

	for (int i = 0; !sqlite3_get_autocommit(st->db) && i < COMMIT_TRIES; i++) {
		/* On SQLITE_BUSY the transaction stays open, so trying again
		 * is safe; busy_timeout has usually waited already. */
		if ((rc = step_done(st, S_COMMIT, "commit")) != SQLITE_BUSY)
			break;
		usleep(20000);
	}
	if (rc != SQLITE_DONE && sqlite3_get_autocommit(st->db))
		log_warnx("store: %d writes lost", st->pending);
	if (rc == SQLITE_DONE || sqlite3_get_autocommit(st->db))
		st->pending = 0;
	return rc == SQLITE_DONE ? RF_OK : RF_IO;
}

static enum rerr
write_begin(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return RF_OK;
	st->pending = 0;
	return step_done(st, S_BEGIN, "begin") == SQLITE_DONE ? RF_OK : RF_IO;
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
	bind(st, S_EVENT_INS, "IiiI", run_seq, task_idx, state, t);
	if (step_done(st, S_EVENT_INS, "record event") != SQLITE_DONE)
		return RF_IO;
	ev->seq = sqlite3_last_insert_rowid(st->db);
	ev->run_seq = run_seq;
	ev->task_idx = task_idx;
	ev->state = state;
	ev->time = t;
	return RF_OK;
}

static int
exec_sql(struct store *st, const char *text)
{
	if (sqlite3_exec(st->db, text, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(st, text);
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

	if (pragma(st, "PRAGMA user_version", v, sizeof(v)) < 0)
		return -1;
	if (atoi(v) == 0) {
		/* Another process may be creating it too: decide under the write lock. */
		if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
			return -1;
		if (pragma(st, "PRAGMA user_version", v, sizeof(v)) < 0 ||
		    (atoi(v) == 0 && exec_sql(st, schema) < 0) || exec_sql(st, "COMMIT") < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (pragma(st, "PRAGMA user_version", v, sizeof(v)) < 0)
			return -1;
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
		if (st->db)
			db_fail(st, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK ||
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
runs_insert(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
	    const char *definition, int64_t now, struct event_rec *ev)
{
	const struct task_rec *t;
	enum rerr e;
	int rc;

	bind(st, S_RUN_INS, "sssiiiIIIIsis", run->id, run->name, run->config, run->state,
	     run->prepared, run->owner, run->created, run->started, run->ended, now, run->message,
	     ntasks, definition);
	if ((rc = step_done(st, S_RUN_INS, "insert run")) == SQLITE_CONSTRAINT_UNIQUE)
		return RF_EXIST;
	if (rc != SQLITE_DONE)
		return RF_IO;
	run->seq = sqlite3_last_insert_rowid(st->db);
	for (int i = 0; i < ntasks; i++) {
		t = &tasks[i];
		if (t->idx != i || t->state < 0 || t->state >= ST_COUNT) {
			log_warnx("store: run %s: bad task record %d", run->id, i);
			return RF_INVAL;
		}
		bind(st, S_TASK_INS, "IisssiiiiiIIIsssss", run->seq, t->idx, t->id, t->step,
		     t->task, t->state, t->has_exit, t->exit_code, t->attempts, t->max_attempts,
		     t->started, t->ended, now, t->message, t->parents, t->command, t->inputs,
		     t->outputs);
		if ((rc = step_done(st, S_TASK_INS, "insert task")) == SQLITE_CONSTRAINT_UNIQUE) {
			log_warnx("store: run %s: task id %s twice", run->id, t->id);
			return RF_INVAL;
		}
		if (rc != SQLITE_DONE)
			return RF_IO;
	}
	if ((e = event_add(st, run->seq, -1, run->state, now, ev)) != RF_OK)
		return e;
	return commit(st);
}

enum rerr
store_run_create(struct store *st, struct run_rec *run, struct task_rec *tasks, int ntasks,
		 const char *definition)
{
	struct event_rec ev;
	int64_t now = now_ms();
	enum rerr e;

	if (run->state < 0 || run->state >= ST_COUNT || ntasks < 0)
		return RF_INVAL;
	pthread_mutex_lock(&st->mu);
	/* Commit what is batched on its own, so that a refused run cannot
	 * take it down with it. */
	if ((e = commit(st)) != RF_OK || (e = write_begin(st)) != RF_OK)
		goto out;
	if ((e = runs_insert(st, run, tasks, ntasks, definition, now, &ev)) != RF_OK) {
		rollback(st);
		run->seq = 0;
		goto out;
	}
	run->updated = now;
	run->ntasks = ntasks;
	for (int i = 0; i < ntasks; i++)
		tasks[i].run_seq = run->seq;
	if (st->feed)
		st->feed(&ev, st->feed_arg);
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

/* Row readers: 0, or -1 on ENOMEM with nothing left allocated. */

static int
run_row(sqlite3_stmt *s, void *p)
{
	struct run_rec *r = p;

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
	/* Every change records an event: the latest one's seq is a counter
	 * that pollers compare (one index probe, events_run). */
	r->last_event = sqlite3_column_int64(s, 13);
	return (r->message = col_dup(s, 11)) ? 0 : -1;
}

static int
task_row(sqlite3_stmt *s, void *p)
{
	struct task_rec *t = p;

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

static int
attempt_row(sqlite3_stmt *s, void *p)
{
	struct attempt_rec *a = p;

	a->n = sqlite3_column_int(s, 0);
	a->state = sqlite3_column_int(s, 1);
	a->has_exit = sqlite3_column_int(s, 2);
	a->exit_code = sqlite3_column_int(s, 3);
	a->started = sqlite3_column_int64(s, 4);
	a->ended = sqlite3_column_int64(s, 5);
	return (a->message = col_dup(s, 6)) ? 0 : -1;
}

static int
event_row(sqlite3_stmt *s, void *p)
{
	struct event_rec *ev = p;

	ev->seq = sqlite3_column_int64(s, 0);
	ev->run_seq = sqlite3_column_int64(s, 1);
	ev->task_idx = sqlite3_column_int(s, 2);
	ev->state = sqlite3_column_int(s, 3);
	ev->time = sqlite3_column_int64(s, 4);
	return 0;
}

static void
run_free(void *p)
{
	run_rec_free(p);
}

static void
task_free(void *p)
{
	task_rec_free(p);
}

static void
attempt_free(void *p)
{
	free(((struct attempt_rec *)p)->message);
}

static enum rerr
run_counts(struct store *st, struct run_rec *r)
{
	sqlite3_stmt *s = st->s[S_COUNTS];
	int rc, state;

	memset(r->counts, 0, sizeof(r->counts));
	bind(st, S_COUNTS, "I", r->seq);
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

/* How a query's rows become records. */
struct rows {
	int (*fill)(sqlite3_stmt *, void *);
	void (*free)(void *);
	size_t size;
	int limit; /* records v holds; 0: v is malloc'd and grows */
	char *v;
	int counts; /* the records are runs: fill their task counts */
};

/*
 * Under the lock, binds the statement by types and reads its rows into
 * r->v. Returns the count, or -RF_IO / -RF_NOMEM with every record read so
 * far freed (and a grown array too).
 */
static int
query(struct store *st, int which, struct rows *r, const char *types, ...)
{
	sqlite3_stmt *s = st->s[which];
	int n = 0, cap = r->limit, rc = SQLITE_DONE, e = RF_NOMEM;
	va_list ap;
	char *nv;

	pthread_mutex_lock(&st->mu);
	va_start(ap, types);
	vbind(s, types, ap);
	va_end(ap);
	while ((r->limit == 0 || n < r->limit) && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(r->v, (size_t)cap, r->size)) == NULL)
				goto fail;
			r->v = nv;
		}
		if (r->fill(s, r->v + (size_t)n * r->size) < 0)
			goto fail;
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		e = db_fail(st, sql[which]);
		goto fail;
	}
	done(s);
	for (int i = 0; r->counts && i < n; i++)
		if ((e = run_counts(st, (struct run_rec *)r->v + i)) != RF_OK)
			goto fail;
	pthread_mutex_unlock(&st->mu);
	return n;
fail:
	done(s);
	pthread_mutex_unlock(&st->mu);
	while (r->free && n > 0)
		r->free(r->v + (size_t)--n * r->size);
	if (r->limit == 0) {
		free(r->v);
		r->v = NULL;
	}
	return -e;
}

/* The result of a query for one record: RF_OK, RF_NOENT or the error. */
static enum rerr
one(int n, struct rows *r)
{
	if (n <= 0)
		memset(r->v, 0, r->size);
	return n < 0 ? (enum rerr) - n : n == 0 ? RF_NOENT : RF_OK;
}

enum rerr
store_run_get(struct store *st, const char *id, struct run_rec *out)
{
	struct rows r = {run_row, run_free, sizeof(*out), 1, (char *)out, 1};

	return one(query(st, S_RUN_BY_ID, &r, "s", id), &r);
}

enum rerr
store_run_brief(struct store *st, int64_t seq, struct run_rec *out)
{
	struct rows r = {run_row, run_free, sizeof(*out), 1, (char *)out, 0};

	return one(query(st, S_RUN_BY_SEQ, &r, "I", seq), &r);
}

enum rerr
store_run_get_seq(struct store *st, int64_t seq, struct run_rec *out)
{
	struct rows r = {run_row, run_free, sizeof(*out), 1, (char *)out, 1};

	return one(query(st, S_RUN_BY_SEQ, &r, "I", seq), &r);
}

static int
text_row(sqlite3_stmt *s, void *p)
{
	return (*(char **)p = col_dup(s, 0)) ? 0 : -1;
}

enum rerr
store_run_definition(struct store *st, int64_t seq, char **text)
{
	struct rows r = {text_row, NULL, sizeof(*text), 1, (char *)text, 0};

	return one(query(st, S_RUN_DEFN, &r, "I", seq), &r);
}

int
store_run_list(struct store *st, int64_t after, int limit, struct run_rec *out)
{
	struct rows r = {run_row, run_free, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_RUN_LIST, &r, "Ii", after, limit) : 0;

	return n < 0 ? -1 : n;
}

int
store_run_list_active(struct store *st, struct run_rec **out)
{
	/* Few runs are active, and recovery wants their counts. */
	struct rows r = {run_row, run_free, sizeof(**out), 0, NULL, 1};
	int n = query(st, S_RUN_ACTIVE, &r, "iii", ST_WAITING, ST_RUNNING, ST_UNKNOWN);

	*out = (struct run_rec *)r.v;
	return n < 0 ? -1 : n;
}

enum rerr
store_task_get(struct store *st, int64_t run_seq, int idx, struct task_rec *out)
{
	struct rows r = {task_row, task_free, sizeof(*out), 1, (char *)out, 0};

	return one(query(st, S_TASK_GET, &r, "Ii", run_seq, idx), &r);
}

enum rerr
store_task_find(struct store *st, int64_t run_seq, const char *id, struct task_rec *out)
{
	struct rows r = {task_row, task_free, sizeof(*out), 1, (char *)out, 0};

	return one(query(st, S_TASK_FIND, &r, "Is", run_seq, id), &r);
}

int
store_task_list(struct store *st, int64_t run_seq, int from, int limit, struct task_rec *out)
{
	struct rows r = {task_row, task_free, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_TASK_LIST, &r, "Iii", run_seq, from, limit) : 0;

	return n < 0 ? -1 : n;
}

int
store_attempt_list(struct store *st, int64_t run_seq, int idx, struct attempt_rec **out)
{
	struct rows r = {attempt_row, attempt_free, sizeof(**out), 0, NULL, 0};
	int n = query(st, S_ATT_LIST, &r, "Ii", run_seq, idx);

	*out = (struct attempt_rec *)r.v;
	return n < 0 ? -1 : n;
}

int
store_event_list(struct store *st, int64_t run_seq, int64_t after, int limit, struct event_rec *out)
{
	struct rows r = {event_row, NULL, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_EVENT_LIST, &r, "IIi", run_seq, after, limit) : 0;

	return n < 0 ? -1 : n;
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
	enum rerr e = RF_IO;
	int rc, old = -1;

	if (write_begin(st) != RF_OK)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		old = sqlite3_column_int(s, 0);
	else if (rc == SQLITE_DONE)
		e = RF_NOENT;
	else
		db_fail(st, "read state");
	done(s);
	if (old < 0 || step_done(st, upd, "update") != SQLITE_DONE)
		goto out;
	if (old != state) {
		if (event_add(st, run_seq, task_idx, state, now, &ev) != RF_OK)
			goto out;
		if (st->feed)
			st->feed(&ev, st->feed_arg);
	}
	e = write_end(st);
out:
	done(st->s[q]);
	done(st->s[upd]);
	return e;
}

enum rerr
store_run_update(struct store *st, const struct run_rec *r)
{
	int64_t now = now_ms();
	enum rerr e;

	if (r->state < 0 || r->state >= ST_COUNT)
		return RF_INVAL;
	pthread_mutex_lock(&st->mu);
	bind(st, S_RUN_STATE, "I", r->seq);
	bind(st, S_RUN_UPD, "iiiIIIsI", r->state, r->prepared, r->owner, r->started, r->ended, now,
	     r->message, r->seq);
	e = change(st, S_RUN_STATE, S_RUN_UPD, r->seq, -1, r->state, now);
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_task_update(struct store *st, const struct task_rec *t)
{
	int64_t now = now_ms();
	enum rerr e;

	if (t->state < 0 || t->state >= ST_COUNT)
		return RF_INVAL;
	pthread_mutex_lock(&st->mu);
	bind(st, S_TASK_STATE, "Ii", t->run_seq, t->idx);
	bind(st, S_TASK_UPD, "iiiiiIIIsssIi", t->state, t->has_exit, t->exit_code, t->attempts,
	     t->max_attempts, t->started, t->ended, now, t->message, t->command, t->inputs,
	     t->run_seq, t->idx);
	e = change(st, S_TASK_STATE, S_TASK_UPD, t->run_seq, t->idx, t->state, now);
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_attempt_put(struct store *st, int64_t run_seq, int idx, const struct attempt_rec *a)
{
	enum rerr e;

	pthread_mutex_lock(&st->mu);
	if ((e = write_begin(st)) == RF_OK) {
		bind(st, S_ATT_PUT, "IiiiiiIIs", run_seq, idx, a->n, a->state, a->has_exit,
		     a->exit_code, a->started, a->ended, a->message);
		if (step_done(st, S_ATT_PUT, "put attempt") == SQLITE_DONE)
			e = write_end(st);
		else
			e = RF_IO;
	}
	pthread_mutex_unlock(&st->mu);
	return e;
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
