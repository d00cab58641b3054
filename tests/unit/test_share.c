/* Processes sharing one store: the request queue, events recorded by
 * another process reaching this one's feed (store_follow), the nudge that
 * wakes followers, and the upgrade of a version 1 store. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "follow.h"
#include "state.h"
#include "store.h"
#include "util.h"

static void
count_event(const struct event_rec *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
}

/* Records one run (one event) and moves it to RUNNING (a second event)
 * in the store at dir; returns its seq. */
static int64_t
record_run(struct store *st, const char *id)
{
	struct run_rec r = {0};

	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.name, sizeof(r.name), "share");
	snprintf(r.config, sizeof(r.config), "local");
	r.state = ST_WAITING;
	r.message = "";
	if (store_run_create(st, &r, NULL, 0, "{}") != RF_OK)
		return -1;
	r.state = ST_RUNNING;
	if (store_run_update(st, &r) != RF_OK || store_flush(st) != RF_OK)
		return -1;
	return r.seq;
}

/* In a child process: what another mount or the runtime would do. */
static int
in_child(const char *dir, const char *id)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct store *st;
		int ok = store_open(dir, &st) == RF_OK && record_run(st, id) > 0;
		store_close(st);
		_exit(ok ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static void
test_requests(struct store *st)
{
	struct request_rec q[8];

	CHECK(store_request_take(st, 8, q) == 0);
	CHECK(store_request_put(st, 1, REQ_LAUNCH) == RF_OK);
	CHECK(store_request_put(st, 2, REQ_STOP) == RF_OK);
	CHECK(store_request_put(st, 3, REQ_LAUNCH) == RF_OK);
	CHECK(store_request_pending(st, 1, REQ_LAUNCH) == 1);
	CHECK(store_request_pending(st, 1, REQ_STOP) == 0);
	CHECK(store_request_cancel(st, 1, REQ_LAUNCH) == 1);
	CHECK(store_request_cancel(st, 1, REQ_LAUNCH) == 0);
	CHECK(store_request_pending(st, 1, REQ_LAUNCH) == 0);
	/* Oldest first, and at most limit. */
	CHECK(store_request_take(st, 1, q) == 1);
	CHECK(q[0].run_seq == 2 && q[0].verb == REQ_STOP);
	CHECK(store_request_take(st, 8, q) == 1);
	CHECK(q[0].run_seq == 3 && q[0].verb == REQ_LAUNCH);
	CHECK(store_request_take(st, 8, q) == 0);
	/* A taken request can no longer be withdrawn. */
	CHECK(store_request_cancel(st, 3, REQ_LAUNCH) == 0);
}

static void
test_follow(const char *dir, struct store *st)
{
	int fed = 0, nudge = nudge_watch(dir);
	struct pollfd p = {.fd = nudge, .events = POLLIN};

	CHECK(nudge >= 0);
	store_set_feed(st, count_event, &fed);
	/* Our own events reach the feed as they are recorded, once. */
	CHECK(record_run(st, "wf.share.0000001") > 0);
	CHECK(fed == 2);
	CHECK(store_follow(st) == 0);
	CHECK(fed == 2);
	nudge_drain(nudge, 0);
	/* Another process's events: a nudge, then store_follow hands them on. */
	CHECK(in_child(dir, "wf.share.0000002"));
	CHECK(poll(&p, 1, 2000) == 1);
	CHECK(nudge_drain(nudge, 0) == 1); /* another process's events */
	CHECK(poll(&p, 1, 0) == 0);
	CHECK(store_follow(st) == 2);
	CHECK(fed == 4);
	CHECK(store_follow(st) == 0);
	CHECK(fed == 4);
	/* A request wakes followers too (the runtime takes it then). */
	CHECK(store_request_put(st, 9, REQ_LAUNCH) == RF_OK);
	CHECK(poll(&p, 1, 2000) == 1);
	CHECK(nudge_drain(nudge, 1) == 0); /* our own: nothing to follow */
	store_set_feed(st, NULL, NULL);
	close(nudge);
}

struct counter {
	int n;
};

static void
tick(void *arg)
{
	__atomic_add_fetch(&((struct counter *)arg)->n, 1, __ATOMIC_SEQ_CST);
}

static void
test_follow_thread(const char *dir)
{
	struct counter c = {0};
	struct follow *f = NULL;
	int before;

	CHECK(follow_start(dir, tick, &c, &f) == 0);
	if (f == NULL)
		return;
	usleep(50000);
	before = __atomic_load_n(&c.n, __ATOMIC_SEQ_CST);
	CHECK(in_child(dir, "wf.share.0000003"));
	/* Woken by the nudge, well before the one-second fallback. */
	for (int i = 0; i < 50 && __atomic_load_n(&c.n, __ATOMIC_SEQ_CST) == before; i++)
		usleep(10000);
	CHECK(__atomic_load_n(&c.n, __ATOMIC_SEQ_CST) > before);
	follow_stop(f);
}

/* A store written by runfs version 1 (before processes shared it and
 * before runs.done) is upgraded in place, keeping its runs and counting
 * their completed task runs. */
static void
test_upgrade(const char *dir)
{
	char path[2200];
	struct store *st = NULL;
	struct run_rec r = {0};
	struct task_rec t[2] = {0};
	struct request_rec q[1];
	char *text = NULL;
	sqlite3 *db;

	CHECK(store_open(dir, &st) == RF_OK);
	if (st == NULL)
		return;
	snprintf(r.id, sizeof(r.id), "wf.share.0000009");
	r.message = "";
	for (int i = 0; i < 2; i++) {
		t[i].idx = i;
		snprintf(t[i].id, sizeof(t[i].id), "t%d", i);
		t[i].parents = t[i].command = t[i].inputs = t[i].outputs = "";
	}
	CHECK(store_run_create(st, &r, t, 2, "{}") == RF_OK);
	t[1].state = ST_SUCCEEDED;
	CHECK(store_task_update(st, &t[1]) == RF_OK);
	store_close(st);
	snprintf(path, sizeof(path), "%s/runfs.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(
		  db,
		  "DROP TRIGGER tasks_done; DROP TRIGGER tasks_done_new;"
		  "ALTER TABLE runs DROP COLUMN done;"
		  "ALTER TABLE runs ADD COLUMN definition TEXT;"
		  "UPDATE runs SET definition = (SELECT text FROM definitions"
		  " WHERE run_seq = runs.seq);"
		  "DROP TABLE definitions;"
		  "ALTER TABLE events DROP COLUMN origin; DROP TABLE requests;"
		  "ALTER TABLE attempts DROP COLUMN usage; ALTER TABLE attempts DROP COLUMN u_wall;"
		  "ALTER TABLE attempts DROP COLUMN u_user; ALTER TABLE attempts DROP COLUMN u_sys;"
		  "ALTER TABLE attempts DROP COLUMN u_rss; DROP TABLE cache_keys;"
		  "PRAGMA user_version = 1;",
		  NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(store_open(dir, &st) == RF_OK);
	if (st == NULL)
		return;
	CHECK(store_run_get(st, "wf.share.0000002", &r) == RF_OK && r.state == ST_RUNNING);
	run_rec_free(&r);
	CHECK(store_run_get(st, "wf.share.0000009", &r) == RF_OK && r.done == 1 && r.ntasks == 2);
	run_rec_free(&r);
	/* The definition moved to its own table. */
	CHECK(store_run_definition(st, r.seq, &text) == RF_OK);
	CHECK_STR(text, "{}");
	free(text);
	/* And the triggers keep counting. */
	t[0].run_seq = r.seq;
	t[0].state = ST_FAILED;
	CHECK(store_task_update(st, &t[0]) == RF_OK);
	CHECK(store_run_brief(st, r.seq, &r) == RF_OK && r.done == 2);
	run_rec_free(&r);
	CHECK(store_request_put(st, 1, REQ_KILL) == RF_OK);
	CHECK(store_request_take(st, 1, q) == 1 && q[0].verb == REQ_KILL);
	store_close(st);
}

int
main(void)
{
	const char *base = getenv("TEST_TMPDIR");
	char dir[2048];
	struct store *st = NULL;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test_share.XXXXXX", base);
	if (mkdir_p(base, 0755) < 0 || mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	CHECK(store_open(dir, &st) == RF_OK);
	if (st) {
		test_requests(st);
		test_follow(dir, st);
		store_close(st);
		test_follow_thread(dir);
		test_upgrade(dir);
	}
	CHECK(remove_tree(dir) == 0);
	return check_done();
}
