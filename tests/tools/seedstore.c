/*
 * seedstore DATADIR N: records N finished runs in DATADIR's store, as a
 * mount would have left them (one task run each, with its events), for
 * scripts/bench's measures of a filesystem with 100,000 runs. Submitting
 * them through a mount, one durable commit each, would take longer than
 * the whole benchmark may, so the rows are made in one transaction from
 * the schema the store itself creates. Exits 1 on error.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "state.h"
#include "store.h"
#include "util.h"

/* ?1 = n, ?2 = the first run's creation time (ms); one run a second. A
 * tenth of the runs FAILED, the rest SUCCEEDED. */
static const char seed_sql[] =
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?1)"
    " INSERT INTO runs(id, name, config, state, prepared, owner, created, started, ended,"
    " updated, message, ntasks)"
    " SELECT printf('wf.seed.%07x', i), 'seed', 'in_process', CASE WHEN i % 10 = 9 THEN ?3"
    " ELSE ?4 END, 0, 0, ?2 + i * 1000, ?2 + i * 1000 + 1, ?2 + i * 1000 + 2,"
    " ?2 + i * 1000 + 2, '', 1 FROM k;"
    "INSERT INTO definitions(run_seq, text) SELECT seq, '{\"name\":\"seed\"}' FROM runs"
    " WHERE name = 'seed';"
    "INSERT INTO tasks(run_seq, idx, id, step, task, state, has_exit, exit_code, attempts,"
    " max_attempts, started, ended, updated, message, parents, command, inputs, outputs)"
    " SELECT seq, 0, 't', 't', 't', state, 1, state = ?3, 1, 1, started, ended, ended, '', '',"
    " '[\"true\"]', '{}', 'stdout\n' FROM runs WHERE name = 'seed';"
    /* e.s = -1: the run's final state. */
    "INSERT INTO events(run_seq, task_idx, state, time)"
    " SELECT seq, e.t, CASE WHEN e.s < 0 THEN state ELSE e.s END, created + e.d"
    " FROM runs, (SELECT 0 o, -1 t, ?5 s, 0 d UNION ALL SELECT 1, -1, ?6, 1 UNION ALL"
    " SELECT 2, 0, ?6, 1 UNION ALL SELECT 3, 0, -1, 2 UNION ALL SELECT 4, -1, -1, 2) e"
    " WHERE name = 'seed' ORDER BY seq, e.o;";

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const char *tail;
	long n;
	int rc = 1;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: seedstore DATADIR N\n");
		return 2;
	}
	if (store_open(argv[1], &st) != RF_OK)
		return 1;
	store_close(st);
	snprintf(path, sizeof(path), "%s/runfs.db", argv[1]);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (const char *q = seed_sql; *q; q = tail) {
		if (sqlite3_prepare_v2(db, q, -1, &s, &tail) != SQLITE_OK)
			goto out;
		if (s == NULL)
			break;
		sqlite3_bind_int64(s, 1, n);
		sqlite3_bind_int64(s, 2, now_ms() - n * 1000);
		sqlite3_bind_int(s, 3, ST_FAILED);
		sqlite3_bind_int(s, 4, ST_SUCCEEDED);
		sqlite3_bind_int(s, 5, ST_WAITING);
		sqlite3_bind_int(s, 6, ST_RUNNING);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
out:
	if (rc)
		fprintf(stderr, "seedstore: %s\n",
			db ? sqlite3_errmsg(db) : "cannot open the store");
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}
