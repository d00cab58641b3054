/* runfs graph RUN: prints the run's graph.dot, for `| dot -Tsvg`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int
cli_graph(const struct cli_command *c, int argc, char **argv)
{
	const char *run = NULL, *mount = NULL;
	char dir[2 * PATH_MAX], path[2 * PATH_MAX + 16], *text = NULL;
	size_t len;
	int found;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mount") && i + 1 < argc)
			mount = argv[++i];
		else if (argv[i][0] != '-' && run == NULL)
			run = argv[i];
		else
			return cli_usage(c, "unexpected argument %s", argv[i]);
	}
	if (run == NULL)
		return cli_usage(c, "graph needs a run id");
	if ((found = cli_locate_run(c, run, mount, dir, sizeof(dir))) != 0)
		return found;
	snprintf(path, sizeof(path), "%s/graph.dot", dir);
	if (read_file(path, (size_t)1 << 30, &text, &len) < 0) {
		fprintf(stderr, "runfs: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}
