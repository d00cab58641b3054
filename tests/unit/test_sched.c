/*
 * The scheduler on its own: a task run starts only once the success of
 * the parent it builds on is committed, so that no crash can lose that
 * success (retry would run the parent again under a child that already
 * took its output). Task changes wait up to batch_ms for their commit;
 * here it is a minute, so that nothing but this rule commits a success
 * before the test looks.
 *
 * And when the daemon was killed between an attempt's start and its record,
 * the same attempt starts again (retry), without what the first left.
 *
 * The runs are recorded through a backend whose configuration is local
 * (with no daemon started), and executed by a scheduler of the test's own
 * on a second connection. The backend's connection sees only what the
 * scheduler committed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "layout.h"
#include "runwait.h"
#include "scheduler.h"
#include "util.h"

static struct backend *b;
static char dir[256];

static int
exists(const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0;
}

static void
touch(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL)
		fclose(f);
}

/* 1 once DIR/name exists (at most 10 s). */
static int
wait_file(const char *name)
{
	for (int i = 0; i < 1000; i++) {
		if (exists(name))
			return 1;
		usleep(10000);
	}
	return 0;
}

/* parent waits for DIR/<tag>.go and prints; child takes its output, marks
 * DIR/<tag>.child, waits for DIR/<tag>.end and prints it. Returns the run's
 * seq, and its id in id. */
static int64_t
submit_chain(const char *tag, char id[RUN_ID_MAX])
{
	char def[2048], *err = NULL;
	struct run_rec r = {0};
	int64_t seq = -1;

	snprintf(def, sizeof(def),
		 "{\"name\": \"chain\", \"config\": \"local\", \"tasks\": {"
		 "\"parent\": {\"command\": [\"sh\", \"-c\", \"while [ ! -e \\\"$0\\\" ]; do "
		 "sleep 0.01; done; echo made\", \"%s/%s.go\"]},"
		 "\"child\": {\"command\": [\"sh\", \"-c\", \"touch \\\"$0.child\\\"; while [ ! -e "
		 "\\\"$0.end\\\" ]; do sleep 0.01; done; echo \\\"$1\\\"\", \"%s/%s\", \"{in}\"]}},"
		 "\"steps\": [{\"id\": \"parent\", \"task\": \"parent\"},"
		 "{\"id\": \"child\", \"task\": \"child\", \"args\": {\"in\": {\"from\": "
		 "\"parent\"}}}]}",
		 dir, tag, dir, tag);
	if (backend_submit(b, def, strlen(def), 1, id, &err) != RF_OK) {
		fprintf(stderr, "submit: %s\n", err ? err : "?");
		free(err);
		return -1;
	}
	if (backend_run(b, id, &r) == RF_OK)
		seq = r.seq;
	run_rec_free(&r);
	return seq;
}

/* The committed state of a task run, as another process would read it. */
static int
committed_state(int64_t seq, const char *tid)
{
	struct task_rec t = {0};
	int state = -1;

	if (backend_task_find(b, seq, tid, &t) == RF_OK)
		state = t.state;
	task_rec_free(&t);
	return state;
}

int
main(void)
{
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	struct backend_opts o = {.config = "local", .no_autostart = 1};
	struct store *st = NULL, *locker = NULL;
	struct sched *s = NULL;
	struct run_rec r = {0};
	char *err = NULL, id[RUN_ID_MAX], path[PATH_MAX_], log[PATH_MAX_], *text = NULL;
	size_t len;
	int64_t seq;

	mkdir_p(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/sched.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return 2;
	o.datadir = dir;
	if (backend_open(&o, &b, &err) != RF_OK || store_open(dir, &st) != RF_OK) {
		fprintf(stderr, "open: %s\n", err ? err : "store");
		return 2;
	}
	struct sched_opts so = {
	    .st = st, .datadir = dir, .jobs = 2, .grace_ms = 500, .batch_ms = 60000};
	if (sched_start(&so, &s) < 0)
		return 2;

	/* A child starts only once its parent's success is committed. */
	seq = submit_chain("plain", id);
	CHECK(seq > 0 && sched_launch(s, seq) == RF_OK);
	touch("plain.go");
	CHECK(wait_file("plain.child"));
	CHECK(committed_state(seq, "parent") == ST_SUCCEEDED);
	touch("plain.end");
	CHECK(wait_completed(b, seq) == ST_SUCCEEDED);

	/* The store locked by another connection for the whole run: the
	 * child waits for the store, and starts once it can be written. */
	seq = submit_chain("locked", id);
	CHECK(store_open(dir, &locker) == RF_OK);
	/* An uncommitted write holds the write lock until it is discarded. */
	CHECK(locker && store_run_get_seq(locker, seq, &r) == RF_OK &&
	      store_run_update(locker, &r) == RF_OK);
	CHECK(seq > 0 && sched_launch(s, seq) == RF_OK);
	touch("locked.go");
	usleep(1500000); /* three retries of the save */
	CHECK(!exists("locked.child"));
	CHECK(committed_state(seq, "parent") == ST_WAITING);
	store_discard(locker);
	CHECK(wait_file("locked.child"));
	CHECK(committed_state(seq, "parent") == ST_SUCCEEDED);
	touch("locked.end");
	CHECK(wait_completed(b, seq) == ST_SUCCEEDED);

	/* What a kill -9 leaves when the child's start was not yet recorded:
	 * its working directory with a file in it, and a stdout that is also
	 * the task's log. The attempt runs again as attempt 1, afresh. */
	seq = submit_chain("lost", id);
	CHECK(path_attempt_file(path, dir, id, "child", 1, "work") == 0 &&
	      mkdir_p(path, 0700) == 0);
	strcat(path, "/junk");
	CHECK(write_file(path, "x", 1, 0600) == 0);
	CHECK(path_run_file(path, dir, id, "logs.d") == 0 && mkdir_p(path, 0700) == 0);
	CHECK(path_attempt_file(path, dir, id, "child", 1, "stdout") == 0 &&
	      write_file(path, "lost\n", 5, 0600) == 0);
	CHECK(path_task_log(log, dir, id, "child") == 0 && link(path, log) == 0);
	CHECK(seq > 0 && sched_launch(s, seq) == RF_OK);
	touch("lost.go");
	CHECK(wait_file("lost.child"));
	touch("lost.end");
	CHECK(wait_completed(b, seq) == ST_SUCCEEDED);
	CHECK(read_file(path, 4096, &text, &len) == 0);
	CHECK_STR(text, "made\n");
	free(text);
	text = NULL;
	CHECK(read_file(log, 4096, &text, &len) == 0);
	CHECK_STR(text, "lost\nrunfs: attempt 1, again: its first start was not recorded\nmade\n");
	free(text);
	CHECK(path_attempt_file(path, dir, id, "child", 1, "work") == 0 && strcat(path, "/junk") &&
	      access(path, F_OK) < 0);

	run_rec_free(&r);
	store_close(locker);
	sched_stop(s);
	store_close(st);
	backend_close(b);
	CHECK(remove_tree(dir) == 0);
	return check_done();
}
