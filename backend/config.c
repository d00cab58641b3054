#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "defn.h"
#include "log.h"
#include "util.h"

#define CONFIG_FILE_MAX (4 * 1024 * 1024)

static const char *const optional_fields[] = {"user",	     "partition", "workdir",
					      "api_version", "account",	  "qos"};

int
config_path(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int r;

	if (xdg && *xdg)
		r = snprintf(out, n, "%s/runfs/config.json", xdg);
	else if (home && *home)
		r = snprintf(out, n, "%s/.config/runfs/config.json", home);
	else
		return -1;
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

int
config_builtin(const char *name)
{
	return !strcmp(name, "in_process") || !strcmp(name, "local") || !strcmp(name, "ray");
}

static json_t *
empty_doc(void)
{
	return json_pack("{s:i, s:s, s:{}}", "version", CONFIG_VERSION, "default", "in_process",
			 "configs");
}

enum rerr
config_load(const char *path, json_t **out, char **err)
{
	json_error_t je;
	json_t *doc, *v;

	*out = NULL;
	*err = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*out = empty_doc();
		return *out ? RF_OK : RF_NOMEM;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		*err = errf("%s: line %d, column %d: %s", path, je.line, je.column, je.text);
		return RF_INVAL;
	}
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != CONFIG_VERSION ||
	    !json_is_object(json_object_get(doc, "configs")) ||
	    !json_is_string(json_object_get(doc, "default"))) {
		*err =
		    errf("%s: not a runfs configuration file of version %d", path, CONFIG_VERSION);
		json_decref(doc);
		return RF_INVAL;
	}
	*out = doc;
	return RF_OK;
}

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
	char *host = NULL;
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
		*err = errf("runtime: only slurm can be saved (in_process and local are built in)");
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
	if (!defn_valid_id(host) || config_builtin(host))
		*err = errf("cannot name a configuration after host \"%.64s\"; give --name", host);
	else
		name = strdup(host);
	curl_free(host);
	return name;
}

/* Runs fn on the loaded document with the lock held, then writes it back
 * (temp + rename, 0600). */
static enum rerr
locked_update(const char *path,
	      enum rerr (*fn)(json_t *doc, const char *name, json_t *conf, char **err),
	      const char *name, json_t *conf, char **err)
{
	char lock[4096 + 8], dir[4096];
	json_t *doc = NULL;
	char *text = NULL;
	enum rerr e;
	int fd;

	*err = NULL;
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0700) < 0) {
		*err = errf("%s: %s", dir, strerror(errno));
		return RF_IO;
	}
	snprintf(lock, sizeof(lock), "%s.lock", path);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) < 0) {
		*err = errf("%s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return RF_IO;
	}
	if ((e = config_load(path, &doc, err)) != RF_OK || (e = fn(doc, name, conf, err)) != RF_OK)
		goto out;
	if ((text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		e = RF_NOMEM;
		goto out;
	}
	if (write_file(path, text, strlen(text), 0600) < 0) {
		*err = errf("%s: %s", path, strerror(errno));
		e = RF_IO;
	}
out:
	free(text);
	json_decref(doc);
	close(fd); /* releases the lock */
	return e;
}

static enum rerr
put_conf(json_t *doc, const char *name, json_t *conf, char **err)
{
	json_t *configs = json_object_get(doc, "configs");

	if (conf)
		return json_object_set(configs, name, conf) == 0 ? RF_OK : RF_NOMEM;
	if (json_object_del(configs, name) < 0) {
		*err = errf("no configuration \"%s\"", name);
		return RF_NOENT;
	}
	if (!strcmp(json_string_value(json_object_get(doc, "default")), name))
		json_object_set_new(doc, "default", json_string("in_process"));
	return RF_OK;
}

enum rerr
config_store(const char *path, const char *name, json_t *conf, char **err)
{
	*err = NULL;
	if (config_builtin(name)) {
		*err = errf("%s is built in: it cannot be saved over or removed", name);
		return RF_PERM;
	}
	if (strlen(name) >= CONFIG_NAME_MAX || !defn_valid_id(name)) {
		*err = errf("bad configuration name \"%.64s\"", name);
		return RF_INVAL;
	}
	return locked_update(path, put_conf, name, conf, err);
}

static enum rerr
put_default(json_t *doc, const char *name, json_t *conf, char **err)
{
	(void)conf;
	if (!config_builtin(name) && !json_object_get(json_object_get(doc, "configs"), name)) {
		*err = errf("no configuration \"%.64s\"", name);
		return RF_NOENT;
	}
	json_object_set_new(doc, "default", json_string(!strcmp(name, "ray") ? "local" : name));
	return RF_OK;
}

enum rerr
config_set_default(const char *path, const char *name, char **err)
{
	return locked_update(path, put_default, name, NULL, err);
}

char *
config_show(const char *name, json_t *conf)
{
	json_t *c = json_deep_copy(conf);
	char *text, *out = NULL;

	if (c == NULL)
		return NULL;
	json_object_set_new(c, "name", json_string(name));
	if (json_object_get(c, "token"))
		json_object_set_new(c, "token", json_string("***"));
	text = json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	free(text);
	json_decref(c);
	return out;
}
