/* What a runtime of this machine can give a task (runtime.h). */
#include <inttypes.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "runtime.h"
#include "util.h"

enum rerr
runtime_admit_local(struct runtime *rt, const struct defn *d, char **err)
{
	struct statvfs v;
	int64_t avail = -1;

	if (statvfs(rt->datadir, &v) == 0)
		avail = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
	for (int i = 0; i < d->ntasks; i++) {
		const struct defn_task *t = &d->tasks[i];
		if (t->gpus > rt->gpus) {
			*err = errf("tasks.%s.resources.gpu: %d GPU%s asked for; this machine "
				    "offers %d (mount with -o gpus=N to say how many it has)",
				    t->name, t->gpus, t->gpus == 1 ? "" : "s", rt->gpus);
			return RF_INVAL;
		}
		if (t->disk_bytes > 0 && avail >= 0 && t->disk_bytes > avail) {
			*err = errf("tasks.%s.resources.disk: %" PRId64
				    " MiB asked for; the data directory's filesystem has %" PRId64
				    " MiB free",
				    t->name, t->disk_bytes >> 20, avail >> 20);
			return RF_INVAL;
		}
	}
	return 0;
}
