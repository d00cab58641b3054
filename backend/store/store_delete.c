/*
 * Forgetting a run: every row of it in one transaction, then the freed
 * pages given back to the filesystem (the store is in incremental
 * auto-vacuum mode, store_schema.c), so that `df` shows a pruned store
 * shrink. Its files are the caller's (backend/delete.c). And the mark of
 * a run whose next launch reruns only the task runs chosen.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

enum rerr
store_run_forget(struct store *st, int64_t seq, int state)
{
	struct event_rec ev;
	/* The newest event stays, whoever's it is: other processes follow
	 * events by seq (store_follow), and a deleted newest row would let
	 * the next event take a seq they have already passed. */
	static const char *const tables[][2] = {
	    {"events", "run_seq = %lld AND seq < (SELECT max(seq) FROM events)"},
	    {"attempts", "run_seq = %lld"},
	    {"cache_keys", "run_seq = %lld"},
	    {"tasks", "run_seq = %lld"},
	    {"requests", "run_seq = %lld"},
	    {"definitions", "run_seq = %lld"},
	    {"runs", "seq = %lld"}};
	char sql[256], where[160];
	enum rerr e;

	if ((e = store_write_lock(st, 1)) != RF_OK)
		goto out;
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		snprintf(where, sizeof(where), tables[i][1], (long long)seq);
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s", tables[i][0], where);
		if (exec_sql(st, sql) < 0) {
			store_rollback(st);
			e = RF_IO;
			goto out;
		}
	}
	/* One event says the run went: views keyed on the latest event (the
	 * index, runs/) change, and other processes are nudged. */
	if ((e = store_event_add(st, seq, -1, state, now_ms(), &ev)) != RF_OK) {
		store_rollback(st);
		goto out;
	}
	if ((e = store_commit(st)) != RF_OK)
		goto out;
	store_feed(st, &ev);
	/* Not worth failing the delete for: the pages are reused anyway. */
	if (sqlite3_exec(st->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL) != SQLITE_OK)
		log_info("store: incremental vacuum: %s", sqlite3_errmsg(st->db));
out:
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_run_set_rerun(struct store *st, int64_t seq, int on)
{
	char sql[96];
	enum rerr e;

	snprintf(sql, sizeof(sql), "UPDATE runs SET rerun = %d WHERE seq = %lld", on ? 1 : 0,
		 (long long)seq);
	if ((e = store_write_lock(st, 0)) == RF_OK && exec_sql(st, sql) < 0)
		e = RF_IO;
	pthread_mutex_unlock(&st->mu);
	return e;
}

int
store_run_rerun(struct store *st, int64_t seq)
{
	char sql[96], text[16] = "";

	snprintf(sql, sizeof(sql), "SELECT rerun FROM runs WHERE seq = %lld", (long long)seq);
	pthread_mutex_lock(&st->mu);
	if (pragma(st, sql, text, sizeof(text)) < 0)
		text[0] = '\0';
	pthread_mutex_unlock(&st->mu);
	return atoi(text) == 1;
}
