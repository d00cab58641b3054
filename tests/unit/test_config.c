/* Saved configurations: validation, naming, saving under a lock. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "check.h"
#include "config.h"
#include "slurm_config.h"
#include "util.h"

#define TOKEN "s3cr3t-T0KEN-value"

static void
rejected(const char *text, const char *want)
{
	json_t *o = NULL;
	char *err = NULL;

	CHECK(config_parse(text, strlen(text), &o, &err) == RF_INVAL);
	CHECK(o == NULL);
	CHECK_STR(err, want);
	CHECK(err == NULL || strstr(err, TOKEN) == NULL);
	free(err);
}

int
main(void)
{
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char dir[512], path[600], *err = NULL, *s;
	json_t *o = NULL, *doc = NULL;
	struct stat st;
	const char *good = "{\"uri\": \"https://hpc.example.org:6820\", \"token\": \"" TOKEN
			   "\", \"user\": \"alice\"}";

	mkdir_p(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/config.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/runfs/config.json", dir);

	/* Validation. */
	CHECK(config_parse(good, strlen(good), &o, &err) == RF_OK);
	CHECK_STR(json_string_value(json_object_get(o, "runtime")), "slurm");
	CHECK_STR(json_string_value(json_object_get(o, "api_version")), "v0.0.38");
	rejected("{\"uri\": ", "line 1, column 8: unexpected token near end of file");
	rejected("[1]", "expected a JSON object");
	rejected("{\"uri\": \"https://h.example\", \"token\": \"" TOKEN "\", \"colour\": \"red\"}",
		 "colour: unknown field");
	rejected("{\"token\": \"" TOKEN "\"}", "uri: required field is missing");
	rejected("{\"uri\": \"https://h.example\"}", "token: required field is missing");
	rejected("{\"uri\": \"ftp://h.example\", \"token\": \"" TOKEN "\"}",
		 "uri: the scheme must be http or https");
	rejected("{\"uri\": \"https://h.example\", \"token\": 7}", "token: expected a string");
	rejected("{\"uri\": \"https://h.example\", \"token\": \"" TOKEN "\", \"runtime\": \"ray\"}",
		 "runtime: only slurm can be saved (in_process and local are built in)");

	/* Names after the host's first label. */
	CHECK_STR((s = config_auto_name("https://hpc.example.org:6820", &err)), "hpc");
	free(s);
	CHECK_STR((s = config_auto_name("http://127.0.0.1:6820", &err)), "127");
	free(s);
	CHECK(config_auto_name("gopher://x", &err) == NULL && err != NULL);
	free(err);

	/* Saving, showing, the default, removing. */
	CHECK(config_store(path, "hpc", o, &err) == RF_OK);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(admin_config_store(path, "local", o, &err) == RF_PERM);
	free(err);
	CHECK(config_store(path, "../x", o, &err) == RF_INVAL);
	free(err);
	CHECK(admin_config_set_default(path, "hpc", &err) == RF_OK);
	CHECK(admin_config_set_default(path, "nope", &err) == RF_NOENT);
	free(err);
	CHECK(config_load(path, &doc, &err) == RF_OK);
	CHECK_STR(admin_config_default(doc), "hpc");
	s = config_show("hpc", json_object_get(json_object_get(doc, "configs"), "hpc"));
	CHECK(s && strstr(s, "\"token\": \"***\"") && !strstr(s, TOKEN) && strstr(s, "alice"));
	free(s);
	json_decref(doc);
	CHECK(config_store(path, "hpc", NULL, &err) == RF_OK);
	CHECK(config_store(path, "hpc", NULL, &err) == RF_NOENT);
	free(err);
	CHECK(config_load(path, &doc, &err) == RF_OK);
	CHECK_STR(admin_config_default(doc), "in_process");
	json_decref(doc);

	/* Eight processes saving at once lose nothing. */
	for (int p = 0; p < 8; p++) {
		if (fork() == 0) {
			char name[32], *e = NULL;
			int bad = 0;
			for (int i = 0; i < 20; i++) {
				snprintf(name, sizeof(name), "p%d-%d", p, i);
				bad |= config_store(path, name, o, &e) != RF_OK;
				free(e);
			}
			_exit(bad);
		}
	}
	int failed = 0;
	for (int p = 0; p < 8; p++) {
		int status;
		wait(&status);
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	CHECK(!failed);
	CHECK(config_load(path, &doc, &err) == RF_OK);
	CHECK(json_object_size(json_object_get(doc, "configs")) == 160);
	json_decref(doc);
	json_decref(o);

	/* A damaged file is an error, not an empty list. */
	write_file(path, "{\"version\": 9}", 14, 0600);
	CHECK(config_load(path, &doc, &err) == RF_INVAL && doc == NULL);
	CHECK(err && strstr(err, "not a runfs configuration file"));
	free(err);

	remove_tree(dir);
	return check_done();
}
