/* Configurations as the backend offers them: the built-ins, the user's
 * saved ones (config.c) and the default that submit uses. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "admin.h"
#include "backend_int.h"
#include "config.h"
#include "layout.h"
#include "util.h"

/* The saved configurations; NULL when there are none or the file is bad
 * (a bad file is reported by the calls that change it). */
static json_t *
saved(struct backend *b)
{
	json_t *doc = NULL, *configs;
	char *err = NULL;

	if (b->config_file[0] == '\0' || config_load(b->config_file, &doc, &err) != RF_OK) {
		free(err);
		return NULL;
	}
	configs = json_incref(json_object_get(doc, "configs"));
	json_decref(doc);
	return configs;
}

int
backend_config_list(struct backend *b, char ***names)
{
	json_t *s = saved(b), *v;
	size_t n = RUNTIME_MAX + json_object_size(s), i = 0;
	const char *key, *builtin;
	char **out = calloc(n + 1, sizeof(char *));

	*names = out;
	if (out == NULL) {
		json_decref(s);
		return 0;
	}
	for (; (builtin = admin_builtin_config((int)i)) != NULL; i++)
		out[i] = strdup(builtin);
	json_object_foreach(s, key, v) out[i++] = strdup(key);
	json_decref(s);
	for (size_t k = 0; k < i; k++)
		if (out[k] == NULL) {
			backend_config_list_free(out, (int)i);
			*names = NULL;
			return 0;
		}
	return (int)i;
}

int
backend_config_builtin(const char *name)
{
	return runtime_builtin(name);
}

void
backend_config_list_free(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

enum rerr
backend_config_json(struct backend *b, const char *name, char **json)
{
	json_t *doc = NULL;
	char *err = NULL;
	enum rerr e;

	*json = NULL;
	if (!runtime_builtin(name) &&
	    (b->config_file[0] == '\0' || config_load(b->config_file, &doc, &err) != RF_OK)) {
		free(err);
		return RF_NOENT;
	}
	*json = admin_config_show(doc, name);
	e = *json ? RF_OK
	    : runtime_builtin(name) || json_object_get(json_object_get(doc, "configs"), name)
		? RF_NOMEM
		: RF_NOENT;
	json_decref(doc);
	return e;
}

enum rerr
backend_config_save(struct backend *b, const char *name, const char *text, size_t len, char **err)
{
	json_t *conf = NULL;
	enum rerr e;

	*err = NULL;
	if (b->config_file[0] == '\0') {
		*err = errf("no config file: set HOME or XDG_CONFIG_HOME");
		return RF_IO;
	}
	if ((e = runtime_saved_default()->config_parse(text, len, &conf, err)) != RF_OK)
		return e;
	e = admin_config_store(b->config_file, name, conf, err);
	json_decref(conf);
	return e;
}

enum rerr
backend_config_remove(struct backend *b, const char *name, char **err)
{
	*err = NULL;
	if (b->config_file[0] == '\0')
		return RF_NOENT;
	return admin_config_store(b->config_file, name, NULL, err);
}

char *
backend_config_default(struct backend *b)
{
	char *s;

	pthread_mutex_lock(&b->config_mu);
	s = strdup(b->config);
	pthread_mutex_unlock(&b->config_mu);
	return s;
}

enum rerr
backend_config_set_default(struct backend *b, const char *name, char **err)
{
	enum rerr e;
	char *copy;

	*err = NULL;
	name = runtime_canonical(name);
	if ((e = config_check(b, name, err)) != RF_OK)
		return e;
	if (b->config_file[0] && (e = admin_config_set_default(b->config_file, name, err)) != RF_OK)
		return e;
	if ((copy = strdup(name)) == NULL)
		return RF_NOMEM;
	pthread_mutex_lock(&b->config_mu);
	free(b->config);
	b->config = copy;
	pthread_mutex_unlock(&b->config_mu);
	return RF_OK;
}

/* Whether runs can use the configuration here; the reason when not. */
/* The saved configurations are read once per check: for a submit, the
 * same reading says whether the configuration exists and whether its
 * runtime takes a run with it now (its token has not expired). */
static enum rerr
check(struct backend *b, const char *name, int submit, char **err)
{
	const struct runtime_ops *rt = runtime_saved_default();
	char **names = NULL;
	struct buf known = {0};
	json_t *s, *conf;
	enum rerr e = RF_OK;
	int n;

	if (runtime_builtin(name))
		return RF_OK;
	s = saved(b);
	if ((conf = json_object_get(s, name)) != NULL) {
		if (submit && rt->usable)
			e = rt->usable(conf, err);
		json_decref(s);
		return e;
	}
	json_decref(s);
	n = backend_config_list(b, &names);
	for (int i = 0; i < n; i++)
		buf_printf(&known, "%s%s", i ? ", " : "", names[i]);
	*err = errf("config: unknown configuration \"%.64s\" (known: %s)", name,
		    known.p ? known.p : "");
	buf_free(&known);
	backend_config_list_free(names, n);
	return RF_INVAL;
}

enum rerr
config_check(struct backend *b, const char *name, char **err)
{
	return check(b, name, 0, err);
}

enum rerr
config_check_submit(struct backend *b, const char *name, char **err)
{
	return check(b, name, 1, err);
}

const char *
backend_files(struct backend *b, const char *config, char *buf, size_t n)
{
	json_t *all, *w;
	char *real = NULL;

	if (runtime_builtin(config))
		return b->datadir;
	all = saved(b);
	w = json_object_get(json_object_get(all, config), "workdir");
	/* Resolved, so that a file under it is opened without following any
	 * link (open_nolinks); as written when it cannot be seen from here. */
	if (!json_is_string(w) || (real = realpath(json_string_value(w), NULL)) == NULL ||
	    strlen(real) >= n)
		snprintf(buf, n, "%s", json_is_string(w) ? json_string_value(w) : b->datadir);
	else
		snprintf(buf, n, "%s", real);
	free(real);
	json_decref(all);
	return buf;
}

char *
backend_unseen(struct backend *b, const char *path)
{
	size_t n = strlen(b->datadir);
	const char *runs = strstr(path, "/runs/");
	char dir[PATH_MAX_];
	struct stat sb;

	if ((strncmp(path, b->datadir, n) == 0 && path[n] == '/') || runs == NULL)
		return NULL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(runs - path), path);
	if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return NULL;
	return errf("runfs: this file is in %s, the cluster's work directory, which is not "
		    "visible on this machine\n",
		    dir);
}
