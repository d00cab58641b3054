/* A definition's normalized form (model/normal.c): what is read back is
 * what defn_parse made, field by field, and a damaged form is refused. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "defn.h"
#include "plan.h"

static const char *const defs[] = {
    /* every field a task and a step can have */
    "{\"name\": \"all\", \"config\": \"local\","
    " \"tasks\": {\"greet\": {\"command\": [\"printf\", \"%s {{lit}}\", \"{who}\"],"
    "   \"env\": {\"LC_ALL\": \"C\", \"X\": \"y z\"}, \"resources\": {\"cpu\": 0.5, \"memory\": "
    "\"256Mi\", \"disk\": \"2Gi\", \"gpu\": 2},"
    "   \"retries\": 2, \"timeout\": 1.5, \"outputs\": [\"stdout\", \"extra\"]},"
    "  \"up\": {\"command\": [\"tr\", \"a-z\", \"A-Z\"], \"stdin\": \"{text}\"},"
    "  \"size\": {\"command\": [\"wc\", \"-c\", \"{file}\"]}},"
    " \"steps\": [{\"id\": \"size\", \"task\": \"size\", \"args\": {\"file\": {\"path\": "
    "\"many.extra\"}}},"
    "  {\"id\": \"many\", \"task\": \"greet\", \"foreach\": {\"who\": [\"a\", 2, true]}},"
    "  {\"id\": \"up\", \"task\": \"up\", \"args\": {\"text\": {\"from\": \"many\"}}}],"
    " \"results\": [{\"from\": \"up\"}, {\"path\": \"size\"}, {\"from\": \"many.extra\"}]}",
    /* a literal argument, no results, a task used twice */
    "{\"name\": \"lit\", \"tasks\": {\"t\": {\"command\": [\"echo\", \"{x}\"]}},"
    " \"steps\": [{\"id\": \"a\", \"task\": \"t\", \"args\": {\"x\": \"hello world\"}},"
    "  {\"id\": \"b\", \"task\": \"t\", \"args\": {\"x\": {\"from\": \"a\"}}}]}",
    /* params, on_failure at the top and on a step, retry_delay */
    "{\"name\": \"day2\", \"params\": {\"n\": 10, \"g\": \"hg38\"}, \"on_failure\": \"continue\","
    " \"cache\": true,"
    " \"tasks\": {\"t\": {\"command\": [\"echo\", \"{x}\"], \"retries\": 3, \"retry_delay\": [5, "
    "0.5]}},"
    " \"steps\": [{\"id\": \"a\", \"task\": \"t\", \"args\": {\"x\": {\"param\": \"n\"}}},"
    "  {\"id\": \"b\", \"task\": \"t\", \"on_failure\": \"stop\", \"args\": {\"x\": {\"param\": "
    "\"g\"}}}]}",
};

static void
same_strv(char **a, char **b, int n)
{
	for (int i = 0; i < n; i++)
		CHECK_STR(a[i], b[i]);
}

/* Every field of two definitions, and the plans built from them. */
static void
same(const struct defn *a, const struct defn *b)
{
	struct plan pa = {0}, pb = {0};

	CHECK_STR(a->name, b->name);
	CHECK((a->config == NULL) == (b->config == NULL));
	if (a->config && b->config)
		CHECK_STR(a->config, b->config);
	CHECK(a->ntasks == b->ntasks && a->nsteps == b->nsteps && a->nresults == b->nresults);
	CHECK(a->ntaskruns == b->ntaskruns);
	for (int i = 0; i < a->ntasks && i < b->ntasks; i++) {
		const struct defn_task *x = &a->tasks[i], *y = &b->tasks[i];
		CHECK_STR(x->name, y->name);
		CHECK(x->argc == y->argc && x->nenv == y->nenv && x->noutputs == y->noutputs &&
		      x->nparams == y->nparams);
		same_strv(x->argv, y->argv, x->argc);
		CHECK(y->argv[y->argc] == NULL);
		CHECK((x->stdin_tmpl == NULL) == (y->stdin_tmpl == NULL));
		if (x->stdin_tmpl && y->stdin_tmpl)
			CHECK_STR(x->stdin_tmpl, y->stdin_tmpl);
		same_strv(x->env_names, y->env_names, x->nenv);
		same_strv(x->env_values, y->env_values, x->nenv);
		same_strv(x->outputs, y->outputs, x->noutputs);
		same_strv(x->params, y->params, x->nparams);
		CHECK(x->cpu_milli == y->cpu_milli && x->memory_bytes == y->memory_bytes);
		CHECK(x->disk_bytes == y->disk_bytes && x->gpus == y->gpus);
		CHECK(x->retries == y->retries && x->timeout == y->timeout);
		CHECK(x->nretry_delay == y->nretry_delay && x->cache == y->cache);
		for (int j = 0; j < x->nretry_delay && j < y->nretry_delay; j++)
			CHECK(x->retry_delay[j] == y->retry_delay[j]);
	}
	CHECK(a->nparams == b->nparams && a->keep_going == b->keep_going);
	same_strv(a->param_names, b->param_names, a->nparams);
	same_strv(a->param_values, b->param_values, a->nparams);
	for (int i = 0; i < a->nsteps && i < b->nsteps; i++) {
		const struct defn_step *x = &a->steps[i], *y = &b->steps[i];
		CHECK_STR(x->id, y->id);
		CHECK(x->task == y->task && x->nargs == y->nargs && x->nfe == y->nfe &&
		      x->ncopies == y->ncopies && x->keep_going == y->keep_going);
		CHECK(a->order[i] == b->order[i]);
		for (int j = 0; j < x->nargs && j < y->nargs; j++) {
			CHECK_STR(x->args[j].name, y->args[j].name);
			CHECK(x->args[j].kind == y->args[j].kind);
			if (x->args[j].kind == ARG_LIT)
				CHECK_STR(x->args[j].lit, y->args[j].lit);
			else
				CHECK(x->args[j].step == y->args[j].step &&
				      x->args[j].output == y->args[j].output);
		}
		for (int j = 0; j < x->nfe && j < y->nfe; j++) {
			CHECK_STR(x->fe_names[j], y->fe_names[j]);
			same_strv(x->fe_values[j], y->fe_values[j], x->ncopies);
		}
	}
	for (int i = 0; i < a->nresults && i < b->nresults; i++)
		CHECK(a->results[i].step == b->results[i].step &&
		      a->results[i].output == b->results[i].output &&
		      a->results[i].by_path == b->results[i].by_path);
	CHECK(plan_build(a, &pa) == 0 && plan_build(b, &pb) == 0);
	CHECK(pa.ntr == pb.ntr);
	for (int i = 0; i < pa.ntr && i < pb.ntr; i++)
		CHECK(pa.tr_step[i] == pb.tr_step[i] && pa.tr_copy[i] == pb.tr_copy[i]);
	plan_free(&pa);
	plan_free(&pb);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(*defs); i++) {
		struct defn *d = NULL, *back = NULL;
		char *err = NULL, *text, *again;

		CHECK(defn_parse(defs[i], strlen(defs[i]), &d, &err) == 0);
		if (d == NULL) {
			fprintf(stderr, "parse: %s\n", err);
			free(err);
			continue;
		}
		CHECK((text = defn_normal_dump(d)) != NULL);
		CHECK(defn_normal_load(text, &back, &err) == 0 && back != NULL);
		if (back) {
			same(d, back);
			/* Written out again, the same text. */
			again = defn_normal_dump(back);
			CHECK_STR(again, text);
			free(again);
		}
		/* A run recorded before normalized forms: parsed from its text. */
		defn_free(back);
		back = NULL;
		CHECK(defn_load_run(defs[i], 0, &back, &err) == 0);
		if (back)
			same(d, back);
		defn_free(back);
		back = NULL;

		/* Damaged: cut short, or of another version. Refused, nothing leaks. */
		text[strlen(text) / 2] = '\0';
		CHECK(defn_normal_load(text, &back, &err) == -1 && back == NULL && err != NULL);
		free(err);
		err = NULL;
		CHECK(defn_normal_load("{\"v\": 2}", &back, &err) == -1 && back == NULL);
		free(err);
		free(text);
		defn_free(d);
	}
	/* What the third parsed into: literals from params, each step's
	 * on_failure, the delays. */
	{
		struct defn *d = NULL;
		char *err = NULL;
		CHECK(defn_parse(defs[2], strlen(defs[2]), &d, &err) == 0 && d != NULL);
		if (d) {
			CHECK(d->steps[0].args[0].kind == ARG_LIT);
			CHECK_STR(d->steps[0].args[0].lit, "10");
			CHECK_STR(d->steps[1].args[0].lit, "hg38");
			CHECK(d->steps[0].keep_going == 1 && d->steps[1].keep_going == 0);
			CHECK(d->tasks[0].nretry_delay == 2 && d->tasks[0].retry_delay[1] == 0.5);
			CHECK(d->tasks[0].cache == 1);
		}
		defn_free(d);
		free(err);
	}
	return check_done();
}
