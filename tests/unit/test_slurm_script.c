/* The Slurm job script: run here with sh, it passes every value to the
 * command exactly, whatever quotes, $(...) or backquotes it holds, reads
 * {"from"} values from the parents' files, and picks a job array's copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "defn.h"
#include "layout.h"
#include "plan.h"
#include "slurm_int.h"
#include "util.h"

static const char defn_text[] =
    "{\"name\": \"q\", \"tasks\": {"
    " \"show\": {\"command\": [\"printf\", \"%s|\", \"{a}\","
    "   \"lit'q\\\"$(touch PWNED)`touch PWNED2`\", \"{b}\", \"x{a}y\"]},"
    " \"src\": {\"command\": [\"true\"]},"
    " \"each\": {\"command\": [\"printf\", \"<%s>\", \"{v}\"], \"stdin\": \"in:{v}\"}},"
    "\"steps\": ["
    " {\"id\": \"p\", \"task\": \"src\"},"
    " {\"id\": \"c\", \"task\": \"show\", \"args\": {\"a\": {\"from\": \"p\"},"
    "   \"b\": \"x;touch PWNED3 'y\"}},"
    " {\"id\": \"f\", \"task\": \"each\", \"foreach\": {\"v\": [\"a b\", \"$HOME\", \"'\"]}}]}";

/* Runs the script of members in dir; the stdout file of task `id`. */
static char *
run(const char *dir, const struct script_ctx *c, const char *id, const char *array_index)
{
	char path[PATH_MAX_], cmd[PATH_MAX_ * 2], *script = slurm_script(c), *out = NULL;
	size_t n;

	CHECK(script != NULL);
	snprintf(path, sizeof(path), "%s/job.sh", dir);
	if (script == NULL || write_file(path, script, strlen(script), 0700) < 0)
		goto done;
	snprintf(cmd, sizeof(cmd), "cd %s && SLURM_ARRAY_TASK_ID=%s sh job.sh", dir, array_index);
	CHECK(system(cmd) == 0);
	if (path_attempt_file(path, dir, "wf.q.0000000", id, 1, "stdout") == 0)
		read_file(path, 1 << 20, &out, &n);
done:
	free(script);
	return out;
}

int
main(void)
{
	const char *base = getenv("TEST_TMPDIR");
	char dir[2048], path[PATH_MAX_], *err = NULL, *out;
	struct defn *d = NULL;
	struct plan p = {0};
	int attempts[8] = {1, 1, 1, 1, 1}, members[3];
	struct stat sb;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test_slurm_script.XXXXXX", base);
	if (mkdir_p(base, 0755) < 0 || mkdtemp(dir) == NULL)
		return 1;
	CHECK(defn_parse(defn_text, strlen(defn_text), &d, &err) == 0);
	if (d == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(plan_build(d, &p) == 0);
	/* The parent's output, as its job would have left it. */
	CHECK(path_output(path, dir, "wf.q.0000000", "p", 1, "stdout") == 0);
	CHECK(mkdir_p(strrchr(path, '/') ? (*strrchr(path, '/') = '\0', path) : path, 0700) == 0);
	strcat(path, "/p.1.stdout");
	CHECK(write_file(path, "it's $(touch PWNED4)\n\n", 22, 0600) == 0);

	members[0] = 1; /* c */
	{
		struct script_ctx c = {d, &p, members, 1, attempts, "wf.q.0000000", dir, 0};
		out = run(dir, &c, "c", "");
		CHECK_STR(out, "it's $(touch PWNED4)|lit'q\"$(touch PWNED)`touch PWNED2`|x;touch "
			       "PWNED3 'y|xit's $(touch PWNED4)y|");
		free(out);
	}
	/* The job array of f: each element its own copy. */
	for (int k = 0; k < 3; k++)
		members[k] = 2 + k;
	{
		struct script_ctx c = {d, &p, members, 3, attempts, "wf.q.0000000", dir, 0};
		out = run(dir, &c, "f.1", "1");
		CHECK_STR(out, "<$HOME>");
		free(out);
		out = run(dir, &c, "f.2", "2");
		CHECK_STR(out, "<'>");
		free(out);
		CHECK(path_attempt_file(path, dir, "wf.q.0000000", "f.0", 1, "stdout") == 0);
		CHECK(stat(path, &sb) < 0); /* element 0 did not run */
	}
	/* Nothing ran that the values spelled. */
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/runs/wf.q.0000000/work/c.1/PWNED%s", dir,
			 i ? (char[]){(char)('0' + i), 0} : "");
		CHECK(stat(path, &sb) < 0);
	}
	plan_free(&p);
	defn_free(d);
	CHECK(remove_tree(dir) == 0);
	return check_done();
}
