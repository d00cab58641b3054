/*
 * The store's reads: row readers and every lookup and list. Each takes the
 * lock for the one query it makes (and, for runs, the task counts), so a
 * reader sees every write the moment it is made, committed or not.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

void
store_col_copy(char *dst, size_t n, sqlite3_stmt *s, int col)
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

/* Row readers: 0, or -1 on ENOMEM with nothing left allocated. */

static int
run_row(sqlite3_stmt *s, void *p)
{
	struct run_rec *r = p;

	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(s, 0);
	store_col_copy(r->id, sizeof(r->id), s, 1);
	store_col_copy(r->name, sizeof(r->name), s, 2);
	store_col_copy(r->config, sizeof(r->config), s, 3);
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
	r->done = sqlite3_column_int(s, 14);
	return (r->message = col_dup(s, 11)) ? 0 : -1;
}

static int
task_row(sqlite3_stmt *s, void *p)
{
	struct task_rec *t = p;

	memset(t, 0, sizeof(*t));
	t->run_seq = sqlite3_column_int64(s, 0);
	t->idx = sqlite3_column_int(s, 1);
	store_col_copy(t->id, sizeof(t->id), s, 2);
	store_col_copy(t->step, sizeof(t->step), s, 3);
	store_col_copy(t->task, sizeof(t->task), s, 4);
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
	a->usage = NULL;
	if ((a->message = col_dup(s, 6)) == NULL)
		return -1;
	if (sqlite3_column_type(s, 7) != SQLITE_NULL && (a->usage = col_dup(s, 7)) == NULL) {
		free(a->message);
		return -1;
	}
	return 0;
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

static int
event_line_row(sqlite3_stmt *s, void *p)
{
	struct event_line *l = p;

	event_row(s, &l->ev);
	store_col_copy(l->task, sizeof(l->task), s, 5);
	if (l->ev.task_idx < 0 || l->task[0] == '\0')
		snprintf(l->task, sizeof(l->task), "-");
	/* SUCCEEDED without an attempt: a cache hit. */
	l->cached = l->ev.task_idx >= 0 && l->ev.state == ST_SUCCEEDED &&
		    sqlite3_column_type(s, 6) != SQLITE_NULL && sqlite3_column_int(s, 6) == 0;
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
	free(((struct attempt_rec *)p)->usage);
}

static enum rerr
run_counts(struct store *st, struct run_rec *r)
{
	sqlite3_stmt *s = st->s[S_COUNTS];
	int rc, state;

	memset(r->counts, 0, sizeof(r->counts));
	store_bind(st, S_COUNTS, "I", r->seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = sqlite3_column_int(s, 0);
		if (store_state_ok(state))
			r->counts[state] = sqlite3_column_int(s, 1);
	}
	if (rc != SQLITE_DONE)
		store_db_fail(st, "count tasks");
	store_done(s);
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
	store_vbind(s, types, ap);
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
		e = store_db_fail(st, sqlite3_sql(s));
		goto fail;
	}
	store_done(s);
	for (int i = 0; r->counts && i < n; i++)
		if ((e = run_counts(st, (struct run_rec *)r->v + i)) != RF_OK)
			goto fail;
	pthread_mutex_unlock(&st->mu);
	return n;
fail:
	store_done(s);
	pthread_mutex_unlock(&st->mu);
	while (r->free && n > 0)
		r->free(r->v + (size_t)--n * r->size);
	if (r->limit == 0) {
		free(r->v);
		r->v = NULL;
	}
	return -e;
}

/* The result of a query for a list: the count, or -1 on any error. */
static int
listed(int n)
{
	return n < 0 ? -1 : n;
}

/* The result of a query for one record: RF_OK, RF_NOENT or the error. */
static enum rerr
one(int n, struct rows *r)
{
	if (n <= 0)
		memset(r->v, 0, r->size);
	return n < 0 ? (enum rerr) - n : n == 0 ? RF_NOENT : RF_OK;
}

/* A run by id; counts: with its task counts. */
static enum rerr
run_by_id(struct store *st, const char *id, struct run_rec *out, int counts)
{
	struct rows r = {run_row, run_free, sizeof(*out), 1, (char *)out, counts};

	return one(query(st, S_RUN_BY_ID, &r, "s", id), &r);
}

enum rerr
store_run_get(struct store *st, const char *id, struct run_rec *out)
{
	return run_by_id(st, id, out, 1);
}

enum rerr
store_run_find(struct store *st, const char *id, struct run_rec *out)
{
	return run_by_id(st, id, out, 0);
}

/* A run by seq; counts: with its task counts. */
static enum rerr
run_by_seq(struct store *st, int64_t seq, struct run_rec *out, int counts)
{
	struct rows r = {run_row, run_free, sizeof(*out), 1, (char *)out, counts};

	return one(query(st, S_RUN_BY_SEQ, &r, "I", seq), &r);
}

enum rerr
store_run_brief(struct store *st, int64_t seq, struct run_rec *out)
{
	return run_by_seq(st, seq, out, 0);
}

enum rerr
store_run_get_seq(struct store *st, int64_t seq, struct run_rec *out)
{
	return run_by_seq(st, seq, out, 1);
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

struct normal_row {
	int normal;
	char *text;
};

static int
normal_row(sqlite3_stmt *s, void *p)
{
	struct normal_row *r = p;

	r->normal = sqlite3_column_int(s, 0);
	return (r->text = col_dup(s, 1)) ? 0 : -1;
}

enum rerr
store_run_normal(struct store *st, int64_t seq, char **text, int *normal)
{
	struct normal_row row = {0};
	struct rows r = {normal_row, NULL, sizeof(row), 1, (char *)&row, 0};
	enum rerr e = one(query(st, S_RUN_NORMAL, &r, "I", seq), &r);

	*text = row.text;
	*normal = row.normal;
	return e;
}

int
store_run_list(struct store *st, int64_t after, int limit, struct run_rec *out)
{
	struct rows r = {run_row, run_free, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_RUN_LIST, &r, "Ii", after, limit) : 0;

	return listed(n);
}

int
store_run_list_state(struct store *st, int state, int64_t after, int limit, struct run_rec *out)
{
	struct rows r = {run_row, run_free, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_RUN_LIST_STATE, &r, "iIi", state, after, limit) : 0;

	return listed(n);
}

int
store_run_list_active(struct store *st, struct run_rec **out)
{
	/* Few runs are active, and recovery wants their counts. */
	struct rows r = {run_row, run_free, sizeof(**out), 0, NULL, 1};
	int n = query(st, S_RUN_ACTIVE, &r, "iii", ST_WAITING, ST_RUNNING, ST_UNKNOWN);

	*out = (struct run_rec *)r.v;
	return listed(n);
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

	return listed(n);
}

int
store_task_list_brief(struct store *st, int64_t run_seq, int from, int limit, struct task_rec *out)
{
	struct rows r = {task_row, task_free, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_TASK_BRIEF, &r, "Iii", run_seq, from, limit) : 0;

	return listed(n);
}

int
store_attempt_list(struct store *st, int64_t run_seq, int idx, struct attempt_rec **out)
{
	struct rows r = {attempt_row, attempt_free, sizeof(**out), 0, NULL, 0};
	int n = query(st, S_ATT_LIST, &r, "Ii", run_seq, idx);

	*out = (struct attempt_rec *)r.v;
	return listed(n);
}

static int
usage_row(sqlite3_stmt *s, void *p)
{
	struct usage_sum *u = p;

	u->measured = sqlite3_column_int(s, 0);
	u->wall_s = sqlite3_column_double(s, 1);
	u->user_s = sqlite3_column_double(s, 2);
	u->system_s = sqlite3_column_double(s, 3);
	u->max_rss_known = sqlite3_column_type(s, 4) != SQLITE_NULL;
	u->max_rss_bytes = sqlite3_column_int64(s, 4);
	return 0;
}

enum rerr
store_run_usage(struct store *st, int64_t run_seq, struct usage_sum *out)
{
	struct rows r = {usage_row, NULL, sizeof(*out), 1, (char *)out, 0};

	memset(out, 0, sizeof(*out));
	return one(query(st, S_RUN_USAGE, &r, "I", run_seq), &r);
}

int
store_event_list(struct store *st, int64_t run_seq, int64_t after, int limit, struct event_rec *out)
{
	struct rows r = {event_row, NULL, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_EVENT_LIST, &r, "IIi", run_seq, after, limit) : 0;

	return listed(n);
}

int
store_event_lines(struct store *st, int64_t run_seq, int64_t after, int limit,
		  struct event_line *out)
{
	struct rows r = {event_line_row, NULL, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_EVENT_LINES, &r, "IIi", run_seq, after, limit) : 0;

	return listed(n);
}

int
store_event_foreign(struct store *st, int64_t after, int limit, struct event_rec *out)
{
	struct rows r = {event_row, NULL, sizeof(*out), limit, (char *)out, 0};
	int n = limit > 0 ? query(st, S_EVENT_FOREIGN, &r, "Iii", after, st->origin, limit) : 0;

	return listed(n);
}

static int
int64_row(sqlite3_stmt *s, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(s, 0);
	return 0;
}

/* A one-number query: the number, or 0 when no row, or -1. */
static int64_t
scalar(struct store *st, int which)
{
	int64_t v = 0;
	struct rows r = {int64_row, NULL, sizeof(v), 1, (char *)&v, 0};

	return query(st, which, &r, "") >= 0 ? v : -1;
}

int64_t
store_event_last(struct store *st)
{
	return scalar(st, S_EVENT_LAST);
}

int64_t
store_run_newest(struct store *st)
{
	return scalar(st, S_RUN_NEWEST);
}

static int
int64_pair_row(sqlite3_stmt *s, void *p)
{
	((int64_t *)p)[0] = sqlite3_column_int64(s, 0);
	((int64_t *)p)[1] = sqlite3_column_int64(s, 1);
	return 0;
}

int64_t
store_event_latest(struct store *st, int64_t *time)
{
	int64_t v[2] = {0, 0};
	struct rows r = {int64_pair_row, NULL, sizeof(v), 1, (char *)v, 0};

	if (query(st, S_EVENT_LATEST, &r, "") < 0)
		return *time = -1;
	*time = v[1];
	return v[0];
}

int
store_request_pending(struct store *st, int64_t run_seq, int verb)
{
	int64_t n = 0;
	struct rows r = {int64_row, NULL, sizeof(n), 1, (char *)&n, 0};

	return query(st, S_REQ_PENDING, &r, "Ii", run_seq, verb) == 1 ? n > 0 : -1;
}

int
store_run_cached(struct store *st, int64_t run_seq)
{
	char sql[128], text[24] = "";

	/* SUCCEEDED without an attempt: only a cache hit is that. */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM tasks WHERE run_seq = %lld AND state = %d AND attempts = 0",
		 (long long)run_seq, ST_SUCCEEDED);
	pthread_mutex_lock(&st->mu);
	if (pragma(st, sql, text, sizeof(text)) < 0)
		text[0] = '\0';
	pthread_mutex_unlock(&st->mu);
	return atoi(text);
}
