/*
 * runs/<id>/by-state/<STATE>/<task-run>: a symbolic link to
 * ../../tasks/<task-run> for every task run of the run now in STATE, as
 * the top-level by-state/ does for runs. `ls by-state/FAILED` answers
 * "which task runs failed" without reading each one's status.
 */
#include <errno.h>
#include <string.h>

#include "node.h"

static int
run_by_state_lookup(const struct node *dir, const char *name, struct node *child)
{
	int st = state_parse(name);

	if (st < 0)
		return ENOENT;
	*child = (struct node){.kind = K_RUN_STATE_DIR, .run = dir->run, .sub = st};
	return 0;
}

static int
run_by_state_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	for (int st = (int)from; st < ST_COUNT; st++) {
		struct node c = {.kind = K_RUN_STATE_DIR, .run = dir->run, .sub = st};
		if (fill(ctx, state_name(st), &c, st + 1))
			break;
	}
	return 0;
}

const struct kind_ops run_by_state_ops = {
    .mode = 0555, .lookup = run_by_state_lookup, .list = run_by_state_list, .fixed_list = 1};

static int
run_state_dir_lookup(const struct node *dir, const char *name, struct node *child)
{
	struct task_rec t = {0};
	int err = rerr_errno(backend_task_find(fs_backend, dir->run, name, &t));

	if (err)
		return err;
	if (t.state != dir->sub)
		err = ENOENT;
	*child = (struct node){
	    .kind = K_RUN_STATE_LINK, .run = dir->run, .task = t.idx, .sub = dir->sub};
	task_rec_free(&t);
	return err;
}

/* Paged by index, as tasks/ is; the offset is the next index to look at. */
static int
run_state_dir_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	struct task_rec page[256];
	int n, full = 0;

	for (int at = (int)from;
	     !full && (n = backend_tasks_brief(fs_backend, dir->run, at, 256, page)) > 0; at += n) {
		for (int i = 0; i < n; i++) {
			struct node c = {.kind = K_RUN_STATE_LINK,
					 .run = dir->run,
					 .task = page[i].idx,
					 .sub = dir->sub};
			if (!full && page[i].state == dir->sub)
				full = fill(ctx, page[i].id, &c, page[i].idx + 1);
			task_rec_free(&page[i]);
		}
	}
	return 0;
}

const struct kind_ops run_state_dir_ops = {.mode = 0555,
					   .lookup = run_state_dir_lookup,
					   .list = run_state_dir_list,
					   .mtime_of = node_run_mtime};

/* ENOENT once the task run has left the state, as by-state/ does. */
static int
run_state_link_readlink(const struct node *n, struct buf *target, int64_t *mtime)
{
	struct task_rec t = {0};
	int err;

	if ((err = node_task(n, &t)) != 0)
		return err;
	if (t.state != n->sub)
		err = ENOENT;
	else if (buf_printf(target, "../../tasks/%s", t.id) < 0)
		err = ENOMEM;
	*mtime = t.updated;
	task_rec_free(&t);
	return err;
}

const struct kind_ops run_state_link_ops = {
    .mode = 0777, .readlink = run_state_link_readlink, .transient = 1};
