/* The cache's keys and entries (engine/cache.c): what a key depends on and
 * what it does not; an entry saved, taken, and refused once damaged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "defn.h"
#include "layout.h"
#include "util.h"

#define DEF(cmd)                                                                                   \
	"{\"name\": \"c\", \"cache\": true, \"tasks\": {\"m\": {\"command\": [\"echo\", \"x\"]},"  \
	" \"t\": {\"command\": [\"sh\", \"-c\", \"" cmd "\", \"{f}\", \"{v}\"]}},"                 \
	" \"steps\": [{\"id\": \"m\", \"task\": \"m\"}, {\"id\": \"t\", \"task\": \"t\", "         \
	"\"args\": "                                                                               \
	"{\"f\": {\"path\": \"m\"}, \"v\": {\"from\": \"m\"}}}]}"

static struct defn *
parse(const char *text)
{
	struct defn *d = NULL;
	char *err = NULL;

	CHECK(defn_parse(text, strlen(text), &d, &err) == 0);
	free(err);
	return d;
}

/* The key of step t with its path input naming `path` and value `v`. */
static void
key_of(struct defn *d, const char *path, const char *v, char key[65])
{
	char *values[2];
	json_t *made_of = NULL;
	const struct defn_task *t = &d->tasks[d->steps[1].task];

	/* params are sorted: f, v */
	values[0] = (char *)path;
	values[1] = (char *)v;
	CHECK(cache_key(t, &d->steps[1], -1, values, key, &made_of) == 0);
	CHECK(json_object_get(made_of, "argv") != NULL);
	json_decref(made_of);
}

int
main(void)
{
	const char *base = getenv("TEST_TMPDIR");
	char dir[2048], a[2200], b[2200], k1[65], k2[65], k3[65], k4[65], path[PATH_MAX_],
	    from[256];
	struct defn *d = parse(DEF("cat $0")), *d2 = parse(DEF("wc -c < $0"));

	snprintf(dir, sizeof(dir), "%s/test_cache.XXXXXX", base && *base ? base : "/tmp");
	if (mkdir_p(base && *base ? base : "/tmp", 0755) < 0 || mkdtemp(dir) == NULL || !d || !d2)
		return 1;
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	write_file(a, "same", 4, 0600);
	write_file(b, "same", 4, 0600);
	/* The same content at two paths: one key; other content or another
	 * command or value: another. */
	key_of(d, a, "x", k1);
	key_of(d, b, "x", k2);
	CHECK_STR(k1, k2);
	CHECK(strlen(k1) == 64);
	write_file(b, "other", 5, 0600);
	key_of(d, b, "x", k3);
	CHECK(strcmp(k1, k3) != 0);
	key_of(d2, a, "x", k4);
	CHECK(strcmp(k1, k4) != 0);
	key_of(d, a, "y", k4);
	CHECK(strcmp(k1, k4) != 0);

	/* An entry from run r1's attempt 1 of t, taken by run r2. */
	const struct defn_task *t = &d->tasks[d->steps[1].task];
	CHECK(path_attempt_file(path, dir, "r1", "t", 1, "stdout") == 0);
	CHECK(mkdir_p(strcat(strcpy(a, dir), "/runs/r1/logs.d"), 0700) == 0);
	CHECK(mkdir_p(strcat(strcpy(a, dir), "/runs/r2/logs.d"), 0700) == 0);
	CHECK(write_file(path, "out\n", 4, 0600) == 0);
	cache_save(dir, dir, k1, "r1", t, "t", 1);
	CHECK(cache_take(dir, dir, k3, "r2", t, "t", from, sizeof(from)) == 0); /* another key */
	CHECK(cache_take(dir, dir, k1, "r2", t, "t", from, sizeof(from)) == 1);
	CHECK_STR(from, "r1/t");
	CHECK(path_attempt_file(path, dir, "r2", "t", 0, "stdout") == 0);
	{
		char *data = NULL;
		size_t len = 0;
		CHECK(read_file(path, 64, &data, &len) == 0 && len == 4 &&
		      memcmp(data, "out\n", 4) == 0);
		free(data);
	}
	/* Damaged (another file of the same size): refused, and removed. */
	snprintf(a, sizeof(a), "%s/cache/%s/stdout", dir, k1);
	CHECK(unlink(a) == 0 && write_file(a, "bad\n", 4, 0600) == 0);
	CHECK(cache_take(dir, dir, k1, "r3", t, "t", from, sizeof(from)) == 0);
	snprintf(a, sizeof(a), "%s/cache/%s", dir, k1);
	CHECK(access(a, F_OK) != 0);
	defn_free(d);
	defn_free(d2);
	remove_tree(dir);
	return check_done();
}
