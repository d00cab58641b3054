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
	return list_names(dir, root_names, root_kinds, NROOT, from, fill, ctx);
}

const struct kind_ops root_ops = {
    .mode = 0555, .lookup = root_lookup, .list = root_list, .fixed_list = 1};

static int
runs_lookup(const struct node *dir, const char *name, struct node *child)
{
	struct run_rec r = {0};
	int err = rerr_errno(backend_run(fs_backend, name, &r));

	(void)dir;
	if (err)
		return err;
	*child = (struct node){.kind = K_RUN, .run = r.seq};
	run_rec_free(&r);
	return r.seq > SEQ_MAX ? EOVERFLOW : 0;
}

/* Served in pages: the cookie is the last run's seq, so a listing of
 * thousands of runs never repeats the work of the pages before it. */
static int
runs_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	struct run_rec page[128];
	int64_t after = from;
	int n, full = 0;

	(void)dir;
	while (!full && (n = backend_runs(fs_backend, after, 128, page)) > 0) {
		for (int i = 0; i < n; i++) {
			struct node c = {.kind = K_RUN, .run = page[i].seq};
			if (!full)
				full = fill(ctx, page[i].id, &c, (off_t)page[i].seq);
			after = page[i].seq;
			run_rec_free(&page[i]);
		}
	}
	return 0;
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
