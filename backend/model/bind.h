/*
 * The binding of a step's parameters (DESIGN.md, "Definition format"): a
 * parameter takes the step's foreach item, a literal, or a reference to
 * another step's output, which stands for that output's content without
 * its trailing newlines (or, by {"path"}, its file's path), one line per
 * copy of a fan-out. Submit, the start of an attempt, a run's results and
 * the Slurm job script all bind through here.
 */
#ifndef RUNFS_BIND_H
#define RUNFS_BIND_H

#include <stddef.h>

#include "defn.h"
#include "util.h"

/* The most of an output a value takes (a reference by content). It ends
 * up in argv or stdin; argv strings are limited by the kernel anyway,
 * stdin is bounded to keep memory sane. */
#define BIND_VALUE_MAX (64 * 1024 * 1024)

struct binding {
	const char *value;	    /* a foreach item or a literal: the value */
	const struct defn_arg *ref; /* else a reference (ARG_FROM or ARG_PATH) */
};

/* How copy `copy` of step st binds parameter name: 0, or -1 when the step
 * does not pass it. A foreach item comes before an argument. */
int bind_param(const struct defn_step *st, int copy, const char *name, struct binding *out);

/* Adds copy k's share of a reference's value to v: a newline before every
 * copy but the first, then data (an output's content, or a path) without
 * its trailing newlines. 0, or -1 without memory. */
int bind_ref_piece(struct buf *v, int k, const char *data, size_t len);
/* The same for an output read from its file at path (at most max bytes),
 * or, by_path, for the path itself. A missing file is an output never
 * printed to: "". 0, or -1 with errno. */
int bind_ref_file(struct buf *v, int k, const char *path, int by_path, size_t max);

/* tasks/<t>/inputs as recorded: each parameter of the task and the value
 * bound to it (values[i], or null where it is not known yet: a
 * reference before the task run starts). malloc'd JSON, NULL without
 * memory. */
char *bind_inputs_json(const struct defn_task *task, const char *const *values);

#endif
