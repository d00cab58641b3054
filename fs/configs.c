/*
 * configs/: one file per configuration (JSON, the token as "***") and
 * default. Writing JSON to a new or existing name saves a remote
 * configuration once the file is closed (or read back on the same open
 * file, which then gives "saved <name>" or "error: <reason>"); rm removes
 * one. The built-ins are read-only. The user's config file is read afresh
 * each time, so what the CLI changes shows at once.
 *
 * A configuration's inode carries a hash of its name (task and sub
 * fields): names come and go, and the number must not depend on a list's
 * order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsops.h"
#include "log.h"

#define CONFIG_TEXT_MAX (64 * 1024)

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct node
config_node(const char *name)
{
	uint32_t h = name_hash(name);

	return (struct node){
	    .kind = K_CONFIG, .task = (int)((h >> 12) & TASK_MAX), .sub = (int)(h & SUB_MAX)};
}

/* The name of the configuration a node stands for, malloc'd, or NULL. */
static char *
config_name(const struct node *n)
{
	char **names = NULL, *found = NULL;
	int count = backend_config_list(fs_backend, &names);

	for (int i = 0; i < count && !found; i++) {
		struct node c = config_node(names[i]);
		if (c.task == n->task && c.sub == n->sub)
			found = strdup(names[i]);
	}
	backend_config_list_free(names, count);
	return found;
}

static int
configs_lookup(const struct node *dir, const char *name, struct node *child)
{
	char **names = NULL;
	int count = backend_config_list(fs_backend, &names), err = ENOENT;

	(void)dir;
	if (strcmp(name, "default") == 0) {
		*child = (struct node){.kind = K_CONFIG_DEFAULT};
		err = 0;
	}
	for (int i = 0; i < count && err; i++)
		if (strcmp(names[i], name) == 0) {
			*child = config_node(name);
			err = 0;
		}
	backend_config_list_free(names, count);
	return err;
}

static int
configs_list(const struct node *dir, off_t from, fill_fn fill, void *ctx)
{
	char **names = NULL;
	int count = backend_config_list(fs_backend, &names);

	(void)dir;
	for (int i = (int)from; i <= count; i++) {
		struct node c =
		    i < count ? config_node(names[i]) : (struct node){.kind = K_CONFIG_DEFAULT};
		if (fill(ctx, i < count ? names[i] : "default", &c, i + 1))
			break;
	}
	backend_config_list_free(names, count);
	return 0;
}

/* Saves what was written; the answer says how it went. */
static void
do_save(struct fh *fh)
{
	struct buf reply = {0};
	char *err = NULL;
	enum rerr e;

	e = backend_config_save(fs_backend, fh->name, fh->data.p ? fh->data.p : "", fh->data.len,
				&err);
	if (e == RF_OK) {
		buf_printf(&reply, "saved %s\n", fh->name);
		log_info("configuration %s saved", fh->name);
	} else {
		fh->rejected = rerr_errno_request(e);
		buf_printf(&reply, "error: %s\n", err ? err : rerr_str(e));
		log_info("configuration %s not saved: %s", fh->name, err ? err : rerr_str(e));
	}
	free(err);
	buf_free(&fh->data);
	fh->reply = buf_steal(&reply);
}

static int
configs_create(const struct node *dir, const char *name, struct fh *fh)
{
	(void)dir;
	if (backend_config_builtin(name) || strcmp(name, "default") == 0)
		return EACCES;
	if ((fh->name = strdup(name)) == NULL)
		return ENOMEM;
	fh->node = config_node(name);
	fh->stream = 1;
	return 0;
}

static int
configs_unlink(const struct node *dir, const char *name)
{
	char *err = NULL;
	int rc;

	(void)dir;
	if (backend_config_builtin(name) || strcmp(name, "default") == 0)
		return EACCES;
	rc = rerr_errno(backend_config_remove(fs_backend, name, &err));
	if (rc && rc != ENOENT)
		log_info("configuration %s not removed: %s", name, err ? err : strerror(rc));
	free(err);
	return rc;
}

const struct kind_ops configs_ops = {.mode = 0755,
				     .lookup = configs_lookup,
				     .list = configs_list,
				     .create = configs_create,
				     .unlink = configs_unlink};

static int
config_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	char *name = config_name(n), *json = NULL;
	int err;

	(void)mtime;
	if (name == NULL)
		return ENOENT;
	err = rerr_errno(backend_config_json(fs_backend, name, &json));
	if (err == 0 && buf_adds(out, json) < 0)
		err = ENOMEM;
	free(json);
	free(name);
	return err;
}

/* Opened for writing: a request stream that saves on close. */
static int
config_open(const struct node *n, struct fh *fh)
{
	int64_t mtime;

	if ((fh->name = config_name(n)) == NULL)
		return ENOENT;
	if (!fh->writing)
		return config_render(n, &fh->data, &mtime);
	if (backend_config_builtin(fh->name))
		return EACCES;
	fh->stream = 1;
	return 0;
}

static int
config_write(const struct node *n, struct fh *fh, const char *data, size_t len)
{
	(void)n;
	return stream_write(fh, data, len, CONFIG_TEXT_MAX, do_save);
}

static int
config_flush(const struct node *n, struct fh *fh)
{
	(void)n;
	return fh->stream ? stream_flush(fh, do_save) : 0;
}

static void
config_read(fuse_req_t req, struct fh *fh, size_t size)
{
	stream_read(req, fh, size, do_save);
}

static mode_t
config_mode(const struct node *n)
{
	char *name = config_name(n);
	mode_t m = name && backend_config_builtin(name) ? 0444 : 0600;

	free(name);
	return m;
}

const struct kind_ops config_ops = {.mode = 0600,
				    .transient = 1,
				    .render = config_render,
				    .open = config_open,
				    .write = config_write,
				    .flush = config_flush,
				    .read = config_read,
				    .mode_of = config_mode};

static int
default_render(const struct node *n, struct buf *out, int64_t *mtime)
{
	char *name = backend_config_default(fs_backend);
	int rc;

	(void)n;
	(void)mtime;
	rc = name ? buf_printf(out, "%s\n", name) : -1;
	free(name);
	return rc < 0 ? ENOMEM : 0;
}

/* A write is the name of a configuration; white space around it is fine. */
static int
default_write(const struct node *n, struct fh *fh, const char *data, size_t len)
{
	char name[128], *err = NULL;
	int rc;

	(void)n;
	(void)fh;
	if (written_word(data, len, name, sizeof(name)) != 0)
		return EINVAL;
	rc = rerr_errno(backend_config_set_default(fs_backend, name, &err));
	if (rc)
		log_info("configs/default: %s", err ? err : strerror(rc));
	else
		log_info("default configuration: %s", name);
	free(err);
	return rc;
}

const struct kind_ops config_default_ops = {
    .mode = 0644, .render = default_render, .write = default_write};
