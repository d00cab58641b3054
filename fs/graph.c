/*
 * runs/<id>/graph.dot: the run's graph for Graphviz (`dot -Tsvg`). One
 * node per task run, filled with its state's colour and labelled with its
 * id (the step's, or the step's and the copy's), its task's name and how
 * long it ran; edges go from parents to children. A fan-out of more than
 * FOLD copies becomes one node with the count and the copies' states, so
 * that a 10,000-copy step stays a picture rather than a wall.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node.h"

#define FOLD 50
#define PAGE 256

static const char *const fill_colour[ST_COUNT] = {
    [ST_WAITING] = "#e0e0e0", [ST_RUNNING] = "#9ecae1",	   [ST_SUCCEEDED] = "#a1d99b",
    [ST_FAILED] = "#fc9272",  [ST_TERMINATED] = "#fdd0a2", [ST_KILLED] = "#bcbddc",
    [ST_UNKNOWN] = "#ffffff",
};

/* A folded node shows the state that most needs attention. */
static const int attention[] = {ST_FAILED,  ST_KILLED,	ST_TERMINATED, ST_UNKNOWN,
				ST_RUNNING, ST_WAITING, ST_SUCCEEDED};

/* One node of the picture: a task run, or a folded step. */
struct gnode {
	int copies;
	int counts[ST_COUNT];
	int64_t started, ended; /* the earliest start, the latest end */
	int running;		/* some copy has started and not ended */
	char task[NAME_MAX_];
};

/* Text inside a DOT string: quotes and backslashes escaped, line breaks
 * as DOT's two characters \n. */
static int
add_label(struct buf *out, const char *label)
{
	for (const char *p = label; *p; p++)
		if ((*p == '\n'			 ? buf_adds(out, "\\n")
		     : (*p == '"' || *p == '\\') ? buf_printf(out, "\\%c", *p)
						 : buf_add(out, p, 1)) < 0)
			return -1;
	return 0;
}

/* A DOT string, quoted. */
static int
add_quoted(struct buf *out, const char *s)
{
	return buf_adds(out, "\"") < 0 || add_label(out, s) < 0 ? -1 : buf_adds(out, "\"");
}

static void
duration(int64_t ms, char *out, size_t n)
{
	int64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(out, n, "%dms", (int)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else
		snprintf(out, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60 % 60));
}

/* The steps of a run whose copies are folded: step -> gnode. */
static int
count_copies(int64_t run, json_t *steps)
{
	struct task_rec page[PAGE];
	int n, err = 0;

	for (int from = 0; (n = backend_tasks_brief(fs_backend, run, from, PAGE, page)) > 0;
	     from += n) {
		for (int i = 0; i < n; i++) {
			json_t *c = json_object_get(steps, page[i].step);
			if (c == NULL && json_object_set_new(steps, page[i].step, json_integer(0)))
				err = ENOMEM;
			c = json_object_get(steps, page[i].step);
			json_integer_set(c, json_integer_value(c) + 1);
			task_rec_free(&page[i]);
		}
	}
	return err ? err : (n < 0 ? EIO : 0);
}

/* The node a task run is drawn in: its own, or its step's when folded. */
static const char *
node_name(json_t *steps, const struct task_rec *t)
{
	return json_integer_value(json_object_get(steps, t->step)) > FOLD ? t->step : t->id;
}

static void
gnode_add(struct gnode *g, const struct task_rec *t)
{
	g->copies++;
	g->counts[t->state]++;
	snprintf(g->task, sizeof(g->task), "%s", t->task);
	if (t->started && (g->started == 0 || t->started < g->started))
		g->started = t->started;
	if (t->ended > g->ended)
		g->ended = t->ended;
	if (t->started && !state_completed(t->state))
		g->running = 1;
}

static int
add_node(struct buf *out, const char *name, const struct gnode *g, int folded)
{
	struct buf label = {0};
	char took[32];
	int st = ST_UNKNOWN, rc;

	for (size_t i = 0; i < sizeof(attention) / sizeof(attention[0]); i++)
		if (g->counts[attention[i]]) {
			st = attention[i];
			break;
		}
	rc = folded ? buf_printf(&label, "%s ×%d\n%s", name, g->copies, g->task)
		    : buf_printf(&label, "%s\n%s\n%s", name, g->task, state_name(st));
	for (int s = 0; folded && s < ST_COUNT && rc == 0; s++)
		if (g->counts[s])
			rc = buf_printf(&label, "\n%d %s", g->counts[s], state_name(s));
	if (rc == 0 && g->started && g->ended && !g->running) {
		duration(g->ended - g->started, took, sizeof(took));
		rc = buf_printf(&label, "\n%s", took);
	}
	if (rc < 0 || buf_adds(out, "\t") < 0 || add_quoted(out, name) < 0 ||
	    buf_adds(out, " [label=") < 0 || add_quoted(out, label.p) < 0 ||
	    buf_printf(out, ", fillcolor=\"%s\"];\n", fill_colour[st]) < 0)
		rc = -1;
	buf_free(&label);
	return rc < 0 ? ENOMEM : 0;
}

struct graph {
	json_t *steps;	/* step -> copies */
	json_t *folded; /* step -> index into g, for folded steps */
	json_t *member; /* task run id -> its folded step */
	json_t *drawn;	/* "from\nto" of edges drawn, where one end is folded */
	struct gnode *g;
	size_t ng;
	struct buf edges;
};

/* Edges from each parent's node to the task run's, each drawn once. */
static int
add_edges(struct graph *gr, const struct task_rec *t, const char *to, int to_folded)
{
	char parent[TASK_ID_MAX], key[2 * TASK_ID_MAX + 2];

	for (int i = 0; nth_line(t->parents, i, parent, sizeof(parent)) == 0; i++) {
		const char *from = json_string_value(json_object_get(gr->member, parent));
		if (from == NULL)
			from = parent;
		if (from != parent || to_folded) {
			snprintf(key, sizeof(key), "%s\n%s", from, to);
			if (json_object_get(gr->drawn, key))
				continue;
			if (json_object_set_new(gr->drawn, key, json_true()))
				return ENOMEM;
		}
		if (buf_adds(&gr->edges, "\t") < 0 || add_quoted(&gr->edges, from) < 0 ||
		    buf_adds(&gr->edges, " -> ") < 0 || add_quoted(&gr->edges, to) < 0 ||
		    buf_adds(&gr->edges, ";\n") < 0)
			return ENOMEM;
	}
	return 0;
}

/* A task run: drawn now, or added to its folded step's node. */
static int
add_task(struct graph *gr, struct buf *out, const struct task_rec *t)
{
	const char *name = node_name(gr->steps, t);
	json_t *at;
	struct gnode one = {0};

	if (name == t->id) {
		gnode_add(&one, t);
		return add_node(out, name, &one, 0) ? ENOMEM : add_edges(gr, t, name, 0);
	}
	if ((at = json_object_get(gr->folded, name)) == NULL) {
		struct gnode *g = reallocarray(gr->g, gr->ng + 1, sizeof(*g));
		if (g == NULL)
			return ENOMEM;
		gr->g = g;
		memset(&g[gr->ng], 0, sizeof(*g));
		if (json_object_set_new(gr->folded, name, json_integer((json_int_t)gr->ng++)))
			return ENOMEM;
		at = json_object_get(gr->folded, name);
	}
	gnode_add(&gr->g[json_integer_value(at)], t);
	if (json_object_set_new(gr->member, t->id, json_string(name)))
		return ENOMEM;
	return add_edges(gr, t, name, 1);
}

static int
graph_lines(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct graph gr = {
	    json_object(), json_object(), json_object(), json_object(), NULL, 0, {0}};
	struct task_rec page[PAGE];
	struct run_rec r = {0};
	const char *step;
	json_t *at;
	int got = 0, err;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	*mtime = run_mtime(&r);
	if (!gr.steps || !gr.folded || !gr.member || !gr.drawn) {
		err = ENOMEM;
		goto out;
	}
	if ((err = count_copies(r.seq, gr.steps)) != 0)
		goto out;
	if (buf_adds(out, "digraph ") < 0 || add_quoted(out, r.id) < 0 ||
	    buf_adds(out, " {\n\trankdir=LR;\n\tnode [shape=box, style=\"rounded,filled\","
			  " fontname=\"Helvetica\", fontsize=10];\n") < 0) {
		err = ENOMEM;
		goto out;
	}
	for (int from = 0;
	     err == 0 && (got = backend_tasks_brief(fs_backend, r.seq, from, PAGE, page)) > 0;
	     from += got)
		for (int i = 0; i < got; i++) {
			if (err == 0)
				err = add_task(&gr, out, &page[i]);
			task_rec_free(&page[i]);
		}
	if (err == 0 && got < 0)
		err = EIO;
	json_object_foreach(gr.folded, step, at)
	{
		if (err == 0)
			err = add_node(out, step, &gr.g[json_integer_value(at)], 1);
	}
	if (err == 0 && (buf_add(out, gr.edges.p ? gr.edges.p : "", gr.edges.len) < 0 ||
			 buf_adds(out, "}\n") < 0))
		err = ENOMEM;
out:
	json_decref(gr.steps);
	json_decref(gr.folded);
	json_decref(gr.member);
	json_decref(gr.drawn);
	free(gr.g);
	buf_free(&gr.edges);
	run_rec_free(&r);
	return err;
}

/* Its content follows the run's events (states, start and end times). */
static int
graph_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	struct run_rec r = {0};
	int64_t key[2];
	int err;

	if ((err = node_run_brief(n, &r)) != 0)
		return err;
	key[0] = r.last_event;
	key[1] = r.updated;
	run_rec_free(&r);
	return memo_render(n, key, graph_lines, out, mtime);
}

const struct kind_ops graph_ops = {.mode = 0444, .render = graph_render};
