#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "node.h"

struct backend *fs_backend;

const struct kind_ops *const kind_table[K_COUNT] = {
    [K_ROOT] = &root_ops,
    [K_SUBMIT] = &submit_ops,
    [K_PREPARE] = &prepare_ops,
    [K_CONFIGS] = &configs_ops,
    [K_CONFIG] = &config_ops,
    [K_CONFIG_DEFAULT] = &config_default_ops,
    [K_RUNS] = &runs_ops,
    [K_RUN] = &run_ops,
    [K_RUN_FILE] = &run_file_ops,
    [K_RUN_LOGS] = &run_logs_ops,
    [K_CTL] = &ctl_ops,
    [K_WAIT] = &wait_ops,
    [K_EVENTS] = &events_ops,
    [K_RESULTS] = &results_ops,
    [K_RESULT] = &result_ops,
    [K_ARTIFACTS] = &artifacts_ops,
    [K_ARTIFACT_DIR] = &artifact_dir_ops,
    [K_ARTIFACT] = &artifact_ops,
    [K_TASKS] = &tasks_ops,
    [K_TASK] = &task_ops,
    [K_TASK_FILE] = &task_file_ops,
    [K_TASK_LOG] = &task_log_ops,
    [K_INPUTS] = &inputs_ops,
    [K_INPUT] = &input_ops,
    [K_OUTPUTS] = &outputs_ops,
    [K_OUTPUT] = &output_ops,
    [K_INDEX] = &index_ops,
    [K_BY_STATE] = &by_state_ops,
    [K_STATE_DIR] = &state_dir_ops,
    [K_STATE_LINK] = &state_link_ops,
    [K_GRAPH] = &graph_ops,
    [K_RUN_BY_STATE] = &run_by_state_ops,
    [K_RUN_STATE_DIR] = &run_state_dir_ops,
    [K_RUN_STATE_LINK] = &run_state_link_ops,
    [K_TASK_CTL] = &task_ctl_ops,
    [K_TASK_CACHED] = &task_cached_ops,
    [K_TASK_KEY] = &task_key_ops,
};

fuse_ino_t
node_ino(const struct node *n)
{
	if (n->kind == K_ROOT)
		return FUSE_ROOT_ID;
	return ((uint64_t)n->kind << 56) | ((uint64_t)(n->run & SEQ_MAX) << 32) |
	       ((uint64_t)(n->task & TASK_MAX) << 12) | (uint64_t)(n->sub & SUB_MAX);
}

int
node_from_ino(fuse_ino_t ino, struct node *n)
{
	if (ino == FUSE_ROOT_ID) {
		*n = (struct node){.kind = K_ROOT};
		return 0;
	}
	n->kind = (enum kind)(ino >> 56);
	n->run = (int64_t)((ino >> 32) & SEQ_MAX);
	n->task = (int)((ino >> 12) & TASK_MAX);
	n->sub = (int)(ino & SUB_MAX);
	if (n->kind <= K_ROOT || n->kind >= K_COUNT)
		return ENOENT;
	return 0;
}

int
node_run(const struct node *n, struct run_rec *r)
{
	return rerr_errno(backend_run_seq(fs_backend, n->run, r));
}

/*
 * While one listing is answered, the run its entries belong to is read
 * once: with READDIRPLUS each folder of a run's listing gives its
 * attributes, and each asked for the run again (its mtime, whether it is
 * settled), ten store reads for a `find` to look into one run.
 */
static __thread struct {
	int on, have;
	struct run_rec r;
} brief_memo;

void
node_memo_begin(void)
{
	brief_memo.on = 1;
}

void
node_memo_end(void)
{
	if (brief_memo.have)
		run_rec_free(&brief_memo.r);
	brief_memo.on = brief_memo.have = 0;
}

/* The listing of runs has each run's record already. */
static void
memo_prime(const struct run_rec *r)
{
	if (!brief_memo.on)
		return;
	if (brief_memo.have)
		run_rec_free(&brief_memo.r);
	brief_memo.r = *r;
	brief_memo.have = (brief_memo.r.message = strdup(r->message ? r->message : "")) != NULL;
}

int
node_run_brief(const struct node *n, struct run_rec *r)
{
	int err;

	if (brief_memo.have && brief_memo.r.seq == n->run) {
		*r = brief_memo.r;
		return (r->message = strdup(brief_memo.r.message)) ? 0 : ENOMEM;
	}
	if ((err = rerr_errno(backend_run_brief(fs_backend, n->run, r))) != 0 || !brief_memo.on)
		return err;
	memo_prime(r);
	return 0;
}

int
node_task(const struct node *n, struct task_rec *t)
{
	return rerr_errno(backend_task(fs_backend, n->run, n->task, t));
}

int
name_index(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* Each entry is the node that looking its name up gives, so that readdir's
 * d_ino is always the st_ino of the same name (find -inum, rsync -H and
 * backup tools compare them). */
int
list_names(const struct node *dir, const char *const *names, int count, off_t from, fill_fn fill,
	   void *ctx)
{
	for (int i = (int)from; i < count; i++) {
		struct node c;
		int err = kind_table[dir->kind]->lookup(dir, names[i], &c);
		if (err)
			return err;
		if (fill(ctx, names[i], &c, i + 1))
			break;
	}
	return 0;
}

/* The folder each kind of folder is listed in. */
static const enum kind parent_kind[K_COUNT] = {
    [K_ROOT] = K_ROOT,
    [K_CONFIGS] = K_ROOT,
    [K_RUNS] = K_ROOT,
    [K_BY_STATE] = K_ROOT,
    [K_STATE_DIR] = K_BY_STATE,
    [K_RUN] = K_RUNS,
    [K_RESULTS] = K_RUN,
    [K_ARTIFACTS] = K_RUN,
    [K_TASKS] = K_RUN,
    [K_ARTIFACT_DIR] = K_ARTIFACTS,
    [K_TASK] = K_TASKS,
    [K_INPUTS] = K_TASK,
    [K_OUTPUTS] = K_TASK,
    [K_RUN_BY_STATE] = K_RUN,
    [K_RUN_STATE_DIR] = K_RUN_BY_STATE,
};

void
node_parent(const struct node *dir, struct node *parent)
{
	enum kind k = parent_kind[dir->kind];

	*parent = (struct node){.kind = k == K_NONE ? K_ROOT : k};
	if (k != K_ROOT && k != K_RUNS && k != K_BY_STATE && k != K_NONE)
		parent->run = dir->run;
	if (k == K_TASK || k == K_ARTIFACT_DIR)
		parent->task = dir->task;
}

int
nth_line(const char *lines, int i, char *out, size_t outsz)
{
	const char *p = lines;

	for (int k = 0; p && *p; k++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (k == i) {
			if (len >= outsz)
				return ENAMETOOLONG;
			memcpy(out, p, len);
			out[len] = '\0';
			return 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	return ENOENT;
}

int
line_index(const char *lines, const char *name)
{
	char line[TASK_ID_MAX];

	for (int i = 0; nth_line(lines, i, line, sizeof(line)) == 0; i++)
		if (strcmp(line, name) == 0)
			return i;
	return -1;
}

int64_t
run_mtime(const struct run_rec *r)
{
	return r->updated ? r->updated : r->created;
}

#define RUN_PAGE 128

int
list_runs(int state, enum kind kind, off_t from, fill_fn fill, void *ctx)
{
	struct run_rec page[RUN_PAGE];
	int64_t after = from;
	int n, full = 0;

	while (!full &&
	       (n = state < 0 ? backend_runs(fs_backend, after, RUN_PAGE, page)
			      : backend_runs_in(fs_backend, state, after, RUN_PAGE, page)) > 0) {
		for (int i = 0; i < n; i++) {
			struct node c = {
			    .kind = kind, .run = page[i].seq, .sub = state < 0 ? 0 : state};
			memo_prime(&page[i]);
			if (!full)
				full = fill(ctx, page[i].id, &c, (off_t)page[i].seq);
			after = page[i].seq;
			run_rec_free(&page[i]);
		}
	}
	return n < 0 ? EIO : 0;
}

int
lookup_run(const char *name, int state, enum kind kind, struct node *child)
{
	struct run_rec r = {0};
	int err = rerr_errno(backend_run(fs_backend, name, &r));

	if (err)
		return err;
	if (state >= 0 && r.state != state)
		err = ENOENT;
	else if (r.seq > SEQ_MAX)
		err = EOVERFLOW;
	*child = (struct node){.kind = kind, .run = r.seq, .sub = state < 0 ? 0 : state};
	run_rec_free(&r);
	return err;
}

int
data_file_open(const char *path, struct fh *fh)
{
	char *line;
	int err = 0;

	if ((fh->fd = open_nolinks(path, O_RDONLY)) >= 0)
		return 0;
	if (errno != ENOENT)
		return errno;
	if ((line = backend_unseen(fs_backend, path)) != NULL) {
		err = buf_adds(&fh->data, line) < 0 ? ENOMEM : 0;
		free(line);
	}
	return err;
}

void
data_file_stat(const char *path, off_t *size, int64_t *mtime)
{
	struct stat real;
	char *line;

	if (stat_nolinks(path, &real) == 0) {
		*size = real.st_size;
		*mtime = (int64_t)real.st_mtim.tv_sec * 1000 + real.st_mtim.tv_nsec / 1000000;
	} else if ((line = backend_unseen(fs_backend, path)) != NULL) {
		*size = (off_t)strlen(line);
		free(line);
	}
}

int64_t
runs_changed(void)
{
	int64_t when = 0;

	backend_last_change(fs_backend, &when);
	return when > 0 ? when : fs_start_ms;
}

static int
run_time(const struct node *n, int64_t *mtime, int created)
{
	struct run_rec r = {0};
	int err;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	*mtime = created ? r.created : run_mtime(&r);
	run_rec_free(&r);
	return 0;
}

int
node_run_ended(const struct node *n)
{
	struct run_rec r = {0};
	int ended;

	if (node_run_brief(n, &r) != 0)
		return 0;
	ended = run_rec_ended(&r);
	run_rec_free(&r);
	return ended;
}

int
node_run_mtime(const struct node *n, int64_t *mtime)
{
	return run_time(n, mtime, 0);
}

int
node_run_created(const struct node *n, int64_t *mtime)
{
	return run_time(n, mtime, 1);
}

int
written_word(const char *data, size_t len, char *out, size_t outsz)
{
	size_t i = 0, j = len;

	while (i < j && strchr(" \t\r\n", data[i]) && data[i] != '\0')
		i++;
	while (j > i && strchr(" \t\r\n", data[j - 1]) && data[j - 1] != '\0')
		j--;
	if (j == i || j - i >= outsz || memchr(data + i, '\0', j - i))
		return EINVAL;
	memcpy(out, data + i, j - i);
	out[j - i] = '\0';
	return 0;
}
