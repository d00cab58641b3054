/* The SQLite store: records, paging, events and the feed, batching across
 * connections, durability across reopen. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "check.h"
#include "state.h"
#include "store.h"
#include "util.h"

#define BIG 10000

struct fed {
	struct event_rec ev[64];
	int n;
};

static void
on_event(const struct event_rec *ev, void *arg)
{
	struct fed *f = arg;

	if (f->n < (int)(sizeof(f->ev) / sizeof(f->ev[0])))
		f->ev[f->n] = *ev;
	f->n++;
}

static void
count_event(const struct event_rec *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
}

static void
make_task(struct task_rec *t, int idx, const char *id, const char *parents)
{
	memset(t, 0, sizeof(*t));
	t->idx = idx;
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->step, sizeof(t->step), "%s", id);
	snprintf(t->task, sizeof(t->task), "greet");
	t->state = ST_WAITING;
	t->max_attempts = 2;
	t->parents = (char *)parents;
	t->command = "[\"echo\",\"hi\"]";
	t->inputs = "{}";
	t->outputs = "stdout\n";
}

static void
make_run(struct run_rec *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "hello");
	snprintf(r->config, sizeof(r->config), "in_process");
	r->state = ST_WAITING;
	r->created = now_ms();
	r->message = "";
}

static void
test_open(const char *dir)
{
	char path[4096];
	struct stat sb;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	snprintf(path, sizeof(path), "%s/runfs.db", dir);
	CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 07777) == 0700);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
test_basics(struct store *st, struct store *st2, struct fed *f, int64_t *seq)
{
	struct run_rec run, got, other;
	struct task_rec tasks[3], t, page[2];
	struct event_rec ev[8];
	char *text = NULL;
	int n;

	make_run(&run, "wf.hello.abc1234");
	make_task(&tasks[0], 0, "a", "");
	make_task(&tasks[1], 1, "b", "a\n");
	make_task(&tasks[2], 2, "c", "a\nb\n");
	CHECK(store_run_create(st, &run, tasks, 3, "{\"name\":\"hello\"}") == RF_OK);
	CHECK(run.seq > 0);
	CHECK(tasks[2].run_seq == run.seq);
	*seq = run.seq;
	/* Creation records one event for the run, none for its tasks. */
	CHECK(f->n == 1 && f->ev[0].task_idx == -1 && f->ev[0].state == ST_WAITING);

	CHECK(store_run_get(st, "wf.hello.abc1234", &got) == RF_OK);
	CHECK(got.seq == run.seq && got.ntasks == 3 && got.counts[ST_WAITING] == 3);
	CHECK_STR(got.name, "hello");
	CHECK_STR(got.config, "in_process");
	CHECK_STR(got.message, "");
	CHECK(got.updated > 0 && got.created == run.created);
	run_rec_free(&got);
	run_rec_free(&got); /* twice is harmless */
	CHECK(store_run_get_seq(st, run.seq, &got) == RF_OK);
	CHECK_STR(got.id, "wf.hello.abc1234");
	run_rec_free(&got);
	/* Run creation is durable at once: another connection sees it. */
	CHECK(store_run_get_seq(st2, run.seq, &got) == RF_OK);
	run_rec_free(&got);
	CHECK(store_run_definition(st, run.seq, &text) == RF_OK);
	CHECK_STR(text, "{\"name\":\"hello\"}");
	free(text);

	CHECK(store_task_get(st, run.seq, 1, &t) == RF_OK);
	CHECK_STR(t.id, "b");
	CHECK_STR(t.parents, "a\n");
	CHECK_STR(t.outputs, "stdout\n");
	CHECK_STR(t.message, "");
	CHECK(t.max_attempts == 2 && t.state == ST_WAITING);
	task_rec_free(&t);
	CHECK(store_task_find(st, run.seq, "c", &t) == RF_OK);
	CHECK(t.idx == 2);
	CHECK_STR(t.command, "[\"echo\",\"hi\"]");
	task_rec_free(&t);
	n = store_task_list(st, run.seq, 0, 2, page);
	CHECK(n == 2 && page[0].idx == 0 && page[1].idx == 1);
	for (int i = 0; i < n; i++)
		task_rec_free(&page[i]);
	n = store_task_list(st, run.seq, 2, 2, page);
	CHECK(n == 1 && page[0].idx == 2);
	for (int i = 0; i < n; i++)
		task_rec_free(&page[i]);
	CHECK(store_task_list(st, run.seq, 3, 2, page) == 0);

	/* Errors. */
	make_run(&other, "wf.hello.abc1234");
	run.message = "batched";
	CHECK(store_run_update(st, &run) == RF_OK);
	CHECK(store_run_create(st, &other, NULL, 0, "{}") == RF_EXIST);
	/* The refused run took nothing batched down with it. */
	CHECK(store_run_get(st2, run.id, &got) == RF_OK);
	CHECK_STR(got.message, "batched");
	run_rec_free(&got);
	CHECK(store_run_get(st, "wf.nope.0000000", &got) == RF_NOENT);
	CHECK(store_run_get_seq(st, 999999, &got) == RF_NOENT);
	CHECK(store_run_definition(st, 999999, &text) == RF_NOENT && text == NULL);
	CHECK(store_task_get(st, run.seq, 3, &t) == RF_NOENT);
	CHECK(store_task_find(st, run.seq, "zz", &t) == RF_NOENT);
	other.seq = 999999;
	CHECK(store_run_update(st, &other) == RF_NOENT);
	make_task(&t, 7, "x", "");
	t.run_seq = run.seq;
	CHECK(store_task_update(st, &t) == RF_NOENT);
	CHECK(store_flush(st) == RF_OK);

	/* Updates: events in order, the feed told, nothing for a same-state write. */
	f->n = 0;
	run.state = ST_RUNNING;
	run.started = now_ms();
	run.owner = 4242;
	CHECK(store_run_update(st, &run) == RF_OK);
	tasks[0].run_seq = run.seq;
	tasks[0].state = ST_RUNNING;
	tasks[0].attempts = 1;
	tasks[0].inputs = "{\"who\":\"world\"}";
	CHECK(store_task_update(st, &tasks[0]) == RF_OK);
	tasks[0].message = "still going";
	CHECK(store_task_update(st, &tasks[0]) == RF_OK);
	tasks[0].state = ST_SUCCEEDED;
	tasks[0].has_exit = 1;
	tasks[0].exit_code = 0;
	tasks[0].ended = now_ms();
	tasks[0].message = "";
	CHECK(store_task_update(st, &tasks[0]) == RF_OK);
	CHECK(f->n == 3);
	CHECK(f->ev[0].task_idx == -1 && f->ev[0].state == ST_RUNNING);
	CHECK(f->ev[1].task_idx == 0 && f->ev[1].state == ST_RUNNING);
	CHECK(f->ev[2].task_idx == 0 && f->ev[2].state == ST_SUCCEEDED);
	CHECK(f->ev[0].seq < f->ev[1].seq && f->ev[1].seq < f->ev[2].seq);
	n = store_event_list(st, run.seq, 0, 8, ev);
	CHECK(n == 4 && ev[0].state == ST_WAITING && ev[3].state == ST_SUCCEEDED);
	CHECK(n == 4 && ev[3].seq == f->ev[2].seq && ev[3].time == f->ev[2].time);
	CHECK(store_event_list(st, run.seq, ev[1].seq, 8, ev) == 2);

	/* Visible on this connection at once, elsewhere only after the flush. */
	CHECK(store_run_get(st, run.id, &got) == RF_OK);
	CHECK(got.state == ST_RUNNING && got.owner == 4242 && got.started == run.started);
	CHECK(got.counts[ST_SUCCEEDED] == 1 && got.counts[ST_WAITING] == 2 && got.done == 1);
	run_rec_free(&got);
	CHECK(store_task_get(st, run.seq, 0, &t) == RF_OK);
	CHECK(t.state == ST_SUCCEEDED && t.has_exit == 1 && t.exit_code == 0 && t.attempts == 1);
	CHECK_STR(t.inputs, "{\"who\":\"world\"}");
	task_rec_free(&t);
	CHECK(store_run_get(st2, run.id, &got) == RF_OK);
	CHECK(got.state == ST_WAITING && got.counts[ST_WAITING] == 3);
	run_rec_free(&got);
	CHECK(store_task_get(st2, run.seq, 0, &t) == RF_OK);
	CHECK(t.state == ST_WAITING);
	task_rec_free(&t);
	CHECK(store_event_list(st2, run.seq, 0, 8, ev) == 1);
	CHECK(store_flush(st) == RF_OK);
	CHECK(store_flush(st) == RF_OK); /* nothing open: a no-op */
	CHECK(store_run_get(st2, run.id, &got) == RF_OK);
	CHECK(got.state == ST_RUNNING && got.counts[ST_SUCCEEDED] == 1);
	run_rec_free(&got);
	CHECK(store_task_get(st2, run.seq, 0, &t) == RF_OK);
	CHECK(t.state == ST_SUCCEEDED && t.exit_code == 0);
	task_rec_free(&t);
	CHECK(store_event_list(st2, run.seq, 0, 8, ev) == 4);
}

static void
test_lists(struct store *st)
{
	struct run_rec run, page[4], *act = NULL;
	char id[RUN_ID_MAX];
	int64_t after = 0;
	int n, total = 0, sum = 0;

	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "wf.list.%07d", i);
		make_run(&run, id);
		CHECK(store_run_create(st, &run, NULL, 0, "{}") == RF_OK);
		if (i == 1 || i == 3) {
			run.state = i == 1 ? ST_SUCCEEDED : ST_KILLED;
			CHECK(store_run_update(st, &run) == RF_OK);
		}
	}
	CHECK(store_flush(st) == RF_OK);
	/* Six runs: the one from test_basics (RUNNING) and five here. */
	while ((n = store_run_list(st, after, 4, page)) > 0) {
		for (int i = 0; i < n; i++) {
			CHECK(page[i].seq > after);
			after = page[i].seq;
			run_rec_free(&page[i]);
		}
		total += n;
	}
	CHECK(n == 0 && total == 6);
	n = store_run_list_active(st, &act);
	CHECK(n == 4);
	for (int i = 0; i < n; i++) {
		CHECK(act[i].state == ST_WAITING || act[i].state == ST_RUNNING);
		CHECK(i == 0 || act[i].seq > act[i - 1].seq);
		sum += act[i].counts[ST_WAITING] + act[i].counts[ST_SUCCEEDED];
		run_rec_free(&act[i]);
	}
	CHECK(sum == 3); /* counts filled: the three tasks of the first run */
	free(act);
}

/* Forgetting the newest run: its rows go, one event says so, and the
 * next run does not take its seq (inode numbers are made of it), nor the
 * next event a seq other processes have passed; the rerun mark. */
static void
test_forget(struct store *st)
{
	struct run_rec run, got;
	struct task_rec tasks[2] = {0};
	int64_t seq, last, when;

	make_run(&run, "wf.gone.0000001");
	for (int i = 0; i < 2; i++) {
		tasks[i].idx = i;
		snprintf(tasks[i].id, sizeof(tasks[i].id), "t%d", i);
		tasks[i].state = ST_SUCCEEDED;
		tasks[i].message = tasks[i].parents = tasks[i].command = tasks[i].inputs =
		    tasks[i].outputs = "";
	}
	CHECK(store_run_create(st, &run, tasks, 2, "{}") == RF_OK);
	seq = run.seq;
	CHECK(store_run_rerun(st, seq) == 0);
	CHECK(store_run_set_rerun(st, seq, 1) == RF_OK && store_flush(st) == RF_OK);
	CHECK(store_run_rerun(st, seq) == 1);
	last = store_event_latest(st, &when);
	CHECK(store_run_forget(st, seq, ST_SUCCEEDED) == RF_OK);
	CHECK(store_run_get(st, "wf.gone.0000001", &got) == RF_NOENT);
	CHECK(store_task_list(st, seq, 0, 4, tasks) == 0);
	CHECK(store_event_latest(st, &when) > last);
	make_run(&run, "wf.next.0000002");
	CHECK(store_run_create(st, &run, NULL, 0, "{}") == RF_OK);
	CHECK(run.seq > seq);
}

/* runs.done follows every change into and out of the completed states
 * (a retry sends task runs back to WAITING), and listings by state. */
static void
test_done(struct store *st)
{
	struct run_rec run, got, page[8];
	struct task_rec tasks[3], t;
	int n, found = 0;

	make_run(&run, "wf.done.0000001");
	make_task(&tasks[0], 0, "a", "");
	make_task(&tasks[1], 1, "b", "a\n");
	make_task(&tasks[2], 2, "c", "a\n");
	CHECK(store_run_create(st, &run, tasks, 3, "{}") == RF_OK);
	for (int i = 0; i < 3; i++) {
		tasks[i].state = i == 0 ? ST_SUCCEEDED : i == 1 ? ST_FAILED : ST_RUNNING;
		CHECK(store_task_update(st, &tasks[i]) == RF_OK);
	}
	CHECK(store_run_find(st, run.id, &got) == RF_OK && got.done == 2 && got.ntasks == 3);
	run_rec_free(&got);
	/* A same-state write and a move between completed states: no change. */
	CHECK(store_task_update(st, &tasks[0]) == RF_OK);
	tasks[1].state = ST_KILLED;
	CHECK(store_task_update(st, &tasks[1]) == RF_OK);
	CHECK(store_run_brief(st, run.seq, &got) == RF_OK && got.done == 2);
	run_rec_free(&got);
	/* Retried: back to WAITING, then done again. */
	tasks[1].state = ST_WAITING;
	CHECK(store_task_update(st, &tasks[1]) == RF_OK);
	CHECK(store_run_brief(st, run.seq, &got) == RF_OK && got.done == 1);
	run_rec_free(&got);
	tasks[1].state = ST_SUCCEEDED;
	tasks[2].state = ST_SUCCEEDED;
	CHECK(store_task_update(st, &tasks[1]) == RF_OK);
	CHECK(store_task_update(st, &tasks[2]) == RF_OK);
	run.state = ST_FAILED;
	CHECK(store_run_update(st, &run) == RF_OK);
	CHECK(store_run_brief(st, run.seq, &got) == RF_OK && got.done == 3);
	run_rec_free(&got);
	/* The brief listing leaves the long columns out. */
	CHECK(store_task_list_brief(st, run.seq, 1, 8, tasks) == 2);
	CHECK(tasks[0].idx == 1 && tasks[0].state == ST_SUCCEEDED);
	CHECK_STR(tasks[0].id, "b");
	CHECK_STR(tasks[0].parents, "a\n");
	CHECK_STR(tasks[0].command, "");
	task_rec_free(&tasks[0]);
	task_rec_free(&tasks[1]);
	CHECK(store_task_get(st, run.seq, 1, &t) == RF_OK);
	CHECK_STR(t.command, "[\"echo\",\"hi\"]");
	task_rec_free(&t);
	/* By state, paged: the one FAILED run is found, and only FAILED runs. */
	for (int64_t after = 0; (n = store_run_list_state(st, ST_FAILED, after, 1, page)) > 0;) {
		CHECK(page[0].state == ST_FAILED);
		found += page[0].seq == run.seq;
		after = page[0].seq;
		run_rec_free(&page[0]);
	}
	CHECK(n == 0 && found == 1);
	CHECK(store_run_list_state(st, ST_UNKNOWN, 0, 8, page) == 0);
	CHECK(store_run_newest(st) == run.created);
	{
		int64_t when, seq = store_event_latest(st, &when);
		CHECK(seq == store_event_last(st) && seq > 0 && when >= run.created);
	}
	CHECK(store_flush(st) == RF_OK);
}

static void
test_attempts(struct store *st, int64_t seq)
{
	struct attempt_rec a = {0}, *v = NULL;
	int n;

	a.n = 2;
	a.state = ST_RUNNING;
	a.started = 200;
	CHECK(store_attempt_put(st, seq, 1, &a) == RF_OK);
	a.n = 1;
	a.state = ST_FAILED;
	a.has_exit = 1;
	a.exit_code = 3;
	a.started = 100;
	a.ended = 150;
	a.message = "exit status 3";
	CHECK(store_attempt_put(st, seq, 1, &a) == RF_OK);
	a.n = 2;
	a.state = ST_SUCCEEDED;
	a.exit_code = 0;
	a.started = 200;
	a.ended = 250;
	a.message = NULL;
	CHECK(store_attempt_put(st, seq, 1, &a) == RF_OK); /* replaces */
	n = store_attempt_list(st, seq, 1, &v);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(v[0].n == 1 && v[0].state == ST_FAILED && v[0].exit_code == 3);
		CHECK_STR(v[0].message, "exit status 3");
		CHECK(v[1].n == 2 && v[1].state == ST_SUCCEEDED && v[1].ended == 250);
		CHECK_STR(v[1].message, "");
	}
	attempt_list_free(v, n);
	CHECK(store_attempt_list(st, seq, 0, &v) == 0);
	attempt_list_free(v, 0);
	CHECK(store_flush(st) == RF_OK);
}

static void
test_reopen(const char *dir, int64_t seq)
{
	struct store *st = NULL;
	struct run_rec r;
	struct task_rec t;
	struct attempt_rec *v = NULL;
	struct event_rec ev[8];
	int n;

	CHECK(store_open(dir, &st) == RF_OK);
	if (st == NULL)
		return;
	CHECK(store_run_get(st, "wf.hello.abc1234", &r) == RF_OK);
	CHECK(r.seq == seq && r.state == ST_RUNNING && r.counts[ST_SUCCEEDED] == 1);
	run_rec_free(&r);
	CHECK(store_task_find(st, seq, "b", &t) == RF_OK);
	CHECK_STR(t.parents, "a\n");
	task_rec_free(&t);
	n = store_attempt_list(st, seq, 1, &v);
	CHECK(n == 2);
	attempt_list_free(v, n);
	CHECK(store_event_list(st, seq, 0, 8, ev) == 4);
	CHECK(store_run_get(st, "wf.list.0000003", &r) == RF_OK && r.state == ST_KILLED);
	run_rec_free(&r);
	store_close(st);
}

static void
test_batch(const char *dir, struct store *st)
{
	struct task_rec *tasks = calloc(BIG, sizeof(*tasks)), page[256];
	struct run_rec run, got;
	struct store *st2 = NULL;
	char id[TASK_ID_MAX];
	int64_t t0;
	int fed = 0, seen = 0, running = 0, n;

	CHECK(tasks != NULL);
	if (tasks == NULL)
		return;
	for (int i = 0; i < BIG; i++) {
		snprintf(id, sizeof(id), "t.%d", i);
		make_task(&tasks[i], i, id, "");
	}
	make_run(&run, "wf.big.0000000");
	t0 = mono_ms();
	CHECK(store_run_create(st, &run, tasks, BIG, "{}") == RF_OK);
	printf("create %d tasks: %lld ms\n", BIG, (long long)(mono_ms() - t0));
	store_set_feed(st, count_event, &fed);
	t0 = mono_ms();
	for (int i = 0; i < BIG; i++) {
		tasks[i].state = ST_RUNNING;
		tasks[i].attempts = 1;
		tasks[i].started = 1000 + i;
		if (store_task_update(st, &tasks[i]) != RF_OK)
			break;
	}
	CHECK(store_flush(st) == RF_OK);
	printf("%d task updates and one flush: %lld ms\n", BIG, (long long)(mono_ms() - t0));
	store_set_feed(st, NULL, NULL);
	CHECK(fed == BIG);

	CHECK(store_open(dir, &st2) == RF_OK);
	if (st2 == NULL)
		goto out;
	CHECK(store_run_get(st2, run.id, &got) == RF_OK);
	CHECK(got.ntasks == BIG && got.counts[ST_RUNNING] == BIG);
	run_rec_free(&got);
	for (int from = 0; (n = store_task_list(st2, run.seq, from, 256, page)) > 0; from += n) {
		for (int i = 0; i < n; i++) {
			if (page[i].idx == from + i && page[i].state == ST_RUNNING &&
			    page[i].started == 1000 + from + i)
				running++;
			task_rec_free(&page[i]);
		}
		seen += n;
	}
	CHECK(seen == BIG && running == BIG);
	store_close(st2);
out:
	free(tasks);
}

int
main(void)
{
	const char *base = getenv("TEST_TMPDIR");
	char tmpl[2048], dir[2100];
	struct store *st = NULL, *st2 = NULL;
	struct fed f = {0};
	int64_t seq = 0;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/test_store.XXXXXX", base);
	if (mkdir_p(base, 0755) < 0 || mkdtemp(tmpl) == NULL) {
		perror(tmpl);
		return 1;
	}
	/* A directory store_open must create, parents and all. */
	snprintf(dir, sizeof(dir), "%s/data/runfs", tmpl);

	CHECK(store_open(dir, &st) == RF_OK);
	CHECK(store_open(dir, &st2) == RF_OK);
	if (st == NULL || st2 == NULL)
		goto out;
	test_open(dir);
	store_set_feed(st, on_event, &f);
	test_basics(st, st2, &f, &seq);
	store_set_feed(st, NULL, NULL);
	test_lists(st);
	test_forget(st);
	test_done(st);
	test_attempts(st, seq);
	store_close(st2);
	st2 = NULL;
	/* Close commits what is still batched. */
	store_close(st);
	st = NULL;
	test_reopen(dir, seq);
	CHECK(store_open(dir, &st) == RF_OK);
	if (st)
		test_batch(dir, st);
out:
	store_close(st2);
	store_close(st);
	CHECK(remove_tree(tmpl) == 0);
	return check_done();
}
