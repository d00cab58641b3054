/* runfs submit and runfs runs: clients of a mount's submit and runs/. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "state.h"
#include "util.h"

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cli_submit(const struct cli_command *c, int argc, char **argv)
{
	const char *file = NULL, *config = NULL, *mount = NULL;
	char mnt[PATH_MAX], path[PATH_MAX + 16], answer[512], *text = NULL;
	const char *given[argc];
	json_t *params;
	size_t len;
	ssize_t n;
	int fd, rc = 1, ngiven = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--param") && i + 1 < argc) {
			const char *eq = strchr(argv[++i], '=');
			if (eq == NULL || eq == argv[i])
				return cli_usage(c, "--param takes NAME=VALUE, not %s", argv[i]);
			given[ngiven++] = argv[i];
		} else if (!strcmp(argv[i], "--mount") && i + 1 < argc)
			mount = argv[++i];
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return cli_usage(c, "unexpected argument %s", argv[i]);
	}
	if (file == NULL)
		return cli_usage(c, "submit needs a definition file");
	if (cli_find_mount(mount, mnt, sizeof(mnt)) < 0) {
		fprintf(stderr, "runfs: no runfs mount%s%s; mount one first\n", mount ? " at " : "",
			mount ? mount : "");
		return 1;
	}
	if (read_file(file, 64 * 1024 * 1024, &text, &len) < 0) {
		fprintf(stderr, "runfs: %s: %s\n", file, strerror(errno));
		return 1;
	}
	params = json_object();
	for (int i = 0; i < ngiven; i++) {
		const char *eq = strchr(given[i], '=');
		json_object_setn_new(params, given[i], (size_t)(eq - given[i]),
				     json_string(eq + 1));
	}
	if (config || json_object_size(params) > 0) {
		/* --config wins over the definition's own "config"; --param
		 * values go beside the definition, as a write to submit may. */
		json_error_t je;
		json_t *d = json_loadb(text, len, 0, &je);
		free(text);
		if (!json_is_object(d)) {
			fprintf(stderr, "runfs: %s: line %d, column %d: %s\n", file, je.line,
				je.column, d ? "expected an object" : je.text);
			json_decref(d);
			json_decref(params);
			return 1;
		}
		/* A file that is already {"definition", "params"}: the options
		 * go into its parts. */
		json_t *def = json_is_object(json_object_get(d, "definition"))
				  ? json_object_get(d, "definition")
				  : d;
		if (config)
			json_object_set_new(def, "config", json_string(config));
		if (json_object_size(params) > 0 && def != d) {
			if (!json_is_object(json_object_get(d, "params")))
				json_object_set_new(d, "params", json_object());
			json_object_update(json_object_get(d, "params"), params);
		} else if (json_object_size(params) > 0) {
			d = json_pack("{s:o, s:O}", "definition", d, "params", params);
		}
		text = d ? json_dumps(d, JSON_COMPACT) : NULL;
		len = text ? strlen(text) : 0;
		json_decref(d);
	}
	json_decref(params);
	snprintf(path, sizeof(path), "%s/submit", mnt);
	if ((fd = open(path, O_RDWR)) < 0) {
		fprintf(stderr, "runfs: %s: %s\n", path, strerror(errno));
		free(text);
		return 1;
	}
	/* A refused definition fails the write; the reason is read back. */
	(void)write_all(fd, text ? text : "", len);
	if ((n = read(fd, answer, sizeof(answer) - 1)) <= 0) {
		fprintf(stderr, "runfs: no answer from %s\n", path);
	} else {
		answer[n] = '\0';
		if (strncmp(answer, "error: ", 7) == 0) {
			fprintf(stderr, "runfs: %s", answer + 7);
		} else {
			fputs(answer, stdout);
			rc = 0;
		}
	}
	close(fd);
	free(text);
	return rc;
}

static void
print_row(char *const f[NFIELDS], int tsv, int idw)
{
	if (tsv)
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", f[F_ID], f[F_STATE], f[F_CONFIG], f[F_STARTED],
		       f[F_ENDED], f[F_DONE]);
	else
		printf("%-*s  %-10s  %-12s  %-24s  %-24s  %s\n", idw, f[F_ID], f[F_STATE],
		       f[F_CONFIG], f[F_STARTED], f[F_ENDED], f[F_DONE]);
}

/*
 * Reads the mount's index and prints the runs that pass the filters,
 * newest first. Runs are made in index order, so --max-age stops at the
 * first run older than the cutoff.
 */
int
cli_runs(const struct cli_command *c, int argc, char **argv)
{
	const char *mount = NULL;
	int want[ST_COUNT] = {0}, any = 1, limit = -1, tsv = 0, idw = 2, rc = 1, st;
	long max_age = -1;
	time_t cutoff = 0;
	char mnt[PATH_MAX], *text = NULL;
	struct index_row *rows = NULL;
	size_t nlines = 0, nkept = 0;
	char *(*kept)[NFIELDS] = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tsv")) {
			tsv = 1;
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage(c, "%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--state")) {
			if ((st = state_parse(argv[++i])) < 0)
				return cli_usage(c, "no state %s", argv[i]);
			want[st] = 1;
			any = 0;
		} else if (!strcmp(argv[i], "--limit")) {
			char *end;
			limit = (int)strtol(argv[++i], &end, 10);
			if (*end || *argv[i] == '\0' || limit < 0)
				return cli_usage(c, "--limit takes a count");
		} else if (!strcmp(argv[i], "--max-age")) {
			if ((max_age = cli_parse_age(argv[++i])) < 0)
				return cli_usage(c, "--max-age takes a duration like 3d6h");
		} else if (!strcmp(argv[i], "--mount")) {
			mount = argv[++i];
		} else {
			return cli_usage(c, "unexpected argument %s", argv[i]);
		}
	}
	if (cli_find_mount(mount, mnt, sizeof(mnt)) < 0) {
		fprintf(stderr, "runfs: no runfs mount; mount one first\n");
		return 1;
	}
	if (max_age >= 0)
		cutoff = time(NULL) - (time_t)max_age;
	if (cli_index_read(mnt, &text, &rows, &nlines) < 0)
		return 1;
	if ((kept = calloc(nlines ? nlines : 1, sizeof(*kept))) == NULL)
		goto oom;
	for (size_t i = nlines; i-- > 0 && (limit < 0 || (int)nkept < limit);) {
		char **f = kept[nkept];
		time_t made;
		memcpy(f, rows[i].f, sizeof(rows[i].f));
		if (cutoff && cli_run_created(mnt, f[F_ID], &made) == 0 && made < cutoff)
			break;
		if (!any && ((st = state_parse(f[F_STATE])) < 0 || !want[st]))
			continue;
		if ((int)strlen(f[F_ID]) > idw)
			idw = (int)strlen(f[F_ID]);
		nkept++;
	}
	if (!tsv)
		print_row((char *[]){"ID", "STATE", "CONFIG", "STARTED", "ENDED", "DONE/TOTAL"}, 0,
			  idw);
	for (size_t i = 0; i < nkept; i++)
		print_row(kept[i], tsv, idw);
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "runfs: out of memory\n");
out:
	free(kept);
	free(rows);
	free(text);
	return rc;
}
