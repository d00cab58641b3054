/*
 * The cache's record of each task run with "cache" (the table cache_keys,
 * store_schema.c): what tasks/<t>/cache_key, cache_key.json and
 * cached_from show. Written with the scheduler's batch, like the task
 * run's own row.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum rerr
store_cache_key_put(struct store *st, int64_t run_seq, int idx, const char *record)
{
	enum rerr e;

	if ((e = store_write_lock(st, 0)) == RF_OK) {
		store_bind(st, S_CKEY_PUT, "Iis", run_seq, idx, record);
		e = store_step_done(st, S_CKEY_PUT, "put cache key") == SQLITE_DONE
			? store_write_end(st)
			: RF_IO;
	}
	pthread_mutex_unlock(&st->mu);
	return e;
}

enum rerr
store_cache_key_get(struct store *st, int64_t run_seq, int idx, char **record)
{
	sqlite3_stmt *s = st->s[S_CKEY_GET];
	enum rerr e = RF_NOENT;
	int rc;

	*record = NULL;
	pthread_mutex_lock(&st->mu);
	store_bind(st, S_CKEY_GET, "Ii", run_seq, idx);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 0);
		*record = strdup(text ? text : "");
		e = *record ? RF_OK : RF_NOMEM;
	} else if (rc != SQLITE_DONE) {
		e = store_db_fail(st, "read cache key");
	}
	store_done(s);
	pthread_mutex_unlock(&st->mu);
	return e;
}
