/*
 * runfs login and runfs config: the user's saved configurations from the
 * command line, through the backend's seam (admin.h). The token is never
 * printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "cli.h"
#include "util.h"

static int
config_file(char *path, size_t n)
{
	if (admin_config_path(path, n) == 0)
		return 0;
	fprintf(stderr, "runfs: no config file: set HOME or XDG_CONFIG_HOME\n");
	return -1;
}

/* The token from a file, or from standard input ("-"): its first line,
 * without the newline. NULL after saying why. */
static char *
read_token(const char *path)
{
	char *data = NULL, *nl;
	size_t len = 0;

	if (read_file(strcmp(path, "-") == 0 ? "/dev/stdin" : path, 64 * 1024, &data, &len) < 0) {
		fprintf(stderr, "runfs: login: cannot read the token from %s: %s\n",
			strcmp(path, "-") == 0 ? "standard input" : path, strerror(errno));
		return NULL;
	}
	if ((nl = strpbrk(data, "\r\n")) != NULL)
		*nl = '\0';
	if (*data == '\0') {
		fprintf(stderr, "runfs: login: no token in %s\n",
			strcmp(path, "-") == 0 ? "standard input" : path);
		free(data);
		return NULL;
	}
	return data;
}

/*
 * runfs login URL|NAME [--token T | --token - | --token-file F] [fields]:
 * a URL makes or updates the configuration named after its host (or
 * --name); a NAME updates that saved configuration, changing only the
 * fields given. The token is best given by a file or standard input:
 * an argument is seen by every user of the machine in ps.
 */
int
cli_login(const struct cli_command *c, int argc, char **argv)
{
	const char *fields[] = {"--user",    "user",	"--partition",	 "partition",
				"--workdir", "workdir", "--account",	 "account",
				"--qos",     "qos",	"--api-version", "api_version"};
	char path[4096], *err = NULL, *name = NULL, *line = NULL, *token = NULL;
	json_t *in = json_object();
	const char *target = NULL, *given = NULL, *token_from = NULL;
	int rc = 1, ok;

	for (int i = 1; i < argc; i++) {
		int known = 0;
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f += 2)
			if (strcmp(argv[i], fields[f]) == 0) {
				if (val == NULL) {
					rc = cli_usage(c, "%s needs a value", argv[i]);
					goto out;
				}
				json_object_set_new(in, fields[f + 1], json_string(argv[++i]));
				known = 1;
			}
		if (known)
			continue;
		if ((!strcmp(argv[i], "--name") || !strcmp(argv[i], "--token") ||
		     !strcmp(argv[i], "--token-file")) &&
		    val == NULL) {
			rc = cli_usage(c, "%s needs a value", argv[i]);
			goto out;
		}
		if (strcmp(argv[i], "--name") == 0)
			given = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && strcmp(val, "-") == 0)
			token_from = argv[++i];
		else if (strcmp(argv[i], "--token") == 0)
			json_object_set_new(in, "token", json_string(argv[++i]));
		else if (strcmp(argv[i], "--token-file") == 0)
			token_from = argv[++i];
		else if (argv[i][0] != '-' && target == NULL)
			target = argv[i];
		else {
			rc = cli_usage(c, "unexpected argument %s", argv[i]);
			goto out;
		}
	}
	if (target == NULL) {
		rc = cli_usage(c, "login needs a URL or the name of a saved configuration");
		goto out;
	}
	if (strstr(target, "://"))
		json_object_set_new(in, "uri", json_string(target));
	else if (given) {
		rc = cli_usage(c, "--name goes with a URL; %s is a name already", target);
		goto out;
	} else
		given = target;
	if (token_from && (token = read_token(token_from)) == NULL)
		goto out;
	if (token)
		json_object_set_new(in, "token", json_string(token));
	if (config_file(path, sizeof(path)) < 0)
		goto out;
	if (admin_login(path, in, given, &name, &line, &ok, &err) != RF_OK) {
		fprintf(stderr, "runfs: login: %s\n", err ? err : "out of memory");
		goto out;
	}
	if (line)
		fprintf(ok ? stdout : stderr, "%s\n", line);
	printf("saved configuration %s\n", name);
	rc = 0;
out:
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	free(err);
	free(name);
	free(line);
	json_decref(in);
	return rc;
}

static int
config_list(json_t *doc)
{
	const char *dflt = admin_config_default(doc), *key, *b;
	json_t *v;

	for (int i = 0; (b = admin_builtin_config(i)) != NULL; i++)
		printf("%s %-20s %-10s\n", strcmp(dflt, b) ? " " : "*", b, b);
	json_object_foreach(json_object_get(doc, "configs"), key, v)
	{
		printf("%s %-20s %-10s %s\n", strcmp(dflt, key) ? " " : "*", key,
		       json_string_value(json_object_get(v, "runtime")),
		       json_string_value(json_object_get(v, "uri")));
	}
	return 0;
}

int
cli_config(const struct cli_command *c, int argc, char **argv)
{
	char path[4096], *err = NULL, *text;
	json_t *doc = NULL;
	const char *verb = argc > 1 ? argv[1] : "", *name = argc > 2 ? argv[2] : NULL;
	int rc = 1;

	if (!strcmp(verb, "list")			   ? argc != 2
	    : !strcmp(verb, "show") || !strcmp(verb, "rm") ? argc != 3
	    : !strcmp(verb, "default")			   ? argc > 3
							   : 1)
		return cli_usage(c, "config: %s", *verb ? "wrong arguments" : "what to do?");
	if (config_file(path, sizeof(path)) < 0)
		return 1;
	if (admin_config_load(path, &doc, &err) != RF_OK) {
		fprintf(stderr, "runfs: %s\n", err);
		free(err);
		return 1;
	}
	if (!strcmp(verb, "list")) {
		rc = config_list(doc);
	} else if (!strcmp(verb, "show")) {
		if ((text = admin_config_show(doc, name)) == NULL) {
			fprintf(stderr, "runfs: no configuration \"%.64s\"\n", name);
		} else {
			fputs(text, stdout);
			free(text);
			rc = 0;
		}
	} else if (!strcmp(verb, "rm")) {
		if (admin_config_store(path, name, NULL, &err) == RF_OK)
			rc = 0;
		else
			fprintf(stderr, "runfs: %s\n", err ? err : "cannot remove");
	} else if (name == NULL) {
		printf("%s\n", admin_config_default(doc));
		rc = 0;
	} else if (admin_config_set_default(path, name, &err) == RF_OK) {
		rc = 0;
	} else {
		fprintf(stderr, "runfs: %s\n", err ? err : "cannot set the default");
	}
	free(err);
	json_decref(doc);
	return rc;
}
