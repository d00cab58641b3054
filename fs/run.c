/* runs/<id>/: the run's own files (status, status.json, progress, message,
 * definition.json, config, logs, ctl) and its sub-folders. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "layout.h"
#include "log.h"
#include "node.h"

enum run_file {
	RUNF_STATUS,
	RUNF_STATUS_JSON,
	RUNF_PROGRESS,
	RUNF_MESSAGE,
	RUNF_DEFINITION,
	RUNF_CONFIG,
	RUNF_PARAMS,
	RUNF_NFILES
};

static const char *const run_names[] = {
    "status",	   "status.json", "progress",  "message", "definition.json", "config",
    "params.json", "logs",	  "ctl",       "wait",	  "events",	     "results",
    "artifacts",   "tasks",	  "graph.dot", "by-state"};
static const enum kind run_kinds[] = {K_RUN_FILE,  K_RUN_FILE, K_RUN_FILE, K_RUN_FILE,
				      K_RUN_FILE,  K_RUN_FILE, K_RUN_FILE, K_RUN_LOGS,
				      K_CTL,	   K_WAIT,     K_EVENTS,   K_RESULTS,
				      K_ARTIFACTS, K_TASKS,    K_GRAPH,	   K_RUN_BY_STATE};
#define NRUN 16

int
run_nodes(int64_t run, struct node *out)
{
	for (int i = 0; i < NRUN; i++)
		out[i] =
		    (struct node){.kind = run_kinds[i], .run = run, .sub = i < RUNF_NFILES ? i : 0};
	return NRUN;
}

static int
run_lookup(const struct node *dir, const char *name, struct node *child)
{
	int i = name_index(run_names, NRUN, name);

	if (i < 0)
		return ENOENT;
	*child =
	    (struct node){.kind = run_kinds[i], .run = dir->run, .sub = i < RUNF_NFILES ? i : 0};
	return 0;
}

static int
run_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	return list_names(dir, run_names, NRUN, from, fill, ctx);
}

/* A run's folder has the same entries all its life: its mtime is when
 * it was made, so that `ls -t runs` lists the newest runs first. */
const struct kind_ops run_ops = {.mode = 0555,
				 .lookup = run_lookup,
				 .list = run_list,
				 .mtime_of = node_run_created,
				 .fixed_attr = 1,
				 .fixed_list = 1};

static char *
iso_or_null(int64_t ms, char *buf, size_t n)
{
	if (ms == 0)
		return NULL;
	iso8601(ms, buf, n);
	return buf;
}

static json_t *
json_time(int64_t ms)
{
	char buf[40];

	return ms ? json_string(iso_or_null(ms, buf, sizeof(buf))) : json_null();
}

/* The sums of what the run's task runs used (their latest attempts). */
static json_t *
run_usage(int64_t seq)
{
	struct usage_sum u;

	if (backend_run_usage(fs_backend, seq, &u) != RF_OK || u.measured == 0)
		return json_pack("{s:n, s:n, s:n, s:n, s:i}", "wall_s", "user_s", "system_s",
				 "max_rss_bytes", "measured", 0);
	return json_pack("{s:f, s:f, s:f, s:o, s:i}", "wall_s", u.wall_s, "user_s", u.user_s,
			 "system_s", u.system_s, "max_rss_bytes",
			 u.max_rss_known ? json_integer(u.max_rss_bytes) : json_null(), "measured",
			 u.measured);
}

/* One task run in status.json: enough to answer "the FAILED task runs of
 * task X, and when" with one jq filter. */
static json_t *
task_run_json(const struct task_rec *t)
{
	/* SUCCEEDED without an attempt: a cache hit (engine/cache.c). */
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:b}", "id", t->id, "task",
			 t->task, "step", t->step, "state", state_name(t->state), "attempts",
			 t->attempts, "started", json_time(t->started), "ended",
			 json_time(t->ended), "exit_code",
			 t->has_exit ? json_integer(t->exit_code) : json_null(), "cached",
			 t->state == ST_SUCCEEDED && t->attempts == 0);
}

static int
render_status_json(const struct run_rec *r, struct buf *out)
{
	json_t *o = json_object(), *counts = json_object(), *list = json_array();
	struct task_rec page[256];
	char *text;
	int n, err = ENOMEM;

	json_object_set_new(counts, "total", json_integer(r->ntasks));
	for (int s = 0; s < ST_COUNT; s++)
		json_object_set_new(counts, state_name(s), json_integer(r->counts[s]));
	for (int from = 0; (n = backend_tasks_brief(fs_backend, r->seq, from, 256, page)) > 0;
	     from += n) {
		for (int i = 0; i < n; i++) {
			json_array_append_new(list, task_run_json(&page[i]));
			task_rec_free(&page[i]);
		}
	}
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "config", json_string(r->config));
	json_object_set_new(o, "state", json_string(state_name(r->state)));
	json_object_set_new(o, "created", json_time(r->created));
	json_object_set_new(o, "started", json_time(r->started));
	json_object_set_new(o, "ended", json_time(r->ended));
	json_object_set_new(o, "message", json_string(r->message));
	json_object_set_new(o, "tasks", counts);
	json_object_set_new(o, "usage", run_usage(r->seq));
	json_object_set_new(o, "task_runs", list);
	text = json_dumps(o, JSON_INDENT(2));
	if (text && buf_printf(out, "%s\n", text) == 0)
		err = 0;
	free(text);
	json_decref(o);
	return err;
}

static int
status_json_lines(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec r = {0};
	int err;

	if ((err = node_run(n, &r)) != 0)
		return err;
	*mtime = run_mtime(&r);
	err = render_status_json(&r, out);
	run_rec_free(&r);
	return err;
}

static int
run_file_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec r = {0};
	char *def = NULL;
	int err, rc = 0;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	*mtime = run_mtime(&r);
	switch (n->sub) {
	case RUNF_STATUS:
		rc = buf_printf(out, "%s\n", state_name(r.state));
		break;
	case RUNF_STATUS_JSON: {
		/* Every change of its content records an event or bumps
		 * updated (a message alone). */
		int64_t key[2] = {r.last_event, r.updated};
		err = memo_render(n, key, status_json_lines, out, mtime);
		break;
	}
	case RUNF_PROGRESS: {
		/* Cache hits counted apart, when there are any. */
		int hits = backend_run_cached(fs_backend, r.seq);
		rc = hits > 0
			 ? buf_printf(out, "%d/%d %s (%d cached)\n", r.done, r.ntasks,
				      state_name(r.state), hits)
			 : buf_printf(out, "%d/%d %s\n", r.done, r.ntasks, state_name(r.state));
		break;
	}
	case RUNF_MESSAGE:
		rc = *r.message ? buf_printf(out, "%s\n", r.message) : 0;
		break;
	case RUNF_DEFINITION:
		err = rerr_errno(backend_definition(fs_backend, r.seq, &def));
		if (err == 0)
			rc = buf_adds(out, def);
		free(def);
		break;
	case RUNF_CONFIG:
		rc = buf_printf(out, "%s\n", r.config);
		break;
	case RUNF_PARAMS:
		err = rerr_errno(backend_params(fs_backend, r.seq, &def));
		if (err == 0)
			rc = buf_printf(out, "%s\n", def);
		free(def);
		break;
	default:
		err = ENOENT;
	}
	run_rec_free(&r);
	return err ? err : (rc < 0 ? ENOMEM : 0);
}

const struct kind_ops run_file_ops = {.mode = 0444, .render = run_file_render};

/* logs is kept as a file: it grows while tasks print. */
static int
run_logs_path(const struct node *n, char *path, int64_t *mtime)
{
	struct run_rec r = {0};
	char dir[PATH_MAX_];
	int err;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	*mtime = run_mtime(&r);
	err = path_run_file(path, backend_files(fs_backend, r.config, dir, sizeof(dir)), r.id,
			    "logs") < 0
		  ? ENAMETOOLONG
		  : 0;
	run_rec_free(&r);
	return err;
}

const struct kind_ops run_logs_ops = {.mode = 0444, .path = run_logs_path};

/* ctl: a read shows the state and the verbs accepted now. */
static int
ctl_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec r = {0};
	int err, rc;

	if ((err = node_run(n, &r)) != 0)
		return err;
	*mtime = run_mtime(&r);
	rc = buf_printf(out, "state %s\nverbs%s%s\n", state_name(r.state),
			*backend_verbs(&r) ? " " : "", backend_verbs(&r));
	run_rec_free(&r);
	return rc < 0 ? ENOMEM : 0;
}

/* "rerun T1 T2 ...": the words after the verb, split in place. */
static int
rerun_words(char *text, char ***words, int *n)
{
	char *save = NULL, *w;

	*n = 0;
	if ((*words = calloc(strlen(text) / 2 + 2, sizeof(char *))) == NULL)
		return ENOMEM;
	strtok_r(text, " \t\r\n", &save); /* "rerun" */
	while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL)
		(*words)[(*n)++] = w;
	return 0;
}

int
ctl_rerun(const char *run_id, char *const *names, int n)
{
	char *err = NULL;
	int rc = rerr_errno(backend_rerun(fs_backend, run_id, names, n, &err));

	if (rc)
		log_info("%s: ctl rerun refused: %s", run_id, err ? err : strerror(rc));
	free(err);
	return rc;
}

/* A write is one verb, or rerun and the task runs to run again; white
 * space around it (echo's newline) is fine. */
static int
ctl_write(const struct node *n, struct fh *fh, const char *data, size_t len)
{
	struct run_rec r = {0};
	char verb[32], *err = NULL, *text, **words;
	int rc, nwords;

	(void)fh;
	if (len > 6 && strncmp(data, "rerun", 5) == 0 && strchr(" \t", data[5]) &&
	    !memchr(data, '\0', len)) {
		if ((rc = node_run_brief(n, &r)) != 0)
			return rc;
		if ((text = strndup(data, len)) == NULL || rerun_words(text, &words, &nwords)) {
			free(text);
			run_rec_free(&r);
			return ENOMEM;
		}
		rc = ctl_rerun(r.id, words, nwords);
		free(words);
		free(text);
		run_rec_free(&r);
		return rc;
	}
	if (written_word(data, len, verb, sizeof(verb)) != 0) {
		log_info("ctl: refused a write that is not one verb");
		return EINVAL;
	}
	if ((rc = node_run_brief(n, &r)) != 0)
		return rc;
	rc = rerr_errno(backend_control(fs_backend, r.id, verb, &err));
	if (rc)
		log_info("%s: ctl %s refused: %s", r.id, verb, err ? err : strerror(rc));
	free(err);
	run_rec_free(&r);
	return rc;
}

const struct kind_ops ctl_ops = {.mode = 0644, .render = ctl_render, .write = ctl_write};
