/*
 * Deleting a run (rmdir runs/<id>, runfs rm, runfs prune), so that a kill
 * at any moment leaves it whole or, at the next start, gone:
 *   1. mark: its folder is renamed into DATA/trash/ (atomic);
 *   2. remove what the runtime keeps elsewhere (a remote run's record and
 *      files in the work directory);
 *   3. forget: its rows go in one transaction (store_run_forget);
 *   4. its folder in the trash goes.
 * A start finds what a killed delete left in the trash and finishes it
 * from step 2: a marked run is never listed half.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend_int.h"
#include "layout.h"
#include "log.h"
#include "util.h"

static int
trash_path(struct backend *b, const char *id, char *out)
{
	return snprintf(out, PATH_MAX_, "%s/trash/%s", b->datadir, id) < PATH_MAX_ ? 0 : -1;
}

/* Steps 2 to 4 for a run marked (or about to be: trash may not exist). */
static enum rerr
finish(struct backend *b, const struct run_rec *r, const char *trash, char **err)
{
	struct runtime *rt = runtime_for(b, r->config);
	char *why = NULL;
	enum rerr e;

	/* Its files elsewhere go first: a mount scanning them would take the
	 * run up again once its rows are gone. When they cannot, the run
	 * stays whole (its folder comes back from the trash). */
	if (rt->ops->forget && (e = rt->ops->forget(rt, r, &why)) != RF_OK) {
		*err = errf("run %s is not deleted: %s", r->id, why ? why : rerr_str(e));
		free(why);
		return e;
	}
	if ((e = store_run_forget(b->st, r->seq, r->state)) != RF_OK) {
		*err = errf("cannot forget run %s: %s", r->id, rerr_str(e));
		return e;
	}
	if (remove_tree(trash) < 0)
		log_warn("run %s: cannot remove %s", r->id, trash);
	log_info("run %s: deleted", r->id);
	return RF_OK;
}

enum rerr
backend_delete(struct backend *b, const char *id, char **err)
{
	char dir[PATH_MAX_], trash[PATH_MAX_];
	struct run_rec r = {0};
	struct runtime *rt;
	enum rerr e;

	*err = NULL;
	pthread_mutex_lock(&b->control_mu);
	if ((e = store_run_get(b->st, id, &r)) != RF_OK)
		goto out;
	rt = runtime_for(b, r.config);
	if (!(r.prepared && r.state == ST_WAITING) &&
	    (!run_rec_ended(&r) || rt->ops->executing(rt, r.seq))) {
		*err = errf("run %s is %s: stop it first (echo stop > runs/%s/ctl)", id,
			    state_name(r.state), id);
		e = RF_BUSY;
		goto out;
	}
	if (path_run(dir, b->datadir, id) < 0 || trash_path(b, id, trash) < 0) {
		e = RF_INVAL;
		goto out;
	}
	snprintf(trash + strlen(b->datadir), 8, "/trash");
	if (mkdir(trash, 0700) < 0 && errno != EEXIST) {
		*err = errf("cannot make %s: %s", trash, strerror(errno));
		e = RF_IO;
		goto out;
	}
	trash_path(b, id, trash);
	if (rename(dir, trash) < 0 && errno != ENOENT) {
		*err = errf("cannot move %s aside: %s", dir, strerror(errno));
		e = RF_IO;
		goto out;
	}
	if ((e = finish(b, &r, trash, err)) != RF_OK && rename(trash, dir) < 0)
		log_warn("run %s: cannot bring %s back", id, trash);
out:
	pthread_mutex_unlock(&b->control_mu);
	run_rec_free(&r);
	return e;
}

void
backend_delete_leftovers(struct backend *b)
{
	char path[PATH_MAX_], *err = NULL;
	struct dirent *de;
	DIR *dp;

	if (snprintf(path, sizeof(path), "%s/trash", b->datadir) >= (int)sizeof(path) ||
	    (dp = opendir(path)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		struct run_rec r = {0};
		if (de->d_name[0] == '.' || trash_path(b, de->d_name, path) < 0)
			continue;
		if (store_run_get(b->st, de->d_name, &r) == RF_OK) {
			log_info("run %s: finishing its delete", r.id);
			if (finish(b, &r, path, &err) != RF_OK)
				log_warnx("%s", err);
			free(err);
			err = NULL;
		} else if (remove_tree(path) < 0) {
			log_warn("cannot remove %s", path);
		}
		run_rec_free(&r);
	}
	closedir(dp);
}
