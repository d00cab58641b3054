/*
 * The batch script of one task run on Slurm: POSIX sh, nothing else on the
 * compute node. Every value reaches the shell as a single-quoted word or as
 * a variable it assigned, so no argument, input or output can inject shell
 * code. Values passed with {"from"} are read from the parents' output
 * files when the job runs ($(cat ...) drops trailing newlines, as runfs
 * does everywhere), so the whole graph can be submitted at once.
 * Files follow layout.h under the work directory instead of the data
 * directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "layout.h"
#include "plan.h"
#include "slurm_int.h"
#include "util.h"

/* A single-quoted sh word for s. */
static int
quote(struct buf *b, const char *s)
{
	if (buf_adds(b, "'") < 0)
		return -1;
	for (; *s; s++)
		if ((*s == '\'' ? buf_adds(b, "'\\''") : buf_add(b, s, 1)) < 0)
			return -1;
	return buf_adds(b, "'");
}

/* p<i>=...: the value of param i (bind.h): the step's foreach item or a
 * literal, or what a reference stands for, read on the compute node from
 * its parents' output files by the same rule: $(cat) drops the trailing
 * newlines, and a fan-out's copies go one per line. */
static int
assign(struct buf *b, const struct script_ctx *c, int idx, const char *name, int i)
{
	const struct defn_step *st = &c->d->steps[c->p->tr_step[idx]], *ps;
	char path[PATH_MAX_], id[TASK_ID_MAX];
	const struct defn_arg *a;
	struct binding bound;

	if (bind_param(st, c->p->tr_copy[idx], name, &bound) < 0)
		return buf_printf(b, "p%d=\n", i) < 0 ? -1 : 0;
	if (bound.value)
		return buf_printf(b, "p%d=", i) < 0 || quote(b, bound.value) < 0 ||
			       buf_adds(b, "\n") < 0
			   ? -1
			   : 0;
	a = bound.ref;
	ps = &c->d->steps[a->step];
	if (buf_printf(b, "p%d=\n", i) < 0)
		return -1;
	for (int k = 0; k < c->p->step_count[a->step]; k++) {
		int pi = c->p->step_first[a->step] + k;
		plan_tr_id(c->d, c->p, pi, id, sizeof(id));
		if (path_output(path, c->workdir, c->run_id, id, c->attempts[pi],
				c->d->tasks[ps->task].outputs[a->output]) < 0)
			return -1;
		/* A fan-out's copies, one per line. */
		if (k > 0 && buf_printf(b, "p%d=\"$p%d\n\"\n", i, i) < 0)
			return -1;
		if (a->kind == ARG_PATH
			? buf_printf(b, "p%d=\"$p%d\"", i, i) < 0 || quote(b, path) < 0
			: buf_printf(b, "p%d=\"$p%d$(cat ", i, i) < 0 || quote(b, path) < 0 ||
			      buf_adds(b, " 2>/dev/null)\"") < 0)
			return -1;
		if (buf_adds(b, "\n") < 0)
			return -1;
	}
	return 0;
}

/* Placeholders become \1<i>\2 markers, split out again by word(). */
static const char *
marker(const char *name, size_t len, void *arg)
{
	const struct script_ctx *c = arg;
	const struct defn_task *t = &c->d->tasks[c->d->steps[c->p->tr_step[c->members[0]]].task];
	static __thread char m[16];

	for (int i = 0; i < t->nparams; i++)
		if (strlen(t->params[i]) == len && memcmp(t->params[i], name, len) == 0) {
			snprintf(m, sizeof(m), "\001%d\002", i);
			return m;
		}
	return NULL;
}

/* One sh word for a template: quoted literal runs and "$p<i>". */
static int
word(struct buf *b, const struct script_ctx *c, const char *tmpl)
{
	char *s = tmpl_subst(tmpl, marker, (void *)c), *p, *q;
	int rc = -1;

	if (s == NULL)
		return -1;
	if (buf_adds(b, "''") < 0)
		goto out;
	for (p = s; *p; p = q) {
		if (*p == '\001' && (q = strchr(p, '\002')) != NULL) {
			if (buf_printf(b, "\"$p%d\"", atoi(p + 1)) < 0)
				goto out;
			q++;
			continue;
		}
		q = p + strcspn(p + 1, "\001") + 1;
		{
			char save = *q;
			*q = '\0';
			rc = quote(b, p);
			*q = save;
			if (rc < 0)
				goto out;
			rc = -1;
		}
	}
	rc = 0;
out:
	free(s);
	return rc;
}

char *
slurm_script(const struct script_ctx *c)
{
	const struct defn_step *st = &c->d->steps[c->p->tr_step[c->members[0]]];
	const struct defn_task *t = &c->d->tasks[st->task];
	int array = st->ncopies >= 0;
	char id[TASK_ID_MAX], dir[PATH_MAX_];
	struct buf b = {0};
	int ok = 1;

	if (path_run(dir, c->workdir, c->run_id) < 0)
		return NULL;
	ok &= buf_adds(&b, "#!/bin/sh\n# runfs: written by runfs\nW=") == 0;
	ok &= quote(&b, dir) == 0 && buf_adds(&b, "\n") == 0;
	/* A foreach step is one job array: each element picks its copy. */
	if (array)
		ok &= buf_adds(&b, "case \"$SLURM_ARRAY_TASK_ID\" in\n") == 0;
	for (int k = 0; ok && k < c->nmembers; k++) {
		int idx = c->members[k];
		plan_tr_id(c->d, c->p, idx, id, sizeof(id));
		if (array)
			ok &= buf_printf(&b, "%d)\n", c->p->tr_copy[idx]) == 0;
		ok &= buf_adds(&b, "T=") == 0 && quote(&b, id) == 0;
		ok &= buf_printf(&b, "\nN=%d\n", c->attempts[idx]) == 0;
		for (int i = 0; ok && i < t->nparams; i++)
			ok &= assign(&b, c, idx, t->params[i], i) == 0;
		if (array)
			ok &= buf_adds(&b, ";;\n") == 0;
	}
	if (array)
		ok &= buf_adds(&b, "*) echo \"runfs: no task run for array index "
				   "$SLURM_ARRAY_TASK_ID\" >&2; exit 1 ;;\nesac\n") == 0;
	ok &= buf_adds(&b, "O=\"$W/logs.d/$T.$N\"\n"
			   "export RUNFS_OUTPUTS=\"$W/outputs/$T.$N\" RUNFS_TASK_ID=\"$T\"\n"
			   "export RUNFS_RUN_ID=") == 0 &&
	      quote(&b, c->run_id) == 0;
	ok &= buf_adds(&b, "\nmkdir -p \"$W/logs.d\" \"$RUNFS_OUTPUTS\" \"$W/work/$T.$N\" "
			   "&& cd \"$W/work/$T.$N\" || exit 1\n") == 0;
	for (int i = 0; ok && i < t->nenv; i++)
		ok &= buf_printf(&b, "export %s=", t->env_names[i]) == 0 &&
		      quote(&b, t->env_values[i]) == 0 && buf_adds(&b, "\n") == 0;
	/* The job measures itself for tasks/<t>/usage: its start and end
	 * (seconds), then what `times` says of the shell and its children. */
	ok &= buf_adds(&b, "s0=$(date +%s)\nset --") == 0;
	for (int i = 0; ok && i < t->argc; i++)
		ok &= buf_adds(&b, " ") == 0 && word(&b, c, t->argv[i]) == 0;
	if (t->stdin_tmpl)
		ok &= buf_adds(&b, "\nprintf %s ") == 0 && word(&b, c, t->stdin_tmpl) == 0 &&
		      buf_adds(&b, " >\"$O.stdin\"\n\"$@\" <\"$O.stdin\"") == 0;
	else
		ok &= buf_adds(&b, "\n\"$@\" </dev/null") == 0;
	ok &= buf_adds(&b, " >\"$O.stdout\" 2>\"$O.stderr\"\nrc=$?\n"
			   "{ echo \"$s0 $(date +%s)\"; times; } >\"$O.usage\" 2>/dev/null\n") == 0;
	/* Named outputs must have been written, as on the other runtimes. */
	for (int i = 0; ok && i < t->noutputs; i++)
		if (strcmp(t->outputs[i], "stdout") != 0)
			ok &= buf_adds(&b, "[ $rc -ne 0 ] || [ -e \"$RUNFS_OUTPUTS\"/") == 0 &&
			      quote(&b, t->outputs[i]) == 0 &&
			      buf_adds(&b, " ] || { echo \"runfs: output ") == 0 &&
			      buf_adds(&b, t->outputs[i]) == 0 &&
			      buf_adds(&b, " was not written\" >>\"$O.stderr\"; rc=1; }\n") == 0;
	ok &= buf_adds(&b, "cat \"$O.stdout\" \"$O.stderr\" >>\"$W/logs.d/$T.log\"\n"
			   "awk -v t=\"$T\" '{print t \" | \" $0}' \"$O.stdout\" \"$O.stderr\" "
			   ">>\"$W/logs\"\n"
			   "exit $rc\n") == 0;
	if (!ok) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}
