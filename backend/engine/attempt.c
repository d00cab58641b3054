/*
 * One attempt of a task run: resolve its arguments from the parents'
 * outputs, lay out its folder, spawn it, and when it ends decide between
 * success, another attempt and failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bind.h"
#include "cache.h"
#include "guard.h"
#include "launcher.h"
#include "log.h"
#include "layout.h"
#include "sched_int.h"
#include "util.h"

extern char **environ;

/* A stdout up to this long is held for its readers (stask.value): most
 * values passed on are a number or a name. Longer ones are read back from
 * their file; so are all after a restart. */
#define VALUE_KEEP_MAX 512

struct argvals {
	const struct defn_step *step;
	char **values; /* parallel to the task's params */
	const struct defn_task *task;
};

static const char *
lookup_param(const char *name, size_t len, void *arg)
{
	struct argvals *av = arg;

	for (int i = 0; i < av->task->nparams; i++)
		if (strlen(av->task->params[i]) == len &&
		    memcmp(av->task->params[i], name, len) == 0)
			return av->values[i];
	return NULL;
}

/* The value of a reference to step `ref` output `out`, for copy k of all
 * its task runs: contents (trailing newlines removed) or paths, one per
 * line for a fan-out. */
static int
ref_value(struct sched *s, struct srun *r, const struct defn_arg *a, struct buf *v, char *err,
	  size_t errsz)
{
	const struct defn_step *ps = &r->d->steps[a->step];
	const char *oname = r->d->tasks[ps->task].outputs[a->output];
	int first = r->plan.step_first[a->step], n = r->plan.step_count[a->step];

	for (int k = 0; k < n; k++) {
		struct stask *p = &r->t[first + k];
		char path[PATH_MAX_];

		if (path_output(path, s->datadir, r->rec.id, p->rec.id, p->rec.attempts, oname) <
		    0) {
			snprintf(err, errsz, "path of %s too long", p->rec.id);
			return -1;
		}
		if (a->kind != ARG_PATH && p->value && strcmp(oname, "stdout") == 0) {
			int added = bind_ref_piece(v, k, p->value, p->value_len);
			/* A value held for its readers goes with the last one. */
			if (--p->readers <= 0) {
				free(p->value);
				p->value = NULL;
			}
			if (added < 0)
				goto nomem;
		} else if (bind_ref_file(v, k, path, a->kind == ARG_PATH, BIND_VALUE_MAX) < 0) {
			if (errno == ENOMEM)
				goto nomem;
			snprintf(err, errsz, "argument %s: cannot read output %s of %s: %s",
				 a->name, oname, p->rec.id, strerror(errno));
			return -1;
		}
	}
	return 0;
nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* Fills av->values for every param of the task. */
static int
resolve_args(struct sched *s, struct stask *t, struct argvals *av, char *err, size_t errsz)
{
	struct srun *r = t->run;
	int copy = r->plan.tr_copy[t->rec.idx];

	for (int i = 0; i < av->task->nparams; i++) {
		struct binding b;
		struct buf v = {0};

		if (bind_param(av->step, copy, av->task->params[i], &b) == 0) {
			if (b.value && buf_adds(&v, b.value) < 0)
				goto nomem;
			if (b.ref && ref_value(s, r, b.ref, &v, err, errsz) < 0) {
				buf_free(&v);
				return -1;
			}
		}
		av->values[i] = buf_steal(&v);
		if (av->values[i] == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

static char **
build_env(struct stask *t, const struct defn_task *task, const char *outputs)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + (size_t)task->nenv + 5, sizeof(char *));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "RUNFS_", 6) == 0)
			continue;
		env[k++] = environ[i]; /* borrowed, not freed */
	}
	/* Ours come last: the env of a task overrides the daemon's. */
	for (int i = 0; i < task->nenv; i++) {
		if (asprintf(&env[k++], "%s=%s", task->env_names[i], task->env_values[i]) < 0)
			env[--k] = NULL;
	}
	if (asprintf(&env[k++], "RUNFS_RUN_ID=%s", t->run->rec.id) < 0)
		env[--k] = NULL;
	if (asprintf(&env[k++], GUARD_ENV "=%d", (int)getpid()) < 0)
		env[--k] = NULL;
	if (asprintf(&env[k++], "RUNFS_TASK_ID=%s", t->rec.id) < 0)
		env[--k] = NULL;
	if (asprintf(&env[k++], "RUNFS_OUTPUTS=%s", outputs) < 0)
		env[--k] = NULL;
	return env;
}

static void
free_env(char **env, const struct defn_task *task)
{
	size_t n = 0;

	if (env == NULL)
		return;
	while (env[n])
		n++;
	/* The last nenv + 4 entries are ours. */
	for (size_t i = n - ((size_t)task->nenv + 4 <= n ? (size_t)task->nenv + 4 : n); i < n; i++)
		free(env[i]);
	free(env);
}

static char *
json_strings(char **v, int n)
{
	json_t *a = json_array();
	char *s;

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_bytes(v[i], strlen(v[i])));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void
replace_str(char **dst, char *src)
{
	if (src == NULL)
		return;
	free(*dst);
	*dst = src;
}

/* The step a task run is a copy of, and the task it runs. */
static int
step_of(const struct stask *t)
{
	return t->run->plan.tr_step[t->rec.idx];
}

static int
named_outputs(const struct defn_task *task)
{
	return task->noutputs > 1 || strcmp(task->outputs[0], "stdout") != 0;
}

/* Lays out attempt n's folder and opens its files. */
static int
prepare_attempt(struct sched *s, struct stask *t, const struct defn_task *task, int n,
		const char *stdin_text, char *err, size_t errsz)
{
	const char *run = t->run->rec.id, *id = t->rec.id;
	char path[PATH_MAX_];
	int fd, again = 0;

	/* Only what every task needs is made now: its own working directory,
	 * and $RUNFS_OUTPUTS when it declares outputs there. Its output files
	 * appear when it first prints (most tasks print little or nothing). */
	if (path_attempt_file(path, s->datadir, run, id, n, "work") < 0)
		goto fail;
	if (workdir_make(s, path) < 0) {
		if (errno != EEXIST || workdir_reclaim(s, run, id, n) < 0 ||
		    workdir_make(s, path) < 0)
			goto fail;
		again = 1;
	}
	if (named_outputs(task) &&
	    (path_attempt_file(path, s->datadir, run, id, n, "outputs") < 0 ||
	     mkdir(path, 0700) < 0))
		goto fail;
	if (stdin_text) {
		if (path_attempt_file(path, s->datadir, run, id, n, "stdin") < 0 ||
		    write_file(path, stdin_text, strlen(stdin_text), 0600) < 0)
			goto fail;
	}
	if (path_task_log(path, s->datadir, run, id) < 0)
		goto fail;
	task_log_set(&t->tlog, path, &t->out);
	/* A retried task's combined log says where each new attempt begins
	 * (as all of the log, at its best: a failure is logged). */
	if ((n > 1 || again) && (fd = task_log_fd(&t->tlog)) >= 0 &&
	    dprintf(fd,
		    again ? "runfs: attempt %d, again: its first start was not recorded\n"
			  : "runfs: attempt %d\n",
		    n) < 0)
		log_warn("task log %s", path);
	if (path_attempt_file(path, s->datadir, run, id, n, "stdout") < 0 ||
	    lazy_file_set(&t->out.file, path) < 0)
		goto fail;
	if (path_attempt_file(path, s->datadir, run, id, n, "stderr") < 0 ||
	    lazy_file_set(&t->err.file, path) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errsz, "cannot prepare %.300s: %s", path, strerror(errno));
	return -1;
}

static int
outputs_written(struct sched *s, struct stask *t, char *err, size_t errsz)
{
	struct srun *r = t->run;
	const struct defn_task *task = sched_task_def(t);
	char path[PATH_MAX_];
	struct stat st;

	for (int i = 0; i < task->noutputs; i++) {
		if (strcmp(task->outputs[i], "stdout") == 0)
			continue;
		if (path_output(path, s->datadir, r->rec.id, t->rec.id, t->rec.attempts,
				task->outputs[i]) < 0 ||
		    stat_nolinks(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			snprintf(err, errsz,
				 "output \"%s\" was not written (a regular file in $RUNFS_OUTPUTS)",
				 task->outputs[i]);
			return 0;
		}
	}
	return 1;
}

/* Ends the attempt whose leader has exited (or is being abandoned). */
static int
end_attempt(struct sched *s, struct stask *t, int block, char *why, size_t whysz)
{
	struct rusage ru = {0};
	int64_t limit = task_memory_limit(t);
	char *usage;
	struct log_sink sink = {&t->tlog, t->run->log_fd, &t->run->log_err, t->rec.id};
	char work[PATH_MAX_];
	int code = 0, ok;

	/* Kill what the command left behind in its group before reaping the
	 * leader: until then its pid, the group's id, cannot be reused. */
	exec_signal(&t->proc, SIGKILL);
	while (exec_reap_usage(&t->proc, &code, &ru) < 0) {
		if (!block) {
			/* pidfd readable means exited; should not happen */
			log_warnx("task %s: exit not reaped", t->rec.id);
			break;
		}
		usleep(1000);
	}
	/* A path handed on must name a file, even for a task that printed
	 * nothing (output files are otherwise made on first write). */
	if (t->run->stdout_by_path[step_of(t)])
		lazy_file_fd(&t->out.file);
	pump_finish(&t->out, &sink);
	pump_finish(&t->err, &sink);
	task_log_close(&t->tlog);
	if (path_attempt_file(work, s->datadir, t->run->rec.id, t->rec.id, t->rec.attempts,
			      "work") == 0)
		workdir_done(s, work);
	exec_close(&t->proc);
	sched_running_remove(s, t);
	t->rec.has_exit = 1;
	t->rec.exit_code = code;
	t->rec.ended = now_ms();
	ok = 0;
	if (t->timed_out)
		snprintf(why, whysz, "timed out after %g s", sched_task_def(t)->timeout);
	else if (limit > 0 && (t->out_of_memory || (int64_t)ru.ru_maxrss * 1024 > limit))
		snprintf(why, whysz, "out of memory (limit %lld MiB)",
			 (long long)((limit + (1 << 20) - 1) >> 20));
	else if (code > 0)
		snprintf(why, whysz, "exited with status %d", code);
	else if (code < 0)
		snprintf(why, whysz, "killed by signal %d (%s)", -code, strsignal(-code));
	else if (t->out.file.err || t->err.file.err)
		/* Succeeding on a stdout cut short would pass on a wrong value. */
		snprintf(why, whysz, "its %s could not be kept: %s",
			 t->out.file.err ? "stdout" : "stderr",
			 strerror(t->out.file.err ? t->out.file.err : t->err.file.err));
	else
		ok = outputs_written(s, t, why, whysz);
	if (ok && t->out.keep_max && !t->out.kept_cut) {
		t->value_len = t->out.kept.len;
		t->value = buf_steal(&t->out.kept);
		t->readers = t->run->stdout_readers[step_of(t)];
	}
	buf_free(&t->out.kept);
	usage = usage_json(&ru, t->rec.ended - t->attempt_started, code, limit);
	sched_attempt_put(s, t,
			  &(struct attempt_rec){.n = t->rec.attempts,
						.state = ok ? ST_SUCCEEDED : ST_FAILED,
						.has_exit = 1,
						.exit_code = code,
						.started = t->attempt_started,
						.ended = t->rec.ended,
						.message = ok ? "" : why,
						.usage = usage});
	free(usage);
	return ok;
}

/* Says why an attempt could not start where its output would have been:
 * its stderr, its log and the run's log. */
static void
note_failure(struct stask *t, const char *why)
{
	char line[768];
	int n = snprintf(line, sizeof(line), "runfs: %s\n", why);
	int fds[] = {lazy_file_fd(&t->err.file), task_log_fd(&t->tlog)};

	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0 && write(fds[i], line, (size_t)n) < 0)
			log_warn("write log of %s", t->rec.id);
	if (t->run->log_fd >= 0 && dprintf(t->run->log_fd, "%s | %s", t->rec.id, line) < 0)
		log_warn("write log of %s", t->run->rec.id);
}

/* The attempt could not even start: it counts as a failed attempt, so that
 * retries and the run's roll-up apply as for any failure. May free the run. */
static void
not_started(struct sched *s, struct stask *t, char *err)
{
	note_failure(t, err);
	/* As a shell reports it: 127 not found, 126 found but not runnable. */
	t->rec.has_exit = 1;
	t->rec.exit_code = strncmp(err, "command not found", 17) == 0 ? 127 : 126;
	t->rec.ended = now_ms();
	lazy_file_close(&t->out.file);
	lazy_file_close(&t->err.file);
	task_log_close(&t->tlog);
	sched_attempt_put(s, t,
			  &(struct attempt_rec){.n = t->rec.attempts,
						.state = ST_FAILED,
						.started = t->attempt_started,
						.ended = t->rec.ended,
						.message = err});
	sched_task_failed(s, t, err);
}

/* What a launch owns: argv and envp, and the strings cwd and stdin_path. */
static void
launch_free(struct launch *j, const struct defn_task *task)
{
	if (j == NULL)
		return;
	for (int i = 0; j->req.argv && i < task->argc; i++)
		free(j->req.argv[i]);
	free((char **)j->req.argv);
	free_env((char **)j->req.envp, task);
	free((char *)j->req.cwd);
	free((char *)j->req.stdin_path);
	free(j);
}

/*
 * Lays the attempt out and hands its process to the launcher. The task
 * holds its share of the cores from now on; attempt_launched goes on once
 * the process runs (or could not be started).
 */
void
attempt_start(struct sched *s, struct stask *t)
{
	struct srun *r = t->run;
	const struct defn_step *step = &r->d->steps[step_of(t)];
	const struct defn_task *task = &r->d->tasks[step->task];
	struct argvals av = {.step = step, .task = task};
	char **argv = NULL, *stdin_text = NULL;
	char err[512] = "", path[PATH_MAX_], outdir[PATH_MAX_];
	int n = t->rec.attempts + 1, failed = 0;
	struct launch *j = NULL;

	t->tlog = (struct task_log){.file = {.fd = -1}};
	t->out = (struct pump){.fd = -1, .file = {.fd = -1}};
	t->err = (struct pump){.fd = -1, .file = {.fd = -1}};
	t->proc = (struct exec_proc){.pid = -1, .pidfd = -1, .out_fd = -1, .err_fd = -1};
	if (r->stdout_readers[step_of(t)] > 0)
		t->out.keep_max = VALUE_KEEP_MAX;
	t->deadline = 0;
	t->timed_out = 0;
	t->out_of_memory = 0;
	av.values = calloc((size_t)task->nparams + 1, sizeof(char *));
	argv = calloc((size_t)task->argc + 1, sizeof(char *));
	j = calloc(1, sizeof(*j));
	if (av.values == NULL || argv == NULL || j == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (resolve_args(s, t, &av, err, sizeof(err)) < 0)
		goto fail;
	for (int i = 0; i < task->argc; i++)
		if ((argv[i] = tmpl_subst(task->argv[i], lookup_param, &av)) == NULL)
			goto nomem;
	if (task->stdin_tmpl &&
	    (stdin_text = tmpl_subst(task->stdin_tmpl, lookup_param, &av)) == NULL)
		goto nomem;
	replace_str(&t->rec.command, json_strings(argv, task->argc));
	replace_str(&t->rec.inputs, bind_inputs_json(task, (const char *const *)av.values));
	if (task->cache && cache_hit(s, t, task, step, av.values))
		goto out;
	if (prepare_attempt(s, t, task, n, stdin_text, err, sizeof(err)) < 0)
		goto fail;
	if (path_attempt_file(outdir, s->datadir, r->rec.id, t->rec.id, n, "outputs") < 0 ||
	    path_attempt_file(path, s->datadir, r->rec.id, t->rec.id, n, "work") < 0)
		goto fail;
	j->arg = t;
	j->req.argv = argv;
	argv = NULL;
	if ((j->req.cwd = strdup(path)) == NULL ||
	    (j->req.envp = build_env(t, task, outdir)) == NULL)
		goto nomem;
	if (stdin_text) {
		path_attempt_file(path, s->datadir, r->rec.id, t->rec.id, n, "stdin");
		if ((j->req.stdin_path = strdup(path)) == NULL)
			goto nomem;
	}
	t->rec.attempts = n;
	t->attempt_started = now_ms();
	if (t->rec.started == 0)
		t->rec.started = t->attempt_started;
	if (sched_running_add(s, t) < 0)
		goto nomem;
	t->launch = j;
	j = NULL;
	/* Recorded as running from here: it holds its cores, and a failure
	 * to start is recorded as this attempt's end. */
	t->rec.state = ST_RUNNING;
	t->rec.has_exit = 0;
	free(t->rec.message);
	t->rec.message = strdup("");
	sched_task_update(s, t);
	sched_attempt_put(
	    s, t,
	    &(struct attempt_rec){.n = n, .state = ST_RUNNING, .started = t->attempt_started});
	if (r->rec.state == ST_WAITING) {
		r->rec.state = ST_RUNNING;
		if (r->rec.started == 0)
			r->rec.started = now_ms();
		sched_run_update(s, r);
	}
	/* Last: once the launcher has it, the task may run (and be seen
	 * running) before this thread goes on. */
	s->nlaunching++;
	launcher_push(s->launcher, t->launch);
	goto out;
nomem:
	snprintf(err, sizeof(err), "out of memory");
fail:
	t->rec.attempts = n;
	t->attempt_started = now_ms();
	if (t->rec.started == 0)
		t->rec.started = t->attempt_started;
	failed = 1;
out:
	for (int i = 0; av.values && i < task->nparams; i++)
		free(av.values[i]);
	free(av.values);
	for (int i = 0; argv && i < task->argc; i++)
		free(argv[i]);
	free(argv);
	free(stdin_text);
	launch_free(j, task);
	/* Last: a failure may end the run and free everything above. */
	if (failed)
		not_started(s, t, err);
}

void
attempt_launched(struct sched *s, struct launch *j)
{
	struct stask *t = j->arg;
	struct srun *r = t->run;
	const struct defn_task *task = sched_task_def(t);
	char err[sizeof(j->err)];

	t->launch = NULL;
	s->nlaunching--;
	if (j->rc < 0) {
		snprintf(err, sizeof(err), "%s", j->err);
		launch_free(j, task);
		sched_running_remove(s, t);
		not_started(s, t, err);
		return;
	}
	t->proc = j->proc;
	launch_free(j, task);
	t->out.fd = t->proc.out_fd;
	t->err.fd = t->proc.err_fd;
	t->proc.out_fd = t->proc.err_fd = -1;
	t->deadline = task->timeout > 0 ? mono_ms() + (int64_t)(task->timeout * 1000) : 0;
	/* A stop or kill that came while it was being launched. */
	if (r->stopping)
		exec_signal(&t->proc, r->stopping == VERB_STOP ? SIGTERM : SIGKILL);
}

void
attempt_finish(struct sched *s, struct stask *t)
{
	char why[512] = "";

	if (end_attempt(s, t, 0, why, sizeof(why))) {
		if (t->cache_key[0])
			cache_save(s->datadir, s->datadir, t->cache_key, t->run->rec.id,
				   sched_task_def(t), t->rec.id, t->rec.attempts);
		sched_task_succeeded(s, t);
	} else
		sched_task_failed(s, t, why);
}

void
attempt_abandon(struct sched *s, struct stask *t, int state, const char *why)
{
	char ignored[512];

	end_attempt(s, t, 1, ignored, sizeof(ignored));
	t->rec.state = state;
	free(t->rec.message);
	t->rec.message = strdup(why);
	sched_task_update(s, t);
}
