/*
 * The step graph, once every reference is resolved: task run ids that
 * clash after fan-out, cycles, a topological order, and each step's
 * parents.
 */
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "defn_int.h"
#include "util.h"

/* Copy k of foreach step "a" is task run "a.k": a plain step may not take
 * that id, or two task runs would share one directory. */
int
defn_check_copies(struct ctx *c)
{
	struct defn *d = c->d;
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	const char *id, *k;
	json_t *ix;
	int i, j;

	for (i = 0; i < d->nsteps; i++) {
		id = d->steps[i].id;
		if (d->steps[i].ncopies >= 0 || (k = strrchr(id, '.')) == NULL)
			continue;
		k++;
		if (*k == '\0' || strspn(k, "0123456789") != strlen(k) || strlen(k) > 6 ||
		    (k[0] == '0' && k[1] != '\0'))
			continue;
		ix = json_object_getn(c->step_ix, id, (size_t)(k - 1 - id));
		if (ix == NULL)
			continue;
		j = (int)json_integer_value(ix);
		if (atoi(k) >= d->steps[j].ncopies)
			continue;
		if (i > j) {
			defn_path_index(c, (size_t)i);
			defn_path_key(c, "id");
			return defn_fail(
			    c, "duplicate id %s: foreach step %s makes a task run with that id",
			    defn_quote(q, id), defn_quote(q2, d->steps[j].id));
		}
		defn_path_index(c, (size_t)j);
		defn_path_key(c, "foreach");
		return defn_fail(c, "duplicate id %s: copy %d of this step has the id of steps[%d]",
				 defn_quote(q, id), atoi(k), i);
	}
	return 0;
}

enum { WHITE, GRAY, BLACK };

struct frame {
	int step;
	int next; /* the next argument to follow */
};

static int
cycle_error(struct ctx *c, const struct frame *stack, int top, int p)
{
	struct defn *d = c->d;
	struct buf b = {0};
	int pos, i, rc;

	for (pos = top - 1; stack[pos].step != p; pos--)
		;
	/* Each frame takes from the one above it; print the cycle the way
	 * data flows, as graph.dot draws edges. */
	rc = buf_adds(&b, d->steps[p].id);
	for (i = top - 1; i > pos && rc == 0; i--) {
		if (top - 1 - i == 16) {
			rc = buf_adds(&b, " -> ...");
			break;
		}
		rc = buf_printf(&b, " -> %s", d->steps[stack[i].step].id);
	}
	if (rc < 0 || buf_printf(&b, " -> %s", d->steps[p].id) < 0) {
		buf_free(&b);
		return defn_oom(c);
	}
	defn_path_index(c, (size_t)p);
	defn_fail(c, "cycle: %s", b.p);
	buf_free(&b);
	return -1;
}

/* Depth-first, parents before children, roots in definition order: a
 * definition already in topological order keeps its order. Iterative,
 * since a chain may be DEFN_MAX_TASKRUNS steps long. */
int
defn_sort_steps(struct ctx *c)
{
	struct defn *d = c->d;
	struct frame *stack, *f;
	const struct defn_arg *a;
	char *color;
	int i, top, n = 0, rc = -1;

	d->order = defn_xcalloc(c, (size_t)d->nsteps, sizeof(int));
	stack = defn_xcalloc(c, (size_t)d->nsteps, sizeof(*stack));
	color = defn_xcalloc(c, (size_t)d->nsteps, 1);
	if (d->order == NULL || stack == NULL || color == NULL)
		goto out;
	for (i = 0; i < d->nsteps; i++) {
		if (color[i] != WHITE)
			continue;
		color[i] = GRAY;
		stack[0] = (struct frame){i, 0};
		top = 1;
		while (top > 0) {
			f = &stack[top - 1];
			if (f->next == d->steps[f->step].nargs) {
				color[f->step] = BLACK;
				d->order[n++] = f->step;
				top--;
				continue;
			}
			a = &d->steps[f->step].args[f->next++];
			if (a->kind == ARG_LIT || color[a->step] == BLACK)
				continue;
			if (color[a->step] == GRAY) {
				cycle_error(c, stack, top, a->step);
				goto out;
			}
			color[a->step] = GRAY;
			stack[top++] = (struct frame){a->step, 0};
		}
	}
	rc = 0;
out:
	free(stack);
	free(color);
	return rc;
}

int
defn_step_parents(const struct defn *d, int step, int *parents)
{
	const struct defn_step *s = &d->steps[step];
	int i, j, n = 0;

	for (i = 0; i < s->nargs; i++) {
		if (s->args[i].kind == ARG_LIT)
			continue;
		for (j = 0; j < n && parents[j] != s->args[i].step; j++)
			;
		if (j == n)
			parents[n++] = s->args[i].step;
	}
	return n;
}
