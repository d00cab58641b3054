/* tasks/ and tasks/<id>/: a task run's state, its command and arguments,
 * its output files and its logs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "layout.h"
#include "log.h"
#include "node.h"

static int
tasks_lookup(const struct node *dir, const char *name, struct node *child)
{
	struct task_rec t = {0};
	int err = rerr_errno(backend_task_find(fs_backend, dir->run, name, &t));

	if (err)
		return err;
	*child = (struct node){.kind = K_TASK, .run = dir->run, .task = t.idx};
	task_rec_free(&t);
	return 0;
}

/* Paged by index: a 10,000-task run is listed 256 rows at a time. */
static int
tasks_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	struct task_rec page[256];
	int n, full = 0;

	for (int at = (int)from;
	     !full && (n = backend_tasks_brief(fs_backend, dir->run, at, 256, page)) > 0; at += n) {
		for (int i = 0; i < n; i++) {
			struct node c = {.kind = K_TASK, .run = dir->run, .task = page[i].idx};
			if (!full)
				full = fill(ctx, page[i].id, &c, page[i].idx + 1);
			task_rec_free(&page[i]);
		}
	}
	return 0;
}

const struct kind_ops tasks_ops = {
    .mode = 0555, .lookup = tasks_lookup, .list = tasks_list, .fixed_list = 1};

enum task_file {
	TF_STATUS,
	TF_EXIT,
	TF_ATTEMPTS,
	TF_STARTED,
	TF_ENDED,
	TF_MESSAGE,
	TF_TASK,
	TF_PARENTS,
	TF_COMMAND,
	TF_USAGE,
	TF_NFILES
};
enum task_log { TL_STDOUT, TL_STDERR, TL_LOGS, TL_SYSTEM };

static const char *const task_names[] = {
    "status",	 "exit_code",	   "attempts", "started", "ended",  "message",	  "task",
    "parents",	 "command",	   "usage",    "stdout",  "stderr", "logs",	  "system",
    "cache_key", "cache_key.json", "inputs",   "outputs", "ctl",    "cached_from"};
static const enum kind task_kinds[] = {
    K_TASK_FILE, K_TASK_FILE, K_TASK_FILE, K_TASK_FILE, K_TASK_FILE, K_TASK_FILE,  K_TASK_FILE,
    K_TASK_FILE, K_TASK_FILE, K_TASK_FILE, K_TASK_LOG,	K_TASK_LOG,  K_TASK_LOG,   K_TASK_LOG,
    K_TASK_KEY,	 K_TASK_KEY,  K_INPUTS,	   K_OUTPUTS,	K_TASK_CTL,  K_TASK_CACHED};
#define NTASK 20

/* A cache hit: SUCCEEDED without an attempt; it took an earlier task
 * run's files (engine/cache.c). */
static int
task_cached(const struct task_rec *t)
{
	return t->state == ST_SUCCEEDED && t->attempts == 0;
}

/* cached_from is there only for a hit. */
static int
cached_from_exists(const struct node *dir)
{
	struct task_rec t = {0};
	int yes;

	if (node_task(dir, &t) != 0)
		return 0;
	yes = task_cached(&t);
	task_rec_free(&t);
	return yes;
}

static int
task_lookup(const struct node *dir, const char *name, struct node *child)
{
	int i = name_index(task_names, NTASK, name);

	if (i < 0 || (task_kinds[i] == K_TASK_CACHED && !cached_from_exists(dir)))
		return ENOENT;
	*child = (struct node){.kind = task_kinds[i], .run = dir->run, .task = dir->task};
	child->sub = task_kinds[i] == K_TASK_LOG ? i - TF_NFILES : (i < TF_NFILES ? i : 0);
	if (task_kinds[i] == K_TASK_CTL || task_kinds[i] == K_TASK_CACHED)
		child->sub = 0;
	if (task_kinds[i] == K_TASK_KEY)
		child->sub = strcmp(name, "cache_key") != 0;
	return 0;
}

static int
task_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	return list_names(dir, task_names, NTASK - !cached_from_exists(dir), from, fill, ctx);
}

/* Not a fixed list: cached_from comes with a hit, which a task run still
 * waiting may yet be. */
const struct kind_ops task_ops = {.mode = 0555, .lookup = task_lookup, .list = task_list};

static int
add_time(struct buf *out, int64_t ms)
{
	char iso[40];

	if (ms == 0)
		return 0;
	iso8601(ms, iso, sizeof(iso));
	return buf_printf(out, "%s\n", iso);
}

/* usage: what the latest attempt used, as the runtime measured it; every
 * field null until an attempt has ended. */
static int
usage_render(const struct node *n, struct buf *out)
{
	char *json = NULL, *text;
	json_t *o;
	int err = rerr_errno(backend_task_usage(fs_backend, n->run, n->task, &json));

	if (err)
		return err;
	o = json ? json_loads(json, 0, NULL) : NULL;
	if (o == NULL)
		o = json_pack("{s:n, s:n, s:n, s:n, s:n, s:n}", "wall_s", "user_s", "system_s",
			      "max_rss_bytes", "exit_status", "measured_by");
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	err = text == NULL || buf_printf(out, "%s\n", text) < 0 ? ENOMEM : 0;
	free(text);
	free(json);
	json_decref(o);
	return err;
}

static int
task_file_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct task_rec t = {0};
	int err, rc = 0;

	if ((err = node_task(n, &t)) != 0)
		return err;
	*mtime = t.updated;
	switch (n->sub) {
	case TF_STATUS:
		rc = buf_printf(out, "%s\n", state_name(t.state));
		break;
	case TF_EXIT:
		/* As a shell reports it: 128+N for a task killed by signal N. */
		if (t.has_exit)
			rc = buf_printf(out, "%d\n",
					t.exit_code < 0 ? 128 - t.exit_code : t.exit_code);
		break;
	case TF_ATTEMPTS:
		rc = buf_printf(out, "%d\n", t.attempts);
		break;
	case TF_STARTED:
		rc = add_time(out, t.started);
		break;
	case TF_ENDED:
		rc = add_time(out, state_completed(t.state) ? t.ended : 0);
		break;
	case TF_MESSAGE:
		rc = *t.message ? buf_printf(out, "%s\n", t.message) : 0;
		break;
	case TF_TASK:
		rc = buf_printf(out, "%s\n", t.task);
		break;
	case TF_PARENTS:
		rc = buf_adds(out, t.parents);
		break;
	case TF_COMMAND:
		rc = buf_printf(out, "%s\n", t.command);
		break;
	case TF_USAGE:
		err = usage_render(n, out);
		break;
	default:
		err = ENOENT;
	}
	task_rec_free(&t);
	return err ? err : (rc < 0 ? ENOMEM : 0);
}

const struct kind_ops task_file_ops = {.mode = 0444, .render = task_file_render};

static int
task_log_path(const struct node *n, char *path, int64_t *mtime)
{
	static const char *const files[] = {"stdout", "stderr"};
	char dir[PATH_MAX_];
	const char *dd;
	struct run_rec r = {0};
	struct task_rec t = {0};
	int err, rc;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	if ((err = node_task(n, &t)) != 0) {
		run_rec_free(&r);
		return err;
	}
	*mtime = t.updated;
	dd = backend_files(fs_backend, r.config, dir, sizeof(dir));
	if (n->sub == TL_LOGS)
		rc = path_task_log(path, dd, r.id, t.id);
	else if (n->sub == TL_SYSTEM)
		rc = path_task_system(path, dd, r.id, t.id);
	else /* before the first attempt there is no file: it reads empty;
	      * a cache hit's files are its attempt 0 */
		rc = path_attempt_file(path, dd, r.id, t.id,
				       t.attempts ? t.attempts : !task_cached(&t), files[n->sub]);
	task_rec_free(&t);
	run_rec_free(&r);
	return rc < 0 ? ENAMETOOLONG : 0;
}

static int
task_log_follows(const struct node *n)
{
	return n->sub == TL_LOGS;
}

const struct kind_ops task_log_ops = {
    .mode = 0444, .path = task_log_path, .follows = task_log_follows};

/* inputs/<arg>: the argument values, known once the parents succeeded. */
static json_t *
task_inputs(const struct node *n, int64_t *mtime)
{
	struct task_rec t = {0};
	json_t *in = NULL;

	if (node_task(n, &t) == 0) {
		in = json_loads(t.inputs, 0, NULL);
		if (mtime)
			*mtime = t.updated; /* inputs are resolved as the task run changes */
	}
	task_rec_free(&t);
	return in;
}

static int
inputs_lookup(const struct node *dir, const char *name, struct node *child)
{
	json_t *in = task_inputs(dir, NULL);
	const char *key;
	json_t *v;
	int i = 0, err = ENOENT;

	json_object_foreach(in, key, v)
	{
		if (strcmp(key, name) == 0 && i <= SUB_MAX) {
			*child = (struct node){
			    .kind = K_INPUT, .run = dir->run, .task = dir->task, .sub = i};
			err = 0;
			break;
		}
		i++;
	}
	json_decref(in);
	return err;
}

static int
inputs_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	json_t *in = task_inputs(dir, NULL);
	const char *key;
	json_t *v;
	int i = 0;

	json_object_foreach(in, key, v)
	{
		struct node c = {.kind = K_INPUT, .run = dir->run, .task = dir->task, .sub = i};
		if (i >= from && (i > SUB_MAX || fill(ctx, key, &c, i + 1)))
			break;
		i++;
	}
	json_decref(in);
	return 0;
}

const struct kind_ops inputs_ops = {
    .mode = 0555, .lookup = inputs_lookup, .list = inputs_list, .fixed_list = 1};

static int
input_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	json_t *in = task_inputs(n, mtime);
	const char *key;
	json_t *v;
	int i = 0, err = ENOENT;

	json_object_foreach(in, key, v)
	{
		if (i++ != n->sub)
			continue;
		if (json_is_null(v)) {
			/* its parents have not succeeded yet */
			err = node_run_ended(n) ? ENODATA : EAGAIN;
		} else {
			size_t len = 0;
			char *bytes = json_bytes_get(v, &len);
			err = bytes == NULL || buf_add(out, bytes, len) < 0 ? ENOMEM : 0;
			free(bytes);
		}
		break;
	}
	json_decref(in);
	return err;
}

const struct kind_ops input_ops = {.mode = 0444, .render = input_render};

/* outputs/ lists every output; artifacts/<task>/ the same for a task run
 * that succeeded. Both name their files by the output's index. */
static int
names_lookup(const struct node *dir, const char *name, struct node *child, enum kind kind)
{
	struct task_rec t = {0};
	int err, i;

	if ((err = node_task(dir, &t)) != 0)
		return err;
	i = line_index(t.outputs, name);
	task_rec_free(&t);
	if (i < 0 || i > SUB_MAX)
		return ENOENT;
	*child = (struct node){.kind = kind, .run = dir->run, .task = dir->task, .sub = i};
	return 0;
}

static int
names_list(const struct node *dir, off_t from, fill_fn fill, void *ctx, enum kind kind)
{
	struct task_rec t = {0};
	char name[TASK_ID_MAX];
	int err;

	if ((err = node_task(dir, &t)) != 0)
		return err;
	for (int i = (int)from; i <= SUB_MAX && nth_line(t.outputs, i, name, sizeof(name)) == 0;
	     i++) {
		struct node c = {.kind = kind, .run = dir->run, .task = dir->task, .sub = i};
		if (fill(ctx, name, &c, i + 1))
			break;
	}
	task_rec_free(&t);
	return 0;
}

static int
outputs_lookup(const struct node *dir, const char *name, struct node *child)
{
	return names_lookup(dir, name, child, K_OUTPUT);
}

static int
outputs_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	return names_list(dir, from, fill, ctx, K_OUTPUT);
}

static int
artifact_dir_lookup(const struct node *dir, const char *name, struct node *child)
{
	return names_lookup(dir, name, child, K_ARTIFACT);
}

static int
artifact_dir_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	return names_list(dir, from, fill, ctx, K_ARTIFACT);
}

const struct kind_ops outputs_ops = {
    .mode = 0555, .lookup = outputs_lookup, .list = outputs_list, .fixed_list = 1};
const struct kind_ops artifact_dir_ops = {
    .mode = 0555, .lookup = artifact_dir_lookup, .list = artifact_dir_list, .fixed_list = 1};

/* An output's file; EAGAIN until the task run has succeeded. */
static int
output_path(const struct node *n, char *path, int64_t *mtime)
{
	struct run_rec r = {0};
	struct task_rec t = {0};
	char name[TASK_ID_MAX];
	int err;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	if ((err = node_task(n, &t)) == 0) {
		*mtime = t.updated;
		if ((err = nth_line(t.outputs, n->sub, name, sizeof(name))) == 0)
			err = rerr_errno(backend_output_path(fs_backend, &r, &t, name, path));
	}
	task_rec_free(&t);
	run_rec_free(&r);
	return err;
}

const struct kind_ops output_ops = {.mode = 0444, .path = output_path};
const struct kind_ops artifact_ops = {.mode = 0444, .path = output_path};

/* tasks/<t>/ctl: a read shows the task run's state and the verbs that
 * apply to it now (rerun, once its run has ended); writing rerun runs it
 * again with everything downstream of it, as "rerun <t>" to the run's. */
static int
task_ctl_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec r = {0};
	struct task_rec t = {0};
	int err, rc;

	if ((err = node_run(n, &r)) != 0)
		return err;
	if ((err = node_task(n, &t)) != 0) {
		run_rec_free(&r);
		return err;
	}
	*mtime = t.updated;
	rc = buf_printf(out, "state %s\nverbs%s\n", state_name(t.state),
			strstr(backend_verbs(&r), "rerun") ? " rerun" : "");
	task_rec_free(&t);
	run_rec_free(&r);
	return rc < 0 ? ENOMEM : 0;
}

static int
task_ctl_write(const struct node *n, struct fh *fh, const char *data, size_t len)
{
	struct run_rec r = {0};
	struct task_rec t = {0};
	char verb[32], *id;
	int err;

	(void)fh;
	if (written_word(data, len, verb, sizeof(verb)) != 0 || strcmp(verb, "rerun") != 0) {
		log_info("tasks/ctl: refused a write that is not rerun");
		return EINVAL;
	}
	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	if ((err = node_task(n, &t)) == 0) {
		id = t.id;
		err = ctl_rerun(r.id, &id, 1);
		task_rec_free(&t);
	}
	run_rec_free(&r);
	return err;
}

const struct kind_ops task_ctl_ops = {
    .mode = 0644, .render = task_ctl_render, .write = task_ctl_write};

/* The cache's record of the task run (backend_task_cache), or NULL. */
static json_t *
cache_file(const struct node *n, int64_t *mtime)
{
	struct run_rec r = {0};
	struct task_rec t = {0};
	char *text = NULL;
	json_error_t je;
	json_t *o = NULL;

	if (node_run_brief(n, &r) != 0)
		return NULL;
	if (node_task(n, &t) == 0) {
		*mtime = t.updated;
		if (backend_task_cache(fs_backend, &r, &t, &text) == RF_OK)
			o = json_loads(text, 0, &je);
		free(text);
		task_rec_free(&t);
	}
	run_rec_free(&r);
	return o;
}

/* cache_key: the hex key; cache_key.json: what went into it. Empty for a
 * task without "cache", or before it started. */
static int
key_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	json_t *o = cache_file(n, mtime);
	char *text = NULL;
	int rc = 0;

	if (o && n->sub == 0)
		rc = buf_printf(out, "%s\n", json_string_value(json_object_get(o, "key")) ?: "");
	else if (o && (text = json_dumps(json_object_get(o, "made_of"), JSON_INDENT(2))) != NULL)
		rc = buf_printf(out, "%s\n", text);
	free(text);
	json_decref(o);
	return rc < 0 ? ENOMEM : 0;
}

const struct kind_ops task_key_ops = {.mode = 0444, .render = key_render};

/* tasks/<t>/cached_from: a link to the task run whose outputs a cache hit
 * took, ../../../<run>/tasks/<task> (dangling once that run is deleted:
 * the cache keeps the files). */
static int
cached_readlink(const struct node *n, struct buf *target, int64_t *mtime)
{
	json_t *o = cache_file(n, mtime);
	const char *from = json_string_value(json_object_get(o, "from"));
	const char *slash = from ? strchr(from, '/') : NULL;
	int err = 0;

	if (slash == NULL)
		err = ENOENT;
	else if (buf_printf(target, "../../../%.*s/tasks/%s", (int)(slash - from), from,
			    slash + 1) < 0)
		err = ENOMEM;
	json_decref(o);
	return err;
}

const struct kind_ops task_cached_ops = {.mode = 0777, .readlink = cached_readlink};
