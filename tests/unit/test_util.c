/* Helpers: base64, bytes in JSON, opening without following links. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "util.h"

static void
roundtrip(const char *data, size_t n, const char *want)
{
	char *enc = base64_encode(data, n), *dec;
	size_t m = 0;

	CHECK_STR(enc, want);
	dec = enc ? base64_decode(enc, &m) : NULL;
	CHECK(dec && m == n && memcmp(dec, data, n) == 0);
	free(enc);
	free(dec);
}

/* The walk that stands in for openat2 refuses a link anywhere, as
 * RESOLVE_NO_SYMLINKS does, and opens what has none. */
static void
walk(void)
{
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char d[512], p[600], q[600];
	int fd;

	mkdir_p(tmp, 0700);
	snprintf(d, sizeof(d), "%s/walk.XXXXXX", tmp);
	if (mkdtemp(d) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(p, sizeof(p), "%s/real", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/real/f", d);
	CHECK(write_file(p, "x", 1, 0600) == 0);
	snprintf(p, sizeof(p), "%s/real", d);
	snprintf(q, sizeof(q), "%s/dirlink", d);
	CHECK(symlink(p, q) == 0);
	snprintf(p, sizeof(p), "%s/real/f", d);
	snprintf(q, sizeof(q), "%s/real/flink", d);
	CHECK(symlink(p, q) == 0);
	/* The same through the links, for open() itself. */
	snprintf(p, sizeof(p), "%s/dirlink/flink", d);
	CHECK((fd = open(p, O_RDONLY)) >= 0);
	close(fd);

	snprintf(p, sizeof(p), "%s/real/f", d);
	CHECK((fd = open_walk(p, O_RDONLY)) >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s//real/./f", d);
	CHECK((fd = open_walk(p, O_PATH)) >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/real/", d);
	CHECK((fd = open_walk(p, O_RDONLY | O_DIRECTORY)) >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/dirlink/f", d);
	CHECK(open_walk(p, O_RDONLY) < 0 && errno == ELOOP);
	snprintf(p, sizeof(p), "%s/real/flink", d);
	CHECK(open_walk(p, O_RDONLY) < 0 && errno == ELOOP);
	CHECK(open_walk(p, O_PATH) < 0 && errno == ELOOP);
	snprintf(p, sizeof(p), "%s/real/none", d);
	CHECK(open_walk(p, O_RDONLY) < 0 && errno == ENOENT);
	remove_tree(d);
}

int
main(void)
{
	size_t n;
	char *s;
	json_t *v;

	roundtrip("", 0, "");
	roundtrip("f", 1, "Zg==");
	roundtrip("fo", 2, "Zm8=");
	roundtrip("foo", 3, "Zm9v");
	roundtrip("foobar", 6, "Zm9vYmFy");
	roundtrip("a\377b", 3, "Yf9i");
	roundtrip("\0\1\2", 3, "AAEC");
	CHECK(base64_decode("Zm9", &n) == NULL);
	CHECK(base64_decode("Zm!v", &n) == NULL);
	CHECK(base64_decode("Z===", &n) == NULL);
	CHECK(base64_decode("Zg==Zg==", &n) == NULL);

	/* UTF-8 stays a string; other bytes become {"base64": ...}. */
	v = json_bytes("héllo", strlen("héllo"));
	CHECK(json_is_string(v));
	s = json_bytes_get(v, &n);
	CHECK(s && n == strlen("héllo") && strcmp(s, "héllo") == 0);
	free(s);
	json_decref(v);
	v = json_bytes("a\377b", 3);
	CHECK(json_is_object(v));
	CHECK_STR(json_string_value(json_object_get(v, "base64")), "Yf9i");
	s = json_bytes_get(v, &n);
	CHECK(s && n == 3 && memcmp(s, "a\377b", 3) == 0);
	free(s);
	json_decref(v);
	v = json_integer(3);
	CHECK(json_bytes_get(v, &n) == NULL);
	json_decref(v);
	walk();
	return check_done();
}
