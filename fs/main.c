/*
 * runfs: mount the tree. Order matters: the session is mounted and the
 * process daemonized before the backend starts its scheduler thread, since
 * fork() keeps only the calling thread.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fsops.h"
#include "log.h"
#include "watch.h"

struct options {
	char *data_dir;
	int jobs;
	int grace;
	int allow_other;
	int no_autostart;
	char *config;
	int help, version;
};

enum { KEY_ALLOW_OTHER, KEY_HELP, KEY_VERSION };

#define OPT(t, p)                                                                                  \
	{                                                                                          \
		t, offsetof(struct options, p), 1                                                  \
	}
static const struct fuse_opt option_spec[] = {
    OPT("data_dir=%s", data_dir),
    OPT("jobs=%d", jobs),
    OPT("grace=%d", grace),
    OPT("no_autostart", no_autostart),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_END,
};

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
    {"watch", cli_watch},   {"login", cli_login}, {"config", cli_config},
    {"submit", cli_submit}, {"runs", cli_runs},	  {"graph", cli_graph},
    {"up", cli_up},	    {"down", cli_down},	  {"status", cli_status},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: runfs [-f] [-d] [-o "
		"data_dir=DIR,jobs=N,grace=SECONDS,no_autostart,allow_other] "
		"CONFIG MOUNTPOINT\n"
		"       runfs login URL --token TOKEN [--user U] [--partition P] [--workdir DIR] "
		"[--account A] [--qos Q] [--api-version V] [--name NAME]\n"
		"       runfs config list | show NAME | rm NAME | default [NAME]\n"
		"       runfs submit FILE [--config NAME] [--mount DIR]\n"
		"       runfs runs [--state S]... [--limit N] [--max-age 1d2h3m4s] [--tsv] "
		"[--mount DIR]\n"
		"       runfs graph RUN [--mount DIR]\n"
		"       runfs watch RUN\n"
		"       runfs up [--data DIR] [--jobs N] [--grace SECONDS] [--foreground]\n"
		"       runfs down [--data DIR] [--wait] [--timeout SECONDS]\n"
		"       runfs status [--data DIR]\n"
		"       runfs --help | --version\n"
		"CONFIG is in_process or local (ray is local); see runfs(1) and docs/TREE.md.\n");
}

/* Takes CONFIG (the first plain argument) out of the list FUSE parses. */
static int
opt_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct options *o = data;

	(void)out;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (o->config == NULL) {
			o->config = strdup(arg);
			return 0;
		}
		return 1;
	case KEY_ALLOW_OTHER:
		o->allow_other = 1;
		return 1;
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = {0};
	struct fuse_cmdline_opts fo = {0};
	struct fuse_session *se = NULL;
	struct fuse_loop_config *loop = NULL;
	struct backend *b = NULL;
	char *err = NULL;
	char mopts[80];
	int rc = 1, mounted = 0;

	/* Subcommands: clients of a mount, or of the user's config file. */
	for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) < 0)
		goto usage;
	if (o.help || o.version) {
		if (o.help)
			usage(stdout);
		else
			printf("runfs %s\n", RUNFS_VERSION);
		fuse_opt_free_args(&args);
		free(o.config);
		free(o.data_dir);
		return 0;
	}
	if (o.config == NULL || (strcmp(o.config, "in_process") && strcmp(o.config, "local") &&
				 strcmp(o.config, "ray"))) {
		fprintf(stderr, "runfs: %s%s\n",
			o.config ? "unknown configuration: " : "missing CONFIG",
			o.config ? o.config : "");
		goto usage;
	}
	if (o.allow_other && fuse_opt_add_arg(&args, "-odefault_permissions") < 0)
		goto out;
	/* "fuse.runfs" in mountinfo: how runfs watch finds a run by its id.
	 * max_read: see FS_READ_MAX. */
	snprintf(mopts, sizeof(mopts), "-ofsname=runfs,subtype=runfs,max_read=%d", FS_READ_MAX);
	if (fuse_opt_add_arg(&args, mopts) < 0)
		goto out;
	if (o.jobs < 0 || o.jobs > 4096 || o.grace < 0 || o.grace > 86400) {
		fprintf(stderr, "runfs: jobs takes 0 to 4096, grace 0 to 86400 seconds\n");
		goto usage;
	}
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto usage; /* it has said what is wrong (a bad mount point) */
	if (fo.mountpoint == NULL) {
		fprintf(stderr, "runfs: missing MOUNTPOINT\n");
		goto usage;
	}
	log_init("runfs", fo.debug);
	if (o.data_dir == NULL && (o.data_dir = cli_data_dir()) == NULL)
		fatalx("no data directory: set HOME or XDG_DATA_HOME, or give -o data_dir=DIR");
	/* fuse_daemonize changes to /, and the backend opens the directory
	 * after it: a relative one would be taken from / then. */
	if (o.data_dir[0] != '/') {
		char *cwd = getcwd(NULL, 0), *abs = NULL;
		if (cwd == NULL || asprintf(&abs, "%s/%s", cwd, o.data_dir) < 0)
			fatal("data directory %s", o.data_dir);
		free(cwd);
		free(o.data_dir);
		o.data_dir = abs;
	}
	if ((se = fuse_session_new(&args, fs_ops(), sizeof(*fs_ops()), NULL)) == NULL)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, fo.mountpoint) != 0)
		goto out;
	mounted = 1;
	if (fuse_daemonize(fo.foreground) != 0)
		goto out;
	if (backend_open(&(struct backend_opts){o.data_dir, o.config, o.jobs, o.grace * 1000,
						o.no_autostart},
			 &b, &err) != RF_OK) {
		log_warnx("%s", err ? err : "cannot start");
		goto out;
	}
	fs_backend = b;
	if (watch_start(b, fo.mountpoint) < 0) {
		log_warnx("cannot start the notifier thread");
		goto out;
	}
	log_info("mounted %s on %s (data %s)", o.config, fo.mountpoint, o.data_dir);
	if (fo.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		if ((loop = fuse_loop_cfg_create()) == NULL)
			goto out;
		fuse_loop_cfg_set_clone_fd(loop, (unsigned int)fo.clone_fd);
		/* UINT_MAX means "not given" and would only draw a warning. */
		if (fo.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop, fo.max_idle_threads);
		fuse_loop_cfg_set_max_threads(loop, fo.max_threads);
		rc = fuse_session_loop_mt(se, loop);
	}
	rc = rc != 0;
	log_info("unmounting %s", fo.mountpoint);
out:
	/* Unmount first: the notifier may be waiting on a request to this
	 * very mount (its inotify nudge) that no worker serves any more;
	 * unmounting aborts the connection and lets it go. */
	if (se && mounted)
		fuse_session_unmount(se);
	if (b) {
		watch_stop(b);
		backend_close(b);
	}
	fh_free_all();
	memo_free_all();
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (se) {
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	free(err);
	free(fo.mountpoint);
	free(o.data_dir);
	free(o.config);
	fuse_opt_free_args(&args);
	return rc;
usage:
	usage(stderr);
	fuse_opt_free_args(&args);
	free(o.config);
	free(o.data_dir);
	return 2;
}
