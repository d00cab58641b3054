/* What the CLI commands share: usage errors and finding a mount. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "runfs: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return 2;
}

int
cli_find_mount(const char *want, char *out, size_t n)
{
	FILE *f;
	char line[4096], mnt[PATH_MAX], type[256];
	int found = -1;

	if (want) {
		if ((size_t)snprintf(out, n, "%s/submit", want) >= n || access(out, F_OK) < 0)
			return -1;
		snprintf(out, n, "%s", want);
		return 0;
	}
	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    sscanf(sep + 3, "%255s", type) == 1 && strcmp(type, "fuse.runfs") == 0 &&
		    strlen(mnt) < n) {
			snprintf(out, n, "%s", mnt);
			found = 0;
		}
	}
	fclose(f);
	return found;
}
