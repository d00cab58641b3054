/*
 * runfs login and runfs config: the user's saved configurations
 * (backend/config.c) from the command line. The token is never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "rest.h"
#include "util.h"

#define LOGIN_USAGE                                                                                \
	"runfs login URL --token TOKEN [--user U] [--partition P] [--workdir DIR] [--account A] "  \
	"[--qos Q] [--api-version V] [--name NAME]"
#define CONFIG_USAGE "runfs config list | show NAME | rm NAME | default [NAME]"

/*
 * Asks the server whether it takes the token (GET .../ping through the
 * backend's REST client). Returns a line for the user; *ok is 1 when the
 * token was accepted. The login is saved either way.
 */
static char *
check_token(json_t *conf, int *ok)
{
	struct rest r = {
	    .uri = json_string_value(json_object_get(conf, "uri")),
	    .api = json_string_value(json_object_get(conf, "api_version")),
	    .user = json_string_value(json_object_get(conf, "user")),
	    .token = json_string_value(json_object_get(conf, "token")),
	};
	char *err = NULL, *line;
	json_t *reply = NULL;
	int errnum;
	enum rerr e;

	e = rest_call(&r, "GET", "ping", NULL, &reply, &errnum, &err);
	*ok = e == RF_OK;
	if (e == RF_OK)
		line = errf("the server accepted the token");
	else if (e == RF_PERM)
		line = errf("warning: %s; saved anyway", err);
	else
		line = errf("warning: %s; saved without checking the token", err);
	json_decref(reply);
	free(err);
	return line;
}

int
cli_login(int argc, char **argv)
{
	const char *fields[] = {"--token",	 "token",      "--user",    "user",
				"--partition",	 "partition",  "--workdir", "workdir",
				"--account",	 "account",    "--qos",	    "qos",
				"--api-version", "api_version"};
	char path[4096], *err = NULL, *name = NULL, *text = NULL, *line;
	json_t *in = json_object(), *conf = NULL;
	const char *url = NULL, *given = NULL;
	int rc = 1, ok;

	for (int i = 1; i < argc; i++) {
		int known = 0;
		for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f += 2) {
			if (strcmp(argv[i], fields[f]) == 0) {
				if (i + 1 >= argc) {
					rc = cli_usage(LOGIN_USAGE, "%s needs a value", argv[i]);
					goto out;
				}
				json_object_set_new(in, fields[f + 1], json_string(argv[++i]));
				known = 1;
			}
		}
		if (known)
			continue;
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			given = argv[++i];
		else if (argv[i][0] != '-' && url == NULL)
			url = argv[i];
		else {
			rc = cli_usage(LOGIN_USAGE, "unexpected argument %s", argv[i]);
			goto out;
		}
	}
	if (url == NULL || json_object_get(in, "token") == NULL) {
		rc = cli_usage(LOGIN_USAGE, "login needs a URL and --token");
		goto out;
	}
	json_object_set_new(in, "uri", json_string(url));
	if (config_path(path, sizeof(path)) < 0) {
		fprintf(stderr, "runfs: no config file: set HOME or XDG_CONFIG_HOME\n");
		goto out;
	}
	text = json_dumps(in, 0);
	if (config_parse(text, strlen(text), &conf, &err) != RF_OK ||
	    (name = given ? strdup(given) : config_auto_name(url, &err)) == NULL) {
		fprintf(stderr, "runfs: login: %s\n", err ? err : "out of memory");
		goto out;
	}
	line = check_token(conf, &ok);
	if (config_store(path, name, conf, &err) != RF_OK) {
		fprintf(stderr, "runfs: login: %s\n", err ? err : "cannot save");
		free(line);
		goto out;
	}
	if (line)
		fprintf(ok ? stdout : stderr, "%s\n", line);
	free(line);
	printf("saved configuration %s\n", name);
	rc = 0;
out:
	free(err);
	free(name);
	free(text);
	json_decref(in);
	json_decref(conf);
	return rc;
}

static int
config_list(json_t *doc)
{
	const char *dflt = json_string_value(json_object_get(doc, "default")), *key;
	const char *builtin[] = {"in_process", "local"};
	json_t *v;

	for (size_t i = 0; i < 2; i++)
		printf("%s %-20s %-10s\n", strcmp(dflt, builtin[i]) ? " " : "*", builtin[i],
		       builtin[i]);
	json_object_foreach(json_object_get(doc, "configs"), key, v)
	{
		printf("%s %-20s %-10s %s\n", strcmp(dflt, key) ? " " : "*", key,
		       json_string_value(json_object_get(v, "runtime")),
		       json_string_value(json_object_get(v, "uri")));
	}
	return 0;
}

int
cli_config(int argc, char **argv)
{
	char path[4096], *err = NULL, *text;
	json_t *doc = NULL, *conf;
	const char *verb = argc > 1 ? argv[1] : "", *name = argc > 2 ? argv[2] : NULL;
	int rc = 1;

	if (!strcmp(verb, "list")			   ? argc != 2
	    : !strcmp(verb, "show") || !strcmp(verb, "rm") ? argc != 3
	    : !strcmp(verb, "default")			   ? argc > 3
							   : 1)
		return cli_usage(CONFIG_USAGE, "config: %s",
				 *verb ? "wrong arguments" : "what to do?");
	if (config_path(path, sizeof(path)) < 0) {
		fprintf(stderr, "runfs: no config file: set HOME or XDG_CONFIG_HOME\n");
		return 1;
	}
	if (config_load(path, &doc, &err) != RF_OK) {
		fprintf(stderr, "runfs: %s\n", err);
		free(err);
		return 1;
	}
	if (!strcmp(verb, "list")) {
		rc = config_list(doc);
	} else if (!strcmp(verb, "show")) {
		if (config_builtin(name)) {
			printf("{\n  \"builtin\": true,\n  \"name\": \"%s\"\n}\n",
			       !strcmp(name, "ray") ? "local" : name);
			rc = 0;
		} else if ((conf = json_object_get(json_object_get(doc, "configs"), name)) ==
			   NULL) {
			fprintf(stderr, "runfs: no configuration \"%.64s\"\n", name);
		} else if ((text = config_show(name, conf)) != NULL) {
			fputs(text, stdout);
			free(text);
			rc = 0;
		}
	} else if (!strcmp(verb, "rm")) {
		if (config_store(path, name, NULL, &err) == RF_OK)
			rc = 0;
		else
			fprintf(stderr, "runfs: %s\n", err ? err : "cannot remove");
	} else if (name == NULL) {
		printf("%s\n", json_string_value(json_object_get(doc, "default")));
		rc = 0;
	} else if (config_set_default(path, name, &err) == RF_OK) {
		rc = 0;
	} else {
		fprintf(stderr, "runfs: %s\n", err ? err : "cannot set the default");
	}
	free(err);
	json_decref(doc);
	return rc;
}
