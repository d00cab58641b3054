/*
 * The Slurm runtime's saved configurations: the fields a user may give
 * (runfs login, configs/<name>), their check, the name a login gets by
 * default, and the login check (slurmrestd's ping with the token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "defn.h"
#include "rest.h"
#include "runtime.h"
#include "slurm_config.h"
#include "util.h"

/* "in_process and local": the built-in runtimes, as a sentence says them. */
static const char *
builtin_names(char *names, size_t size)
{
	const char *b;

	names[0] = '\0';
	for (int i = 0; (b = runtime_builtin_at(i)) != NULL; i++)
		snprintf(names + strlen(names), size - strlen(names), "%s%s",
			 i == 0			     ? ""
			 : runtime_builtin_at(i + 1) ? ", "
						     : " and ",
			 b);
	return names;
}

static const char *const optional_fields[] = {"user",	     "partition", "workdir",
					      "api_version", "account",	  "qos"};

/* http or https with a host, as curl's URL parser sees it. */
static enum rerr
check_uri(const char *uri, char **host, char **err)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	enum rerr e = RF_INVAL;

	*host = NULL;
	if (u == NULL)
		return RF_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK) {
		*err = errf("uri: not a URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		*err = errf("uri: the scheme must be http or https");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK || **host == '\0') {
		*err = errf("uri: no host");
		goto out;
	}
	e = RF_OK;
out:
	if (e != RF_OK && *host) {
		curl_free(*host);
		*host = NULL;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	return e;
}

enum rerr
config_parse(const char *text, size_t len, json_t **out, char **err)
{
	json_error_t je;
	json_t *o, *v;
	const char *key;
	char *host = NULL, names[256];
	enum rerr e = RF_INVAL;

	*out = NULL;
	*err = NULL;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		*err = errf("line %d, column %d: %s", je.line, je.column, je.text);
		return RF_INVAL;
	}
	if (!json_is_object(o)) {
		*err = errf("expected a JSON object");
		goto fail;
	}
	json_object_foreach(o, key, v)
	{
		int known = !strcmp(key, "uri") || !strcmp(key, "token") || !strcmp(key, "runtime");
		for (size_t i = 0; i < sizeof(optional_fields) / sizeof(*optional_fields); i++)
			known |= !strcmp(key, optional_fields[i]);
		if (!known) {
			*err = errf("%.64s: unknown field", key);
			goto fail;
		}
		if (!json_is_string(v)) {
			*err = errf("%.64s: expected a string", key);
			goto fail;
		}
	}
	if (json_object_get(o, "runtime") &&
	    strcmp(json_string_value(json_object_get(o, "runtime")), "slurm")) {
		*err = errf("runtime: only slurm can be saved (%s are built in)",
			    builtin_names(names, sizeof(names)));
		goto fail;
	}
	if (!json_is_string(json_object_get(o, "uri"))) {
		*err = errf("uri: required field is missing");
		goto fail;
	}
	if (!json_is_string(json_object_get(o, "token")) ||
	    json_string_length(json_object_get(o, "token")) == 0) {
		*err = errf("token: required field is missing");
		goto fail;
	}
	if ((e = check_uri(json_string_value(json_object_get(o, "uri")), &host, err)) != RF_OK)
		goto fail;
	curl_free(host);
	json_object_set_new(o, "runtime", json_string("slurm"));
	if (!json_object_get(o, "api_version"))
		json_object_set_new(o, "api_version", json_string("v0.0.38"));
	*out = o;
	return RF_OK;
fail:
	json_decref(o);
	return e == RF_OK ? RF_INVAL : e;
}

char *
config_auto_name(const char *uri, char **err)
{
	char *host = NULL, *name = NULL, *dot;

	*err = NULL;
	if (check_uri(uri, &host, err) != RF_OK)
		return NULL;
	if ((dot = strchr(host, '.')) != NULL)
		*dot = '\0';
	if (!defn_valid_id(host) || runtime_builtin(host))
		*err = errf("cannot name a configuration after host \"%.64s\"; give --name", host);
	else
		name = strdup(host);
	curl_free(host);
	return name;
}

enum rerr
slurm_login_check(json_t *conf, char **line)
{
	struct rest r = {
	    .uri = json_string_value(json_object_get(conf, "uri")),
	    .api = json_string_value(json_object_get(conf, "api_version")),
	    .user = json_string_value(json_object_get(conf, "user")),
	    .token = json_string_value(json_object_get(conf, "token")),
	};
	char *err = NULL;
	json_t *reply = NULL;
	int errnum;
	enum rerr e;

	e = rest_call(&r, "GET", "ping", NULL, &reply, &errnum, &err);
	if (e == RF_OK)
		*line = errf("the server accepted the token");
	else if (e == RF_PERM)
		*line = errf("warning: %s; saved anyway", err);
	else
		*line = errf("warning: %s; saved without checking the token", err);
	json_decref(reply);
	free(err);
	return e;
}

enum rerr
slurm_usable(json_t *conf, char **err)
{
	int64_t exp;
	char when[40];

	if (config_token_expiry(conf, &exp) < 0 || exp > now_ms())
		return RF_OK;
	iso8601(exp, when, sizeof(when));
	*err = errf("token expired at %s; run runfs login", when);
	return RF_PERM;
}
