/*
 * A cache hit in the scheduler: a task with "cache" about to start is
 * looked up by its key (cache.c); on a hit it ends SUCCEEDED at once,
 * without a process or an attempt.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cache.h"
#include "layout.h"
#include "log.h"
#include "sched_int.h"
#include "util.h"

/*
 * DATA/runs/<run>/logs.d/<task>.cache: the key, what went into it, and
 * where a hit came from. One file, written in place (no rename): making
 * an inode is the dearest step of a hit (ext4 looks for a free one).
 */
static void
write_cache_file(struct sched *s, struct stask *t, json_t *made_of, const char *from)
{
	char path[PATH_MAX_], *text;
	json_t *o =
	    json_pack("{s:s, s:O, s:s?}", "key", t->cache_key, "made_of", made_of, "from", from);
	int fd;

	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	if (text && path_task_file(path, s->datadir, t->run->rec.id, t->rec.id, "cache") == 0 &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
		if (write(fd, text, strlen(text)) < 0 || close(fd) < 0)
			log_warn("%s", path);
	}
	free(text);
	json_decref(o);
}

/*
 * A task with "cache": its key, kept for tasks/<t>/cache_key(.json); on a
 * hit the task run SUCCEEDED at once, without a process or an attempt,
 * with the outputs of the task run it came from (cache.c). 1 on a hit.
 */
int
cache_hit(struct sched *s, struct stask *t, const struct defn_task *task,
	  const struct defn_step *step, char *const *values)
{
	struct srun *r = t->run;
	char from[RUN_ID_MAX + TASK_ID_MAX + 16], msg[sizeof(from) + 16], *json = NULL;
	json_t *made_of;

	if (cache_key(task, step, r->plan.tr_copy[t->rec.idx], values, t->cache_key, &json) < 0) {
		t->cache_key[0] = '\0';
		free(json);
		return 0;
	}
	made_of = json_loads(json, 0, NULL);
	free(json);
	write_cache_file(s, t, made_of, NULL);
	if (!cache_take(s->datadir, t->cache_key, r->rec.id, task, t->rec.id, from, sizeof(from))) {
		cache_note(s->datadir, "miss", t->cache_key);
		json_decref(made_of);
		return 0;
	}
	cache_note(s->datadir, "hit", t->cache_key);
	write_cache_file(s, t, made_of, from);
	json_decref(made_of);
	t->cached = 1;
	t->rec.attempts = 0;
	t->rec.has_exit = 1;
	t->rec.exit_code = 0;
	t->rec.started = t->rec.ended = now_ms();
	snprintf(msg, sizeof(msg), "cached: from %s", from);
	sched_set_message(&t->rec.message, msg);
	if (r->rec.state == ST_WAITING) {
		r->rec.state = ST_RUNNING;
		if (r->rec.started == 0)
			r->rec.started = now_ms();
		sched_run_update(s, r);
	}
	sched_task_succeeded(s, t);
	return 1;
}
