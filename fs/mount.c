/*
 * runfs CONFIG MOUNTPOINT: mount the tree. Order matters. Everything that
 * can fail (options, configuration, data directory, the store and its
 * upgrade, the local runtime's start) is checked first, while the command
 * can still exit non-zero with the reason; then the session is mounted
 * and the process daemonized; the backend's threads start only after,
 * since fork() keeps only the calling thread.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "fsops.h"
#include "mount.h"
#include "log.h"
#include "sdnotify.h"
#include "watch.h"

struct options {
	char *data_dir;
	int jobs;
	int grace;
	int gpus;
	int allow_other;
	int no_autostart;
	char *config;
	char *cache_dir;
};

enum { KEY_ALLOW_OTHER };

#define OPT(t, p)                                                                                  \
	{                                                                                          \
		t, offsetof(struct options, p), 1                                                  \
	}
static const struct fuse_opt option_spec[] = {
    OPT("data_dir=%s", data_dir),
    OPT("jobs=%d", jobs),
    OPT("grace=%d", grace),
    OPT("gpus=%d", gpus),
    OPT("no_autostart", no_autostart),
    OPT("cache_dir=%s", cache_dir),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    /* What /etc/fstab and mount(8) may pass that means nothing to a FUSE
     * mount, dropped as sshfs drops it: mount.fuse3 takes some out itself,
     * but not when runfs is run by hand with fstab's options. libfuse
     * takes rw, ro, [no]suid, [no]dev, [no]exec, async, sync, dirsync,
     * atime and noatime itself, and refuses the other atime flags, which
     * mean nothing here: runfs gives every file its own times. x-* and
     * comment= are notes for other programs (systemd), by convention. */
    FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("owner", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("group", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("relatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("norelatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("strictatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nostrictatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("lazytime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nolazytime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("diratime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nodiratime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("comment=%s", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_END,
};

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
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.automount and the like: see option_spec. */
		return strncmp(arg, "x-", 2) == 0 ? 0 : 1;
	}
	return 1;
}

int
fs_mount(int argc, char **argv)
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

	/* Before any thread starts (see sdnotify.h). */
	sdnotify_init();
	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) < 0)
		goto usage;
	/* Any configuration, built in or saved: backend_check refuses an
	 * unknown one with the list of those it knows. */
	if (o.config == NULL) {
		fprintf(stderr, "runfs: missing CONFIG\n");
		goto usage;
	}
	if (o.allow_other && fuse_opt_add_arg(&args, "-odefault_permissions") < 0)
		goto out;
	/* "fuse.runfs" in mountinfo: how runfs watch finds a run by its id.
	 * max_read: see FS_READ_MAX. */
	snprintf(mopts, sizeof(mopts), "-ofsname=runfs,subtype=runfs,max_read=%d", FS_READ_MAX);
	if (fuse_opt_add_arg(&args, mopts) < 0)
		goto out;
	if (o.jobs < 0 || o.jobs > 4096 || o.grace < 0 || o.grace > 86400 || o.gpus < 0 ||
	    o.gpus > 4096) {
		fprintf(stderr, "runfs: jobs and gpus take 0 to 4096, grace 0 to 86400 seconds\n");
		goto usage;
	}
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto usage; /* it has said what is wrong (a bad mount point) */
	if (fo.mountpoint == NULL) {
		fprintf(stderr, "runfs: missing MOUNTPOINT\n");
		goto usage;
	}
	log_init("runfs", fo.debug);
	if (o.data_dir == NULL && (o.data_dir = admin_default_datadir()) == NULL) {
		log_warnx("no data directory: set HOME or XDG_DATA_HOME, or give -o data_dir=DIR");
		goto out;
	}
	if (backend_check(&(struct backend_opts){o.data_dir, o.config, o.jobs, o.grace * 1000,
						 o.no_autostart, o.gpus, o.cache_dir},
			  &b, &err) != RF_OK) {
		log_warnx("%s", err ? err : "cannot start");
		goto out;
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
	if (backend_start(b, &err) != RF_OK) {
		log_warnx("%s", err ? err : "cannot start");
		goto out;
	}
	fs_backend = b;
	if (watch_start(b, fo.mountpoint) < 0) {
		log_warnx("cannot start the notifier thread");
		goto out;
	}
	log_info("mounted %s on %s (data %s)", o.config, fo.mountpoint, backend_datadir(b));
	/* A Type=notify unit running runfs -f (runfs@.service): mounted and
	 * about to serve. */
	sdnotify("READY=1");
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
	sdnotify("STOPPING=1");
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
	free(o.cache_dir);
	fuse_opt_free_args(&args);
	return rc;
usage:
	fuse_opt_free_args(&args);
	free(o.config);
	free(o.cache_dir);
	free(o.data_dir);
	return FS_MOUNT_USAGE;
}
