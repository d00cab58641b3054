/* The graph: task runs in topological order, fan-out ids, parents and
 * children. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "defn.h"
#include "plan.h"

static struct defn *
parse(const char *text)
{
	struct defn *d = NULL;
	char *err = NULL;

	if (defn_parse(text, strlen(text), &d, &err) < 0) {
		fprintf(stderr, "parse: %s\n", err);
		free(err);
		return NULL;
	}
	return d;
}

static int
step_index(const struct defn *d, const char *id)
{
	for (int i = 0; i < d->nsteps; i++)
		if (strcmp(d->steps[i].id, id) == 0)
			return i;
	return -1;
}

int
main(void)
{
	/* Steps listed children first must still run parents first. */
	struct defn *d = parse(
	    "{\"name\": \"g\", \"tasks\": {\"t\": {\"command\": [\"echo\", \"{x}\"]},"
	    "\"n\": {\"command\": [\"true\"]}},"
	    "\"steps\": [{\"id\": \"last\", \"task\": \"t\", \"args\": {\"x\": {\"from\": "
	    "\"mid\"}}},"
	    "{\"id\": \"mid\", \"task\": \"t\", \"foreach\": {\"x\": [\"a\", \"b\", \"c\"]}},"
	    "{\"id\": \"first\", \"task\": \"n\"},"
	    "{\"id\": \"side\", \"task\": \"t\", \"args\": {\"x\": {\"path\": \"first\"}}}]}");
	struct plan p;
	char id[64];

	CHECK(d != NULL);
	if (d == NULL)
		return check_done();
	CHECK(plan_build(d, &p) == 0);
	CHECK(p.ntr == 6);
	CHECK(d->ntaskruns == 6);
	int last = step_index(d, "last"), mid = step_index(d, "mid"),
	    first = step_index(d, "first");
	CHECK(p.step_count[mid] == 3 && p.step_count[last] == 1);
	/* Every parent's task runs come before its children's. */
	CHECK(p.step_first[mid] + 3 <= p.step_first[last]);
	CHECK(p.step_first[first] < p.step_first[step_index(d, "side")]);
	plan_tr_id(d, &p, p.step_first[mid] + 2, id, sizeof(id));
	CHECK_STR(id, "mid.2");
	plan_tr_id(d, &p, p.step_first[last], id, sizeof(id));
	CHECK_STR(id, "last");
	CHECK(p.tr_copy[p.step_first[mid] + 1] == 1 && p.tr_copy[p.step_first[last]] == -1);
	CHECK(p.step_nchildren[mid] == 1 && p.step_children[mid][0] == last);
	CHECK(p.step_nchildren[last] == 0);
	int parents[8];
	CHECK(defn_step_parents(d, last, parents) == 1 && parents[0] == mid);
	CHECK(defn_step_parents(d, first, parents) == 0);
	plan_free(&p);
	defn_free(d);

	/* A diamond: one step read twice gives one parent, two children. */
	d = parse(
	    "{\"name\": \"diamond\", \"tasks\": {\"t\": {\"command\": [\"cat\", \"{a}\", \"{b}\"]},"
	    "\"s\": {\"command\": [\"true\"]}},"
	    "\"steps\": [{\"id\": \"top\", \"task\": \"s\"},"
	    "{\"id\": \"l\", \"task\": \"t\", \"args\": {\"a\": {\"path\": \"top\"}, \"b\": "
	    "\"x\"}},"
	    "{\"id\": \"r\", \"task\": \"t\", \"args\": {\"a\": {\"path\": \"top\"}, \"b\": "
	    "{\"from\": \"top\"}}},"
	    "{\"id\": \"bottom\", \"task\": \"t\", \"args\": {\"a\": {\"path\": \"l\"}, \"b\": "
	    "{\"path\": \"r\"}}}]}");
	CHECK(d != NULL);
	if (d == NULL)
		return check_done();
	CHECK(plan_build(d, &p) == 0);
	int top = step_index(d, "top"), r = step_index(d, "r");
	CHECK(p.step_nchildren[top] == 2);
	CHECK(defn_step_parents(d, r, parents) == 1);
	CHECK(defn_step_parents(d, step_index(d, "bottom"), parents) == 2);
	CHECK(p.step_first[top] == 0 && p.step_first[step_index(d, "bottom")] == 3);
	plan_free(&p);
	defn_free(d);
	return check_done();
}
