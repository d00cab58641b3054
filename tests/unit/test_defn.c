/* Unit tests for the definition parser (backend/defn.c, backend/tmpl.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "defn.h"
#include "util.h"

/* Test definitions use ' for " so they stay readable as C strings. */
static char *
dq(const char *s)
{
	char *p = strdup(s), *q;

	if (p == NULL)
		abort();
	for (q = p; *q; q++)
		if (*q == '\'')
			*q = '"';
	return p;
}

static struct defn *
parse_ok(int line, const char *text)
{
	struct defn *d = NULL;
	char *err = NULL, *json = dq(text);

	if (defn_parse(json, strlen(json), &d, &err) != 0) {
		fprintf(stderr, "line %d: unexpected error: %s\n", line, err ? err : "(null)");
		check_failed++;
	} else {
		check_passed++;
	}
	free(err);
	free(json);
	return d;
}

static void
parse_bad_raw(int line, const char *json, size_t len, const char *want)
{
	struct defn *d = NULL;
	char *err = NULL;
	int before = check_failed;

	CHECK(defn_parse(json, len, &d, &err) == -1);
	CHECK(d == NULL);
	CHECK_STR(err, want);
	if (err != NULL)
		CHECK(strchr(err, '\n') == NULL);
	if (check_failed > before)
		fprintf(stderr, "  (definition at line %d)\n", line);
	defn_free(d);
	free(err);
}

static void
parse_bad(int line, const char *text, const char *want)
{
	char *json = dq(text);

	parse_bad_raw(line, json, strlen(json), want);
	free(json);
}

#define OK(text)	 parse_ok(__LINE__, text)
#define BAD(text, want)	 parse_bad(__LINE__, text, want)
#define BADN(text, want) parse_bad_raw(__LINE__, text, strlen(text), want)

/* A definition around given tasks and steps. */
static char *
wf(const char *tasks, const char *steps)
{
	struct buf b = {0};

	if (buf_printf(&b, "{'name': 'w', 'tasks': %s, 'steps': %s}", tasks, steps) < 0)
		abort();
	return buf_steal(&b);
}

#define GREET "{'greet': {'command': ['echo', '{who}']}}"
#define TWO                                                                                        \
	"{'greet': {'command': ['echo', '{who}']}, 'cat': {'command': ['cat'], "                   \
	"'stdin': '{text}', 'outputs': ['stdout', 'out.txt']}}"
#define STEP0 "[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}}]"

#define BADW(tasks, steps, want)                                                                   \
	do {                                                                                       \
		char *w_ = wf(tasks, steps);                                                       \
		parse_bad(__LINE__, w_, want);                                                     \
		free(w_);                                                                          \
	} while (0)
#define BADT(task, want)  BADW("{'greet': " task "}", STEP0, want)
#define BADS(steps, want) BADW(TWO, steps, want)

#define ID_RULE	 "use 1 to 128 characters from A-Z a-z 0-9 _ . - (not \".\" or \"..\")"
#define CPU_HINT "use a number of cores greater than 0, like 2, 0.5 or \"500m\""
#define MEM_HINT "use bytes or a number with Ki, Mi, Gi, Ti, K, M, G or T, like \"256Mi\""
#define VALUE_KINDS                                                                                \
	"expected a string, number, boolean, {\"from\": \"step\"} or {\"path\": \"step\"}"

static void
test_syntax(void)
{
	char *big;

	BADN("{\n  \"name\": \"x\",\n  \"tasks\": {,}\n}",
	     "line 3, column 13: string or '}' expected near ','");
	BADN("{\"name\": \"a\", \"name\": \"b\"}",
	     "line 1, column 20: duplicate object key near '\"name\"'");
	BADN("{\"name\": \"a\"", "line 1, column 12: '}' expected near end of file");
	BADN("{\"name\": \"a\xff\"}", "line 1, column 11: unable to decode byte 0xff near '\"a'");
	BADN("", "definition is empty");
	BADN(" \n\t", "definition is empty");
	BAD("[1]", "definition: expected an object, got an array");

	big = malloc(DEFN_MAX_BYTES + 1);
	if (big == NULL)
		abort();
	memset(big, ' ', DEFN_MAX_BYTES + 1);
	parse_bad_raw(__LINE__, big, DEFN_MAX_BYTES + 1,
		      "definition is 16777217 bytes; the limit is 16777216");
	free(big);
}

static void
test_depth(void)
{
	struct buf b = {0}, want = {0};
	int i;

	buf_adds(&b, "{\"name\": \"a\", \"x\": ");
	buf_adds(&want, "x");
	for (i = 0; i < 70; i++)
		buf_adds(&b, "[");
	for (i = 0; i < 70; i++)
		buf_adds(&b, "]");
	buf_adds(&b, "}");
	/* The root is level 1 and x level 2, so level 65 is x[0]...[0] (63). */
	for (i = 0; i < 63; i++)
		buf_adds(&want, "[0]");
	buf_adds(&want, ": nested deeper than 64 levels");
	parse_bad_raw(__LINE__, b.p, b.len, want.p);
	buf_free(&b);
	buf_free(&want);
}

static void
test_top(void)
{
	BAD("{'name': 'w', 'tasks': " GREET ", 'steps': " STEP0 ", 'extra': 1}",
	    "extra: unknown field");
	BAD("{'tasks': " GREET ", 'steps': " STEP0 "}", "name: required field is missing");
	BAD("{'name': 'w', 'steps': " STEP0 "}", "tasks: required field is missing");
	BAD("{'name': 'w', 'tasks': " GREET "}", "steps: required field is missing");
	BAD("{'name': 3}", "name: expected a string, got 3");
	BAD("{'name': 'Hello'}",
	    "name: bad name \"Hello\": use 1 to 64 characters from a-z 0-9 _ -");
	BAD("{'name': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
	    "name: bad name "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"...: "
	    "use 1 to 64 characters from a-z 0-9 _ -");
	BAD("{'version': 2, 'name': 'w'}",
	    "version: unsupported version 2; this runfs reads version 1");
	BAD("{'version': '1', 'name': 'w'}", "version: expected 1, got a string");
	BAD("{'name': 'w', 'config': 'a/b'}", "config: bad configuration name \"a/b\": " ID_RULE);
	BAD("{'name': 'w', 'config': true}", "config: expected a string, got true");
	BAD("{'name': 'w', 'tasks': [], 'steps': []}",
	    "tasks: expected an object, got an empty array");
	BAD("{'name': 'w', 'tasks': {}, 'steps': []}", "tasks: expected at least one task");
	BAD("{'name': 'w', 'tasks': " GREET ", 'steps': {}}",
	    "steps: expected an array, got an empty object");
	BAD("{'name': 'w', 'tasks': " GREET ", 'steps': []}", "steps: expected at least one step");
	BAD("{'name': 'w', 'tasks': " GREET ", 'steps': " STEP0 ", 'results': 'a'}",
	    "results: expected an array, got a string");
}

static void
test_tasks(void)
{
	BADT("{'comand': ['echo']}", "tasks.greet.comand: unknown field");
	BADT("{'stdin': 'x'}", "tasks.greet.command: required field is missing");
	BADT("[]", "tasks.greet: expected an object, got an empty array");
	BADT("{'command': 'echo {who}'}",
	     "tasks.greet.command: expected a non-empty array of strings, got a string");
	BADT("{'command': []}",
	     "tasks.greet.command: expected a non-empty array of strings, got an empty array");
	BADT("{'command': ['echo', 1]}", "tasks.greet.command[1]: expected a string, got 1");
	BADT("{'command': ['echo', '{who}'], 'stdin': ['x']}",
	     "tasks.greet.stdin: expected a string, got an array");
	BADT("{'command': ['echo', '{who}'], 'env': ['A=1']}",
	     "tasks.greet.env: expected an object, got an array");
	BADT("{'command': ['echo', '{who}'], 'env': {'A': 1}}",
	     "tasks.greet.env.A: expected a string, got 1");
	BADT("{'command': ['echo', '{who}'], 'env': {'RUNFS_TASK_ID': 'x'}}",
	     "tasks.greet.env.RUNFS_TASK_ID: names starting with RUNFS_ are reserved for runfs");
	BADT("{'command': ['echo', '{who}'], 'env': {'A B': 'x'}}",
	     "tasks.greet.env[\"A B\"]: bad variable name: use A-Z a-z 0-9 _, not starting with "
	     "a digit");
	BADT("{'command': ['echo', '{who}'], 'env': {'1A': 'x'}}",
	     "tasks.greet.env.1A: bad variable name: use A-Z a-z 0-9 _, not starting with a digit");
	BADT("{'command': ['echo', '{who}'], 'resources': 'big'}",
	     "tasks.greet.resources: expected an object, got a string");
	BADT("{'command': ['echo', '{who}'], 'resources': {'cpus': 1}}",
	     "tasks.greet.resources.cpus: unknown field");
	BADT("{'command': ['echo', '{who}'], 'resources': {'cpu': 'abc'}}",
	     "tasks.greet.resources.cpu: bad CPU quantity \"abc\": " CPU_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'cpu': '1.5x'}}",
	     "tasks.greet.resources.cpu: bad CPU quantity \"1.5x\": " CPU_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'cpu': 0}}",
	     "tasks.greet.resources.cpu: bad CPU quantity 0: " CPU_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'cpu': '-1'}}",
	     "tasks.greet.resources.cpu: bad CPU quantity \"-1\": " CPU_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'cpu': [1]}}",
	     "tasks.greet.resources.cpu: expected a number or a string like \"500m\", got an "
	     "array");
	BADT("{'command': ['echo', '{who}'], 'resources': {'memory': '12XB'}}",
	     "tasks.greet.resources.memory: bad memory quantity \"12XB\": " MEM_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'memory': -1}}",
	     "tasks.greet.resources.memory: bad memory quantity -1: " MEM_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'memory': '2000000Ti'}}",
	     "tasks.greet.resources.memory: bad memory quantity \"2000000Ti\": the limit is 1 EiB");
	BADT("{'command': ['echo', '{who}'], 'resources': {'memory': true}}",
	     "tasks.greet.resources.memory: expected a number or a string like \"256Mi\", got "
	     "true");
	BADT("{'command': ['echo', '{who}'], 'resources': {'disk': '1Q'}}",
	     "tasks.greet.resources.disk: bad disk quantity \"1Q\": " MEM_HINT);
	BADT("{'command': ['echo', '{who}'], 'resources': {'gpu': 1.5}}",
	     "tasks.greet.resources.gpu: expected an integer from 0 to 1024, got 1.5");
	BADT("{'command': ['echo', '{who}'], 'retries': 101}",
	     "tasks.greet.retries: expected an integer from 0 to 100, got 101");
	BADT("{'command': ['echo', '{who}'], 'retries': -1}",
	     "tasks.greet.retries: expected an integer from 0 to 100, got -1");
	BADT("{'command': ['echo', '{who}'], 'retries': '2'}",
	     "tasks.greet.retries: expected an integer from 0 to 100, got a string");
	BADT("{'command': ['echo', '{who}'], 'timeout': -5}",
	     "tasks.greet.timeout: expected a number of seconds greater than 0 and at most "
	     "10000000, got -5");
	BADT("{'command': ['echo', '{who}'], 'timeout': 1e8}",
	     "tasks.greet.timeout: expected a number of seconds greater than 0 and at most "
	     "10000000, got 100000000");
	BADT("{'command': ['echo', '{who}'], 'timeout': '60s'}",
	     "tasks.greet.timeout: expected a number of seconds greater than 0 and at most "
	     "10000000, got a string");
	BADT("{'command': ['echo', '{who}'], 'outputs': 'stdout'}",
	     "tasks.greet.outputs: expected a non-empty array of output names, got a string");
	BADT("{'command': ['echo', '{who}'], 'outputs': []}",
	     "tasks.greet.outputs: expected a non-empty array of output names, got an empty array");
	BADT("{'command': ['echo', '{who}'], 'outputs': ['stdout', 'a', 'a']}",
	     "tasks.greet.outputs[2]: duplicate output \"a\"");
	BADT("{'command': ['echo', '{who}'], 'outputs': ['../x']}",
	     "tasks.greet.outputs[0]: bad output name \"../x\": " ID_RULE);
	BADW("{'a/b': {'command': ['true']}}", STEP0, "tasks[\"a/b\"]: bad task name: " ID_RULE);
	BADW("{'..': {'command': ['true']}}", STEP0, "tasks[\"..\"]: bad task name: " ID_RULE);
}

static void
test_steps(void)
{
	char *id129, *s;
	struct buf b = {0};

	BADS("['x']", "steps[0]: expected an object, got a string");
	BADS("[{'id': 'a', 'task': 'greet', 'arg': {'who': 'x'}}]", "steps[0].arg: unknown field");
	BADS("[{'task': 'greet', 'args': {'who': 'x'}}]", "steps[0].id: required field is missing");
	BADS("[{'id': 'a', 'args': {'who': 'x'}}]", "steps[0].task: required field is missing");
	BADS("[{'id': 1, 'task': 'greet'}]", "steps[0].id: expected a string, got 1");
	BADS("[{'id': 'a', 'task': null}]", "steps[0].task: expected a string, got null");
	BADS("[{'id': 'a/b', 'task': 'greet'}]", "steps[0].id: bad id \"a/b\": " ID_RULE);
	BADS("[{'id': '..', 'task': 'greet'}]", "steps[0].id: bad id \"..\": " ID_RULE);
	BADS("[{'id': 'a b', 'task': 'greet'}]", "steps[0].id: bad id \"a b\": " ID_RULE);
	BADS("[{'id': 'a\\u0001b', 'task': 'greet'}]", "steps[0].id: bad id \"a\\x01b\": " ID_RULE);
	BADS("[{'id': 'a\\u00e9', 'task': 'greet'}]",
	     "steps[0].id: bad id \"a\xc3\xa9\": " ID_RULE);
	BADS("[{'id': '', 'task': 'greet'}]", "steps[0].id: bad id \"\": " ID_RULE);

	id129 = malloc(130);
	memset(id129, 'i', 129);
	id129[129] = '\0';
	buf_printf(&b, "[{'id': '%s', 'task': 'greet'}]", id129);
	id129[64] = '\0';
	s = wf(TWO, b.p);
	buf_free(&b);
	buf_printf(&b, "steps[0].id: bad id \"%s\"...: %s", id129, ID_RULE);
	parse_bad(__LINE__, s, b.p);
	free(s);
	free(id129);
	buf_free(&b);

	BADS("[{'id': 'a', 'task': 'gret'}]", "steps[0].task: unknown task \"gret\"");
	BADS("[{'id': 'a', 'task': 'greet'}]",
	     "steps[0]: missing argument \"who\" for task \"greet\"");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x', 'whom': 'y'}}]",
	     "steps[0].args.whom: task \"greet\" has no argument \"whom\"");
	BADS("[{'id': 'a', 'task': 'greet', 'foreach': {'whom': ['y']}}]",
	     "steps[0].foreach.whom: task \"greet\" has no argument \"whom\"");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}, 'foreach': {'who': ['y']}}]",
	     "steps[0].foreach.who: argument \"who\" is given in both args and foreach");
	BADS("[{'id': 'a', 'task': 'greet', 'args': []}]",
	     "steps[0].args: expected an object, got an empty array");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': null}}]",
	     "steps[0].args.who: " VALUE_KINDS ", got null");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': ['x']}}]",
	     "steps[0].args.who: " VALUE_KINDS ", got an array");
	BADS("[{'id': 'a', 'task': 'greet', 'foreach': ['x']}]",
	     "steps[0].foreach: expected an object, got an array");
	BADS("[{'id': 'a', 'task': 'greet', 'foreach': {}}]",
	     "steps[0].foreach: expected at least one list");
	BADS("[{'id': 'a', 'task': 'greet', 'foreach': {'who': []}}]",
	     "steps[0].foreach.who: expected a non-empty array, got an empty array");
	BADS("[{'id': 'a', 'task': 'greet', 'foreach': {'who': ['x', {'from': 'a'}]}}]",
	     "steps[0].foreach.who[1]: expected a string, number or boolean, got an object");
	BADW("{'pair': {'command': ['echo', '{a}', '{b}']}}",
	     "[{'id': 'p', 'task': 'pair', 'foreach': {'a': [1, 2], 'b': [1, 2, 3]}}]",
	     "steps[0].foreach.b: 3 items, but \"a\" has 2: the lists are zipped, so they must "
	     "have the same length");

	/* References. */
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'from': 'nope'}}}]",
	     "steps[1].args.text: unknown step \"nope\"");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'path': 'nope.stdout'}}}]",
	     "steps[1].args.text: unknown step \"nope.stdout\"");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'from': 'a.err'}}}]",
	     "steps[1].args.text: step \"a\" has no output \"err\"");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'frm': 'a'}}}]",
	     "steps[1].args.text.frm: unknown field");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'from': 'a', 'path': 'a'}}}]",
	     "steps[1].args.text: expected {\"from\": \"step\"} or {\"path\": \"step\"}, got both");
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'from': 1}}}]",
	     "steps[1].args.text.from: expected a step id, got 1");

	/* Ids, before and after fan-out. */
	BADS("[{'id': 'a', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'a', 'task': 'greet', 'args': {'who': 'y'}}]",
	     "steps[1].id: duplicate id \"a\"");
	BADS("[{'id': 'a', 'task': 'greet', 'foreach': {'who': ['x', 'y']}},"
	     " {'id': 'a.1', 'task': 'greet', 'args': {'who': 'y'}}]",
	     "steps[1].id: duplicate id \"a.1\": foreach step \"a\" makes a task run with that id");
	BADS("[{'id': 'a.0', 'task': 'greet', 'args': {'who': 'y'}},"
	     " {'id': 'a', 'task': 'greet', 'foreach': {'who': ['x', 'y']}}]",
	     "steps[1].foreach: duplicate id \"a.0\": copy 0 of this step has the id of steps[0]");

	/* Cycles. */
	BADS("[{'id': 'a', 'task': 'cat', 'args': {'text': {'from': 'a'}}}]",
	     "steps[0]: cycle: a -> a");
	BADS("[{'id': 'x', 'task': 'greet', 'args': {'who': 'x'}},"
	     " {'id': 'a', 'task': 'cat', 'args': {'text': {'from': 'c'}}},"
	     " {'id': 'b', 'task': 'cat', 'args': {'text': {'from': 'a.out.txt'}}},"
	     " {'id': 'c', 'task': 'cat', 'args': {'text': {'path': 'b'}}}]",
	     "steps[1]: cycle: a -> b -> c -> a");

	/* Results. */
	BADW(GREET, STEP0 ", 'results': [{'from': 'a'}, {'from': 'zz'}]",
	     "results[1]: unknown step \"zz\"");
	BADW(GREET, STEP0 ", 'results': ['a']",
	     "results[0]: expected {\"from\": \"step\"} or {\"path\": \"step\"}, got a string");
	BADW(GREET, STEP0 ", 'results': [{}]",
	     "results[0]: expected {\"from\": \"step\"} or {\"path\": \"step\"}, got an empty "
	     "object");
	BADW(GREET, STEP0 ", 'results': [{'path': 'a.x'}]",
	     "results[0]: step \"a\" has no output \"x\"");
}

/* The limit counts task runs after fan-out, over all steps. */
static void
test_limits(void)
{
	struct buf b = {0};
	char *s;
	int i;

	buf_adds(&b, "[{'id': 'one', 'task': 'greet', 'args': {'who': 1}},"
		     " {'id': 'many', 'task': 'greet', 'foreach': {'who': [");
	for (i = 0; i < DEFN_MAX_TASKRUNS; i++)
		buf_adds(&b, i ? ",1" : "1");
	buf_adds(&b, "]}}]");
	s = wf(GREET, b.p);
	parse_bad(__LINE__, s, "steps: 100001 task runs after fan-out; the limit is 100000");
	free(s);
	buf_free(&b);

	buf_adds(&b, "[{'id': 'many', 'task': 'greet', 'foreach': {'who': [");
	for (i = 0; i <= DEFN_MAX_TASKRUNS; i++)
		buf_adds(&b, i ? ",1" : "1");
	buf_adds(&b, "]}}]");
	s = wf(GREET, b.p);
	parse_bad(__LINE__, s, "steps[0].foreach.who: 100001 items; the limit is 100000 task runs");
	free(s);
	buf_free(&b);

	/* Exactly at the limit is fine. */
	buf_adds(&b, "[{'id': 'many', 'task': 'greet', 'foreach': {'who': [");
	for (i = 0; i < DEFN_MAX_TASKRUNS; i++)
		buf_adds(&b, i ? ",1" : "1");
	buf_adds(&b, "]}}]");
	s = wf(GREET, b.p);
	{
		struct defn *d = OK(s);

		CHECK(d != NULL && d->ntaskruns == DEFN_MAX_TASKRUNS);
		CHECK(d != NULL && d->steps[0].ncopies == DEFN_MAX_TASKRUNS);
		defn_free(d);
	}
	free(s);
	buf_free(&b);
}

static const char design_example[] =
    "{"
    "  'name': 'hello',"
    "  'config': 'local',"
    "  'tasks': {"
    "    'greet': {'command': ['printf', 'Hello, %s!', '{who}']},"
    "    'upper': {'command': ['tr', 'a-z', 'A-Z'], 'stdin': '{text}'},"
    "    'count': {'command': ['wc', '-c', '{file}'], 'outputs': ['stdout'],"
    "              'resources': {'cpu': 1, 'memory': '256Mi'}, 'retries': 2,"
    "              'timeout': 60, 'env': {'LC_ALL': 'C'}}"
    "  },"
    "  'steps': ["
    "    {'id': 'greet-world', 'task': 'greet', 'args': {'who': 'world'}},"
    "    {'id': 'shout', 'task': 'upper', 'args': {'text': {'from': 'greet-world'}}},"
    "    {'id': 'size', 'task': 'count', 'args': {'file': {'path': 'greet-world'}}},"
    "    {'id': 'many', 'task': 'greet', 'foreach': {'who': ['a', 'b', 'c']}}"
    "  ],"
    "  'results': [{'from': 'shout'}, {'from': 'size'}]"
    "}";

static void
test_example(void)
{
	struct defn *d = OK(design_example);
	struct defn_task *t;
	struct defn_step *s;
	int parents[4];

	if (d == NULL)
		return;
	CHECK_STR(d->name, "hello");
	CHECK_STR(d->config, "local");
	CHECK(d->ntasks == 3);
	CHECK(d->nsteps == 4);
	CHECK(d->ntaskruns == 6);
	CHECK(d->order[0] == 0 && d->order[1] == 1 && d->order[2] == 2 && d->order[3] == 3);

	t = &d->tasks[0];
	CHECK_STR(t->name, "greet");
	CHECK(t->argc == 3 && t->argv[3] == NULL);
	CHECK_STR(t->argv[1], "Hello, %s!");
	CHECK_STR(t->argv[2], "{who}");
	CHECK(t->stdin_tmpl == NULL);
	CHECK(t->nparams == 1);
	CHECK_STR(t->params[0], "who");
	CHECK(t->noutputs == 1);
	CHECK_STR(t->outputs[0], "stdout");
	CHECK(t->cpu_milli == 1000 && t->memory_bytes == 0);
	CHECK(t->retries == 0 && t->timeout == 0 && t->nenv == 0);

	t = &d->tasks[1];
	CHECK_STR(t->name, "upper");
	CHECK_STR(t->stdin_tmpl, "{text}");
	CHECK(t->nparams == 1);
	CHECK_STR(t->params[0], "text");

	t = &d->tasks[2];
	CHECK_STR(t->name, "count");
	CHECK(t->nparams == 1);
	CHECK_STR(t->params[0], "file");
	CHECK(t->noutputs == 1);
	CHECK_STR(t->outputs[0], "stdout");
	CHECK(t->cpu_milli == 1000);
	CHECK(t->memory_bytes == 256 * 1024 * 1024);
	CHECK(t->retries == 2);
	CHECK(t->timeout == 60);
	CHECK(t->nenv == 1);
	CHECK_STR(t->env_names[0], "LC_ALL");
	CHECK_STR(t->env_values[0], "C");

	s = &d->steps[0];
	CHECK_STR(s->id, "greet-world");
	CHECK(s->task == 0 && s->ncopies == -1 && s->nfe == 0 && s->nargs == 1);
	CHECK_STR(s->args[0].name, "who");
	CHECK(s->args[0].kind == ARG_LIT);
	CHECK_STR(s->args[0].lit, "world");
	CHECK(defn_step_parents(d, 0, parents) == 0);

	s = &d->steps[1];
	CHECK(s->task == 1 && s->nargs == 1);
	CHECK(s->args[0].kind == ARG_FROM && s->args[0].step == 0 && s->args[0].output == 0);
	CHECK(s->args[0].lit == NULL);
	CHECK(defn_step_parents(d, 1, parents) == 1 && parents[0] == 0);

	s = &d->steps[2];
	CHECK(s->task == 2);
	CHECK(s->args[0].kind == ARG_PATH && s->args[0].step == 0 && s->args[0].output == 0);

	s = &d->steps[3];
	CHECK_STR(s->id, "many");
	CHECK(s->task == 0 && s->nargs == 0 && s->nfe == 1 && s->ncopies == 3);
	CHECK_STR(s->fe_names[0], "who");
	CHECK_STR(s->fe_values[0][0], "a");
	CHECK_STR(s->fe_values[0][1], "b");
	CHECK_STR(s->fe_values[0][2], "c");

	CHECK(d->nresults == 2);
	CHECK(d->results[0].step == 1 && d->results[0].output == 0 && !d->results[0].by_path);
	CHECK(d->results[1].step == 2 && d->results[1].output == 0);
	defn_free(d);
}

static void
test_valid(void)
{
	struct defn *d;
	struct defn_step *s;
	int parents[8];

	/* Literals: numbers and booleans as their JSON text. */
	d = OK("{'version': 1, 'name': 'lit', 'tasks': {'t': {'command':"
	       " ['echo', '{n}', '{f}', '{t}', '{F}', '{big}', '{neg}', '{s}', '{e}']}},"
	       " 'steps': [{'id': 's', 'task': 't', 'args': {'n': 3, 'f': 2.50, 't': true,"
	       " 'F': false, 'big': 1e8, 'neg': -7, 's': 'x'}, 'foreach': {'e': [1, true, 'z', 0.1,"
	       " 1.5e300]}}]}");
	if (d != NULL) {
		s = &d->steps[0];
		CHECK(d->tasks[0].nparams == 8);
		CHECK_STR(d->tasks[0].params[0], "F"); /* sorted, uppercase first */
		CHECK(s->nargs == 7);
		CHECK_STR(s->args[0].lit, "3");
		CHECK_STR(s->args[1].lit, "2.5");
		CHECK_STR(s->args[2].lit, "true");
		CHECK_STR(s->args[3].lit, "false");
		CHECK_STR(s->args[4].lit, "100000000");
		CHECK_STR(s->args[5].lit, "-7");
		CHECK_STR(s->args[6].lit, "x");
		CHECK(s->ncopies == 5);
		CHECK_STR(s->fe_values[0][0], "1");
		CHECK_STR(s->fe_values[0][1], "true");
		CHECK_STR(s->fe_values[0][2], "z");
		CHECK_STR(s->fe_values[0][3], "0.1");
		CHECK_STR(s->fe_values[0][4], "1.5e+300");
		CHECK(s->fe_values[0][5] == NULL);
		CHECK(d->ntaskruns == 5);
		defn_free(d);
	}

	/* Quantities. */
	d = OK("{'name': 'q', 'tasks': {"
	       " 'a': {'command': ['true'], 'resources': {'cpu': '500m', 'memory': '1Gi'}},"
	       " 'b': {'command': ['true'], 'resources': {'cpu': '2', 'memory': '1.5K'}},"
	       " 'c': {'command': ['true'], 'resources': {'cpu': 0.25, 'memory': 1000, 'disk': "
	       "'10G', 'gpu': 1}},"
	       " 'd': {'command': ['true'], 'resources': {'cpu': '1.5', 'memory': '512'},"
	       " 'timeout': 0.5, 'retries': 100}},"
	       " 'steps': [{'id': 's', 'task': 'a'}]}");
	if (d != NULL) {
		CHECK(d->tasks[0].cpu_milli == 500);
		CHECK(d->tasks[0].memory_bytes == 1073741824);
		CHECK(d->tasks[1].cpu_milli == 2000);
		CHECK(d->tasks[1].memory_bytes == 1500);
		CHECK(d->tasks[2].cpu_milli == 250);
		CHECK(d->tasks[2].memory_bytes == 1000);
		CHECK(d->tasks[3].cpu_milli == 1500);
		CHECK(d->tasks[3].memory_bytes == 512);
		CHECK(d->tasks[3].timeout == 0.5);
		CHECK(d->tasks[3].retries == 100);
		CHECK(d->ntaskruns == 1);
		defn_free(d);
	}

	/* Steps out of order are sorted parents first, otherwise kept in
	 * order; output names may hold dots; the same parent counts once. */
	d = OK("{'name': 'order', 'tasks': {"
	       " 'two': {'command': ['cat', '{x}', '{y}'], 'outputs': ['stdout', 'out.txt']}},"
	       " 'steps': ["
	       "  {'id': 'b', 'task': 'two', 'args': {'x': {'from': 'a.out.txt'},"
	       "   'y': {'path': 'a'}}},"
	       "  {'id': 'c', 'task': 'two', 'args': {'x': 1, 'y': 2}},"
	       "  {'id': 'a', 'task': 'two', 'args': {'x': 1, 'y': {'from': 'c.stdout'}}}],"
	       " 'results': [{'path': 'b.out.txt'}]}");
	if (d != NULL) {
		CHECK(d->order[0] == 1 && d->order[1] == 2 && d->order[2] == 0);
		CHECK(d->steps[0].args[0].step == 2 && d->steps[0].args[0].output == 1);
		CHECK(d->steps[0].args[1].kind == ARG_PATH && d->steps[0].args[1].output == 0);
		CHECK(defn_step_parents(d, 0, parents) == 1 && parents[0] == 2);
		CHECK(defn_step_parents(d, 2, parents) == 1 && parents[0] == 1);
		CHECK(d->results[0].step == 0 && d->results[0].output == 1);
		CHECK(d->results[0].by_path == 1);
		CHECK(d->config == NULL);
		defn_free(d);
	}

	/* A step id with a dot wins over "step.output"; ids that only look
	 * like fan-out copies are fine. */
	d = OK("{'name': 'dots', 'tasks': {"
	       " 'cat': {'command': ['cat'], 'stdin': '{t}', 'outputs': ['stdout', 'b']},"
	       " 'greet': {'command': ['echo', '{who}']}},"
	       " 'steps': ["
	       "  {'id': 'a', 'task': 'greet', 'foreach': {'who': [1, 2]}},"
	       "  {'id': 'a.2', 'task': 'greet', 'args': {'who': 1}},"
	       "  {'id': 'a.01', 'task': 'greet', 'args': {'who': 1}},"
	       "  {'id': 'x', 'task': 'cat', 'args': {'t': 'q'}},"
	       "  {'id': 'x.b', 'task': 'greet', 'args': {'who': 1}},"
	       "  {'id': 'y', 'task': 'cat', 'args': {'t': {'from': 'x.b'}}}]}");
	if (d != NULL) {
		CHECK(d->steps[5].args[0].step == 4 && d->steps[5].args[0].output == 0);
		CHECK(d->ntaskruns == 7);
		defn_free(d);
	}
}

/* A chain defined child first: the sort must not recurse once per step. */
static void
test_long_chain(void)
{
	struct buf b = {0};
	struct defn *d;
	char *s;
	int i, n = 10000, sorted = 1;

	for (i = 0; i < n; i++) {
		if (i < n - 1)
			buf_printf(
			    &b, "%s{'id': 's%d', 'task': 'cat', 'args': {'text': {'from': 's%d'}}}",
			    i ? "," : "[", i, i + 1);
		else
			buf_printf(&b, ",{'id': 's%d', 'task': 'cat', 'args': {'text': 'x'}}]", i);
	}
	s = wf(TWO, b.p);
	d = OK(s);
	if (d != NULL) {
		for (i = 0; i < n; i++)
			sorted &= d->order[i] == n - 1 - i;
		CHECK(sorted);
		defn_free(d);
	}
	free(s);
	buf_free(&b);
}

static const char *
lookup(const char *name, size_t len, void *arg)
{
	(void)arg;
	if (len == 3 && strncmp(name, "who", len) == 0)
		return "world";
	if (len == 1 && name[0] == 'a')
		return "1";
	if (len == 1 && name[0] == 'b')
		return "2";
	return NULL;
}

static void
subst(int line, const char *tmpl, const char *want)
{
	char *s = tmpl_subst(tmpl, lookup, NULL);
	int before = check_failed;

	CHECK_STR(s, want);
	if (check_failed > before)
		fprintf(stderr, "  (template at line %d)\n", line);
	free(s);
}

static void
count_param(const char *name, size_t len, void *arg)
{
	struct buf *b = arg;

	buf_add(b, name, len);
	buf_adds(b, ",");
}

static void
test_tmpl(void)
{
	struct buf b = {0};
	char id[DEFN_MAX_ID + 2];

	subst(__LINE__, "Hello, {who}!", "Hello, world!");
	subst(__LINE__, "{who}", "world");
	subst(__LINE__, "{{who}}", "{who}");
	subst(__LINE__, "{{{who}}}", "{{who}}");
	subst(__LINE__, "{{a}", "{1");
	subst(__LINE__, "{s+=$1} END {print s}", "{s+=$1} END {print s}");
	subst(__LINE__, "{ print $1 }", "{ print $1 }");
	subst(__LINE__, "{nope} {who}", "{nope} world");
	subst(__LINE__, "{a}{b}", "12");
	subst(__LINE__, "x{a}y", "x1y");
	subst(__LINE__, "{}{1a}{a b}{", "{}{1a}{a b}{");
	subst(__LINE__, "${HOME}", "${HOME}");
	subst(__LINE__, "", "");

	tmpl_params("{a} {{b}} {c} {a} {1} {d", count_param, &b);
	CHECK_STR(b.p, "a,c,a,");
	buf_free(&b);

	CHECK(defn_valid_id("a"));
	CHECK(defn_valid_id("A-b_c.1"));
	CHECK(defn_valid_id("..."));
	CHECK(defn_valid_id(".hidden"));
	CHECK(!defn_valid_id(""));
	CHECK(!defn_valid_id("."));
	CHECK(!defn_valid_id(".."));
	CHECK(!defn_valid_id("a/b"));
	CHECK(!defn_valid_id("a b"));
	CHECK(!defn_valid_id("a\nb"));
	CHECK(!defn_valid_id("\xc3\xa9"));
	memset(id, 'x', DEFN_MAX_ID);
	id[DEFN_MAX_ID] = '\0';
	CHECK(defn_valid_id(id));
	id[DEFN_MAX_ID] = 'x';
	id[DEFN_MAX_ID + 1] = '\0';
	CHECK(!defn_valid_id(id));
}

int
main(void)
{
	test_syntax();
	test_depth();
	test_top();
	test_tasks();
	test_steps();
	test_limits();
	test_example();
	test_valid();
	test_long_chain();
	test_tmpl();
	return check_done();
}
