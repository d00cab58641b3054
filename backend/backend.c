/*
 * The backend behind the tree: records submissions, routes control verbs to
 * the runtime that executes a run, and answers the filesystem's questions
 * from the store (the single source of truth).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backend_int.h"
#include "cache.h"
#include "config.h"
#include "follow.h"
#include "guard.h"
#include "defn.h"
#include "log.h"
#include "layout.h"
#include "plan.h"
#include "runtime.h"
#include "util.h"

/* The follower thread's work: what other processes recorded. */
static void
follow_store(void *arg)
{
	struct backend *b = arg;

	if (store_follow(b->st) < 0)
		log_warnx("cannot read the changes other processes made");
}

/* Checks everything that can fail before a mount goes to the background:
 * the configuration, the data directory, the store (opened, upgraded and
 * closed again: a connection must not cross the daemon's fork) and what
 * the default runtime needs (the local runtime's daemon). No thread, no
 * process is left behind. */
enum rerr
backend_check(const struct backend_opts *o, struct backend **out, char **err)
{
	struct backend *b = calloc(1, sizeof(*b));
	struct runtime *dflt;
	json_t *doc = NULL;
	char path[PATH_MAX_];
	enum rerr e = RF_INVAL;

	*err = NULL;
	if (b == NULL)
		return RF_NOMEM;
	pthread_mutex_init(&b->cache_mu, NULL);
	pthread_mutex_init(&b->config_mu, NULL);
	pthread_mutex_init(&b->control_mu, NULL);
	b->datadir = strdup(o->datadir);
	b->config = strdup(runtime_canonical(o->config));
	if (b->datadir == NULL || b->config == NULL)
		goto nomem;
	if (config_path(b->config_file, sizeof(b->config_file)) < 0)
		b->config_file[0] = '\0';
	/* A configuration file that cannot be read would hide every saved
	 * configuration from the mount without a word. */
	if (b->config_file[0] && (e = config_load(b->config_file, &doc, err)) != RF_OK)
		goto fail;
	json_decref(doc);
	if ((e = config_check(b, b->config, err)) != RF_OK)
		goto fail;
	if (mkdir_p(b->datadir, 0700) < 0 ||
	    snprintf(path, sizeof(path), "%s/runs", b->datadir) < 0 || mkdir_p(path, 0700) < 0 ||
	    realpath(b->datadir, path) == NULL) {
		*err = errf("data directory %s: %s", b->datadir, strerror(errno));
		e = RF_IO;
		goto fail;
	}
	/* Absolute: the local runtime daemon and the tasks work from "/". */
	free(b->datadir);
	if ((b->datadir = strdup(path)) == NULL)
		goto nomem;
	if (o->cache_dir && cache_use_dir(b->datadir, o->cache_dir, err) < 0) {
		e = RF_INVAL;
		goto fail;
	}
	if (store_open(b->datadir, &b->st) != 0) {
		*err = errf("cannot open the store in %s (see the lines above)", b->datadir);
		e = RF_IO;
		goto fail;
	}
	store_close(b->st);
	b->st = NULL;
	for (int i = 0; runtime_table[i]; i++)
		b->rt[i] = (struct runtime){.ops = runtime_table[i],
					    .datadir = b->datadir,
					    .jobs = o->jobs,
					    .grace_ms = o->grace_ms,
					    .autostart = !o->no_autostart,
					    .gpus = o->gpus};
	dflt = runtime_for(b, b->config);
	if (dflt->ops->prepare && (e = dflt->ops->prepare(dflt, err)) != RF_OK)
		goto fail;
	*out = b;
	return RF_OK;
nomem:
	e = RF_NOMEM;
	*err = errf("out of memory");
fail:
	backend_close(b);
	return e;
}

/* Starts what runs: the guard, the store, each runtime (their threads)
 * and the follower of other processes' changes. */
enum rerr
backend_start(struct backend *b, char **err)
{
	*err = NULL;
	/* Before any thread starts: the guard is forked. */
	if (guard_start() < 0) {
		*err = errf("cannot start the guard process: %s", strerror(errno));
		return RF_IO;
	}
	if (store_open(b->datadir, &b->st) != 0) {
		*err = errf("cannot open the store in %s", b->datadir);
		return RF_IO;
	}
	for (int i = 0; runtime_table[i]; i++)
		b->rt[i].st = b->st;
	backend_delete_leftovers(b);
	for (; runtime_table[b->nopen]; b->nopen++) {
		struct runtime *rt = &b->rt[b->nopen];
		rt->st = b->st;
		if (rt->ops->open(rt) < 0) {
			*err = errf("cannot start the %s runtime", rt->ops->name);
			return RF_IO;
		}
	}
	if (follow_start(b->datadir, follow_store, b, &b->follow) < 0) {
		*err = errf("cannot follow the store's changes: %s", strerror(errno));
		return RF_IO;
	}
	return RF_OK;
}

enum rerr
backend_open(const struct backend_opts *o, struct backend **out, char **err)
{
	enum rerr e;

	if ((e = backend_check(o, out, err)) != RF_OK)
		return e;
	if ((e = backend_start(*out, err)) != RF_OK) {
		backend_close(*out);
		*out = NULL;
	}
	return e;
}

void
backend_close(struct backend *b)
{
	if (b->follow)
		follow_stop(b->follow);
	while (b->nopen > 0) {
		struct runtime *rt = &b->rt[--b->nopen];
		rt->ops->close(rt);
	}
	if (b->cache_d) {
		plan_free(&b->cache_plan);
		defn_free(b->cache_d);
	}
	if (b->st) {
		store_flush(b->st);
		store_close(b->st);
	}
	pthread_mutex_destroy(&b->cache_mu);
	pthread_mutex_destroy(&b->config_mu);
	pthread_mutex_destroy(&b->control_mu);
	free(b->datadir);
	free(b->config);
	free(b);
}

const char *
backend_datadir(struct backend *b)
{
	return b->datadir;
}

/* A built-in configuration runs on its own runtime; a saved one on the
 * runtime that saved configurations use. */
struct runtime *
runtime_for(struct backend *b, const char *config)
{
	const struct runtime_ops *o = runtime_named(config);

	if (o == NULL || !o->builtin)
		o = runtime_saved_default();
	return &b->rt[runtime_index(o)];
}

/* Makes runs/<id> for a fresh id: wf.<name>.<7 hex>. */
static enum rerr
new_run_dir(struct backend *b, const char *name, char id[RUN_ID_MAX])
{
	char path[PATH_MAX_];

	for (int tries = 0; tries < 16; tries++) {
		uint32_t r;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return RF_IO;
		snprintf(id, RUN_ID_MAX, "wf.%s.%07x", name, r & 0xfffffff);
		if (path_run(path, b->datadir, id) < 0)
			return RF_INVAL;
		if (mkdir(path, 0700) == 0)
			return RF_OK;
		if (errno != EEXIST)
			return RF_IO;
	}
	return RF_IO;
}

static enum rerr
submit_one(struct backend *b, const char *text, size_t len, int start, char run_id[RUN_ID_MAX],
	   char **err)
{
	struct defn *d = NULL;
	struct plan p = {0};
	struct run_rec run = {0};
	struct task_rec *tasks = NULL;
	char path[PATH_MAX_];
	enum rerr e = RF_INVAL;
	struct runtime *rt;
	const char *config;
	char *dflt = NULL, *normal = NULL, *applied = NULL;

	*err = NULL;
	if (len > DEFN_MAX_BYTES) {
		*err = errf("definition is %zu bytes; the limit is %d", len, DEFN_MAX_BYTES);
		return RF_TOOBIG;
	}
	if (defn_apply_params(text, len, &applied, err) < 0)
		return RF_INVAL;
	if (applied) {
		text = applied;
		len = strlen(applied);
	}
	if (defn_parse(text, len, &d, err) < 0) {
		free(applied);
		return RF_INVAL;
	}
	if ((dflt = backend_config_default(b)) == NULL) {
		e = RF_NOMEM;
		goto out;
	}
	config = runtime_canonical(d->config ? d->config : dflt);
	rt = runtime_for(b, config);
	if ((e = config_check_submit(b, config, err)) != RF_OK ||
	    (rt->ops->admit && (e = rt->ops->admit(rt, d, err)) != RF_OK))
		goto out;
	e = RF_NOMEM;
	if (plan_build(d, &p) < 0 || (tasks = plan_task_recs(d, &p)) == NULL)
		goto out;
	if ((e = new_run_dir(b, d->name, run_id)) != RF_OK) {
		*err = errf("cannot make a folder for the run: %s", strerror(errno));
		e = errno == ENOSPC ? RF_NOSPC : e;
		goto out;
	}
	if (path_run_file(path, b->datadir, run_id, "definition.json") < 0 ||
	    write_file(path, text, len, 0600) < 0) {
		*err = errf("cannot record the definition: %s", strerror(errno));
		e = errno == ENOSPC ? RF_NOSPC : RF_IO;
		goto undo;
	}
	snprintf(run.id, sizeof(run.id), "%s", run_id);
	snprintf(run.name, sizeof(run.name), "%s", d->name);
	snprintf(run.config, sizeof(run.config), "%s", config);
	run.state = ST_WAITING;
	run.prepared = !start;
	run.created = now_ms();
	run.ntasks = p.ntr;
	run.message = start ? "" : "prepared: write start to ctl to run it";
	if ((normal = defn_normal_dump(d)) == NULL) {
		e = RF_NOMEM;
		goto undo;
	}
	if ((e = store_run_create_normal(b->st, &run, tasks, p.ntr, text, normal)) != RF_OK) {
		*err = errf("cannot record the run: %s", rerr_str(e));
		goto undo;
	}
	if (start && (e = runtime_for(b, config)->ops->launch(runtime_for(b, config), run.seq)))
		*err = errf("run %s recorded but not started: %s", run_id, rerr_str(e));
	goto out;
undo:
	if (path_run(path, b->datadir, run_id) == 0)
		remove_tree(path);
out:
	plan_task_recs_free(tasks, p.ntr);
	plan_free(&p);
	defn_free(d);
	free(dflt);
	free(normal);
	free(applied);
	return e;
}

size_t
backend_submit_max(void)
{
	return DEFN_MAX_BYTES;
}

int
backend_write_completes(const char *text, size_t len, const char *last, size_t lastlen)
{
	return defn_write_completes(text, len, last, lastlen);
}

/*
 * Parsing a definition costs jansson about 25 times its size (a 16 MiB one
 * of small numbers peaked at 390 MiB), and glibc keeps what is freed. So
 * definitions over BIG_DEFN are taken one at a time, and their memory is
 * given back to the system after: hostile submits cannot add up.
 */
#define BIG_DEFN (1024 * 1024)
static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;

enum rerr
backend_submit(struct backend *b, const char *text, size_t len, int start, char run_id[RUN_ID_MAX],
	       char **err)
{
	enum rerr e;

	if (len <= BIG_DEFN)
		return submit_one(b, text, len, start, run_id, err);
	pthread_mutex_lock(&big_mu);
	e = submit_one(b, text, len, start, run_id, err);
	malloc_trim(0);
	pthread_mutex_unlock(&big_mu);
	return e;
}
