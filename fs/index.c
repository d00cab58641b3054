/* index: one tab-separated line per run, oldest first, for awk, sort and
 * cut: id, state, config, started, ended, done/total ("-" for a time not
 * yet reached, so that every line has six fields whatever splits them). */
#include <errno.h>

#include "node.h"

#define PAGE 256

static int
add_time(struct buf *out, int64_t ms)
{
	char iso[40];

	if (ms == 0)
		return buf_adds(out, "\t-");
	iso8601(ms, iso, sizeof(iso));
	return buf_printf(out, "\t%s", iso);
}

static int
add_line(struct buf *out, const struct run_rec *r)
{
	if (buf_printf(out, "%s\t%s\t%s", r->id, state_name(r->state), r->config) < 0 ||
	    add_time(out, r->started) < 0 || add_time(out, r->ended) < 0 ||
	    buf_printf(out, "\t%d/%d\n", r->done, r->ntasks) < 0)
		return ENOMEM;
	return 0;
}

static int
index_lines(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec page[PAGE];
	int64_t after = 0;
	int got, err = 0;

	(void)n;
	(void)mtime; /* index_render sets it */
	while ((got = backend_runs(fs_backend, after, PAGE, page)) > 0) {
		for (int i = 0; i < got; i++) {
			if (err == 0)
				err = add_line(out, &page[i]);
			after = page[i].seq;
			run_rec_free(&page[i]);
		}
		if (err)
			return err;
	}
	return got < 0 ? EIO : 0;
}

/* Every change of a run's line records an event (state, times, a task run
 * completing) and so does a new run: the latest event's seq keys it. */
static int
index_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	int64_t when, key[2] = {backend_last_change(fs_backend, &when), 0};
	int err;

	if (key[0] < 0)
		return EIO;
	err = memo_render(n, key, index_lines, out, mtime);
	*mtime = when > 0 ? when : fs_start_ms;
	return err;
}

const struct kind_ops index_ops = {.mode = 0444, .render = index_render};
