#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "defn.h"
#include "log.h"
#include "util.h"

#define CONFIG_FILE_MAX (4 * 1024 * 1024)

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

static json_t *
empty_doc(void)
{
	return json_pack("{s:i, s:{}}", "version", CONFIG_VERSION, "configs");
}

enum rerr
config_load(const char *path, json_t **out, char **err)
{
	json_error_t je;
	json_t *doc, *v;
	struct stat st;
	FILE *f;

	*out = NULL;
	*err = NULL;
	if ((f = fopen(path, "r")) == NULL && errno == ENOENT) {
		*out = empty_doc();
		return *out ? RF_OK : RF_NOMEM;
	}
	if (f == NULL) {
		*err = errf("%s: cannot be read: %s", path, strerror(errno));
		return RF_IO;
	}
	/* Said as such: jansson would take a folder for an empty document
	 * ("'{' expected near end of file"). */
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		*err = errf("%s: cannot be read: not a regular file", path);
		fclose(f);
		return RF_IO;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (doc == NULL) {
		*err = errf("%s: line %d, column %d: %s", path, je.line, je.column, je.text);
		return RF_INVAL;
	}
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != CONFIG_VERSION ||
	    !json_is_object(json_object_get(doc, "configs")) ||
	    (json_object_get(doc, "default") && !json_is_string(json_object_get(doc, "default")))) {
		*err =
		    errf("%s: not a runfs configuration file of version %d", path, CONFIG_VERSION);
		json_decref(doc);
		return RF_INVAL;
	}
	*out = doc;
	return RF_OK;
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
	if (json_is_string(json_object_get(doc, "default")) &&
	    !strcmp(json_string_value(json_object_get(doc, "default")), name))
		json_object_del(doc, "default"); /* back to the default of defaults */
	return RF_OK;
}

enum rerr
config_store(const char *path, const char *name, json_t *conf, char **err)
{
	*err = NULL;
	if (strlen(name) >= CONFIG_NAME_MAX || !defn_valid_id(name)) {
		*err = errf("bad configuration name \"%.64s\"", name);
		return RF_INVAL;
	}
	return locked_update(path, put_conf, name, conf, err);
}

/* conf is non-NULL for a built-in configuration, which need not be saved. */
static enum rerr
put_default(json_t *doc, const char *name, json_t *conf, char **err)
{
	if (conf == NULL && !json_object_get(json_object_get(doc, "configs"), name)) {
		*err = errf("no configuration \"%.64s\"", name);
		return RF_NOENT;
	}
	json_object_set_new(doc, "default", json_string(name));
	return RF_OK;
}

enum rerr
config_set_default(const char *path, const char *name, int builtin, char **err)
{
	return locked_update(path, put_default, name, builtin ? json_true() : NULL, err);
}

/* A JWT is header.payload.signature, each base64url without padding
 * (RFC 7515); the payload is a JSON object whose "exp" is seconds since
 * the epoch. Read here as base64 (util.c) once the alphabet is mapped. */
int
config_token_expiry(json_t *conf, int64_t *exp_ms)
{
	const char *tok = json_string_value(json_object_get(conf, "token")), *p, *end;
	struct buf b64 = {0};
	char *payload = NULL;
	size_t len = 0;
	json_t *claims;
	int rc = -1;

	if (tok == NULL || (p = strchr(tok, '.')) == NULL || (end = strchr(++p, '.')) == NULL)
		return -1;
	for (; p < end; p++)
		if (buf_add(&b64, *p == '-' ? "+" : *p == '_' ? "/" : p, 1) < 0)
			goto out;
	while (b64.len % 4)
		if (buf_add(&b64, "=", 1) < 0)
			goto out;
	if (b64.p == NULL || (payload = base64_decode(b64.p, &len)) == NULL)
		goto out;
	claims = json_loadb(payload, len, 0, NULL);
	if (json_is_integer(json_object_get(claims, "exp"))) {
		*exp_ms = (int64_t)json_integer_value(json_object_get(claims, "exp")) * 1000;
		rc = 0;
	}
	json_decref(claims);
out:
	free(payload);
	buf_free(&b64);
	return rc;
}

char *
config_show(const char *name, json_t *conf)
{
	json_t *c = json_deep_copy(conf);
	char *text, *out = NULL, when[40];
	int64_t exp;

	if (c == NULL)
		return NULL;
	json_object_set_new(c, "name", json_string(name));
	if (json_object_get(c, "token")) {
		json_object_set_new(c, "token", json_string("***"));
		if (config_token_expiry(conf, &exp) == 0) {
			iso8601(exp, when, sizeof(when));
			json_object_set_new(c, "token_expires", json_string(when));
		} else {
			json_object_set_new(c, "token_expires", json_null());
		}
	}
	text = json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	free(text);
	json_decref(c);
	return out;
}
