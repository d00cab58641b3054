/*
 * The cache of task runs, across runs: a task with "cache": true whose
 * key matches an earlier successful task run's takes that run's outputs,
 * stdout and stderr instead of running.
 *
 * The key is SHA-256 over what the definition declares and nothing else
 * (as Bazel does): the argv with every value bound, the stdin, the env,
 * the declared outputs, and the content of every input: a value by its
 * bytes, a file passed by {"path"} by its file's bytes, never its path,
 * so the same data in another run's folder gives the same key. The run,
 * the attempt and where the data directory is take no part.
 *
 * An entry is a folder DATA/cache/<key>/ of hard links to the files of
 * the task run that made it (so deleting that run keeps them: the
 * filesystem counts the links) and meta.json, which holds each file's
 * size and hash. It is made in DATA/cache/tmp/ and renamed into place,
 * so no reader sees half an entry; one whose files do not match their
 * size and hash is not served, and goes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "bind.h"
#include "cache.h"
#include "layout.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* Bumped when what goes into a key changes: older entries then miss. */
#define CACHE_VERSION 1

static void
hex(const unsigned char *md, unsigned n, char out[65])
{
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
sha256_bytes(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
		return -1;
	hex(md, n, out);
	return 0;
}

/* The SHA-256 of a file's bytes and its size; -1 with errno. */
static int
sha256_file(const char *path, char out[65], off_t *size)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	*size = 0;
	if (fd < 0 || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		*size += r;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			goto out;
	}
	if (r == 0 && EVP_DigestFinal_ex(ctx, md, &n) == 1) {
		hex(md, n, out);
		rc = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* What a parameter bound by {"path"} stands for in a key: the hashes of
 * its files' contents, one per line as the paths were. */
static char *
path_content(const char *paths)
{
	struct buf b = {0};
	char sum[65], path[PATH_MAX_];
	off_t size;

	for (const char *p = paths; p && *p;) {
		size_t n = strcspn(p, "\n");
		snprintf(path, sizeof(path), "%.*s", (int)n, p);
		if (sha256_file(path, sum, &size) < 0)
			snprintf(sum, sizeof(sum), "missing");
		buf_printf(&b, "%ssha256:%s", b.len ? "\n" : "", sum);
		p += n + (p[n] == '\n');
	}
	return b.p ? buf_steal(&b) : strdup("");
}

struct key_ctx {
	const struct defn_task *task;
	char **values; /* as the key sees them: paths replaced by contents */
};

static const char *
key_lookup(const char *name, size_t len, void *arg)
{
	struct key_ctx *k = arg;

	for (int i = 0; i < k->task->nparams; i++)
		if (strlen(k->task->params[i]) == len && memcmp(k->task->params[i], name, len) == 0)
			return k->values[i];
	return NULL;
}

static json_t *
subst_json(const char *tmpl, struct key_ctx *k)
{
	char *s = tmpl_subst(tmpl, key_lookup, k);
	json_t *v = s ? json_string(s) : NULL;

	free(s);
	return v;
}

int
cache_key(const struct defn_task *task, const struct defn_step *step, int copy, char *const *values,
	  char key[65], json_t **made_of)
{
	struct key_ctx k = {task, calloc((size_t)task->nparams + 1, sizeof(char *))};
	json_t *o = NULL, *argv = json_array(), *env = json_object(), *inputs = json_object();
	char sum[65], *text = NULL;
	int rc = -1;

	*made_of = NULL;
	if (k.values == NULL)
		goto out;
	for (int i = 0; i < task->nparams; i++) {
		struct binding b;
		int by_path = bind_param(step, copy, task->params[i], &b) == 0 && b.ref &&
			      b.ref->kind == ARG_PATH;
		k.values[i] = by_path ? path_content(values[i]) : strdup(values[i]);
		if (k.values[i] == NULL ||
		    sha256_bytes(k.values[i], strlen(k.values[i]), sum) < 0 ||
		    json_object_set_new(inputs, task->params[i], json_sprintf("sha256:%s", sum)) <
			0)
			goto out;
	}
	for (int i = 0; i < task->argc; i++)
		json_array_append_new(argv, subst_json(task->argv[i], &k));
	for (int i = 0; i < task->nenv; i++)
		json_object_set_new(env, task->env_names[i], json_string(task->env_values[i]));
	o = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "cache_version", CACHE_VERSION, "argv",
		      argv, "stdin",
		      task->stdin_tmpl ? subst_json(task->stdin_tmpl, &k) : json_null(), "env", env,
		      "outputs", json_array(), "inputs", inputs);
	argv = env = inputs = NULL;
	if (o == NULL)
		goto out;
	for (int i = 0; i < task->noutputs; i++)
		json_array_append_new(json_object_get(o, "outputs"), json_string(task->outputs[i]));
	/* Sorted keys: one text, so one key, whatever the order of making. */
	if ((text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    sha256_bytes(text, strlen(text), key) < 0)
		goto out;
	*made_of = o;
	o = NULL;
	rc = 0;
out:
	for (int i = 0; k.values && i < task->nparams; i++)
		free(k.values[i]);
	free(k.values);
	free(text);
	json_decref(o);
	json_decref(argv);
	json_decref(env);
	json_decref(inputs);
	return rc;
}

/* A hard link; a copy where the cache is on another filesystem than the
 * data directory (-o cache_dir). 0, or -1 with errno. */
static int
link_or_copy(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if (link(src, dst) == 0)
		return 0;
	if (errno != EXDEV)
		return -1;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0 || close(out) < 0)
		rc = -1;
	close(in);
	return rc;
}

/* The files an entry holds and where they are in a task run's attempt n:
 * stdout, stderr, then each named output. */
static int
file_path(const char *datadir, const char *run, const struct defn_task *task, const char *task_id,
	  int n, int i, char *path, const char **name)
{
	if (i == 0 || i == 1) {
		*name = i == 0 ? "stdout" : "stderr";
		return path_attempt_file(path, datadir, run, task_id, n, *name);
	}
	*name = task->outputs[i - 2];
	return path_output(path, datadir, run, task_id, n, *name);
}

static int
entry_path(const char *datadir, const char *key, const char *file, char *path)
{
	return snprintf(path, PATH_MAX_, "%s/cache/%s%s%s", datadir, key, file ? "/" : "",
			file ? file : "") < PATH_MAX_
		   ? 0
		   : -1;
}

void
cache_save(const char *datadir, const char *files_dir, const char *key, const char *run,
	   const struct defn_task *task, const char *task_id, int n)
{
	char tmp[PATH_MAX_], src[PATH_MAX_], dst[PATH_MAX_ + 256], final[PATH_MAX_], sum[65], *text;
	json_t *files = json_object(), *meta;
	const char *name;
	off_t size;

	if (snprintf(tmp, sizeof(tmp), "%s/cache/tmp/%s.%d", datadir, key, (int)getpid()) >=
		(int)sizeof(tmp) ||
	    entry_path(datadir, key, NULL, final) < 0 || mkdir_p(tmp, 0700) < 0)
		goto fail;
	for (int i = 0; i < 2 + task->noutputs; i++) {
		if (i >= 2 && strcmp(task->outputs[i - 2], "stdout") == 0)
			continue;
		if (file_path(files_dir, run, task, task_id, n, i, src, &name) < 0)
			goto fail;
		if (snprintf(dst, sizeof(dst), "%s/%s%s", tmp, i < 2 ? "" : "out.", name) >=
		    (int)sizeof(dst))
			goto fail;
		/* A task that printed nothing has no stdout file. */
		if (i < 2 && access(src, F_OK) < 0)
			continue;
		if (link_or_copy(src, dst) < 0 || sha256_file(dst, sum, &size) < 0)
			goto fail;
		json_object_set_new(
		    files, dst + strlen(tmp) + 1,
		    json_pack("{s:I, s:s}", "size", (json_int_t)size, "sha256", sum));
	}
	meta =
	    json_pack("{s:s, s:{s:s, s:s, s:i}, s:O, s:I}", "key", key, "from", "run", run, "task",
		      task_id, "attempt", n, "files", files, "created", (json_int_t)now_ms());
	text = meta ? json_dumps(meta, JSON_INDENT(2)) : NULL;
	json_decref(meta);
	if (snprintf(dst, sizeof(dst), "%s/meta.json", tmp) >= (int)sizeof(dst) || text == NULL ||
	    write_file(dst, text, strlen(text), 0600) < 0) {
		free(text);
		goto fail;
	}
	free(text);
	/* Another run of the same key may have made it first: one entry. */
	if (rename(tmp, final) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		goto fail;
	remove_tree(tmp);
	json_decref(files);
	cache_note(datadir, "save", key);
	return;
fail:
	log_warn("task %s of run %s: cannot save it in the cache", task_id, run);
	remove_tree(tmp);
	json_decref(files);
}

/* Whether the entry's files are whole: their sizes and hashes. */
static int
entry_sound(const char *datadir, const char *key, json_t *files)
{
	char path[PATH_MAX_], sum[65];
	const char *name;
	json_t *f;
	off_t size;

	json_object_foreach(files, name, f)
	{
		if (entry_path(datadir, key, name, path) < 0 || sha256_file(path, sum, &size) < 0 ||
		    size != (off_t)json_integer_value(json_object_get(f, "size")) ||
		    strcmp(sum, json_string_value(json_object_get(f, "sha256")) ?: "") != 0)
			return 0;
	}
	return 1;
}

int
cache_take(const char *datadir, const char *files_dir, const char *key, const char *run,
	   const struct defn_task *task, const char *task_id, char *from, size_t fromsz)
{
	char path[PATH_MAX_], src[PATH_MAX_], dst[PATH_MAX_];
	json_error_t je;
	json_t *meta, *files;
	const char *name;
	int rc = 0;

	if (entry_path(datadir, key, "meta.json", path) < 0 ||
	    (meta = json_load_file(path, 0, &je)) == NULL)
		return 0;
	files = json_object_get(meta, "files");
	if (!json_is_object(files) || !entry_sound(datadir, key, files)) {
		/* Damaged (cut short, edited): never served, and not kept. */
		log_warnx("cache entry %s is damaged (a file's size or hash differs): removed",
			  key);
		cache_note(datadir, "damaged", key);
		if (entry_path(datadir, key, NULL, path) == 0)
			remove_tree(path);
		goto out;
	}
	/* A folder only for named outputs: making one is a hit's dearest step. */
	for (int i = 0; i < task->noutputs; i++)
		if (strcmp(task->outputs[i], "stdout") != 0) {
			if (path_attempt_file(path, files_dir, run, task_id, 0, "outputs") < 0 ||
			    mkdir_p(path, 0700) < 0)
				goto out;
			break;
		}
	for (int i = 0; i < 2 + task->noutputs; i++) {
		if (i >= 2 && strcmp(task->outputs[i - 2], "stdout") == 0)
			continue;
		if (file_path(files_dir, run, task, task_id, 0, i, dst, &name) < 0)
			goto out;
		snprintf(src, sizeof(src), "%s%s", i < 2 ? "" : "out.", name);
		if (json_object_get(files, src) == NULL)
			continue; /* printed nothing */
		if (entry_path(datadir, key, src, path) < 0 ||
		    (link_or_copy(path, dst) < 0 && errno != EEXIST))
			goto out;
	}
	/* The task's log: what it printed on stdout. */
	if (file_path(files_dir, run, task, task_id, 0, 0, src, &name) == 0 &&
	    path_task_log(dst, files_dir, run, task_id) == 0 && access(src, F_OK) == 0 &&
	    link(src, dst) < 0 && errno != EEXIST)
		log_warn("%s", dst);
	snprintf(from, fromsz, "%s/%s",
		 json_string_value(json_object_get(json_object_get(meta, "from"), "run")) ?: "?",
		 json_string_value(json_object_get(json_object_get(meta, "from"), "task")) ?: "?");
	rc = 1;
out:
	json_decref(meta);
	return rc;
}

void
cache_record(struct store *st, int64_t run_seq, int idx, const char *key, json_t *made_of,
	     const char *from)
{
	json_t *o = json_pack("{s:s, s:O, s:s?}", "key", key, "made_of", made_of, "from", from);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text == NULL || store_cache_key_put(st, run_seq, idx, text) != RF_OK)
		log_warnx("run %lld: task run %d: cannot record its cache key", (long long)run_seq,
			  idx);
	free(text);
	json_decref(o);
}

int
cache_use_dir(const char *datadir, const char *dir, char **err)
{
	char link[PATH_MAX_], tmp[PATH_MAX_], real[PATH_MAX_], had[PATH_MAX_];
	struct stat sb;
	ssize_t n;

	if (mkdir_p(dir, 0700) < 0 || realpath(dir, real) == NULL) {
		*err = errf("cache_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (snprintf(link, sizeof(link), "%s/cache", datadir) >= (int)sizeof(link) ||
	    snprintf(tmp, sizeof(tmp), "%s/cache.%d", datadir, (int)getpid()) >= (int)sizeof(tmp))
		return -1;
	if (lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode) &&
	    (n = readlink(link, had, sizeof(had) - 1)) > 0) {
		had[n] = '\0';
		if (strcmp(had, real) == 0)
			return 0;
	} else if (lstat(link, &sb) == 0 && rmdir(link) < 0) {
		/* Its own entries would be lost from sight: the user decides. */
		*err = errf("%s holds this data directory's own cache: move its entries into %s, "
			    "or remove it, before using cache_dir",
			    link, real);
		return -1;
	}
	unlink(tmp);
	if (symlink(real, tmp) < 0 || rename(tmp, link) < 0) {
		*err = errf("cannot point %s at %s: %s", link, real, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
