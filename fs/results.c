/* results/ (the workflow's results, in order) and artifacts/ (outputs of
 * the task runs that succeeded). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "node.h"

static int
parse_index(const char *name, int limit)
{
	char *end;
	long v;

	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
		return -1;
	v = strtol(name, &end, 10);
	return (*end || v >= limit) ? -1 : (int)v;
}

static int
results_lookup(const struct node *dir, const char *name, struct node *child)
{
	int n = 0, i, err;

	if ((err = rerr_errno(backend_nresults(fs_backend, dir->run, &n))) != 0)
		return err;
	if ((i = parse_index(name, n < SUB_MAX ? n : SUB_MAX)) < 0)
		return ENOENT;
	*child = (struct node){.kind = K_RESULT, .run = dir->run, .sub = i};
	return 0;
}

static int
results_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	int n = 0, err;
	char name[16];

	if ((err = rerr_errno(backend_nresults(fs_backend, dir->run, &n))) != 0)
		return err;
	for (int i = (int)from; i < n && i < SUB_MAX; i++) {
		struct node c = {.kind = K_RESULT, .run = dir->run, .sub = i};
		snprintf(name, sizeof(name), "%d", i);
		if (fill(ctx, name, &c, i + 1))
			break;
	}
	return 0;
}

const struct kind_ops results_ops = {
    .mode = 0555, .lookup = results_lookup, .list = results_list, .fixed_list = 1};

/*
 * A result is either a file of the data directory or a composed text.
 * Before the run succeeded it is unavailable: EAGAIN while it may still
 * come, ENODATA once it never will; the run's message says why.
 */
static int
result_get(const struct node *n, struct fh *fh, off_t *size)
{
	char *path = NULL, *content = NULL, *why = NULL;
	int64_t ignored;
	size_t len = 0;
	int err;

	err = rerr_errno(backend_result(fs_backend, n->run, n->sub, &path, &content, &len, &why));
	if (err == 0 && path && fh)
		err = data_file_open(path, fh);
	else if (err == 0 && path && size)
		data_file_stat(path, size, &ignored);
	else if (err == 0 && fh && buf_add(&fh->data, content, len) < 0)
		err = ENOMEM;
	else if (err == 0 && size)
		*size = (off_t)len;
	free(path);
	free(content);
	free(why);
	return err;
}

static int
result_open(const struct node *n, struct fh *fh)
{
	return result_get(n, fh, NULL);
}

/* A result changes only when its run does (it appears when the run
 * succeeds), so the run's last change is its mtime. */
static int
result_size(const struct node *n, off_t *size, int64_t *mtime)
{
	int err = result_get(n, NULL, size), merr = node_run_mtime(n, mtime);

	/* EAGAIN and ENODATA are for node_stat: the file exists, unreadable. */
	return err ? err : merr;
}

const struct kind_ops result_ops = {.mode = 0444, .size = result_size, .open = result_open};

/* artifacts/<task-id>/ exists for every task run that succeeded. */
static int
succeeded_task(int64_t run, const char *id, struct task_rec *t)
{
	int err = rerr_errno(backend_task_find(fs_backend, run, id, t));

	if (err == 0 && t->state != ST_SUCCEEDED) {
		task_rec_free(t);
		err = ENOENT;
	}
	return err;
}

static int
artifacts_lookup(const struct node *dir, const char *name, struct node *child)
{
	struct task_rec t = {0};
	int err;

	if ((err = succeeded_task(dir->run, name, &t)) != 0)
		return err;
	*child = (struct node){.kind = K_ARTIFACT_DIR, .run = dir->run, .task = t.idx};
	task_rec_free(&t);
	return 0;
}

static int
artifacts_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	struct task_rec page[256];
	int n, full = 0;

	for (int at = (int)from;
	     !full && (n = backend_tasks_brief(fs_backend, dir->run, at, 256, page)) > 0; at += n) {
		for (int i = 0; i < n; i++) {
			struct node c = {
			    .kind = K_ARTIFACT_DIR, .run = dir->run, .task = page[i].idx};
			if (!full && page[i].state == ST_SUCCEEDED)
				full = fill(ctx, page[i].id, &c, page[i].idx + 1);
			task_rec_free(&page[i]);
		}
	}
	return 0;
}

const struct kind_ops artifacts_ops = {
    .mode = 0555, .lookup = artifacts_lookup, .list = artifacts_list};
