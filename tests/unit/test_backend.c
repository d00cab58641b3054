/*
 * The backend without FUSE: submissions through backend_submit, executed
 * by the in_process runtime, observed through the same snapshots the
 * filesystem renders.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "layout.h"
#include "runwait.h"
#include "util.h"

static struct backend *b;

static char *
submit(const char *def, int start)
{
	static char id[RUN_ID_MAX];
	char *err = NULL;
	enum rerr e = backend_submit(b, def, strlen(def), start, id, &err);

	if (e != RF_OK) {
		fprintf(stderr, "submit: %s\n", err ? err : rerr_str(e));
		free(err);
		return NULL;
	}
	return id;
}

/* The run's seq, or -1. */
static int64_t
seq_of(const char *id)
{
	struct run_rec r = {0};
	int64_t seq = -1;

	if (backend_run(b, id, &r) == RF_OK)
		seq = r.seq;
	run_rec_free(&r);
	return seq;
}

static int
wait_run(const char *id)
{
	int64_t seq = seq_of(id);

	return seq < 0 ? -1 : wait_completed(b, seq);
}

/* A FAILED run may still have task runs finishing: retry applies once
 * they have ended. 1 once it does. */
static int
wait_retryable(const char *id)
{
	struct run_rec r = {0};
	int64_t seq = seq_of(id);
	int ok = 0;

	if (seq < 0)
		return 0;
	/* By seq: that lookup fills the task counts the verbs depend on. */
	for (int i = 0; i < 2000 && !ok; i++) {
		if (backend_run_seq(b, seq, &r) != RF_OK)
			return 0;
		ok = strcmp(backend_verbs(&r), "retry rerun") == 0;
		run_rec_free(&r);
		if (!ok)
			usleep(10000);
	}
	return ok;
}

static char *
result(const char *id, int i)
{
	char *path = NULL, *content = NULL, *err = NULL, *data = NULL;
	size_t len = 0;
	int64_t seq = seq_of(id);

	if (seq < 0)
		return NULL;
	if (backend_result(b, seq, i, &path, &content, &len, &err) != RF_OK) {
		free(err);
		return NULL;
	}
	if (path) {
		read_file(path, 1 << 20, &data, &len);
		free(path);
		return data;
	}
	return content;
}

static struct task_rec
task(const char *run, const char *tid)
{
	struct task_rec t = {0};

	backend_task_find(b, seq_of(run), tid, &t);
	return t;
}

int
main(void)
{
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char dir[256], *err = NULL, *s, *id;
	struct backend_opts o = {.config = "in_process", .jobs = 2, .grace_ms = 500};
	struct task_rec t;

	mkdir_p(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/backend.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return 2;
	o.datadir = dir;
	if (backend_open(&o, &b, &err) != RF_OK) {
		fprintf(stderr, "backend_open: %s\n", err);
		return 2;
	}

	/* A chain passing values by content and by path. */
	id = submit(
	    "{\"name\": \"hello\", \"tasks\": {"
	    "\"greet\": {\"command\": [\"printf\", \"Hello, %s!\", \"{who}\"]},"
	    "\"upper\": {\"command\": [\"tr\", \"a-z\", \"A-Z\"], \"stdin\": \"{text}\"},"
	    "\"count\": {\"command\": [\"wc\", \"-c\", \"{file}\"]}},"
	    "\"steps\": [{\"id\": \"g\", \"task\": \"greet\", \"args\": {\"who\": \"world\"}},"
	    "{\"id\": \"u\", \"task\": \"upper\", \"args\": {\"text\": {\"from\": \"g\"}}},"
	    "{\"id\": \"c\", \"task\": \"count\", \"args\": {\"file\": {\"path\": \"g\"}}}],"
	    "\"results\": [{\"from\": \"u\"}, {\"from\": \"c\"}]}",
	    1);
	CHECK(id != NULL && strncmp(id, "wf.hello.", 9) == 0 && strlen(id) == 16);
	char hello[RUN_ID_MAX];
	snprintf(hello, sizeof(hello), "%s", id);
	CHECK(wait_run(hello) == ST_SUCCEEDED);
	CHECK_STR((s = result(hello, 0)), "HELLO, WORLD!");
	free(s);
	s = result(hello, 1);
	CHECK(s && strncmp(s, "13 /", 4) == 0);
	free(s);
	t = task(hello, "u");
	CHECK(t.state == ST_SUCCEEDED && t.attempts == 1 && t.has_exit && t.exit_code == 0);
	CHECK_STR(t.parents, "g\n");
	CHECK_STR(t.command, "[\"tr\",\"a-z\",\"A-Z\"]");
	CHECK_STR(t.inputs, "{\"text\":\"Hello, world!\"}");
	task_rec_free(&t);

	/* A fan-out feeding an aggregate. */
	id = submit(
	    "{\"name\": \"fan\", \"tasks\": {"
	    "\"sq\": {\"command\": [\"sh\", \"-c\", \"echo $(($1*$1))\", \"sh\", \"{n}\"]},"
	    "\"sum\": {\"command\": [\"awk\", \"{s+=$1} END {print s}\"], \"stdin\": \"{xs}\"}},"
	    "\"steps\": [{\"id\": \"sq\", \"task\": \"sq\", \"foreach\": {\"n\": [1,2,3,4]}},"
	    "{\"id\": \"sum\", \"task\": \"sum\", \"args\": {\"xs\": {\"from\": \"sq\"}}}],"
	    "\"results\": [{\"from\": \"sum\"}, {\"from\": \"sq\"}]}",
	    1);
	CHECK(id != NULL);
	char fan[RUN_ID_MAX];
	snprintf(fan, sizeof(fan), "%s", id);
	CHECK(wait_run(fan) == ST_SUCCEEDED);
	CHECK_STR((s = result(fan, 0)), "30\n");
	free(s);
	CHECK_STR((s = result(fan, 1)), "1\n4\n9\n16\n");
	free(s);

	/* Values around the length the scheduler holds in memory (512): each
	 * reader gets the whole value, from memory or from the file, and a
	 * fan-in mixes both. */
	id = submit(
	    "{\"name\": \"keep\", \"tasks\": {"
	    "\"xs\": {\"command\": [\"sh\", \"-c\", \"head -c $1 /dev/zero | tr '\\\\0' x; echo\", "
	    "\"sh\", \"{n}\"]},"
	    "\"len\": {\"command\": [\"sh\", \"-c\", \"printf %s \\\"$1\\\" | wc -c\", \"sh\", "
	    "\"{v}\"]}},"
	    "\"steps\": [{\"id\": \"p512\", \"task\": \"xs\", \"args\": {\"n\": 511}},"
	    "{\"id\": \"p513\", \"task\": \"xs\", \"args\": {\"n\": 512}},"
	    "{\"id\": \"many\", \"task\": \"xs\", \"foreach\": {\"n\": [0, 511, 512, 4000]}},"
	    "{\"id\": \"a\", \"task\": \"len\", \"args\": {\"v\": {\"from\": \"p512\"}}},"
	    "{\"id\": \"b\", \"task\": \"len\", \"args\": {\"v\": {\"from\": \"p512\"}}},"
	    "{\"id\": \"c\", \"task\": \"len\", \"args\": {\"v\": {\"from\": \"p513\"}}},"
	    "{\"id\": \"d\", \"task\": \"len\", \"args\": {\"v\": {\"from\": \"many\"}}}],"
	    "\"results\": [{\"from\": \"a\"}, {\"from\": \"b\"}, {\"from\": \"c\"}, "
	    "{\"from\": \"d\"}]}",
	    1);
	CHECK(id != NULL);
	char keep[RUN_ID_MAX];
	snprintf(keep, sizeof(keep), "%s", id ? id : "");
	CHECK(wait_run(keep) == ST_SUCCEEDED);
	/* 511 x and a newline (512 bytes held), read twice; 512 x and a
	 * newline (513, from the file); 0 + 511 + 512 + 4000 and 3 newlines. */
	const char *want[] = {"511\n", "511\n", "512\n", "5026\n"};
	for (int i = 0; i < 4; i++) {
		CHECK_STR((s = result(keep, i)), want[i]);
		free(s);
	}

	/* A failure fails the run; its dependant never runs; retries count. */
	id = submit("{\"name\": \"bad\", \"tasks\": {"
		    "\"fail\": {\"command\": [\"sh\", \"-c\", \"echo oops >&2; exit 3\"], "
		    "\"retries\": 1},"
		    "\"after\": {\"command\": [\"cat\"], \"stdin\": \"{x}\"}},"
		    "\"steps\": [{\"id\": \"f\", \"task\": \"fail\"},"
		    "{\"id\": \"a\", \"task\": \"after\", \"args\": {\"x\": {\"from\": \"f\"}}}]}",
		    1);
	char bad[RUN_ID_MAX];
	snprintf(bad, sizeof(bad), "%s", id ? id : "");
	CHECK(wait_run(bad) == ST_FAILED);
	t = task(bad, "f");
	CHECK(t.state == ST_FAILED && t.attempts == 2 && t.exit_code == 3);
	CHECK_STR(t.message, "exited with status 3");
	task_rec_free(&t);
	t = task(bad, "a");
	CHECK(t.state == ST_WAITING && t.attempts == 0);
	task_rec_free(&t);
	struct run_rec r = {0};
	backend_run(b, bad, &r);
	CHECK_STR(r.message, "task f failed: exited with status 3");
	CHECK_STR(backend_verbs(&r), "retry rerun");
	char *p = NULL, *c = NULL;
	size_t len;
	CHECK(backend_result(b, r.seq, 0, &p, &c, &len, &err) == RF_FAILED);
	free(err);
	run_rec_free(&r);

	/* A timeout kills the process group. */
	id = submit("{\"name\": \"slow\", \"tasks\": {\"s\": {\"command\": [\"sleep\", \"30\"], "
		    "\"timeout\": 0.3}}, \"steps\": [{\"id\": \"s\", \"task\": \"s\"}]}",
		    1);
	char slow[RUN_ID_MAX];
	snprintf(slow, sizeof(slow), "%s", id ? id : "");
	CHECK(wait_run(slow) == ST_FAILED);
	t = task(slow, "s");
	CHECK_STR(t.message, "timed out after 0.3 s");
	task_rec_free(&t);

	/* Stop terminates; a prepared run waits for start. The task says when
	 * it ignores SIGTERM (RUNNING comes before its shell has got that far). */
	char trapped[PATH_MAX_ + 64], stopdef[8192];
	snprintf(trapped, sizeof(trapped), "%s/trapped", dir);
	snprintf(stopdef, sizeof(stopdef),
		 "{\"name\": \"stopme\", \"tasks\": {\"s\": {\"command\": "
		 "[\"sh\", \"-c\", \"trap '' TERM; : >%s; sleep 30\"]}}, "
		 "\"steps\": [{\"id\": \"s\", \"task\": \"s\"}]}",
		 trapped);
	id = submit(stopdef, 0);
	char stopme[RUN_ID_MAX];
	snprintf(stopme, sizeof(stopme), "%s", id ? id : "");
	backend_run(b, stopme, &r);
	CHECK(r.state == ST_WAITING && r.prepared);
	CHECK_STR(backend_verbs(&r), "start stop kill");
	run_rec_free(&r);
	CHECK(backend_control(b, stopme, "start", &err) == RF_OK);
	for (int i = 0; i < 500 && access(trapped, F_OK) < 0; i++)
		usleep(10000);
	t = task(stopme, "s");
	CHECK(t.state == ST_RUNNING);
	task_rec_free(&t);
	CHECK(backend_control(b, stopme, "start", &err) == RF_BUSY);
	free(err);
	err = NULL;
	CHECK(backend_control(b, stopme, "frobnicate", &err) == RF_INVAL);
	CHECK_STR(err, "unknown verb \"frobnicate\" (verbs: start stop kill retry)");
	free(err);
	CHECK(backend_control(b, stopme, "stop", &err) == RF_OK);
	CHECK(wait_run(stopme) == ST_TERMINATED);
	t = task(stopme, "s");
	CHECK(t.state == ST_TERMINATED && t.exit_code == -9);
	task_rec_free(&t);

	/* Retry re-runs what did not succeed. */
	char flag[PATH_MAX_ + 64], def[8192];
	snprintf(flag, sizeof(flag), "%s/flag", dir);
	snprintf(def, sizeof(def),
		 "{\"name\": \"again\", \"tasks\": {\"ok\": {\"command\": [\"echo\", \"fine\"]},"
		 "\"gate\": {\"command\": [\"test\", \"-e\", \"{f}\"]}},"
		 "\"steps\": [{\"id\": \"ok\", \"task\": \"ok\"},"
		 "{\"id\": \"gate\", \"task\": \"gate\", \"args\": {\"f\": \"%s\"}}]}",
		 flag);
	id = submit(def, 1);
	char again[RUN_ID_MAX];
	snprintf(again, sizeof(again), "%s", id ? id : "");
	CHECK(wait_run(again) == ST_FAILED);
	CHECK(wait_retryable(again));
	write_file(flag, "", 0, 0600);
	CHECK(backend_control(b, again, "retry", &err) == RF_OK);
	CHECK(wait_run(again) == ST_SUCCEEDED);
	t = task(again, "ok");
	CHECK(t.attempts == 1);
	task_rec_free(&t);
	t = task(again, "gate");
	CHECK(t.attempts == 2 && t.state == ST_SUCCEEDED);
	task_rec_free(&t);

	/* Rejected definitions record nothing. */
	char rid[RUN_ID_MAX];
	CHECK(backend_submit(b, "{\"name\": \"x\"", 12, 1, rid, &err) == RF_INVAL);
	CHECK(err && strncmp(err, "line 1", 6) == 0);
	free(err);
	struct run_rec list[64];
	int n = backend_runs(b, 0, 64, list);
	CHECK(n == 7); /* every run submitted above */
	for (int i = 0; i < n; i++)
		run_rec_free(&list[i]);

	backend_close(b);
	remove_tree(dir);
	return check_done();
}
