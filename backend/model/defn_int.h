/*
 * The definition parser's internals, shared by
 *   defn.c       defn_parse(), defn_free(), the top level, and the helpers
 *                below: errors, JSON paths, type checks, allocation
 *   defn_task.c  "tasks": command, stdin, env, resources, outputs
 *   defn_step.c  "steps" and "results": args, foreach, references
 *   defn_graph.c duplicate ids after fan-out, cycles, topological order
 *
 * Every function takes the parse context and stops at the first error:
 * it returns -1 (or NULL) with the message stored in ctx.err, whose text
 * starts with the JSON path in ctx.path. A caller appends to the path
 * with defn_path_key()/defn_path_index() and pops back with
 * defn_path_pop() on success; on error the path is left as it is, since
 * the message already holds it.
 */
#ifndef RUNFS_DEFN_INT_H
#define RUNFS_DEFN_INT_H

#include <jansson.h>
#include <stddef.h>

#include "defn.h"

#define QUOTE_MAX 64		      /* bytes of a user's string shown in an error */
#define QUOTE_BUF (QUOTE_MAX * 4 + 8) /* every byte may become \xNN */

#define STR_(x) #x
#define STR(x)	STR_(x)

#define ID_RULE                                                                                    \
	"use 1 to " STR(DEFN_MAX_ID) " characters from A-Z a-z 0-9 _ . - (not \".\" or \"..\")"

struct ctx {
	struct defn *d;
	char *err;
	json_t *task_ix; /* task name -> index */
	json_t *step_ix; /* step id -> index */
	char scratch[64];
	size_t plen;
	char path[18432]; /* up to 65 components (check_depth) of <= 270 bytes */
};

/* defn.c: errors. Each returns -1. */
int defn_fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int defn_oom(struct ctx *c);
/* Quotes s for an error text into out (QUOTE_BUF bytes); returns out. */
const char *defn_quote(char *out, const char *s);
/* What a value is, for "expected X, got Y"; numbers show themselves. */
const char *defn_got(struct ctx *c, const json_t *v);

/* defn.c: the JSON path. Both appenders return the old length for
 * defn_path_pop(). */
size_t defn_path_key(struct ctx *c, const char *key);
size_t defn_path_index(struct ctx *c, size_t i);
void defn_path_pop(struct ctx *c, size_t old);

/* defn.c: checks. Each returns 0, or -1 after failing. */
int defn_want(struct ctx *c, const json_t *v, json_type type, const char *what);
int defn_check_fields(struct ctx *c, json_t *obj, const char *const *known);
/* obj must be an object; with known set, one with only those fields. */
int defn_want_object(struct ctx *c, json_t *obj, const char *const *known);
/* Appends key to the path (the caller pops back to *old) and returns
 * obj's value for it, or NULL after failing when there is none. */
json_t *defn_required(struct ctx *c, json_t *obj, const char *key, size_t *old);
/* s must be a valid id; what names it in the error ("bad <what> ..."). */
int defn_check_id(struct ctx *c, const char *s, const char *what);

/* defn.c: allocation; NULL means out of memory, already reported.
 * defn_xcalloc() never returns NULL for zero elements. */
void *defn_xcalloc(struct ctx *c, size_t n, size_t size);
char *defn_xstrdup(struct ctx *c, const char *s);
/* A literal: strings as written, numbers and booleans as their JSON text.
 * Returns 1 (and no error) when v is not a literal. */
int defn_literal(struct ctx *c, const json_t *v, char **out);

/* params.c: a definition's "params", each a literal default. */
int defn_parse_params(struct ctx *c, json_t *obj);
/* true or false as 1 or 0; -1 after failing. */
int defn_bool(struct ctx *c, json_t *v);
/* "on_failure": 1 for "continue", 0 for "stop", -1 after failing. */
int defn_on_failure(struct ctx *c, json_t *v);

/* defn_task.c */
int defn_parse_tasks(struct ctx *c, json_t *obj);
/* 1 when name is one of the task's placeholders. */
int defn_task_has_param(const struct defn_task *t, const char *name);

/* defn_step.c */
int defn_parse_steps(struct ctx *c, json_t *arr);
int defn_parse_results(struct ctx *c, json_t *arr);

/* defn_graph.c, for defn_parse_steps() */
int defn_check_copies(struct ctx *c);
int defn_sort_steps(struct ctx *c);

#endif
