/*
 * Runs found from any machine. A remote run's record lives beside its job
 * files in the configuration's work directory, the cluster's shared
 * filesystem: WORKDIR/runs/<run>/run.json, plain JSON replaced by a rename
 * (SQLite must not live on a network filesystem). It holds the definition,
 * the jobs of every task run, the states as last seen and who submitted it.
 *
 * Every mount of the configuration scans the folder, takes up the runs it
 * does not know into its own store and follows their jobs on Slurm like
 * its own. A controller that acts on a run (submit, retry, resubmission
 * of a failed attempt, stop) does so holding WORKDIR/runs/<run>/lock and
 * bumps the record's generation; the others see a newer generation and
 * take up its jobs instead of acting twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "layout.h"
#include "log.h"
#include "plan.h"
#include "runtime.h"
#include "slurm_int.h"
#include "util.h"

#define SCAN_MS	     2000
#define LOCK_WAIT_MS 30000

static int
record_path(const char *workdir, const char *run, const char *file, char *path)
{
	return path_run_file(path, workdir, run, file);
}

/* The lock of a run's record: WORKDIR/runs/.locks/<run>, apart from the
 * run's folder, which a delete removes while holding it. */
static int
lock_path(const char *workdir, const char *run, char *path, int make)
{
	if (snprintf(path, PATH_MAX_, "%s/runs/.locks", workdir) >= PATH_MAX_ ||
	    (make && mkdir_p(path, 0700) < 0))
		return -1;
	return snprintf(path, PATH_MAX_, "%s/runs/.locks/%s", workdir, run) < PATH_MAX_ ? 0 : -1;
}

int
share_lock(const char *workdir, const char *run)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX_];
	int fd;

	if (lock_path(workdir, run, path, 1) < 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	/* An open file description's lock: threads of one process exclude
	 * each other too, and NFS carries it to the server. Bounded: a
	 * controller that hangs must not stop this one for good. */
	for (int64_t until = mono_ms() + LOCK_WAIT_MS; fcntl(fd, F_OFD_SETLK, &fl) < 0;) {
		if ((errno != EAGAIN && errno != EACCES && errno != EINTR) || mono_ms() > until) {
			log_warnx("run %s: cannot lock %s: %s; acting without the lock", run, path,
				  errno == EAGAIN || errno == EACCES ? "held too long"
								     : strerror(errno));
			close(fd);
			return -1;
		}
		usleep(50000);
	}
	return fd;
}

void
share_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static json_t *
record_read(const char *workdir, const char *run)
{
	char path[PATH_MAX_];
	json_error_t je;

	if (record_path(workdir, run, "run.json", path) < 0)
		return NULL;
	return json_load_file(path, 0, &je);
}

/* Whoever submitted: kept as the first writer put it. */
static json_t *
owner(json_t *old)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "";

	if (json_is_object(json_object_get(old, "owner")))
		return json_incref(json_object_get(old, "owner"));
	gethostname(host, sizeof(host) - 1);
	return json_pack("{s:s, s:s}", "user", pw ? pw->pw_name : "?", "host", host);
}

static json_t *
task_json(const struct task_rec *t)
{
	return json_pack("{s:s, s:i, s:o, s:I, s:I, s:s}", "state", state_name(t->state),
			 "attempts", t->attempts, "exit_code",
			 t->has_exit ? json_integer(t->exit_code) : json_null(), "started",
			 (json_int_t)t->started, "ended", (json_int_t)t->ended, "message",
			 t->message);
}

void
share_save(struct slurm *s, struct srm *m, const char *workdir, int acted)
{
	json_t *old = record_read(workdir, m->id), *rec = NULL, *jobs, *tasks;
	char path[PATH_MAX_], *text = NULL, *defn = NULL, *normal = NULL;
	struct run_rec r = {0};
	struct task_rec t;
	int is_normal = 0;

	m->gen += acted;
	/* The jobs in the data directory, whatever becomes of the record. */
	slurm_save_jobs(s, m);
	if (store_run_brief(s->st, m->seq, &r) != RF_OK ||
	    store_run_definition(s->st, m->seq, &defn) != RF_OK ||
	    store_run_normal(s->st, m->seq, &normal, &is_normal) != RF_OK || !is_normal)
		goto out;
	jobs = json_array();
	tasks = json_array();
	for (int i = 0; i < m->ntasks; i++) {
		json_array_append_new(
		    jobs, json_pack("[I,i,i]", (json_int_t)m->job[i], m->attempt[i], m->copy[i]));
		if (store_task_get(s->st, m->seq, i, &t) != RF_OK) {
			/* Never half a record: the next change writes it whole. */
			json_decref(jobs);
			json_decref(tasks);
			goto out;
		}
		json_array_append_new(tasks, task_json(&t));
		task_rec_free(&t);
	}
	rec = json_pack("{s:s, s:s, s:s, s:o, s:I, s:i, s:b, s:s, s:s, s:o, s:s, s:s, s:I, "
			"s:I, s:o, s:I}",
			"format", "runfs run record 1", "id", m->id, "name", r.name, "owner",
			owner(old), "created", (json_int_t)r.created, "generation", m->gen,
			"stopping", m->stopping, "definition", defn, "normal", normal, "jobs", jobs,
			"state", state_name(r.state), "message", r.message, "started",
			(json_int_t)r.started, "ended", (json_int_t)r.ended, "tasks", tasks,
			"updated", (json_int_t)now_ms());
	if (rec == NULL || (text = json_dumps(rec, JSON_COMPACT)) == NULL ||
	    record_path(workdir, m->id, "run.json", path) < 0 ||
	    write_file(path, text, strlen(text), 0600) < 0)
		log_info("run %s: no record in %s (%s): other machines will not find it", m->id,
			 workdir, strerror(errno));
	m->saved_event = r.last_event;
out:
	free(text);
	free(defn);
	free(normal);
	json_decref(rec);
	json_decref(old);
	run_rec_free(&r);
}

/* What a record says of task run i's job. */
static void
record_job(json_t *rec, int i, long *job, int *attempt, int *copy)
{
	json_t *e = json_array_get(json_object_get(rec, "jobs"), (size_t)i);

	*job = (long)json_integer_value(json_array_get(e, 0));
	*attempt = (int)json_integer_value(json_array_get(e, 1));
	*copy = (int)json_integer_value(json_array_get(e, 2));
}

/* Takes up what another controller did to m since this mount last acted:
 * newer jobs (a retry, a resubmission) and a stop. 1 when it did. */
static int
adopt_record(struct slurm *s, struct srm *m, json_t *rec)
{
	int gen = (int)json_integer_value(json_object_get(rec, "generation"));

	if (gen <= m->gen || json_array_size(json_object_get(rec, "jobs")) != (size_t)m->ntasks)
		return 0;
	for (int i = 0; i < m->ntasks; i++) {
		long job;
		int attempt, copy;
		record_job(rec, i, &job, &attempt, &copy);
		if (job == m->job[i] && attempt == m->attempt[i])
			continue;
		m->job[i] = job;
		m->attempt[i] = attempt;
		m->copy[i] = copy;
		m->active[i] = job != 0;
		if (job != 0)
			slurm_note_submitted(s, m, i);
	}
	m->stopping |= json_is_true(json_object_get(rec, "stopping"));
	m->gen = gen;
	s->since = 0; /* the new jobs' states, from a full listing */
	slurm_save_jobs(s, m);
	return 1;
}

int
share_sync(struct slurm *s, struct srm *m, const char *workdir)
{
	json_t *rec = record_read(workdir, m->id);
	int yes = rec && adopt_record(s, m, rec);

	json_decref(rec);
	return yes;
}

int
share_stopping(struct slurm *s, struct srm *m, const char *workdir)
{
	json_t *rec = record_read(workdir, m->id);
	int gen = (int)json_integer_value(json_object_get(rec, "generation"));

	(void)s;
	if (gen > m->gen && json_is_true(json_object_get(rec, "stopping")))
		m->stopping = 1;
	json_decref(rec);
	return m->stopping;
}

/* The record's task runs over the records a definition gives. */
static void
tasks_from_record(json_t *rec, struct task_rec *t, int n)
{
	for (int i = 0; i < n; i++) {
		json_t *e = json_array_get(json_object_get(rec, "tasks"), (size_t)i);
		const char *msg = json_string_value(json_object_get(e, "message"));
		int st = state_parse(json_string_value(json_object_get(e, "state")));

		t[i].state = st >= 0 ? st : ST_UNKNOWN;
		t[i].attempts = (int)json_integer_value(json_object_get(e, "attempts"));
		t[i].has_exit = json_is_integer(json_object_get(e, "exit_code"));
		t[i].exit_code = (int)json_integer_value(json_object_get(e, "exit_code"));
		t[i].started = json_integer_value(json_object_get(e, "started"));
		t[i].ended = json_integer_value(json_object_get(e, "ended"));
		if (msg)
			replace(&t[i].message, strdup(msg));
	}
}

/* Starts following m: its jobs may still change. */
static void
follow(struct slurm *s, struct srm *m)
{
	m->next = s->runs;
	s->runs = m;
	s->since = 0;
}

/* A run another machine submitted, into this mount's store. */
static void
import(struct slurm *s, const char *config, const char *workdir, const char *id, json_t *rec)
{
	const char *text = json_string_value(json_object_get(rec, "definition"));
	const char *normal = json_string_value(json_object_get(rec, "normal"));
	const char *msg = json_string_value(json_object_get(rec, "message"));
	json_t *who = json_object_get(rec, "owner");
	struct run_rec r = {0};
	struct task_rec *t = NULL;
	struct defn *d = NULL;
	struct plan p = {0};
	struct srm *m = NULL;
	char path[PATH_MAX_], *err = NULL;
	int active = 0;
	enum rerr e;

	if (text == NULL || normal == NULL || defn_load_run(normal, 1, &d, &err) < 0 ||
	    plan_build(d, &p) < 0 ||
	    (size_t)p.ntr != json_array_size(json_object_get(rec, "jobs")) ||
	    (size_t)p.ntr != json_array_size(json_object_get(rec, "tasks")) ||
	    (t = plan_task_recs(d, &p)) == NULL) {
		log_warnx("run %s in %s: its record cannot be read: %s", id, workdir,
			  err ? err : "it does not match its definition");
		goto out;
	}
	tasks_from_record(rec, t, p.ntr);
	snprintf(r.id, sizeof(r.id), "%.*s", (int)sizeof(r.id) - 1, id);
	snprintf(r.name, sizeof(r.name), "%s", d->name);
	snprintf(r.config, sizeof(r.config), "%s", config);
	r.state = state_parse(json_string_value(json_object_get(rec, "state")));
	r.state = r.state >= 0 ? r.state : ST_UNKNOWN;
	r.created = json_integer_value(json_object_get(rec, "created"));
	r.started = json_integer_value(json_object_get(rec, "started"));
	r.ended = json_integer_value(json_object_get(rec, "ended"));
	r.message = (char *)(msg ? msg : "");
	if (path_run(path, s->datadir, id) < 0 || (mkdir(path, 0700) < 0 && errno != EEXIST) ||
	    path_run_file(path, s->datadir, id, "definition.json") < 0 ||
	    write_file(path, text, strlen(text), 0600) < 0) {
		log_warnx("run %s: cannot make its folder in %s: %s", id, s->datadir,
			  strerror(errno));
		goto out;
	}
	if ((e = store_run_create_normal(s->st, &r, t, p.ntr, text, normal)) != RF_OK) {
		if (e != RF_EXIST)
			log_warnx("run %s: cannot record it: %s", id, rerr_str(e));
		goto out;
	}
	r.message = NULL;
	log_info("run %s: found in %s, submitted by %s@%s", id, workdir,
		 json_string_value(json_object_get(who, "user")),
		 json_string_value(json_object_get(who, "host")));
	if ((m = srm_new(s, &r)) == NULL)
		goto out;
	for (int i = 0; i < m->ntasks; i++) {
		record_job(rec, i, &m->job[i], &m->attempt[i], &m->copy[i]);
		m->active[i] = m->job[i] != 0 && !state_completed(t[i].state);
		active |= m->active[i];
	}
	m->stopping = json_is_true(json_object_get(rec, "stopping"));
	m->gen = (int)json_integer_value(json_object_get(rec, "generation"));
	slurm_save_jobs(s, m);
	if (active) {
		follow(s, m);
		m = NULL;
	}
out:
	if (m)
		srm_free(m);
	r.message = NULL;
	plan_task_recs_free(t, p.ntr);
	plan_free(&p);
	if (d)
		defn_free(d);
	free(err);
}

/* A run this mount knows and no longer follows, acted on elsewhere (a
 * retry): it is not over any more. */
static void
reopen(struct slurm *s, const struct run_rec *known, json_t *rec)
{
	struct srm *m = slurm_load_jobs(s, known);
	struct run_rec r;

	if (m == NULL || !adopt_record(s, m, rec)) {
		if (m)
			srm_free(m);
		return;
	}
	if (store_run_brief(s->st, known->seq, &r) == RF_OK) {
		r.state = ST_WAITING;
		r.ended = 0;
		replace(&r.message, strdup(""));
		store_run_update(s->st, &r);
		run_rec_free(&r);
	}
	log_info("run %s: acted on from another machine; following it again", m->id);
	follow(s, m);
}

static void
found(struct slurm *s, const char *config, const char *workdir, const char *id, json_t *rec)
{
	struct run_rec r;

	if (store_run_get(s->st, id, &r) != RF_OK) {
		import(s, config, workdir, id, rec);
		return;
	}
	if (strcmp(r.config, config) == 0) {
		struct srm *m = s->runs;
		while (m && m->seq != r.seq)
			m = m->next;
		if (m)
			adopt_record(s, m, rec);
		else
			reopen(s, &r, rec);
	}
	run_rec_free(&r);
}

/*
 * The records of one configuration's work directory changed since the
 * last scan. "Since" is on the file server's clock, not this machine's:
 * the newest mtime seen there, less a margin for a record written in the
 * same tick and seen late.
 */
static void
scan(struct slurm *s, const char *config, const char *workdir)
{
	char dir[PATH_MAX_], path[PATH_MAX_];
	int64_t newest = json_integer_value(json_object_get(s->newest, workdir)), since, mtime;
	struct dirent *de;
	struct stat sb;
	DIR *dp;

	since = newest ? newest - 2 * SCAN_MS : 0;
	if (snprintf(dir, sizeof(dir), "%s/runs", workdir) >= (int)sizeof(dir) ||
	    (dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		json_t *rec;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= RUN_ID_MAX ||
		    record_path(workdir, de->d_name, "run.json", path) < 0 || stat(path, &sb) < 0)
			continue;
		mtime = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
		if (mtime < since)
			continue;
		if (mtime > newest)
			newest = mtime;
		if ((rec = record_read(workdir, de->d_name)) != NULL &&
		    json_is_string(json_object_get(rec, "normal")))
			found(s, config, workdir, de->d_name, rec);
		json_decref(rec);
	}
	closedir(dp);
	json_object_set_new(s->newest, workdir, json_integer(newest));
}

void
slurm_discover(struct slurm *s)
{
	char path[4096], *err = NULL;
	const char *name;
	json_t *doc = NULL, *c;

	if (mono_ms() - s->scanned_mono < SCAN_MS)
		return;
	s->scanned_mono = mono_ms();
	if ((s->newest == NULL && (s->newest = json_object()) == NULL) ||
	    config_path(path, sizeof(path)) < 0 || config_load(path, &doc, &err) != RF_OK)
		goto out;
	json_object_foreach(json_object_get(doc, "configs"), name, c)
	{
		const char *w = json_string_value(json_object_get(c, "workdir"));
		if (w && *w == '/' && !runtime_builtin(name))
			scan(s, name, w);
	}
	store_flush(s->st);
out:
	free(err);
	json_decref(doc);
}

enum rerr
slurm_forget(struct runtime *rt, const struct run_rec *r, char **err)
{
	char path[4096], dir[PATH_MAX_];
	const char *workdir;
	json_t *doc = NULL;
	struct stat sb;
	enum rerr e = RF_OK;
	int lock;

	(void)rt;
	if (config_path(path, sizeof(path)) < 0 || config_load(path, &doc, err) != RF_OK)
		goto out;
	workdir = json_string_value(json_object_get(
	    json_object_get(json_object_get(doc, "configs"), r->config), "workdir"));
	if (workdir == NULL || *workdir != '/' || path_run(dir, workdir, r->id) < 0)
		goto out;
	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT)
			*err = errf("its files in %s cannot be seen from here and stay", dir);
		e = errno == ENOENT ? RF_OK : RF_IO;
		goto out;
	}
	/* The record first, under its lock: no mount takes the run up again. */
	lock = share_lock(workdir, r->id);
	if ((record_path(workdir, r->id, "run.json", path) == 0 && unlink(path) < 0 &&
	     errno != ENOENT) ||
	    remove_tree(dir) < 0) {
		*err = errf("cannot remove %s: %s", dir, strerror(errno));
		e = RF_IO;
	} else if (lock_path(workdir, r->id, path, 0) == 0) {
		unlink(path);
	}
	share_unlock(lock);
out:
	json_decref(doc);
	return e;
}
