/*
 * by-state/<STATE>/<run-id>: a symbolic link to ../../runs/<run-id> for
 * every run now in STATE. A link lives only while its run is in that
 * state: the names are never cached by the kernel, so `ls by-state/FAILED`
 * shows a run the moment it fails.
 */
#include <errno.h>
#include <string.h>

#include "node.h"

static int
by_state_lookup(const struct node *dir, const char *name, struct node *child)
{
	int st = state_parse(name);

	(void)dir;
	if (st < 0)
		return ENOENT;
	*child = (struct node){.kind = K_STATE_DIR, .sub = st};
	return 0;
}

static int
by_state_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	(void)dir;
	for (int st = (int)from; st < ST_COUNT; st++) {
		struct node c = {.kind = K_STATE_DIR, .sub = st};
		if (fill(ctx, state_name(st), &c, st + 1))
			break;
	}
	return 0;
}

/* Its entries change with any run's state: the last change of any run. */
static int
state_dir_mtime(const struct node *n, int64_t *mtime)
{
	(void)n;
	*mtime = runs_changed();
	return 0;
}

const struct kind_ops by_state_ops = {.mode = 0555,
				      .lookup = by_state_lookup,
				      .list = by_state_list,
				      .mtime_of = state_dir_mtime,
				      .fixed_list = 1};

static int
state_dir_lookup(const struct node *dir, const char *name, struct node *child)
{
	return lookup_run(name, dir->sub, K_STATE_LINK, child);
}

static int
state_dir_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	return list_runs(dir->sub, K_STATE_LINK, from, fill, ctx);
}

const struct kind_ops state_dir_ops = {
    .mode = 0555, .lookup = state_dir_lookup, .list = state_dir_list, .mtime_of = state_dir_mtime};

/* ENOENT once the run has left the state: a link held open by an old
 * path walk must not point on as if nothing happened. */
static int
state_link_readlink(const struct node *n, struct buf *target, int64_t *mtime)
{
	struct run_rec r = {0};
	int err;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	if (r.state != n->sub)
		err = ENOENT;
	else if (buf_printf(target, "../../runs/%s", r.id) < 0)
		err = ENOMEM;
	*mtime = run_mtime(&r);
	run_rec_free(&r);
	return err;
}

const struct kind_ops state_link_ops = {
    .mode = 0777, .readlink = state_link_readlink, .transient = 1};
