/* runfs cache and runfs cache prune: the cache of task runs of a data
 * directory, read and trimmed without a mount (backend/admin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "util.h"

/* "10G", "512M", "2048": bytes, or -1. */
static long long
parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	const char *units = "KMGT";
	const char *u;

	if (end == s || v < 0)
		return -1;
	if (*end == '\0')
		return v;
	if ((u = strchr(units, *end)) == NULL || end[1] != '\0')
		return -1;
	for (const char *k = units; k <= u; k++)
		v *= 1024;
	return v;
}

static void
said(const char *key, long long bytes, int64_t created, void *arg)
{
	char when[40];

	iso8601(created, when, sizeof(when));
	printf("%s %s %lld bytes, made %s\n", *(int *)arg ? "would remove" : "removed", key, bytes,
	       when);
}

int
cli_cache(const struct cli_command *c, int argc, char **argv)
{
	const char *data = NULL;
	long long max_size = -1;
	long age = -1;
	int prune = 0, dry = 0, n;
	struct admin_cache st;
	char *dir;

	for (int i = 1; i < argc; i++) {
		if (i == 1 && !strcmp(argv[i], "prune"))
			prune = 1;
		else if (prune && !strcmp(argv[i], "--dry-run"))
			dry = 1;
		else if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (prune && !strcmp(argv[i], "--max-age") && i + 1 < argc) {
			if ((age = cli_parse_age(argv[++i])) < 0)
				return cli_usage(c, "--max-age takes a duration like 30d");
		} else if (prune && !strcmp(argv[i], "--max-size") && i + 1 < argc) {
			if ((max_size = parse_size(argv[++i])) < 0)
				return cli_usage(
				    c, "--max-size takes bytes, or a number with K, M, G or T");
		} else
			return cli_usage(c, "unexpected argument %s", argv[i]);
	}
	if (prune && age < 0 && max_size < 0)
		return cli_usage(c, "prune needs --max-age or --max-size");
	if ((dir = cli_data_dir(data)) == NULL)
		return 1;
	if (prune) {
		n = admin_cache_prune(dir, age < 0 ? -1 : (int64_t)age * 1000, max_size, dry, said,
				      &dry);
		fprintf(stderr, "runfs: %s %d cache entr%s\n", dry ? "would remove" : "removed", n,
			n == 1 ? "y" : "ies");
	} else if (admin_cache_stats(dir, &st) == RF_OK) {
		printf("entries %ld\nbytes %lld\nhits %ld\nmisses %ld\nsaves %ld\n", st.entries,
		       st.bytes, st.hits, st.misses, st.saves);
	}
	free(dir);
	return 0;
}
