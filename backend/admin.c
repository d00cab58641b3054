/* What the command line asks outside a mount (admin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cache.h"
#include "config.h"
#include "localrt.h"
#include "runtime.h"
#include "util.h"

char *
admin_default_datadir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *dir = NULL;

	if (xdg && *xdg)
		return asprintf(&dir, "%s/runfs", xdg) < 0 ? NULL : dir;
	if (home && *home)
		return asprintf(&dir, "%s/.local/share/runfs", home) < 0 ? NULL : dir;
	return NULL;
}

int
admin_config_path(char *out, size_t n)
{
	return config_path(out, n);
}

enum rerr
admin_config_load(const char *path, json_t **doc, char **err)
{
	return config_load(path, doc, err);
}

const char *
admin_config_default(json_t *doc)
{
	const char *d = json_string_value(json_object_get(doc, "default"));

	return d ? d : runtime_table[0]->name;
}

enum rerr
admin_config_store(const char *path, const char *name, json_t *conf, char **err)
{
	*err = NULL;
	if (runtime_builtin(name)) {
		*err = errf("%s is built in: it cannot be saved over or removed", name);
		return RF_PERM;
	}
	return config_store(path, name, conf, err);
}

enum rerr
admin_config_set_default(const char *path, const char *name, char **err)
{
	return config_set_default(path, runtime_canonical(name), runtime_builtin(name), err);
}

const char *
admin_builtin_config(int i)
{
	return runtime_builtin_at(i);
}

char *
admin_config_show(json_t *doc, const char *name)
{
	json_t *o;
	char *text, *out = NULL;

	if (runtime_builtin(name)) {
		name = runtime_canonical(name);
		o = json_pack("{s:s, s:s, s:b}", "name", name, "runtime", name, "builtin", 1);
		text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (text && asprintf(&out, "%s\n", text) < 0)
			out = NULL;
		free(text);
		json_decref(o);
		return out;
	}
	o = json_object_get(json_object_get(doc, "configs"), name);
	return o ? config_show(name, o) : NULL;
}

enum rerr
admin_login(const char *path, json_t *given, const char *name, char **saved, char **line,
	    int *accepted, char **err)
{
	const struct runtime_ops *rt = runtime_saved_default();
	json_t *doc = NULL, *old, *merged = NULL, *conf = NULL;
	char *text = NULL;
	enum rerr e;

	*saved = *line = *err = NULL;
	*accepted = 0;
	if (name == NULL && json_object_get(given, "uri") == NULL) {
		*err = errf("login needs a URL, or the name of a saved configuration");
		return RF_INVAL;
	}
	*saved = name ? strdup(name) : rt->default_name(given, err);
	if (*saved == NULL)
		return *err ? RF_INVAL : RF_NOMEM;
	if ((e = config_load(path, &doc, err)) != RF_OK)
		goto out;
	/* Logging in again changes only the fields given (a new token, say):
	 * the rest of the saved entry stays. */
	old = json_object_get(json_object_get(doc, "configs"), *saved);
	if (old == NULL && json_object_get(given, "uri") == NULL) {
		*err = errf("no configuration \"%.64s\": give its URL to make it", *saved);
		e = RF_NOENT;
		goto out;
	}
	e = RF_NOMEM;
	if ((merged = old ? json_deep_copy(old) : json_object()) == NULL ||
	    json_object_update(merged, given) < 0 || (text = json_dumps(merged, 0)) == NULL)
		goto out;
	if ((e = rt->config_parse(text, strlen(text), &conf, err)) != RF_OK)
		goto out;
	if (rt->login_check)
		*accepted = rt->login_check(conf, line) == RF_OK;
	e = admin_config_store(path, *saved, conf, err);
out:
	if (e != RF_OK) {
		free(*saved);
		free(*line);
		*saved = *line = NULL;
	}
	free(text);
	json_decref(doc);
	json_decref(merged);
	json_decref(conf);
	return e;
}

int
admin_local_pid(const char *datadir)
{
	return localrt_pid(datadir);
}

enum rerr
admin_local_up(const char *datadir, int jobs, int grace_ms, int *pid, int *already, char **err)
{
	struct localrt_opts o = {datadir, jobs, grace_ms};

	return localrt_up(&o, pid, already, err);
}

enum rerr
admin_local_down(const char *datadir, int drain, int timeout_ms, int *pid, char **err)
{
	return localrt_down(datadir, drain, timeout_ms, pid, err);
}

int
admin_local_serve(const char *datadir, int jobs, int grace_ms)
{
	struct localrt_opts o = {datadir, jobs, grace_ms};

	return localrt_serve(&o, -1);
}

enum rerr
admin_cache_stats(const char *datadir, struct admin_cache *out)
{
	struct cache_stats st;

	if (cache_stats(datadir, &st) < 0)
		return RF_IO;
	*out = (struct admin_cache){st.entries, st.bytes, st.hits, st.misses, st.saves};
	return RF_OK;
}

int
admin_cache_prune(const char *datadir, int64_t max_age_ms, long long max_size, int dry,
		  admin_cache_fn each, void *arg)
{
	return cache_prune(datadir, max_age_ms, max_size, dry, each, arg);
}
