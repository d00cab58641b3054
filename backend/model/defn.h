/*
 * Workflow definitions, format version 1 (DESIGN.md "Definition format").
 *
 * defn_parse() validates everything it can before anything is recorded or
 * run: syntax (with line and column), types, unknown fields, names that
 * could escape a path, unknown tasks/steps/arguments/outputs, missing
 * arguments, duplicate ids (after fan-out expansion too) and cycles.
 * Every error text starts with the JSON path of the bad field, as in
 *   steps[3].args.text: unknown step "shout2"
 */
#ifndef RUNFS_DEFN_H
#define RUNFS_DEFN_H

#include <stddef.h>
#include <stdint.h>

/* Limits, documented in README.md; exceeding one is a definition error. */
#define DEFN_MAX_BYTES	  (16 * 1024 * 1024) /* the submitted text */
#define DEFN_MAX_TASKRUNS 100000	     /* task runs after fan-out */
#define DEFN_MAX_ID	  128		     /* step ids, task and output names */
#define DEFN_MAX_NAME	  64		     /* the workflow name */
#define DEFN_MAX_DEPTH	  64		     /* JSON nesting */

enum arg_kind {
	ARG_LIT,  /* a literal (strings as written; numbers and booleans as JSON text) */
	ARG_FROM, /* {"from": "step[.output]"}: the content of that output */
	ARG_PATH, /* {"path": "step[.output]"}: the path of that output file */
};

struct defn_arg {
	char *name;
	enum arg_kind kind;
	char *lit;  /* ARG_LIT only */
	int step;   /* ARG_FROM/ARG_PATH: index into defn.steps */
	int output; /* ARG_FROM/ARG_PATH: index into that step's task's outputs */
};

struct defn_task {
	char *name;
	char **argv; /* templates, argc entries, NULL-terminated */
	int argc;
	char *stdin_tmpl; /* NULL when the task reads nothing */
	char **env_names; /* nenv entries, values are literal */
	char **env_values;
	int nenv;
	int cpu_milli;	      /* resources.cpu in thousandths; default 1000 */
	int64_t memory_bytes; /* resources.memory; 0 when not given */
	int64_t disk_bytes;   /* resources.disk; 0 when not given */
	int gpus;	      /* resources.gpu; 0 when not given */
	int retries;	      /* extra attempts after a failure; default 0 */
	/* retry_delay: seconds before attempt k+1 after k failed is
	 * retry_delay[min(k, n) - 1]; none when nretry_delay is 0. */
	double *retry_delay;
	int nretry_delay;
	/* "cache": a task run whose key (engine/cache.c) matches an earlier
	 * one's takes its outputs instead of running; off by default. */
	int cache;
	double timeout; /* seconds per attempt; 0 = none */
	char **outputs; /* noutputs >= 1; default {"stdout"} */
	int noutputs;
	char **params; /* placeholder names used by argv and stdin, sorted, unique */
	int nparams;
};

struct defn_step {
	char *id;
	int task;	       /* index into defn.tasks */
	struct defn_arg *args; /* arguments given in "args" */
	int nargs;
	/* foreach: nfe lists, all of length ncopies, zipped. ncopies is -1 for a
	 * step without foreach (one task run, id = step id); otherwise the step
	 * has ncopies task runs with ids "<id>.<k>", k = 0..ncopies-1. */
	char **fe_names;
	char ***fe_values; /* fe_values[i][k] is the k-th item of list i */
	int nfe;
	int ncopies;
	/* on_failure "continue": when one of its task runs fails for good,
	 * the others go on; else (the default) no new task run starts. */
	int keep_going;
};

struct defn_result {
	int step;
	int output;
	int by_path; /* 1 for {"path": ...}: the result is the file's path */
};

struct defn {
	char *name;
	char *config; /* NULL when the definition does not choose one */
	struct defn_task *tasks;
	int ntasks;
	struct defn_step *steps;
	int nsteps;
	struct defn_result *results;
	int nresults;
	/* "params": declared names and the values used ({"param": name}
	 * arguments are literals of these once parsed). */
	char **param_names;
	char **param_values;
	int nparams;
	int keep_going; /* the top-level on_failure: each step's default */
	int cache;	/* the top-level cache: each task's default */
	int *order;	/* step indices in a topological order (parents first) */
	int ntaskruns;	/* total task runs after fan-out */
};

/* Parses and validates, in the format the text is in (format.c). On
 * failure returns -1 and sets *err to a malloc'd one-line message (no
 * trailing newline); on success 0 and *out. */
int defn_parse(const char *text, size_t len, struct defn **out, char **err);

/*
 * Definition formats (format.c): each detects its texts, parses them, and
 * tells whether a write completes a document, so that submit can answer at
 * the write that ends one. Version 1 is JSON (defn.c).
 */
struct defn_format {
	const char *name;
	/* 1 when text (possibly incomplete) is in this format */
	int (*detect)(const char *text, size_t len);
	int (*parse)(const char *text, size_t len, struct defn **out, char **err);
	/* 1 when text, whose last write was last, is a whole document */
	int (*complete)(const char *text, size_t len, const char *last, size_t lastlen);
};
/* The format of text: the first whose detect takes it, else the first. */
const struct defn_format *defn_format_of(const char *text, size_t len);
/* Whether text, whose latest write was last, is a whole document in one
 * of the formats. */
int defn_write_completes(const char *text, size_t len, const char *last, size_t lastlen);
/* normal.c: the normalized form of a parsed definition, which the store
 * keeps so that a run is never parsed again (malloc'd JSON text, NULL
 * without memory), and the definition read back from it: 0, or -1 with a
 * malloc'd reason in *err. */
char *defn_normal_dump(const struct defn *d);
int defn_normal_load(const char *text, struct defn **out, char **err);
/* A run's definition as the store gives it (store_run_normal): read back
 * from its normalized form, or, for a run recorded before there was one,
 * parsed from its text. */
int defn_load_run(const char *text, int normal, struct defn **out, char **err);

/*
 * Parameters at submit (params.c). A submission is a definition, or
 * {"definition": {...}, "params": {"name": value, ...}}: the values given
 * replace the defaults the definition declares in its "params". Writes
 * into *out the definition with the values used as its "params"
 * (malloc'd JSON text; NULL when text is a definition in another format
 * and no values were given: submit it as it is). 0, or -1 with a
 * malloc'd reason in *err: an unknown parameter, a value that is not a
 * string, number or boolean.
 */
int defn_apply_params(const char *text, size_t len, char **out, char **err);
/* The "params" of a recorded definition as a JSON object text ("{}" when
 * none), malloc'd; NULL on ENOMEM. */
char *defn_params_json(const struct defn *d);

/* JSON, version 1 (defn.c). */
int defn_parse_json(const char *text, size_t len, struct defn **out, char **err);
void defn_free(struct defn *d);

/* The steps a step's arguments refer to, each once: returns the count and
 * fills parents (caller gives nsteps slots). */
int defn_step_parents(const struct defn *d, int step, int *parents);

/*
 * Placeholders: "{name}" with name [A-Za-z_][A-Za-z0-9_]* is replaced by
 * the value of that name; "{{name}}" writes a literal "{name}"; any other
 * brace text stays as written. lookup returns NULL for a name it does not
 * know, and the placeholder then stays as written.
 * Returns a malloc'd string, or NULL on allocation failure.
 */
typedef const char *(*tmpl_lookup_fn)(const char *name, size_t len, void *arg);
char *tmpl_subst(const char *tmpl, tmpl_lookup_fn lookup, void *arg);
/* Calls fn for every placeholder name in tmpl (not for "{{name}}"). */
void tmpl_params(const char *tmpl, void (*fn)(const char *name, size_t len, void *arg), void *arg);

/* 1 when s is a valid id: [A-Za-z0-9_.-], 1..DEFN_MAX_ID chars, not "." or "..". */
int defn_valid_id(const char *s);

#endif
