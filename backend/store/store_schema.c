/*
 * The store's schema, and its upgrades from every earlier version: a new
 * store gets the current schema at once, an old one is upgraded in one
 * transaction when it is opened, and a newer one is refused.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

#define SCHEMA_VERSION 8

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
 * The cache's record of a task run with "cache" (engine/cache.c): its key,
 * what went into it, and for a hit where it came from, as JSON. A row, not
 * a file: making an inode was the dearest step of a cache hit.
 */
#define CACHE_KEYS                                                                                 \
	"CREATE TABLE cache_keys(run_seq INTEGER NOT NULL, idx INTEGER NOT NULL,"                  \
	" record TEXT NOT NULL, PRIMARY KEY(run_seq, idx)) WITHOUT ROWID;"

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
#define RUNS_COLUMNS                                                                               \
	"(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"                         \
	" name TEXT NOT NULL, config TEXT NOT NULL, state INTEGER NOT NULL,"                       \
	" prepared INTEGER NOT NULL, owner INTEGER NOT NULL, created INTEGER NOT NULL,"            \
	" started INTEGER NOT NULL, ended INTEGER NOT NULL, updated INTEGER NOT NULL,"             \
	" message TEXT, ntasks INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,"                 \
	" rerun INTEGER NOT NULL DEFAULT 0)"
/*
 * runs numbers its rows with AUTOINCREMENT: a deleted run's seq must never
 * come back, since inode numbers are made of it and the kernel may keep a
 * run's attributes. (events keep theirs another way: store_delete.c.)
 */
static const char schema[] =
    "CREATE TABLE runs" RUNS_COLUMNS ";"
    "CREATE INDEX runs_state ON runs(state);"
    "CREATE TABLE definitions(run_seq INTEGER PRIMARY KEY, text TEXT NOT NULL, normal TEXT);"
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
    " started INTEGER NOT NULL, ended INTEGER NOT NULL, message TEXT, usage TEXT,"
    " u_wall REAL, u_user REAL, u_sys REAL, u_rss INTEGER,"
    " PRIMARY KEY(run_seq, idx, n)) WITHOUT ROWID;"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, run_seq INTEGER NOT NULL,"
    " task_idx INTEGER NOT NULL, state INTEGER NOT NULL, time INTEGER NOT NULL,"
    " origin INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX events_run ON events(run_seq, seq);"
    "CREATE TABLE requests(seq INTEGER PRIMARY KEY,"
    " run_seq INTEGER NOT NULL, verb INTEGER NOT NULL);" CACHE_KEYS DONE_TRIGGERS
    "PRAGMA user_version = 8;";

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
    /* Version 5: a definition's normalized form (model/normal.c), so that a
     * run is parsed once, at submit. Runs recorded before have none and
     * are parsed from their text. */
    [4] = "ALTER TABLE definitions ADD COLUMN normal TEXT;"
	  "PRAGMA user_version = 5;",
    /* Version 6: what each attempt used (tasks/<t>/usage). */
    [5] =
	"ALTER TABLE attempts ADD COLUMN usage TEXT;"
	"ALTER TABLE attempts ADD COLUMN u_wall REAL; ALTER TABLE attempts ADD COLUMN u_user REAL;"
	"ALTER TABLE attempts ADD COLUMN u_sys REAL; ALTER TABLE attempts ADD COLUMN u_rss INTEGER;"
	"PRAGMA user_version = 6;",
    /* Version 7: runs can be deleted; their numbers are never reused
     * (AUTOINCREMENT, see schema). runs.rerun: the next launch runs only
     * the task runs chosen (backend/rerun.c). The triggers name runs:
     * they go while the table is rebuilt. */
    [6] = "DROP TRIGGER tasks_done; DROP TRIGGER tasks_done_new;"
	  "CREATE TABLE runs7" RUNS_COLUMNS ";"
	  "INSERT INTO runs7(seq, id, name, config, state, prepared, owner, created, started,"
	  " ended, updated, message, ntasks, done) SELECT seq, id, name, config, state,"
	  " prepared, owner, created, started, ended, updated, message, ntasks, done FROM runs;"
	  "DROP TABLE runs; ALTER TABLE runs7 RENAME TO runs;"
	  "CREATE INDEX runs_state ON runs(state);" DONE_TRIGGERS "PRAGMA user_version = 7;",
    /* Version 8: the cache's record of each task run (CACHE_KEYS). Runs
     * recorded before keep theirs in logs.d/<task>.cache files. */
    [7] = CACHE_KEYS "PRAGMA user_version = 8;",
};

int
exec_sql(struct store *st, const char *text)
{
	if (sqlite3_exec(st->db, text, NULL, NULL, NULL) != SQLITE_OK) {
		store_db_fail(st, text);
		return -1;
	}
	return 0;
}

/* A one-row pragma, read as text into out. */
int
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
 * A store made before runs could be deleted has auto_vacuum off: freed
 * pages would stay in the file for ever. Turning it on takes one VACUUM,
 * which needs the store to itself; when another process holds it, the
 * next start tries again.
 */
static int
incremental(struct store *st)
{
	char mode[16];

	if (pragma(st, "PRAGMA auto_vacuum", mode, sizeof(mode)) < 0)
		return -1;
	if (atoi(mode) != 0)
		return 0;
	if (sqlite3_exec(st->db, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM", NULL, NULL, NULL) !=
	    SQLITE_OK)
		log_info("store: cannot turn incremental vacuum on now (%s); the next start tries "
			 "again",
			 sqlite3_errmsg(st->db));
	else
		log_info("store: incremental vacuum turned on: deleted runs give their space back");
	return 0;
}

/*
 * Creates the schema or upgrades it to SCHEMA_VERSION. Other processes may
 * be opening the same store: each step decides under the write lock, on
 * the version it reads there.
 */
int
store_schema_init(struct store *st)
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
		return incremental(st);
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
	return incremental(st);
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
