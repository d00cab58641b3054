/* The top of the tree: submit, prepare, configs/, runs/, by-state/ and index. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node.h"

static const char *const root_names[] = {"submit", "prepare",  "configs",
					 "runs",   "by-state", "index"};
static const enum kind root_kinds[] = {K_SUBMIT, K_PREPARE, K_CONFIGS, K_RUNS, K_BY_STATE, K_INDEX};
#define NROOT 6

static int
root_lookup(const struct node *dir, const char *name, struct node *child)
{
	int i = name_index(root_names, NROOT, name);

	(void)dir;
	if (i < 0)
		return ENOENT;
	*child = (struct node){.kind = root_kinds[i]};
	return 0;
}

static int
root_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	return list_names(dir, root_names, NROOT, from, fill, ctx);
}

const struct kind_ops root_ops = {
    .mode = 0555, .lookup = root_lookup, .list = root_list, .fixed_list = 1};

static int
runs_lookup(const struct node *dir, const char *name, struct node *child)
{
	(void)dir;
	return lookup_run(name, -1, K_RUN, child);
}

static int
runs_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	(void)dir;
	return list_runs(-1, K_RUN, from, fill, ctx);
}

/* A directory changes when an entry is added: runs/ when the newest run
 * was made. */
static int
runs_mtime(const struct node *n, int64_t *mtime)
{
	int64_t newest = backend_newest_run(fs_backend);

	(void)n;
	*mtime = newest > 0 ? newest : fs_start_ms;
	return 0;
}

const struct kind_ops runs_ops = {
    .mode = 0555, .lookup = runs_lookup, .list = runs_list, .mtime_of = runs_mtime};
